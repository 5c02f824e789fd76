"""The auto-labeler in the browser: proposals appear, Enter accepts one, rounds stream in."""

from __future__ import annotations

import json
import re

from playwright.sync_api import expect

WORDS = {
    "sport": "match goal team player coach league season score win stadium",
    "food": "recipe bake flour sugar oven dinner taste spicy soup bread",
    "tech": "software chip computer laptop code network cloud server app data",
}

SETUP = """
import json, random
import pandas as pd
import nblabel as nl
rng = random.Random(0)
words = {words!r}
rows = []
for i in range({n}):
    label = list(words)[i % 3]
    rows.append({{"source": f"{{i}}: " + " ".join(rng.choices(words[label].split(), k=12)), "gold": label}})
df = pd.DataFrame(rows)
job = nl.Job({name!r}, df, nl.TextClassification(list(words)))
"""


def test_proposal_is_shown_and_enter_accepts_it(notebook, jupyter):
    nb = notebook(
        [
            SETUP.format(words=WORDS, n=90, name=f"al-{jupyter.app}"),
            "for i in range(30):\n    job.label(i, df.gold[i])\nreport = job.autolabel(background=False)\nprint(report)",
            "job",
        ]
    )
    nb.run_cell(0)
    nb.run_cell(1)
    assert "round 1: 30 human answers" in nb.cell_output_text(1)
    nb.run_cell(2)
    root = nb.cell(2).get_by_test_id("nbl-root")
    proposal = root.get_by_test_id("nbl-proposal")
    expect(proposal).to_contain_text(
        re.compile(r"Model suggests: (sport|food|tech) \(\d+%\) · Enter accepts")
    )
    suggested = re.search(r"suggests: (\w+)", proposal.inner_text()).group(1)
    shown = root.get_by_test_id("nbl-text").inner_text()
    root.click()
    nb.page.keyboard.press("Enter")
    expect(root.get_by_test_id("nbl-text")).not_to_have_text(shown)
    expect(root).to_have_attribute("data-unacked", "0")
    i = nb.add_cell(
        "print('STATE' + json.dumps([[a.item, a.value, a.kind] for a in job.store.annotations(job.attribute)"
        " if a.kind == 'human'][-1]))"
    )
    nb.run_cell(i)
    key, value, kind = json.loads(re.search(r"STATE(.*)", nb.cell_output_text(i)).group(1))
    assert (value, kind) == (suggested, "human")
    assert key.startswith("source:")


WAIT_FOR_ROUND = (
    "import time\n"
    "deadline = time.time() + 50\n"
    "while job.autolabel_status.get('round', 0) < {n} and time.time() < deadline:\n"
    "    time.sleep(0.2)\n"
    "print('ROUND', job.autolabel_status.get('round'), job.autolabel_status['state'])"
)


def test_background_rounds_stream_proposals_to_the_widget(notebook, jupyter):
    nb = notebook(
        [
            SETUP.format(words=WORDS, n=120, name=f"albg-{jupyter.app}"),
            "job",
            "job.autolabel(every=5, interval=1)",
            WAIT_FOR_ROUND.format(n=1),
            WAIT_FOR_ROUND.format(n=2),
            "job.stop_autolabel()\nprint(job.autolabel_status['state'])",
        ]
    )
    nb.run_cell(0)
    nb.run_cell(1)
    root = nb.cell(1).get_by_test_id("nbl-root")
    text = root.get_by_test_id("nbl-text")
    expect(text).to_be_visible()
    proposal = root.get_by_test_id("nbl-proposal")
    expect(proposal).to_be_hidden()
    nb.run_cell(2)

    def answer(n: int) -> None:
        root.click()
        for _ in range(n):  # answer from the words each text is made of
            shown = text.inner_text()
            first = shown.split(": ", 1)[1].split()[0]
            label = next(k for k, w in WORDS.items() if first in w.split())
            nb.page.keyboard.press(str(list(WORDS).index(label) + 1))
            expect(text).not_to_have_text(shown)
        expect(root).to_have_attribute("data-unacked", "0")

    answer(12)
    nb.run_cell(3)
    assert re.search(r"ROUND 1 ", nb.cell_output_text(3))
    answer(6)
    nb.run_cell(4)
    assert re.search(r"ROUND [2-9]", nb.cell_output_text(4))
    # The item on screen was fetched before the rounds: its proposal was streamed to it.
    expect(proposal).to_contain_text("Model suggests:", timeout=15_000)
    nb.run_cell(5)
    assert nb.cell_output_text(5).strip() == "stopped"
