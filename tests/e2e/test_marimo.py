"""nblabel's widgets in marimo (#23): a real ``marimo run`` server driven by chromium.

The widgets are anywidgets, which marimo shows through ``mo.ui.anywidget``: classification and
boxes are answered by keyboard on the focused widget, the answers are in the store, and after a
server restart the app resumes where the person stopped. Then every other widget, each in its own
cell of one app (image classes, segmentation, verification, entities, a Ground Truth worker
template, pairwise, ranking, rating and the review grid): one item answered by keys on the
focused widget while the others keep theirs, the stores checked, a restart resuming each.
"""

from __future__ import annotations

import contextlib
import os
import runpy
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd
from PIL import Image
from playwright.sync_api import expect

import nblabel as nl
from tests.harness.marimo import MarimoServer
from tests.harness.widgets import (
    GT_IMAGE_CLASSIFICATION,
    Stage,
    all_saved,
    focus,
    make_images,
    saved,
    wait_item,
)

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


@contextlib.contextmanager
def _page(browser: Any) -> Iterator[Any]:
    """A page in a browser context of its own, closed afterwards."""
    context = browser.new_context()
    try:
        yield context.new_page()
    finally:
        context.close()


def _marimo(notebook: Path) -> MarimoServer:
    """``marimo run`` on ``notebook`` with this checkout's nblabel first on the path."""
    return MarimoServer(
        notebook, {"PYTHONPATH": os.pathsep.join(filter(None, [str(SRC), os.environ.get("PYTHONPATH")]))}
    )


def test_classify_and_boxes_by_keyboard_in_marimo_resume_after_a_restart(
    browser: Any, tmp_path: Path
) -> None:
    refs = make_images(tmp_path / "images", 2, size=(640, 480))
    notebook = tmp_path / "app.py"
    notebook.write_text(APP % refs)
    with _page(browser) as page:
        with _marimo(notebook) as server:
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

        with _marimo(notebook) as server:  # a restart resumes
            page.goto(server.url)
            text, box = _roots(page)
            assert text.get_attribute("data-item-key") == texts.keys[2]
            assert box.get_attribute("data-item-key") == boxes.keys[1]
            focus(text)
            page.keyboard.press("1")
            all_saved(text)
        texts.refresh()
        assert [a.value for k in texts.keys for a in texts.answers(k)] == ["a", "b", "a"]


#: One job per widget, made the same way by the marimo app and by the test (which reads
#: the stores): a module beside the app, which marimo's kernel imports from the app's folder.
JOBS = '''
"""One job per nblabel widget, each in its own store beside this file."""

from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image

import nblabel as nl

HERE = Path(__file__).resolve().parent
IMAGES = {images!r}
TEMPLATE = {template!r}
PROMPTS = pd.DataFrame(
    {{
        "source": ["prompt 0", "prompt 1"],
        "response_a": ["first answer to prompt 0", "first answer to prompt 1"],
        "response_b": ["second answer to prompt 0", "second answer to prompt 1"],
    }}
)
SPECIES = [{{"class-name": "cat"}}, {{"class-name": "dog"}}]


def make(name):
    """The job called ``name``."""
    images = pd.DataFrame({{"source-ref": IMAGES}})
    data, task = {{
        "photos": (images, nl.ImageClassification(["car", "person"])),
        "masks": (images, nl.SemanticSegmentation(["road", "sky"])),
        "checks": (images.assign(species=[0, 1], **{{"species-metadata": SPECIES}}), nl.LabelVerification("species")),
        "notes": (pd.DataFrame({{"source": ["Ann met Bob in Bern", "no one"]}}), nl.NamedEntities(["Person", "Place"])),
        "pets": (images, nl.CustomTask(TEMPLATE)),
        "pairs": (PROMPTS, nl.Pairwise()),
        "ranks": (PROMPTS, nl.Ranking()),
        "rates": (PROMPTS, nl.Rating((1, 5), comment=False, responses=("response_a", "response_b"))),
        "team": (PROMPTS, nl.TextClassification(["cat", "dog"])),
    }}[name]
    return nl.Job(name, data, task, store=HERE / ".nblabel" / f"{{name}}.sqlite", annotator="ana")
'''

