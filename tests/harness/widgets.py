"""Driving nblabel's widgets on a :class:`~tests.harness.NotebookPage`: finding them, focusing
them, waiting until the kernel stored every answer, and reading what the kernel holds.

Shared by the browser tests and the latency benchmarks, so both wait for the same states.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw
from playwright.sync_api import expect

from tests.harness.page import NotebookPage

__all__ = [
    "EVIL",
    "GT_IMAGE_CLASSIFICATION",
    "LABELS",
    "Stage",
    "all_saved",
    "cells",
    "focus",
    "job_cells",
    "kernel_json",
    "keys_of",
    "make_images",
    "make_scenes",
    "review",
    "saved",
    "state_of",
    "stored",
    "tile",
    "wait_item",
    "widget",
]

LABELS = ["cat", "dog", "bird"]
# Shown as text, never run: the widgets must not turn data into HTML.
EVIL = '<img src=x onerror="window.__nblabel_pwned = 1"><b>bold</b>'
#: A worker template as Ground Truth publishes it (tests/data/gt-templates: AWS's samples, MIT-0).
GT_IMAGE_CLASSIFICATION = (
    Path(__file__).resolve().parents[1]
    / "data/gt-templates/task-uis__images__image-classification.liquid.html"
)


# --------------------------------------------------------------------------- notebooks


#: The page point of the characters [start, end) (UTF-16) of an entity widget's document, and
#: whether it is visible: evaluate with ``[root element, start, end]``.
TEXT_POINT_JS = """
([root, start, end]) => {
  const doc = root.querySelector('[data-testid=nbl-doc]');
  const walker = document.createTreeWalker(doc, NodeFilter.SHOW_TEXT);
  const range = document.createRange();
  let at = 0, node, placed = 0;
  while ((node = walker.nextNode())) {
    const len = node.data.length;
    if (!(placed & 1) && start <= at + len) { range.setStart(node, start - at); placed |= 1; }
    if (!(placed & 2) && end <= at + len) { range.setEnd(node, end - at); placed |= 2; break; }
    at += len;
  }
  const r = range.getClientRects()[0];
  const frame = doc.getBoundingClientRect();
  return {x: r.left + r.width / 2, y: r.top + r.height / 2, visible: r.bottom < frame.bottom && r.top > frame.top};
}
"""


def job_cells(job: str, data: str, task: str) -> list[str]:
    """Cell 0 makes ``job = nl.Job(job, <data>, <task>)`` (``df`` is the data), cell 1 shows it."""
    return [
        f"import json\nimport pandas as pd\nimport nblabel as nl\ndf = {data}\n"
        f"job = nl.Job({job!r}, df, {task})",
        "job",
    ]


def cells(name: str, refs: list[str], task: str, extra: str = "") -> list[str]:
    """:func:`job_cells` over images: ``df`` has one ``source-ref`` per path, then ``extra`` runs."""
    return job_cells(name, f"pd.DataFrame({{'source-ref': {refs!r}}})\n{extra}".rstrip("\n"), task)


def kernel_json(nb: NotebookPage, code: str, mark: str = "STATE") -> Any:
    """Run ``code`` in a new cell; it prints ``mark`` followed by JSON, which is returned."""
    i = nb.add_cell(code)
    nb.run_cell(i)
    text = nb.cell_output_text(i)
    match = re.search(re.escape(mark) + r"([\[{].*[\]}])", text)
    assert match, f"no {mark} printed: {text!r}"
    return json.loads(match.group(1))


def state_of(nb: NotebookPage, job_var: str = "job") -> dict:
    """Labels and skips as the kernel sees them (run only after every answer is acknowledged)."""
    return kernel_json(
        nb,
        f"_out = {job_var}.to_dataframe()\n"
        f"_attr = {job_var}.attribute\n"
        "print('STATE' + json.dumps({\n"
        "    'labels': {str(i): m['class-name'] for i, m in enumerate(_out[_attr + '-metadata'])"
        " if isinstance(m, dict) and 'class-name' in m},\n"
        "    'multi': {str(i): sorted(m['class-map'].values()) for i, m in"
        " enumerate(_out[_attr + '-metadata']) if isinstance(m, dict) and 'class-map' in m},\n"
        f"    'progress': {job_var}.progress._asdict(),\n"
        "}))",
    )


def stored(nb: NotebookPage, job_var: str = "job") -> dict:
    """The labels and metadata the kernel would write, by row (after every answer is acked)."""
    return kernel_json(
        nb,
        f"_out = {job_var}.to_dataframe()\n_a = {job_var}.attribute\n"
        "print('STATE' + json.dumps({str(i): [l, m] for i, (l, m) in"
        " enumerate(zip(_out[_a], _out[_a + '-metadata'])) if isinstance(m, dict)}))",
    )


def keys_of(nb: NotebookPage) -> list[str]:
    """The item keys of ``job`` in the kernel, in row order."""
    return kernel_json(nb, "import json\nprint('KEYS' + json.dumps(job.keys))", mark="KEYS")


# --------------------------------------------------------------------------- widgets


def widget(nb: NotebookPage, cell: int = 1) -> Any:
    """The item widget's root in the output of ``cell``, once visible."""
    root = nb.cell(cell).get_by_test_id("nbl-root")
    expect(root).to_be_visible()
    return root


