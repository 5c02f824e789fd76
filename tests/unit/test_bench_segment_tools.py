"""Smoke test of benchmarks.segment_tools, tiny: the effort measure on one object of one photo,
and the report of a made-up latency run (the browser part runs in `python -m benchmarks.segment_tools`)."""

from __future__ import annotations

import numpy as np

from benchmarks.segment_tools import CAP, brush_actions, effort, effort_lines, section


def test_effort_counts_actions_per_object_within_the_cap() -> None:
    e = effort(1, per_image=1)
    assert len(e["brush"]) == len(e["grabcut"]) == len(e["classes"]) == 1
    assert 1 <= e["brush"][0] <= CAP and 1 <= e["grabcut"][0] <= CAP
    assert 0.0 <= e["first_iou"][0] <= 1.0
    text = "\n".join(effort_lines(e, 1))
    assert f"| {e['classes'][0]} | 1 |" in text and "| all | 1 |" in text


def test_one_straight_stroke_paints_a_bar() -> None:
    gold = np.zeros((100, 200), bool)
    gold[40:60, 20:180] = True
    assert brush_actions(gold) == 1


def test_the_latency_section_reports_each_action_and_the_ratios() -> None:
    run = {
        "prompt": [120.0, 180.0],
        "kernel": [90.0, None],
        "superpixel stroke": [9.0, 11.0],
        "brush stroke": [8.0, 10.0],
        "wand click": [12.0],
        "brush click": [6.0],
        "superpixels": [700],
        "superpixels_s": [1.5],
        "load": [2.0],
    }
    text = section([run], ["--runs", "1"])
    assert "| box or corrective click → GrabCut mask painted (target 300 ms) | 2 | 150.0 |" in text
    assert "wand click / brush click: median 2.00x" in text
    assert "python -m benchmarks.segment_tools --runs 1" in text
