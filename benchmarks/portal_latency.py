"""Key press to next item painted: the labeling portal (Voilà) beside JupyterLab, and how many
annotators one portal serves at that latency.

Usage::

    .venv/bin/python -m benchmarks.portal_latency [--presses 60] [--annotators 1,2,4] [--out BENCHMARKS.md]

The same text classification widget is timed in JupyterLab (one notebook) and through the
portal (``job.serve``, one Voilà page per annotator), in the same run, with the page hooks of
``benchmarks.ui_latency`` (key event to the frame showing the next item, painted). Concurrent
annotators are headless Chromium browsers, one per annotator, each in its own thread, pressing
keys paced like a fast person at the same time against one portal process. Every annotator makes
the same number of presses, and every portal job holds enough items that no annotator's queue
can run dry; a page that shows "All done" anyway fails the run (a press with no next item would
time the end of the queue, not the portal). The section between ``<!-- portal_latency:start -->``
and ``<!-- portal_latency:end -->`` in ``--out`` is replaced.
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import pandas as pd
from playwright.sync_api import sync_playwright

import nblabel as nl
from benchmarks._lib.data import make_texts
from benchmarks._lib.machine import load_average
from benchmarks._lib.page import VIEWPORT, classification_cells, notebook_page, show_widget
from benchmarks._lib.report import REPO, command_line, write_section
from benchmarks._lib.stats import fmt, median, p95
from benchmarks.ui_latency.series import Series, press_series
from nblabel.portal.app import WINDOW
from tests.harness import JupyterServer, launch_browser
from tests.harness.widgets import LABELS, all_saved, focus, wait_item

TARGET = 1.2  # the portal's p95 within 1.2x of JupyterLab's
# Asked after a press that showed no next item: "All done" means the queue ran dry, which
# fails the run there and then (the presses left would time the queue's end, not the portal).
READY = (
    "() => { const r = document.querySelector('[data-testid=nbl-root]');"
    " if (r && r.dataset.state === 'done') throw new Error('the queue ran dry: All done on screen');"
    " return r && r.dataset.state !== 'loading'; }"
)
PAGE_MS = 180_000  # a Voilà page starts a kernel that imports nblabel before the widget shows


def _press(page: Any, root: Any, mode: str, args: argparse.Namespace, seed: int) -> Series:
    series = Series(mode, "texts", 0)
    press_series(
        page,
        root,
        series,
        presses=args.presses,
        warmup=args.warmup,
        gap_ms=args.gap_ms,
        jitter=0.3,
        rng=random.Random(seed),
        is_ready=READY,
    )
    all_saved(root, timeout=PAGE_MS)
    dry(series, root.get_attribute("data-state"))
    return series


def dry(series: Series, state: str | None) -> None:
    """Fail loudly when the queue ran dry: the page ends on "All done" instead of a next item
    (a queue only shrinks, so a press that met its end leaves it there), and presses after that
    would time the queue's end, not the portal."""
    if state != "item":
        raise RuntimeError(
            f"{series.mode}: the queue ran dry (the page ends in state {state!r} after "
            f"{len(series.records)} presses); the job needs more items"
        )


def items_needed(presses: int, annotators: int) -> int:
    """Items for ``annotators`` people pressing ``presses`` keys each with none left waiting:
    each needs an item per press, one shown after the last, and claims ``WINDOW`` ahead."""
    return annotators * (presses + 1 + WINDOW)


def lab_series(folder: Path, texts: list[str], args: argparse.Namespace, run: int) -> Series:
    """The widget in a JupyterLab notebook (a fresh server and job for each ``run``)."""
    root_dir = folder / f"lab-{run}"
    root_dir.mkdir()
    (root_dir / "texts.json").write_text(json.dumps(texts))
    with JupyterServer("lab", root_dir) as server, sync_playwright() as pw:
        browser = launch_browser(pw)
        try:
            with notebook_page(browser, server, "bench.ipynb", classification_cells("texts", "lab")) as nb:
                nb.run_cell(0)
                nb.run_cell(1)
                return _press(nb.page, show_widget(nb), "lab", args, run)
        finally:
            browser.close()


