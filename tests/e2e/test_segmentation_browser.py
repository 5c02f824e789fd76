"""The segmentation widget in real JupyterLab 4 and Notebook 7, painted with mouse and keyboard.

Every stored mask is compared pixel by pixel with the one the same integer rules give in Python
(js/lib/mask.js: brush discs stamped along Bresenham lines, half-open scanline polygons, 4-connected
flood fill), from the pointer pixels the widget reports; those pixels are checked against where
the test pointed, through the stage's view transform.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import expect
from scipy import ndimage

from tests.harness.widgets import Stage, all_saved, cells, widget
from tests.harness.widgets import make_scenes as make_images

LABELS = ["road", "car", "sky"]
W, H = 1200, 900

# -- the widget's raster rules, in Python -------------------------------------------------------


def disc_spans(size: int) -> list[int]:
    s = max(1, min(256, size))
    r = s // 2
    spans = []
    for dy in range(-r, r + 1):
        w = -1
        while 4 * ((w + 1) ** 2 + dy * dy) <= s * s:
            w += 1
        spans.append(w)
    return spans


def bresenham(x0: int, y0: int, x1: int, y1: int) -> list[tuple[int, int]]:
    dx, dy = abs(x1 - x0), -abs(y1 - y0)
    sx, sy = (1 if x0 < x1 else -1), (1 if y0 < y1 else -1)
    err, out = dx + dy, []
    while True:
        out.append((x0, y0))
        if (x0, y0) == (x1, y1):
            return out
        e2 = 2 * err
        if e2 >= dy:
            err += dy
            x0 += sx
        if e2 <= dx:
            err += dx
            y0 += sy


def paint_stroke(mask: np.ndarray, stroke: dict) -> None:
    spans = disc_spans(stroke["size"])
    r = (len(spans) - 1) // 2
    points = stroke["points"]
    for (ax, ay), (bx, by) in zip([points[0], *points[:-1]], points, strict=True):
        for cx, cy in bresenham(ax, ay, bx, by):
            for i, w in enumerate(spans):
                y = cy - r + i
                if w >= 0 and 0 <= y < mask.shape[0]:
                    mask[y, max(0, cx - w) : min(mask.shape[1], cx + w + 1)] = stroke["value"]


def fill_polygon(mask: np.ndarray, points: list[list[int]], value: int) -> None:
    height, width = mask.shape
    ys = [p[1] for p in points]
    for y in range(max(0, min(ys)), min(height, max(ys))):
        xs = []
        for (ax, ay), (bx, by) in zip(points, points[1:] + points[:1], strict=True):
            if ay <= y < by or by <= y < ay:
                xs.append(ax + ((y - ay) * (bx - ax)) / (by - ay))
        xs.sort()
        for xa, xb in zip(xs[::2], xs[1::2], strict=True):
            x0, x1 = max(0, math.ceil(xa)), min(width, math.ceil(xb))
            if x1 > x0:
                mask[y, x0:x1] = value


def flood(mask: np.ndarray, x: int, y: int, value: int) -> None:
    regions, _ = ndimage.label(mask == mask[y, x])  # 4-connected by default
    mask[regions == regions[y, x]] = value


# -- driving the widget ----------------------------------------------------------------------------


class Painter(Stage):
    """The stage plus the pixels the widget reports for strokes and polygons."""

    def pixel_floor(self, px: float, py: float) -> tuple[int, int]:
        v, r = self.view(), self.rect()
        return math.floor((px - r["x"] - v["x"]) / v["scale"]), math.floor(
            (py - r["y"] - v["y"]) / v["scale"]
        )

    def stroke(self, points: list[tuple[float, float]]) -> dict:
        """Drag through image points; returns the widget's stroke after checking its pixels."""
        before = self.root.get_attribute("data-stroke")
        screen = [self.screen(x + 0.5, y + 0.5) for x, y in points]
        mouse = self.nb.page.mouse
        mouse.move(*screen[0])
        mouse.down()
        for p in screen[1:]:
            mouse.move(*p, steps=4)
        mouse.up()
        expect(self.root).not_to_have_attribute("data-stroke", before or "")
        stroke = json.loads(self.root.get_attribute("data-stroke"))
        self.check_near(stroke["points"][0], points[0])
        self.check_near(stroke["points"][-1], points[-1])
        return stroke

    def polygon(self, points: list[tuple[int, int]]) -> dict:
        before = self.root.get_attribute("data-polygon")
        for x, y in points:
            self.nb.page.mouse.click(*self.screen(x + 0.5, y + 0.5))
        expect(self.root).to_have_attribute("data-polygon-corners", str(len(points)))
        self.nb.page.keyboard.press("Enter")  # closes the polygon (does not submit)
        expect(self.root).not_to_have_attribute("data-polygon", before or "")
        polygon = json.loads(self.root.get_attribute("data-polygon"))
        for got, want in zip(polygon["points"], points, strict=True):
            self.check_near(got, want)
        return polygon

    def check_near(self, got: list[int], want: tuple[int, int]) -> None:
        """The pixel the widget used is the one pointed at, within the screen's rounding."""
        slack = max(1, math.ceil(1 / self.view()["scale"]))
        assert abs(got[0] - want[0]) <= slack and abs(got[1] - want[1]) <= slack, (got, want, slack)


