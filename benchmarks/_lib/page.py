"""The Python side of a benchmark page: a notebook with a classification job, its widget focused,
actions paced like a person's, mouse drags."""

from __future__ import annotations

import contextlib
import random
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from benchmarks._lib.data import make_big_image
from benchmarks._lib.hooks import DRAG_PROBE_JS
from benchmarks._lib.stats import median, p95
from benchmarks._lib.trace import FRAME_MS
from tests.harness import JupyterServer, NotebookPage, launch_browser
from tests.harness.widgets import LABELS, Stage, focus, wait_item

__all__ = [
    "LABELS",
    "VIEWPORT",
    "big_image_stage",
    "classification_cells",
    "drag",
    "drag_table",
    "notebook_page",
    "pause",
    "press_until_painted",
    "show_widget",
]

VIEWPORT = {"width": 1600, "height": 1000}  # a large laptop screen


def classification_cells(
    media: str, name: str, esm: Path | None = None, autolabel: str | None = None
) -> list[str]:
    """The notebook of a classification job over ``images.json`` (paths) or ``texts.json`` in the
    server root: cell 0 makes the job (and, with ``autolabel``, e.g. ``"every=10, interval=1"``,
    starts the background auto-labeler right away), cell 1 displays it. ``esm`` swaps in another
    build of the widget's JavaScript (to measure a patch without touching src/)."""
    column, task = (
        ("source-ref", "ImageClassification") if media == "images" else ("source", "TextClassification")
    )
    swap = ""
    if esm is not None:
        swap = (
            "from nblabel.widgets.classify import ClassifyWidget\n"
            f"ClassifyWidget._esm = Path({str(esm)!r}).read_text()\n"
        )
    return [
        "import json\nfrom pathlib import Path\nimport pandas as pd\nimport nblabel as nl\n"
        + swap
        + f"df = pd.DataFrame({{{column!r}: json.loads(Path({media + '.json'!r}).read_text())}})\n"
        f"job = nl.Job({name!r}, df, nl.{task}({LABELS!r}))"
        + (f"\njob.autolabel({autolabel})" if autolabel else ""),
        "job",
    ]


@contextlib.contextmanager
def notebook_page(
    browser: Any, server: JupyterServer, name: str, cells: list[str], *, timeout: float = 120
) -> Iterator[NotebookPage]:
    """A fresh page (``VIEWPORT``) with notebook ``name`` of these cells opened; its kernel
    session and the page are closed after the block."""
    page = browser.new_page(viewport=VIEWPORT)
    nb = NotebookPage(page, server, timeout=timeout)
    try:
        nb.open(name, cells)
        yield nb
    finally:
        nb.close()
        page.close()


def show_widget(nb: NotebookPage, cell: int = 1, timeout_ms: float = 60_000) -> Any:
    """The item widget in the output of ``cell`` (already run), once it shows an item, focused."""
    root = nb.cell(cell).get_by_test_id("nbl-root")
    root.wait_for(state="visible", timeout=timeout_ms)
    wait_item(root, timeout=timeout_ms)
    focus(root)
    return root


def pause(gap_ms: float, jitter: float = 0.0, rng: random.Random | None = None) -> None:
    """Pacing, a fast human (not synchronisation): ``gap_ms`` ± ``jitter`` × ``gap_ms``, uniform."""
    spread = rng.uniform(-jitter, jitter) if rng is not None and jitter else 0.0
    time.sleep(gap_ms * (1 + spread) / 1000)


def press_until_painted(page: Any, key: str, records: str, timeout_ms: float = 60_000) -> None:
    """Press ``key`` once and wait until the hook's record of it is painted or marked a miss.

    ``records`` is the page expression of the hook's array of key records (``KEY_HOOK_JS``'s
    ``window.__nblBench.records``, ``ENTITY_HOOK_JS``'s ``window.__nblEnt.keys``): the press's
    record is the one past its length before the press."""
    count = page.evaluate(f"() => {records}.length")
    page.keyboard.press(key)
    page.wait_for_function(
        f"(n) => {{ const k = {records}; return k.length > n && (k[n].t_paint !== undefined || k[n].miss); }}",
        arg=count,
        timeout=timeout_ms,
    )


def drag(page: Any, a: tuple[float, float], b: tuple[float, float], moves: int) -> list[float]:
    """Drag the mouse from ``a`` to ``b`` in ``moves`` real moves; the latencies the
    ``DRAG_PROBE_JS`` hook recorded (ms), once at least 90 % of the moves were drawn."""
    page.evaluate("() => { window.__lat = []; }")
    page.mouse.move(*a)
    page.mouse.down()
    for i in range(1, moves + 1):
        t = i / moves
        page.mouse.move(a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t)
    page.mouse.up()
    page.wait_for_function("(n) => window.__lat.length >= n", arg=int(moves * 0.9))
    return page.evaluate("() => window.__lat.slice()")


@contextlib.contextmanager
def big_image_stage(
    setup: str, ready_js: str, make_image: Callable[[Path], Path] = make_big_image
) -> Iterator[Stage]:
    """The image widget that the cell ``setup`` makes as ``job`` (``{ref}`` in it is the path of
    the image ``make_image(folder)`` writes, by default a fresh ``BIG_IMAGE`` JPEG), shown in JupyterLab (with TCP_NODELAY) in a 1280x1000 page of
    headless chromium; yields its stage once ``ready_js`` (a page predicate) holds, with the drag
    probe (``DRAG_PROBE_JS``) installed and the widget focused. Everything stops after the block."""
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="nblabel-stagebench-") as tmp:
        root = Path(tmp)
        ref = make_image(root)
        with JupyterServer("lab", root, nodelay=True) as server, sync_playwright() as pw:
            browser = launch_browser(pw)
            try:
                page = browser.new_page(viewport={"width": 1280, "height": 1000})
                nb = NotebookPage(page, server).open("bench.ipynb", [setup.format(ref=str(ref)), "job"])
                nb.run_cell(0)
                nb.run_cell(1)
                stage = Stage(nb, nb.cell(1).get_by_test_id("nbl-root"))
                page.wait_for_function(ready_js)
                stage.overlay.evaluate(DRAG_PROBE_JS)
                stage.root.click(position={"x": 5, "y": 5})
                yield stage
                nb.close()
            finally:
                browser.close()


def drag_table(all_runs: list[dict[str, list[float]]], cases: Sequence[str], what: str) -> list[str]:
    """Markdown rows: per case (``what``: the first column's name), the moves measured over all
    runs, their median, p95 and max, and whether p95 is within one 60 Hz frame."""
    lines = [
        f"| {what} | moves measured | median ms | p95 ms | max ms | p95 within 16.7 ms |",
        "|---|---|---|---|---|---|",
    ]
    for name in cases:
        xs = [x for r in all_runs for x in r[name]]
        tail = p95(xs)
        lines.append(
            f"| {name} | {len(xs)} | {median(xs):.1f} | {tail:.1f} | {max(xs):.1f} | "
            f"{'yes' if tail <= FRAME_MS else 'no'} |"
        )
    return lines
