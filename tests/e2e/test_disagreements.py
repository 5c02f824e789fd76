"""``job.review(disagreements=True)`` in real JupyterLab 4 and Notebook 7: three annotators
disagree, the grid shows the most disputed items first with everyone's answer, a person decides
by click and by key, takes one decision back, and the kernel holds what they chose; image tiles
and the README's picture."""

from __future__ import annotations

import json
import re

import pytest
from PIL import Image
from playwright.sync_api import expect

from tests.harness.widgets import EVIL, keys_of, review, saved, tile

EVIL_NAME = '<img src=x onerror="window.__nblabel_pwned = 2">dee'
PEOPLE = ["bo", "cy", EVIL_NAME]
# row -> answers by bo, cy and the third annotator (None: no answer)
ANSWERS = {
    0: ["cat", "dog", "bird"],  # everyone differs
    1: ["cat", "cat", "dog"],
    2: ["cat", "cat", "cat"],  # unanimous: not shown
    3: ["dog", "bird", None],
    4: ["bird", "bird", "cat"],
    5: ["dog", "dog", "bird"],
    6: ["bird", "cat", "cat"],
}

SETUP = """\
import json
import pandas as pd
import nblabel as nl
texts = {texts!r}
job = nl.Job({name!r}, pd.DataFrame({{'source': texts}}), nl.TextClassification(['cat', 'dog', 'bird']),
             annotator='ana')
for row, given in {answers!r}.items():
    for who, value in zip({people!r}, given):
        if value is not None:
            job.label(row, value, annotator=who)
job.consolidate()
print('ORDER' + json.dumps(job.disagreements()['position'].tolist()))
"""

REPORT = """\
_meta = job.to_dataframe()[job.attribute + '-metadata']
print('STATE' + json.dumps({
    str(r): [job.current(r).kind, job.current(r).annotator, job.current(r).value, _meta[r]['class-name']]
    for r in range(len(job.keys)) if job.current(r) is not None
}))
"""


def answers_of(root, row: int, keys: list[str]):
    return tile(root, row, keys).get_by_test_id("nbl-review-answer")


@pytest.mark.notebook7
def test_decide_disagreements_by_click_and_key_and_undo(notebook, jupyter):
    texts = [f"disputed text {i}" for i in range(8)]
    texts[4] = EVIL
    setup = SETUP.format(texts=texts, name=f"disagree-{jupyter.app}", answers=ANSWERS, people=PEOPLE)
    nb = notebook([setup, "job.review(disagreements=True)"])
    nb.run_cell(0)
    order = json.loads(re.search(r"ORDER(\[.*\])", nb.cell_output_text(0)).group(1))
    assert order[:2] == [0, 3] and sorted(order) == [0, 1, 3, 4, 5, 6]
    nb.run_cell(1)
    root = review(nb)
    keys = keys_of(nb)
    expect(root).to_have_attribute("data-mode", "disagreements")
    tiles = root.get_by_test_id("nbl-review-tile")

    # most disputed first, in the kernel's order; no slider, no accept/reject
    expect(tiles).to_have_count(6)
    assert tiles.evaluate_all("ts => ts.map(t => t.dataset.key)") == [keys[r] for r in order]
    expect(root.get_by_test_id("nbl-review-summary")).to_have_text("6 items people disagree on · 0 decided")
    assert root.get_by_test_id("nbl-review-slider").count() == 0
    assert root.get_by_test_id("nbl-review-accept").count() == 0

    # every annotator's answer on the tile, names and texts as text
    expect(answers_of(root, 0, keys)).to_have_text(["bocat", "cydog", f"{EVIL_NAME}bird"])
    assert answers_of(root, 0, keys).evaluate_all("bs => bs.map(b => b.dataset.annotator)") == PEOPLE
    expect(answers_of(root, 3, keys)).to_have_text(["bodog", "cybird"])
    expect(tile(root, 4, keys).locator(".nbl-review-snippet")).to_have_text(EVIL)
    assert root.locator(".nbl-review-tile img, .nbl-review-tile b").count() == 0
    assert nb.page.evaluate("() => window.__nblabel_pwned === undefined")
    expect(tile(root, 0, keys)).to_have_attribute("data-decided", "false")

    # the class filter: items where someone answered "dog"
    class_filter = root.get_by_test_id("nbl-review-filter")
    expect(class_filter.locator("option")).to_have_text(["All classes (6)", "cat (4)", "dog (4)", "bird (5)"])
    class_filter.select_option("dog")
    expect(tiles).to_have_count(4)
    class_filter.select_option("")
    expect(tiles).to_have_count(6)

    # decide row 0 by clicking cy's answer
    answers_of(root, 0, keys).nth(1).click()
    saved(root)
    expect(root.get_by_test_id("nbl-review-notice")).to_have_text("Decided 1 item: dog")
    expect(tile(root, 0, keys)).to_have_attribute("data-decided", "true")
    expect(tile(root, 0, keys).get_by_test_id("nbl-review-value")).to_have_text("dog")
    expect(tile(root, 0, keys).locator(".nbl-review-confidence")).to_have_text("decided")
    assert tiles.evaluate_all("ts => ts.map(t => t.dataset.key)") == [keys[r] for r in order]  # in place

    # decide row 3 with a key: bird; then row 5 with a key: bird
    tile(root, 3, keys).click(position={"x": 4, "y": 4})  # the corner, off the answer buttons
    nb.page.keyboard.press("3")
    saved(root)
    expect(tile(root, 3, keys)).to_have_attribute("data-decided", "true")
    tile(root, 5, keys).click(position={"x": 4, "y": 4})  # the corner, off the answer buttons
    nb.page.keyboard.press("3")
    saved(root)
    expect(root.get_by_test_id("nbl-review-summary")).to_have_text("6 items people disagree on · 3 decided")

    # z takes back the last decision (row 5)
    nb.page.keyboard.press("z")
    saved(root)
    expect(root.get_by_test_id("nbl-review-notice")).to_have_text("Took back the decision on 1 item")
    expect(tile(root, 5, keys)).to_have_attribute("data-decided", "false")
    expect(tile(root, 3, keys)).to_have_attribute("data-decided", "true")
    expect(root.get_by_test_id("nbl-review-summary")).to_have_text("6 items people disagree on · 2 decided")

    i = nb.add_cell(REPORT)
    nb.run_cell(i)
    state = json.loads(re.search(r"STATE(\{.*\})", nb.cell_output_text(i)).group(1))
    assert state["0"] == ["consolidated", "ana", "dog", "dog"]
    assert state["3"] == ["consolidated", "ana", "bird", "bird"]
    assert state["5"][:2] == ["consolidated", "consolidate:dawid-skene"]  # the decision was undone
    assert state["2"] == ["consolidated", "consolidate:dawid-skene", "cat", "cat"]


