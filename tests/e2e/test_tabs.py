"""Browser tabs: one closed mid-job and reopened, and two tabs labeling one job at once."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.harness import NotebookPage
from tests.harness.widgets import LABELS, all_saved, job_cells, state_of, widget


def _press_and_note(nb, root, keys: list[str], answers: dict[str, str]) -> None:
    """Press each key on the widget, noting which text it answered (read before the press)."""
    text = root.get_by_test_id("nbl-text")
    for key in keys:
        shown = text.inner_text()
        nb.page.keyboard.press(key)
        expect(text).not_to_have_text(shown)
        answers[shown] = LABELS[int(key) - 1]


def test_tab_closed_mid_job_and_reopened_loses_nothing(notebook, jupyter):
    texts = [f"tab text {i}" for i in range(20)]
    cells = job_cells(
        f"tabs-{jupyter.app}", f"pd.DataFrame({{'source': {texts!r}}})", f"nl.TextClassification({LABELS!r})"
    )
    nb = notebook(cells)
    nb.run_cell(0)
    nb.run_cell(1)
    root = widget(nb)
    root.click()
    for key in ["1", "2", "3", "1", "2"]:
        nb.page.keyboard.press(key)  # no waiting: some may be unacknowledged when the tab closes
    name = nb.path
    nb.page.close()

    again = NotebookPage(nb.page.context.new_page(), jupyter).open(name, cells)
    try:
        again.run_cell(1)  # the same kernel: the job is still there; a new widget shows it
        root = widget(again)
        all_saved(root)
        expect(root.get_by_test_id("nbl-text")).to_have_text("tab text 5")
        state = state_of(again)
        assert state["labels"] == {"0": "cat", "1": "dog", "2": "bird", "3": "cat", "4": "dog"}
    finally:
        again.close()


def test_two_tabs_label_one_job(notebook, jupyter):
    texts = [f"shared text {i}" for i in range(30)]
    cells = job_cells(
        f"twotabs-{jupyter.app}",
        f"pd.DataFrame({{'source': {texts!r}}})",
        f"nl.TextClassification({LABELS!r})",
    )
    first = notebook(cells)  # two notebooks, two kernels, one job store
    second = notebook(cells)
    answers: dict[str, str] = {}
    first.run_cell(0)
    first.run_cell(1)
    a = widget(first)
    a.click()
    _press_and_note(first, a, ["1", "2", "3", "1", "2"], answers)
    all_saved(a)

    second.run_cell(0)
    second.run_cell(1)
    b = widget(second)
    expect(b.get_by_test_id("nbl-text")).to_have_text("shared text 5")  # after what tab one labeled
    b.click()
    _press_and_note(second, b, ["3", "3", "2", "1"], answers)
    all_saved(b)

    first.page.bring_to_front()
    # Tab one hears of tab two's answers and moves past them (before pressing: an item that
    # gives way between reading the screen and the key press would take the key).
    expect(a.get_by_test_id("nbl-text")).to_have_text("shared text 9")
    a.click()
    _press_and_note(first, a, ["2", "2", "1", "3", "3", "1"], answers)
    all_saved(a)

    expected = {str(texts.index(t)): label for t, label in answers.items()}
    for nb in (first, second):  # both kernels read the same store
        state = state_of(nb)
        assert state["labels"] == dict(sorted(expected.items(), key=lambda kv: int(kv[0])))
        assert state["progress"]["labeled"] == len(expected) == 15
