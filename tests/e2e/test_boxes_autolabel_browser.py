"""The box auto-labeler in real JupyterLab 4 and Notebook 7: its proposals in the box widget
(dashed, at their original pixels at any zoom; Enter, a click, Delete and a drag) and its
auto-labels in the review grid, drawn over their thumbnails."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.harness.widgets import Stage, all_saved, kernel_json, review, widget
from tests.harness.widgets import make_scenes as make_images

LABELS = ["car", "person", "sign"]
PROPOSED = [
    {"class_id": 0, "left": 100, "top": 120, "width": 200, "height": 150},
    {"class_id": 1, "left": 500, "top": 300, "width": 120, "height": 240},
    {"class_id": 2, "left": 900, "top": 600, "width": 100, "height": 100},
]
DETECTOR = f"""\
class Fixed:
    # A detector without fit: the same three boxes, with scores, on every image.
    def predict(self, images):
        return [[{{**b, 'score': s}} for b, s in zip({PROPOSED!r}, [0.91, 0.8, 0.6])] for _ in images]
"""


def setup(name: str, refs: list[str], answered: int = 0) -> str:
    gold = {"image_size": [{"width": 1200, "height": 900, "depth": 3}], "annotations": PROPOSED}
    return (
        "import json\nimport pandas as pd\nimport nblabel as nl\n"
        f"df = pd.DataFrame({{'source-ref': {refs!r}}})\n"
        f"job = nl.Job({name!r}, df, nl.BoundingBox({LABELS!r}))\n"
        f"for row in range({answered}):\n    job.label(row, {gold!r})\n"
        f"{DETECTOR}report = job.autolabel(detector=Fixed(), background=False)\nprint(report)"
    )


def answer(nb, item: int | str) -> dict:
    return kernel_json(nb, f"print('STATE' + json.dumps(job.current({item!r}).value))")


def test_proposals_at_any_zoom_enter_a_click_delete_and_a_drag(notebook, jupyter):
    refs = make_images(jupyter.root_dir / "scenes", 3)
    nb = notebook([setup(f"boxauto-{jupyter.app}", refs), "job"])
    nb.run_cell(0)
    nb.run_cell(1)
    root = widget(nb)
    stage = Stage(nb, root)
    expect(root.get_by_test_id("nbl-notice")).to_contain_text("3 boxes proposed by the auto-labeler (dashed)")
    assert stage.boxes() == PROPOSED
    expect(root).to_have_attribute("data-proposed", "3")
    root.click(position={"x": 5, "y": 5})
    # The images come in the round's queue order (least confident first, random draws between).
    position = root.get_by_test_id("nbl-position")
    first_shown = position.inner_text()
    nb.page.keyboard.press("Enter")  # accept all, exactly
    expect(position).not_to_have_text(first_shown)
    second_shown = position.inner_text()

    # Zoom in around the first proposal's corner; the proposal is where its original pixels now
    # are: a point 8 original pixels outside the corner misses it, a point inside selects (and
    # accepts) it.
    nb.page.mouse.move(*stage.screen(100, 120))
    for _ in range(6):
        nb.page.keyboard.press("+")
    assert stage.view()["scale"] > 1.5
    nb.page.mouse.click(*stage.screen(100 - 8, 120 - 8))
    expect(root).to_have_attribute("data-selected", "-1")
    expect(root).to_have_attribute("data-proposed", "3")
    nb.page.mouse.click(*stage.screen(100 + 30, 120 + 30))
    expect(root).to_have_attribute("data-selected", "0")
    expect(root).to_have_attribute("data-proposed", "2")
    expect(root.get_by_test_id("nbl-box-info")).to_contain_text(
        "3 boxes (2 proposed) · selected: car at 100, 120"
    )
    nb.page.keyboard.press("Tab")  # the person box: delete it
    expect(root).to_have_attribute("data-selected", "1")
    nb.page.keyboard.press("Delete")
    zoomed = root.get_attribute("data-zoom")
    nb.page.keyboard.press("f")
    expect(root).not_to_have_attribute("data-zoom", zoomed)  # fitted before measuring the screen
    stage.overlay.evaluate("el => el.scrollIntoView({block: 'center'})")  # the whole image on the page
    # Adjust the sign: its south-east corner 50 and 40 original pixels further.
    corner = stage.screen(1000, 700)
    target = stage.screen(1050, 740)
    stage.drag(corner, target)
    moved = {"class_id": 2, "left": 900, "top": 600, "width": 100 + 50, "height": 100 + 40}
    assert stage.boxes()[0] == PROPOSED[0]
    sign = stage.boxes()[1]
    # The drag lands on whole pixels within one screen pixel of the target.
    tol = 1 / stage.view()["scale"] + 1
    assert abs(sign["width"] - moved["width"]) <= tol and abs(sign["height"] - moved["height"]) <= tol
    expect(root).to_have_attribute("data-proposed", "0")
    nb.page.keyboard.press("Enter")
    all_saved(root)

    row = {text: int(text.split()[1]) - 1 for text in (first_shown, second_shown)}
    first, second = answer(nb, row[first_shown]), answer(nb, row[second_shown])
    assert first["annotations"] == PROPOSED
    assert first["actions"] == {"accepted": 3, "adjusted": 0, "deleted": 0, "added": 0}
    assert second["annotations"] == [PROPOSED[0], sign]
    assert second["actions"] == {"accepted": 1, "adjusted": 1, "deleted": 1, "added": 0}


def test_auto_labeled_images_show_in_the_review_grid_with_their_boxes(notebook, jupyter):
    refs = make_images(jupyter.root_dir / "scenes", 14)
    nb = notebook([setup(f"boxreview-{jupyter.app}", refs, answered=12), "job.review(thumb=120)"])
    nb.run_cell(0)
    assert "2 images auto-labeled" in nb.cell_output_text(0)
    nb.run_cell(1)
    root = review(nb)
    tiles = root.get_by_test_id("nbl-review-tile")
    expect(tiles).to_have_count(2)
    expect(root.get_by_test_id("nbl-review-value")).to_have_text(["3 boxes", "3 boxes"])
    boxes = tiles.first.get_by_test_id("nbl-review-box")
    expect(boxes).to_have_count(3)
    # Drawn in original pixels over the thumbnail: the rectangles are the proposal's boxes.
    drawn = boxes.evaluate_all(
        "rs => rs.map(r => ['x', 'y', 'width', 'height'].map(a => Number(r.getAttribute(a))))"
    )
    assert drawn == [[b["left"], b["top"], b["width"], b["height"]] for b in PROPOSED]
    # Accept and reject only: no class key makes boxes, and the help line says what the keys do.
    expect(root.locator(".nbl-help")).to_contain_text("a or Enter accept · r or Delete reject · PageUp")
    expect(root.get_by_test_id("nbl-review-relabel")).to_have_count(0)
    tiles.first.click()
    nb.page.keyboard.press("1")  # nothing: not sent, so no "Not saved" refusal either
    expect(root.get_by_test_id("nbl-review-panel")).to_be_hidden()
    nb.page.keyboard.press("a")  # accept it: a person's verified answer
    expect(tiles).to_have_count(1)
    expect(root.get_by_test_id("nbl-review-notice")).to_have_text("Accepted 1 item")
    state = kernel_json(nb, "print('STATE' + json.dumps([job.current(r).kind for r in (12, 13)]))")
    assert sorted(state) == ["auto", "verified"]


MOVED = [
    {"class_id": 2, "left": 300, "top": 200, "width": 160, "height": 120},
    {"class_id": 0, "left": 700, "top": 500, "width": 150, "height": 100},
]


def another_round(boxes: list[dict]) -> str:
    return (
        "class Other:\n    def predict(self, images):\n"
        f"        return [[{{**b, 'score': 0.7}} for b in {boxes!r}] for _ in images]\n"
        "job.autolabel(detector=Other(), background=False)"
    )


def test_a_new_rounds_proposals_redraw_the_image_on_screen_until_the_person_edits_it(notebook, jupyter):
    refs = make_images(jupyter.root_dir / "scenes", 3)
    nb = notebook(
        [setup(f"boxround-{jupyter.app}", refs), "job", another_round(MOVED), another_round(PROPOSED)]
    )
    nb.run_cell(0)
    nb.run_cell(1)
    root = widget(nb)
    stage = Stage(nb, root)
    expect(root).to_have_attribute("data-proposed", "3")
    shown = root.get_attribute("data-item-key")
    assert stage.boxes() == PROPOSED

    # A new round while the person has not touched the image: its proposals replace the old ones.
    nb.run_cell(2)
    expect(root).to_have_attribute("data-proposed", "2")
    assert stage.boxes() == MOVED
    expect(root).to_have_attribute("data-item-key", shown)  # the same image, redrawn

    # The person accepts one box; the next round's news arrives (the notice counts its three
    # proposals) but leaves their work as it is.
    stage.overlay.evaluate("el => el.scrollIntoView({block: 'center'})")  # running cells scrolled
    nb.page.mouse.click(*stage.screen(300 + 20, 200 + 20))
    expect(root).to_have_attribute("data-proposed", "1")
    nb.run_cell(3)
    expect(root.get_by_test_id("nbl-notice")).to_contain_text("3 boxes proposed by the auto-labeler (dashed)")
    assert stage.boxes() == MOVED
    expect(root).to_have_attribute("data-proposed", "1")
    root.click(position={"x": 5, "y": 5})  # focus back from the notebook, whose cell ran
    nb.page.keyboard.press("Enter")
    expect(root).not_to_have_attribute("data-item-key", shown)
    all_saved(root)
    assert answer(nb, shown)["annotations"] == MOVED
