"""The review widget in real JupyterLab 4 and Notebook 7: accept, reject and relabel
auto-labels by keyboard and mouse, accept above a confidence with the slider."""

from __future__ import annotations

import pytest
from PIL import Image
from playwright.sync_api import expect

from tests.harness.widgets import EVIL, LABELS, kernel_json, keys_of, review, saved, tile

# row -> (proposed class, confidence); rows 12-15 have no proposal (they wait for people)
PROPOSALS = {
    0: ("cat", 0.99),
    1: ("dog", 0.35),
    2: ("bird", 0.62),
    3: ("cat", 0.81),
    4: ("dog", 0.93),
    5: ("bird", 0.47),
    6: ("cat", 0.58),
    7: ("dog", 0.97),
    8: ("bird", 0.91),
    9: ("cat", 0.74),
    10: ("dog", 0.2),
    11: ("cat", 0.95),
}

SETUP = """\
import json
import pandas as pd
import nblabel as nl
from nblabel.store import Annotation
texts = {texts!r}
job = nl.Job({name!r}, pd.DataFrame({{'source': texts}}), nl.TextClassification({labels!r}, multi_label={multi}))
for row, (value, confidence) in {proposals!r}.items():
    job.record(Annotation(job.keys[row], job.attribute, 'auto:test', 'auto', value, confidence=confidence))
"""

REPORT = """\
_out = job.to_dataframe()
print('STATE' + json.dumps({
    'auto': job.auto_labeled()['position'].tolist(),
    'progress': job.progress._asdict(),
    'kinds': {str(r): [job.current(r).kind, job.current(r).value] for r in range(len(job.keys))
              if job.current(r) is not None},
    'human': {str(r): m['human-annotated'] for r, m in enumerate(_out[job.attribute + '-metadata'])
              if isinstance(m, dict)},
}))
"""


def setup_cells(
    name: str, texts: list[str], proposals: dict, *, multi: bool = False, options: str = ""
) -> list[str]:
    code = SETUP.format(texts=texts, name=name, labels=LABELS, multi=multi, proposals=proposals)
    return [code, f"job.review({options.lstrip(', ')})"]


def confidences(root):
    return root.locator(".nbl-review-confidence")


def state_of(nb) -> dict:
    return kernel_json(nb, REPORT)


