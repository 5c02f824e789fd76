"""The classification widget in real JupyterLab 4 and Notebook 7, driven by keyboard and mouse."""

from __future__ import annotations

import re

import pytest
from PIL import Image
from playwright.sync_api import expect

from tests.harness.widgets import LABELS, all_saved, job_cells, kernel_json, make_images, state_of, widget


def press(nb, key: str) -> None:
    nb.page.keyboard.press(key)


def test_label_by_keyboard_with_undo_skip_back_then_resume_after_restart(notebook, jupyter):
    paths = make_images(jupyter.root_dir / "imgs", 30)
    nb = notebook(
        job_cells(
            f"keys-{jupyter.app}",
            f"pd.DataFrame({{'source-ref': {paths!r}}})",
            f"nl.ImageClassification({LABELS!r})",
        )
    )
    nb.run_cell(0)
    nb.run_cell(1)
    root = widget(nb)
    position = root.get_by_test_id("nbl-position")
    expect(position).to_have_text("Item 1 of 30")
    expect(root.get_by_test_id("nbl-image")).to_be_visible()
    root.click()

    expected: dict[int, str] = {}
    skipped: set[int] = set()
    item = 0

    def label(key: str) -> None:
        nonlocal item
        press(nb, key)
        expected[item] = LABELS[int(key) - 1]
        item += 1
        expect(position).to_have_text(re.compile(rf"^Item {item + 1} of 30"))

    for n in range(6):
        label(str(n % 3 + 1))  # items 0-5
    press(nb, "z")  # undo item 5
    item -= 1
    del expected[item]
    expect(position).to_have_text("Item 6 of 30")
    label("3")  # item 5 again, another answer
    press(nb, "s")  # skip item 6
    skipped.add(item)
    item += 1
    expect(position).to_have_text("Item 8 of 30")
    for n in range(8):
        label(str(n % 3 + 1))  # items 7-14
    press(nb, "ArrowLeft")
    press(nb, "ArrowLeft")
    expect(position).to_have_text("Item 14 of 30 (revisiting)")
    press(nb, "2")  # relabel item 13 (was cat), moves forward along the trail
    expect(position).to_have_text("Item 15 of 30 (revisiting)")
    press(nb, "ArrowRight")
    expect(position).to_have_text("Item 16 of 30")
    press(nb, "Backspace")  # Backspace undoes too: the relabel of item 13 is taken back
    expect(position).to_have_text("Item 14 of 30 (revisiting)")
    assert expected[13] == "cat"
    press(nb, "ArrowRight")
    press(nb, "ArrowRight")
    expect(position).to_have_text("Item 16 of 30")
    while len(expected) < 20:
        label(str(item % 3 + 1))  # items 15-20
    all_saved(root)
    expect(root.get_by_test_id("nbl-status")).to_have_text("saved")

    state = state_of(nb)
    assert state["labels"] == {str(k): v for k, v in sorted(expected.items())}
    assert state["progress"] == {"total": 30, "labeled": 20, "skipped": 1, "remaining": 9, "auto": 0}

    nb.restart_kernel()
    nb.run_cell(0)
    nb.run_cell(1)
    root = widget(nb)
    first_open = min(set(range(30)) - set(expected) - skipped)
    expect(root.get_by_test_id("nbl-position")).to_have_text(f"Item {first_open + 1} of 30")
    expect(root.get_by_test_id("nbl-progress")).to_contain_text("20 labeled · 1 skipped · 9 left")
    state = state_of(nb)
    assert state["labels"] == {str(k): v for k, v in sorted(expected.items())}


