"""Label category and frame attributes (GT's label category configuration) on box answers."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

import nblabel as nl
from nblabel.tasks.attributes import Attribute, LabelAttributes

CONFIG = {
    "document-version": "2020-03-01",
    "labels": [
        {
            "label": "car",
            "categoryAttributes": [
                {"name": "color", "type": "string", "enum": ["red", "blue"], "isRequired": True},
                {"name": "doors", "type": "number", "minimum": 2, "maximum": 5},
            ],
        },
        {"label": "person"},
    ],
    "categoryGlobalAttributes": [{"name": "occluded", "type": "string", "enum": ["yes", "no"]}],
    "frameAttributes": [{"name": "weather", "type": "string", "enum": ["sun", "rain"], "isRequired": True}],
    "instructions": {"shortInstruction": "Box cars and people.", "fullInstruction": "Every one."},
}
SIZE = [{"width": 100, "height": 80, "depth": 3}]


def box(class_id: int, **attrs: object) -> dict:
    out: dict = {"class_id": class_id, "left": 1, "top": 2, "width": 10, "height": 10}
    if attrs:
        out["label-category-attributes"] = attrs
    return out


def test_the_configuration_reads_from_gt_json_and_the_short_spelling(tmp_path: Path) -> None:
    path = tmp_path / "labels.json"
    path.write_text(json.dumps(CONFIG))
    task = nl.BoundingBox.from_label_categories(path)
    assert task.labels == ["car", "person"]
    assert [a.name for a in task.attributes.of_label("car")] == ["color", "doors", "occluded"]
    assert [a.name for a in task.attributes.of_label("person")] == ["occluded"]
    assert task.attributes.frame[0] == Attribute("weather", enum=("sun", "rain"), required=True)
    assert task.instructions.short == "Box cars and people."
    short = LabelAttributes.of({"car": [{"name": "color"}], "frame": [{"name": "weather"}]}, ["car"])
    assert short.spec() == {
        "labels": {"car": [{"name": "color", "type": "string", "isRequired": False}]},
        "global": [],
        "frame": [{"name": "weather", "type": "string", "isRequired": False}],
    }
    with pytest.raises(ValueError, match=r"attributes name labels the task does not have: \['bus'\]"):
        nl.BoundingBox(["car"], attributes={"bus": [{"name": "x"}]})
    with pytest.raises(ValueError, match="attribute 'n': minimum 5 is above maximum 2"):
        nl.BoundingBox(
            ["car"], attributes={"car": [{"name": "n", "type": "number", "minimum": 5, "maximum": 2}]}
        )
    # GT's editsAllowed is "any" (the default) or "none"; the widget gets it with the attribute.
    fixed = nl.BoundingBox(["car"], attributes={"car": [{"name": "c", "editsAllowed": "none"}]})
    assert fixed.attributes.spec()["labels"]["car"][0]["editsAllowed"] == "none"
    with pytest.raises(
        ValueError, match=r"attribute 'c': editsAllowed is one of \('any', 'none'\), got 'some'"
    ):
        nl.BoundingBox(["car"], attributes={"car": [{"name": "c", "editsAllowed": "some"}]})


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (
            {"annotations": [box(0, color="red")]},
            r"item k: frame the required attribute 'weather' is not given",
        ),
        (
            {"annotations": [box(0)], "frame-attributes": {"weather": "sun"}},
            r"item k: box 0: car: the required attribute 'color' is not given",
        ),
        (
            {"annotations": [box(0, color="green")], "frame-attributes": {"weather": "sun"}},
            r"attribute 'color' is one of \['red', 'blue'\], got 'green'",
        ),
        (
            {"annotations": [box(0, color="red", doors=7)], "frame-attributes": {"weather": "sun"}},
            r"box 0: car: attribute 'doors' is at most 5, got 7",
        ),
        (
            {"annotations": [box(1, color="red")], "frame-attributes": {"weather": "sun"}},
            r"box 0: person: unknown attributes \['color'\]",
        ),
    ],
)
def test_answers_breaking_the_attributes_are_refused_naming_them(value: dict, message: str) -> None:
    task = nl.BoundingBox.from_label_categories(CONFIG)
    with pytest.raises(ValueError, match=message):
        task.validate({"image_size": SIZE, **value}, "k")


def test_attributes_go_to_the_output_the_worker_response_and_back() -> None:
    task = nl.BoundingBox.from_label_categories(CONFIG)
    job = nl.Job("attrs", pd.DataFrame({"source-ref": ["a.jpg"]}), task)
    value = {
        "image_size": SIZE,
        "annotations": [box(0, color="blue", doors="4"), box(1, occluded="yes")],
        "frame-attributes": {"weather": "rain"},
    }
    job.label(0, value)
    label = job.to_dataframe().at[0, "attrs"]
    assert label["annotations"][0]["label-category-attributes"] == {"color": "blue", "doors": 4}
    assert label["annotations"][1]["label-category-attributes"] == {"occluded": "yes"}
    assert label["frame-attributes"] == {"weather": "rain"}
    content = task.answer_content(task.validate(value))
    assert content["boundingBox"]["boundingBoxes"][0]["label-category-attributes"] == {
        "color": "blue",
        "doors": 4,
    }
    assert content["boundingBox"]["frame-attributes"] == {"weather": "rain"}
    assert task.from_answer_content(content) == task.validate(value)


def test_consolidation_keeps_the_majority_value_and_coco_carries_them() -> None:
    from nblabel.formats.boxes import to_coco

    task = nl.BoundingBox.from_label_categories(CONFIG)
    job = nl.Job("vote", pd.DataFrame({"source-ref": ["a.jpg"]}), task)
    for who, color, weather in (("ana", "red", "sun"), ("bo", "blue", "rain"), ("cy", "blue", "rain")):
        value = {
            "image_size": SIZE,
            "annotations": [box(0, color=color)],
            "frame-attributes": {"weather": weather},
        }
        job.label(0, value, annotator=who)
    job.consolidate()
    label = job.to_dataframe().at[0, "vote"]
    assert label["annotations"][0]["label-category-attributes"] == {"color": "blue"}
    assert label["frame-attributes"] == {"weather": "rain"}
    coco = to_coco(job.to_dataframe(), "vote")
    assert coco["annotations"][0]["attributes"] == {"color": "blue"}


def test_the_majority_per_attribute_ties_to_the_first_given() -> None:
    from nblabel.consolidate.attributes import majority_attributes

    assert majority_attributes([{"a": 4, "b": "x"}, {"a": "4"}, None, {"a": 4, "b": "y"}]) == {
        "a": 4,
        "b": "x",
    }
    assert majority_attributes([None, {}]) == {}


def test_entity_attributes_go_to_gt_output_spacy_and_consolidation(tmp_path: Path) -> None:
    from nblabel.formats.entities import documents, read_spacy_jsonl, to_spacy_jsonl

    config = {"labels": [{"label": "Org", "categoryAttributes": [{"name": "public", "enum": ["yes", "no"]}]}]}
    task = nl.NamedEntities.from_label_categories(
        {**config, "labels": [*config["labels"], {"label": "Product"}]}
    )
    job = nl.Job("ents", pd.DataFrame({"source": ["Amazon SageMaker"]}), task)
    org = {"label": "Org", "startOffset": 0, "endOffset": 6}
    for who, public in (("ana", "yes"), ("bo", "yes"), ("cy", "no")):
        job.label(0, [{**org, "label-category-attributes": {"public": public}}], annotator=who)
    with pytest.raises(ValueError, match=r"entity 0: Org: attribute 'public' is one of \['yes', 'no'\]"):
        job.label(0, [{**org, "label-category-attributes": {"public": "maybe"}}])
    with pytest.raises(ValueError, match="frame attributes are for box tasks"):
        nl.NamedEntities(["Org"], attributes={"frame": [{"name": "x"}]})
    job.consolidate()
    entities = job.to_dataframe().at[0, "ents"]["annotations"]["entities"]
    assert entities == [{**org, "label-category-attributes": {"public": "yes"}}]
    docs = documents(job.to_dataframe(), "ents")
    to_spacy_jsonl(docs, tmp_path / "e.jsonl")
    assert json.loads((tmp_path / "e.jsonl").read_text())["spans"][0]["attributes"] == {"public": "yes"}
    assert read_spacy_jsonl(tmp_path / "e.jsonl") == docs
    content = task.answer_content(entities)
    assert task.from_answer_content(content) == entities


FRAME = {"frameAttributes": [{"name": "light", "enum": ["day", "night"], "isRequired": True}]}


@pytest.mark.parametrize("multi", [False, True])
def test_classification_frame_attributes_go_to_gt_output_worker_responses_and_consolidation(
    multi: bool, tmp_path: Path
) -> None:
    task = nl.ImageClassification.from_label_categories(
        {"labels": [{"label": "cat"}, {"label": "dog"}], **FRAME}, multi_label=multi
    )
    field = "labels" if multi else "label"
    cls = ["dog"] if multi else "dog"
    job = nl.Job("pets", pd.DataFrame({"source-ref": ["a.jpg", "b.jpg"]}), task, store=tmp_path / "p.sqlite")
    with pytest.raises(ValueError, match=r"item .*: frame the required attribute 'light' is not given"):
        job.label(0, cls)
    with pytest.raises(ValueError, match=r"attribute 'light' is one of \['day', 'night'\], got 'dusk'"):
        job.label(0, {field: cls, "frame-attributes": {"light": "dusk"}})
    for who, light in (("ana", "night"), ("bo", "day"), ("cy", "night")):
        job.label(0, {field: cls, "frame-attributes": {"light": light}}, annotator=who)
    stored = job.current(0).value
    assert stored == {field: cls, "frame-attributes": {"light": "night"}}
    label, meta = job.to_dataframe().loc[0, ["pets", "pets-metadata"]]
    assert label == ([1] if multi else 1)
    assert meta["frame-attributes"] == {"light": "night"}
    content = task.answer_content(stored)
    assert content == {task.gt_element: {field: cls, "frame-attributes": {"light": "night"}}}
    assert task.from_answer_content(content) == stored
    job.export(tmp_path / "out")  # GT's worker responses, read back as the same answers
    fresh = nl.Job("again", job.data, task, store=tmp_path / "a.sqlite")
    assert fresh.import_answers(tmp_path / "out" / "pets") == 3
    assert {a.annotator: a.value for a in fresh.answers(0)} == {a.annotator: a.value for a in job.answers(0)}
    job.consolidate()
    assert job.current(0).kind == "consolidated"
    assert job.current(0).value == {field: cls, "frame-attributes": {"light": "night"}}
    with pytest.raises(ValueError, match="its attributes are frame attributes"):
        nl.TextClassification(["a"], attributes={"a": [{"name": "x"}]})
    # An answer without the class is refused naming the shape; without attributes, a dict is no class.
    with pytest.raises(
        ValueError, match=f"an answer is a class name or {{'{field}': ..., 'frame-attributes'"
    ):
        task.validate({"frame-attributes": {"light": "day"}})
    plain = nl.TextClassification(["a", "b"])
    assert plain.validate("a") == "a"
    with pytest.raises(ValueError, match=r"\{'label': 'a'\} is not one of the labels"):
        plain.validate({"label": "a"})


def test_attributes_read_back_from_coco_and_worker_responses_equal(tmp_path: Path) -> None:
    from nblabel.formats.boxes import from_coco, to_coco

    task = nl.BoundingBox.from_label_categories(CONFIG)
    job = nl.Job("cars", pd.DataFrame({"source-ref": ["a.jpg"]}), task, store=tmp_path / "c.sqlite")
    for who, color in (("ana", "red"), ("bo", "blue")):
        value = {
            "image_size": SIZE,
            "annotations": [box(0, color=color, doors=3), box(1)],
            "frame-attributes": {"weather": "sun"},
        }
        job.label(0, value, annotator=who)
    written = job.to_dataframe()
    df, labels = from_coco(to_coco(written, "cars"), "cars")
    assert labels == task.labels
    read = [b.get("label-category-attributes") for b in df.at[0, "cars"]["annotations"]]
    assert read == [b.get("label-category-attributes") for b in written.at[0, "cars"]["annotations"]]
    assert read == [{"color": "blue", "doors": 3}, None]
    job.export(tmp_path / "out")
    fresh = nl.Job(
        "again", job.data, nl.BoundingBox.from_label_categories(CONFIG), store=tmp_path / "a.sqlite"
    )
    assert fresh.import_answers(tmp_path / "out" / "cars") == 2
    assert {a.annotator: a.value for a in fresh.answers(0)} == {a.annotator: a.value for a in job.answers(0)}
