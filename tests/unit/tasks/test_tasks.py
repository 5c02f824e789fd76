"""Classification tasks: answer validation and Ground Truth's label + metadata (gt-formats §2.2–2.4)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from nblabel.checks import check_line
from nblabel.tasks import ImageClassification, Task, TextClassification

BIRD_MANIFEST = Path(__file__).resolve().parents[2] / "data" / "gt-bird-job" / "output.manifest"
CREATED = "2024-05-06T07:08:09.101112"


def _bird_metadata_keys() -> list[str]:
    with BIRD_MANIFEST.open(encoding="utf-8") as fh:
        line = json.loads(fh.readline())
    return list(line["birds-open-images-clone-metadata"])


def test_the_reference_manifest_is_there() -> None:
    assert _bird_metadata_keys() == [
        "confidence",
        "job-name",
        "class-name",
        "human-annotated",
        "creation-date",
        "type",
    ]


@pytest.mark.parametrize(
    ("task", "gt_type", "media"),
    [
        (ImageClassification(["a"]), "groundtruth/image-classification", "image"),
        (
            ImageClassification(["a"], multi_label=True),
            "groundtruth/image-classification-multilabel",
            "image",
        ),
        (TextClassification(["a"]), "groundtruth/text-classification", "text"),
        (TextClassification(["a"], multi_label=True), "groundtruth/text-classification-multilabel", "text"),
    ],
)
def test_gt_type_media_and_spec(task: Task, gt_type: str, media: str) -> None:
    assert isinstance(task, Task)
    assert task.gt_type == gt_type
    assert task.media == media
    assert task.family == "classify"
    assert task.spec() == {"type": gt_type, "labels": ["a"]}
    json.dumps(task.spec())  # JSON-able


@pytest.mark.parametrize(
    ("labels", "message"),
    [
        ([], "at least one label"),
        (["cat", ""], "non-empty strings"),
        (["cat", "   "], "non-empty strings"),
        (["cat", 3], "non-empty strings"),
        (["cat", "dog", "cat"], r"repeated: \['cat'\]"),
        (["x" * 257], "256"),
    ],
)
def test_bad_label_lists_are_refused(labels: list, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ImageClassification(labels)


def test_256_character_label_is_allowed() -> None:
    assert ImageClassification(["x" * 256]).labels == ["x" * 256]


def test_repr_names_labels_and_multi_label() -> None:
    assert repr(TextClassification(["a", "b"])) == "TextClassification(['a', 'b'])"
    assert (
        repr(ImageClassification(["a"], multi_label=True)) == "ImageClassification(['a'], multi_label=True)"
    )


def test_single_label_validate() -> None:
    task = ImageClassification(["cat", "dog"])
    assert task.validate("dog", "img/1.jpg") == "dog"
    with pytest.raises(ValueError, match=r"item img/1\.jpg: 'cow' is not one of the labels \['cat', 'dog'\]"):
        task.validate("cow", "img/1.jpg")
    with pytest.raises(ValueError, match=r"\['cat'\] is not one of the labels"):
        task.validate(["cat"], "img/1.jpg")
    with pytest.raises(ValueError, match="None is not one of the labels"):
        task.validate(None)
    with pytest.raises(ValueError, match=r"\{'cat': 1\} is not one of the labels"):
        task.validate({"cat": 1})


def test_multi_label_validate_is_canonical() -> None:
    task = TextClassification(["red", "green", "blue"], multi_label=True)
    assert task.validate(["blue", "red", "blue"], "t") == ["red", "blue"]
    assert task.validate(("green",)) == ["green"]
    assert task.validate({"blue", "green"}) == ["green", "blue"]
    assert task.validate([]) == []
    with pytest.raises(ValueError, match="item t: a multi-label answer is a list of class names, got 'red'"):
        task.validate("red", "t")
    with pytest.raises(ValueError, match="list of class names, got None"):
        task.validate(None)
    with pytest.raises(ValueError, match=r"\['red'\] is not one of the labels"):
        task.validate([["red"]])
    with pytest.raises(
        ValueError, match=r"item t: 'pink' is not one of the labels \['red', 'green', 'blue'\]"
    ):
        task.validate(["red", "pink"], "t")


def test_single_label_to_gt_matches_gt_key_order_and_values() -> None:
    task = ImageClassification(["cat", "dog", "bird"])
    label, meta = task.to_gt("bird", confidence=None, human=True, job_name="pets", created=CREATED)
    assert label == 2
    assert type(label) is int
    assert list(meta) == _bird_metadata_keys()
    assert meta == {
        "confidence": 0.0,
        "job-name": "labeling-job/pets",
        "class-name": "bird",
        "human-annotated": "yes",
        "creation-date": CREATED,
        "type": "groundtruth/image-classification",
    }


def test_text_single_label_has_the_same_shape() -> None:
    task = TextClassification(["negative", "positive"])
    label, meta = task.to_gt("positive", confidence=0.8, human=True, job_name="mood", created=CREATED)
    assert label == 1
    assert list(meta) == _bird_metadata_keys()
    assert meta["type"] == "groundtruth/text-classification"
    assert meta["class-name"] == "positive"
    assert meta["confidence"] == 0.8


def test_auto_label_is_not_human_annotated_and_confidence_is_rounded() -> None:
    task = ImageClassification(["cat", "dog"])
    _, meta = task.to_gt("cat", confidence=0.93456, human=False, job_name="pets", created=CREATED)
    assert meta["human-annotated"] == "no"
    assert meta["confidence"] == 0.93


def test_job_name_prefix_is_not_doubled() -> None:
    task = ImageClassification(["cat"])
    _, meta = task.to_gt("cat", confidence=None, human=True, job_name="labeling-job/pets", created=CREATED)
    assert meta["job-name"] == "labeling-job/pets"


@pytest.mark.parametrize("cls", [ImageClassification, TextClassification])
def test_multi_label_to_gt(cls: type) -> None:
    task = cls(["person", "bicycle", "car", "clothing"], multi_label=True)
    label, meta = task.to_gt(
        task.validate(["person", "clothing", "bicycle"]),
        confidence=0.777,
        human=False,
        job_name="j",
        created=CREATED,
    )
    assert label == [0, 1, 3]
    assert all(type(i) is int for i in label)
    # key order of GT's own multi-label sample (gt-formats §2.4)
    assert list(meta) == [
        "job-name",
        "class-map",
        "human-annotated",
        "creation-date",
        "confidence-map",
        "type",
    ]
    assert meta["class-map"] == {"0": "person", "1": "bicycle", "3": "clothing"}
    assert meta["confidence-map"] == {"0": 0.78, "1": 0.78, "3": 0.78}
    assert meta["human-annotated"] == "no"
    assert meta["job-name"] == "labeling-job/j"
    assert meta["type"] == f"groundtruth/{task.media}-classification-multilabel"
    assert "confidence" not in meta
    assert check_line({"source-ref": "x", "a": label, "a-metadata": meta}) == []


def test_multi_label_none_of_these() -> None:
    task = ImageClassification(["a", "b"], multi_label=True)
    label, meta = task.to_gt([], confidence=None, human=True, job_name="j", created=CREATED)
    assert label == []
    assert meta["class-map"] == {}
    assert meta["confidence-map"] == {}
    assert meta["human-annotated"] == "yes"
