"""Named entities in the formats NLP training reads: spaCy JSONL, CoNLL (IOB2), a token table.

Each writer takes documents, ``(id, text, entities)`` with entities as
:class:`~nblabel.NamedEntities` stores them; :func:`documents` makes them from an augmented
manifest (``job.to_dataframe()`` or any Ground Truth ``groundtruth/text-span`` output). Each
reader gives the documents back, so a round trip is exact. Tokens (CoNLL, the token table) follow
the tokenizer stated in :mod:`nblabel.text`. Offsets are code points throughout (Python ``str``
indices). spaCy's ``spans`` hold overlapping and nested entities; IOB2 (CoNLL, the token table)
has one tag per token, so those writers refuse a document with overlaps, naming the text and the
spans.
"""

from __future__ import annotations

import io
import json
import os
from collections.abc import Iterable, Sequence
from typing import Any

import pandas as pd

from nblabel.io import open_writer
from nblabel.manifest import is_missing
from nblabel.tasks.attributes import OBJECT_KEY
from nblabel.tasks.entities import describe, overlapping_pairs
from nblabel.text import tokens_and_tags

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
]

Document = tuple[str, str, list[dict[str, Any]]]
"""``(id, text, entities)``; entities as the task stores them."""


def tag_names(labels: Sequence[str]) -> list[str]:
    """IOB2 tag names in a fixed order: ``O``, then ``B-<label>``, ``I-<label>`` per label."""
    names = ["O"]
    for label in labels:
        names += [f"B-{label}", f"I-{label}"]
    return names


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


def documents(df: pd.DataFrame, attribute: str) -> list[Document]:
    """``(id, text, entities)`` per labeled row of an augmented manifest: the id is the row
    number (GT's ``datasetObjectId``), the text the row's ``source``, the entities those of the
    ``groundtruth/text-span`` label ``<attribute>`` (``{"annotations": {"entities": [...]}}``),
    sorted by offsets.

    Raises
    ------
    ValueError
        The DataFrame lacks ``source`` or ``attribute``, or a label is not a text-span label.
    """
    if attribute not in df.columns:
        raise ValueError(f"the DataFrame has no label attribute {attribute!r}; columns: {list(df.columns)}")
    if "source" not in df.columns:
        raise ValueError("entity exports need a 'source' column holding each text")
    out = []
    for row, (text, label) in enumerate(zip(df["source"], df[attribute], strict=True)):
        if label is None or is_missing(label):
            continue
        label = json.loads(label) if isinstance(label, str) else label
        spans = label.get("annotations") if isinstance(label, dict) else None
        if not isinstance(spans, dict) or not isinstance(spans.get("entities"), list):
            raise ValueError(f"row {row}: {attribute!r} is not a Ground Truth text-span label")
        entities = []
        for e in spans["entities"]:
            entity = {
                "label": e["label"],
                "startOffset": int(e["startOffset"]),
                "endOffset": int(e["endOffset"]),
            }
            if e.get(OBJECT_KEY):
                entity[OBJECT_KEY] = dict(e[OBJECT_KEY])
            entities.append(entity)
        out.append((str(row), text, sorted(entities, key=lambda e: (e["startOffset"], e["endOffset"]))))
    return out


def _iob2(
    fmt: str, doc_id: str, text: str, entities: Sequence[dict[str, Any]]
) -> tuple[list[tuple[int, int]], list[str]]:
    """Tokens and IOB2 tags of a document, refused when its entities overlap (one tag per token
    cannot hold them)."""
    pairs = overlapping_pairs(entities)
    if pairs:
        shown = "; ".join(f"{describe(a, text)} and {describe(b, text)}" for a, b in pairs[:5])
        more = f" (and {len(pairs) - 5} more)" if len(pairs) > 5 else ""
        raise ValueError(
            f"document {doc_id} ({text[:60]!r}): {fmt} has one tag per token and cannot hold overlapping "
            f"entities: {shown}{more}. Export spaCy JSONL (spans) instead, or remove the overlaps."
        )
    return tokens_and_tags(text, entities)


