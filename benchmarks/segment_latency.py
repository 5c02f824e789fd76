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
import json
import os
import platform
import tempfile
from pathlib import Path

from tests.harness import JupyterServer, NotebookPage, launch_browser

from benchmarks._lib.data import BIG_IMAGE, make_big_image
from benchmarks._lib.hooks import DRAG_PROBE_JS
from benchmarks._lib.page import drag
from benchmarks._lib.report import REPO, write_section
from benchmarks._lib.stats import median, p95
from benchmarks._lib.trace import FRAME_MS

SETUP = """
import pandas as pd
import nblabel as nl
job = nl.Job('bench', pd.DataFrame({{'source-ref': [{ref!r}]}}), nl.SemanticSegmentation(['a', 'b', 'c']))
"""
CASES = ("brush 20 px, fitted", "brush 119 px, fitted", "brush 20 px, zoomed")


def run(moves: int) -> dict[str, list[float]]:
    from playwright.sync_api import sync_playwright

    results: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory(prefix="nblabel-segbench-") as tmp:
        root = Path(tmp)
        ref = make_big_image(root)
        with JupyterServer("lab", root, nodelay=True) as server, sync_playwright() as pw:
            browser = launch_browser(pw)
            page = browser.new_page(viewport={"width": 1280, "height": 1000})
            nb = NotebookPage(page, server).open("bench.ipynb", [SETUP.format(ref=str(ref)), "job"])
            nb.run_cell(0)
            nb.run_cell(1)
            widget = nb.cell(1).get_by_test_id("nbl-root")
            overlay = widget.get_by_test_id("nbl-vp-overlay")
            overlay.wait_for(state="visible")
            page.wait_for_function(
                "() => document.querySelector('[data-testid=nbl-root]').dataset.painted === '0'"
            )
            overlay.evaluate(DRAG_PROBE_JS)
            widget.click(position={"x": 5, "y": 5})
            box = overlay.bounding_box()
            view = json.loads(widget.get_attribute("data-view"))

            def at(ix: float, iy: float) -> tuple[float, float]:
                return box["x"] + view["x"] + ix * view["scale"], box["y"] + view["y"] + iy * view["scale"]

            results[CASES[0]] = drag(page, at(50, 2950), at(3950, 60), moves)
            page.keyboard.press("2")
            for _ in range(8):
                page.keyboard.press("]")  # 20 -> 119 px in quarter steps
            assert widget.get_attribute("data-brush") == "119", widget.get_attribute("data-brush")
            results[CASES[1]] = drag(page, at(50, 60), at(3950, 2950), moves)
            for _ in range(8):
                page.keyboard.press("[")
            page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
            for _ in range(6):
                page.keyboard.press("+")  # 1.25^6 ~ 3.8x the fitted zoom
            mid = (box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
            results[CASES[2]] = drag(page, (mid[0] - 300, mid[1] - 200), (mid[0] + 300, mid[1] + 200), moves)
            results["zoom"] = [float(widget.get_attribute("data-zoom"))]
            results["painted"] = [float(widget.get_attribute("data-painted"))]
            results["load"] = [os.getloadavg()[0]]
            nb.close()
            browser.close()
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
        "| stroke | moves measured | median ms | p95 ms | max ms | p95 within 16.7 ms |",
        "|---|---|---|---|---|---|",
    ]
    for name in CASES:
        xs = [x for r in all_runs for x in r[name]]
        tail = p95(xs)
        lines.append(
            f"| {name} | {len(xs)} | {median(xs):.1f} | {tail:.1f} | {max(xs):.1f} | "
            f"{'yes' if tail <= FRAME_MS else 'no'} |"
        )
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
