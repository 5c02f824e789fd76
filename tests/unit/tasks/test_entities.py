"""Named entities: validation, GT's text-span output read and written, offsets, pre-annotations."""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

import nblabel as nl
from nblabel.checks import check_line
from nblabel.manifest import ManifestWarning, read_manifest
from nblabel.tasks.entities import NamedEntities
from nblabel.tasks.preannotate import from_attribute, from_dictionary, from_patterns, from_spacy
from nblabel.text import codepoint_to_utf16, utf16_length, utf16_to_codepoint

NER_MANIFEST = Path(__file__).resolve().parents[2] / "data" / "manifests" / "ner.manifest"
CREATED = "2024-05-06T07:08:09.101112"
UNICODE = "Olá 👋 — Zoë met 李雷 in Zürich 🇨🇭 on 2024-02-29."
LABELS = ["Person", "Place", "Date"]


def ent(label: str, start: int, end: int) -> dict:
    return {"label": label, "startOffset": start, "endOffset": end}


def gt_lines() -> list[dict]:
    return [json.loads(line) for line in NER_MANIFEST.read_text(encoding="utf-8").splitlines()]


# -- validation ---------------------------------------------------------------------------------


def test_valid_answers_come_back_sorted_and_canonical() -> None:
    task = NamedEntities(LABELS)
    value = [ent("Place", 22, 28), {**ent("Person", 8, 11), "confidence": 0.5}]
    assert task.validate(value, "k", source=UNICODE) == [ent("Person", 8, 11), ent("Place", 22, 28)]
    assert task.validate([], "k", source=UNICODE) == []
    # adjacent entities are fine
    assert task.validate([ent("Person", 0, 3), ent("Place", 3, 4)], source=UNICODE) == [
        ent("Person", 0, 3),
        ent("Place", 3, 4),
    ]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("Zoë", r"item k: an answer is a list of entities"),
        ([ent("Thing", 0, 3)], r"item k: entity 0: 'Thing' is not one of the labels"),
        ([ent("Person", 3, 3)], r"item k: entity 0: offsets 3:3 are not 0 <= start < end"),
        ([ent("Person", -1, 3)], r"not 0 <= start < end"),
        ([{"label": "Person", "startOffset": 1.0, "endOffset": 3}], r"startOffset must be an integer"),
        ([{"label": "Person", "startOffset": True, "endOffset": 3}], r"startOffset must be an integer"),
        ([ent("Date", 40, 60)], r"item k: entity 0: offsets 40:60 fall outside the text \(46 characters\)"),
        ([ent("Place", 8, 11), ent("Place", 8, 11)], r"item k: entity given twice: Place 8:11 \('Zoë'\)"),
    ],
)
def test_bad_answers_are_refused_with_a_reason_naming_the_item(value: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        NamedEntities(LABELS).validate(value, "k", source=UNICODE)


def test_labels_are_checked_and_take_gt_label_category_dicts() -> None:
    with pytest.raises(ValueError, match="at least one label"):
        NamedEntities([])
    with pytest.raises(ValueError, match="unique"):
        NamedEntities(["a", "a"])
    task = NamedEntities([{"label": "Date", "shortDisplayName": "dt"}, "Org"])
    assert task.labels == ["Date", "Org"]
    label, _ = task.to_gt([], confidence=None, human=True, job_name="ner", created=CREATED)
    assert label["annotations"]["labels"] == [{"label": "Date", "shortDisplayName": "dt"}, {"label": "Org"}]


# -- Ground Truth's text-span output -------------------------------------------------------------


def test_to_gt_matches_the_shape_gt_writes() -> None:
    reference = gt_lines()[0]
    task = NamedEntities(reference["ner"]["annotations"]["labels"])
    ours = task.validate(
        [ent("Date", 33, 46), ent("Org", 50, 56), ent("Verb", 21, 29)], source=reference["source"]
    )
    label, meta = task.to_gt(ours, confidence=None, human=True, job_name="ner", created=CREATED)
    assert list(label) == ["annotations"]
    assert list(label["annotations"]) == list(reference["ner"]["annotations"])  # labels, entities
    assert label["annotations"]["labels"] == reference["ner"]["annotations"]["labels"]
    assert [list(e) for e in label["annotations"]["entities"]] == [["label", "startOffset", "endOffset"]] * 3
    assert list(meta) == list(reference["ner-metadata"])  # entities, job-name, type, creation-date, ...
    assert meta == {
        "entities": [{"confidence": 0.0}] * 3,  # one person: confidence 0, as GT writes it
        "job-name": "labeling-job/ner",
        "type": "groundtruth/text-span",
        "creation-date": CREATED,
        "human-annotated": "yes",
    }
    _, auto_meta = task.to_gt(ours, confidence=0.876, human=False, job_name="ner", created=CREATED)
    assert auto_meta["entities"] == [{"confidence": 0.88}] * 3
    assert auto_meta["human-annotated"] == "no"
    for e in label["annotations"]["entities"]:
        assert reference["source"][e["startOffset"] : e["endOffset"]] in (
            "November 2017",
            "Amazon",
            "launched",
        )


def test_gt_output_reads_back_with_its_overlaps(caplog: pytest.LogCaptureFixture) -> None:
    lines = gt_lines()
    first = lines[0]
    task = NamedEntities(first["ner"]["annotations"]["labels"])
    with caplog.at_level(logging.WARNING, logger="nblabel.tasks.entities"):
        back = task.from_gt(first["ner"], source=first["source"], item="row0")
        twice = task.from_gt(
            {"entities": [ent("Product", 7, 16), ent("Product", 7, 16)]}, source=first["source"], item="row0"
        )
    # GT allows the nested "Amazon SageMaker" / "SageMaker": both are kept, sorted.
    assert ent("Product", 0, 16) in back
    assert ent("Product", 7, 16) in back
    assert back == sorted(back, key=lambda e: (e["startOffset"], e["endOffset"]))
    assert twice == [ent("Product", 7, 16)]
    assert "item row0: dropped Product 7:16 ('SageMaker'), given twice" in caplog.text
    # a worker answer ({"entities": [...]}) reads too
    answer = {"entities": [{"endOffset": 6, "label": "Org", "startOffset": 0}]}
    assert task.from_gt(answer, source=first["source"]) == [ent("Org", 0, 6)]
    unicode_line = lines[1]
    people = NamedEntities(["Person", "Place", "Date"]).from_gt(
        unicode_line["ner"], source=unicode_line["source"]
    )
    assert [unicode_line["source"][e["startOffset"] : e["endOffset"]] for e in people] == [
        "Zoë",
        "李雷",
        "Zürich",
        "2024-02-29",
    ]


def test_a_job_writes_what_it_reads() -> None:
    df = pd.DataFrame({"source": [UNICODE, "Nothing here."]})
    job = nl.Job("ner", df, NamedEntities(LABELS))
    job.label(0, [ent("Place", 22, 28), ent("Person", 8, 11)])
    job.label(1, [])
    out = job.to_dataframe()
    assert out.at[0, "ner"]["annotations"]["entities"] == [ent("Person", 8, 11), ent("Place", 22, 28)]
    assert out.at[1, "ner"]["annotations"]["entities"] == []
    assert out.at[1, "ner-metadata"]["entities"] == []
    again = NamedEntities(LABELS).from_gt(out.at[0, "ner"], source=UNICODE)
    assert again == [ent("Person", 8, 11), ent("Place", 22, 28)]
    with pytest.raises(ValueError, match=r"entity 0: offsets 0:99 fall outside the text"):
        job.label(1, [ent("Place", 0, 99)])
    # Overlapping and nested entities are kept as given, through to_dataframe().
    job.label(1, [ent("Place", 2, 6), ent("Person", 0, 12), ent("Place", 0, 4)])
    assert job.to_dataframe().at[1, "ner"]["annotations"]["entities"] == [
        ent("Place", 0, 4),
        ent("Person", 0, 12),
        ent("Place", 2, 6),
    ]


# -- offsets --------------------------------------------------------------------------------------

TEXTS = [
    UNICODE,
    "北京市\t上海",
    "e\u0301te\u0301\r\nsecond line\r\n",
    "👩‍💻 codes; 🇨🇭 flag 𠀀",
    "",
]


@pytest.mark.parametrize("text", TEXTS)
def test_offsets_round_trip_between_code_points_and_utf16(text: str) -> None:
    units = text.encode("utf-16-le")
    assert utf16_length(text) == len(units) // 2
    for c in range(len(text) + 1):
        u = codepoint_to_utf16(text, c)
        assert units[: 2 * u].decode("utf-16-le") == text[:c]
        assert utf16_to_codepoint(text, u) == c


@given(st.text(max_size=30))
def test_offsets_round_trip_on_any_text(text: str) -> None:
    for c in range(len(text) + 1):
        assert utf16_to_codepoint(text, codepoint_to_utf16(text, c)) == c


def test_offsets_outside_or_inside_a_character_are_refused() -> None:
    with pytest.raises(ValueError, match="splits the character"):
        utf16_to_codepoint("a😀b", 2)
    with pytest.raises(ValueError, match="outside the text's 4 UTF-16 units"):
        utf16_to_codepoint("a😀b", 5)
    with pytest.raises(ValueError, match="outside the text's 3 code points"):
        codepoint_to_utf16("a😀b", 4)


def test_reading_offsets_that_miss_their_text_warns_and_keeps_the_line(tmp_path: Path) -> None:
    # In "👋 Zoë" the name is 3:6 in UTF-16 units (the emoji takes two) but 2:5 in code points.
    text = "👋 Zoë"
    line = {
        "source": text,
        "ner": {"annotations": {"entities": [{"label": "Person", "startOffset": 3, "endOffset": 6}]}},
        "ner-metadata": {"type": "groundtruth/text-span", "entities": [{"confidence": 0}]},
    }
    (problem,) = check_line(line)
    assert (
        "entity 0 offsets 3:6 fall outside the text (5 characters); they fit its length in UTF-16" in problem
    )
    path = tmp_path / "utf16.manifest"
    path.write_text(json.dumps(line, ensure_ascii=False) + "\n", encoding="utf-8")
    with pytest.warns(ManifestWarning, match=re.escape(f"{path}, line 1: ner: entity 0 offsets 3:6")):
        df = read_manifest(path)
    assert len(df) == 1 and df.at[0, "ner"] == line["ner"]  # kept as it was
    assert utf16_to_codepoint(text, 3) == 2 and text[2:5] == "Zoë"


# -- pre-annotations --------------------------------------------------------------------------------


def test_pre_annotations_from_an_attribute_a_dictionary_and_patterns() -> None:
    lines = gt_lines()
    df = pd.DataFrame(lines[:2])
    task = NamedEntities(
        ["Person", "Place", "Date", "Org", "Product", "Verb"],
        pre_annotate=[
            from_attribute("ner"),
            from_dictionary({"Place": ["Zürich", "Zur"], "Zoë": "Person"}),
            from_patterns({"Date": r"\d{4}-\d{2}-\d{2}", "Org": r"by (?P<entity>[A-Z]\w+)"}),
        ],
    )
    job = nl.Job("pre", df, task, attribute="checked")
    value, confidence = job.proposal(0)
    # the attribute's entities with GT's nesting kept ("SageMaker" inside "Amazon SageMaker"), the
    # later pre-annotators' where they overlap none of them, GT's 0 confidence read as 1
    assert [(e["label"], e["startOffset"], e["endOffset"]) for e in value] == [
        ("Product", 0, 16),
        ("Product", 7, 16),
        ("Verb", 21, 29),
        ("Date", 33, 46),
        ("Org", 50, 56),
    ]
    assert [e["confidence"] for e in value] == [0.86, 0.5, 0.77, 0.91, 1.0]
    assert confidence == 0.5
    value, _ = job.proposal(1)
    text = lines[1]["source"]
    assert [(e["label"], text[e["startOffset"] : e["endOffset"]]) for e in value] == [
        ("Person", "Zoë"),
        ("Person", "李雷"),
        ("Place", "Zürich"),
        ("Date", "2024-02-29"),
    ]
    # the feed sends proposals with the items; accepting one stores it without confidences
    items, _ = job.feed().payloads([1])
    assert items[0]["proposal"]["value"] == value
    stored = job.label(1, items[0]["proposal"]["value"])
    assert stored.value == [{k: e[k] for k in ("label", "startOffset", "endOffset")} for e in value]


def test_dictionary_matches_whole_words_only_and_prefers_longer_names() -> None:
    annotate = from_dictionary({"Place": ["York", "New York"], "Person": ["Ann"]}, case_sensitive=False)
    text = "Anna moved from new york to York; ann stayed."
    found = [(e["label"], text[e["startOffset"] : e["endOffset"]]) for e in annotate(text, {})]
    assert found == [("Place", "new york"), ("Place", "York"), ("Person", "ann")]
    with pytest.raises(ValueError, match="not a valid regular expression"):
        from_patterns({"Date": "(unclosed"})


def test_pre_annotations_that_do_not_fit_are_dropped() -> None:
    def sloppy(text: str, line: object) -> list[dict]:
        return [
            ent("Nope", 0, 2),
            ent("Place", 0, 999),
            ent("Place", 0, 3),
            ent("Place", 0, 3),
            ent("Person", 2, 5),
        ]

    task = NamedEntities(LABELS, pre_annotate=sloppy)
    # Unknown labels, offsets past the text and repeats go; one pre-annotator's overlaps stay (GT's).
    assert task.pre_annotation("Olá Zoë", {}) == (
        [{**ent("Place", 0, 3), "confidence": 1.0}, {**ent("Person", 2, 5), "confidence": 1.0}],
        1.0,
    )
    assert NamedEntities(LABELS).pre_annotation("Olá", {}) is None


def test_pre_annotations_are_made_once_per_item() -> None:
    calls = []

    def counting(text: str, line: object) -> list[dict]:
        calls.append(text)
        return [ent("Place", 0, 3)]

    job = nl.Job("once", pd.DataFrame({"source": ["Olá Zoë"]}), NamedEntities(LABELS, pre_annotate=counting))
    for _ in range(3):
        assert job.proposal(0) is not None
    assert calls == ["Olá Zoë"]


def test_spacy_pre_annotations_with_the_offline_model() -> None:
    # nblabel[spacy] is installed by `make install`: no skip, CI must run this
    annotate = from_spacy(labels={"PERSON": "Person", "GPE": "Place", "DATE": "Date"})
    text = "Tim Cook said in London on Monday that 👋 Zoë moved to Zürich."
    task = NamedEntities(LABELS, pre_annotate=annotate)
    value, confidence = task.pre_annotation(text, {})
    found = {(e["label"], text[e["startOffset"] : e["endOffset"]]) for e in value}
    assert {("Person", "Tim Cook"), ("Place", "London"), ("Date", "Monday")} <= found
    assert confidence == 0.5
    with pytest.raises(ImportError, match="cannot load the pipeline"):
        from_spacy("no_such_pipeline_here")


def test_outermost_keeps_the_entities_around_nested_ones() -> None:
    from nblabel.tasks.entities import outermost, overlapping_pairs

    spans = [ent("Org", 0, 6), ent("Product", 0, 16), ent("Product", 7, 16), ent("Date", 20, 24)]
    assert outermost(spans) == [ent("Product", 0, 16), ent("Date", 20, 24)]
    assert overlapping_pairs(spans) == [
        (ent("Org", 0, 6), ent("Product", 0, 16)),
        (ent("Product", 0, 16), ent("Product", 7, 16)),
    ]
    assert overlapping_pairs([ent("Org", 0, 6), ent("Org", 6, 9)]) == []  # adjacent