class _Start:
    """What the simulated annotators of one part share: pages open one at a time (a page's
    kernel start is not what is measured, and a burst of them on a loaded machine timed out),
    then everybody starts pressing together."""

    def __init__(self, count: int) -> None:
        self.opening = threading.Lock()
        self.barrier = threading.Barrier(count)


def _annotator(
    link: str, args: argparse.Namespace, seed: int, start: _Start, out: list[Series], errors: list[str]
) -> None:
    """One simulated annotator: their own browser on their link, pressing keys."""
    try:
        with sync_playwright() as pw:
            browser = launch_browser(pw)
            try:
                page = browser.new_page(viewport=VIEWPORT)
                with start.opening:
                    # Voilà streams the page as the cell runs: wait for the widget, not the load.
                    page.goto(link, wait_until="commit", timeout=PAGE_MS)
                    root = page.get_by_test_id("nbl-root")
                    root.wait_for(state="visible", timeout=PAGE_MS)
                    wait_item(root, timeout=PAGE_MS)
                focus(root)
                start.barrier.wait()
                out.append(_press(page, root, "portal", args, seed))
            finally:
                browser.close()
    except Exception as exc:  # reported with the results: a failed annotator is a finding
        start.barrier.abort()  # the others stop waiting for this one
        errors.append(f"{type(exc).__name__}: {exc}"[:300])


