"""A large image in real JupyterLab 4 and Notebook 7: a downscaled preview first, a sharper crop
when zoomed in.

The 8000x6000 image is made of 4-pixel black and white stripes: the preview the kernel sends
first (about 1000 pixels wide) cannot show them, so the stage shows grey; zoomed in past the
preview's resolution the widget asks the kernel for a ``detail`` crop of the visible rectangle
and draws it on its own canvas over the preview, and the stripes appear there.
"""

from __future__ import annotations

import json
from pathlib import Path

from PIL import Image, ImageDraw
from playwright.sync_api import expect

from tests.harness.widgets import cells, widget

SIZE = (8000, 6000)
STRIPE = 4  # pixels per stripe: far below one preview pixel (about 8 original pixels)

# The grey levels along the middle row of a canvas (its own pixels), min and max.
ROW_RANGE = """
(c) => {
  const y = Math.floor(c.height / 2);
  const px = c.getContext('2d').getImageData(0, y, c.width, 1).data;
  const greys = [];
  for (let i = 0; i < px.length; i += 4) if (px[i + 3] === 255) greys.push(px[i]);
  return [Math.min(...greys), Math.max(...greys), greys.length];
}
"""


def make_striped(folder: Path) -> str:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"stripes_{SIZE[0]}x{SIZE[1]}.png"
    if not path.exists():
        img = Image.new("L", SIZE, 0)
        draw = ImageDraw.Draw(img)
        for x in range(0, SIZE[0], 2 * STRIPE):
            draw.rectangle([x, 0, x + STRIPE - 1, SIZE[1] - 1], fill=255)
        img.save(path)  # PNG: the stripes stay exact
    return str(path)


def test_zooming_in_draws_a_sharper_crop_of_the_visible_rect(notebook, jupyter):
    ref = make_striped(jupyter.root_dir / "large")
    nb = notebook(cells(f"sharp-{jupyter.app}", [ref], "nl.BoundingBox(['thing'])"))
    nb.run_cell(0)
    nb.run_cell(1)
    root = widget(nb)
    stage = root.get_by_test_id("nbl-viewport")
    image = root.get_by_test_id("nbl-vp-image")
    expect(root).to_have_attribute("data-state", "item")
    preview = json.loads(stage.get_attribute("data-preview"))
    assert preview["width"] <= 2048 and preview["width"] * SIZE[1] == preview["height"] * SIZE[0], preview

    # Fitted: the preview alone, grey where the stripes are.
    root.click(position={"x": 5, "y": 5})
    nb.page.evaluate("() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))")
    low, high, n = image.evaluate(ROW_RANGE)
    assert n > 100 and high - low < 80, (low, high, n)
    assert stage.get_attribute("data-detail") is None

    # Zoom in with + until an original pixel is at least a CSS pixel wide.
    for _ in range(30):
        if int(root.get_attribute("data-zoom")) >= 100:
            break
        nb.page.keyboard.press("+")
    assert int(root.get_attribute("data-zoom")) >= 100, root.get_attribute("data-zoom")
    # Crops asked for on the way in may arrive first: wait for the one of the final view.
    nb.page.wait_for_function(
        """(root) => {
          const el = root.querySelector('[data-testid=nbl-viewport]');
          if (!el.dataset.detail) return false;
          const { rect } = JSON.parse(el.dataset.detail);
          const view = JSON.parse(root.dataset.view);
          return Math.abs(rect.left + view.x / view.scale) <= 1 && Math.abs(rect.top + view.y / view.scale) <= 1;
        }""",
        arg=root.element_handle(),
        timeout=30_000,
    )
    detail = json.loads(stage.get_attribute("data-detail"))
    rect = detail["rect"]
    view = json.loads(root.get_attribute("data-view"))
    box = stage.bounding_box()
    # The crop is the visible rectangle of the image...
    left, top = -view["x"] / view["scale"], -view["y"] / view["scale"]
    assert abs(rect["left"] - left) <= 1 and abs(rect["top"] - top) <= 1, (rect, view)
    assert abs(rect["width"] - box["width"] / view["scale"]) <= 2, (rect, view, box)
    # ...with far more pixels than the preview has for it (the screen's, at most the original's).
    preview_px = rect["width"] * preview["width"] / SIZE[0]
    assert detail["width"] >= 4 * preview_px, (detail, preview_px)
    assert detail["width"] <= rect["width"], detail

    # And it is what the crop's canvas shows over the preview: the stripes, black and white.
    crop = root.get_by_test_id("nbl-vp-detail")
    expect(crop).to_be_visible()
    shown = crop.bounding_box()  # moved and scaled over the visible rectangle
    assert all(abs(shown[k] - box[k]) <= 2 for k in ("x", "y", "width", "height")), (shown, box)
    low, high, n = crop.evaluate(ROW_RANGE)
    assert n > 100 and low < 40 and high > 215, (low, high, n)
