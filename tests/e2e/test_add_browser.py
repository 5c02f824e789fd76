"""Rows added from another kernel reach an open widget that had run out of items (Job.add)."""

from __future__ import annotations

import pandas as pd
from playwright.sync_api import expect

from nblabel import Job, TextClassification

LABELS = ["sport", "food"]


def test_a_row_added_elsewhere_appears_in_the_open_widget(notebook, jupyter, tmp_path):
    store = str(tmp_path / "added.sqlite")
    name = f"add-{jupyter.app}"
    data = pd.DataFrame({"source": ["first text", "second text"]})
    setup = (
        "import pandas as pd\nimport nblabel as nl\n"
        f"job = nl.Job({name!r}, pd.DataFrame({{'source': ['first text', 'second text']}}), "
        f"nl.TextClassification({LABELS!r}), store={store!r})\n"
        "job.label(0, 'sport'); job.label(1, 'food')"
    )
    nb = notebook([setup, "job"])
    nb.run_cell(0)
    nb.run_cell(1)
    root = nb.cell(1).get_by_test_id("nbl-root")
    expect(root).to_have_attribute("data-state", "done")

    # This test process is the other kernel: it opens the job on the same store and adds a row.
    other = Job(name, data, TextClassification(LABELS), store=store, annotator="bo")
    assert other.add(pd.DataFrame({"source": ["streamed text", "first text"]})) == 1
    expect(root.get_by_test_id("nbl-text")).to_have_text("streamed text", timeout=15_000)
    expect(root.get_by_test_id("nbl-progress")).to_contain_text("2 labeled · 0 skipped · 1 left")

    root.click()
    nb.page.keyboard.press("2")  # food
    expect(root).to_have_attribute("data-unacked", "0")
    expect(root).to_have_attribute("data-state", "done")
    other.refresh()
    assert other.current(2).value == "food"