@pytest.mark.notebook7
def test_review_by_keys_clicks_and_the_slider(notebook, jupyter):
    texts = [f"review text {i}" for i in range(16)]
    texts[5] = EVIL
    nb = notebook(setup_cells(f"review-{jupyter.app}", texts, PROPOSALS, options=", page_size=8"))
    nb.run_cell(0)
    nb.run_cell(1)
    root = review(nb)
    keys = keys_of(nb)
    tiles = root.get_by_test_id("nbl-review-tile")

    # least confident first, one page of 8 of the 12 proposals
    expect(confidences(root)).to_have_text(["0.20", "0.35", "0.47", "0.58", "0.62", "0.74", "0.81", "0.91"])
    assert tiles.evaluate_all("ts => ts.map(t => Number(t.dataset.confidence))") == [
        0.2, 0.35, 0.47, 0.58, 0.62, 0.74, 0.81, 0.91,
    ]  # fmt: skip
    expect(root.get_by_test_id("nbl-review-pages")).to_have_text("1–8 of 12")
    expect(root.get_by_test_id("nbl-review-summary")).to_have_text(
        "12 items to review · 0 labeled by people · 4 left for people"
    )
    # a one-line text's tile is about a line tall, not a thumbnail's square (thumb: 160 px)
    media_height = tiles.first.locator(".nbl-review-media").bounding_box()["height"]
    assert media_height < 80, media_height
    # a text with HTML is shown as text
    expect(tile(root, 5, keys).locator(".nbl-review-snippet")).to_have_text(EVIL)
    assert tile(root, 5, keys).locator("img, b").count() == 0
    assert nb.page.evaluate("() => window.__nblabel_pwned === undefined")

    # pages by keyboard
    tiles.first.click()
    nb.page.keyboard.press("PageDown")
    expect(confidences(root)).to_have_text(["0.93", "0.95", "0.97", "0.99"])
    expect(root.get_by_test_id("nbl-review-pages")).to_have_text("9–12 of 12")
    nb.page.keyboard.press("PageUp")
    expect(confidences(root)).to_have_count(8)

    # filter by class
    class_filter = root.get_by_test_id("nbl-review-filter")
    expect(class_filter.locator("option")).to_have_text(
        ["All classes (12)", "cat (5)", "dog (4)", "bird (3)"]
    )
    class_filter.select_option("dog")
    expect(root.get_by_test_id("nbl-review-value")).to_have_text(["dog"] * 4)
    expect(confidences(root)).to_have_text(["0.20", "0.35", "0.93", "0.97"])
    class_filter.select_option("")
    expect(confidences(root)).to_have_count(8)

    # accept with a key: row 10 (0.20)
    tile(root, 10, keys).click()
    nb.page.keyboard.press("a")
    expect(tile(root, 10, keys)).to_have_count(0)
    saved(root)
    expect(root.get_by_test_id("nbl-review-notice")).to_have_text("Accepted 1 item")
    expect(root.get_by_test_id("nbl-review-pages")).to_have_text("1–8 of 11")

    # reject with a click: row 1 (0.35)
    tile(root, 1, keys).click()
    root.get_by_test_id("nbl-review-reject").click()
    expect(tile(root, 1, keys)).to_have_count(0)
    saved(root)
    expect(root.get_by_test_id("nbl-review-notice")).to_have_text(
        "Rejected 1 item: back in the people's queue"
    )

    # relabel with a digit: row 5 (0.47, bird) becomes cat
    tile(root, 5, keys).click()
    nb.page.keyboard.press("1")
    expect(tile(root, 5, keys)).to_have_count(0)
    saved(root)
    expect(root.get_by_test_id("nbl-review-notice")).to_have_text("Relabeled 1 item as cat")

    # the cursor stayed on the first tile (now row 6): Shift+→ selects rows 6 and 2, Enter accepts
    expect(tiles.first).to_have_attribute("data-key", keys[6])
    nb.page.keyboard.press("Shift+ArrowRight")
    expect(root).to_have_attribute("data-selected", "2")
    nb.page.keyboard.press("Enter")
    expect(confidences(root)).to_have_text(["0.74", "0.81", "0.91", "0.93", "0.95", "0.97", "0.99"])
    saved(root)
    expect(root.get_by_test_id("nbl-review-notice")).to_have_text("Accepted 2 items")

    # the slider counts live, then accepts every proposal at or above it
    slider = root.get_by_test_id("nbl-review-slider")
    slider.fill("0.9")
    expect(root.get_by_test_id("nbl-review-count")).to_have_text("5 of 7 proposals have confidence ≥ 0.90")
    accept_above = root.get_by_test_id("nbl-review-accept-above")
    expect(accept_above).to_have_text("Accept 5 items ≥ 0.90")
    slider.fill("0.8")
    expect(root.get_by_test_id("nbl-review-count")).to_have_text("6 of 7 proposals have confidence ≥ 0.80")
    slider.fill("0.9")
    expect(accept_above).to_have_text("Accept 5 items ≥ 0.90")
    accept_above.click()
    expect(confidences(root)).to_have_text(["0.74", "0.81"])
    saved(root)
    expect(root.get_by_test_id("nbl-review-notice")).to_have_text("Accepted 5 items with confidence ≥ 0.90")
    expect(root.get_by_test_id("nbl-review-count")).to_have_text("0 of 2 proposals have confidence ≥ 0.90")
    expect(accept_above).to_be_disabled()

    state = state_of(nb)
    assert state["auto"] == [9, 3]
    assert state["progress"] == {"total": 16, "labeled": 11, "skipped": 0, "remaining": 5, "auto": 2}
    verified = {
        "10": "dog",
        "6": "cat",
        "2": "bird",
        "8": "bird",
        "4": "dog",
        "11": "cat",
        "7": "dog",
        "0": "cat",
    }
    assert state["kinds"] == {
        **{row: ["verified", value] for row, value in verified.items()},
        "5": ["human", "cat"],
        "9": ["auto", "cat"],
        "3": ["auto", "cat"],
    }
    assert state["human"] == {**{row: "yes" for row in [*verified, "5"]}, "9": "no", "3": "no"}


