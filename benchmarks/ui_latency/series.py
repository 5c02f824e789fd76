"""One series of key presses on the classification widget (or the bare control element), and
the Chrome-traced one that explains the slow presses."""

from __future__ import annotations

import argparse
import contextlib
import math
import random
import time
from pathlib import Path
from typing import Any

import psutil

from benchmarks._lib.hooks import CONTROL_JS, KEY_HOOK_JS
from benchmarks._lib.machine import OtherLoad, bundle_digest, chromium_procs, kernel_procs, reap, tree_cpu
from benchmarks._lib.page import classification_cells, notebook_page, pause, show_widget
from benchmarks._lib.stats import fmt, summary
from benchmarks._lib.trace import analyze_trace, tracing
from tests.harness import JupyterServer
from tests.harness.widgets import all_saved

KEYS = ["1", "2", "3"]
TRAIN_EVERY, TRAIN_INTERVAL = 10, 1  # job.autolabel(every=..., interval=...) in training series
TRAIN_TARGET = 1.5  # the issue: p95 with training running within 1.5× of idle p95


def _is_worker(p: psutil.Process) -> bool:
    with contextlib.suppress(psutil.Error):
        return "nblabel.autolabel.worker" in " ".join(p.cmdline())
    return False


def worker_procs(server: JupyterServer) -> list[psutil.Process]:
    """The auto-labeler's worker processes (children of the kernels)."""
    return [p for p in kernel_procs(server) if _is_worker(p)]


def latest_round(store_path: Path, attribute: str) -> int:
    """The number of the latest auto-labeling round saved in the store (0: none)."""
    from nblabel.store.sqlite import SQLiteStore

    if not store_path.exists():
        return 0
    store = SQLiteStore(store_path)
    try:
        latest = store.latest_round(attribute)
    finally:
        store.close()
    return latest[0] if latest else 0


# --------------------------------------------------------------------------- one series


class Series:
    """One batch of key presses on one widget (or the control element)."""

    def __init__(self, mode: str, media: str, run: int, training: bool = False) -> None:
        self.mode = mode
        self.media = media
        self.run = run
        self.training = training
        self.rounds = (0, 0)  # latest round number when the presses started / ended
        self.rounds_total = 0  # rounds until the worker was stopped
        self.worker_cpu_s = math.nan  # the worker's CPU seconds during the presses (and ack wait)
        self.worker_wall_s = math.nan
        self.records: list[dict[str, Any]] = []
        self.loaf: list[dict[str, Any]] = []
        self.events: list[dict[str, Any]] = []
        self.warmup = 0
        self.dropped = 0
        self.decodes = 0
        self.decode_ms = 0.0
        self.wall_s = 0.0
        self.kernel_cpu_s = math.nan
        self.browser_cpu_s = math.nan
        self.foreign_cpu_pct = math.nan
        self.bundle = ""
        self.payload_kb: float = math.nan

    @property
    def measured(self) -> list[dict[str, Any]]:
        return [r for r in self.records[self.warmup :] if r.get("done")]

    @property
    def hits(self) -> list[dict[str, Any]]:
        return [r for r in self.measured if not r["miss"]]

    @property
    def misses(self) -> int:
        return sum(1 for r in self.records[self.warmup :] if r.get("miss")) + self.dropped

    def values(self, end: str, start: str = "t_key") -> list[float]:
        return [r[end] - r[start] for r in self.hits if end in r and start in r]

    def to_json(self) -> dict[str, Any]:
        return {
            k: getattr(self, k)
            for k in (
                "mode",
                "media",
                "run",
                "training",
                "rounds",
                "rounds_total",
                "worker_cpu_s",
                "worker_wall_s",
                "warmup",
                "dropped",
                "decodes",
                "decode_ms",
                "wall_s",
                "kernel_cpu_s",
                "browser_cpu_s",
                "foreign_cpu_pct",
                "bundle",
                "records",
                "loaf",
                "events",
            )
        }


def pooled(series: list[Series], mode: str, media: str) -> Series:
    """One series holding the measured presses of every series of this server mode and media."""
    out = Series(mode, media, 0)
    for s in series:
        if s.mode == mode and s.media == media:
            out.records.extend(s.hits)
            out.loaf.extend(s.loaf)
            out.events.extend(s.events)
            out.dropped += s.misses
    return out


def press_series(
    page: Any,
    root: Any,
    series: Series,
    *,
    presses: int,
    warmup: int,
    gap_ms: float,
    jitter: float,
    rng: random.Random,
    is_ready: str,
) -> None:
    """Install the hook on ``root`` and press ``presses`` keys, paced by ``gap_ms``."""
    root.evaluate(KEY_HOOK_JS)
    series.warmup = warmup
    t0 = time.monotonic()
    for i in range(presses):
        key = KEYS[i % len(KEYS)]
        page.keyboard.down(key)
        pause(gap_ms, jitter, rng)
        done = page.evaluate(
            "n => { const r = window.__nblBench.records[n]; return r ? (r.done ? 'done' : 'wait') : 'none'; }",
            i,
        )
        if done == "wait":
            try:
                page.wait_for_function(
                    "n => window.__nblBench.records[n].done", arg=i, polling=20, timeout=30_000
                )
            except Exception:  # the key was ignored: no item on screen
                series.dropped += 1
        elif done == "none":  # the keydown never reached the root (focus lost?)
            raise RuntimeError(f"key press {i} did not reach the widget; focus: {focused(page)}")
        page.keyboard.up(key)
        if done != "done":  # give the widget a moment to show an item before the next press
            page.wait_for_function(is_ready, timeout=30_000, polling=50)
    series.wall_s = time.monotonic() - t0
    data = page.evaluate(
        "() => { const B = window.__nblBench; return {records: B.records, loaf: B.loaf,"
        " events: B.events, decodes: B.decodes, decodeMs: B.decodeMs}; }"
    )
    series.records = data["records"]
    series.loaf = data["loaf"]
    series.events = data["events"]
    series.decodes = data["decodes"]
    series.decode_ms = data["decodeMs"]


