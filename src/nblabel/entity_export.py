"""Named entities in the formats NLP training reads: spaCy JSONL, CoNLL (IOB2), a token table.

Each writer takes a :class:`~nblabel.Job` whose task is :class:`~nblabel.NamedEntities` (its
labeled items) or an iterable of documents ``(id, text, entities)``; each reader gives the
documents back, so a round trip is exact.

The tokenizer (for CoNLL and the token table) is stated here and nowhere else: a token is a
maximal run of word characters (Unicode letters, digits and marks, and ``_``), or any other
non-space character together with the marks, variation selectors, skin-tone modifiers and
zero-width-joiner sequences that follow it (an emoji, a flag); a pair of regional indicators is
one token; white space separates tokens and is never part of one. Entity boundaries always
split tokens, so every entity is a whole number of tokens (``"Zürich-based"`` with ``Zürich``
marked gives ``Zürich`` / ``-`` / ``based``). The widget's keyboard cursor uses the same rule.

Offsets are code points throughout (Python ``str`` indices).
"""

from __future__ import annotations

import io
import json
import os
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd

from nblabel.io import open_writer

if TYPE_CHECKING:
    from nblabel.job import Job

__all__ = [
    "Document",
    "documents",
    "entities_from_tags",
    "from_hf_table",
    "read_conll",
    "read_spacy_jsonl",
    "tag_names",
    "to_conll",
    "to_hf_table",
    "to_spacy_jsonl",
    "tokenize",
    "tokens_and_tags",
]

Document = tuple[str, str, list[dict[str, Any]]]
"""``(id, text, entities)``; entities as the task stores them."""

_JOINERS = {"\u200d"}
_EXTENDERS_RANGE = (0x1F3FB, 0x1F3FF)  # skin-tone modifiers


def _is_word(ch: str) -> bool:
    return ch == "_" or unicodedata.category(ch)[0] in "LNM"


def _extends(ch: str) -> bool:
    """Marks, variation selectors and skin tones stay with the character before them."""
    return (
        unicodedata.category(ch)[0] == "M"
        or ch in ("\ufe0e", "\ufe0f")
        or _EXTENDERS_RANGE[0] <= ord(ch) <= _EXTENDERS_RANGE[1]
    )


def _regional(ch: str) -> bool:
    return 0x1F1E6 <= ord(ch) <= 0x1F1FF


def tokenize(text: str, breaks: Iterable[int] = ()) -> list[tuple[int, int]]:
    """The tokens of ``text`` as ``(start, end)`` code-point offsets, also split at ``breaks``.

    See the module docstring for the rule.
    """
    cuts = set(breaks)
    out: list[tuple[int, int]] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
            continue
        start = i
        if _is_word(ch):
            i += 1
            while i < n and _is_word(text[i]) and i not in cuts:
                i += 1
        elif _regional(ch) and i + 1 < n and _regional(text[i + 1]) and i + 1 not in cuts:
            i += 2
        else:
            i += 1
            while i < n and i not in cuts:
                if _extends(text[i]):
                    i += 1
                elif text[i] in _JOINERS and i + 1 < n and not text[i + 1].isspace() and i + 1 not in cuts:
                    i += 2
                else:
                    break
        out.append((start, i))
    return out


def tag_names(labels: Sequence[str]) -> list[str]:
    """IOB2 tag names in a fixed order: ``O``, then ``B-<label>``, ``I-<label>`` per label."""
    names = ["O"]
    for label in labels:
        names += [f"B-{label}", f"I-{label}"]
    return names


def tokens_and_tags(
    text: str, entities: Sequence[dict[str, Any]], breaks: Iterable[int] = ()
) -> tuple[list[tuple[int, int]], list[str]]:
    """Tokens of ``text`` (offsets) and their IOB2 tags for ``entities``; tokens are also split
    at ``breaks`` (see :func:`tokenize`).

    Raises
    ------
    ValueError
        An entity covers only white space, so no token carries it.
    """
    cuts = {e["startOffset"] for e in entities} | {e["endOffset"] for e in entities} | set(breaks)
    spans = tokenize(text, cuts)
    tags = ["O"] * len(spans)
    starts = [s for s, _ in spans]
    for entity in entities:
        begin, end = entity["startOffset"], entity["endOffset"]
        # The cuts make every token that starts inside the entity end inside it.
        inside = []
        k = _bisect(starts, begin)
        while k < len(spans) and spans[k][0] < end:
            inside.append(k)
            k += 1
        if not inside:
            raise ValueError(f"entity {entity} covers no token of {text[begin:end]!r}")
        for n, k in enumerate(inside):
            tags[k] = f"{'B' if n == 0 else 'I'}-{entity['label']}"
    return spans, tags


