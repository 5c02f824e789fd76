"""Each task writes and reads its own GT worker-response ``answerContent``: round trips, GT's
element names and shapes, and the refusals that name what is wrong."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from PIL import Image

import nblabel as nl
from nblabel.formats.gt import worker_responses
from nblabel.store import Annotation
from nblabel.tasks import Task

CLASSES = ["cat", "dog", "bird"]
names = st.lists(st.sampled_from(CLASSES), unique=True)


def round_trip(task: Task, value: Any) -> Any:
    """A stored answer written as GT's answerContent (through JSON, as in a file) and read back."""
    content = json.loads(json.dumps(task.answer_content(value)))
    return task.validate(task.from_answer_content(content))


# -- classification --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("task", "element"),
    [
        (nl.ImageClassification(CLASSES), "crowd-image-classifier"),
        (nl.TextClassification(CLASSES), "crowd-classifier"),
        (nl.ImageClassification(CLASSES, multi_label=True), "crowd-image-classifier-multi-select"),
        (nl.TextClassification(CLASSES, multi_label=True), "crowd-classifier-multi-select"),
    ],
    ids=["image", "text", "image-multi", "text-multi"],
)
@given(chosen=names)
def test_classification_round_trips_under_gts_element(task, element, chosen: list[str]) -> None:
    value = task.validate(chosen if task.multi_label else (chosen or ["cat"])[0])
    content = task.answer_content(value)
    assert task.gt_element == element
    assert content == {element: {"labels": value} if task.multi_label else {"label": value}}
    assert round_trip(task, value) == value


def test_classification_reads_any_element_name_and_refuses_other_shapes() -> None:
    single, multi = nl.TextClassification(CLASSES), nl.TextClassification(CLASSES, multi_label=True)
    assert single.from_answer_content({"sentiment": {"label": "dog"}}) == "dog"  # the template's own name
    assert multi.from_answer_content({"tags": {"labels": ["dog"]}, "note": "x"}) == ["dog"]
    with pytest.raises(ValueError, match=r"expected one answer with 'label' in answerContent, found 0"):
        single.from_answer_content({"tags": {"labels": ["dog"]}})
    with pytest.raises(ValueError, match=r"found 2 in \['a', 'b'\]"):
        single.from_answer_content({"a": {"label": "cat"}, "b": {"label": "dog"}})
    with pytest.raises(ValueError, match="label must be a string, got 3"):
        single.from_answer_content({"a": {"label": 3}})
    with pytest.raises(ValueError, match="labels must be a list of strings"):
        multi.from_answer_content({"a": {"labels": "dog"}})
    with pytest.raises(ValueError, match=r"answerContent must be an object, got \['dog'\]"):
        single.from_answer_content(["dog"])


# -- boxes -----------------------------------------------------------------------------------------


@st.composite
def box_answers(draw: st.DrawFn) -> dict[str, Any]:
    width, height = draw(st.integers(2, 400)), draw(st.integers(2, 400))
    boxes = []
    for _ in range(draw(st.integers(0, 5))):
        left, top = draw(st.integers(0, width - 1)), draw(st.integers(0, height - 1))
        boxes.append(
            {
                "class_id": draw(st.integers(0, len(CLASSES) - 1)),
                "left": left,
                "top": top,
                "width": draw(st.integers(1, width - left)),
                "height": draw(st.integers(1, height - top)),
            }
        )
    return {"image_size": [{"width": width, "height": height, "depth": 3}], "annotations": boxes}


@given(value=box_answers())
def test_boxes_round_trip_with_class_names(value: dict[str, Any]) -> None:
    task = nl.BoundingBox(CLASSES)
    value = task.validate(value)
    content = task.answer_content(value)["boundingBox"]
    assert [b["label"] for b in content["boundingBoxes"]] == [
        CLASSES[b["class_id"]] for b in value["annotations"]
    ]
    assert content["inputImageProperties"] == {
        "height": value["image_size"][0]["height"],
        "width": value["image_size"][0]["width"],
    }
    assert round_trip(task, value) == value