def test_thirty_fast_keys_are_all_stored(notebook, jupyter):
    texts = [f"text number {i}" for i in range(120)]
    nb = notebook(
        job_cells(
            f"fast-{jupyter.app}",
            f"pd.DataFrame({{'source': {texts!r}}})",
            f"nl.TextClassification({LABELS!r})",
        )
    )
    nb.run_cell(0)
    nb.run_cell(1)
    root = widget(nb)
    expect(root.get_by_test_id("nbl-text")).to_have_text("text number 0")
    root.click()
    keys = [str(i % 3 + 1) for i in range(30)]
    for key in keys:  # no waiting between presses
        nb.page.keyboard.press(key)
    expect(root.get_by_test_id("nbl-text")).to_have_text("text number 30")
    all_saved(root)
    state = state_of(nb)
    assert state["labels"] == {str(i): LABELS[int(k) - 1] for i, k in enumerate(keys)}
    assert state["progress"]["labeled"] == 30


def test_text_with_html_is_shown_as_text_and_runs_nothing(notebook, jupyter):
    evil = '<img src=x onerror="window.__nblabel_pwned = 1"><b>bold</b><script>window.__s=1</script>'
    nb = notebook(
        job_cells(
            f"html-{jupyter.app}",
            f"pd.DataFrame({{'source': [{evil!r}, 'second']}})",
            "nl.TextClassification(['ok', 'spam'])",
        )
    )
    nb.run_cell(0)
    nb.run_cell(1)
    root = widget(nb)
    text = root.get_by_test_id("nbl-text")
    expect(text).to_have_text(evil)
    assert text.locator("img, b, script").count() == 0
    assert nb.page.evaluate("() => window.__nblabel_pwned === undefined && window.__s === undefined")


def test_unreadable_image_shows_reason_and_can_be_skipped(notebook, jupyter):
    good = make_images(jupyter.root_dir / "imgs", 2)
    corrupt = jupyter.root_dir / "corrupt.jpg"
    corrupt.write_bytes(b"\xff\xd8\xff\xe0 this is not really a jpeg")
    refs = [str(jupyter.root_dir / "missing.jpg"), str(corrupt), *good]
    nb = notebook(
        job_cells(
            f"broken-{jupyter.app}",
            f"pd.DataFrame({{'source-ref': {refs!r}}})",
            f"nl.ImageClassification({LABELS!r})",
        )
    )
    nb.run_cell(0)
    nb.run_cell(1)
    root = widget(nb)
    error = root.get_by_test_id("nbl-error")
    expect(error).to_contain_text("file not found")
    expect(root.get_by_test_id("nbl-class-0")).to_be_disabled()
    root.click()
    press(nb, "1")  # class keys do nothing on an error tile
    expect(error).to_contain_text("file not found")
    press(nb, "s")
    expect(error).to_contain_text("corrupt")
    root.get_by_test_id("nbl-skip").click()
    expect(root.get_by_test_id("nbl-image")).to_be_visible()
    expect(root.get_by_test_id("nbl-position")).to_have_text("Item 3 of 4")
    all_saved(root)
    assert state_of(nb)["progress"]["skipped"] == 2


def test_multi_label_toggles_and_submits_with_enter(notebook, jupyter):
    texts = ["a pet bird and a cat", "just a dog", "nothing here"]
    nb = notebook(
        job_cells(
            f"multi-{jupyter.app}",
            f"pd.DataFrame({{'source': {texts!r}}})",
            f"nl.TextClassification({LABELS!r}, multi_label=True)",
        )
    )
    nb.run_cell(0)
    nb.run_cell(1)
    root = widget(nb)
    root.click()
    press(nb, "1")
    press(nb, "3")
    expect(root.get_by_test_id("nbl-class-0")).to_have_attribute("aria-pressed", "true")
    press(nb, "Enter")
    expect(root.get_by_test_id("nbl-text")).to_have_text("just a dog")
    root.get_by_test_id("nbl-class-1").click()
    root.get_by_test_id("nbl-submit").click()
    expect(root.get_by_test_id("nbl-text")).to_have_text("nothing here")
    press(nb, "Enter")  # nothing chosen: an explicit empty answer
    all_saved(root)
    state = state_of(nb)
    assert state["multi"] == {"0": ["bird", "cat"], "1": ["dog"], "2": []}
    assert state["progress"]["labeled"] == 3


