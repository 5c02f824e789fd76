"""Custom tasks (GT worker templates) in real JupyterLab 4 and Notebook 7.

Each test renders a template using a family of crowd-* elements, answers it with the mouse and
the keyboard, and checks that the stored answer is exactly the output GT documents for those
elements (SMDG sms-ui-template-crowd-*.md), read back from ``job.to_dataframe()``.
"""

from __future__ import annotations

import base64
import io
import json
import re
from pathlib import Path

import pytest
from PIL import Image, ImageDraw
from playwright.sync_api import expect

FORM = """\
<script src="https://assets.crowd.aws/crowd-html-elements.js"></script>
<style>p.note { color: rgb(200, 0, 0); } body { display: none; }</style>
<crowd-form>
  <crowd-alert type="warning" dismissible>Read {{ task.input.source }} carefully</crowd-alert>
  <crowd-card heading="Item card"><p class="note">{{ task.input.source }}</p></crowd-card>
  <crowd-instructions link-text="View instructions" link-type="button">
    <short-summary><p>Summarize the text.</p></short-summary>
    <detailed-instructions><p>Details here.</p></detailed-instructions>
    <positive-example><p>good one</p></positive-example>
    <negative-example><p>bad one</p></negative-example>
  </crowd-instructions>
  <crowd-classifier name="sentiment" categories="['Positive', 'Negative', 'Neutral']" header="Sentiment?">
    <classification-target>{{ task.input.source }}</classification-target>
  </crowd-classifier>
  <crowd-input name="summary" label="Summary" required></crowd-input>
  <crowd-input name="unused" label="Left empty"></crowd-input>
  <crowd-text-area name="comment" label="Comment"></crowd-text-area>
  <div><crowd-checkbox name="image_attributes" value="blurry">Blurry</crowd-checkbox></div>
  <div><crowd-checkbox name="image_attributes" value="dim">Too dim</crowd-checkbox></div>
  <crowd-radio-group>
    <crowd-radio-button name="tech" value="tech">Technology</crowd-radio-button>
    <crowd-radio-button name="politics" value="politics">Politics</crowd-radio-button>
  </crowd-radio-group>
  <crowd-slider name="howMuch" min="1" max="10" step="1" value="5" pin></crowd-slider>
  <crowd-toggle-button name="theToggler"></crowd-toggle-button>
</crowd-form>
"""

CLASSIFIERS = """\
<crowd-form>
  <crowd-image-classifier name="category" src="{{ task.input.taskObject | grant_read_access }}"
      categories="['Cat', 'Dog', 'Bird']" header="What is it?">
    <worker-comment header="Why?" link-text="Add a comment"></worker-comment>
  </crowd-image-classifier>
  <crowd-image-classifier-multi-select name="tags" src="{{ task.input.taskObject | grant_read_access }}"
      categories="['Red', 'Green', 'Blue']" header="Colours?">
  </crowd-image-classifier-multi-select>
  <crowd-classifier-multi-select name="topics" categories="['Animals', 'Food']" header="Topics?"
      exclusion-category="{ text: 'None of the above' }">
    <classification-target>{{ task.input.caption }}</classification-target>
  </crowd-classifier-multi-select>
  <crowd-button form-action="submit" variant="primary">Send answer</crowd-button>
</crowd-form>
"""

DRAWING = """\
<crowd-form>
  <crowd-bounding-box name="boxes" src="{{ task.input.taskObject | grant_read_access }}"
      header="Box the animals" labels="['Cat', 'Dog']"></crowd-bounding-box>
  <crowd-keypoint name="points" src="{{ task.input.taskObject | grant_read_access }}"
      header="Mark the eyes" labels="['Left eye', 'Right eye']"></crowd-keypoint>
  <crowd-polygon name="shapes" src="{{ task.input.taskObject | grant_read_access }}"
      header="Outline the roof" labels="['Roof']"></crowd-polygon>
</crowd-form>
"""