def test_a_box_of_an_unknown_class_is_refused() -> None:
    content = {
        "boundingBox": {
            "boundingBoxes": [{"height": 2, "label": "cow", "left": 0, "top": 0, "width": 2}],
            "inputImageProperties": {"height": 10, "width": 10},
        }
    }
    with pytest.raises(ValueError, match=r"box label 'cow' is not one of \['cat', 'dog', 'bird'\]"):
        nl.BoundingBox(CLASSES).from_answer_content(content)


# -- entities --------------------------------------------------------------------------------------


@st.composite
def entity_answers(draw: st.DrawFn) -> tuple[str, list[dict[str, Any]]]:
    text = draw(st.text(st.characters(codec="utf-8"), min_size=1, max_size=60))
    cuts = sorted(draw(st.sets(st.integers(0, len(text)), max_size=8)))
    entities = []
    for start, end in zip(cuts[::2], cuts[1::2], strict=False):  # disjoint by construction
        if start < end:
            entities.append({"label": draw(st.sampled_from(CLASSES)), "startOffset": start, "endOffset": end})
    return text, entities


@given(drawn=entity_answers())
def test_entities_round_trip_in_code_points(drawn: tuple[str, list[dict[str, Any]]]) -> None:
    text, entities = drawn
    task = nl.NamedEntities(CLASSES)
    value = task.validate(entities, source=text)
    (content,) = task.answer_content(value).values()
    assert task.gt_element == "crowd-entity-annotation"
    assert all(
        list(e) == ["endOffset", "label", "startOffset"] for e in content["entities"]
    )  # GT's key order
    assert task.validate(task.from_answer_content(task.answer_content(value)), source=text) == value


# -- verification ----------------------------------------------------------------------------------


@given(verdict=st.sampled_from(["correct", "incorrect"]), comment=st.text(max_size=40))
def test_verification_keeps_the_comment_as_gts_worker_comment(verdict: str, comment: str) -> None:
    task = nl.LabelVerification("boxes")
    value = task.validate({"verdict": verdict, "comment": comment})
    content = task.answer_content(value)
    assert content["crowd-image-classifier"] == {"label": verdict}
    assert content.get("workerComment") == (value["comment"] or None)
    assert round_trip(task, value) == value


# -- segmentation ----------------------------------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(
    indices=hnp.arrays(
        np.uint8, hnp.array_shapes(min_dims=2, max_dims=2, max_side=12), elements=st.integers(0, 3)
    )
)
def test_masks_round_trip_by_colour(indices: np.ndarray) -> None:
    task = nl.SemanticSegmentation(CLASSES)
    with tempfile.TemporaryDirectory() as folder:
        value = task.validate(task.prepare(indices, "item", Path(folder), "a"))
        content = json.loads(json.dumps(task.answer_content(value)))
        answer = content["crowd-semantic-segmentation"]
        assert answer["labelMappings"] == {
            name: {"color": task.colors[i + 1]} for i, name in enumerate(CLASSES)
        }
        assert answer["inputImageProperties"] == {"height": indices.shape[0], "width": indices.shape[1]}
        assert task.label_file(value) == Path(value["mask"])
        back = task.from_answer_content(content)
    assert back.dtype == np.uint8 and np.array_equal(back, indices)


def test_a_gt_mask_reads_by_colour_and_refuses_what_it_cannot_place(tmp_path: Path) -> None:
    import base64
    import io

    task = nl.SemanticSegmentation(CLASSES)
    rgba = np.zeros((2, 3, 4), dtype=np.uint8)  # transparent: background
    rgba[0, 0] = (255, 0, 0, 255)
    rgba[1, 2] = (0, 0, 255, 255)
    buffer = io.BytesIO()
    Image.fromarray(rgba, mode="RGBA").save(buffer, format="PNG")
    answer = {
        "labeledImage": {"pngImageData": base64.b64encode(buffer.getvalue()).decode()},
        "labelMappings": {"dog": {"color": "#ff0000"}, "bird": {"color": "#0000ff"}},
        "inputImageProperties": {"height": 2, "width": 3},
    }
    assert task.from_answer_content({"mask": answer}).tolist() == [[2, 0, 0], [0, 0, 3]]
    with pytest.raises(ValueError, match=r"the mask is 3x2 pixels, the image 4x2"):
        task.from_answer_content({"mask": {**answer, "inputImageProperties": {"height": 2, "width": 4}}})
    with pytest.raises(ValueError, match=r"class 'cow', which is not among the labels"):
        task.from_answer_content({"mask": {**answer, "labelMappings": {"cow": {"color": "#ff0000"}}}})
    with pytest.raises(ValueError, match=r"pixels of colour #0000ff \(first at x=2, y=1\)"):
        task.from_answer_content({"mask": {**answer, "labelMappings": {"dog": {"color": "#ff0000"}}}})
    with pytest.raises(ValueError, match="pngImageData is not base64"):
        task.from_answer_content({"mask": {**answer, "labeledImage": {"pngImageData": "not base64!"}}})