def _bisect(starts: list[int], value: int) -> int:
    lo, hi = 0, len(starts)
    while lo < hi:
        mid = (lo + hi) // 2
        if starts[mid] < value:
            lo = mid + 1
        else:
            hi = mid
    return lo


def entities_from_tags(text: str, tokens: Sequence[str], tags: Sequence[str]) -> list[dict[str, Any]]:
    """Entities (code-point offsets into ``text``) from tokens and their IOB2 tags.

    Tokens are found in ``text`` in order, skipping white space; an ``I-`` tag that does not
    continue an entity of its label starts a new one (as IOB2 readers do).

    Raises
    ------
    ValueError
        A token is not the next non-space text, or the lists differ in length.
    """
    if len(tokens) != len(tags):
        raise ValueError(f"{len(tokens)} tokens but {len(tags)} tags")
    entities: list[dict[str, Any]] = []
    open_entity: dict[str, Any] | None = None
    cursor = 0
    for token, tag in zip(tokens, tags, strict=True):
        while cursor < len(text) and text[cursor].isspace():
            cursor += 1
        if text[cursor : cursor + len(token)] != token:
            raise ValueError(
                f"token {token!r} is not the text at offset {cursor}: {text[cursor : cursor + 20]!r}"
            )
        start, cursor = cursor, cursor + len(token)
        kind, _, label = tag.partition("-")
        if kind == "O" or not label:
            open_entity = None
            continue
        if kind == "I" and open_entity is not None and open_entity["label"] == label:
            open_entity["endOffset"] = cursor
            continue
        open_entity = {"label": label, "startOffset": start, "endOffset": cursor}
        entities.append(open_entity)
    return entities


# -- documents --------------------------------------------------------------------------------


def documents(source: Job | Iterable[Document]) -> Iterator[Document]:
    """``(id, text, entities)`` per labeled item of a job (ids are item keys), or the documents
    given, as they are."""
    if hasattr(source, "task") and hasattr(source, "current"):
        job = source
        if getattr(job.task, "family", None) != "entities":
            raise TypeError(f"entity exports need a NamedEntities job, not {job.task!r}")
        job.refresh()
        for position, key in enumerate(job.keys):
            annotation = job.current(key)
            if annotation is not None:
                yield key, job.items.source(position), list(annotation.value)
        return
    for doc in source:
        doc_id, text, entities = doc
        yield str(doc_id), text, list(entities)


def _labels_of(source: Any, docs: list[Document]) -> list[str]:
    labels = getattr(getattr(source, "task", None), "labels", None)
    if labels is not None:
        return list(labels)
    seen: dict[str, None] = {}
    for _, _, entities in docs:
        for e in entities:
            seen.setdefault(e["label"], None)
    return list(seen)


# -- spaCy JSONL ------------------------------------------------------------------------------


def to_spacy_jsonl(source: Job | Iterable[Document], location: str | os.PathLike[str], **writer: Any) -> int:
    """Write one JSON object per document: ``{"text", "spans": [{"start", "end", "label"}],
    "meta": {"id"}}``, as spaCy's and Prodigy's JSONL readers take them (character offsets into
    ``text``). ``location`` is a path or ``s3://`` URI, written all-or-nothing; ``writer``
    options go to :func:`nblabel.io.open_writer`. Returns the number of documents."""
    count = 0
    with open_writer(location, **writer) as out:
        for doc_id, text, entities in documents(source):
            line = {
                "text": text,
                "spans": [
                    {"start": e["startOffset"], "end": e["endOffset"], "label": e["label"]} for e in entities
                ],
                "meta": {"id": doc_id},
            }
            out.write((json.dumps(line, ensure_ascii=False) + "\n").encode("utf-8"))
            count += 1
    return count


def read_spacy_jsonl(path: str | os.PathLike[str]) -> list[Document]:
    """Documents from a spaCy/Prodigy-style JSONL file (``text`` + ``spans``).

    Raises
    ------
    ValueError
        A line is not such an object; the message names the file and line.
    """
    docs = []
    with open(path, encoding="utf-8") as fh:
        for number, raw in enumerate(fh, start=1):
            if not raw.strip():
                continue
            try:
                obj = json.loads(raw)
                spans = [
                    {"label": s["label"], "startOffset": int(s["start"]), "endOffset": int(s["end"])}
                    for s in obj.get("spans", [])
                ]
                text = obj["text"]
            except (ValueError, KeyError, TypeError, AttributeError) as exc:
                raise ValueError(f"{path}, line {number}: not a spaCy JSONL document ({exc})") from None
            doc_id = str((obj.get("meta") or {}).get("id", number - 1))
            docs.append((doc_id, text, spans))
    return docs