ENTITIES = """\
<crowd-entity-annotation name="crowd-entity-annotation" header="Highlight the entities"
  labels="[{'label': 'person', 'shortDisplayName': 'per', 'fullDisplayName': 'Person'},
           {'label': 'place', 'shortDisplayName': 'pla', 'fullDisplayName': 'Place'}]"
  text="{{ task.input.source }}">
  <short-instructions>Apply labels to words or phrases.</short-instructions>
</crowd-entity-annotation>
"""


def make_image(path: Path, size: tuple[int, int] = (800, 600)) -> str:
    img = Image.new("RGB", size, (70, 110, 160))
    draw = ImageDraw.Draw(img)
    draw.rectangle((100, 50, 300, 250), fill=(220, 180, 60))
    draw.polygon([(500, 100), (700, 100), (600, 20)], fill=(180, 40, 40))
    img.save(path, quality=90)
    return str(path)


def open_job(notebook, jupyter, name: str, template: str, data: str):
    (jupyter.root_dir / f"{name}.html").write_text(template)
    nb = notebook(
        [
            "import json\nimport pandas as pd\nimport nblabel as nl\n"
            f"df = {data}\n"
            f"job = nl.Job({name + '-' + jupyter.app!r}, df, nl.CustomTask({name + '.html'!r}))",
            "job",
        ]
    )
    nb.run_cell(0)
    nb.run_cell(1)
    root = nb.cell(1).get_by_test_id("nbl-root")
    expect(root).to_be_visible()
    return nb, root


def labels_of(nb) -> dict:
    """The job's labels and progress, read from the kernel after every answer is acknowledged."""
    i = nb.add_cell(
        "_out = job.to_dataframe()\n"
        "print('STATE' + json.dumps({'labels': {str(i): v for i, v in enumerate(_out[job.attribute])"
        " if isinstance(v, dict)}, 'meta': [m for m in _out[job.attribute + '-metadata'] if isinstance(m, dict)],"
        " 'progress': job.progress._asdict()}))"
    )
    nb.run_cell(i)
    text = nb.cell_output_text(i)
    match = re.search(r"STATE(\{.*\})", text)
    assert match, f"no state printed: {text!r}"
    return json.loads(match.group(1))


def saved(root) -> None:
    expect(root).to_have_attribute("data-unacked", "0")


