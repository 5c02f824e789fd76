"""The entity widget's Python side, driven without a browser (as test_widget_python.py does)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from recorder import Recorder

import nblabel as nl
from nblabel.tasks.preannotate import from_dictionary
from nblabel.widgets import EntitiesWidget, widget_for

BUNDLE = Path(__file__).resolve().parents[3] / "src" / "nblabel" / "static" / "entities.js"
TEXT = "Olá 👋 — Zoë met 李雷 in Zürich."


def test_widget_for_picks_the_entity_widget_and_it_labels_over_the_protocol() -> None:
    assert BUNDLE.is_file(), f"{BUNDLE} is missing: build it with `npm run build` (or `make js`)"
    task = nl.NamedEntities(["Person", "Place"], pre_annotate=from_dictionary({"Zürich": "Place"}))
    job = nl.Job("w", pd.DataFrame({"source": [TEXT, "second"]}), task)
    w = widget_for(job.feed())
    try:
        assert isinstance(w, EntitiesWidget)
        assert w.labels == ["Person", "Place"] and w.window == 20
        recorder = Recorder()
        w.send = recorder
        w._on_custom(w, {"type": "hello"}, [])
        (items, _), *_ = recorder.wait_for("items")
        first = items["items"][0]
        assert first["text"] == TEXT and first["kind"] == "text"
        assert first["proposal"]["value"] == [
            {"label": "Place", "startOffset": 22, "endOffset": 28, "confidence": 1.0}
        ]
        twice = [
            {"label": "Person", "startOffset": 8, "endOffset": 11},
            {"label": "Person", "startOffset": 8, "endOffset": 11},
        ]
        w._on_custom(w, {"type": "answer", "uid": "u1", "key": first["key"], "value": twice}, [])
        (rejected, _), *_ = recorder.wait_for("rejected")
        assert "entity given twice: Person 8:11 ('Zoë')" in rejected["reason"]
        good = [*twice[:1], {"label": "Place", "startOffset": 22, "endOffset": 28, "confidence": 1.0}]
        w._on_custom(w, {"type": "answer", "uid": "u2", "key": first["key"], "value": good}, [])
        recorder.wait_for("ack")
        assert job.current(0).value == [
            {"label": "Person", "startOffset": 8, "endOffset": 11},
            {"label": "Place", "startOffset": 22, "endOffset": 28},
        ]
    finally:
        w.close()


def test_the_entity_widget_refuses_other_tasks() -> None:
    job = nl.Job("c", pd.DataFrame({"source": ["x"]}), nl.TextClassification(["a"]))
    with pytest.raises(TypeError, match="draws NamedEntities tasks"):
        EntitiesWidget(job.feed())