# -- custom ----------------------------------------------------------------------------------------


@given(
    form=st.dictionaries(
        st.text(min_size=1, max_size=8),
        st.recursive(
            st.none() | st.booleans() | st.integers() | st.text(max_size=8),
            lambda inner: (
                st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3)
            ),
            max_leaves=6,
        ),
        max_size=4,
    )
)
def test_a_custom_answer_is_its_whole_answer_content(form: dict[str, Any]) -> None:
    task = nl.CustomTask("<crowd-form><crowd-input name='c'></crowd-input></crowd-form>")
    assert task.gt_element is None
    assert task.answer_content(form) == form
    assert round_trip(task, form) == form


def test_worker_responses_list_each_persons_answer_with_gts_times() -> None:
    task = nl.TextClassification(CLASSES)
    answers = {
        3: [
            Annotation("k", "a", "ana", "human", "dog", created="2024-02-29T23:59:59.123456"),
            Annotation("k", "a", "bo", "human", "cat", created="2024-03-01T01:00:00+02:00"),
        ],
        4: [],
    }
    assert worker_responses(task, answers) == {
        3: [
            {
                "answerContent": {"crowd-classifier": {"label": "dog"}},
                "submissionTime": "2024-02-29T23:59:59.123Z",
                "workerId": "ana",
            },
            {
                "answerContent": {"crowd-classifier": {"label": "cat"}},
                "submissionTime": "2024-02-29T23:00:00.000Z",
                "workerId": "bo",
            },
        ]
    }


# -- through a job: export, then import into another job ----------------------------------------------


def test_entity_answers_export_and_import_back(tmp_path: Path) -> None:
    texts = pd.DataFrame({"source": ["Zoë met Ann in Zürich 🇨🇭", "nothing here"]})
    job = nl.Job("people", texts, nl.NamedEntities(["Person", "Place"]), store=tmp_path / "a.sqlite")
    zoe = [
        {"label": "Person", "startOffset": 0, "endOffset": 3},
        {"label": "Place", "startOffset": 15, "endOffset": 21},
    ]
    job.label(0, zoe)
    job.label(0, zoe[:1], annotator="bo")
    job.label(1, [], annotator="bo")
    assert job.export(tmp_path / "out").worker_responses == 2
    again = nl.Job("again", texts, nl.NamedEntities(["Person", "Place"]), store=tmp_path / "b.sqlite")
    assert again.import_answers(tmp_path / "out" / "people") == 3
    assert [(a.annotator, a.value) for a in again.answers(0)] == [("ana", zoe), ("bo", zoe[:1])]
    assert [(a.annotator, a.value) for a in again.answers(1)] == [("bo", [])]


def test_a_verification_comment_survives_export_and_import(tmp_path: Path) -> None:
    Image.new("RGB", (20, 10)).save(tmp_path / "a.jpg")
    rows = pd.DataFrame(
        {"source-ref": [str(tmp_path / "a.jpg")], "old": [0], "old-metadata": [{"class-name": "cat"}]}
    )
    job = nl.Job("check", rows, nl.LabelVerification("old"), store=tmp_path / "a.sqlite")
    job.label(0, {"verdict": "incorrect", "comment": "it is a dog"})
    job.export(tmp_path / "out")
    again = nl.Job("again", rows, nl.LabelVerification("old"), store=tmp_path / "b.sqlite")
    assert again.import_answers(tmp_path / "out" / "check") == 1
    assert again.answers(0)[0].value == {"verdict": "incorrect", "comment": "it is a dog"}