def stored_masks(nb, job_var: str = "job") -> dict[str, tuple[str, dict]]:
    code = (
        f"_out = {job_var}.to_dataframe()\n_a = {job_var}.attribute\n"
        "print('STATE' + json.dumps({str(i): [l, m] for i, (l, m) in"
        " enumerate(zip(_out[_a], _out[_a + '-metadata'])) if isinstance(m, dict)}))"
    )
    i = nb.add_cell(code)
    nb.run_cell(i)
    match = re.search(r"STATE(\{.*\})", nb.cell_output_text(i))
    assert match, nb.cell_output_text(i)
    return json.loads(match.group(1))


def read_png(path: str) -> np.ndarray:
    with Image.open(path) as img:
        assert img.mode == "P", f"{path} is {img.mode}, not an indexed PNG"
        return np.array(img)


def painted(root) -> int:
    return int(root.get_attribute("data-painted"))


# -- the tests ---------------------------------------------------------------------------------------


@pytest.mark.notebook7
def test_brush_polygon_zoom_flood_and_undo_store_the_exact_mask(notebook, jupyter, screenshot_path):
    refs = make_images(jupyter.root_dir / "scenes", 3)
    nb = notebook(cells(f"seg-{jupyter.app}", refs, f"nl.SemanticSegmentation({LABELS!r})"))
    nb.run_cell(0)
    nb.run_cell(1)
    root = widget(nb)
    position = root.get_by_test_id("nbl-position")
    expect(position).to_have_text("Image 1 of 3")
    stage = Painter(nb, root)
    root.click(position={"x": 5, "y": 5})
    assert stage.view()["scale"] < 1

    # Image 1: a brush stroke of "car", then a "sky" polygon over part of it.
    expected = [np.zeros((H, W), np.uint8) for _ in range(3)]
    nb.page.keyboard.press("2")
    expect(root).to_have_attribute("data-class", "2")
    first = stage.stroke([(150, 200), (400, 260), (620, 240), (700, 500)])
    assert first["size"] == 20 and first["value"] == 2
    paint_stroke(expected[0], first)
    nb.page.keyboard.press("p")
    nb.page.keyboard.press("3")
    poly = stage.polygon([(500, 100), (1000, 150), (900, 700), (560, 600)])
    assert poly["value"] == 3
    fill_polygon(expected[0], poly["points"], 3)
    expect(root).to_have_attribute("data-painted", str(int((expected[0] > 0).sum())))
    if jupyter.app == "lab":
        root.screenshot(path=str(screenshot_path("segmentation.png")))
    nb.page.keyboard.press("Enter")
    expect(position).to_have_text("Image 2 of 3")

    # Image 2: zoom in around a point, paint a thin stroke with a bigger brush, flood a region.
    nb.page.keyboard.press("b")
    nb.page.keyboard.press("1")
    nb.page.mouse.move(*stage.screen(600, 450))
    for _ in range(4):
        nb.page.keyboard.press("+")
    expect(root).not_to_have_attribute("data-zoom", re.compile(r"^(\d|[1-7]\d)$"))  # past 80%
    assert stage.view()["scale"] > 1
    nb.page.keyboard.press("]")
    expect(root).to_have_attribute("data-brush", "25")
    # A closed ring, so the flood fill inside it stays inside.
    ring = stage.stroke([(560, 420), (640, 420), (640, 480), (560, 480), (560, 420)])
    assert ring["size"] == 25
    paint_stroke(expected[1], ring)
    ring_pixels = painted(root)
    assert ring_pixels == int((expected[1] > 0).sum())
    nb.page.keyboard.press("g")
    nb.page.keyboard.press("2")
    nb.page.mouse.click(*stage.screen(600.5, 450.5))
    flood(expected[1], 600, 450, 2)
    expect(root).to_have_attribute("data-painted", str(int((expected[1] > 0).sum())))
    nb.page.keyboard.press("z")  # undo the fill ...
    expect(root).to_have_attribute("data-painted", str(ring_pixels))
    nb.page.keyboard.press("Shift+Z")  # ... and redo it
    expect(root).to_have_attribute("data-painted", str(int((expected[1] > 0).sum())))
    nb.page.keyboard.press("f")
    nb.page.keyboard.press("Enter")
    expect(position).to_have_text("Image 3 of 3")

    # Image 3: everything sky, then an eraser line back to background; undo past the image's
    # first edit takes back image 2's answer, which comes back with its mask.
    nb.page.keyboard.press("3")
    nb.page.keyboard.press("r")
    expect(root).to_have_attribute("data-painted", str(W * H))
    nb.page.keyboard.press("e")
    nb.page.keyboard.press("[")
    nb.page.keyboard.press("[")
    expect(root).to_have_attribute("data-brush", "14")  # 25 - 6 - 5: steps of a quarter
    expected[2][:] = 3
    line = stage.stroke([(100, 800), (1100, 120)])
    assert line["value"] == 0
    paint_stroke(expected[2], line)
    expect(root).to_have_attribute("data-painted", str(int((expected[2] > 0).sum())))
    nb.page.keyboard.press("Enter")
    all_saved(root)
    nb.page.keyboard.press("z")  # nothing edited on the "done" screen: takes back image 3's answer
    expect(position).to_have_text(re.compile(r"^Image 3 of 3"))
    expect(root).to_have_attribute("data-painted", str(int((expected[2] > 0).sum())))
    nb.page.keyboard.press("Enter")
    all_saved(root)

    out = stored_masks(nb)
    assert set(out) == {"0", "1", "2"}
    for row in range(3):
        path, meta = out[str(row)]
        assert path.endswith(".png") and Path(path).is_relative_to(jupyter.root_dir)
        got = read_png(path)
        assert got.shape == (H, W)
        diff = int((got != expected[row]).sum())
        assert diff == 0, f"image {row}: {diff} pixels differ from the expected mask"
    meta = out["0"][1]
    assert meta["type"] == "groundtruth/semantic-segmentation"
    assert meta["internal-color-map"]["0"] == {
        "class-name": "BACKGROUND",
        "confidence": 0.0,
        "hex-color": "#ffffff",
    }
    assert [meta["internal-color-map"][str(i)]["class-name"] for i in (1, 2, 3)] == LABELS
    assert meta["human-annotated"] == "yes"
    assert meta["job-name"] == f"labeling-job/seg-{jupyter.app}"


