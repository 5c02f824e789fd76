"""nblabel's widgets in marimo (#23): a real ``marimo run`` server driven by chromium.

The widgets are anywidgets, which marimo shows through ``mo.ui.anywidget``: classification and
boxes are answered by keyboard on the focused widget, the answers are in the store, and after a
server restart the app resumes where the person stopped.
"""

from __future__ import annotations

import os
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pandas as pd
from playwright.sync_api import expect

import nblabel as nl
from tests.harness.marimo import MarimoServer
from tests.harness.widgets import Stage, all_saved, focus, make_images, wait_item

SRC = Path(__file__).resolve().parents[2] / "src"
PAGE_MS = 90_000  # the app's kernel imports nblabel and pandas before the widgets show

APP = """
import marimo

app = marimo.App()


@app.cell
def _():
    import marimo as mo
    import pandas as pd

    import nblabel as nl

    texts = nl.Job("notes", pd.DataFrame({"source": [f"note {i}" for i in range(4)]}), nl.TextClassification(["a", "b"]))
    boxes = nl.Job("scenes", pd.DataFrame({"source-ref": %r}), nl.BoundingBox(["car", "person"]))
    mo.vstack([mo.ui.anywidget(texts.annotate()), mo.ui.anywidget(boxes.annotate())])
    return
"""


def _jobs(folder: Path, refs: list[str]) -> tuple[nl.Job, nl.Job]:
    store = folder / ".nblabel"
    texts = nl.Job(
        "notes",
        pd.DataFrame({"source": [f"note {i}" for i in range(4)]}),
        nl.TextClassification(["a", "b"]),
        store=store / "notes.sqlite",
    )
    boxes = nl.Job(
        "scenes",
        pd.DataFrame({"source-ref": refs}),
        nl.BoundingBox(["car", "person"]),
        store=store / "scenes.sqlite",
    )
    return texts, boxes


def _roots(page: Any) -> tuple[Any, Any]:
    roots = page.get_by_test_id("nbl-root")
    expect(roots).to_have_count(2, timeout=PAGE_MS)
    text, box = roots.nth(0), roots.nth(1)
    wait_item(text, timeout=PAGE_MS)
    wait_item(box, timeout=PAGE_MS)
    return text, box


def test_classify_and_boxes_by_keyboard_in_marimo_resume_after_a_restart(
    browser: Any, tmp_path: Path
) -> None:
    refs = make_images(tmp_path / "images", 2, size=(640, 480))
    notebook = tmp_path / "app.py"
    notebook.write_text(APP % refs)
    pythonpath = os.pathsep.join(filter(None, [str(SRC), os.environ.get("PYTHONPATH")]))
    context = browser.new_context()
    try:
        page = context.new_page()
        with MarimoServer(notebook, {"PYTHONPATH": pythonpath}) as server:
            page.goto(server.url)
            text, box = _roots(page)
            focus(text)
            first = text.get_attribute("data-item-key")
            page.keyboard.press("1")
            expect(text).not_to_have_attribute("data-item-key", first)
            page.keyboard.press("2")
            all_saved(text)

            focus(box)
            stage = Stage(SimpleNamespace(page=page), box)  # Stage drives the mouse of a page
            stage.drag(stage.screen(100, 100), stage.screen(300, 200))
            page.keyboard.press("2")  # the selected box becomes a person
            page.keyboard.press("Enter")
            all_saved(box)

        texts, boxes = _jobs(tmp_path, refs)
        assert [a.value for k in texts.keys for a in texts.answers(k)] == ["a", "b"]
        (answer,) = [a for k in boxes.keys for a in boxes.answers(k)]
        (drawn,) = answer.value["annotations"]
        assert drawn["class_id"] == 1 and abs(drawn["width"] - 200) <= 2 and abs(drawn["height"] - 100) <= 2

        with MarimoServer(notebook, {"PYTHONPATH": pythonpath}) as server:  # a restart resumes
            page.goto(server.url)
            text, box = _roots(page)
            assert text.get_attribute("data-item-key") == texts.keys[2]
            assert box.get_attribute("data-item-key") == boxes.keys[1]
            focus(text)
            page.keyboard.press("1")
            all_saved(text)
        texts.refresh()
        assert [a.value for k in texts.keys for a in texts.answers(k)] == ["a", "b", "a"]
    finally:
        context.close()
