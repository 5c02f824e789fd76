"""AWS's 87 sample worker templates (tests/data/gt-templates, MIT-0) load and render.

Each template is rendered for an item carrying every ``task.input`` field it reads (found in its
source: plain fields get a text, ``grant_read_access`` fields an image file, fields a ``{% for %}``
walks a list), then parsed as HTML: every value given shows in the page, every granted file is a
``data:`` URL, and every crowd element in the page is one nblabel draws. The answers every element
kind gives are checked against GT's shapes in the browser (tests/e2e/test_custom.py).
"""

from __future__ import annotations

import base64
import io
import pickle
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

import nblabel as nl
from nblabel.tasks.templating import SUPPORTED_ELEMENTS, TemplateError, check_crowd_answer

TEMPLATES = Path(__file__).resolve().parents[2] / "data" / "gt-templates"
SAMPLES = sorted(TEMPLATES.glob("task-uis__*"))

_PATH = re.compile(r"task\.input((?:\.[A-Za-z_][\w-]*|\[[\"'][^\"']+[\"']\])+)\s*(?:\|\s*(\w+))?")
_PART = re.compile(r"\.([A-Za-z_][\w-]*)|\[[\"']([^\"']+)[\"']\]")
_LOOP = re.compile(r"\{%-?\s*for\s+(\w+)\s+in\s+task\.input\.(\w+)")


def item_for(source: str, image: str) -> tuple[dict[str, Any], list[str]]:
    """A task input carrying every field the template reads, and the texts it must show."""
    item: dict[str, Any] = {}
    texts: list[str] = []
    loops = dict((field, var) for var, field in _LOOP.findall(source))
    for match in _PATH.finditer(source):
        parts = [a or b for a, b in _PART.findall(match.group(1))]
        if parts[0] in loops:
            keys = sorted(set(re.findall(rf"\{{\{{\s*{loops[parts[0]]}\.(\w+)", source)))
            rows = [{k: f"{parts[0]}-{n}-{k}" for k in keys} if keys else f"{parts[0]}-{n}" for n in (1, 2)]
            item[parts[0]] = rows
            texts += [v for row in rows for v in (row.values() if isinstance(row, dict) else [row])]
            continue
        place = item
        for part in parts[:-1]:
            place = place.setdefault(part, {})
        if match.group(2) == "grant_read_access":
            place[parts[-1]] = image
        elif match.group(2) == "to_json":
            place[parts[-1]] = ["first answer", "second answer"]
        else:
            place[parts[-1]] = value = "value of " + ".".join(parts)
            texts.append(value)
    return item, texts