def wait_item(root: Any, timeout: float | None = None) -> None:
    """Wait until the widget shows an item (not "Loading…", not "All done"); ``timeout`` in ms."""
    expect(root).to_have_attribute("data-state", "item", timeout=timeout)
    expect(root).to_have_attribute("data-item-key", re.compile(".+"), timeout=timeout)


def focus(root: Any) -> None:
    """Give the widget the keyboard: a click on its header (no button there) focuses the root."""
    root.scroll_into_view_if_needed()
    root.get_by_test_id("nbl-position").click()
    expect(root).to_be_focused()


def all_saved(root: Any, timeout: float | None = None) -> None:
    """Every answer is acknowledged by the kernel (stored); ``timeout`` in ms."""
    expect(root).to_have_attribute("data-unacked", "0", timeout=timeout)


def review(nb: NotebookPage, cell: int = 1) -> Any:
    """The review widget's root in the output of ``cell``, once visible."""
    root = nb.cell(cell).get_by_test_id("nbl-review-root")
    expect(root).to_be_visible()
    return root


def saved(root: Any) -> None:
    """Every review action is acknowledged by the kernel (stored): a verification cell may run (G3)."""
    expect(root).to_have_attribute("data-pending", "0")
    expect(root.get_by_test_id("nbl-review-status")).to_have_text("saved")


def tile(root: Any, row: int, job_keys: list[str]) -> Any:
    """The review tile of ``row``."""
    return root.locator(f'[data-testid="nbl-review-tile"][data-key="{job_keys[row]}"]')


class Stage:
    """An image widget's stage (boxes, masks) as a test drives it: screen points <-> original pixels."""

    def __init__(self, nb: NotebookPage, root: Any) -> None:
        self.nb = nb
        self.root = root
        self.overlay = root.get_by_test_id("nbl-vp-overlay")
        expect(self.overlay).to_be_visible()

    def view(self) -> dict:
        return json.loads(self.root.get_attribute("data-view"))

    def rect(self) -> dict:
        return self.overlay.bounding_box()

    def screen(self, ix: float, iy: float) -> tuple[float, float]:
        """The page point showing original pixel (ix, iy)."""
        v, r = self.view(), self.rect()
        return r["x"] + v["x"] + ix * v["scale"], r["y"] + v["y"] + iy * v["scale"]

    def pixel(self, px: float, py: float) -> tuple[int, int]:
        """The whole original pixel a page point maps to (the widget rounds the same way)."""
        v, r = self.view(), self.rect()
        return round((px - r["x"] - v["x"]) / v["scale"]), round((py - r["y"] - v["y"]) / v["scale"])

    def drag(self, a: tuple[float, float], b: tuple[float, float]) -> None:
        mouse = self.nb.page.mouse
        mouse.move(*a)
        mouse.down()
        mouse.move((a[0] + b[0]) / 2, (a[1] + b[1]) / 2, steps=3)
        mouse.move(*b, steps=3)
        mouse.up()

    def boxes(self) -> list[dict]:
        return json.loads(self.root.get_attribute("data-boxes"))


# --------------------------------------------------------------------------- media


def make_images(folder: Path, n: int, size: tuple[int, int] = (1024, 768)) -> list[str]:
    """n distinct JPEGs, each with its number drawn on it."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n):
        path = folder / f"img{i:03d}.jpg"
        if not path.exists():
            img = Image.new("RGB", size, ((i * 47) % 256, (i * 91) % 256, (i * 13) % 256))
            ImageDraw.Draw(img).text((20, 20), f"image {i}", fill=(255, 255, 255))
            img.save(path, quality=85)
        paths.append(str(path))
    return paths


def make_scenes(folder: Path, n: int, size: tuple[int, int] = (1200, 900)) -> list[str]:
    """n distinct JPEGs with a grid, so a screenshot shows where boxes are."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n):
        path = folder / f"scene{i:02d}_{size[0]}x{size[1]}.jpg"
        if not path.exists():
            img = Image.new("RGB", size, (40 + 30 * i % 200, 90, 140))
            draw = ImageDraw.Draw(img)
            for x in range(0, size[0], 100):
                draw.line([(x, 0), (x, size[1])], fill=(200, 200, 200))
            for y in range(0, size[1], 100):
                draw.line([(0, y), (size[0], y)], fill=(200, 200, 200))
            draw.rectangle([size[0] // 3, size[1] // 3, size[0] // 2, size[1] // 2], fill=(230, 200, 40))
            img.save(path, quality=90)
        paths.append(str(path))
    return paths
