"""Frame and class attributes in the classification and segmentation widgets (#21), in Lab, and
the crowd segmentation element opening on GT's ``initial-value``.

The box and entity widgets' panels are covered with their widgets; this checks the two widgets
that gained one: a required attribute left empty keeps the answer back, saying why; ``t`` enters
the fields and Esc gives the keys back; the values reach GT's output. And GT's ``editsAllowed``:
an adjustment job keeps the values marked ``none`` as the earlier job gave them.
"""

from __future__ import annotations

import pytest
from PIL import Image
from playwright.sync_api import expect

from tests.harness.widgets import Stage, all_saved, focus, kernel_json, make_images

FRAME = {"frame": [{"name": "light", "enum": ["day", "night"], "isRequired": True}]}
CLASSES = {
    "road": [{"name": "wet", "enum": ["yes", "no"], "isRequired": True}],
    "frame": [{"name": "weather"}],
}
# A prior mask to adjust in a custom template: GT's initial-value names its colours and its file.
PRIOR = """<crowd-form><crowd-semantic-segmentation name="seg" labels="['Road', 'Car']"
  src="{{ task.input.taskObject | grant_read_access }}"
  initial-value='{"labelMappings": {"Road": {"color": "#1f77b4"}}, "src": "{{ task.input.mask | grant_read_access }}"}'>
</crowd-semantic-segmentation></crowd-form>"""


@pytest.mark.parametrize("jupyter", ["lab"], indirect=True)
def test_required_attributes_block_the_answer_and_reach_gt_output(notebook, jupyter):
    refs = make_images(jupyter.root_dir / "attrs", 2, size=(320, 240))
    prior = Image.new("RGB", (320, 240), (255, 255, 255))
    prior.paste((0x1F, 0x77, 0xB4), (0, 120, 320, 240))  # the lower half is road
    prior.save(jupyter.root_dir / "attrs" / "prior.png")
    (jupyter.root_dir / "prior.html").write_text(PRIOR)
    nb = notebook(
        [
            "import json\nimport pandas as pd\nimport nblabel as nl\n"
            f"df = pd.DataFrame({{'source-ref': {refs!r}}})\n"
            f"pets = nl.Job('pets-attrs', df, nl.ImageClassification(['cat', 'dog'], attributes={FRAME!r}))\n"
            f"roads = nl.Job('roads-attrs', df[:1], nl.SemanticSegmentation(['road', 'car'], attributes={CLASSES!r}))\n"
            f"prior = nl.Job('prior', df[:1].assign(mask=[{str(jupyter.root_dir / 'attrs' / 'prior.png')!r}]),"
            " nl.CustomTask('prior.html'))",
            "pets",
            "roads",
            "prior",
        ]
    )
    for cell in range(4):
        nb.run_cell(cell)
    page = nb.page

    # Classification: the class key is refused until the image's light is given.
    pets = nb.cell(1).get_by_test_id("nbl-root")
    expect(pets.get_by_test_id("nbl-attrs-frame").locator("legend")).to_have_text("Image attributes")
    focus(pets)
    page.keyboard.press("2")
    expect(pets.get_by_test_id("nbl-notice")).to_have_text(
        "Not submitted: the item needs light (t goes to the attributes)."
    )
    expect(pets.get_by_test_id("nbl-position")).to_contain_text("1 of 2")
    page.keyboard.press("t")
    light = pets.get_by_test_id("nbl-attr-light")
    expect(light).to_be_focused()
    light.select_option("night")
    page.keyboard.press("Escape")
    expect(pets).to_be_focused()
    page.keyboard.press("2")
    expect(pets.get_by_test_id("nbl-position")).to_contain_text("2 of 2")
    expect(pets.get_by_test_id("nbl-notice")).to_be_hidden()
    all_saved(pets)

    # Segmentation: a road stroke needs the road's wet; the image's weather is optional.
    roads = nb.cell(2).get_by_test_id("nbl-root")
    roads.scroll_into_view_if_needed()
    stage = Stage(nb, roads)
    roads.click(position={"x": 5, "y": 5})
    expect(roads.get_by_test_id("nbl-attrs-object").locator("legend")).to_have_text("Class: road")
    stage.drag(stage.screen(40, 100), stage.screen(200, 100))
    expect(roads).not_to_have_attribute("data-painted", "0")
    page.keyboard.press("Enter")
    expect(roads.get_by_test_id("nbl-notice")).to_have_text(
        "Not submitted: road needs wet (t goes to the attributes)."
    )
    page.keyboard.press("t")
    wet = roads.get_by_test_id("nbl-attr-wet")
    expect(wet).to_be_focused()
    wet.select_option("yes")
    page.keyboard.press("Tab")
    page.keyboard.type("fog 2")  # a digit in a field is the field's, not a class key
    page.keyboard.press("Escape")
    expect(roads).to_be_focused()
    page.keyboard.press("Enter")
    expect(roads.get_by_test_id("nbl-progress")).to_contain_text("1 labeled")
    all_saved(roads)

    out = kernel_json(
        nb,
        "_p, _r = pets.to_dataframe(), roads.to_dataframe()\n"
        "_m = _r.at[0, 'roads-attrs-ref-metadata']\n"
        "print('STATE' + json.dumps({'pet': [int(_p.at[0, 'pets-attrs']), _p.at[0, 'pets-attrs-metadata']],"
        " 'road': _m['internal-color-map']['1'], 'frame': _m.get('frame-attributes')}))",
    )
    assert out["pet"][0] == 1 and out["pet"][1]["frame-attributes"] == {"light": "night"}
    assert out["road"]["label-category-attributes"] == {"wet": "yes"}
    assert out["frame"] == {"weather": "fog 2"}

    # The crowd element opens on the prior mask, read by its colours, and says it was not changed.
    seg = nb.cell(3).get_by_test_id("nbl-template").locator("crowd-semantic-segmentation")
    seg.scroll_into_view_if_needed()
    expect(seg).to_have_attribute("data-ready", "true")
    expect(seg).to_have_attribute("data-painted", "1")
    nb.cell(3).get_by_test_id("crowd-submit").click()
    all_saved(nb.cell(3).get_by_test_id("nbl-root"))
    answer = kernel_json(nb, "print('STATE' + json.dumps(prior.current(0).value['seg']))")
    assert answer["initialValueModified"] is False
    assert answer["labelMappings"] == {"Road": {"color": "#1f77b4"}}
    assert answer["inputImageProperties"] == {"height": 240, "width": 320}


