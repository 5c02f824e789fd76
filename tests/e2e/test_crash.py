"""The kernel is SIGKILLed right after a random key press, again and again: no answer is lost.

Each round presses a few keys as fast as the browser takes them (labels and skips, no waiting for
acknowledgements), then kills the kernel process at once. Jupyter restarts it; the cells are run
again; the new widget re-sends what the browser had not seen acknowledged. Afterwards the store
holds exactly the answers that were pressed, and the widget shows the first item nobody answered.

``make test`` runs a few rounds per UI; ``NBLABEL_CRASH_ROUNDS=50`` runs the long loop.
"""

from __future__ import annotations

import os
import random
import re

from playwright.sync_api import expect

from tests.harness.widgets import LABELS, all_saved, job_cells, state_of, widget

ROUNDS = int(os.environ.get("NBLABEL_CRASH_ROUNDS", "4"))
PID_CELL = "import os\nprint('PID', os.getpid())"


def _kernel_pid(nb, cell: int) -> int:
    nb.run_cell(cell)
    match = re.search(r"PID (\d+)", nb.cell_output_text(cell))
    assert match, nb.cell_output_text(cell)
    return int(match.group(1))


def test_sigkill_after_random_key_presses_loses_nothing(notebook, jupyter):
    n = 12 * ROUNDS + 10
    texts = [f"crash text {i}" for i in range(n)]
    nb = notebook(
        [
            *job_cells(
                f"crash-{jupyter.app}",
                f"pd.DataFrame({{'source': {texts!r}}})",
                f"nl.TextClassification({LABELS!r})",
            ),
            PID_CELL,
        ]
    )
    # JupyterLab's own kernel connection rejects a pending kernel_info request when the kernel it
    # asked dies (an unhandled rejection in the page, not nblabel's): this test provokes it.
    nb.allow_page_error(r"Canceled future for kernel_info_request")
    rng = random.Random(20261128)
    labels: dict[int, str] = {}
    skipped: set[int] = set()
    item = 0
    unacked: list[int] = []  # answers the browser had not seen acknowledged when the kernel died
    for round_ in range(ROUNDS):
        nb.run_cell(0)
        nb.run_cell(1)
        root = widget(nb)
        text = root.get_by_test_id("nbl-text")
        expect(text).to_have_text(f"crash text {item}")  # resumed at the first open item
        pid = _kernel_pid(nb, 2)
        root.click()
        for _ in range(rng.randint(1, 10)):
            key = rng.choice(["1", "2", "3", "1", "2", "3", "s"])
            nb.page.keyboard.press(key)
            if key == "s":
                skipped.add(item)
            else:
                labels[item] = LABELS[int(key) - 1]
            item += 1
        unacked.append(int(root.get_attribute("data-unacked") or 0))
        nb.kill_kernel(pid)  # right after the last key press, acknowledged or not
        assert _kernel_pid(nb, 2) != pid, f"round {round_}: the kernel was not restarted"

    nb.run_cell(0)
    nb.run_cell(1)
    root = widget(nb)
    all_saved(root)  # the last round's unacknowledged answers were re-sent and stored
    expect(root.get_by_test_id("nbl-text")).to_have_text(f"crash text {item}")
    state = state_of(nb)
    assert state["labels"] == {str(k): v for k, v in sorted(labels.items())}
    assert state["progress"]["skipped"] == len(skipped)
    assert state["progress"]["labeled"] == len(labels)
    print(f"{ROUNDS} kills, {item} answers; unacknowledged at the kill: {unacked}")