# -- CoNLL ------------------------------------------------------------------------------------


def to_conll(source: Job | Iterable[Document], location: str | os.PathLike[str], **writer: Any) -> int:
    """Write CoNLL with IOB2 tags: one ``token<TAB>tag`` line per token, documents separated
    by a blank line and introduced by ``# id = <id>``; tokens by this module's tokenizer.
    Returns the number of documents."""
    count = 0
    with open_writer(location, **writer) as out:
        buffer = io.StringIO()
        for doc_id, text, entities in documents(source):
            spans, tags = tokens_and_tags(text, entities)
            buffer.write(f"# id = {doc_id}\n")
            for (start, end), tag in zip(spans, tags, strict=True):
                buffer.write(f"{text[start:end]}\t{tag}\n")
            buffer.write("\n")
            out.write(buffer.getvalue().encode("utf-8"))
            buffer.seek(0)
            buffer.truncate()
            count += 1
    return count


def read_conll(path: str | os.PathLike[str]) -> list[tuple[str, list[str], list[str]]]:
    """``(id, tokens, tags)`` per document of a CoNLL file as :func:`to_conll` writes it
    (also plain ``token tag`` columns: the last column is the tag).

    Raises
    ------
    ValueError
        A line has no tag column; the message names the file and line.
    """
    docs: list[tuple[str, list[str], list[str]]] = []
    doc_id: str | None = None
    tokens: list[str] = []
    tags: list[str] = []

    def flush() -> None:
        nonlocal doc_id, tokens, tags
        if tokens or doc_id is not None:
            docs.append((doc_id if doc_id is not None else str(len(docs)), tokens, tags))
        doc_id, tokens, tags = None, [], []

    with open(path, encoding="utf-8") as fh:
        for number, raw in enumerate(fh, start=1):
            line = raw.rstrip("\r\n")
            if not line.strip():
                flush()
            elif line.startswith("# id = "):
                doc_id = line[len("# id = ") :]
            elif line.startswith("-DOCSTART-"):
                continue
            else:
                parts = line.split("\t") if "\t" in line else line.split()
                if len(parts) < 2:
                    raise ValueError(f"{path}, line {number}: expected 'token<TAB>tag', got {line!r}")
                tokens.append(parts[0])
                tags.append(parts[-1])
    flush()
    return docs


# -- Hugging Face table -----------------------------------------------------------------------


def to_hf_table(source: Job | Iterable[Document]) -> pd.DataFrame:
    """A table for ``datasets.Dataset.from_pandas``: columns ``id``, ``text``, ``tokens``
    (list of str) and ``ner_tags`` (list of int); ``df.attrs["tag_names"]`` names the tag ids
    (``O``, ``B-<label>``, ``I-<label>``, ... in label order), for a ``ClassLabel`` feature."""
    docs = list(documents(source))
    names = tag_names(_labels_of(source, docs))
    index = {name: i for i, name in enumerate(names)}
    rows = []
    for doc_id, text, entities in docs:
        spans, tags = tokens_and_tags(text, entities)
        unknown = sorted({t for t in tags if t not in index})
        if unknown:
            raise ValueError(f"document {doc_id}: tags {unknown} are not among {names}")
        rows.append((doc_id, text, [text[s:e] for s, e in spans], [index[t] for t in tags]))
    df = pd.DataFrame(rows, columns=["id", "text", "tokens", "ner_tags"])
    df.attrs["tag_names"] = names
    return df


def from_hf_table(df: pd.DataFrame, names: Sequence[str] | None = None) -> list[Document]:
    """Documents from a token table (``text``, ``tokens``, ``ner_tags``), as :func:`to_hf_table`
    makes it; ``names`` default to ``df.attrs["tag_names"]``."""
    names = list(names if names is not None else df.attrs["tag_names"])
    return [
        (
            str(row.id),
            row.text,
            entities_from_tags(row.text, list(row.tokens), [names[int(t)] for t in row.ner_tags]),
        )
        for row in df.itertuples(index=False)
    ]
