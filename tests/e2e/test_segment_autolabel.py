"""The mask auto-labeler in the browser: a proposed mask is the starting mask and Enter stores it
exactly; auto-labeled images appear in the review grid with mask thumbnails."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import expect

from tests.harness.widgets import all_saved, review, widget

TINY = Path(__file__).resolve().parents[1] / "data" / "dubai-tiny"

SETUP = """
import shutil
from pathlib import Path
import numpy as np
import pandas as pd
from PIL import Image
from sklearn.ensemble import RandomForestClassifier
import nblabel as nl
from nblabel.autolabel.pixels import PixelFeatures
from nblabel.masks import decode_mask
tiny = sorted(p for p in Path({tiny!r}).glob("*.png") if not p.name.endswith(".mask.png"))
LABELS = ["Building", "Land", "Road", "Vegetation", "Water", "Unlabeled"]
FAST = dict(featurizer=PixelFeatures(side=64, deep=False), estimator=RandomForestClassifier(5, random_state=0))

def make(name, copies):
    refs = []
    for i in range(copies):
        dst = Path(name) / f"tile{{i}}.png"
        dst.parent.mkdir(exist_ok=True)
        shutil.copy(tiny[i % 6], dst)
        refs.append(str(dst.resolve()))
    job = nl.Job(name, pd.DataFrame({{"source-ref": refs}}), nl.SemanticSegmentation(LABELS))
    return job

def gold(i):
    m = np.asarray(Image.open(str(tiny[i % 6]).replace(".png", ".mask.png")))
    return np.where(m == 255, 0, m)
"""


def test_a_proposed_mask_is_shown_and_enter_stores_it_exactly(notebook, jupyter):
    nb = notebook(
        [
            SETUP.format(tiny=str(TINY)),
            f"job = make('segal-{jupyter.app}', 6)\n"
            "for i in range(5):\n    job.label(i, gold(i))\n"
            "print(job.autolabel(background=False, **FAST))",
            "job",
        ]
    )
    nb.run_cell(0)
    nb.run_cell(1)
    assert "round 1: 5 human answers" in nb.cell_output_text(1)
    nb.run_cell(2)
    root = widget(nb, 2)
    notice = root.get_by_test_id("nbl-notice")
    expect(notice).to_contain_text(re.compile(r"Starting from the model's proposal \(confidence \d+%\)"))
    i = nb.add_cell(
        "proposed = decode_mask(job.proposal(5)[0]['mask'])\nprint('PAINTED', int((proposed > 0).sum()))"
    )
    nb.run_cell(i)
    painted = re.search(r"PAINTED (\d+)", nb.cell_output_text(i)).group(1)
    expect(root).to_have_attribute("data-painted", painted)
    root.click(position={"x": 5, "y": 5})
    # Its per-pixel confidence came with it: v dims the unsure pixels, and changes no pixel.
    expect(notice).to_contain_text("v dims where the model is unsure")
    expect(root).to_have_attribute("data-confidence-view", "off")
    nb.page.keyboard.press("v")
    expect(root).to_have_attribute("data-confidence-view", "on")
    expect(root).to_have_attribute("data-painted", painted)
    nb.page.keyboard.press("Enter")
    all_saved(root)
    i = nb.add_cell(
        "job.refresh()\nstored = decode_mask(job.current(5).value['mask'])\n"
        "print('SAME', job.current(5).kind, np.array_equal(stored, proposed))"
    )
    nb.run_cell(i)
    assert "SAME human True" in nb.cell_output_text(i)


def test_auto_labeled_images_appear_in_the_review_grid(notebook, jupyter):
    nb = notebook(
        [
            SETUP.format(tiny=str(TINY)),
            f"job = make('segrev-{jupyter.app}', 18)\n"
            "for i in range(16):\n    job.label(i, gold(i))\n"
            "report = job.autolabel(background=False, target_miou=0.05, **FAST)\n"
            "print('AUTO', report.auto_labeled)",
            "job.review()",
        ]
    )
    nb.run_cell(0)
    nb.run_cell(1)
    count = int(re.search(r"AUTO (\d+)", nb.cell_output_text(1)).group(1))
    assert count >= 1
    nb.run_cell(2)
    root = review(nb, 2)
    tiles = root.get_by_test_id("nbl-review-tile")
    expect(tiles).to_have_count(count)
    expect(root.locator(".nbl-review-tile img")).to_have_count(count)
    nb.page.wait_for_function(
        "root => [...root.querySelectorAll('.nbl-review-tile img')].every(i => i.complete && i.naturalWidth > 0)",
        arg=root.element_handle(),
    )
    expect(tiles.first.get_by_test_id("nbl-review-value")).to_contain_text("Land")