class Page(HTMLParser):
    """The crowd elements of a rendered page, and its text and attribute values."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: set[str] = set()
        self.data: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag.startswith("crowd-"):
            self.elements.add(tag)
        self.data += [v for _, v in attrs if v]

    def handle_data(self, data: str) -> None:
        self.data.append(data)


def test_the_87_samples_are_there() -> None:
    assert len(SAMPLES) == 87


@pytest.mark.parametrize("path", SAMPLES, ids=[p.name.removeprefix("task-uis__") for p in SAMPLES])
def test_every_aws_sample_template_loads_and_renders(path: Path, tmp_path: Path) -> None:
    image = tmp_path / "item.png"
    Image.new("RGB", (8, 6), (200, 30, 30)).save(image)
    source = path.read_text(encoding="utf-8")
    task = nl.CustomTask(path)
    item, texts = item_for(source, str(image))
    html = task.render(item, media_root=tmp_path)
    page = Page()
    page.feed(html)
    page.close()
    # Scripts may add elements later (an error crowd-alert): those were checked at load.
    assert page.elements <= task.template.elements <= set(SUPPORTED_ELEMENTS)
    shown = "\n".join(page.data)
    for text in texts:
        assert text in shown, f"{text!r} is not in the page"
    if str(image) in item.values() or any(
        isinstance(v, dict) and str(image) in v.values() for v in item.values()
    ):
        assert "data:image/png;base64," in shown


def test_a_template_pickles_as_its_source_and_renders_alike_after() -> None:
    # The portal's kernels and worker processes receive the task pickled.
    sample = TEMPLATES / "task-uis__images__image-similarity.liquid.html"
    task = nl.CustomTask(sample)
    again = pickle.loads(pickle.dumps(task))
    item = {"image1": "data:image/png;base64,AA==", "image2": "data:image/png;base64,AB=="}
    assert again.template.origin == task.template.origin == str(sample)
    assert again.template.elements == task.template.elements
    assert again.render(item) == task.render(item)


def test_a_missing_field_is_named_with_its_line() -> None:
    sample = TEMPLATES / "task-uis__images__image-similarity.liquid.html"
    task = nl.CustomTask(sample)
    line = (
        sample.read_text()
        .splitlines()
        .index(next(s for s in sample.read_text().splitlines() if "task.input.image1" in s))
    )
    with pytest.raises(
        TemplateError,
        match=rf"^item 7: grant_read_access: the item has no task\.input\.image1 \(template line {line + 1}\)$",
    ):
        task.render({"image2": "data:image/png;base64,AA=="}, "7")
    with pytest.raises(
        TemplateError, match=r"to_json: the item has no task\.input\.responses \(template line \d+\)"
    ):
        nl.CustomTask(TEMPLATES / "task-uis__gen-ai__text-ranking.liquid.html").render({"source": "a prompt"})


def test_crowd_answers_are_checked_against_gts_shapes() -> None:
    out = io.BytesIO()
    Image.new("RGB", (2, 1), (255, 255, 255)).save(out, format="PNG")
    png = base64.b64encode(out.getvalue()).decode()
    ranking = {"ordinalRankingDimensions": [{"name": "Clarity", "responseRankings": [2, 1, 2]}]}
    assert check_crowd_answer(ranking) == ""
    assert check_crowd_answer({"named": ranking}) == ""
    bad = {"ordinalRankingDimensions": [{"name": "Clarity", "responseRankings": [0, 1]}]}
    assert "ranking: dimension 'Clarity': responseRankings must be 2 ranks in 1..2" in check_crowd_answer(bad)
    gap = {"ordinalRankingDimensions": [{"name": "Clarity", "responseRankings": [1, 3, 3]}]}
    assert "skip a place" in check_crowd_answer(gap)
    seg = {"labeledImage": {"pngImageData": png}, "inputImageProperties": {"width": 2, "height": 1}}
    assert check_crowd_answer({"crowd-semantic-segmentation": seg}) == ""
    wrong = {**seg, "inputImageProperties": {"width": 3, "height": 1}}
    assert check_crowd_answer({"m": wrong}) == "labeledImage is 2 x 1, inputImageProperties says 3 x 1"
    assert "base64 PNG" in check_crowd_answer({"m": {"labeledImage": {"pngImageData": "bm90IGEgcG5n"}}})
    # Fields a template names so itself, holding text, are its own business.
    assert check_crowd_answer({"ordinalRankingDimensions": "clear", "labeledImage": "yes"}) == ""
    with pytest.raises(ValueError, match="item 3: ranking: dimension 'Clarity'"):
        nl.CustomTask("<crowd-form></crowd-form>").validate(bad, "3")


def test_an_augmented_ai_element_is_refused_as_such_never_as_unknown_to_aws() -> None:
    # AWS documents these two for A2I human review only: the refusal says so.
    template = (
        "<crowd-form><crowd-textract-analyze-document src='x'></crowd-textract-analyze-document></crowd-form>"
    )
    with pytest.raises(TemplateError, match="only in Amazon Augmented AI") as caught:
        nl.CustomTask(template)
    assert "<crowd-textract-analyze-document>" in str(caught.value)
    assert "not a Ground Truth crowd element" not in str(caught.value)
    # A misspelt element is still named as one GT does not have.
    with pytest.raises(TemplateError, match=r"<crowd-sldier> is not a Ground Truth crowd element"):
        nl.CustomTask("<crowd-form><crowd-sldier name='x'></crowd-sldier></crowd-form>")
