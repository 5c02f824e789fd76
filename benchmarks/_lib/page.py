"""The Python side of a benchmark page: a notebook with a classification job, its widget focused,
actions paced like a person's, mouse drags."""

from __future__ import annotations

import contextlib
import random
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tests.harness import JupyterServer, NotebookPage
from tests.harness.widgets import LABELS, focus, wait_item

__all__ = ["LABELS", "VIEWPORT", "classification_cells", "drag", "notebook_page", "pause", "show_widget"]

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
