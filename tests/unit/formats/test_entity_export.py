"""Entity exports: spaCy JSONL, CoNLL/IOB2 and the Hugging Face token table, each round-tripped."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

import nblabel as nl
from nblabel.formats.entities import (
    documents,
    entities_from_tags,
    from_hf_table,
    read_conll,
    read_spacy_jsonl,
    tag_names,
    to_conll,
    to_hf_table,
    to_spacy_jsonl,
)
from nblabel.text import tokenize, tokens_and_tags

LABELS = ["Person", "Place", "Date", "Org"]


def ent(label: str, start: int, end: int) -> dict:
    return {"label": label, "startOffset": start, "endOffset": end}


def doc(doc_id: str, text: str, *marked: tuple[str, str]) -> tuple[str, str, list[dict]]:
    """A document whose entities are given by their text (first occurrence after the last)."""
    entities, cursor = [], 0
    for label, words in marked:
        start = text.index(words, cursor)
        entities.append(ent(label, start, start + len(words)))
        cursor = start + len(words)
    return doc_id, text, entities


# The tests' documents: emoji, CJK, combining marks, CRLF, TABs, entities inside words, adjacent ones.
DOCS = [
    doc(
        "ascii",
        "Amazon SageMaker was launched in November 2017 by Amazon.",
        ("Org", "Amazon"),
        ("Date", "November 2017"),
    ),
    doc(
        "emoji",
        "Olá 👋 — Zoë met 李雷 in Zürich 🇨🇭 on 2024-02-29.",
        ("Person", "Zoë"),
        ("Person", "李雷"),
        ("Place", "Zürich"),
        ("Date", "2024-02-29"),
    ),
    doc("crlf", "Line one: Ann\r\nLine two:\tBern\r\n", ("Person", "Ann"), ("Place", "Bern")),
    doc("marks", "Zu\u0308rich-based e\u0301tude", ("Place", "Zu\u0308rich")),
    doc("adjacent", "NewYork", ("Place", "New"), ("Place", "York")),
    doc("multiline", "Lives at 1 Main St\nSpringfield now", ("Place", "1 Main St\nSpringfield")),
    doc("none", "Nothing to see here.\n"),
    doc("flag-zwj", "👩‍💻 Ada in 🇨🇭!", ("Person", "Ada"), ("Place", "🇨🇭")),
]


def slices(text: str, spans: list[tuple[int, int]]) -> list[str]:
    return [text[s:e] for s, e in spans]


def test_the_stated_tokenizer() -> None:
    text = "Olá 👋 — Zoë met 李雷 in Zu\u0308rich 🇨🇭 👍🏽 👩‍💻!\r\n\tend_1"
    assert slices(text, tokenize(text)) == [
        "Olá", "👋", "—", "Zoë", "met", "李雷", "in", "Zu\u0308rich", "🇨🇭", "👍🏽", "👩‍💻", "!", "end_1",
    ]  # fmt: skip
    # entity boundaries always split tokens
    assert slices("Zürich-based", tokenize("Zürich-based", [6])) == ["Zürich", "-", "based"]
    assert slices("NewYork", tokenize("NewYork", [3])) == ["New", "York"]


def test_iob2_tags_for_entities_inside_words_and_across_lines() -> None:
    _, text, entities = DOCS[5]
    spans, tags = tokens_and_tags(text, entities)
    assert list(zip(slices(text, spans), tags, strict=True)) == [
        ("Lives", "O"), ("at", "O"), ("1", "B-Place"), ("Main", "I-Place"), ("St", "I-Place"),
        ("Springfield", "I-Place"), ("now", "O"),
    ]  # fmt: skip
    _, text, entities = DOCS[4]
    assert tokens_and_tags(text, entities)[1] == ["B-Place", "B-Place"]  # adjacent: two entities
    with pytest.raises(ValueError, match="covers no token"):
        tokens_and_tags("a   b", [ent("Place", 1, 3)])
    assert tag_names(["Person", "Place"]) == ["O", "B-Person", "I-Person", "B-Place", "I-Place"]


@pytest.mark.parametrize("document", DOCS, ids=[d[0] for d in DOCS])
def test_tags_back_to_entities_exactly(document: tuple[str, str, list[dict]]) -> None:
    _, text, entities = document
    spans, tags = tokens_and_tags(text, entities)
    assert entities_from_tags(text, slices(text, spans), tags) == entities


def test_spacy_jsonl_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "spans.jsonl"
    assert to_spacy_jsonl(DOCS, path) == len(DOCS)
    first = json.loads(path.read_text(encoding="utf-8").splitlines()[1])
    assert first["text"] == DOCS[1][1]
    assert first["spans"][0] == {"start": 8, "end": 11, "label": "Person"}  # code points, as spaCy counts
    assert first["meta"] == {"id": "emoji"}
    assert read_spacy_jsonl(path) == DOCS


def test_spacy_jsonl_is_what_spacy_reads(tmp_path: Path) -> None:
    import spacy

    nlp = spacy.blank("xx")
    path = tmp_path / "spans.jsonl"
    to_spacy_jsonl(DOCS, path)
    for line, (_, text, entities) in zip(path.read_text(encoding="utf-8").splitlines(), DOCS, strict=True):
        obj = json.loads(line)
        made = nlp.make_doc(obj["text"])
        if obj["meta"]["id"] == "adjacent":
            continue  # spaCy's tokenizer keeps "NewYork" whole, so no spaCy span can be "New"
        spans = [made.char_span(s["start"], s["end"], label=s["label"]) for s in obj["spans"]]
        assert [s.text for s in spans] == [text[e["startOffset"] : e["endOffset"]] for e in entities]


def test_conll_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "out.conll"
    assert to_conll(DOCS, path) == len(DOCS)
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[:3] == ["# id = ascii", "Amazon\tB-Org", "SageMaker\tO"]
    back = read_conll(path)
    assert [d[0] for d in back] == [d[0] for d in DOCS]
    for (doc_id, tokens, tags), (_, text, entities) in zip(back, DOCS, strict=True):
        assert entities_from_tags(text, tokens, tags) == entities, doc_id
        assert all(t and not any(c.isspace() for c in t) for t in tokens)


def test_hf_table_round_trip_and_datasets_shape() -> None:
    df = to_hf_table(DOCS)
    assert list(df.columns) == ["id", "text", "tokens", "ner_tags"]
    names = df.attrs["tag_names"]
    assert names[0] == "O" and "B-Person" in names
    row = df.iloc[1]
    assert [names[t] for t in row.ner_tags][:5] == ["O", "O", "O", "B-Person", "O"]
    assert all(isinstance(t, int) for tags in df.ner_tags for t in tags)
    assert from_hf_table(df) == DOCS
    # the table survives Arrow (what datasets.Dataset.from_pandas stores)
    import pyarrow as pa

    back = pa.Table.from_pandas(df).to_pandas()
    assert from_hf_table(back, names) == DOCS


def test_exports_from_a_job_use_its_labeled_rows(tmp_path: Path) -> None:
    job = nl.Job("exp", pd.DataFrame({"source": [d[1] for d in DOCS]}), nl.NamedEntities(LABELS))
    for position, (_, _, entities) in enumerate(DOCS[:3]):
        job.label(position, entities)
    docs = documents(job.to_dataframe(), job.attribute)
    assert docs == [(str(i), DOCS[i][1], DOCS[i][2]) for i in range(3)]  # ids: GT's row numbers
    to_spacy_jsonl(docs, tmp_path / "job.jsonl")
    assert read_spacy_jsonl(tmp_path / "job.jsonl") == docs
    df = to_hf_table(docs, labels=job.task.labels)
    assert df.attrs["tag_names"] == tag_names(LABELS)
    assert from_hf_table(df) == docs
    # A manifest written and read back gives the same documents (its labels are JSON there).
    nl.write_manifest(job.to_dataframe(), tmp_path / "out.manifest")
    assert documents(nl.read_manifest(tmp_path / "out.manifest"), "exp") == docs
    classes = nl.Job("cls", pd.DataFrame({"source": ["x"]}), nl.TextClassification(["a"]))
    classes.label(0, "a")
    with pytest.raises(ValueError, match="row 0: 'cls' is not a Ground Truth text-span label"):
        documents(classes.to_dataframe(), "cls")


def test_a_bad_spacy_line_names_the_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"text": "ok", "spans": []}\n{"spans": []}\n', encoding="utf-8")
    with pytest.raises(ValueError, match=r"bad\.jsonl, line 2: not a spaCy JSONL document"):
        read_spacy_jsonl(path)


def test_overlapping_entities_go_to_spacy_spans_and_iob2_formats_refuse_them(tmp_path: Path) -> None:
    text = "Amazon SageMaker was launched."
    nested = [ent("Org", 0, 6), ent("Product", 0, 16), ent("Product", 7, 16)]
    job = nl.Job("nest", pd.DataFrame({"source": [text]}), nl.NamedEntities(["Org", "Product"]))
    job.label(0, nested)
    docs = documents(job.to_dataframe(), job.attribute)
    assert docs == [("0", text, nested)]
    # spaCy spans hold them, and spaCy reads them back as a SpanGroup.
    import spacy
    from spacy.tokens import SpanGroup

    to_spacy_jsonl(docs, tmp_path / "nest.jsonl")
    assert read_spacy_jsonl(tmp_path / "nest.jsonl") == docs
    made = spacy.blank("en").make_doc(text)
    spans = [made.char_span(e["startOffset"], e["endOffset"], label=e["label"]) for e in nested]
    made.spans["sc"] = SpanGroup(made, spans=spans)
    assert [s.text for s in made.spans["sc"]] == ["Amazon", "Amazon SageMaker", "SageMaker"]
    # IOB2 has one tag per token: refused, naming the text and the overlapping spans; nothing written.
    message = (
        r"document 0 \('Amazon SageMaker was launched.'\): CoNLL \(IOB2\) has one tag per token and cannot hold "
        r"overlapping entities: Org 0:6 \('Amazon'\) and Product 0:16 \('Amazon SageMaker'\); "
        r"Product 0:16 \('Amazon SageMaker'\) and Product 7:16 \('SageMaker'\)\."
    )
    with pytest.raises(ValueError, match=message):
        to_conll(docs, tmp_path / "nest.conll")
    assert not (tmp_path / "nest.conll").exists()
    with pytest.raises(ValueError, match=r"document 0 .*the token table \(IOB2\) .*Org 0:6 \('Amazon'\)"):
        to_hf_table(docs)
    # Consolidating two annotators who both nested keeps the nesting.
    job.label(0, nested, annotator="bo")
    job.consolidate()
    assert job.to_dataframe().at[0, "nest"]["annotations"]["entities"] == nested
