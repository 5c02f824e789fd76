"""A store that cannot be written shows a clear error in the widget and loses no answer.

The kernel lowers its own file-size limit (RLIMIT_FSIZE) to the store's current size, so the
operating system refuses the next write to the SQLite file, exactly as a full disk would (EFBIG
instead of ENOSPC; SQLite reports both as an I/O failure). The widget keeps the answers as
unsaved and re-sends them on its own timer; once the limit is lifted they are stored, with no
restart and no key pressed again. A store that turns read-only under the widget is handled the
same way.
"""

from __future__ import annotations

from playwright.sync_api import expect

from tests.harness.widgets import LABELS, all_saved, job_cells, state_of, widget

FILL_DISK = """\
import os, resource, signal
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a refused write returns EFBIG instead of killing us
_soft, _hard = resource.getrlimit(resource.RLIMIT_FSIZE)
_store = str(job.store.path)
_limit = max(os.path.getsize(_store), os.path.getsize(_store + '-wal'))
resource.setrlimit(resource.RLIMIT_FSIZE, (_limit, _hard))
"""
FREE_DISK = "resource.setrlimit(resource.RLIMIT_FSIZE, (_soft, _hard))"


def test_full_disk_keeps_answers_unsaved_then_stores_them(notebook, jupyter):
    texts = [f"disk text {i}" for i in range(10)]
    nb = notebook(
        [
            *job_cells(
                f"fsize-{jupyter.app}",
                f"pd.DataFrame({{'source': {texts!r}}})",
                f"nl.TextClassification({LABELS!r})",
            ),
            FILL_DISK,
            FREE_DISK,
        ]
    )
    nb.run_cell(0)
    nb.run_cell(1)
    root = widget(nb)
    root.click()
    nb.page.keyboard.press("1")
    all_saved(root)
    nb.run_cell(2)
    root.click()
    for key in ["2", "3", "1"]:
        nb.page.keyboard.press(key)
    expect(root.get_by_test_id("nbl-text")).to_have_text("disk text 4")  # labeling goes on
    expect(root.get_by_test_id("nbl-status")).to_have_text("3 unsaved")
    expect(root.get_by_test_id("nbl-error")).to_contain_text("Could not save answers yet")
    expect(root.get_by_test_id("nbl-error")).to_contain_text("disk I/O error")

    nb.run_cell(3)  # space again: the widget's resend timer stores what it kept
    all_saved(root)
    expect(root.get_by_test_id("nbl-status")).to_have_text("saved")
    state = state_of(nb)
    assert state["labels"] == {"0": "cat", "1": "dog", "2": "bird", "3": "cat"}


def test_read_only_store_keeps_answers_unsaved_then_stores_them(notebook, jupyter):
    """The store turned read-only under a running widget: the widget names the cause and keeps the
    answers until the store takes writes again.

    A folder made read-only while the kernel runs changes nothing (SQLite holds its files open
    for writing), and a store that is read-only when the job opens fails in ``Job(...)`` naming
    the file (tests/unit/test_store.py). What remains is a store that refuses writes mid-session,
    as a filesystem remounted read-only does: SQLite's ``query_only`` gives the same refusal
    ("attempt to write a readonly database") on the kernel's own connection.
    """
    texts = [f"read-only text {i}" for i in range(10)]
    nb = notebook(
        [
            *job_cells(
                f"readonly-{jupyter.app}",
                f"pd.DataFrame({{'source': {texts!r}}})",
                f"nl.TextClassification({LABELS!r})",
            ),
            "job.store._db.execute('PRAGMA query_only = ON')",
            "job.store._db.execute('PRAGMA query_only = OFF')",
        ]
    )
    nb.run_cell(0)
    nb.run_cell(1)
    root = widget(nb)
    root.click()
    nb.page.keyboard.press("1")
    all_saved(root)
    nb.run_cell(2)
    root.click()
    for key in ["3", "2"]:
        nb.page.keyboard.press(key)
    expect(root.get_by_test_id("nbl-text")).to_have_text("read-only text 3")
    expect(root.get_by_test_id("nbl-status")).to_have_text("2 unsaved")
    expect(root.get_by_test_id("nbl-error")).to_contain_text("Could not save answers yet")
    expect(root.get_by_test_id("nbl-error")).to_contain_text("readonly database")

    nb.run_cell(3)
    all_saved(root)
    state = state_of(nb)
    assert state["labels"] == {"0": "cat", "1": "bird", "2": "dog"}