def test_image_tiles_and_the_docs_screenshot(notebook, jupyter, screenshot_path):
    """Three colleagues labeled clip-art drawings with a few mistakes (as in the consolidation
    example notebook); the grid shows thumbnails with their answers; the README's picture (Lab)."""
    setup = (
        "import nblabel as nl\nfrom nblabel import datasets\n"
        "images = datasets.images()\n"
        f"team = nl.Job('disagree-shots-{jupyter.app}', images, nl.ImageClassification(datasets.image_labels()),"
        " annotator='ana')\n"
        "mistakes = {'ana': {3: 'fruit'}, 'bo': {3: 'fruit', 7: 'insect', 9: 'insect'},"
        " 'cy': {11: 'flower', 9: 'fruit'}}\n"
        "for who, wrong in mistakes.items():\n"
        "    for row in range(16):\n"
        "        team.label(row, wrong.get(row, images.loc[row, 'gold']), annotator=who)\n"
        "team.consolidate()"
    )
    nb = notebook([setup, "team.review(disagreements=True, thumb=120)"])
    nb.run_cell(0)
    nb.run_cell(1)
    root = review(nb)
    tiles = root.get_by_test_id("nbl-review-tile")
    expect(tiles).to_have_count(4)
    expect(root.locator(".nbl-review-tile img")).to_have_count(4)
    nb.page.wait_for_function(
        "root => [...root.querySelectorAll('.nbl-review-tile img')].every(i => i.complete && i.naturalWidth > 0)",
        arg=root.element_handle(),
    )
    # row 9, where all three differ, comes first
    expect(tiles.first.get_by_test_id("nbl-review-answer")).to_have_count(3)
    assert tiles.first.evaluate("t => t.dataset.decided") == "false"
    tiles.first.get_by_test_id("nbl-review-answer").nth(0).click()  # ana's: the one right answer
    saved(root)
    expect(tiles.first).to_have_attribute("data-decided", "true")
    expect(tiles.first.get_by_test_id("nbl-review-value")).to_have_text("vehicle")
    tiles.nth(1).click()
    if jupyter.app == "lab":
        nb.page.mouse.move(0, 0)  # no hover highlight in the picture
        shot = screenshot_path("disagreements.png")
        root.screenshot(path=str(shot))
        with Image.open(shot) as img:
            assert img.width > 600 and img.height > 200
