"""The preference widget in real JupyterLab 4 and Notebook 7: pairwise and ranking answers by
keyboard, with ties, undo and skip; the stored answers are what was pressed; two responses side
by side and more stacked, a long response scrolling with the others; the instructions behind i. In JupyterLab only:
a rating with a typed correction (the widget's keys typed in the box stay text) and Enter
accepting the judge's proposal."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.harness.widgets import all_saved, focus, job_cells, kernel_json, widget


def shown(root, testid: str):
    """A part of the item on screen (the next item is laid out ahead with the same parts)."""
    return root.get_by_test_id("nbl-pref-item").get_by_test_id(testid)


def answers(nb) -> dict:
    """Each labeled row's stored answer, and the progress, as the kernel holds them."""
    return kernel_json(
        nb,
        "_out = job.to_dataframe()\n"
        "print('STATE' + json.dumps({'answers': {str(i): v for i, v in enumerate(_out[job.attribute])"
        " if isinstance(v, dict)}, 'progress': job.progress._asdict()}))",
    )


def frame(n: int, k: int) -> str:
    columns = ", ".join(f"'r{r}': [f'response {r} to prompt {{i}}' for i in range({n})]" for r in range(k))
    return f"pd.DataFrame({{'source': [f'prompt {{i}}' for i in range({n})], {columns}}})"


def long_first(data: str) -> str:
    """The frame with its first item's first response long (150 paragraphs): taller than the item block."""
    return f"{data}.assign(r0=lambda d: d['r0'].where(d.index > 0, 'long response\\n\\n' + 'a line\\n\\n' * 150))"


# The item on screen: where its responses sit, whether they scroll inside the item block (and not
# each on its own), and how far each moved when the block scrolled.
LAYOUT = """(root) => {
  const block = root.querySelector('[data-testid=nbl-pref-item]');
  const responses = [...block.querySelectorAll('.nbl-response')];
  const before = responses.map((r) => r.getBoundingClientRect());
  block.scrollTop = 200;
  const moved = responses.map((r, i) => Math.round(before[i].top - r.getBoundingClientRect().top));
  block.scrollTop = 0;
  return {
    tops: before.map((r) => Math.round(r.top)), lefts: before.map((r) => Math.round(r.left)),
    blockScrolls: block.scrollHeight > block.clientHeight,
    ownScroll: responses.some((r) => r.scrollHeight > r.clientHeight + 1), moved,
  };
}"""


@pytest.mark.notebook7
def test_pairwise_by_keyboard_with_tie_undo_and_skip(notebook, jupyter):
    task = (
        "nl.Pairwise(responses=('r0', 'r1'), instructions='Prefer the **harmless** one.\\n\\nTies are fine.')"
    )
    nb = notebook(job_cells(f"pairs-{jupyter.app}", long_first(frame(6, 2)), task))
    nb.run_cell(0)
    nb.run_cell(1)
    root = widget(nb)
    position = root.get_by_test_id("nbl-position")
    expect(shown(root, "nbl-response-1")).to_contain_text("response 1 to prompt 0")
    # Two responses side by side; the long one scrolls with the other, in the one item block.
    layout = root.evaluate(LAYOUT)
    assert layout["tops"][0] == layout["tops"][1] and layout["lefts"][1] > layout["lefts"][0]
    assert layout["blockScrolls"] and not layout["ownScroll"]
    assert layout["moved"] == [200, 200]
    focus(root)
    # i opens the instructions (Markdown as text-derived DOM) and closes them; no answer is given.
    expect(root.get_by_test_id("nbl-instructions-short")).to_contain_text("Prefer the harmless one.")
    nb.page.keyboard.press("i")
    expect(root.get_by_test_id("nbl-instructions")).to_contain_text("Ties are fine.")
    expect(root.get_by_test_id("nbl-instructions").locator("strong")).to_have_text("harmless")
    nb.page.keyboard.press("i")
    expect(root.get_by_test_id("nbl-instructions")).to_be_hidden()
    expect(position).to_have_text("Item 1 of 6")
    for key, n in (("a", 2), ("b", 3), ("t", 4)):
        nb.page.keyboard.press(key)
        expect(position).to_have_text(f"Item {n} of 6")
    nb.page.keyboard.press("z")  # the tie on item 2 is taken back
    expect(position).to_have_text("Item 3 of 6")
    nb.page.keyboard.press("a")
    nb.page.keyboard.press("s")  # item 3 skipped
    expect(position).to_have_text("Item 5 of 6")
    expect(shown(root, "nbl-prompt")).to_have_text("prompt 4")
    all_saved(root)
    state = answers(nb)
    assert state["answers"] == {"0": {"choice": "A"}, "1": {"choice": "B"}, "2": {"choice": "A"}}
    assert state["progress"]["skipped"] == 1