@pytest.mark.notebook7
def test_form_elements_answered_by_keyboard_and_mouse(notebook, jupyter):
    nb, root = open_job(
        notebook, jupyter, "forms", FORM, "pd.DataFrame({'source': ['I <b>love</b> it', 'meh']})"
    )
    tpl = root.get_by_test_id("nbl-template")
    page = nb.page
    # Data is escaped by Liquid's autoescape; the template's styles are scoped to the item.
    expect(tpl.locator("crowd-card p.note")).to_have_text("I <b>love</b> it")
    assert tpl.locator("crowd-card b").count() == 0
    assert page.evaluate("() => getComputedStyle(document.body).display") != "none"
    expect(tpl.locator("crowd-card p.note")).to_have_css("color", "rgb(200, 0, 0)")
    # Text fields without a char-counter render their label and nothing else (no stray "null").
    expect(tpl.locator("crowd-input[name=unused]")).to_have_text("Left empty")
    expect(tpl.locator("crowd-text-area[name=comment]")).to_have_text("Comment")
    # Layout elements: instructions open on their tabs, the alert dismisses.
    tpl.get_by_test_id("crowd-instructions-open").click()
    expect(tpl.get_by_text("Summarize the text.")).to_be_visible()
    tpl.get_by_role("tab", name="Examples").click()
    expect(tpl.get_by_text("bad one")).to_be_visible()
    tpl.get_by_role("button", name="Dismiss").click()
    expect(tpl.locator(".crowd-alert")).to_have_count(0)

    # A required field left empty blocks the submission and says why.
    root.click(position={"x": 5, "y": 5})
    page.keyboard.press("Control+Enter")
    expect(root.get_by_test_id("nbl-error")).to_contain_text("Fill in “Summary”")
    expect(root.get_by_test_id("nbl-position")).to_have_text("Item 1 of 2")

    root.click(position={"x": 5, "y": 5})
    page.keyboard.press("2")  # the classifier takes digits: Negative
    expect(tpl.get_by_test_id("crowd-category-1")).to_have_attribute("aria-pressed", "true")
    tpl.get_by_label("Summary").click()
    page.keyboard.type("short & sweet")
    page.keyboard.press("s")  # typed into the field, not a skip
    tpl.get_by_label("Comment").fill("line one\nline two")
    tpl.get_by_text("Blurry").click()
    tpl.get_by_text("Politics").click()
    slider = tpl.locator("crowd-slider input[type=range]")
    slider.focus()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    expect(tpl.locator(".crowd-slider-pin")).to_have_text("7")
    tpl.locator("crowd-toggle-button button").click()
    tpl.get_by_label("Summary").focus()
    page.keyboard.press("Control+Enter")  # submits from inside a text field
    expect(root.get_by_test_id("nbl-position")).to_have_text("Item 2 of 2")
    saved(root)

    state = labels_of(nb)
    assert list(state["labels"]) == ["0"]
    assert state["labels"]["0"] == {
        "sentiment": {"label": "Negative"},
        "summary": "short & sweets",
        "comment": "line one\nline two",
        "image_attributes": {"blurry": True, "dim": False},
        "tech": {"tech": False},
        "politics": {"politics": True},
        "howMuch": 7,
        "theToggler": {"on": True},
    }
    assert state["meta"][0]["type"] == "groundtruth/custom"
    assert state["meta"][0]["human-annotated"] == "yes"


def test_classifiers_with_comment_submit_undo_skip(notebook, jupyter):
    img = make_image(jupyter.root_dir / "cls.jpg")
    nb, root = open_job(
        notebook,
        jupyter,
        "classifiers",
        CLASSIFIERS,
        f"pd.DataFrame({{'source-ref': [{img!r}, {img!r}, {img!r}], 'caption': ['a cat', 'soup', 'rocks']}})",
    )
    tpl = root.get_by_test_id("nbl-template")
    page = nb.page
    expect(tpl.locator("crowd-image-classifier img")).to_have_js_property("naturalWidth", 800)
    root.click(position={"x": 5, "y": 5})
    page.keyboard.press("1")  # first classifier: Cat
    tpl.get_by_role("button", name="Add a comment").click()
    tpl.get_by_label("Why?").fill("whiskers")
    multi = tpl.locator("crowd-image-classifier-multi-select")
    multi.get_by_role("button", name="Red").click()
    multi.get_by_role("button", name="Blue").click()
    topics = tpl.locator("crowd-classifier-multi-select")
    topics.get_by_role("button", name="Food").click()
    topics.get_by_role("button", name="None of the above").click()  # stands alone
    expect(topics.get_by_role("button", name="Food")).to_have_attribute("aria-pressed", "false")
    # The template's own crowd-button submits; crowd-form adds no second one.
    expect(tpl.get_by_test_id("crowd-submit")).to_have_count(1)
    expect(tpl.get_by_test_id("crowd-submit")).to_have_text("Send answer")
    tpl.get_by_test_id("crowd-submit").click()
    expect(root.get_by_test_id("nbl-position")).to_have_text("Item 2 of 3")

    root.click(position={"x": 5, "y": 5})
    page.keyboard.press("z")  # undo: item 1 again
    expect(root.get_by_test_id("nbl-position")).to_have_text("Item 1 of 3")
    page.keyboard.press("s")  # skip it
    expect(root.get_by_test_id("nbl-position")).to_have_text("Item 2 of 3")
    page.keyboard.press("3")
    tpl.locator("crowd-image-classifier-multi-select").get_by_role("button", name="Green").click()
    # A multi-select with nothing chosen blocks the submission.
    page.keyboard.press("Control+Enter")
    expect(root.get_by_test_id("nbl-error")).to_contain_text("Choose at least one category for “Topics?”")
    tpl.locator("crowd-classifier-multi-select").get_by_role("button", name="Animals").click()
    root.click(position={"x": 5, "y": 5})
    page.keyboard.press("Control+Enter")
    expect(root.get_by_test_id("nbl-position")).to_have_text("Item 3 of 3")
    saved(root)

    state = labels_of(nb)
    assert state["labels"] == {
        "1": {
            "category": {"label": "Bird"},
            "tags": {"labels": ["Green"]},
            "topics": {"labels": ["Animals"]},
        }
    }
    assert state["progress"]["skipped"] == 1