#: The keys that answer each item widget's first item, in page order; and what is stored.
ANSWERED = {
    "photos": ("2",),
    "masks": ("2", "r", "Enter"),  # every pixel sky
    "checks": ("2",),  # the label is incorrect
    "notes": ("ArrowRight", "1", "Enter"),  # "Ann" a person
    "pets": ("2", "Control+Enter"),  # Dog, submitted
    "pairs": ("b",),
    "ranks": ("2", "1", "Enter"),
    "rates": ("4", "2", "Enter"),
}
STORED = {
    "photos": "person",
    "checks": {"verdict": "incorrect", "comment": ""},
    "notes": [{"label": "Person", "startOffset": 0, "endOffset": 3}],
    "pets": {"crowd-image-classifier": {"label": "Dog"}},
    "pairs": {"choice": "B"},
    "ranks": {"ordinalRankingDimensions": [{"name": "Overall", "responseRankings": [2, 1]}]},
    "rates": {"ratingDimensions": [{"name": "Overall", "responseRatings": [4, 2]}]},
}


def _cells() -> str:
    """The app: one cell imports, then one cell per widget (the review grid last)."""
    shown = [f"mo.ui.anywidget(jobs.make({name!r}).annotate())" for name in ANSWERED]
    shown.append('mo.ui.anywidget(jobs.make("team").review(disagreements=True))')
    cells = "".join(f"\n\n@app.cell\ndef _(jobs, mo):\n    {expr}\n    return\n" for expr in shown)
    return (
        "import marimo\n\napp = marimo.App()\n\n\n@app.cell\ndef _():\n    import marimo as mo\n\n"
        f"    import jobs\n\n    return jobs, mo\n{cells}"
    )


def _widgets(page: Any) -> tuple[list[Any], Any]:
    """The item widgets' roots in page order, each showing an item, and the review grid's root."""
    roots = page.get_by_test_id("nbl-root")
    expect(roots).to_have_count(len(ANSWERED), timeout=PAGE_MS)
    items = [roots.nth(i) for i in range(len(ANSWERED))]
    for root in items:
        wait_item(root, timeout=PAGE_MS)
    grid = page.get_by_test_id("nbl-review-root")
    expect(grid).to_be_visible(timeout=PAGE_MS)
    return items, grid


def test_every_widget_in_its_own_marimo_cell_keys_on_the_focused_one(browser: Any, tmp_path: Path) -> None:
    refs = make_images(tmp_path / "images", 2, size=(320, 240))
    (tmp_path / "jobs.py").write_text(JOBS.format(images=refs, template=str(GT_IMAGE_CLASSIFICATION)))
    notebook = tmp_path / "widgets.py"
    notebook.write_text(_cells())
    made = runpy.run_path(str(tmp_path / "jobs.py"))["make"]
    team = made("team")  # bo and cy disagree on the first prompt, agree on the second
    for row, (bo, cy) in enumerate([("cat", "dog"), ("dog", "dog")]):
        team.label(row, bo, annotator="bo")
        team.label(row, cy, annotator="cy")
    with _page(browser) as page:
        with _marimo(notebook) as server:
            page.goto(server.url)
            items, grid = _widgets(page)
            shown = [root.get_attribute("data-item-key") for root in items]
            for i, (root, keys) in enumerate(zip(items, ANSWERED.values(), strict=True)):
                focus(root)
                for key in keys:
                    page.keyboard.press(key)
                expect(root).not_to_have_attribute("data-item-key", shown[i])
                all_saved(root)
                shown[i] = root.get_attribute("data-item-key")
                # The keys acted on the focused widget only: every other one shows what it showed.
                assert [r.get_attribute("data-item-key") for r in items] == shown
            tile = grid.get_by_test_id("nbl-review-tile")
            expect(tile).to_have_count(1)
            tile.click(position={"x": 4, "y": 4})  # the corner, off the answer buttons
            page.keyboard.press("2")  # decided: dog
            saved(grid)
            expect(tile).to_have_attribute("data-decided", "true")

        jobs = {name: made(name) for name in ANSWERED}
        for name, job in jobs.items():
            (answer,) = [a for k in job.keys for a in job.answers(k)]
            assert (answer.item, answer.annotator) == (job.keys[0], "ana"), name
            assert name == "masks" or answer.value == STORED[name], name
        with Image.open(jobs["masks"].answers(0)[0].value["mask"]) as png:
            assert png.size == (320, 240) and set(np.unique(np.asarray(png))) == {2}
        team.refresh()
        decided = team.current(0)
        assert (decided.kind, decided.annotator, decided.value) == ("consolidated", "ana", "dog")

        with _marimo(notebook) as server:  # a restart resumes
            page.goto(server.url)
            items, _grid = _widgets(page)
            assert [root.get_attribute("data-item-key") for root in items] == [
                job.keys[1] for job in jobs.values()
            ]
            pairs = items[list(ANSWERED).index("pairs")]
            focus(pairs)
            page.keyboard.press("a")
            all_saved(pairs)
        jobs["pairs"].refresh()
        assert jobs["pairs"].answers(1)[0].value == {"choice": "A"}
