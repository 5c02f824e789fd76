"""Smoke test of benchmarks.segment_tools: the report of a made-up latency run (the browser part
runs in `python -m benchmarks.segment_tools`; the effort measure is test_bench_segment_effort.py's)."""

from __future__ import annotations

from benchmarks.segment_tools import section


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
