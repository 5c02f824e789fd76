"""The named-entity widget in real JupyterLab 4 and Notebook 7: mouse and keyboard selection,
exact Unicode offsets stored, overlapping entities stacked and stepped through with e, HTML inert,
pre-annotations accepted with Enter."""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import expect

from tests.harness.widgets import TEXT_POINT_JS

LABELS = ["Person", "Place", "Date"]
EMOJI = "Olá 👋 — Zoë met 李雷 in Zürich 🇨🇭 on 2024-02-29."
CRLF = "Line one: Ann\r\nLine two:\tBern\r\nthe end"


def job_cells(
    name: str, texts: list[str], task: str = f"nl.NamedEntities({LABELS!r})", extra: str = ""
) -> list[str]:
    return [
        "import json\nimport pandas as pd\nimport nblabel as nl\n"
        f"df = pd.DataFrame({{'source': {texts!r}}})\n{extra}"
        f"job = nl.Job({name!r}, df, {task}, attribute='ner')",
        "job",
    ]


def stored(nb) -> list:
    """Per row: None, or [label, start, end, text[start:end]] per stored entity."""
    code = (
        "_out = job.to_dataframe()\n"
        "print('STATE' + json.dumps([None if not isinstance(v, dict) else "
        "[[e['label'], e['startOffset'], e['endOffset'], s[e['startOffset']:e['endOffset']]]"
        " for e in v['annotations']['entities']] for v, s in zip(_out['ner'], _out['source'])]))"
    )
    i = nb.add_cell(code)
    nb.run_cell(i)
    text = nb.cell_output_text(i)
    match = re.search(r"STATE(\[.*\])", text)
    assert match, f"no state printed: {text!r}"
    return json.loads(match.group(1))


def widget(nb, cell: int = 1):
    root = nb.cell(cell).get_by_test_id("nbl-root")
    expect(root).to_be_visible()
    return root


def point(nb, root, text: str, start: int, end: int) -> dict:
    """The middle of UTF-16 range [start, end) of the document on screen."""
    return nb.page.evaluate(TEXT_POINT_JS, [root.element_handle(), start, end])


def u16(text: str, cp: int) -> int:
    """UTF-16 offset of code point ``cp`` (what the page's DOM counts)."""
    return len(text[:cp].encode("utf-16-le")) // 2


def drag(nb, root, text: str, first: int, last: int, *, alt: bool = False) -> None:
    """Drag the mouse from the character at code point ``first`` to the one at ``last``."""
    a = point(nb, root, text, u16(text, first), u16(text, first + 1))
    b = point(nb, root, text, u16(text, last), u16(text, last + 1))
    mouse = nb.page.mouse
    if alt:
        nb.page.keyboard.down("Alt")
    mouse.move(a["x"] - 2, a["y"])
    mouse.down()
    mouse.move(b["x"] + 2, b["y"], steps=4)
    mouse.up()
    if alt:
        nb.page.keyboard.up("Alt")


def entity(root, label: str, start: int, end: int):
    return root.get_by_test_id("nbl-doc").locator(
        f'mark[data-label="{label}"][data-start="{start}"][data-end="{end}"]'
    )