@pytest.mark.parametrize("jupyter", ["lab"], indirect=True)
def test_an_adjustment_keeps_the_values_edits_allowed_none_fixes(notebook, jupyter):
    refs = make_images(jupyter.root_dir / "fixed", 1, size=(320, 240))
    config = {
        "labels": [
            {
                "label": "car",
                "categoryAttributes": [
                    {"name": "color", "enum": ["red", "blue"], "editsAllowed": "none"},
                    {"name": "doors", "type": "number", "editsAllowed": "any"},
                ],
            }
        ],
        "frameAttributes": [{"name": "weather", "enum": ["sun", "rain"], "editsAllowed": "none"}],
    }
    earlier = {
        "image_size": [{"width": 320, "height": 240, "depth": 3}],
        "annotations": [
            {
                "class_id": 0,
                **{"left": 40, "top": 30, "width": 100, "height": 80},
                "label-category-attributes": {"color": "red", "doors": 2},
            }
        ],
        "frame-attributes": {"weather": "rain"},
    }
    meta = {"class-map": {"0": "car"}, "type": "groundtruth/object-detection"}
    nb = notebook(
        [
            "import json\nimport pandas as pd\nimport nblabel as nl\n"
            f"df = pd.DataFrame({{'source-ref': {refs!r}, 'cars': [{earlier!r}], 'cars-metadata': [{meta!r}]}})\n"
            f"job = nl.Job('fixed-attrs', df, nl.BoundingBox.from_label_categories({config!r}, adjust='cars'))",
            "job",
        ]
    )
    nb.run_cell(0)
    nb.run_cell(1)
    root = nb.cell(1).get_by_test_id("nbl-root")
    # The image's weather comes from the earlier label and stays: its edits are not allowed.
    weather = root.get_by_test_id("nbl-attrs-frame").get_by_test_id("nbl-attr-weather")
    expect(weather).to_have_value("rain")
    expect(weather).to_be_disabled()
    focus(root)
    page = nb.page
    page.keyboard.press("Tab")  # select the box being adjusted
    panel = root.get_by_test_id("nbl-attrs-object")
    expect(panel.locator("legend")).to_have_text("Box 1: car")
    color, doors = panel.get_by_test_id("nbl-attr-color"), panel.get_by_test_id("nbl-attr-doors")
    expect(color).to_have_value("red")
    expect(color).to_be_disabled()
    # t goes to the first field that may change; its value is the person's.
    page.keyboard.press("t")
    expect(doors).to_be_focused()
    page.keyboard.press("Control+a")
    page.keyboard.type("4")
    page.keyboard.press("Escape")  # the fields after it are read-only: Esc gives the keys back
    expect(root).to_be_focused()
    page.keyboard.press("Enter")
    expect(root).to_have_attribute("data-state", "done")
    all_saved(root)
    label = kernel_json(nb, "print('STATE' + json.dumps(job.to_dataframe().at[0, job.attribute]))")
    assert label["annotations"][0]["label-category-attributes"] == {"color": "red", "doors": 4}
    assert label["frame-attributes"] == {"weather": "rain"}