def focused(page: Any) -> str:
    return page.evaluate(
        "() => { const a = document.activeElement; return a ? a.tagName + '.' + a.className : 'none'; }"
    )


def run_widget_series(
    browser: Any,
    server: JupyterServer,
    *,
    mode: str,
    media: str,
    run: int,
    items: int,
    args: argparse.Namespace,
    rng: random.Random,
    training: bool = False,
) -> tuple[Series, Series | None]:
    """Open a notebook with a fresh job, label ``items - 1`` items. Also runs the control series
    on the same page when asked (``args.control`` and media == images). With ``training``, the
    job's background auto-labeler is started right after the job is created."""
    name = f"bench-{media}-{mode}-{'train' if training else 'idle'}-r{run}"
    store_path = server.root_dir / ".nblabel" / f"{name}.sqlite"
    bundle = bundle_digest(args.esm)  # the kernel reads the file when it imports the widget
    autolabel = f"every={TRAIN_EVERY}, interval={TRAIN_INTERVAL}" if training else None
    control: Series | None = None
    workers: list[psutil.Process] = []
    try:
        with notebook_page(
            browser, server, name, classification_cells(media, name, args.esm, autolabel)
        ) as nb:
            page = nb.page
            nb.run_cell(0)
            if training:
                deadline = time.monotonic() + 20
                while not (workers := worker_procs(server)) and time.monotonic() < deadline:
                    time.sleep(0.2)  # polling for the worker process the kernel starts
                if not workers:
                    raise RuntimeError("the auto-labeler's worker process did not start")
            nb.run_cell(1)
            root = show_widget(nb)
            time.sleep(1.0)  # let the first prefetch window arrive
            series = Series(mode, media, run, training)
            series.bundle = bundle
            kernels = [p for p in kernel_procs(server) if not _is_worker(p)]
            kcpu0, bcpu0 = tree_cpu(kernels), tree_cpu(chromium_procs())
            others, wall0 = OtherLoad(), time.monotonic()
            wcpu0, round0 = tree_cpu(workers), latest_round(store_path, name)
            press_series(
                page,
                root,
                series,
                presses=items - 1,  # the last press shows "All done"
                warmup=args.warmup,
                gap_ms=args.gap_ms,
                jitter=args.jitter,
                rng=rng,
                is_ready="() => { const r = document.querySelector('[data-testid=nbl-root]');"
                " return r.dataset.state !== 'loading'; }",
            )
            try:
                all_saved(root, timeout=300_000)
            except AssertionError:
                print("  warning: answers still unacknowledged after 5 min", flush=True)
            series.kernel_cpu_s = tree_cpu(kernels) - kcpu0
            series.browser_cpu_s = tree_cpu(chromium_procs()) - bcpu0
            if training:
                series.worker_cpu_s = tree_cpu(workers) - wcpu0
                series.worker_wall_s = time.monotonic() - wall0
                series.rounds = (round0, latest_round(store_path, name))
                if not any(p.is_running() for p in workers):
                    print("  warning: the auto-labeler's worker exited during the series", flush=True)
            series.foreign_cpu_pct = others.percent()
            if args.control and media == "images":
                control = Series("control", "control", run)
                page.evaluate(CONTROL_JS)
                press_series(
                    page,
                    page.get_by_test_id("bench-control"),
                    control,
                    presses=args.control_presses + args.warmup,
                    warmup=args.warmup,
                    gap_ms=args.gap_ms,
                    jitter=args.jitter,
                    rng=rng,
                    is_ready="() => true",
                )
            if nb.page_errors:
                print(f"  page errors: {nb.page_errors[:3]}", flush=True)
    finally:
        reap(workers)  # the kernel is gone: its worker got SIGTERM and ends its round
    if training:
        series.rounds_total = latest_round(store_path, name)
    return series, control


def traced_series(
    browser: Any, root: Path, work: Path, args: argparse.Namespace, rng: random.Random
) -> dict[str, Any]:
    """One more image series, stock server, with Chrome tracing on; returns the attribution."""
    path = args.keep_trace or work / "trace.json"
    media = args.attribution_media
    print(f"attribution · stock · {media}, {args.attribution_items} items, Chrome tracing on ...", flush=True)
    with JupyterServer("lab", root) as server, tracing(browser, path):
        series, _ = run_widget_series(
            browser,
            server,
            mode="traced",
            media=media,
            run=0,
            items=args.attribution_items,
            args=_no_control(args),
            rng=rng,
        )
    report_series(series)
    result = analyze_trace(path, series.records, series.hits)
    result["series"] = series
    if args.keep_trace is None:
        path.unlink(missing_ok=True)
    return result


def report_series(series: Series) -> None:
    st = summary(series.values("t_paint"))
    print(
        f"  painted p50 {fmt(st['p50'])} p95 {fmt(st['p95'])} max {fmt(st['max'])} n {st['n']} "
        f"misses {series.misses} decodes {series.decodes} other CPU {fmt(series.foreign_cpu_pct, 0)} % "
        f"({series.wall_s:.0f} s)"
        + (
            f" · training: rounds {series.rounds[0]}→{series.rounds[1]}, "
            f"worker CPU {fmt(series.worker_cpu_s)} s"
            if series.training
            else ""
        ),
        flush=True,
    )


def _no_control(args: argparse.Namespace) -> argparse.Namespace:
    ns = argparse.Namespace(**vars(args))
    ns.control = False
    return ns