def portal_series(folder: Path, texts: list[str], count: int, args: argparse.Namespace) -> list[Series]:
    """``count`` annotators labeling at once through one portal process."""
    work = folder / f"portal-{count}"
    work.mkdir()
    items = pd.DataFrame({"source": texts[: items_needed(args.presses, count)]})
    job = nl.Job(f"portal-{count}", items, nl.TextClassification(LABELS), store=work / "job.sqlite")
    names = [f"annotator-{i}" for i in range(count)]
    out: list[Series] = []
    errors: list[str] = []
    start = _Start(count)
    with job.serve(names) as portal:
        threads = [
            threading.Thread(target=_annotator, args=(portal.link(name), args, i, start, out, errors))
            for i, name in enumerate(names)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    if errors:
        raise RuntimeError(f"{len(errors)} of {count} simulated annotators failed: {errors}")
    return out


def _painted(series: list[Series]) -> list[float]:
    return [v for s in series for v in s.values("t_paint")]


def _progress(part: str, series: list[Series], t0: float) -> None:
    values = _painted(series)
    print(
        f"{part}: {len(values)} presses, median {fmt(median(values))} ms, p95 {fmt(p95(values))} ms, "
        f"misses {sum(s.misses for s in series)} ({time.monotonic() - t0:.0f} s, load {load_average()})",
        flush=True,
    )


def _row(front_end: str, count: int, series: list[Series], ratio: float) -> str:
    painted = _painted(series)
    stored = [v for s in series for v in s.values("t_ack")]
    return (
        f"| {front_end} | {count} | {len(painted)} | {fmt(median(painted))} | {fmt(p95(painted))} "
        f"| {ratio:.2f} | {fmt(median(stored))} | {fmt(p95(stored))} | {sum(s.misses for s in series)} |"
    )


def section(lab: list[Series], portal: dict[int, list[Series]], args: argparse.Namespace, loads: str) -> str:
    lab_p95 = p95(_painted(lab))
    rows = [
        "| front end | annotators at once | presses | painted: median ms | p95 ms | p95 / Lab's "
        "| stored: median ms | p95 ms | misses |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
        _row("JupyterLab 4", 1, lab, 1.0),
    ]
    served = 0
    for count, series in sorted(portal.items()):
        ratio = p95(_painted(series)) / lab_p95
        if ratio <= TARGET and not sum(s.misses for s in series):  # a press with no item ready is not served
            served = max(served, count)
        rows.append(_row("portal (Voilà)", count, series, ratio))
    verdict = (
        f"One portal process served **{served}** annotator(s) at once within {TARGET}x of JupyterLab's p95"
        if served
        else f"No tried number of annotators stayed within {TARGET}x of JupyterLab's p95"
    )
    return "\n".join(
        [
            "## The labeling portal: key press to next item, beside JupyterLab",
            "",
            f"`{command_line('portal_latency')}`: the text classification widget, {args.presses} presses "
            f"per annotator ({args.warmup} warm-up presses not counted), {args.gap_ms:.0f} ms apart (±30%), "
            "timed from the key event to the frame showing the next item, painted, and to the kernel's "
            "acknowledgement that the answer is stored (the page hooks of "
            f"`benchmarks.ui_latency`). JupyterLab: one notebook, {len(lab)} series pooled "
            f"({'one before the portal parts, one after them' if len(lab) > 1 else 'before the portal parts'}"
            "). Portal: `job.serve`, one Voilà page and "
            "kernel per annotator, each annotator a headless Chromium of its own in its own thread; the "
            "pages open one after another, then all press at once against one portal process. Target: the "
            "portal's p95 within "
            f"{TARGET}x of JupyterLab's.",
            "",
            *rows,
            "",
            f"{verdict} and no press finding its next item missing (tried: "
            f"{', '.join(str(c) for c in sorted(portal))}). Every job held enough items for all its "
            "presses, and every page still showed a next item after its last press (a queue that runs "
            "dry fails the run). Machine: 2 cores shared "
            f"with other jobs; load averages (1 / 5 / 15 min) after each part, in run order: {loads}. "
            "Every simulated annotator "
            "runs its own browser on the same 2 cores, so more annotators also means more browser load "
            "than real annotators, each on their own computer, would put on the server.",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks.portal_latency", description=__doc__.split("\n\n")[0]
    )
    p.add_argument("--presses", type=int, default=60, help="key presses per annotator (default 60)")
    p.add_argument("--warmup", type=int, default=5, help="first presses not counted (default 5)")
    p.add_argument("--gap-ms", type=float, default=400.0, help="time between presses (default 400 ms)")
    p.add_argument("--annotators", default="1,2,4", help="numbers of annotators at once (default 1,2,4)")
    p.add_argument(
        "--lab-series",
        type=int,
        choices=[1, 2],
        default=2,
        help="JupyterLab series: before the portal parts, and (2, the default) again after them",
    )
    p.add_argument("--out", type=Path, default=REPO / "BENCHMARKS.md", help="markdown file to update")
    args = p.parse_args(argv)
    counts = [int(c) for c in args.annotators.split(",")]
    texts = make_texts(items_needed(args.presses, max(counts)))
    loads: list[str] = []
    with tempfile.TemporaryDirectory(prefix="nblabel-bench-portal-") as tmp:
        folder = Path(tmp)
        lab: list[Series] = []
        portal: dict[int, list[Series]] = {}
        # JupyterLab before the portal parts and again after them: a load that drifts during
        # the run weighs on both sides of the ratio.
        for part in ["lab", *counts, *(["lab"] if args.lab_series > 1 else [])]:
            t0 = time.monotonic()
            if part == "lab":
                lab.append(lab_series(folder, texts, args, len(lab)))
                loads.append(f"Lab {load_average()}")
                _progress(f"JupyterLab, series {len(lab)}", lab[-1:], t0)
            else:
                portal[part] = portal_series(folder, texts, part, args)
                loads.append(f"{part} at once {load_average()}")
                _progress(f"portal, {part} at once", portal[part], t0)
    text = section(lab, portal, args, "; ".join(loads))
    print(text)
    write_section(args.out, "portal_latency", text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
