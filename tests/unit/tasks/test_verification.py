"""LabelVerification: verdicts, GT's label-verification output with worker-feedback, what the widget shows."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from PIL import Image

import nblabel as nl


def job(tmp_path: Path, **columns: list) -> nl.Job:
    refs = []
    for i in range(2):
        path = tmp_path / f"v{i}.jpg"
        Image.new("RGB", (200, 100)).save(path)
        refs.append(str(path))
    return nl.Job("verify", pd.DataFrame({"source-ref": refs, **columns}), nl.LabelVerification("old"))


def test_validate() -> None:
    task = nl.LabelVerification("old")
    assert task.validate("correct") == {"verdict": "correct", "comment": ""}
    assert task.validate({"verdict": "incorrect", "comment": "  too wide \n"}) == {
        "verdict": "incorrect",
        "comment": "too wide",
    }
    with pytest.raises(ValueError, match="item k: verdict 'maybe' is not one of"):
        task.validate({"verdict": "maybe"}, "k")
    with pytest.raises(ValueError, match="at most 2000"):
        task.validate({"verdict": "correct", "comment": "x" * 2001})
    with pytest.raises(ValueError, match="must be text"):
        task.validate({"verdict": "correct", "comment": 3})
    assert task.spec() == {
        "type": "groundtruth/label-verification",
        "labels": ["correct", "incorrect"],
        "source": "old",
    }


def test_gt_output_has_class_index_as_string_and_worker_feedback(tmp_path: Path) -> None:
    meta = {"class-name": "cat"}
    j = job(tmp_path, old=[0, 1], **{"old-metadata": [meta, meta]})
    j.label(0, {"verdict": "incorrect", "comment": "it is a dog"})
    j.label(1, "correct")
    out = j.to_dataframe()
    assert out.at[0, "verify"] == "1"
    m = out.at[0, "verify-metadata"]
    assert list(m) == [
        "class-name",
        "confidence",
        "type",
        "job-name",
        "human-annotated",
        "creation-date",
        "worker-feedback",
    ]
    assert m["worker-feedback"] == [{"comment": "it is a dog"}]
    assert m["type"] == "groundtruth/label-verification" and m["class-name"] == "incorrect"
    assert out.at[1, "verify"] == "0" and "worker-feedback" not in out.at[1, "verify-metadata"]
    result = j.export(tmp_path / "exp")
    files = sorted((tmp_path / "exp" / "verify" / "annotations" / "worker-response").rglob("*.json"))
    first = json.loads(files[0].read_text())["answers"][0]["answerContent"]
    assert first == {"crowd-image-classifier": {"label": "incorrect"}, "workerComment": "it is a dog"}
    assert result is not None


def test_what_the_widget_shows(tmp_path: Path) -> None:
    boxes = {
        "image_size": [{"width": 200, "height": 100, "depth": 3}],
        "annotations": [{"class_id": 4, "left": 1.5, "top": 2, "width": 3, "height": 4}],
    }
    j = job(tmp_path, old=[boxes, pd.NA], **{"old-metadata": [{"class-map": {"4": "car"}}, pd.NA]})
    feed = j.feed()
    try:
        items, _ = feed.payloads([0, 1])
    finally:
        feed.close()
    assert items[0]["shown"] == {
        "boxes": [{"left": 1.5, "top": 2.0, "width": 3.0, "height": 4.0, "class_id": 4}],
        "classes": {"4": "car"},
        "image_size": boxes["image_size"],
    }
    assert items[1]["shown"] == {"missing": True}
    task = nl.LabelVerification("old")
    shown = task.item_extras({"old": [1, 0], "old-metadata": {"class-map": {"1": "a", "0": "b"}}}, "x", {})
    assert shown == {"shown": {"class_name": "a, b"}}
    with pytest.raises(ValueError, match=r"reads the manifest attribute\(s\) \['old'\]"):
        nl.Job("v2", pd.DataFrame({"source-ref": ["a.jpg"]}), task)


def test_the_widget_leaves_out_items_without_a_label_and_says_how_many(tmp_path: Path) -> None:
    from recorder import Recorder

    j = job(tmp_path, old=["cat", None])
    w = j.annotate()
    rec = Recorder()
    w.send = rec
    try:
        assert w.title == "verify · 1 of 2 have no 'old' label to verify, left out"
        w._on_custom(w, {"type": "hello", "width": 900}, [])
        [(message, _)] = rec.wait_for("items")
        assert [i["position"] for i in message["items"]] == [0]
        assert message["exhausted"] is True
    finally:
        w.feed.close()
        w.close()
