"""The label-verification widget in real JupyterLab 4 and Notebook 7: verdicts, comments, GT fields."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.harness.widgets import all_saved, cells, stored, widget
from tests.harness.widgets import make_scenes as make_images


def test_verify_boxes_with_comments_writes_label_verification(notebook, jupyter, screenshot_path):
    refs = make_images(jupyter.root_dir / "scenes", 3)
    boxes = {
        "image_size": [{"width": 1200, "height": 900, "depth": 3}],
        "annotations": [
            {"class_id": 0, "left": 400, "top": 300, "width": 200, "height": 150},
            {"class_id": 1, "left": 700, "top": 100, "width": 150, "height": 300},
        ],
    }
    meta = {"class-map": {"0": "car", "1": "person"}, "type": "groundtruth/object-detection"}
    setup = f"df['vehicles'] = [{boxes!r}] * 3\ndf['vehicles-metadata'] = [{meta!r}] * 3\n"
    nb = notebook(cells(f"verify-{jupyter.app}", refs, "nl.LabelVerification('vehicles')", setup))
    nb.run_cell(0)
    nb.run_cell(1)
    root = widget(nb)
    position = root.get_by_test_id("nbl-position")
    expect(position).to_have_text("Image 1 of 3")
    expect(root.get_by_test_id("nbl-under-review")).to_have_text("2 boxes to verify")
    root.click(position={"x": 5, "y": 5})
    nb.page.keyboard.press("1")  # correct, no comment
    expect(position).to_have_text("Image 2 of 3")

    comment = root.get_by_test_id("nbl-comment")
    nb.page.keyboard.press("c")  # into the comment box: keys are text now
    expect(comment).to_be_focused()
    nb.page.keyboard.type("s1 z2 the person box is too tall")
    expect(position).to_have_text("Image 2 of 3")  # 's', '1', 'z', '2' did nothing but type
    nb.page.keyboard.press("Escape")
    expect(root).to_be_focused()
    if jupyter.app == "lab":
        root.screenshot(path=str(screenshot_path("verification.png")))
    nb.page.keyboard.press("2")  # incorrect, with the comment
    expect(position).to_have_text("Image 3 of 3")
    expect(comment).to_have_value("")
    fitted = root.get_attribute("data-zoom")
    nb.page.keyboard.press("+")  # zoom works here too
    expect(root).not_to_have_attribute("data-zoom", fitted or "")
    nb.page.keyboard.press("s")
    all_saved(root)

    out = stored(nb)
    assert set(out) == {"0", "1"}
    label, meta0 = out["0"]
    assert label == "0"
    assert meta0["class-name"] == "correct"
    assert meta0["type"] == "groundtruth/label-verification"
    assert meta0["human-annotated"] == "yes"
    assert "worker-feedback" not in meta0, "GT leaves out empty comments"
    label, meta1 = out["1"]
    assert label == "1"
    assert meta1["class-name"] == "incorrect"
    assert meta1["worker-feedback"] == [{"comment": "s1 z2 the person box is too tall"}]


@pytest.mark.notebook7
def test_verify_a_class_label_and_undo(notebook, jupyter):
    refs = make_images(jupyter.root_dir / "scenes", 2)
    setup = (
        "df['species'] = [0, 1]\n"
        "df['species-metadata'] = [{'class-name': 'cat'}, {'class-name': '<b>dog</b>'}]\n"
    )
    task = "nl.LabelVerification('species', labels=('yes', 'no', 'unsure'))"
    nb = notebook(cells(f"verifycls-{jupyter.app}", refs, task, setup))
    nb.run_cell(0)
    nb.run_cell(1)
    root = widget(nb)
    under = root.get_by_test_id("nbl-under-review")
    expect(under).to_have_text("Label: cat")
    root.click(position={"x": 5, "y": 5})
    nb.page.keyboard.press("3")
    expect(under).to_have_text("Label: <b>dog</b>")  # text, never HTML
    assert under.locator("b").count() == 0
    nb.page.keyboard.press("z")
    expect(under).to_have_text("Label: cat")
    nb.page.keyboard.press("1")
    nb.page.keyboard.press("2")
    all_saved(root)
    out = stored(nb)
    assert out["0"][0] == "0" and out["0"][1]["class-name"] == "yes"
    assert out["1"][0] == "1" and out["1"][1]["class-name"] == "no"