def test_multi_label_relabel_panel(notebook, jupyter):
    texts = ["a cat", "a dog and a bird", "nothing", "a bird"]
    proposals = {0: (["cat"], 0.3), 1: (["dog"], 0.6), 2: (["bird"], 0.5), 3: (["bird"], 0.9)}
    nb = notebook(setup_cells(f"review-multi-{jupyter.app}", texts, proposals, multi=True))
    nb.run_cell(0)
    nb.run_cell(1)
    root = review(nb)
    keys = keys_of(nb)
    expect(root.get_by_test_id("nbl-review-value")).to_have_text(["cat", "bird", "dog", "bird"])
    panel = root.get_by_test_id("nbl-review-panel")

    # keys: a class key opens the panel from the proposal, keys toggle, Enter saves
    tile(root, 1, keys).click()
    nb.page.keyboard.press("3")
    expect(panel).to_be_visible()
    expect(root.get_by_test_id("nbl-review-class-1")).to_have_attribute("aria-pressed", "true")
    expect(root.get_by_test_id("nbl-review-class-2")).to_have_attribute("aria-pressed", "true")
    nb.page.keyboard.press("Enter")
    expect(panel).to_be_hidden()
    expect(tile(root, 1, keys)).to_have_count(0)
    saved(root)
    expect(root.get_by_test_id("nbl-review-notice")).to_have_text("Relabeled 1 item as dog, bird")

    # clicks: Relabel…, untoggle the proposal (none of the classes), Save
    tile(root, 2, keys).click()
    root.get_by_test_id("nbl-review-relabel").click()
    root.get_by_test_id("nbl-review-class-2").click()
    expect(root.get_by_test_id("nbl-review-class-2")).to_have_attribute("aria-pressed", "false")
    root.get_by_test_id("nbl-review-save").click()
    expect(tile(root, 2, keys)).to_have_count(0)
    saved(root)
    expect(root.get_by_test_id("nbl-review-notice")).to_have_text("Relabeled 1 item as (none)")

    # Escape closes the panel without relabeling
    tile(root, 0, keys).click()
    nb.page.keyboard.press("2")
    expect(panel).to_be_visible()
    nb.page.keyboard.press("Escape")
    expect(panel).to_be_hidden()
    expect(tile(root, 0, keys)).to_have_count(1)

    state = state_of(nb)
    assert state["kinds"] == {
        "0": ["auto", ["cat"]],
        "1": ["human", ["dog", "bird"]],
        "2": ["human", []],
        "3": ["auto", ["bird"]],
    }


def test_image_thumbnails_and_the_docs_screenshot(notebook, jupyter, screenshot_path):
    """Review the shipped image sample, auto-labeled from its gold column with varied
    confidences and a few wrong proposals; save the grid's picture for the README (Lab)."""
    setup = (
        "import nblabel as nl\nfrom nblabel import datasets\nfrom nblabel.store import Annotation\n"
        "df = datasets.images()\nlabels = datasets.image_labels()\n"
        f"job = nl.Job('review-shots-{jupyter.app}', df, nl.ImageClassification(labels))\n"
        "for row in range(40):\n"
        "    confidence = round(0.3 + 0.69 * ((row * 17) % 40) / 39, 3)\n"
        "    value = df.gold[row]\n"
        "    if confidence < 0.6 and row % 4 == 0:  # the auto-labeler is wrong where it is unsure\n"
        "        value = labels[(labels.index(value) + 1) % len(labels)]\n"
        "    job.record(Annotation(job.keys[row], job.attribute, 'auto:demo', 'auto', value, confidence=confidence))"
    )
    nb = notebook([setup, "job.review(page_size=12, thumb=120)"])
    nb.run_cell(0)
    nb.run_cell(1)
    root = review(nb)
    expect(root.locator(".nbl-review-tile img")).to_have_count(12)
    nb.page.wait_for_function(
        "root => [...root.querySelectorAll('.nbl-review-tile img')].every(i => i.complete && i.naturalWidth > 0)",
        arg=root.element_handle(),
    )
    root.get_by_test_id("nbl-review-slider").fill("0.9")
    expect(root.get_by_test_id("nbl-review-accept-above")).to_have_text("Accept 6 items ≥ 0.90")
    root.get_by_test_id("nbl-review-tile").nth(1).click()
    nb.page.keyboard.press("Shift+ArrowRight")
    expect(root).to_have_attribute("data-selected", "2")
    if jupyter.app == "lab":
        nb.page.mouse.move(0, 0)  # no hover highlight in the picture
        shot = screenshot_path("review.png")
        root.screenshot(path=str(shot))
        with Image.open(shot) as img:
            assert img.width > 600 and img.height > 300