def drag(page, start: tuple[float, float], end: tuple[float, float]) -> None:
    page.mouse.move(*start)
    page.mouse.down()
    page.mouse.move((start[0] + end[0]) / 2, (start[1] + end[1]) / 2, steps=3)
    page.mouse.move(*end, steps=3)
    page.mouse.up()


def overlay_box(tool) -> dict:
    """Scroll a drawing element's image to the top of the page; its overlay's bounding box."""
    overlay = tool.get_by_test_id("crowd-overlay")
    overlay.evaluate("el => el.scrollIntoView({block: 'start'})")
    return overlay.bounding_box()


def screen(box: dict, x: float, y: float, size=(800, 600)) -> tuple[float, float]:
    """The screen position of natural image pixel (x, y) in an element's bounding box."""
    return box["x"] + x * box["width"] / size[0], box["y"] + y * box["height"] / size[1]


def test_draw_a_box_a_keypoint_and_a_polygon(notebook, jupyter, screenshot_path):
    img = make_image(jupyter.root_dir / "draw.jpg")
    nb, root = open_job(notebook, jupyter, "drawing", DRAWING, f"pd.DataFrame({{'source-ref': [{img!r}]}})")
    tpl = root.get_by_test_id("nbl-template")
    page = nb.page
    for name in ("crowd-bounding-box", "crowd-keypoint", "crowd-polygon"):
        expect(tpl.locator(name)).to_have_attribute("data-ready", "true")

    bbox = tpl.locator("crowd-bounding-box")
    box = overlay_box(bbox)
    bbox.get_by_role("button", name="Dog").click()
    drag(page, screen(box, 100, 50), screen(box, 300, 250))
    expect(bbox).to_have_attribute("data-count", "1")
    drag(page, screen(box, 400, 300), screen(box, 500, 420))
    expect(bbox).to_have_attribute("data-count", "2")
    page.keyboard.press("1")  # relabel the selected (second) box as Cat
    page.keyboard.press("Delete")  # and remove it again
    expect(bbox).to_have_attribute("data-count", "1")

    kp = tpl.locator("crowd-keypoint")
    kbox = overlay_box(kp)
    kp.get_by_role("button", name="Right eye").click()
    page.mouse.click(*screen(kbox, 400, 300))
    expect(kp).to_have_attribute("data-count", "1")

    poly = tpl.locator("crowd-polygon")
    pbox = overlay_box(poly)
    for x, y in ((500, 100), (700, 100), (600, 20)):
        page.mouse.click(*screen(pbox, x, y))
    page.keyboard.press("Enter")  # closes the polygon (the element has the focus)
    expect(poly).to_have_attribute("data-count", "1")
    if jupyter.app == "lab":  # the docs' picture: the widget's header and the box tool
        root.evaluate("el => el.scrollIntoView({block: 'start'})")
        frame = root.bounding_box()
        top = max(frame["y"], 0)
        height = min(page.viewport_size["height"] - top, frame["height"])
        page.screenshot(path=str(screenshot_path("custom.png")), clip={**frame, "y": top, "height": height})
    page.keyboard.press("Control+Enter")
    expect(root).to_have_attribute("data-state", "done")
    saved(root)

    value = labels_of(nb)["labels"]["0"]
    (b,) = value["boxes"]["boundingBoxes"]
    assert b["label"] == "Dog"
    # One screen pixel is 800/displayed-width natural pixels: allow that much rounding.
    tol = 800 / box["width"] + 1
    for got, want in ((b["left"], 100), (b["top"], 50), (b["width"], 200), (b["height"], 200)):
        assert abs(got - want) <= tol, value
    assert value["boxes"]["inputImageProperties"] == {"height": 600, "width": 800}
    (k,) = value["points"]["keypoints"]
    assert k["label"] == "Right eye" and abs(k["x"] - 400) <= tol and abs(k["y"] - 300) <= tol
    assert value["points"]["inputImageProperties"] == {"height": 600, "width": 800}
    (p,) = value["shapes"]["polygons"]
    assert p["label"] == "Roof"
    for v, (x, y) in zip(p["vertices"], ((500, 100), (700, 100), (600, 20)), strict=True):
        assert abs(v["x"] - x) <= tol and abs(v["y"] - y) <= tol, p
    assert set(value) == {"boxes", "points", "shapes"}