@pytest.mark.notebook7
def test_mouse_and_keyboard_selections_store_exact_unicode_offsets(notebook, jupyter, screenshot_path):
    nb = notebook(job_cells(f"ner-{jupyter.app}", [EMOJI, CRLF, "third text"]))
    nb.run_cell(0)
    nb.run_cell(1)
    root = widget(nb)
    doc = root.get_by_test_id("nbl-doc")
    expect(doc).to_have_text(EMOJI)
    expect(root.get_by_test_id("nbl-legend")).to_contain_text("1Person")
    root.click()

    # Mouse: a drag from inside "Zürich" to inside it snaps to the word; then the label key.
    z = EMOJI.index("Zürich")
    drag(nb, root, EMOJI, z + 1, z + 3)
    expect(root.get_by_test_id("nbl-hint")).to_contain_text("“Zürich” · press a label key")
    nb.page.keyboard.press("2")
    expect(entity(root, "Place", 22, 28)).to_have_text("Zürich")

    # Label key first, then a double click on a word.
    nb.page.keyboard.press("1")
    expect(root.get_by_test_id("nbl-label-0")).to_have_attribute("aria-pressed", "true")
    zoe = EMOJI.index("Zoë")
    p = point(nb, root, EMOJI, u16(EMOJI, zoe + 1), u16(EMOJI, zoe + 2))
    nb.page.mouse.dblclick(p["x"], p["y"])
    expect(entity(root, "Person", 8, 11)).to_have_text("Zoë")
    nb.page.keyboard.press("Escape")  # stop labeling as Person

    # Alt: exact characters, no snapping ("李" alone, not "李雷").
    li = EMOJI.index("李")
    drag(nb, root, EMOJI, li, li, alt=True)
    nb.page.keyboard.press("1")
    expect(entity(root, "Person", 16, 17)).to_have_text("李")

    # Entities may overlap: "met 李雷" around "李" nests, drawn as marks inside marks.
    met = EMOJI.index("met")
    drag(nb, root, EMOJI, met + 1, li + 1)
    expect(root.get_by_test_id("nbl-hint")).to_contain_text("“met 李雷” · press a label key")
    nb.page.keyboard.press("3")
    doc = root.get_by_test_id("nbl-doc")
    expect(doc.locator('mark[data-label="Date"][data-start="12"][data-end="18"]')).to_have_count(3)
    expect(doc.locator('mark[data-label="Date"] > mark[data-label="Person"][data-start="16"]')).to_have_count(
        1
    )
    # Click the inner one, then e steps out to the entity around it and back.
    hint = root.get_by_test_id("nbl-hint")
    doc.locator('mark[data-start="16"]').click()
    expect(hint).to_contain_text("Selected: Person “李”")
    nb.page.keyboard.press("e")
    expect(hint).to_contain_text("Selected: Date “met 李雷”")
    expect(doc.locator('mark.nbl-selected[data-label="Date"]')).to_have_count(3)
    nb.page.keyboard.press("e")
    expect(hint).to_contain_text("Selected: Person “李”")

    # Relabel the selected inner entity, then undo and redo that.
    nb.page.keyboard.press("2")
    expect(entity(root, "Place", 16, 17)).to_be_visible()
    nb.page.keyboard.press("z")
    expect(entity(root, "Person", 16, 17)).to_be_visible()
    nb.page.keyboard.press("y")
    expect(entity(root, "Place", 16, 17)).to_be_visible()
    # ... and remove it with Delete: the Date is one mark again.
    root.get_by_test_id("nbl-doc").locator('mark[data-start="16"]').click()
    nb.page.keyboard.press("Delete")
    expect(root.get_by_test_id("nbl-doc").locator("mark.nbl-ent")).to_have_count(3)
    # Alt-drag "雷" inside the Date: nested again; the Date's underline sits below the Person's.
    drag(nb, root, EMOJI, li + 1, li + 1, alt=True)
    expect(hint).to_contain_text("“雷” inside Date “met 李雷” (e selects it)")
    nb.page.keyboard.press("1")
    inner = entity(root, "Person", 17, 18)
    expect(inner).to_have_text("雷")
    padding = "m => parseFloat(getComputedStyle(m).paddingBottom)"
    assert inner.evaluate(padding) == 0
    assert inner.locator("xpath=..").evaluate(padding) > 0
    if jupyter.app == "lab":
        drag(nb, root, EMOJI, EMOJI.index("2024"), EMOJI.index("29"))
        root.screenshot(path=str(screenshot_path("entities.png")))
        nb.page.keyboard.press("Escape")
    nb.page.keyboard.press("Enter")

    # Keyboard only on a CRLF + TAB text: the token cursor, Shift extends, label keys.
    expect(doc).to_have_text(CRLF.replace("\r\n", "\n"), use_inner_text=True)
    assert doc.evaluate("d => d.textContent") == CRLF  # stored as sent: \r\n and \t kept
    for _ in range(4):  # Line, one, :, Ann
        nb.page.keyboard.press("ArrowRight")
    expect(root.get_by_test_id("nbl-hint")).to_contain_text("“Ann”")
    nb.page.keyboard.press("1")
    for _ in range(4):  # Line, two, :, Bern
        nb.page.keyboard.press("ArrowRight")
    nb.page.keyboard.press("2")
    for _ in range(3):
        nb.page.keyboard.press("ArrowLeft")  # back to the second "Line"
    nb.page.keyboard.press("Shift+ArrowRight")  # "Line two"
    expect(root.get_by_test_id("nbl-hint")).to_contain_text("“Line two”")
    nb.page.keyboard.press("3")
    expect(root.get_by_test_id("nbl-doc").locator("mark.nbl-ent")).to_have_count(3)
    nb.page.keyboard.press("Enter")
    expect(doc).to_have_text("third text")
    nb.page.keyboard.press("s")
    expect(root).to_have_attribute("data-unacked", "0")

    assert stored(nb) == [
        [
            ["Person", 8, 11, "Zoë"],
            ["Date", 12, 18, "met 李雷"],
            ["Person", 17, 18, "雷"],
            ["Place", 22, 28, "Zürich"],
        ],
        [["Person", 10, 13, "Ann"], ["Date", 15, 23, "Line two"], ["Place", 25, 29, "Bern"]],
        None,
    ]


