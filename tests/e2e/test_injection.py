"""HTML and script in class names, file names, texts and metadata reach the page as text only.

Every string that came from data or from the user's labels is put into the DOM as text. Each
payload, if it were parsed as HTML, would set a ``window`` flag or add an element; the tests check
that the literal text is shown, no element was created and no flag was set.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.harness.widgets import all_saved, job_cells, review, saved, widget

PAYLOADS = [
    '<img src=x onerror="window.__nblPwned=1">',
    "<script>window.__nblPwned=2</script>",
    '"><svg onload="window.__nblPwned=3">',
    "<b>bold</b>&amp;",
]
FLAGS = "() => window.__nblPwned === undefined"


def _no_markup(root) -> None:
    assert root.locator("script, svg, b").count() == 0
    assert root.locator("img[src='x']").count() == 0


def test_class_names_file_names_and_proposals_stay_text(notebook, jupyter):
    labels = PAYLOADS[:3]
    folder = jupyter.root_dir / PAYLOADS[3]  # a folder whose name is markup
    missing = str(folder / f"{PAYLOADS[0]}.jpg")
    nb = notebook(
        [
            *job_cells(
                f"inject-{jupyter.app}",
                f"pd.DataFrame({{'source-ref': [{missing!r}]}})",
                f"nl.ImageClassification({labels!r})",
            ),
        ]
    )
    nb.run_cell(0)
    nb.run_cell(1)
    root = widget(nb)
    for i, label in enumerate(labels):
        expect(root.get_by_test_id(f"nbl-class-{i}")).to_contain_text(label)
    error = root.get_by_test_id("nbl-error")
    expect(error).to_contain_text(missing)  # the reason names the file, as text
    _no_markup(root)
    assert nb.page.evaluate(FLAGS)


def test_texts_proposals_and_annotator_names_in_the_review_grid_stay_text(notebook, jupyter):
    labels = [PAYLOADS[0], PAYLOADS[2], "plain"]
    texts = [f"{p} text {i}" for i, p in enumerate(PAYLOADS)]
    setup = (
        "import pandas as pd\nimport nblabel as nl\nfrom nblabel.store import Annotation\n"
        f"job = nl.Job('inject-review-{jupyter.app}', pd.DataFrame({{'source': {texts!r}}}),"
        f" nl.TextClassification({labels!r}))\n"
        f"for row in range({len(texts) - 1}):  # the last text waits for a person\n"
        f"    job.record(Annotation(job.keys[row], job.attribute, {PAYLOADS[1]!r}, 'auto',"
        f" {labels!r}[row % 3], confidence=0.5 + row / 10))\n"
    )
    nb = notebook([setup, "job.review()", "job"])
    nb.run_cell(0)
    nb.run_cell(1)
    grid = review(nb)
    for text in texts[:-1]:
        expect(grid).to_contain_text(text)
    expect(grid).to_contain_text(PAYLOADS[0])
    _no_markup(grid)
    grid.click()
    nb.page.keyboard.press("Enter")  # accept the focused tile: its label goes back through the kernel
    saved(grid)
    assert nb.page.evaluate(FLAGS)

    nb.run_cell(2)  # the labeling widget shows the texts and the class names too
    root = widget(nb, 2)
    expect(root.get_by_test_id("nbl-text")).to_have_text(texts[-1])
    _no_markup(root)
    all_saved(root)
    assert nb.page.evaluate(FLAGS)


@pytest.mark.notebook7
def test_markdown_and_script_in_model_responses_stay_text(notebook, jupyter):
    script = f"{PAYLOADS[1]}\n\n```html\n{PAYLOADS[0]}\n```"
    markdown = f"# Heading {PAYLOADS[2]}\n\n- **bold** and `{PAYLOADS[3]}`"
    data = f"pd.DataFrame({{'source': [{PAYLOADS[0]!r}], 'a': [{script!r}], 'b': [{markdown!r}]}})"
    nb = notebook(job_cells(f"inject-pref-{jupyter.app}", data, "nl.Pairwise(responses=('a', 'b'))"))
    nb.run_cell(0)
    nb.run_cell(1)
    root = widget(nb)
    item = root.get_by_test_id("nbl-pref-item")  # the item on screen, not the one laid out ahead
    first, second = item.get_by_test_id("nbl-response-0"), item.get_by_test_id("nbl-response-1")
    expect(item.get_by_test_id("nbl-prompt")).to_have_text(PAYLOADS[0])
    expect(first).to_contain_text(PAYLOADS[1])
    expect(first.locator("pre code")).to_have_text(PAYLOADS[0])  # a code block, shown as code
    expect(second.locator("strong")).to_have_text("bold")  # Markdown read, as text-derived DOM
    expect(second.locator("li code")).to_have_text(PAYLOADS[3])
    expect(second).to_contain_text(f"Heading {PAYLOADS[2]}")
    _no_markup(root)
    assert nb.page.evaluate(FLAGS)