@pytest.mark.notebook7
def test_keys_outside_the_widget_are_not_taken(notebook, jupyter):
    nb = notebook(
        [
            *job_cells(
                f"focus-{jupyter.app}",
                "pd.DataFrame({'source': ['one', 'two']})",
                f"nl.TextClassification({LABELS!r})",
            ),
            "x = 1",
        ]
    )
    nb.run_cell(0)
    nb.run_cell(1)
    root = widget(nb)
    nb.cell(2).locator(".jp-InputPrompt").click()  # focus elsewhere in the notebook
    nb.page.keyboard.press("Escape")
    nb.page.keyboard.press("2")  # a notebook shortcut context: must not label
    expect(root.get_by_test_id("nbl-text")).to_have_text("one")
    root.click()
    nb.page.keyboard.press("2")
    expect(root.get_by_test_id("nbl-text")).to_have_text("two")
    # In Notebook 7, "x" in command mode would cut a cell; in the widget it must do nothing.
    nb.page.keyboard.press("x")
    assert nb.cell_count() == 3


def test_huge_image_and_long_text_display(notebook, jupyter):
    big = jupyter.root_dir / "huge.jpg"
    if not big.exists():
        Image.new("RGB", (8000, 6000), (30, 120, 200)).save(big, quality=80)
    nb = notebook(
        [
            *job_cells(
                f"huge-{jupyter.app}",
                f"pd.DataFrame({{'source-ref': [{str(big)!r}]}})",
                f"nl.ImageClassification({LABELS!r})",
            ),
            "long = nl.Job('long-" + jupyter.app + "', pd.DataFrame({'source': ['word ' * 20000]}),"
            f" nl.TextClassification({LABELS!r}))\nlong",
        ]
    )
    nb.run_cell(0)
    nb.run_cell(1)
    root = widget(nb)
    image = root.get_by_test_id("nbl-image")
    expect(image).to_be_visible()
    width = image.evaluate("img => img.naturalWidth")  # the pixels sent, not the width shown
    assert 0 < width <= 1600
    nb.run_cell(2)
    text = widget(nb, 2).get_by_test_id("nbl-text")
    expect(text).to_be_visible()
    assert text.evaluate("t => t.textContent.length") == 100_000


@pytest.mark.notebook7
@pytest.mark.parametrize("theme", ["light", "dark"])
def test_screenshots_for_the_docs(notebook, jupyter, theme, screenshot_path):
    """Label one item of each shipped sample and save the widgets' pictures for the README."""
    from nblabel import datasets

    nb = notebook(
        [
            "import nblabel as nl\nfrom nblabel import datasets\n"
            f"job = nl.Job('shots-{theme}', datasets.images(), nl.ImageClassification(datasets.image_labels()))\n"
            f"texts = nl.Job('shots-text-{theme}', datasets.texts(), nl.TextClassification(datasets.text_labels()))",
            "job",
            "texts",
        ]
    )
    if theme == "dark":
        nb.page.evaluate(
            "() => window.jupyterapp.commands.execute('apputils:change-theme', {theme: 'JupyterLab Dark'})"
        )
        nb.page.wait_for_function("() => document.body.dataset.jpThemeLight === 'false'")
    for i in range(3):
        nb.run_cell(i)
    image_root = widget(nb, 1)
    expect(image_root.get_by_test_id("nbl-image")).to_be_visible()
    image_root.click()
    nb.page.keyboard.press("2")
    expect(image_root.get_by_test_id("nbl-position")).to_have_text(f"Item 2 of {len(datasets.images())}")
    all_saved(image_root)
    text_root = widget(nb, 2)
    expect(text_root.get_by_test_id("nbl-text")).to_be_visible()
    suffix = ("" if jupyter.app == "lab" else "-nb7") + ("-dark" if theme == "dark" else "")
    shots = [screenshot_path(f"classify-image{suffix}.png"), screenshot_path(f"classify-text{suffix}.png")]
    image_root.screenshot(path=str(shots[0]))
    text_root.screenshot(path=str(shots[1]))
    for shot in shots:
        with Image.open(shot) as img:
            assert img.width > 300 and img.height > 200


