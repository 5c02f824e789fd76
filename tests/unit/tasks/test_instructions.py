"""Task instructions: what every built-in task takes as ``instructions=`` and what the widget gets."""

from __future__ import annotations

import base64
from pathlib import Path

import pandas as pd
import pytest
from PIL import Image

import nblabel as nl
from nblabel.io.guard import FileGuard
from nblabel.media import MediaError
from nblabel.tasks import Task
from nblabel.tasks.instructions import Example, Instructions


def test_a_string_is_the_full_text_and_its_first_paragraph_the_short_one() -> None:
    guide = Instructions.of("Box every **car**.\n\n## Rules\n- tight boxes")
    assert guide == Instructions(
        short="Box every **car**.", full="Box every **car**.\n\n## Rules\n- tight boxes"
    )
    assert Instructions.of(None) is None
    assert Instructions.of("  ") is None
    assert Instructions.of(guide) is guide
    # GT's label-category file spelling, and examples as references or dicts
    gt = Instructions.of({"shortInstruction": "Short", "fullInstruction": "Long", "good": "a.png"})
    assert gt == Instructions(short="Short", full="Long", good=(Example("a.png"),))
    with pytest.raises(TypeError, match="instructions are a Markdown string"):
        Instructions.of(3)
    with pytest.raises(TypeError, match="a bad example is an image reference"):
        Instructions.of({"full": "x", "bad": [3]})


def test_every_built_in_task_takes_instructions() -> None:
    tasks = [
        nl.ImageClassification(["a"], instructions="x"),
        nl.TextClassification(["a"], multi_label=True, instructions="x"),
        nl.BoundingBox(["a"], instructions="x"),
        nl.SemanticSegmentation(["a"], instructions="x"),
        nl.NamedEntities(["a"], instructions="x"),
        nl.LabelVerification("boxes", instructions="x"),
        nl.CustomTask("<crowd-form><crowd-input name='a'></crowd-input></crowd-form>", instructions="x"),
        nl.Pairwise(instructions="x"),
        nl.Ranking(["clarity"], instructions="x"),
        nl.Rating(instructions="x"),
    ]
    assert all(t.instructions == Instructions(short="x", full="x") for t in tasks)
    # every task class nblabel exports is above: a new task cannot be left without instructions
    exported = {v for v in vars(nl).values() if isinstance(v, type) and issubclass(v, Task) and v is not Task}
    assert exported <= {type(t) for t in tasks}
    assert nl.BoundingBox(["a"]).instructions is None


def test_the_payload_embeds_local_images_and_refuses_other_files(tmp_path: Path) -> None:
    picture = tmp_path / "good.png"
    Image.new("RGB", (4, 3), (200, 0, 0)).save(picture)
    guide = Instructions.of(
        {
            "full": "Text",
            "good": [{"image": str(picture), "caption": "tight"}],
            "bad": ["https://example.org/bad.jpg"],
        }
    )
    payload = guide.payload(FileGuard())
    src = payload["good"][0]["src"]
    assert src.startswith("data:image/png;base64,")
    assert base64.b64decode(src.split(",", 1)[1]) == picture.read_bytes()
    assert payload["good"][0]["caption"] == "tight"
    assert payload["bad"] == [{"src": "https://example.org/bad.jpg", "caption": ""}]
    notes = tmp_path / "notes.txt"
    notes.write_text("not a picture")
    with pytest.raises(MediaError, match="an example must be an image, this is text/plain"):
        Instructions(good=(Example(str(notes)),)).payload(FileGuard())
    with pytest.raises(MediaError, match=r"\.\."):
        Instructions(good=(Example("../x.png"),)).payload(FileGuard())


def test_the_widget_carries_the_instructions() -> None:
    job = nl.Job("g", pd.DataFrame({"source": ["a"]}), nl.TextClassification(["a"], instructions="Read it."))
    widget = job.annotate()
    try:
        assert widget.instructions == {"short": "Read it.", "full": "Read it.", "good": [], "bad": []}
    finally:
        widget.close()
    plain = nl.Job("p", pd.DataFrame({"source": ["a"]}), nl.TextClassification(["a"])).annotate()
    try:
        assert plain.instructions == {}
    finally:
        plain.close()