def select_text(page, text_box, start: int, end: int) -> None:
    """Drag the mouse over code points [start, end) of the element's text."""
    rects = text_box.evaluate(
        """(el, [s, e]) => {
            const full = el.textContent;
            const u = (n) => [...full].slice(0, n).join('').length;
            const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
            const point = (target) => {
                let seen = 0, node;
                while ((node = walker.nextNode())) {
                    if (seen + node.length >= target) return [node, target - seen];
                    seen += node.length;
                }
            };
            const range = document.createRange();
            range.setStart(...point(u(s)));
            walker.currentNode = el;
            range.setEnd(...point(u(e)));
            const r = [...range.getClientRects()];
            return [r[0].left, (r[0].top + r[0].bottom) / 2, r[r.length - 1].right, (r[0].top + r[0].bottom) / 2];
        }""",
        [start, end],
    )
    drag(page, (rects[0] + 1, rects[1]), (rects[2] - 1, rects[3]))


def test_entity_annotation_spans_in_code_points(notebook, jupyter):
    """Spans in code points; as in GT, one may nest inside another (marks stack visibly) and the
    keyboard steps through the entities stacked at a place."""
    text = "😀 Ada Lovelace visited Paris in 1840."
    nb, root = open_job(notebook, jupyter, "entities", ENTITIES, f"pd.DataFrame({{'source': [{text!r}]}})")
    tpl = root.get_by_test_id("nbl-template")
    page = nb.page
    text_box = tpl.get_by_test_id("crowd-entity-text")
    expect(text_box).to_have_text(text)
    ent = tpl.locator("crowd-entity-annotation")
    start = text.index("Ada")
    select_text(page, text_box, start, start + len("Ada Lovelace"))
    page.keyboard.press("1")  # Person, from the keyboard
    expect(ent).to_have_attribute("data-count", "1")
    # A selection inside that entity nests a second one (the drag selects no entity).
    start = text.index("Lovelace")
    select_text(page, text_box, start, start + len("Lovelace"))
    page.keyboard.press("2")
    expect(ent).to_have_attribute("data-count", "2")
    expect(text_box).to_have_text(text)  # the text shown once, however the marks stack
    # e: the innermost entity where the nested one was made, then the one holding it.
    page.keyboard.press("e")
    expect(ent).to_have_attribute("data-selected", "1")
    expect(tpl.locator("mark.crowd-selected")).to_have_text(["Lovelace"])
    page.keyboard.press("e")
    expect(ent).to_have_attribute("data-selected", "0")
    expect(tpl.locator("mark.crowd-selected")).to_have_text(["Ada ", "Lovelace"])
    # Stacked: the outer entity's underline sits a step below the nested one's.
    outer, inner = tpl.locator("mark.crowd-selected").nth(1), tpl.locator("mark.crowd-selected mark")
    assert outer.evaluate("el => getComputedStyle(el).paddingBottom") == "5px"
    assert inner.evaluate("el => getComputedStyle(el).paddingBottom") == "1px"
    page.keyboard.press("Escape")
    expect(ent).to_have_attribute("data-selected", "")
    ent.get_by_role("button", name="Place").click()  # choose the label first, then highlight
    start = text.index("Paris")
    select_text(page, text_box, start, start + len("Paris"))
    expect(ent).to_have_attribute("data-count", "3")
    root.get_by_test_id("nbl-submit").click()  # no crowd-form: the widget's Submit
    expect(root).to_have_attribute("data-state", "done")
    saved(root)

    value = labels_of(nb)["labels"]["0"]
    ada, paris = text.index("Ada"), text.index("Paris")
    assert value == {
        "crowd-entity-annotation": {
            "entities": [
                {"label": "person", "startOffset": ada, "endOffset": ada + 12},
                {"label": "place", "startOffset": ada + 4, "endOffset": ada + 12},
                {"label": "place", "startOffset": paris, "endOffset": paris + 5},
            ]
        }
    }
    entities = value["crowd-entity-annotation"]["entities"]
    assert [text[e["startOffset"] : e["endOffset"]] for e in entities] == [
        "Ada Lovelace",
        "Lovelace",
        "Paris",
    ]