def _labels_of(docs: list[Document]) -> list[str]:
    """The entity labels in the order the documents first use them."""
    seen: dict[str, None] = {}
    for _, _, entities in docs:
        for e in entities:
            seen.setdefault(e["label"], None)
    return list(seen)


# -- spaCy JSONL ------------------------------------------------------------------------------


def to_spacy_jsonl(docs: Iterable[Document], location: str | os.PathLike[str], **writer: Any) -> int:
    """Write one JSON object per document: ``{"text", "spans": [{"start", "end", "label",
    "attributes"?}],
    "meta": {"id"}}``, as spaCy's and Prodigy's JSONL readers take them (character offsets into
    ``text``). ``location`` is a path or ``s3://`` URI, written all-or-nothing; ``writer``
    options go to :func:`nblabel.io.open_writer`. Returns the number of documents."""
    count = 0
    with open_writer(location, **writer) as out:
        for doc_id, text, entities in docs:
            spans = []
            for e in entities:
                span = {"start": e["startOffset"], "end": e["endOffset"], "label": e["label"]}
                if e.get(OBJECT_KEY):  # label category attributes, as a span's own fields
                    span["attributes"] = dict(e[OBJECT_KEY])
                spans.append(span)
            line = {"text": text, "spans": spans, "meta": {"id": str(doc_id)}}
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
                spans = []
                for s in obj.get("spans", []):
                    span = {"label": s["label"], "startOffset": int(s["start"]), "endOffset": int(s["end"])}
                    if s.get("attributes"):
                        span[OBJECT_KEY] = dict(s["attributes"])
                    spans.append(span)
                text = obj["text"]
            except (ValueError, KeyError, TypeError, AttributeError) as exc:
                raise ValueError(f"{path}, line {number}: not a spaCy JSONL document ({exc})") from None
            doc_id = str((obj.get("meta") or {}).get("id", number - 1))
            docs.append((doc_id, text, spans))
    return docs


# -- CoNLL ------------------------------------------------------------------------------------


def to_conll(docs: Iterable[Document], location: str | os.PathLike[str], **writer: Any) -> int:
    """Write CoNLL with IOB2 tags: one ``token<TAB>tag`` line per token, documents separated
    by a blank line and introduced by ``# id = <id>``; tokens by this module's tokenizer.
    Returns the number of documents.

    Raises
    ------
    ValueError
        A document's entities overlap (IOB2 cannot hold that); nothing is written.
    """
    count = 0
    with open_writer(location, **writer) as out:
        buffer = io.StringIO()
        for doc_id, text, entities in docs:
            spans, tags = _iob2("CoNLL (IOB2)", doc_id, text, entities)
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


def to_hf_table(docs: Iterable[Document], labels: Sequence[str] | None = None) -> pd.DataFrame:
    """A table for ``datasets.Dataset.from_pandas``: columns ``id``, ``text``, ``tokens``
    (list of str) and ``ner_tags`` (list of int); ``df.attrs["tag_names"]`` names the tag ids
    (``O``, ``B-<label>``, ``I-<label>``, ... in the order of ``labels``, by default the order
    the documents first use them), for a ``ClassLabel`` feature.

    Raises
    ------
    ValueError
        A document's entities overlap (IOB2 cannot hold that), or a tag is not among the names.
    """
    docs = list(docs)  # read twice: for the labels, then for the rows
    names = tag_names(list(labels) if labels is not None else _labels_of(docs))
    index = {name: i for i, name in enumerate(names)}
    rows = []
    for doc_id, text, entities in docs:
        spans, tags = _iob2("the token table (IOB2)", doc_id, text, entities)
        unknown = sorted({t for t in tags if t not in index})
        if unknown:
            raise ValueError(f"document {doc_id}: tags {unknown} are not among {names}")
        rows.append((str(doc_id), text, [text[s:e] for s, e in spans], [index[t] for t in tags]))
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
