"""Named-entity recognition: labeled spans of a text, Ground Truth's ``groundtruth/text-span``.

An answer is a list of entities ``{"label", "startOffset", "endOffset"}``, sorted by
``startOffset``. Offsets are code points (Python ``str`` indices), 0-based, end exclusive, so
``text[startOffset:endOffset]`` is the entity: GT's "Unicode offsets" (gt-formats §3). The
browser's UTF-16 positions are converted before they get here (js/lib/offsets.js).

Entities may overlap and nest ("Amazon SageMaker" and "SageMaker" inside it), as in GT's own
tool; only the same label twice on the same range is refused. They are kept through
``to_dataframe()``, GT output, spaCy ``spans`` and consolidation. Formats that cannot hold an
overlap (CoNLL/IOB2, the Hugging Face token table; Amazon Comprehend also refuses them) refuse
such a document with an error naming the text and the spans (:func:`outermost` gives the
non-overlapping entities a tagger trains on).
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar

from nblabel.tasks.attributes import OBJECT_KEY, LabelAttributes
from nblabel.tasks.base import Task, gt_answer, gt_job_name
from nblabel.tasks.classification import check_labels
from nblabel.tasks.instructions import Instructions

__all__ = ["Entity", "NamedEntities", "PreAnnotator", "outermost", "overlapping_pairs"]

log = logging.getLogger(__name__)

_CACHED_PROPOSALS = 2000

Entity = dict[str, Any]
"""One entity: ``{"label": str, "startOffset": int, "endOffset": int}``."""

PreAnnotator = Callable[[str, Mapping[str, Any]], Sequence[Mapping[str, Any]]]
"""Proposes entities for a text: called with the text and its manifest line, returns entities
(each may carry a ``confidence`` in [0, 1])."""


class NamedEntities(Task):
    """Mark named entities (people, places, products, ...) in texts.

    Parameters
    ----------
    labels
        Entity types, in the order their keys (1-9, 0) are assigned. Each is a name, or a GT
        label-category dict ``{"label": name, "shortDisplayName": short}``.
    pre_annotate
        Where proposals come from before the auto-labeler has any: one pre-annotator or a list
        (see :mod:`nblabel.tasks.preannotate`: ``from_attribute``, ``from_dictionary``,
        ``from_patterns``, ``from_spacy``). The widget shows the proposals; Enter accepts them,
        and the person can edit them first. Earlier pre-annotators win where proposals overlap.
        Once the auto-labeler runs (``job.autolabel()``), its tagger's spans are added where
        they overlap no pre-annotation.
    instructions
        What the people labeling are told (:class:`~nblabel.tasks.instructions.Instructions`):
        Markdown whose first paragraph is shown beside the item and the whole, with good and bad
        example images, in the panel the ``i`` key opens.
    attributes
        GT's label category configuration (``labels[].categoryAttributes``,
        ``categoryGlobalAttributes``; see :mod:`nblabel.tasks.attributes`) or ``{label:
        [attribute, ...], "*": [...]}``: each entity then carries ``label-category-attributes``.

    Examples
    --------
    >>> from nblabel.tasks.preannotate import from_dictionary
    >>> task = NamedEntities(["Person", "Place"], pre_annotate=from_dictionary({"Zürich": "Place"}))
    """

    media: ClassVar[str] = "text"
    family: ClassVar[str] = "entities"

    def __init__(
        self,
        labels: Sequence[str | Mapping[str, str]],
        *,
        pre_annotate: PreAnnotator | Sequence[PreAnnotator] | None = None,
        instructions: Any = None,
        attributes: Any = None,
    ) -> None:
        self.instructions = Instructions.of(instructions)
        names: list[str] = []
        self.short_names: dict[str, str] = {}
        for entry in labels:
            if isinstance(entry, Mapping):
                name = entry.get("label")
                short = entry.get("shortDisplayName")
                if isinstance(short, str) and short:
                    self.short_names[str(name)] = short
            else:
                name = entry
            names.append(name)
        self.labels = check_labels(names)
        if attributes is not None and LabelAttributes.of(attributes, self.labels).frame:  # type: ignore[union-attr]
            raise ValueError("an entity answer is a list of entities: frame attributes are for box tasks")
        self.attributes = LabelAttributes.of(attributes, self.labels)
        if pre_annotate is None:
            self.pre_annotators: list[PreAnnotator] = []
        elif callable(pre_annotate):
            self.pre_annotators = [pre_annotate]
        else:
            self.pre_annotators = list(pre_annotate)
        for p in self.pre_annotators:
            if not callable(p):
                raise TypeError(f"pre_annotate takes callables (text, line) -> entities, got {p!r}")
        # Pre-annotating (a spaCy pipeline) can take a while: each item's proposals are made once.
        self._proposals: dict[str, tuple[str, tuple[Any, float] | None]] = {}

    def __repr__(self) -> str:
        return f"NamedEntities({self.labels!r})"

    @property
    def gt_type(self) -> str:
        return "groundtruth/text-span"

    @property
    def gt_element(self) -> str:
        return "crowd-entity-annotation"

    def spec(self) -> dict[str, Any]:
        return {"type": self.gt_type, "labels": self.labels}

    # -- answers ----------------------------------------------------------------------------

    def validate(self, value: Any, item: str = "", *, source: Any = None) -> list[Entity]:
        """The entities sorted by start, checked: known labels, integer offsets with
        ``0 <= start < end``, inside ``source`` (the text) when it is given, no entity given
        twice (same label and range). Overlapping and nested entities are valid.

        An empty list is a valid answer ("no entities in this text").

        Raises
        ------
        ValueError
            The message names the item, the entity and the cause (for a repeat: the entity and
            its text).
        """
        where = f"item {item}: " if item else ""
        if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, (list, tuple)):
            raise ValueError(f"{where}an answer is a list of entities, got {value!r}")
        text = source if isinstance(source, str) else None
        entities = []
        for n, raw in enumerate(value):
            if not isinstance(raw, Mapping):
                raise ValueError(f"{where}entity {n} is not a dict with label/startOffset/endOffset: {raw!r}")
            label = raw.get("label")
            if not isinstance(label, str) or label not in self.labels:
                raise ValueError(f"{where}entity {n}: {label!r} is not one of the labels {self.labels}")
            start, end = raw.get("startOffset"), raw.get("endOffset")
            for name, offset in (("startOffset", start), ("endOffset", end)):
                if not isinstance(offset, int) or isinstance(offset, bool):
                    raise ValueError(f"{where}entity {n}: {name} must be an integer, got {offset!r}")
            if not 0 <= start < end:
                raise ValueError(f"{where}entity {n}: offsets {start}:{end} are not 0 <= start < end")
            if text is not None and end > len(text):
                raise ValueError(
                    f"{where}entity {n}: offsets {start}:{end} fall outside the text ({len(text)} characters)"
                )
            entity: Entity = {"label": label, "startOffset": start, "endOffset": end}
            if self.attributes is not None:
                given = self.attributes.check_object(label, raw.get(OBJECT_KEY), f"{where}entity {n}: ")
                if given:
                    entity[OBJECT_KEY] = given
            entities.append(entity)
        entities.sort(key=lambda e: (e["startOffset"], e["endOffset"], e["label"]))
        for a, b in itertools.pairwise(entities):
            if _span(a) == _span(b):
                raise ValueError(f"{where}entity given twice: {describe(a, text)}")
        return entities

    def answer_content(self, value: Any) -> dict[str, Any]:
        """GT's ``crowd-entity-annotation`` answer: ``{"entities": [{"endOffset", "label",
        "startOffset"}]}`` (code-point offsets)."""
        entities = [
            {"endOffset": e["endOffset"], "label": e["label"], "startOffset": e["startOffset"]} for e in value
        ]
        for out, e in zip(entities, value, strict=True):
            if e.get(OBJECT_KEY):
                out[OBJECT_KEY] = dict(e[OBJECT_KEY])
        return {self.gt_element: {"entities": entities}}

    def from_answer_content(self, content: Any) -> list[Entity]:
        """The entities of a ``crowd-entity-annotation`` answer, sorted by offsets."""
        entities = []
        for e in gt_answer(content, "entities")["entities"]:
            entity = {
                "label": str(e["label"]),
                "startOffset": int(e["startOffset"]),
                "endOffset": int(e["endOffset"]),
            }
            if e.get(OBJECT_KEY):
                entity[OBJECT_KEY] = dict(e[OBJECT_KEY])
            entities.append(entity)
        return sorted(entities, key=lambda e: (e["startOffset"], e["endOffset"]))

    def to_gt(
        self,
        value: Any,
        *,
        confidence: float | None,
        human: bool,
        job_name: str,
        created: str,
    ) -> tuple[Any, dict[str, Any]]:
        """GT's ``<attr>`` and ``<attr>-metadata`` for an answer (gt-formats §2.8).

        ``annotations.labels`` lists every label of the task (with its ``shortDisplayName``
        when one was given); the metadata holds one ``{"confidence": c}`` per entity, in the
        same order: 0 for a single person's answer, as GT writes it.
        """
        conf = round(float(confidence), 2) if confidence is not None else 0.0
        labels = []
        for name in self.labels:
            entry = {"label": name}
            if name in self.short_names:
                entry["shortDisplayName"] = self.short_names[name]
            labels.append(entry)
        entities = [
            {"label": e["label"], "startOffset": e["startOffset"], "endOffset": e["endOffset"]} for e in value
        ]
        for out, e in zip(entities, value, strict=True):
            if e.get(OBJECT_KEY):
                out[OBJECT_KEY] = dict(e[OBJECT_KEY])
        label = {"annotations": {"labels": labels, "entities": entities}}
        return label, {
            "entities": [{"confidence": conf} for _ in entities],
            "job-name": gt_job_name(job_name),
            "type": self.gt_type,
            "creation-date": created,
            "human-annotated": "yes" if human else "no",
        }

    def from_gt(self, label: Any, *, source: Any = None, item: str = "") -> list[Entity]:
        """The entities of a GT text-span label read back, as a valid answer of this task.

        Accepts the output manifest's ``{"annotations": {"entities": [...]}}`` and the worker
        answer's ``{"entities": [...]}``. Unknown labels, offsets outside ``source`` and
        repeats are dropped, each with a logged warning naming the item; overlaps are kept.
        """
        if isinstance(label, Mapping) and isinstance(label.get("annotations"), Mapping):
            raw = label["annotations"].get("entities")
        elif isinstance(label, Mapping):
            raw = label.get("entities")
        else:
            raw = None
        if not isinstance(raw, list):
            return []
        text = source if isinstance(source, str) else None
        kept: list[Entity] = []
        for entity in raw:
            if not isinstance(entity, Mapping):
                continue
            try:
                (one,) = self.validate([entity], item, source=text)
            except ValueError as exc:
                log.warning("%s", exc)
                continue
            if any(_span(k) == _span(one) for k in kept):
                log.warning("item %s: dropped %s, given twice", item, describe(one, text))
                continue
            kept.append(one)
        return sorted(kept, key=lambda e: (e["startOffset"], e["endOffset"]))

    # -- proposals ----------------------------------------------------------------------------

    def took_proposal(self, value: Any, proposal: Any) -> bool | None:
        """Whether the answer has exactly the proposed entities (label and range; confidences
        and attribute values aside)."""
        if not isinstance(value, list) or not isinstance(proposal, list):
            return None
        spans = [sorted(_span(e) for e in given if isinstance(e, Mapping)) for given in (value, proposal)]
        return spans[0] == spans[1]

    def pre_annotation(
        self, source: Any, line: Mapping[str, Any], item: str = ""
    ) -> tuple[Any, float] | None:
        """Proposals from the task's pre-annotators for one text: (entities, confidence) or None.

        Each entity keeps its own ``confidence`` (1.0 when the pre-annotator gave none); the
        proposal's confidence is the lowest of them. One pre-annotator's entities may overlap and
        nest (an earlier GT job's output keeps its nesting); a later pre-annotator's entities that
        overlap an earlier one's are dropped.
        """
        if not self.pre_annotators or not isinstance(source, str):
            return None
        cached = self._proposals.get(item) if item else None
        if cached is not None and cached[0] == source:
            return cached[1]
        found = self._pre_annotate(source, line, item)
        if item:
            self._proposals[item] = (source, found)
            while len(self._proposals) > _CACHED_PROPOSALS:
                self._proposals.pop(next(iter(self._proposals)))
        return found

    def combine_proposals(
        self, model: tuple[Any, float] | None, pre: tuple[Any, float] | None
    ) -> tuple[Any, float] | None:
        """The pre-annotators' entities, plus the auto-labeler's that overlap none of them.

        The pre-annotators are rules the person chose (names, patterns, a pipeline), so they
        keep their spans; the tagger trained on the answers fills in the rest. The proposal's
        confidence is the lowest of its entities' (the model's own when it proposes nothing).
        """
        if model is None or pre is None:
            return model if model is not None else pre
        kept = list(pre[0])
        kept += [e for e in model[0] if not any(_overlaps(k, e) for k in pre[0])]
        if not kept:
            return model
        kept.sort(key=lambda e: e["startOffset"])
        return kept, min(float(e.get("confidence", 1.0)) for e in kept)

    def _pre_annotate(self, source: str, line: Mapping[str, Any], item: str) -> tuple[Any, float] | None:
        kept: list[Entity] = []
        for annotate in self.pre_annotators:
            earlier = list(kept)  # what the earlier pre-annotators proposed: they win overlaps
            for raw in annotate(source, line) or []:
                conf = raw.get("confidence", 1.0) if isinstance(raw, Mapping) else 1.0
                try:
                    (one,) = self.validate([raw], item, source=source)
                except ValueError as exc:
                    log.info("pre-annotation ignored: %s", exc)
                    continue
                if any(_overlaps(k, one) for k in earlier) or any(_span(k) == _span(one) for k in kept):
                    continue
                one["confidence"] = round(float(conf), 4)
                kept.append(one)
        if not kept:
            return None
        kept.sort(key=lambda e: (e["startOffset"], e["endOffset"]))
        return kept, min(e["confidence"] for e in kept)


def describe(entity: Mapping[str, Any], text: str | None = None) -> str:
    """``Label 7:16 ("SageMaker")``: an entity as messages name it."""
    start, end = entity["startOffset"], entity["endOffset"]
    shown = f" ({text[start:end][:60]!r})" if text is not None and end <= len(text) else ""
    return f"{entity['label']} {start}:{end}{shown}"


def overlapping_pairs(
    entities: Sequence[Mapping[str, Any]],
) -> list[tuple[Mapping[str, Any], Mapping[str, Any]]]:
    """The pairs of entities that share a character, each pair in the order given (empty when
    none overlap: adjacent entities do not)."""
    ordered = sorted(entities, key=lambda e: (e["startOffset"], e["endOffset"]))
    pairs = []
    for i, a in enumerate(ordered):
        for b in ordered[i + 1 :]:
            if b["startOffset"] >= a["endOffset"]:
                break
            pairs.append((a, b))
    return pairs


def outermost(entities: Sequence[Entity]) -> list[Entity]:
    """The entities no kept one overlaps, longest first (so a nested entity gives way to the one
    around it), sorted by offsets: what a format or model with one tag per token can hold."""
    kept: list[Entity] = []
    for one in sorted(entities, key=lambda e: (e["startOffset"] - e["endOffset"], e["startOffset"])):
        if not any(_overlaps(k, one) for k in kept):
            kept.append(one)
    return sorted(kept, key=lambda e: (e["startOffset"], e["endOffset"]))


def _span(entity: Mapping[str, Any]) -> tuple[str, int, int]:
    """What makes an entity the same one: its label and range (not its attributes)."""
    return entity["label"], entity["startOffset"], entity["endOffset"]


def _overlaps(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    return a["startOffset"] < b["endOffset"] and b["startOffset"] < a["endOffset"]