def test_html_in_the_text_is_shown_as_text_and_runs_nothing(notebook, jupyter):
    evil = '<img src=x onerror="window.__nblabel_pwned = 1"><b>bold</b><script>window.__s=1</script> by Ann'
    nb = notebook(job_cells(f"html-{jupyter.app}", [evil, "second"]))
    nb.run_cell(0)
    nb.run_cell(1)
    root = widget(nb)
    doc = root.get_by_test_id("nbl-doc")
    expect(doc).to_have_text(evil)
    root.click()
    b = evil.index("<b>")
    drag(nb, root, evil, b, b + len("<b>bold</b>") - 1, alt=True)
    nb.page.keyboard.press("1")
    expect(entity(root, "Person", b, b + len("<b>bold</b>"))).to_have_text("<b>bold</b>")
    assert doc.locator("img, b, script").count() == 0
    assert nb.page.evaluate("() => window.__nblabel_pwned === undefined && window.__s === undefined")
    nb.page.keyboard.press("Enter")
    expect(doc).to_have_text("second")
    expect(root).to_have_attribute("data-unacked", "0")
    assert stored(nb)[0] == [["Person", b, b + 11, "<b>bold</b>"]]


def test_pre_annotations_are_accepted_with_enter_or_edited_first(notebook, jupyter):
    texts = ["Zoë flew from Zürich to Geneva on 2024-02-29.", "Ann met Zoë in Geneva."]
    task = (
        f"nl.NamedEntities({LABELS!r}, pre_annotate=[from_dictionary({{'Place': ['Zürich', 'Geneva'], "
        "'Zoë': 'Person', 'Ann': 'Person'}), from_patterns({'Date': r'\\d{4}-\\d\\d-\\d\\d'})])"
    )
    nb = notebook(
        job_cells(
            f"pre-{jupyter.app}",
            texts,
            task,
            extra="from nblabel.tasks.preannotate import from_dictionary, from_patterns\n",
        )
    )
    nb.run_cell(0)
    nb.run_cell(1)
    root = widget(nb)
    expect(root.get_by_test_id("nbl-doc").locator("mark.nbl-proposed")).to_have_count(4)
    expect(root.get_by_test_id("nbl-proposal")).to_contain_text(
        "4 proposed entities (lowest confidence 100%) · Enter accepts"
    )
    root.click()
    nb.page.keyboard.press("Enter")  # accept as proposed
    expect(root.get_by_test_id("nbl-doc")).to_have_text(texts[1])
    expect(root.get_by_test_id("nbl-doc").locator("mark.nbl-proposed")).to_have_count(3)
    # Edit before accepting: remove "Ann", relabel "Geneva" as a Date (wrong, but an edit).
    root.get_by_test_id("nbl-doc").locator('mark[data-start="0"]').click()
    nb.page.keyboard.press("Delete")
    root.get_by_test_id("nbl-doc").locator('mark[data-label="Place"]').click()
    nb.page.keyboard.press("3")
    expect(root.get_by_test_id("nbl-doc").locator("mark.nbl-proposed")).to_have_count(1)  # "Zoë" untouched
    nb.page.keyboard.press("Enter")
    expect(root).to_have_attribute("data-unacked", "0")
    assert stored(nb) == [
        [
            ["Person", 0, 3, "Zoë"],
            ["Place", 14, 20, "Zürich"],
            ["Place", 24, 30, "Geneva"],
            ["Date", 34, 44, "2024-02-29"],
        ],
        [["Person", 8, 11, "Zoë"], ["Date", 15, 21, "Geneva"]],
    ]


def test_attributes_of_the_selected_entity_and_a_required_one_blocks_enter(notebook, jupyter):
    attributes = {
        "Person": [{"name": "role", "type": "string", "enum": ["guest", "host"], "isRequired": True}]
    }
    task = f"nl.NamedEntities({LABELS!r}, attributes={attributes!r})"
    nb = notebook(job_cells(f"entattrs-{jupyter.app}", ["Ann met Bo.", "next"], task))
    nb.run_cell(0)
    nb.run_cell(1)
    root = widget(nb)
    root.click()
    nb.page.keyboard.press("ArrowRight")  # "Ann"
    nb.page.keyboard.press("1")
    nb.page.keyboard.press("Enter")
    expect(root.get_by_test_id("nbl-reason")).to_have_text(
        "Not submitted: Person “Ann” needs role (t goes to the attributes)."
    )
    panel = root.get_by_test_id("nbl-attrs-object")
    expect(panel.locator("legend")).to_have_text("Person “Ann”")
    nb.page.keyboard.press("t")
    role = panel.get_by_test_id("nbl-attr-role")
    expect(role).to_be_focused()
    role.select_option("host")
    nb.page.keyboard.press("Escape")
    nb.page.keyboard.press("Enter")
    expect(root.get_by_test_id("nbl-doc")).to_have_text("next")
    expect(root).to_have_attribute("data-unacked", "0")
    code = "print('STATE' + json.dumps(job.to_dataframe()['ner'][0]['annotations']['entities']))"
    i = nb.add_cell(code)
    nb.run_cell(i)
    match = re.search(r"STATE(\[.*\])", nb.cell_output_text(i))
    assert match and json.loads(match.group(1)) == [
        {"label": "Person", "startOffset": 0, "endOffset": 3, "label-category-attributes": {"role": "host"}}
    ]
