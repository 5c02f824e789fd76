"""The bounding-box widget in real JupyterLab 4 and Notebook 7, driven by mouse and keyboard.

Every drawn box is checked against the original-pixel coordinates the screen position maps to
(read from the stage's view transform) and then against what the kernel stored.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.harness.widgets import Stage, all_saved, cells, stored, widget
from tests.harness.widgets import make_scenes as make_images

LABELS = ["car", "person", "sign"]
PERSON = (0x3C, 0xB4, 0x4B)  # the second class's colour (js/lib/box_paint.js)


def box(class_id: int, a: tuple[int, int], b: tuple[int, int]) -> dict:
    return {
        "class_id": class_id,
        "left": min(a[0], b[0]),
        "top": min(a[1], b[1]),
        "width": abs(b[0] - a[0]),
        "height": abs(b[1] - a[1]),
    }


def assert_image_where_the_view_puts_it(root, stage: Stage, size: tuple[int, int]) -> None:
    """The image canvas (moved and scaled by a transform, not redrawn) covers the rectangle the
    view transform maps the original image to, within a pixel."""
    # The stage places it in its next animation frame: measure after that frame.
    stage.nb.page.evaluate(
        "() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))"
    )
    shown = root.get_by_test_id("nbl-vp-image").bounding_box()
    v, r = stage.view(), stage.rect()
    expected = {
        "x": r["x"] + v["x"],
        "y": r["y"] + v["y"],
        "width": size[0] * v["scale"],
        "height": size[1] * v["scale"],
    }
    assert all(abs(shown[k] - expected[k]) <= 1 for k in expected), (shown, expected)
    # The marks canvas (boxes, handles) covers that rectangle grown by 16 CSS px, cut to the
    # stage: not the whole stage, which a new image's boxes would repaint whole.
    left, top = max(r["x"], expected["x"] - 16), max(r["y"], expected["y"] - 16)
    right = min(r["x"] + r["width"], expected["x"] + expected["width"] + 16)
    bottom = min(r["y"] + r["height"], expected["y"] + expected["height"] + 16)
    marks = root.get_by_test_id("nbl-vp-marks").bounding_box()
    placed = {"x": left, "y": top, "width": right - left, "height": bottom - top}
    assert all(abs(marks[k] - placed[k]) <= 1 for k in placed), (marks, placed)


# The marks canvas's pixel (RGBA) under a page point.
MARK_AT = """
(c, p) => {
  const r = c.getBoundingClientRect();
  const d = devicePixelRatio || 1;
  const x = Math.floor((p[0] - r.left) * d);
  const y = Math.floor((p[1] - r.top) * d);
  return [...c.getContext("2d").getImageData(x, y, 1, 1).data];
}
"""


def assert_edge_drawn(root, stage: Stage, b: dict, color: tuple[int, int, int]) -> None:
    """Box ``b``'s left edge shows in its class colour where the view puts that original pixel
    column, a quarter of the way down (clear of its handles and of the crosshair at the pointer)."""
    point = stage.screen(b["left"], b["top"] + b["height"] / 4)
    rgba = root.get_by_test_id("nbl-vp-marks").evaluate(MARK_AT, list(point))
    assert rgba[3] > 200 and all(abs(rgba[i] - color[i]) < 40 for i in range(3)), (rgba, color)


@pytest.mark.notebook7
def test_draw_resize_move_and_zoom_store_exact_original_pixels(notebook, jupyter):
    refs = make_images(jupyter.root_dir / "scenes", 3)
    nb = notebook(cells(f"boxes-{jupyter.app}", refs, f"nl.BoundingBox({LABELS!r})"))
    nb.run_cell(0)
    nb.run_cell(1)
    root = widget(nb)
    position = root.get_by_test_id("nbl-position")
    expect(position).to_have_text("Image 1 of 3")
    stage = Stage(nb, root)
    root.click(position={"x": 5, "y": 5})
    assert stage.view()["scale"] < 1, "a 1200 px image is fitted, so shown downscaled"
    assert_image_where_the_view_puts_it(root, stage, (1200, 900))
    stage_size = (stage.rect()["width"], stage.rect()["height"])

    # Image 1: two boxes, the second of class "person" (key 2).
    a, b = stage.screen(100.3, 150.2), stage.screen(400.7, 380.1)
    stage.drag(a, b)
    first = box(0, stage.pixel(*a), stage.pixel(*b))
    nb.page.keyboard.press("2")  # the selected (new) box becomes a person, and so will the next
    first["class_id"] = 1
    c, d = stage.screen(700, 500), stage.screen(1100, 850)
    stage.drag(c, d)
    second = box(1, stage.pixel(*c), stage.pixel(*d))
    expect(root.get_by_test_id("nbl-box-info")).to_contain_text("2 boxes · selected: person")
    assert stage.boxes() == [first, second]
    assert_image_where_the_view_puts_it(root, stage, (1200, 900))
    assert_edge_drawn(root, stage, second, PERSON)
    nb.page.keyboard.press("Enter")
    expect(position).to_have_text("Image 2 of 3")
    assert (stage.rect()["width"], stage.rect()["height"]) == stage_size, "the stage keeps its size"
    assert_image_where_the_view_puts_it(root, stage, (1200, 900))

    # Image 2: draw, then resize by the south-east corner, then move by dragging the inside.
    stage.drag(stage.screen(200, 200), stage.screen(500, 400))
    drawn = stage.boxes()[0]
    corner = stage.screen(drawn["left"] + drawn["width"], drawn["top"] + drawn["height"])
    target = (corner[0] + 60.4, corner[1] + 33.3)
    stage.drag(corner, target)
    x1, y1 = stage.pixel(*target)
    resized = {**drawn, "width": x1 - drawn["left"], "height": y1 - drawn["top"]}
    assert stage.boxes() == [resized]
    inside = stage.screen(resized["left"] + 30, resized["top"] + 30)
    moved_to = (inside[0] - 80, inside[1] + 45)
    stage.drag(inside, moved_to)
    start, end = stage.pixel(*inside), stage.pixel(*moved_to)
    # The move is the rounded pointer travel in original pixels.
    v = stage.view()
    dx = round((moved_to[0] - inside[0]) / v["scale"])
    dy = round((moved_to[1] - inside[1]) / v["scale"])
    assert abs((end[0] - start[0]) - dx) <= 1
    moved = {**resized, "left": resized["left"] + dx, "top": resized["top"] + dy}
    assert stage.boxes() == [moved]
    nb.page.keyboard.press("ArrowRight")  # nudge right by one original pixel
    nb.page.keyboard.press("Shift+ArrowDown")  # and down by ten
    moved = {**moved, "left": moved["left"] + 1, "top": moved["top"] + 10}
    assert stage.boxes() == [moved]
    nb.page.keyboard.press("z")  # undo the nudge down ...
    nb.page.keyboard.press("Shift+Z")  # ... and redo it
    assert stage.boxes() == [moved]
    nb.page.keyboard.press("Enter")
    expect(position).to_have_text("Image 3 of 3")

    # Image 3: zoom in around a point with the keyboard and the wheel, draw, fit again.
    nb.page.mouse.move(*stage.screen(600, 450))
    for _ in range(3):
        nb.page.keyboard.press("+")
    nb.page.mouse.wheel(0, -300)
    expect(root).not_to_have_attribute("data-zoom", re.compile(r"^(\d|[1-7]\d)$"))  # past 80%
    zoom = int(root.get_attribute("data-zoom"))
    assert zoom >= 100
    e, f = stage.screen(560.4, 420.2), stage.screen(640.6, 470.9)
    stage.drag(e, f)
    zoomed = box(1, stage.pixel(*e), stage.pixel(*f))
    assert stage.boxes() == [zoomed]
    assert zoomed["width"] >= 79  # a precise small box, drawn at more than 100%
    assert_image_where_the_view_puts_it(root, stage, (1200, 900))
    assert_edge_drawn(root, stage, zoomed, PERSON)
    nb.page.keyboard.press("f")
    expect(root).to_have_attribute("data-zoom", str(round(stage.view()["scale"] * 100)))
    assert stage.view()["scale"] < 1
    assert stage.boxes() == [zoomed], "fitting the view does not move a box"
    nb.page.keyboard.press("Enter")
    all_saved(root)

    out = stored(nb)
    size = [{"width": 1200, "height": 900, "depth": 3}]
    assert out["0"][0] == {"image_size": size, "annotations": [first, second]}
    assert out["1"][0] == {"image_size": size, "annotations": [moved]}
    assert out["2"][0] == {"image_size": size, "annotations": [zoomed]}
    meta = out["0"][1]
    assert meta["type"] == "groundtruth/object-detection"
    assert meta["objects"] == [{"confidence": 0.0}, {"confidence": 0.0}]
    assert meta["class-map"] == {"1": "person"}
    assert meta["human-annotated"] == "yes"
    assert meta["job-name"] == f"labeling-job/boxes-{jupyter.app}"


def test_keys_select_duplicate_delete_and_undo_the_previous_image(notebook, jupyter):
    refs = make_images(jupyter.root_dir / "scenes", 2)
    nb = notebook(cells(f"boxkeys-{jupyter.app}", refs, f"nl.BoundingBox({LABELS!r})"))
    nb.run_cell(0)
    nb.run_cell(1)
    root = widget(nb)
    stage = Stage(nb, root)
    root.click(position={"x": 5, "y": 5})
    nb.page.keyboard.press("3")  # the next box is a sign
    stage.drag(stage.screen(100, 100), stage.screen(300, 300))
    nb.page.keyboard.press("d")  # duplicate: offset by 10 px, selected
    boxes = stage.boxes()
    assert len(boxes) == 2 and boxes[1]["left"] == boxes[0]["left"] + 10
    assert all(b["class_id"] == 2 for b in boxes)
    nb.page.keyboard.press("Escape")
    nb.page.keyboard.press("Tab")  # first box
    expect(root).to_have_attribute("data-selected", "0")
    nb.page.keyboard.press("1")  # becomes a car
    nb.page.keyboard.press("Tab")
    nb.page.keyboard.press("Delete")  # the duplicate goes
    assert [b["class_id"] for b in stage.boxes()] == [0]
    nb.page.keyboard.press("Enter")
    expect(root.get_by_test_id("nbl-position")).to_have_text("Image 2 of 2")
    nb.page.keyboard.press("z")  # nothing edited here: takes back image 1's answer
    expect(root.get_by_test_id("nbl-position")).to_have_text(re.compile(r"^Image 1 of 2"))
    assert [b["class_id"] for b in stage.boxes()] == [0], "the answer's boxes come back to edit"
    nb.page.keyboard.press("Enter")
    nb.page.keyboard.press("Enter")  # image 2: no boxes is an answer too
    all_saved(root)
    out = stored(nb)
    assert [a["class_id"] for a in out["0"][0]["annotations"]] == [0]
    assert out["1"][0]["annotations"] == []
    assert out["1"][1]["objects"] == [] and out["1"][1]["class-map"] == {}


def test_pre_annotations_from_a_detector_and_a_corrupt_image(notebook, jupyter):
    refs = make_images(jupyter.root_dir / "scenes", 2)
    corrupt = jupyter.root_dir / "corrupt.jpg"
    corrupt.write_bytes(b"\xff\xd8\xff\xe0 not a jpeg at all")
    refs = [str(corrupt), *refs]
    detector = (
        "def detector(ref):\n"
        "    return [{'label': 'sign', 'left': 50, 'top': 60, 'width': 70, 'height': 80},\n"
        "            {'class_id': 0, 'left': 1000, 'top': 800, 'width': 500, 'height': 500}]\n"
    )
    nb = notebook(cells(f"boxpre-{jupyter.app}", refs, f"nl.BoundingBox({LABELS!r}, pre=detector)", detector))
    nb.run_cell(0)
    nb.run_cell(1)
    root = widget(nb)
    expect(root.get_by_test_id("nbl-error")).to_contain_text("corrupt")
    root.click(position={"x": 5, "y": 5})
    nb.page.keyboard.press("Enter")  # nothing to submit on an error tile
    expect(root.get_by_test_id("nbl-position")).to_have_text("Image 1 of 3")
    nb.page.keyboard.press("s")
    expect(root.get_by_test_id("nbl-position")).to_have_text("Image 2 of 3")
    expect(root.get_by_test_id("nbl-notice")).to_contain_text("2 boxes pre-annotated")
    stage = Stage(nb, root)
    pre = [
        {"class_id": 2, "left": 50, "top": 60, "width": 70, "height": 80},
        {"class_id": 0, "left": 1000, "top": 800, "width": 200, "height": 100},  # clamped to the image
    ]
    assert stage.boxes() == pre
    nb.page.keyboard.press("Enter")  # accept as they are
    expect(root.get_by_test_id("nbl-position")).to_have_text("Image 3 of 3")
    nb.page.keyboard.press("Tab")
    nb.page.keyboard.press("Delete")  # adjust: drop the first
    nb.page.keyboard.press("Enter")
    all_saved(root)
    out = stored(nb)
    assert "0" not in out
    assert out["1"][0]["annotations"] == pre
    assert out["2"][0]["annotations"] == pre[1:]
    assert nb.page.evaluate("() => true")
    expect(root.get_by_test_id("nbl-progress")).to_contain_text("2 labeled · 1 skipped")


def test_adjust_writes_adjustment_status_and_screenshot(notebook, jupyter, screenshot_path):
    refs = make_images(jupyter.root_dir / "scenes", 2)
    earlier = {
        "image_size": [{"width": 1200, "height": 900, "depth": 3}],
        "annotations": [{"class_id": 5, "left": 400, "top": 300, "width": 200, "height": 150}],
    }
    meta = {"class-map": {"5": "car"}, "type": "groundtruth/object-detection"}
    setup = f"df['vehicles'] = [{earlier!r}] * 2\ndf['vehicles-metadata'] = [{meta!r}] * 2\n"
    nb = notebook(
        cells(f"boxadj-{jupyter.app}", refs, f"nl.BoundingBox({LABELS!r}, adjust='vehicles')", setup)
    )
    nb.run_cell(0)
    nb.run_cell(1)
    root = widget(nb)
    stage = Stage(nb, root)
    expect(root.get_by_test_id("nbl-notice")).to_contain_text("from the label being adjusted")
    root.click(position={"x": 5, "y": 5})
    assert stage.boxes() == [{"class_id": 0, "left": 400, "top": 300, "width": 200, "height": 150}]
    nb.page.keyboard.press("Enter")  # unchanged
    expect(root.get_by_test_id("nbl-position")).to_have_text("Image 2 of 2")
    nb.page.keyboard.press("Tab")
    nb.page.keyboard.press("2")  # now a person: adjusted
    stage.drag(stage.screen(700, 100), stage.screen(900, 250))
    expect(root.get_by_test_id("nbl-box-info")).to_contain_text("2 boxes")
    if jupyter.app == "lab":
        nb.page.mouse.move(*stage.screen(820, 500))  # crosshair guides in the picture
        root.screenshot(path=str(screenshot_path("boxes.png")))
    nb.page.keyboard.press("Enter")
    all_saved(root)
    out = stored(nb)
    assert out["0"][1]["adjustment-status"] == "unadjusted"
    assert out["1"][1]["adjustment-status"] == "adjusted"
    assert out["1"][1]["type"] == "groundtruth/object-detection"
    assert out["1"][0]["annotations"][0]["class_id"] == 1


def test_attributes_of_the_selected_box_and_the_image_required_ones_block_enter(notebook, jupyter):
    refs = make_images(jupyter.root_dir / "scenes", 1)
    attributes = {
        "car": [
            {"name": "color", "type": "string", "enum": ["red", "blue"], "isRequired": True},
            {"name": "doors", "type": "number", "minimum": 2, "maximum": 5},
        ],
        "frame": [{"name": "weather", "type": "string", "enum": ["sun", "rain"], "isRequired": True}],
    }
    task = f"nl.BoundingBox({LABELS!r}, attributes={attributes!r})"
    nb = notebook(cells(f"boxattrs-{jupyter.app}", refs, task))
    nb.run_cell(0)
    nb.run_cell(1)
    root = widget(nb)
    stage = Stage(nb, root)
    root.click(position={"x": 5, "y": 5})
    stage.drag(stage.screen(100, 100), stage.screen(300, 300))
    panel = root.get_by_test_id("nbl-attrs-object")
    expect(panel.locator("legend")).to_have_text("Box 1: car")
    expect(root.get_by_test_id("nbl-attrs-frame").locator("legend")).to_have_text("Image attributes")
    # Enter is refused while required attributes are empty, saying which.
    nb.page.keyboard.press("Enter")
    notice = root.get_by_test_id("nbl-notice")
    expect(notice).to_have_text(
        "Not submitted: box 1 (car) needs color; the image needs weather (t goes to the attributes)."
    )
    expect(root.get_by_test_id("nbl-position")).to_have_text("Image 1 of 1")
    # Keyboard: t enters the box's fields, Tab moves on to the image's, Esc gives the keys back.
    nb.page.keyboard.press("t")
    color = panel.get_by_test_id("nbl-attr-color")
    expect(color).to_be_focused()
    color.select_option("blue")
    nb.page.keyboard.press("Tab")
    nb.page.keyboard.type("4")  # a digit in a field is the field's, not a class key
    nb.page.keyboard.press("Tab")
    weather = root.get_by_test_id("nbl-attr-weather")
    expect(weather).to_be_focused()
    weather.select_option("rain")
    nb.page.keyboard.press("Escape")
    expect(root).to_be_focused()
    nb.page.keyboard.press("Enter")
    expect(root.get_by_test_id("nbl-position")).not_to_have_text("Image 1 of 1")
    all_saved(root)
    label = stored(nb)["0"][0]
    assert label["annotations"][0]["class_id"] == 0
    assert label["annotations"][0]["label-category-attributes"] == {"color": "blue", "doors": 4}
    assert label["frame-attributes"] == {"weather": "rain"}