def test_unknown_element_is_named_when_the_template_loads(notebook, jupyter):
    (jupyter.root_dir / "typo.html").write_text(
        "<crowd-form><crowd-sldier name='x'></crowd-sldier></crowd-form>"
    )
    nb = notebook(["import nblabel as nl\ntask = nl.CustomTask('typo.html')"])
    nb.run_cell(0)
    out = nb.cell_output_text(0)
    assert "TemplateError" in out and "<crowd-sldier> is not a Ground Truth crowd element" in out


EVERY_KIND = """\
<crowd-form>
  <crowd-toast text="Drafts are kept" duration="600000"></crowd-toast>
  <crowd-badge label="new"></crowd-badge> <crowd-icon-button icon="help"></crowd-icon-button>
  <crowd-tabs>
    <crowd-tab header="Draw">
      <crowd-semantic-segmentation name="semantic" src="{{ task.input.taskObject | grant_read_access }}"
          header="Paint" labels="['Roof', 'Wall']"></crowd-semantic-segmentation>
      <crowd-instance-segmentation name="instances" src="{{ task.input.taskObject | grant_read_access }}"
          header="Each car" labels="['Car']"></crowd-instance-segmentation>
      <crowd-polyline name="roads" src="{{ task.input.taskObject | grant_read_access }}"
          header="Roads" labels="['Road']"></crowd-polyline>
      <crowd-line name="edges" src="{{ task.input.taskObject | grant_read_access }}"
          header="Edges" labels="['Edge']"></crowd-line>
    </crowd-tab>
    <crowd-tab header="Text">
      <crowd-text-ranking name="ranking" text='{{ task.input.source }}'
          ordinal-ranking-dimensions='[{"name":"Clarity","allowTie":true},{"name":"Accuracy","allowTie":false}]'
          responses='{{ task.input.responses | to_json }}'></crowd-text-ranking>
      <crowd-question-answer-generation name="qa" text='{{ task.input.source }}' min-questions=1
          max-questions=2 question-min-words=2 answer-max-words=3 question-tags='["What", "Who"]'>
      </crowd-question-answer-generation>
      <crowd-entity-annotator name="people" labels="['person']" text="{{ task.input.source }}"></crowd-entity-annotator>
      <crowd-slider name="clarity" min="1" max="5" required>
        <crowd-slider-label position="1">poor</crowd-slider-label>
        <crowd-slider-label position="5">great</crowd-slider-label>
      </crowd-slider>
    </crowd-tab>
  </crowd-tabs>
  <crowd-modal link-text="Add a note" link-type="button"><crowd-input name="note" label="Note"></crowd-input></crowd-modal>
</crowd-form>
"""