@pytest.mark.notebook7
def test_ranking_by_keyboard_with_ties_dimensions_undo_and_skip(notebook, jupyter):
    task = (
        "nl.Ranking([{'name': 'Clarity', 'allowTie': True}, {'name': 'Correctness', 'allowTie': False}],"
        " responses=('r0', 'r1', 'r2'))"
    )
    nb = notebook(job_cells(f"ranks-{jupyter.app}", long_first(frame(4, 3)), task))
    nb.run_cell(0)
    nb.run_cell(1)
    root = widget(nb)
    position = root.get_by_test_id("nbl-position")
    expect(shown(root, "nbl-response-2")).to_contain_text("response 2 to prompt 0")
    layout = root.evaluate(LAYOUT)  # three responses: stacked, one under the other
    assert len(set(layout["lefts"])) == 1 and layout["tops"] == sorted(layout["tops"])
    assert len(set(layout["tops"])) == 3
    focus(root)
    block = root.get_by_test_id("nbl-pref-item")
    block.evaluate("(b) => { b.scrollTop = 150; }")  # reading the long response A
    press = nb.page.keyboard.press
    for key in ("2", "=", "1", "3"):  # Clarity: r1 first, r0 tied with it, r2 third
        press(key)
    expect(root).to_have_attribute("data-dimension", "Correctness")  # a full dimension moves on
    for key in ("3", "1", "2"):
        press(key)
    assert block.evaluate("(b) => b.scrollTop") == 150  # ranking keeps the place read
    press("Enter")
    expect(position).to_have_text("Item 2 of 4")
    for key in ("1", "2", "z", "3", "2"):  # the second placement is taken back before the third
        press(key)
    press("Shift+Tab")
    expect(root).to_have_attribute("data-dimension", "Clarity")
    expect(shown(root, "nbl-response-1")).to_contain_text("rank 3")  # each response shows its rank
    press("Tab")
    press("Enter")  # Correctness is not ranked yet: nothing is stored
    expect(root.get_by_test_id("nbl-error")).to_contain_text("every dimension")
    expect(position).to_have_text("Item 2 of 4")
    for key in ("2", "1", "3"):
        press(key)
    press("Enter")
    press("s")
    expect(position).to_have_text("Item 4 of 4")
    all_saved(root)
    state = answers(nb)
    ranked = [("Clarity", [1, 1, 3], [1, 3, 2]), ("Correctness", [2, 3, 1], [2, 1, 3])]
    for row in (0, 1):
        assert state["answers"][str(row)] == {
            "ordinalRankingDimensions": [{"name": n, "responseRankings": r[row]} for n, *r in ranked]
        }
    assert len(state["answers"]) == 2 and state["progress"]["skipped"] == 1


JUDGE = """
def judge(prompt, responses):
    return {'ratingDimensions': [{'name': 'Help', 'responseRatings': [3]},
                                 {'name': 'Harm', 'responseRatings': [5]}]}, 0.6
job.autolabel(judge=judge, random_fraction=0.0)  # proposals for all, the queue in row order"""


@pytest.mark.parametrize("jupyter", ["lab"], indirect=True)
def test_rating_with_a_correction_and_enter_accepting_the_judge(notebook, jupyter):
    task = "nl.Rating((1, 5), ['Help', 'Harm'], correction=True, responses=('r0',))"
    cells = job_cells("rated", frame(3, 1), task)
    nb = notebook([cells[0] + JUDGE, cells[1]])
    nb.run_cell(0)
    nb.run_cell(1)
    root = widget(nb)
    position = root.get_by_test_id("nbl-position")
    expect(shown(root, "nbl-response-0")).to_contain_text("response 0 to prompt 0")
    expect(root.get_by_test_id("nbl-proposal")).to_contain_text(
        "Judge suggests: Help: 3 · Harm: 5 (60%) · Enter accepts"
    )
    focus(root)
    press = nb.page.keyboard.press
    press("4")  # Help; the one response is rated, so the next dimension
    expect(root).to_have_attribute("data-dimension", "Harm")
    press("2")
    press("e")  # the correction box opens on the response's text
    box = root.get_by_test_id("nbl-correction")
    expect(box).to_be_focused()
    expect(box).to_have_value("response 0 to prompt 0")
    press("Control+End")
    nb.page.keyboard.type(" <b>fixed</b> a s z t 1")  # the widget's keys, typed: all the box's
    expect(position).to_have_text("Item 1 of 3")
    expect(shown(root, "nbl-response-0")).to_contain_text("2 / 5")  # no score was changed by typing
    press("Enter")  # submits from the box
    expect(position).to_have_text("Item 2 of 3")
    expect(box).to_have_value("")
    focus(root)
    press("Enter")  # nothing rated: Enter accepts the judge's proposal
    expect(position).to_have_text("Item 3 of 3")
    all_saved(root)
    state = answers(nb)
    assert state["answers"] == {
        "0": {
            "ratingDimensions": [
                {"name": "Help", "responseRatings": [4]},
                {"name": "Harm", "responseRatings": [2]},
            ],
            "correction": "response 0 to prompt 0 <b>fixed</b> a s z t 1",
        },
        "1": {
            "ratingDimensions": [
                {"name": "Help", "responseRatings": [3]},
                {"name": "Harm", "responseRatings": [5]},
            ]
        },
    }
