"""Pointer move to redraw while painting a mask, in the segmentation widget, in real JupyterLab.

Usage::

    .venv/bin/python -m benchmarks.segment_latency [--moves 300] [--runs 2] [--out BENCHMARKS.md]

A 4000x3000 JPEG is painted in the segmentation widget (a 12-megapixel mask of class indices at
the original resolution). Chromium (Debian's, headless) drags the brush with real mouse input:
across the whole image at the fitted view with a 20 px and a 119 px brush, and zoomed in to about
four times the fitted zoom. Each pointer move stamps the brush along the segment; the next frame
recolours the changed rectangle of the mask, redraws that rectangle on the stage's mask layer and
repaints the brush outline on the overlay; the page records the
time from the event's timestamp to the end of that redraw in the next animation frame (the same
probe as ``benchmarks.boxes_latency``). Target: one frame at 60 Hz, 16.7 ms. The section between
``<!-- segment_latency:start -->`` and ``<!-- segment_latency:end -->`` in ``--out`` is replaced.
"""

from __future__ import annotations

import argparse
import os
import platform
from pathlib import Path

from benchmarks._lib.data import BIG_IMAGE
from benchmarks._lib.page import big_image_stage, drag, drag_table
from benchmarks._lib.report import REPO, write_section

SETUP = """
import pandas as pd
import nblabel as nl
job = nl.Job('bench', pd.DataFrame({{'source-ref': [{ref!r}]}}), nl.SemanticSegmentation(['a', 'b', 'c']))
"""
CASES = ("brush 20 px, fitted", "brush 119 px, fitted", "brush 20 px, zoomed")


def run(moves: int) -> dict[str, list[float]]:
    """One run: the three strokes, in a fresh server and page."""
    results: dict[str, list[float]] = {}
    ready = "() => document.querySelector('[data-testid=nbl-root]').dataset.painted === '0'"
    with big_image_stage(SETUP, ready) as stage:
        page, widget, at = stage.nb.page, stage.root, stage.screen
        results[CASES[0]] = drag(page, at(50, 2950), at(3950, 60), moves)
        page.keyboard.press("2")
        for _ in range(8):
            page.keyboard.press("]")  # 20 -> 119 px in quarter steps
        assert widget.get_attribute("data-brush") == "119", widget.get_attribute("data-brush")
        results[CASES[1]] = drag(page, at(50, 60), at(3950, 2950), moves)
        for _ in range(8):
            page.keyboard.press("[")
        box = stage.rect()
        mid = (box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        page.mouse.move(*mid)
        for _ in range(6):
            page.keyboard.press("+")  # 1.25^6 ~ 3.8x the fitted zoom
        results[CASES[2]] = drag(page, (mid[0] - 300, mid[1] - 200), (mid[0] + 300, mid[1] + 200), moves)
        results["zoom"] = [float(widget.get_attribute("data-zoom"))]
        results["painted"] = [float(widget.get_attribute("data-painted"))]
        results["load"] = [os.getloadavg()[0]]
    return results


def section(all_runs: list[dict[str, list[float]]], moves: int) -> str:
    lines = [
        "## Segmentation: pointer move to redraw while painting a mask",
        "",
        f"`python -m benchmarks.segment_latency`: a {BIG_IMAGE[0]}x{BIG_IMAGE[1]} JPEG painted in the segmentation widget "
        f"(a {BIG_IMAGE[0] * BIG_IMAGE[1] / 1e6:.0f}-megapixel index mask), JupyterLab, headless Debian chromium (software "
        f"rendering), {moves} real mouse moves per stroke, {len(all_runs)} runs. Time from the pointer event to "
        "the end of the widget's redraw in the next animation frame (brush stamped, changed rectangle of the "
        "mask recoloured and redrawn on its layer, brush outline drawn). Target: one 60 Hz frame, 16.7 ms.",
        "",
        *drag_table(all_runs, CASES, "stroke"),
    ]
    loads = ", ".join(f"{r['load'][0]:.1f}" for r in all_runs)
    lines += [
        "",
        f"Zoomed: {all_runs[0]['zoom'][0]:.0f}%; pixels painted by the three strokes: "
        f"{all_runs[0]['painted'][0]:,.0f}. Machine: {platform.machine()}, Python {platform.python_version()}; "
        "2 cores shared with other jobs (1-minute load average at the end of each run: "
        f"{loads}), so the tail includes preemption; the median "
        "includes the wait for the next animation frame.",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks.segment_latency", description=__doc__.split("\n\n")[0]
    )
    p.add_argument("--moves", type=int, default=300, help="pointer moves per stroke (default 300)")
    p.add_argument("--runs", type=int, default=2, help="runs, each with a fresh server and page (default 2)")
    p.add_argument("--out", type=Path, default=REPO / "BENCHMARKS.md", help="markdown file to update")
    args = p.parse_args(argv)
    runs = [run(args.moves) for _ in range(args.runs)]
    text = section(runs, args.moves)
    print(text)
    write_section(args.out, "segment_latency", text)


if __name__ == "__main__":
    main()
