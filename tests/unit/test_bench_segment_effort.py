"""Smoke test of benchmarks.segment_effort, tiny: one object of one photo, the three ways, with a
model trained on one other photo at a small working size."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from benchmarks.segment_effort import CAP, brush_actions, effort, effort_lines, proposal_actions
from nblabel.autolabel.pixels import PixelFeatures


def test_effort_counts_actions_per_object_within_the_cap(tmp_path: Path) -> None:
    e = effort(1, per_image=1, answered=1, featurizer=PixelFeatures(side=64, deep=False), cache=tmp_path)
    assert len(e["brush"]) == len(e["grabcut"]) == len(e["proposal"]) == len(e["classes"]) == 1
    assert 1 <= e["brush"][0] <= CAP and 1 <= e["grabcut"][0] <= CAP and 0 <= e["proposal"][0] <= CAP
    assert 0.0 <= e["first_iou"][0] <= 1.0 and 0.0 <= e["proposal_iou"][0] <= 1.0
    text = "\n".join(effort_lines(e, 1, ["--photos", "1"]))
    assert f"| {e['classes'][0]} | 1 |" in text and "| all | 1 |" in text
    assert "(iii) proposal: mean" in text and "(iii) / (i):" in text
    assert "python -m benchmarks.segment_effort --photos 1" in text


def test_one_straight_stroke_paints_a_bar() -> None:
    gold = np.zeros((100, 200), bool)
    gold[40:60, 20:180] = True
    assert brush_actions(gold) == 1


def test_a_proposal_starts_from_its_pieces_touching_the_object() -> None:
    gold = np.zeros((100, 200), bool)
    gold[40:60, 20:180] = True
    proposal = np.zeros((100, 200), np.uint8)
    proposal[40:60, 20:180] = 1
    proposal[0:10, 0:10] = 1  # another object of the class: not this object's start
    assert proposal_actions(proposal, 1, gold) == (0, 1.0)  # Enter accepts it
    proposal[60:90, 20:180] = 1  # the proposal runs on below the object: one eraser stroke
    actions, start = proposal_actions(proposal, 1, gold)
    assert actions == 1 and abs(start - 20 * 160 / (50 * 160)) < 1e-9
    assert proposal_actions(proposal, 2, gold) == (brush_actions(gold), 0.0)  # nothing of its class
