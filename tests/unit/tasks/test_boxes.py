"""BoundingBox: validation, GT's object-detection label + metadata, adjust, pre-annotations,
and the widget protocol's box-specific parts (starting boxes, sharper crops), headless."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from PIL import Image
from recorder import Recorder

import nblabel as nl
from nblabel.media import crop_image
from nblabel.tasks.boxes import read_boxes

LABELS = ["dog", "bone", "ball"]
SIZE = [{"width": 500, "height": 400, "depth": 3}]


def answer(*boxes: tuple[int, int, int, int, int], size: list[dict[str, int]] = SIZE) -> dict[str, Any]:
    keys = ("class_id", "left", "top", "width", "height")
    return {"image_size": size, "annotations": [dict(zip(keys, b, strict=True)) for b in boxes]}


def images(tmp_path: Path, n: int = 2, size: tuple[int, int] = (500, 400)) -> list[str]:
    refs = []
    for i in range(n):
        path = tmp_path / f"img{i}.jpg"
        Image.new("RGB", size, (10 * i, 120, 200)).save(path)
        refs.append(str(path))
    return refs


# -- validation ------------------------------------------------------------------------------


def test_validate_rounds_and_clamps_to_the_image() -> None:
    task = nl.BoundingBox(LABELS)
    value = task.validate(
        {
            "image_size": [{"width": 500.0, "height": 400}],
            "annotations": [
                {"class_id": 1, "left": -5.4, "top": 10.6, "width": 30, "height": 500},
                {"label": "ball", "left": 480, "top": 390, "width": 100, "height": 100},
            ],
        }
    )
    assert value == answer((1, 0, 11, 25, 389), (2, 480, 390, 20, 10))
    assert task.validate(json.dumps(value)) == value
    assert task.validate({"image_size": SIZE, "annotations": []}) == answer()


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (answer((3, 0, 0, 10, 10)), "class_id 3 is not an index"),
        (answer((-1, 0, 0, 10, 10)), "class_id -1"),
        (
            {
                "image_size": SIZE,
                "annotations": [{"class_id": True, "left": 0, "top": 0, "width": 1, "height": 1}],
            },
            "integer",
        ),
        (
            {
                "image_size": SIZE,
                "annotations": [{"label": "cat", "left": 0, "top": 0, "width": 1, "height": 1}],
            },
            "'cat'",
        ),
        (answer((0, 600, 0, 10, 10)), "no area inside the 500 x 400 image"),
        (answer((0, 0, 0, -3, 10)), "cannot be negative"),
        (
            {
                "image_size": SIZE,
                "annotations": [{"class_id": 0, "left": 0, "top": "1", "width": 1, "height": 1}],
            },
            "top",
        ),
        ({"annotations": []}, "image_size"),
        ({"image_size": [{"width": 0, "height": 3}], "annotations": []}, "width"),
        ({"image_size": SIZE, "annotations": {}}, "list of boxes"),
        ([1, 2], "a box answer is"),
        ("not json", "JSON object"),
    ],
)
def test_validate_refuses_bad_answers_naming_item_and_box(value: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message) as info:
        nl.BoundingBox(LABELS).validate(value, "img7.jpg")
    assert "item img7.jpg" in str(info.value)


def test_task_arguments_are_checked() -> None:
    with pytest.raises(ValueError, match="at least one label"):
        nl.BoundingBox([])
    with pytest.raises(ValueError, match="not both"):
        nl.BoundingBox(LABELS, adjust="a", pre="b")
    with pytest.raises(TypeError, match="detector"):
        nl.BoundingBox(LABELS, pre=3)  # type: ignore[arg-type]
    assert nl.BoundingBox(LABELS).spec() == {"type": "groundtruth/object-detection", "labels": LABELS}
    assert nl.BoundingBox(LABELS, adjust="a").spec()["adjust"] == "a"


# -- GT output --------------------------------------------------------------------------------


def test_to_gt_matches_gts_documented_line() -> None:
    """The SMDG sms-data-output.md example: same label, same metadata keys in the same order."""
    task = nl.BoundingBox(["dog", "x", "x2", "x3", "x4", "bone"])
    value = answer((0, 111, 134, 61, 128), (5, 161, 250, 30, 30), (5, 20, 20, 30, 30))
    label, meta = task.to_gt(
        value,
        confidence=0.9,
        human=True,
        job_name="identify-dogs-and-toys",
        created="2018-10-18T22:18:13.527256",
    )
    assert label == value and label is not value
    assert list(label["annotations"][0]) == ["class_id", "left", "top", "width", "height"]
    assert list(meta) == ["objects", "class-map", "type", "human-annotated", "creation-date", "job-name"]
    assert meta["objects"] == [{"confidence": 0.9}] * 3
    assert meta["class-map"] == {"0": "dog", "5": "bone"}
    assert meta["type"] == "groundtruth/object-detection"
    assert meta["job-name"] == "labeling-job/identify-dogs-and-toys"
    _, auto = task.to_gt(value, confidence=None, human=False, job_name="j", created="c")
    assert auto["human-annotated"] == "no" and auto["objects"][0] == {"confidence": 0.0}


def test_job_labels_and_writes_the_manifest(tmp_path: Path) -> None:
    job = nl.Job("boxes", pd.DataFrame({"source-ref": images(tmp_path)}), nl.BoundingBox(LABELS))
    job.label(0, answer((1, 10, 20, 30, 40)))
    job.label(1, answer())
    out = job.to_dataframe()
    assert out.at[0, "boxes"] == answer((1, 10, 20, 30, 40))
    assert out.at[0, "boxes-metadata"]["class-map"] == {"1": "bone"}
    assert out.at[1, "boxes"]["annotations"] == []
    nl.write_manifest(out, tmp_path / "out.manifest")
    back = nl.read_manifest(tmp_path / "out.manifest")
    assert back.at[0, "boxes"] == out.at[0, "boxes"]
    with pytest.raises(ValueError, match="class_id 7"):
        job.label(0, answer((7, 0, 0, 5, 5)))


def test_export_writes_gts_bounding_box_worker_responses(tmp_path: Path) -> None:
    job = nl.Job("boxexport", pd.DataFrame({"source-ref": images(tmp_path)}), nl.BoundingBox(LABELS))
    job.label(0, answer((2, 1, 2, 3, 4)))
    result = job.export(tmp_path / "out")
    files = list((tmp_path / "out" / "boxexport" / "annotations" / "worker-response").rglob("*.json"))
    assert len(files) == 1
    content = json.loads(files[0].read_text())["answers"][0]["answerContent"]
    assert content == {
        "boundingBox": {
            "boundingBoxes": [{"height": 4, "label": "ball", "left": 1, "top": 2, "width": 3}],
            "inputImageProperties": {"height": 400, "width": 500},
        }
    }
    assert result is not None


# -- adjust and pre-annotations -----------------------------------------------------------------


def earlier_df(refs: list[str]) -> pd.DataFrame:
    label = {
        "image_size": SIZE,
        "annotations": [{"class_id": 7, "left": 10.5, "top": 20, "width": 30, "height": 40}],
    }
    meta = {"class-map": {"7": "bone"}, "type": "groundtruth/object-detection"}
    return pd.DataFrame({"source-ref": refs, "old": [label, json.dumps(label)], "old-metadata": [meta, meta]})


def test_read_boxes_maps_classes_by_name_and_rounds() -> None:
    label = {
        "image_size": SIZE,
        "annotations": [{"class_id": 7, "left": 10.5, "top": 20, "width": 30, "height": 40}],
    }
    value = read_boxes(label, {"class-map": {"7": "bone"}}, LABELS)
    assert value["annotations"] == [{"class_id": 1, "left": 10, "top": 20, "width": 30, "height": 40}]
    with pytest.raises(ValueError, match="'cat', which is not among the labels"):
        read_boxes(label, {"class-map": {"7": "cat"}}, LABELS, "old")
    with pytest.raises(ValueError, match="not a Ground Truth bounding-box label"):
        read_boxes(3, None, LABELS)


def test_adjust_writes_adjustment_status(tmp_path: Path) -> None:
    job = nl.Job("adj", earlier_df(images(tmp_path)), nl.BoundingBox(LABELS, adjust="old"), attribute="fixed")
    start = read_boxes(job.data.at[0, "old"], job.data.at[0, "old-metadata"], LABELS)
    job.label(0, start)
    job.label(1, answer((1, 10, 20, 31, 40)))
    out = job.to_dataframe()
    assert out.at[0, "fixed-metadata"]["adjustment-status"] == "unadjusted"
    assert out.at[1, "fixed-metadata"]["adjustment-status"] == "adjusted"
    assert out.at[1, "fixed-metadata"]["type"] == "groundtruth/object-detection"
    with pytest.raises(ValueError, match=r"reads the manifest attribute\(s\) \['nope'\]"):
        nl.Job("adj2", earlier_df(images(tmp_path)), nl.BoundingBox(LABELS, adjust="nope"))


def payloads(job: nl.Job, positions: list[int]) -> list[dict[str, Any]]:
    feed = job.feed()
    try:
        return feed.payloads(positions)[0]
    finally:
        feed.close()


def test_items_carry_their_starting_boxes(tmp_path: Path) -> None:
    refs = images(tmp_path)
    adjust = nl.Job("adjfeed", earlier_df(refs), nl.BoundingBox(LABELS, adjust="old"), attribute="new")
    items = payloads(adjust, [0, 1])
    assert items[0]["initial"]["annotations"] == [
        {"class_id": 1, "left": 10, "top": 20, "width": 30, "height": 40}
    ]
    assert items[1]["initial"] == items[0]["initial"], "a JSON string label reads the same"
    assert items[0]["depth"] == 3 and items[0]["original_width"] == 500

    seen = []

    def detector(ref: str) -> list[dict[str, Any]]:
        seen.append(ref)
        return [{"label": "ball", "left": 400, "top": 300, "width": 500, "height": 50, "confidence": 0.7}]

    pre = nl.Job("prefeed", pd.DataFrame({"source-ref": refs}), nl.BoundingBox(LABELS, pre=detector))
    items = payloads(pre, [1])
    assert seen == [refs[1]]
    assert items[0]["initial"] == answer((2, 400, 300, 100, 50)), "clamped to the image"

    def broken(ref: str) -> Any:
        raise RuntimeError("model not loaded")

    bad = nl.Job("prebad", pd.DataFrame({"source-ref": refs}), nl.BoundingBox(LABELS, pre=broken))
    items = payloads(bad, [0])
    assert "initial" not in items[0] and "model not loaded" in items[0]["notice"]
    assert items[0]["buffer"] == 0, "the image is still shown"


def test_sharper_crop_of_a_region(tmp_path: Path) -> None:
    path = tmp_path / "big.png"
    img = Image.new("RGB", (4000, 3000), (0, 0, 255))
    img.paste((255, 0, 0), (2000, 1000, 2100, 1100))
    img.save(path)
    crop = crop_image(str(path), (2000, 1000, 2200, 1200), 400, 400)
    assert (crop.width, crop.height, crop.original_width, crop.original_height) == (400, 400, 4000, 3000)
    with Image.open(io.BytesIO(crop.data)) as got:
        assert got.size == (400, 400)
        r, _, b = got.convert("RGB").getpixel((50, 50))
        assert r > 200 and b < 60, "the red square is in the crop's top-left quarter"
        r, _, b = got.convert("RGB").getpixel((350, 350))
        assert b > 200 and r < 60


def test_widget_serves_detail_crops(tmp_path: Path) -> None:
    pytest.importorskip("anywidget")
    job = nl.Job(
        "detail", pd.DataFrame({"source-ref": images(tmp_path, 1, (2000, 1500))}), nl.BoundingBox(LABELS)
    )
    widget = job.annotate()
    assert type(widget).__name__ == "BoxesWidget"
    recorder = Recorder()
    widget.send = recorder
    try:
        key = job.keys[0]
        rect = {"left": 100, "top": 200, "width": 300, "height": 150}
        widget._on_custom(
            widget, {"type": "detail", "key": key, "rect": rect, "width": 600, "height": 300}, []
        )
        [(message, buffers)] = recorder.wait_for("detail")
        assert message == {"type": "detail", "key": key, "rect": rect, "mime": "image/jpeg"}
        with Image.open(io.BytesIO(buffers[0])) as got:
            assert got.size == (600, 300)
        big = [{"width": 2000, "height": 1500, "depth": 3}]
        widget._on_custom(
            widget,
            {"type": "answer", "uid": "u1", "key": key, "value": answer((0, 1, 1, 5, 5), size=big)},
            [],
        )
        recorder.wait_for("ack")
        assert job.current(0).value["annotations"][0]["left"] == 1
        widget._on_custom(
            widget,
            {"type": "answer", "uid": "u2", "key": key, "value": answer((9, 1, 1, 5, 5), size=big)},
            [],
        )
        [(rejected, _)] = recorder.wait_for("rejected")
        assert "class_id 9" in rejected["reason"]
        widget._on_custom(  # drawn for another size than the image's: refused, not clamped to it
            widget, {"type": "answer", "uid": "u3", "key": key, "value": answer((0, 1, 1, 5, 5))}, []
        )
        rejected = recorder.wait_for("rejected", count=2)[-1][0]
        assert "is for a 500x400 image, but the image is 2000x1500" in rejected["reason"]
        assert not job.log.has("u3")
    finally:
        widget.close()