def test_answers_the_kernel_cannot_store_are_kept_and_resent_after_a_restart(notebook, jupyter):
    """A store that fails (disk full) leaves answers unsaved in the browser, never dropped; the
    next widget of the job, after a kernel restart, sends them again."""
    texts = [f"full disk text {i}" for i in range(20)]
    nb = notebook(
        [
            *job_cells(
                f"diskfull-{jupyter.app}",
                f"pd.DataFrame({{'source': {texts!r}}})",
                f"nl.TextClassification({LABELS!r})",
            ),
            "def _full(*args, **kwargs):\n    raise OSError('No space left on device (simulated)')\n"
            "job.store.append = _full",
        ]
    )
    nb.run_cell(0)
    nb.run_cell(1)
    root = widget(nb)
    root.click()
    press(nb, "1")
    all_saved(root)
    nb.run_cell(2)
    root.click()
    for key in ["2", "3", "1", "2"]:
        press(nb, key)
    expect(root.get_by_test_id("nbl-text")).to_have_text("full disk text 5")
    expect(root.get_by_test_id("nbl-status")).to_have_text("4 unsaved")
    expect(root.get_by_test_id("nbl-error")).to_contain_text("No space left on device")
    nb.restart_kernel()
    nb.run_cell(0)
    nb.run_cell(1)
    root = widget(nb)
    all_saved(root)
    state = state_of(nb)
    assert state["labels"] == {"0": "cat", "1": "dog", "2": "bird", "3": "cat", "4": "dog"}
    expect(root.get_by_test_id("nbl-position")).to_have_text("Item 6 of 20")


def test_instructions_beside_the_item_and_in_the_panel_i_opens_as_text(notebook, jupyter):
    good = make_images(jupyter.root_dir / "guide", 1, size=(64, 48))[0]
    guide = (
        "Pick the **main** topic.\n\n# Details\n<script>window.__guide = 1</script>\n"
        "- sports: games, scores\n- news: the rest"
    )
    task = (
        f"nl.TextClassification(['sports', 'news'], instructions={{'full': {guide!r}, "
        f"'good': [{{'image': {good!r}, 'caption': 'a clear case'}}]}})"
    )
    nb = notebook(job_cells(f"guide-{jupyter.app}", "pd.DataFrame({'source': ['a', 'b']})", task))
    nb.run_cell(0)
    nb.run_cell(1)
    root = widget(nb)
    short = root.get_by_test_id("nbl-instructions-short")
    expect(short).to_have_text("Pick the main topic.Instructions (i)")
    expect(short.locator("strong")).to_have_text("main")
    panel = root.get_by_test_id("nbl-instructions")
    expect(panel).to_be_hidden()
    root.click()
    press(nb, "i")
    expect(panel).to_be_visible()
    expect(panel.locator("h4").first).to_have_text("Details")
    expect(panel).to_contain_text("<script>window.__guide = 1</script>")  # shown as text
    assert panel.locator("script").count() == 0
    assert nb.page.evaluate("() => window.__guide === undefined")
    expect(panel.locator("li")).to_have_count(2)
    example = root.get_by_test_id("nbl-examples-good").locator("img")
    expect(example).to_have_attribute("src", re.compile(r"^data:image/jpeg;base64,"))
    assert example.evaluate("img => img.complete && img.naturalWidth") == 64
    press(nb, "Escape")
    expect(panel).to_be_hidden()
    # The widget's own keys work again: 1 labels the item.
    press(nb, "1")
    expect(root).to_have_attribute("data-item-key", re.compile(".+"))
    all_saved(root)
    assert state_of(nb)["labels"] == {"0": "sports"}
    # The answer carries the browser's timing of the person's work (GT's worker-response fields).
    timing = kernel_json(nb, "print('STATE' + json.dumps(job.answers(0)[0].meta['timing']))")
    assert timing["acceptanceTime"] < timing["submissionTime"]
    assert 0 < timing["timeSpentInSeconds"] < 60