def png_pixels(data: str):
    """The RGB pixels of a base64 PNG answer."""
    return Image.open(io.BytesIO(base64.b64decode(data))).convert("RGB")


def test_every_new_element_kind_answers_in_gts_shape(notebook, jupyter):
    """One page with each element added for the AWS samples; one answer, compared with GT's shapes."""
    make_image(jupyter.root_dir / "kinds.jpg")
    text = "Ada Lovelace wrote the notes."
    # The item comes from GT's data setup over the notebook's folder (nl.manifest_from).
    data = (
        "nl.manifest_from('.', where='kinds.jpg')"
        f".assign(source=[{text!r}], responses=[['first reply', 'second reply', 'third reply']])"
    )
    nb, root = open_job(notebook, jupyter, "kinds", EVERY_KIND, data)
    tpl = root.get_by_test_id("nbl-template")
    page = nb.page
    expect(tpl.locator(".crowd-toast")).to_have_text("Drafts are kept")
    expect(tpl.locator(".crowd-badge")).to_have_text("new")
    for name in (
        "crowd-semantic-segmentation",
        "crowd-instance-segmentation",
        "crowd-polyline",
        "crowd-line",
    ):
        expect(tpl.locator(name)).to_have_attribute("data-ready", "true")

    # Semantic segmentation: a Wall brush stroke, then a Roof polygon (keys on the focused tool).
    sem = tpl.locator("crowd-semantic-segmentation")
    canvas = sem.locator("canvas").last
    canvas.evaluate("el => el.scrollIntoView({block: 'start'})")
    box = canvas.bounding_box()
    sem.get_by_role("button", name="Wall").click()
    drag(page, screen(box, 100, 400), screen(box, 300, 400))
    expect(sem).to_have_attribute("data-painted", "1")
    page.keyboard.press("1")
    page.keyboard.press("p")
    for x, y in ((500, 100), (700, 100), (600, 250)):
        page.mouse.click(*screen(box, x, y))
    page.keyboard.press("Enter")
    expect(sem).to_have_attribute("data-painted", "2")

    # Instance segmentation: two strokes, n between them: two instances of Car.
    inst = tpl.locator("crowd-instance-segmentation")
    canvas = inst.locator("canvas").last
    canvas.evaluate("el => el.scrollIntoView({block: 'start'})")
    ibox = canvas.bounding_box()
    drag(page, screen(ibox, 100, 100), screen(ibox, 200, 100))
    page.keyboard.press("n")
    drag(page, screen(ibox, 100, 500), screen(ibox, 200, 500))
    expect(inst).to_have_attribute("data-painted", "2")

    poly = tpl.locator("crowd-polyline")
    pbox = overlay_box(poly)
    for x, y in ((100, 500), (300, 450), (500, 520)):
        page.mouse.click(*screen(pbox, x, y))
    page.keyboard.press("Enter")
    expect(poly).to_have_attribute("data-count", "1")
    line = tpl.locator("crowd-line")
    # GT's *-custom-labels samples set `labels` from script: the picker follows.
    line.evaluate("el => { el.labels = el.labels.concat(['Curb']); }")
    expect(line.get_by_role("button", name="Curb")).to_be_visible()
    lbox = overlay_box(line)
    page.mouse.click(*screen(lbox, 50, 50))
    page.mouse.click(*screen(lbox, 750, 550))
    expect(line).to_have_attribute("data-count", "1")

    # The second tab: the first tab's drawings stay in the answer while hidden.
    tpl.get_by_role("tab", name="Text").click()
    expect(sem).to_be_hidden()
    expect(tpl.get_by_test_id("crowd-prompt").first).to_have_text(text)
    for dimension, ranks in (("Clarity", (1, 1, 2)), ("Accuracy", (1, 1, 2))):
        for i, rank in enumerate(ranks, start=1):
            tpl.get_by_label(f"{dimension}: rank of response {i}").select_option(str(rank))
    tpl.get_by_label("Question 1", exact=True).fill("Who wrote notes?")
    tpl.get_by_label("Answer 1").fill("Ada Lovelace herself, truly")
    tpl.get_by_label("Question 1 tag").select_option("Who")
    ann = tpl.locator("crowd-entity-annotator")
    ann.get_by_test_id("crowd-entity-text").scroll_into_view_if_needed()
    select_text(page, ann.get_by_test_id("crowd-entity-text"), 0, len("Ada Lovelace"))
    page.keyboard.press("1")
    expect(ann).to_have_attribute("data-count", "1")
    tpl.get_by_test_id("crowd-modal-open").click()
    tpl.get_by_label("Note").fill("fine")

    # Each rule blocks the submission and says why: a tie where none is allowed, too many words,
    # a required slider never moved.
    submit = tpl.get_by_test_id("crowd-submit")
    problem = root.get_by_test_id("nbl-error")
    submit.click()
    expect(problem).to_contain_text("“Accuracy” allows no ties")
    expect(problem).to_contain_text("Answer 1 has 4 words: write 1 to 3")
    expect(problem).to_contain_text("Set “clarity” on its slider")
    tpl.get_by_label("Accuracy: rank of response 2").select_option("3")
    tpl.get_by_label("Accuracy: rank of response 3").select_option("2")
    tpl.get_by_label("Answer 1").fill("Ada Lovelace")
    tpl.locator("crowd-slider input[type=range]").focus()
    page.keyboard.press("ArrowRight")
    submit.click()
    expect(root).to_have_attribute("data-state", "done")
    saved(root)

    value = labels_of(nb)["labels"]["0"]
    size = {"height": 600, "width": 800}
    semantic = value["semantic"]
    assert semantic["inputImageProperties"] == size
    assert semantic["labelMappings"] == {"Roof": {"color": "#1f77b4"}, "Wall": {"color": "#ff7f0e"}}
    mask = png_pixels(semantic["labeledImage"]["pngImageData"])
    assert mask.size == (800, 600)
    assert mask.getpixel((200, 400)) == (255, 127, 14)  # the Wall stroke
    assert mask.getpixel((600, 150)) == (31, 119, 180)  # inside the Roof polygon
    assert mask.getpixel((20, 20)) == (255, 255, 255)  # BACKGROUND
    instances = value["instances"]
    assert [i["label"] for i in instances["instances"]] == ["Car", "Car"]
    colors = [i["color"] for i in instances["instances"]]
    assert colors[0] != colors[1]
    imask = png_pixels(instances["labeledImage"]["pngImageData"])
    for (x, y), color in zip(((150, 100), (150, 500)), colors, strict=True):
        assert "#{:02x}{:02x}{:02x}".format(*imask.getpixel((x, y))) == color
    tol = 800 / pbox["width"] + 1
    (road,) = value["roads"]["polylines"]
    assert road["label"] == "Road" and value["roads"]["inputImageProperties"] == size
    for v, (x, y) in zip(road["vertices"], ((100, 500), (300, 450), (500, 520)), strict=True):
        assert abs(v["x"] - x) <= tol and abs(v["y"] - y) <= tol, road
    (edge,) = value["edges"]["lines"]
    assert edge["label"] == "Edge" and len(edge["vertices"]) == 2
    assert value["ranking"] == {
        "ordinalRankingDimensions": [
            {"name": "Clarity", "responseRankings": [1, 1, 2]},
            {"name": "Accuracy", "responseRankings": [1, 3, 2]},
        ]
    }
    assert value["qa"] == {
        "questionAnswerPairs": [
            {"question": "Who wrote notes?", "answer": "Ada Lovelace", "questionTag": "Who"}
        ]
    }
    assert value["people"] == {"entities": [{"label": "person", "startOffset": 0, "endOffset": 12}]}
    assert value["clarity"] == 2
    assert value["note"] == "fine"
    assert set(value) == {
        "semantic",
        "instances",
        "roads",
        "edges",
        "ranking",
        "qa",
        "people",
        "clarity",
        "note",
    }