def gt_mask(path: Path, indices: np.ndarray, colors: list[str]) -> None:
    """A mask as GT writes it: palette PNG, pixel = class index, palette = the hex colours."""
    img = Image.fromarray(indices.astype(np.uint8), mode="P")
    palette = [int(c[i : i + 2], 16) for c in colors for i in (1, 3, 5)]
    img.putpalette(palette + [0] * (768 - len(palette)))
    img.save(path)


def test_adjust_writes_adjustment_status_and_verification_shows_the_mask(notebook, jupyter):
    refs = make_images(jupyter.root_dir / "scenes", 2)
    # GT's earlier masks name the classes in another order: car is 1, road 2.
    cmap = {
        "0": {"class-name": "BACKGROUND", "confidence": 0.9, "hex-color": "#ffffff"},
        "1": {"class-name": "car", "confidence": 0.9, "hex-color": "#2ca02c"},
        "2": {"class-name": "road", "confidence": 0.9, "hex-color": "#1f77b4"},
    }
    colors = ["#ffffff", "#2ca02c", "#1f77b4"]
    old = np.zeros((H, W), np.uint8)
    old[600:, :] = 2
    old[300:500, 200:500] = 1
    masks = []
    for i in range(2):
        path = jupyter.root_dir / f"old-{i}.png"
        gt_mask(path, old, colors)
        masks.append(str(path))
    meta = {"internal-color-map": cmap, "type": "groundtruth/semantic-segmentation", "human-annotated": "yes"}
    setup = f"df['streets-ref'] = {masks!r}\ndf['streets-ref-metadata'] = [{meta!r}] * 2\n"
    task = "nl.SemanticSegmentation(['road', 'car'], adjust='streets-ref')"
    nb = notebook(cells(f"segadj-{jupyter.app}", refs, task, setup))
    nb.run_cell(0)
    nb.run_cell(1)
    root = widget(nb)
    position = root.get_by_test_id("nbl-position")
    expect(position).to_have_text("Image 1 of 2")
    renumbered = np.zeros_like(old)
    renumbered[old == 2] = 1  # road is this task's class 1
    renumbered[old == 1] = 2  # car its class 2
    expect(root).to_have_attribute("data-painted", str(int((renumbered > 0).sum())))
    expect(root.get_by_test_id("nbl-notice")).to_contain_text("Enter accepts it")
    stage = Painter(nb, root)
    root.click(position={"x": 5, "y": 5})
    nb.page.keyboard.press("Enter")  # accepted unchanged
    expect(position).to_have_text("Image 2 of 2")
    nb.page.keyboard.press("2")
    stroke = stage.stroke([(700, 200), (900, 250)])
    changed = renumbered.copy()
    paint_stroke(changed, stroke)
    nb.page.keyboard.press("Enter")
    all_saved(root)

    out = stored_masks(nb)
    assert out["0"][1]["adjustment-status"] == "unadjusted"
    assert out["1"][1]["adjustment-status"] == "adjusted"
    assert np.array_equal(read_png(out["0"][0]), renumbered)
    assert np.array_equal(read_png(out["1"][0]), changed)
    assert out["0"][1]["type"] == "groundtruth/semantic-segmentation"

    # Verify the adjusted masks: the widget overlays them in their colours.
    code = (
        "verify = nl.Job('segverify-"
        + jupyter.app
        + "', job.to_dataframe(), nl.LabelVerification('segadj-"
        + (jupyter.app + "-ref'))\nverify")
    )
    i = nb.add_cell(code)
    nb.run_cell(i)
    vroot = widget(nb, i)
    expect(vroot.get_by_test_id("nbl-under-review")).to_have_text("Mask to verify: road, car")
    vstage = Stage(nb, vroot)
    overlay = vroot.get_by_test_id("nbl-vp-marks")  # the canvas the mask is painted on

    def overlay_rgba(ix: float, iy: float) -> list[int]:
        x, y = vstage.screen(ix, iy)
        box = overlay.bounding_box()
        return overlay.evaluate(
            "(c, p) => { const d = devicePixelRatio || 1;"
            " return [...c.getContext('2d').getImageData(Math.floor(p[0] * d), Math.floor(p[1] * d), 1, 1).data]; }",
            [x - box["x"], y - box["y"]],
        )

    expect(vroot).to_have_attribute("data-zoom", re.compile(r"\d+"))
    x, y = vstage.screen(350, 400)
    box = overlay.bounding_box()
    overlay.evaluate(  # the overlay paints at the next animation frame
        "(c, p) => new Promise((done) => { const look = () => { const d = devicePixelRatio || 1;"
        " const a = c.getContext('2d').getImageData(Math.floor(p[0] * d), Math.floor(p[1] * d), 1, 1).data[3];"
        " if (a > 0) done(); else requestAnimationFrame(look); }; look(); })",
        [x - box["x"], y - box["y"]],
    )
    car = overlay_rgba(350, 400)  # class 2 (car) in this task: #ff7f0e in GT's default colours
    road = overlay_rgba(100, 800)
    background = overlay_rgba(100, 100)
    assert background[3] == 0, background
    assert 100 < car[3] < 160 and abs(car[0] - 0xFF) < 8 and abs(car[1] - 0x7F) < 8, car
    assert 100 < road[3] < 160 and abs(road[2] - 0xB4) < 8, road
