"""Keypress → next item painted, for nblabel's classification widget in a real JupyterLab.

Starts JupyterLab as Jupyter Server ships it (``stock``: nblabel's server extension turned off
with ``NBLABEL_TCP_NODELAY=0``) and, with ``--nodelay``, as nblabel users get it (``nodelay``: the
extension sets TCP_NODELAY on the kernel websocket, see ``nblabel.server_extension``), opens a notebook that displays
``nl.Job(..., nl.ImageClassification([...]))`` (or ``TextClassification``) in headless Debian
chromium, focuses the widget and labels items with real key presses sent through the Chrome
DevTools protocol, at a human-like pace that lets the prefetch window refill.

Measured in the page, per key press (all times from ``performance.now()``'s clock):

* ``t_key``: the keydown event's ``timeStamp`` (when the browser received the key), recorded
  by a capture-phase listener on the widget root that runs before the widget's own handler.
* ``t_dom``: a MutationObserver sees the root's ``data-item-key`` change to the next item
  (the widget draws the item synchronously inside its keydown handler, so this is when the
  handler has finished).
* ``t_frame``: ``performance.now()`` in the first ``requestAnimationFrame`` callback after
  that, i.e. the start of the frame that renders the new item.
* ``t_paint`` (**"painted"**): ``performance.now()`` in a ``setTimeout(0)`` posted from that
  rAF callback. Chromium runs style, layout, paint and the commit to the compositor in the
  same task as the rAF callbacks, so this timer runs right after the frame containing the
  new item has been painted on the main thread. It does not include the compositor's
  raster/draw/present, which happens off the main thread.
* ``t_next``: the following rAF (double rAF): the start of the next frame, 0-16.7 ms after
  ``t_paint``. An upper bound, reported for readers comparing with double-rAF methods.
* ``t_ack``: the root's ``data-unacked`` count dropping back: the kernel stored the answer
  and its acknowledgement reached the widget.

Each press is made only after the previous one was painted and a gap (``--gap-ms``, with
±``--jitter``) has passed: the gap is pacing (a fast human), not synchronisation. Presses that
find no prefetched item (the widget shows "Loading…" or ignores the key) are counted and
excluded from the latency figures. The same hook is also run on a bare control element in
the same page (a keydown handler that only changes a text), which gives the browser's own
floor: input delivery plus one frame of the JupyterLab page.

One more image series runs with Chrome tracing on (``--attribution-items``); it is not pooled
with the others but explains the slow presses: for each press, the key → painted window on the
renderer's main thread is split into thread CPU per kind of task (key handler, frame rendering,
incoming messages), GC, time inside tasks without CPU (preempted, or the commit waiting for the
compositor) and time outside tasks.

With ``--training on|both`` (default both), every stock-server series is also run while the
auto-labeler trains: cell 0 starts ``job.autolabel(every=10, interval=1)`` right after creating
the job, so its worker process (``python -m nblabel.autolabel.worker``, a child of the kernel)
fits and predicts round after round on the answers the key presses give. For the comparison to be
fair and the training a real load, all jobs then hold ``--pool-images`` / ``--pool-texts`` items
(2,000 / 3,000; only ``--items`` of them are labeled, the rest stay in the pool that every round
predicts), idle series included. The worker's rounds and CPU seconds during the presses are
recorded per series. Features are computed once before the runs (the worker reads them from the
job's feature cache), so the measured load is fitting and predicting.

Usage::

    python benchmarks/ui_latency.py [--items 220] [--runs 2] [--gap-ms 200] \
        [--nodelay both|on|off] [--training both|on|off] [--out BENCHMARKS.md]

The results replace the section between ``<!-- ui_latency:start -->`` and
``<!-- ui_latency:end -->`` in ``--out`` (created if missing; other sections are kept).
Servers, kernels and the browser are stopped on exit, also on Ctrl+C or SIGTERM.
"""

from __future__ import annotations

import argparse
import bisect
import collections
import contextlib
import datetime as dt
import hashlib
import itertools
import json
import math
import os
import platform
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import psutil
from PIL import Image, ImageDraw

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "e2e"))

from harness import JupyterServer, NotebookPage, launch_browser  # noqa: E402

LABELS = ["cat", "dog", "bird"]
KEYS = ["1", "2", "3"]
FRAME_MS = 1000 / 60
VIEWPORT = {"width": 1600, "height": 1000}  # a large laptop screen
TRAIN_EVERY, TRAIN_INTERVAL = 10, 1  # job.autolabel(every=..., interval=...) in training series
TRAIN_TARGET = 1.5  # the issue: p95 with training running within 1.5× of idle p95

# Median / p95 in ms, stock JupyterLab 4.6 (/work/shared/reference/peer-latency.md).
PEERS = [
    ("jupyter-bbox-widget", "images", 39.0, 59.0),
    ("ipyannotations ClassLabeller", "images", 217.0, 270.0),
    ("superintendent", "images", 228.0, 274.0),
    ("ipyannotations (text)", "texts", 25.0, 34.0),
    ("pigeonXT", "texts", 35.0, 42.0),
]

# --------------------------------------------------------------------------- page-side hook

# Installed on a root element; records one entry per keydown. The capture listener on the root
# runs before the widget's own (bubble-phase) listener on the same element.
HOOK_JS = r"""
(root) => {
  const B = {
    records: [], loaf: [], events: [], decodes: 0, decodeMs: 0,
    pending: null, awaitingAck: [], lastUnacked: Number(root.dataset.unacked || 0),
  };
  window.__nblBench = B;
  root.addEventListener('keydown', (e) => {
    if (e.repeat) return;
    const r = {
      i: B.records.length, key: e.key, t_key: e.timeStamp, t_listener: performance.now(),
      from: root.dataset.itemKey || '', miss: false, done: false,
    };
    B.records.push(r);
    B.pending = r;
  }, {capture: true});

  function painted(r) {
    requestAnimationFrame((ts) => {
      r.t_frame = performance.now();
      r.t_frame_ts = ts;
      setTimeout(() => { r.t_paint = performance.now(); }, 0);
      requestAnimationFrame((ts2) => {
        r.t_next = performance.now();
        r.t_next_ts = ts2;
        // t_paint's timer always runs before the next frame's rAF callbacks
        r.done = true;
      });
    });
  }

  new MutationObserver((mutations) => {
    const now = performance.now();
    for (const m of mutations) {
      if (m.attributeName === 'data-item-key') {
        const r = B.pending;
        if (!r || r.t_dom !== undefined) continue;
        const key = root.dataset.itemKey || '';
        if (key === r.from) continue;
        if (key === '' || root.dataset.state !== 'item') {
          r.miss = true;  // nothing prefetched: "Loading…" is on screen
          continue;
        }
        r.t_dom = now;
        r.to = key;
        const canvas = root.querySelector('[data-testid=nbl-image]');
        if (canvas && !canvas.hidden) r.canvas = [canvas.width, canvas.height];
        painted(r);
      } else if (m.attributeName === 'data-unacked') {
        const n = Number(root.dataset.unacked || 0);
        if (n > B.lastUnacked) {
          for (let k = B.lastUnacked; k < n; k += 1) B.awaitingAck.push(B.pending);
        } else {
          for (let k = n; k < B.lastUnacked; k += 1) {
            const r = B.awaitingAck.shift();
            if (r && r.t_ack === undefined) r.t_ack = now;
          }
        }
        B.lastUnacked = n;
      }
    }
  }).observe(root, {attributes: true, attributeFilter: ['data-item-key', 'data-unacked']});

  // Context: frames of 50 ms or more, and keydowns whose next presented frame came >= 16 ms
  // after the key (Event Timing reports nothing shorter; its duration is rounded to 8 ms).
  const observe = (type, opts, fn) => {
    try { new PerformanceObserver((list) => list.getEntries().forEach(fn)).observe({type, ...opts}); }
    catch (err) { /* entry type not supported */ }
  };
  observe('long-animation-frame', {}, (e) => B.loaf.push({
    start: e.startTime, duration: e.duration, renderStart: e.renderStart,
    styleAndLayoutStart: e.styleAndLayoutStart, blocking: e.blockingDuration,
    scripts: (e.scripts || []).map((s) => ({
      invoker: s.invoker, duration: s.duration, source: (s.sourceURL || '').slice(-60),
      fn: s.sourceFunctionName,
    })),
  }));
  observe('event', {durationThreshold: 16}, (e) => {
    if (e.name === 'keydown') B.events.push({
      start: e.startTime, duration: e.duration,
      processingStart: e.processingStart, processingEnd: e.processingEnd,
    });
  });

  // Count image decodes (createImageBitmap) while the bench runs: each is a payload received.
  if (!window.__nblOrigCIB) {
    window.__nblOrigCIB = window.createImageBitmap;
    window.createImageBitmap = function (...args) {
      const w = window.__nblBench;
      const t0 = performance.now();
      const p = window.__nblOrigCIB.apply(this, args);
      if (w) {
        w.decodes += 1;
        p.then(() => { w.decodeMs += performance.now() - t0; }, () => {});
      }
      return p;
    };
  }
  return true;
}
"""

# A bare focusable element for the control series: its keydown handler only changes a text
# and the same data-item-key attribute the hook watches.
CONTROL_JS = r"""
() => {
  const el = document.createElement('div');
  el.tabIndex = 0;
  el.dataset.testid = 'bench-control';
  el.dataset.state = 'item';
  el.dataset.itemKey = 'c0';
  el.dataset.unacked = '0';
  el.setAttribute('data-lm-suppress-shortcuts', 'true');
  el.style.cssText = 'position:fixed;right:8px;bottom:8px;z-index:10000;padding:6px 10px;' +
    'background:#fff;border:1px solid #888;font:14px sans-serif';
  el.textContent = 'control 0';
  let n = 0;
  el.addEventListener('keydown', (e) => {
    e.preventDefault();
    e.stopPropagation();
    n += 1;
    el.textContent = 'control ' + n;
    el.dataset.itemKey = 'c' + n;
  });
  document.body.append(el);
  el.focus();
  return true;
}
"""

# --------------------------------------------------------------------------- data


def make_images(folder: Path, n: int, seed: int = 20261127) -> list[Path]:
    """n distinct photo-like 1024×768 JPEGs (q85): smooth colour fields, mid-frequency
    structure and sensor-like grain, which compress like real photos (~140 kB each)."""
    folder.mkdir(parents=True, exist_ok=True)
    width, height = 1024, 768
    paths = []
    for i in range(n):
        rng = np.random.default_rng(seed + i)
        low = Image.fromarray(rng.integers(0, 256, (6, 8, 3), dtype=np.uint8))
        mid = Image.fromarray(rng.integers(0, 256, (48, 64, 3), dtype=np.uint8))
        a = np.asarray(low.resize((width, height), Image.Resampling.BICUBIC), dtype=np.float32) * 0.7
        a += np.asarray(mid.resize((width, height), Image.Resampling.BICUBIC), dtype=np.float32) * 0.3
        a += rng.normal(0.0, 4.0, (height, width, 1)).astype(np.float32)
        img = Image.fromarray(np.clip(a, 0, 255).astype(np.uint8))
        draw = ImageDraw.Draw(img)
        draw.text((32, 32), f"bench image {i}", fill=(255, 255, 255), font_size=64)
        path = folder / f"bench{i:04d}.jpg"
        img.save(path, format="JPEG", quality=85)
        paths.append(path)
    return paths


def make_extra_images(folder: Path, start: int, n: int, bases: int = 8, seed: int = 20261127) -> list[Path]:
    """n more distinct 1024×768 JPEGs, cheaply: small variations (tint, offset, number) of a few
    photo-like bases made by ``make_images``; they compress like those (same size class)."""
    base_paths = make_images(folder / "bases", min(bases, n)) if n else []
    arrays = [np.asarray(Image.open(b), dtype=np.int16) for b in base_paths]
    rng = np.random.default_rng(seed)
    paths = []
    for k in range(n):
        i = start + k
        a = arrays[k % len(arrays)] + rng.integers(-12, 13, 3, dtype=np.int16)
        a = np.roll(a, int(rng.integers(0, 64)), axis=1)
        img = Image.fromarray(np.clip(a, 0, 255).astype(np.uint8))
        ImageDraw.Draw(img).text((32, 32), f"bench image {i}", fill=(255, 255, 255), font_size=64)
        path = folder / f"bench{i:04d}.jpg"
        img.save(path, format="JPEG", quality=85)
        paths.append(path)
    return paths


_WORDS_TEXT = (
    "the a delivery order customer package arrived late early damaged fine support team refund "
    "replaced quickly slowly service product quality price box label store online courier "
    "weekend morning tracking number email phone never always again happy unhappy friendly "
    "rude helpful manager return policy warranty battery screen colour size fit material"
)
_WORDS = _WORDS_TEXT.split()


def make_texts(n: int, seed: int = 20261127) -> list[str]:
    """n distinct review-like texts of a few sentences (~300-600 characters)."""
    rng = random.Random(seed)
    texts = []
    for i in range(n):
        sentences = [f"Review {i}."]
        for _ in range(rng.randint(4, 7)):
            words = [rng.choice(_WORDS) for _ in range(rng.randint(8, 16))]
            sentences.append(" ".join(words).capitalize() + ".")
        texts.append(" ".join(sentences))
    return texts


def job_cells(media: str, name: str, esm: Path | None = None, training: bool = False) -> list[str]:
    """The notebook: cell 0 makes the job (and, with ``training``, starts the background
    auto-labeler right away), cell 1 displays it. ``esm`` swaps in another build of the widget's
    JavaScript (to measure a patch without touching src/)."""
    column, task = (
        ("source-ref", "ImageClassification") if media == "images" else ("source", "TextClassification")
    )
    swap = ""
    if esm is not None:
        swap = (
            "from nblabel.widgets.classify import ClassifyWidget\n"
            f"ClassifyWidget._esm = Path({str(esm)!r}).read_text()\n"
        )
    return [
        "import json\nfrom pathlib import Path\nimport pandas as pd\nimport nblabel as nl\n"
        + swap
        + f"df = pd.DataFrame({{{column!r}: json.loads(Path({media + '.json'!r}).read_text())}})\n"
        f"job = nl.Job({name!r}, df, nl.{task}({LABELS!r}))"
        + (f"\njob.autolabel(every={TRAIN_EVERY}, interval={TRAIN_INTERVAL})" if training else ""),
        "job",
    ]


# --------------------------------------------------------------------------- statistics


def percentile(values: Sequence[float], q: float) -> float:
    """Linear interpolation between closest ranks (numpy's default method)."""
    if not values:
        return math.nan
    s = sorted(values)
    pos = (len(s) - 1) * q / 100
    lo = math.floor(pos)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (pos - lo)


def summary(values: Sequence[float]) -> dict[str, float]:
    return {
        "n": len(values),
        "p50": percentile(values, 50),
        "p95": percentile(values, 95),
        "max": max(values) if values else math.nan,
        "mean": sum(values) / len(values) if values else math.nan,
    }


def fmt(x: float, digits: int = 1) -> str:
    return "–" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.{digits}f}"


# --------------------------------------------------------------------------- processes


def _tree_cpu(procs: Iterable[psutil.Process]) -> float:
    total = 0.0
    for p in procs:
        with contextlib.suppress(psutil.Error):
            t = p.cpu_times()
            total += t.user + t.system
    return total


def busy_cpu_s() -> float:
    """CPU seconds the whole machine spent busy (all cores)."""
    t = psutil.cpu_times()
    return sum(t) - t.idle - getattr(t, "iowait", 0.0)


def own_cpu_s() -> float:
    """CPU seconds of this process and everything it started (driver, browser, servers, kernels)."""
    me = psutil.Process()
    return _tree_cpu([me, *me.children(recursive=True)])


def chromium_procs() -> list[psutil.Process]:
    me = psutil.Process()
    procs = []
    for p in me.children(recursive=True):
        with contextlib.suppress(psutil.Error):
            if "chrom" in p.name():
                procs.append(p)
    return procs


def kernel_procs(server: JupyterServer) -> list[psutil.Process]:
    if server.proc is None:
        return []
    with contextlib.suppress(psutil.Error):
        return psutil.Process(server.proc.pid).children(recursive=True)
    return []


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
    root.evaluate(HOOK_JS)
    series.warmup = warmup
    t0 = time.monotonic()
    for i in range(presses):
        key = KEYS[i % len(KEYS)]
        page.keyboard.down(key)
        time.sleep(gap_ms * (1 + rng.uniform(-jitter, jitter)) / 1000)
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
    page = browser.new_page(viewport=VIEWPORT)
    nb = NotebookPage(page, server, timeout=120)
    control: Series | None = None
    workers: list[psutil.Process] = []
    try:
        nb.open(name, job_cells(media, name, args.esm, training))
        nb.run_cell(0)
        if training:
            deadline = time.monotonic() + 20
            while not (workers := worker_procs(server)) and time.monotonic() < deadline:
                time.sleep(0.2)
            if not workers:
                raise RuntimeError("the auto-labeler's worker process did not start")
        nb.run_cell(1)
        root = nb.cell(1).get_by_test_id("nbl-root")
        root.wait_for(state="visible", timeout=60_000)
        page.wait_for_function(
            "() => { const r = document.querySelector('[data-testid=nbl-root]');"
            " return r && r.dataset.state === 'item' && r.dataset.itemKey; }",
            timeout=60_000,
        )
        root.scroll_into_view_if_needed()
        root.get_by_test_id("nbl-position").click()  # not a button: focuses the root
        if not root.evaluate("r => document.activeElement === r"):
            raise RuntimeError(f"the widget root did not take focus ({focused(page)})")
        # let the first prefetch window arrive
        time.sleep(1.0)
        series = Series(mode, media, run, training)
        series.bundle = bundle
        kernels = [p for p in kernel_procs(server) if not _is_worker(p)]
        kcpu0, bcpu0 = _tree_cpu(kernels), _tree_cpu(chromium_procs())
        busy0, own0, wall0 = busy_cpu_s(), own_cpu_s(), time.monotonic()
        wcpu0, round0 = _tree_cpu(workers), latest_round(store_path, name)
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
            page.wait_for_function(
                "() => document.querySelector('[data-testid=nbl-root]').dataset.unacked === '0'",
                timeout=300_000,
            )
        except Exception:
            print("  warning: answers still unacknowledged after 5 min", flush=True)
        series.kernel_cpu_s = _tree_cpu(kernels) - kcpu0
        series.browser_cpu_s = _tree_cpu(chromium_procs()) - bcpu0
        if training:
            series.worker_cpu_s = _tree_cpu(workers) - wcpu0
            series.worker_wall_s = time.monotonic() - wall0
            series.rounds = (round0, latest_round(store_path, name))
            if not any(p.is_running() for p in workers):
                print("  warning: the auto-labeler's worker exited during the series", flush=True)
        foreign = (busy_cpu_s() - busy0) - (own_cpu_s() - own0)
        series.foreign_cpu_pct = (
            100 * max(0.0, foreign) / ((time.monotonic() - wall0) * (os.cpu_count() or 1))
        )
        if args.control and media == "images":
            control = Series("control", "control", run)
            page.evaluate(CONTROL_JS)
            ctl = page.get_by_test_id("bench-control")
            press_series(
                page,
                ctl,
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
        nb.close()
        page.close()
        if workers:  # the kernel is gone: its worker gets SIGTERM and ends its round
            _, alive = psutil.wait_procs(workers, timeout=60)
            for p in alive:
                with contextlib.suppress(psutil.Error):
                    p.kill()
    if training:
        series.rounds_total = latest_round(store_path, name)
    return series, control


# --------------------------------------------------------------------------- trace attribution

TRACE_CATEGORIES = [
    "toplevel",
    "devtools.timeline",
    "disabled-by-default-devtools.timeline",
    "blink",
    "cc",
    "v8",
    "v8.gc",
    "input",
    "mojom",
]
# Non-nested GC slices (each of the others nests inside one of these).
GC_EVENTS = {"MinorGC", "MajorGC", "V8.GCIncrementalMarking"}
TASK_KINDS = ["key handler", "frame rendering", "incoming messages", "other"]


def _task_kind(names: set[str]) -> str:
    if "ProxyMain::BeginMainFrame" in names:
        return "frame rendering"
    if "EventDispatch" in names or "WidgetBaseInputHandler::OnHandleInputEvent" in names:
        return "key handler"
    if names & {"Receive mojo message", "SimpleWatcher::OnHandleReady", "ResponseBodyLoader::OnStateChange"}:
        return "incoming messages"
    return "other"


def analyze_trace(path: Path, series: Series) -> dict[str, Any]:
    """Split each press's key → painted time on the renderer's main thread into thread CPU per
    kind of task, time inside tasks but off the CPU, and time outside any task."""
    data = json.loads(path.read_text())
    events = data["traceEvents"] if isinstance(data, dict) else data
    keydowns = [
        e
        for e in events
        if e.get("name") == "EventDispatch" and e.get("args", {}).get("data", {}).get("type") == "keydown"
    ]
    if not keydowns:
        return {"error": "no keydown events in the trace"}
    thread = collections.Counter((e["pid"], e["tid"]) for e in keydowns).most_common(1)[0][0]
    keydowns = sorted((e for e in keydowns if (e["pid"], e["tid"]) == thread), key=lambda e: e["ts"])
    records = series.records
    if len(keydowns) < len(records):
        return {"error": f"{len(keydowns)} keydowns in the trace for {len(records)} presses"}
    keydowns = keydowns[len(keydowns) - len(records) :]  # run_cell's Control+Enter come first
    offsets = [k["ts"] / 1000 - r["t_listener"] for k, r in zip(keydowns, records, strict=True)]
    offset = statistics.median(offsets)
    main = sorted(
        (e for e in events if (e.get("pid"), e.get("tid")) == thread and e.get("ph") == "X"),
        key=lambda e: e["ts"],
    )
    del events, data
    tasks: list[dict[str, Any]] = []
    gc: list[tuple[float, float]] = []
    current: dict[str, Any] | None = None
    for e in main:
        start, dur = e["ts"], e.get("dur", 0)
        if e["name"] in GC_EVENTS:
            gc.append((start, e.get("tdur", dur)))
        if e["name"] == "ThreadControllerImpl::RunTask" and (current is None or start >= current["end"]):
            current = {
                "start": start,
                "end": start + dur,
                "dur": dur,
                "cpu": e.get("tdur", dur),
                "names": set(),
            }
            current["commit_wait"] = 0.0
            tasks.append(current)
        elif current is not None and start < current["end"]:
            current["names"].add(e["name"])
            if e["name"] == "ProxyMain::BeginMainFrame::commit":
                current["commit_wait"] += max(0, dur - e.get("tdur", dur))
    for t in tasks:
        t["kind"] = _task_kind(t.pop("names"))
    starts = [t["start"] for t in tasks]
    gc_starts = [g[0] for g in gc]
    groups: dict[str, dict[str, Any]] = {}
    for r in series.hits:
        if "t_paint" not in r:
            continue
        latency = r["t_paint"] - r["t_key"]
        g = groups.setdefault(
            "over" if latency > FRAME_MS else "within",
            {"n": 0, "latency": 0.0, "wall": 0.0, "cpu": 0.0, "commit_wait": 0.0, "gc": 0.0}
            | {k: 0.0 for k in TASK_KINDS},
        )
        g["n"] += 1
        g["latency"] += latency
        t0, t1 = (r["t_key"] + offset) * 1000, (r["t_paint"] + offset) * 1000
        i = max(0, bisect.bisect_left(starts, t0) - 1)
        while i < len(tasks) and tasks[i]["start"] <= t1:
            t = tasks[i]
            overlap = min(t1, t["end"]) - max(t0, t["start"])
            if overlap > 0:
                frac = overlap / t["dur"] if t["dur"] else 0.0
                g["wall"] += overlap / 1000
                g["cpu"] += t["cpu"] * frac / 1000
                g[t["kind"]] += t["cpu"] * frac / 1000
                g["commit_wait"] += t["commit_wait"] * frac / 1000
            i += 1
        j = bisect.bisect_left(gc_starts, t0)
        while j < len(gc) and gc[j][0] <= t1:
            g["gc"] += gc[j][1] / 1000
            j += 1
    for g in groups.values():
        for k in g:
            if k != "n":
                g[k] /= max(1, g["n"])
    return {"groups": groups, "alignment_ms": max(offsets) - min(offsets)}


def traced_series(
    browser: Any, root: Path, work: Path, args: argparse.Namespace, rng: random.Random
) -> dict[str, Any]:
    """One more image series, stock server, with Chrome tracing on; returns the attribution."""
    path = args.keep_trace or work / "trace.json"
    media = args.attribution_media
    print(f"attribution · stock · {media}, {args.attribution_items} items, Chrome tracing on ...", flush=True)
    with JupyterServer("lab", root) as server:
        browser.start_tracing(path=str(path), screenshots=False, categories=TRACE_CATEGORIES)
        try:
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
        finally:
            browser.stop_tracing()
    report_series(series)
    result = analyze_trace(path, series)
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


# --------------------------------------------------------------------------- report


def machine_info() -> dict[str, str]:
    cpu = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem = psutil.virtual_memory().total / 2**30
    return {
        "cpu": cpu,
        "cores": str(os.cpu_count()),
        "mem": f"{mem:.0f} GiB",
        "os": platform.platform(),
        "python": platform.python_version(),
    }


def bundle_digest(esm: Path | None = None) -> str:
    """First 12 hex digits of the sha256 of the widget's JavaScript that the kernel will load."""
    path = esm or REPO / "src" / "nblabel" / "static" / "classify.js"
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()[:12]
    except OSError:
        return "n/a"


def versions(browser_version: str, esm: Path | None = None) -> dict[str, str]:
    out = {}
    for pkg in (
        "jupyterlab",
        "jupyter_server",
        "ipykernel",
        "ipywidgets",
        "anywidget",
        "playwright",
        "nblabel",
    ):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = "n/a"
    out["chromium"] = browser_version
    with contextlib.suppress(OSError, subprocess.CalledProcessError):
        rev = subprocess.run(
            ["git", "-C", str(REPO), "describe", "--always", "--dirty"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        out["nblabel"] += f" (git {rev})"
    name = str(esm) if esm else "src/nblabel/static/classify.js"
    out["widget JS"] = f"{name} (sha256 {bundle_digest(esm)} at the start; per series in the table above)"
    return out


def pooled(series: list[Series], mode: str, media: str) -> Series:
    out = Series(mode, media, 0)
    for s in series:
        if s.mode == mode and s.media == media:
            out.records.extend(s.hits)
            out.loaf.extend(s.loaf)
            out.events.extend(s.events)
            out.dropped += s.misses
    return out


def event_timing_share(s: Series) -> tuple[int, int]:
    """Keydowns (measured, with a prefetched item) that Event Timing reported as >= 16 ms."""
    starts = {round(e["start"], 1) for e in s.events}
    hits = s.hits
    return sum(1 for r in hits if round(r["t_key"], 1) in starts), len(hits)


def loaf_in(s: Series) -> int:
    """Long animation frames (>= 50 ms) that overlap a measured press's key→painted window."""
    count = 0
    for r in s.hits:
        if "t_paint" not in r:
            continue
        if any(f["start"] < r["t_paint"] and f["start"] + f["duration"] > r["t_key"] for f in s.loaf):
            count += 1
    return count


def render_section(
    all_series: list[Series],
    controls: list[Series],
    *,
    args: argparse.Namespace,
    info: dict[str, str],
    vers: dict[str, str],
    load_start: tuple[float, float, float],
    load_end: tuple[float, float, float],
    started: dt.datetime,
    runtime_s: float,
    image_kb: tuple[float, float],
    text_chars: tuple[int, int],
    command: str,
    attribution: dict[str, Any] | None = None,
    extra_kb: tuple[float, float] | None = None,
    trained: list[Series] | None = None,
) -> str:
    trained = trained or []
    modes = [m for m in ("stock", "nodelay") if any(s.mode == m for s in all_series)]
    medias = [m for m in ("images", "texts") if any(s.media == m for s in all_series)]
    lines: list[str] = []
    add = lines.append
    add("## UI latency: keypress → next item painted (classification widget)")
    add("")
    add(
        f"Measured {started:%Y-%m-%d %H:%M} UTC by `{command}` "
        f"(run time {runtime_s / 60:.1f} min). Produced by `benchmarks/ui_latency.py`; "
        "rerun it to refresh this section."
    )
    if args.esm:
        add("")
        add(f"**Widget JavaScript: the build at `{args.esm}`, not the repository's bundle.**")
    add("")

    # headline
    pool: dict[tuple[str, str], Series] = {(m, x): pooled(all_series, m, x) for m in modes for x in medias}
    head = []
    for (m, x), s in pool.items():
        st = summary(s.values("t_paint"))
        verdict = "within" if st["p95"] <= FRAME_MS else "over"
        head.append(f"{x} ({m}) {fmt(st['p50'])} / {fmt(st['p95'])} ms (p95 {verdict} one frame)")
    add(f"**Key → next item painted, median / p95, pooled:** {'; '.join(head)}.")
    for s in all_series:
        if s.media == "images" and s.decodes > 1.5 * len(s.records):
            add(
                f"**Warning:** in {s.mode} run {s.run} the widget decoded {s.decodes} image payloads for "
                f"{len(s.records)} presses (about one per item is expected): images are being sent again "
                'and again; see "Context per series".'
            )
            break
    if controls:
        cs = summary(pooled(controls, "control", "control").values("t_paint"))
        add(
            f"The browser's own floor (a bare element whose key handler only changes a text, same page, "
            f"same method) is {fmt(cs['p50'])} / {fmt(cs['p95'])} ms: input delivery plus one frame of "
            "JupyterLab's page (Chromium starts that frame right after the key handler; it does not wait "
            "for the next vsync)."
        )
    add("")

    add("### Key → next item painted (prefetched items), ms")
    add("")
    add("| server | media | run | n | p50 | p95 | max | mean | presses without a prefetched item |")
    add("|---|---|---|---|---|---|---|---|---|")
    for m in modes:
        for x in medias:
            for s in [s for s in all_series if s.mode == m and s.media == x]:
                st = summary(s.values("t_paint"))
                add(
                    f"| {m} | {x} | {s.run} | {st['n']} | {fmt(st['p50'])} | {fmt(st['p95'])} | "
                    f"{fmt(st['max'])} | {fmt(st['mean'])} | {s.misses} |"
                )
            st = summary(pool[(m, x)].values("t_paint"))
            add(
                f"| **{m}** | **{x}** | **pooled** | **{st['n']}** | **{fmt(st['p50'])}** | "
                f"**{fmt(st['p95'])}** | **{fmt(st['max'])}** | {fmt(st['mean'])} | {pool[(m, x)].dropped} |"
            )
    for s in controls:
        st = summary(s.values("t_paint"))
        add(
            f"| control | bare element | {s.run} | {st['n']} | {fmt(st['p50'])} | {fmt(st['p95'])} | "
            f"{fmt(st['max'])} | {fmt(st['mean'])} | {s.misses} |"
        )
    if len(controls) > 1:
        st = summary(pooled(controls, "control", "control").values("t_paint"))
        add(
            f"| **control** | **bare element** | **pooled** | **{st['n']}** | **{fmt(st['p50'])}** | "
            f"**{fmt(st['p95'])}** | **{fmt(st['max'])}** | {fmt(st['mean'])} | – |"
        )
    add("")

    add("### Where the time goes (pooled), ms, median / p95")
    add("")
    add(
        "| server | media | key → widget handler done (`t_dom`) | handler done → frame start | "
        "frame start → painted | key → painted | key → next frame (double rAF) | "
        "key → painted ≤ 16.7 ms | keydowns Event Timing saw ≥ 16 ms to presentation | "
        "presses overlapping a ≥ 50 ms frame |"
    )
    add("|---|---|---|---|---|---|---|---|---|---|")
    rows = [(m, x, pool[(m, x)]) for m in modes for x in medias]
    if controls:
        rows.append(("control", "bare element", pooled(controls, "control", "control")))
    for m, x, s in rows:

        def pair(end: str, start: str = "t_key", s: Series = s) -> str:
            st = summary(s.values(end, start))
            return f"{fmt(st['p50'])} / {fmt(st['p95'])}"

        paint = s.values("t_paint")
        within = sum(1 for v in paint if v <= FRAME_MS)
        et, n = event_timing_share(s)
        add(
            f"| {m} | {x} | {pair('t_dom')} | {pair('t_frame', 't_dom')} | {pair('t_paint', 't_frame')} | "
            f"{pair('t_paint')} | {pair('t_next')} | {100 * within / max(1, len(paint)):.0f} % | "
            f"{et} of {n} | {loaf_in(s)} |"
        )
    add("")

    edges = sorted({args.warmup, *(e for e in (40, 100, 160) if args.warmup < e < args.items), args.items})
    add("### Key → next item painted by position in the job (pooled), ms, median / p95 (n)")
    add("")
    add("| server | media | " + " | ".join(f"items {a + 1}–{b}" for a, b in itertools.pairwise(edges)) + " |")
    add("|---|---|" + "---|" * (len(edges) - 1))
    for m, x, s in rows:
        cells = []
        for a, b in itertools.pairwise(edges):
            vals = [r["t_paint"] - r["t_key"] for r in s.hits if a <= r["i"] < b and "t_paint" in r]
            st = summary(vals)
            cells.append(f"{fmt(st['p50'])} / {fmt(st['p95'])} ({st['n']})")
        add(f"| {m} | {x} | " + " | ".join(cells) + " |")
    add("")

    if trained:
        add_training(add, all_series, trained, args)

    if attribution is not None:
        add_attribution(add, attribution)

    add("### Key → answer acknowledged by the kernel, ms (for context; not on the painting path)")
    add("")
    add("| server | media | n | p50 | p95 | max |")
    add("|---|---|---|---|---|---|")
    for m in modes:
        for x in medias:
            st = summary(pool[(m, x)].values("t_ack"))
            add(f"| {m} | {x} | {st['n']} | {fmt(st['p50'])} | {fmt(st['p95'])} | {fmt(st['max'])} |")
    add("")

    add("### Compared with the peers (stock JupyterLab 4.6, same kind of items)")
    add("")
    add(
        "Peer figures are action → next item painted as measured in `peer-latency.md` (2 runs × 200 "
        "items, same machine type). nblabel's figures are the pooled stock-server rows above. "
        "Ratio = peer ÷ nblabel (how many times longer the peer takes)."
    )
    add("")
    add("| widget | media | peer p50 | peer p95 | nblabel p50 | nblabel p95 | ratio p50 | ratio p95 |")
    add("|---|---|---|---|---|---|---|---|")
    for peer, x, p50, p95 in PEERS:
        key = ("stock", x) if ("stock", x) in pool else next(((m, x) for m in modes if (m, x) in pool), None)
        if key is None:
            continue
        st = summary(pool[key].values("t_paint"))
        add(
            f"| {peer} | {x} | {p50:.0f} | {p95:.0f} | {fmt(st['p50'])} | {fmt(st['p95'])} | "
            f"{p50 / st['p50']:.1f}× | {p95 / st['p95']:.1f}× |"
        )
    add("")

    add("### Context per series")
    add("")
    add("Idle series only; the series with the auto-labeler training are in the table above.")
    add("")
    add(
        "| server | media | run | presses (warm-up) | image payloads decoded | their decode wall ms (sum) | "
        "canvas px | kernel CPU s | browser CPU s | other processes' CPU | wall s | widget JS sha256 |"
    )
    add("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for s in all_series:
        canvases = {tuple(r["canvas"]) for r in s.hits if r.get("canvas")}
        canvas = ", ".join(f"{w}×{h}" for w, h in sorted(canvases)) or "–"
        add(
            f"| {s.mode} | {s.media} | {s.run} | {len(s.records)} ({s.warmup}) | {s.decodes} | "
            f"{s.decode_ms:.0f} | {canvas} | {fmt(s.kernel_cpu_s)} | {fmt(s.browser_cpu_s)} | "
            f"{fmt(s.foreign_cpu_pct, 0)} % | "
            f"{s.wall_s:.0f} | {s.bundle} |"
        )
    add("")

    add("### Method")
    add("")
    add(
        f"- Data: {args.items} distinct photo-like 1024×768 JPEGs (q85, {image_kb[0]:.0f}–{image_kb[1]:.0f} kB, "
        f"random colour fields + grain + the image's number) and {args.pool_texts} distinct texts "
        f"({text_chars[0]}–{text_chars[1]} characters, a few sentences each), written to the server root."
    )
    if args.pool_images > args.items:
        add(
            f"- Job size: every job (idle and training alike) holds {args.pool_images} images or "
            f"{args.pool_texts} texts, of which {args.items} are labeled per series. The other "
            f"{args.pool_images - args.items} images are cheap but distinct variations (tint, shift, number) "
            f"of 8 photo-like bases, same size and format"
            + (f" ({extra_kb[0]:.0f}–{extra_kb[1]:.0f} kB)" if extra_kb else "")
            + "; in idle series the widget shows items in order (the photo-like ones), with training the "
            "loop reorders the queue, so variations are shown too."
        )
    add(
        "- Each series: a fresh job (new store) in a fresh notebook and browser page "
        f"(viewport {VIEWPORT['width']}×{VIEWPORT['height']}, the widget asks for images at the size it shows them: see canvas px), "
        "cell 1 creates `nl.Job(..., nl.ImageClassification([...]))` (or `TextClassification`), cell 2 "
        "displays it; a click on the widget's header focuses it."
    )
    add(
        f"- Keys `1`/`2`/`3` in turn through CDP (`keyboard.down`), one every {args.gap_ms:g} ms "
        f"±{args.jitter * 100:.0f} % (uniform), each only after the previous item was painted; "
        f"`keyboard.up` follows after the gap, outside the measured window. The first {args.warmup} "
        'presses of every series are warm-up and not counted; the last item\'s press ("All done") is not '
        "made."
    )
    add(
        "- In the page: a capture-phase keydown listener on the widget root records `event.timeStamp`; a "
        "MutationObserver on the root's `data-item-key` marks the widget's handler as done; a "
        "`requestAnimationFrame` from there marks the start of the frame that renders the new item; "
        "**painted = `performance.now()` in a `setTimeout(0)` posted from that rAF callback**. Chromium "
        "runs style, layout, paint and the commit in the same task as the rAF callbacks, so that timer "
        "fires as soon as the frame with the new item is painted on the main thread. A double rAF adds "
        "the wait until the following frame starts (0–16.7 ms, not the widget's doing); it is shown as "
        '"next frame" for comparison. Compositor raster and presentation (other threads) are not in '
        '"painted"; Event Timing\'s presentation-based durations (≥ 16 ms only, 8 ms granularity) are '
        "counted as a cross-check."
    )
    add(
        '- A press "without a prefetched item" is one after which the widget showed "Loading…" or '
        "ignored the key; such presses are excluded from the latency figures and counted."
    )
    add(
        "- Ack: the root's `data-unacked` count (answers sent, not yet acknowledged by the kernel) "
        "dropping back, attributed to presses in order."
    )
    add(
        "- Control: after the image series, a bare focusable `<div>` is added to the same JupyterLab page; "
        "its keydown handler changes its text and `data-item-key`; measured identically "
        f"({args.control_presses} presses per run)."
    )
    add(
        "- Servers: `stock` = `jupyter lab` as Jupyter Server ships it (nblabel's server extension off, "
        "`NBLABEL_TCP_NODELAY=0`); `nodelay` = with the extension, as installed: TCP_NODELAY on the "
        "kernel websocket (`nblabel.server_extension`). Run order interleaves: for each run, stock then nodelay, "
        "images then texts; pooled rows combine the runs. Percentiles interpolate linearly between ranks."
    )
    add("- Long frames: `long-animation-frame` entries (≥ 50 ms) overlapping a press's key → painted window.")
    add(
        "- Context: image payloads decoded = `createImageBitmap` calls in the page during the series (about "
        "one per item is expected), with their summed wall time (they overlap); canvas px = the size the "
        "images arrived at; other processes' CPU = the machine's busy CPU time minus this benchmark's "
        "process tree (browser, driver, servers, kernels), as a share of all cores over the series: what "
        "other jobs got, not what they wanted."
    )
    if attribution is not None:
        add(
            f"- Attribution: after the runs, one more stock-server {attribution['series'].media[:-1]} series of "
            f"{args.attribution_items} items "
            "runs with Chrome tracing (categories toplevel, devtools.timeline, blink, cc, v8, input, mojom); "
            "the trace's keydown `EventDispatch` slices align it with the page's clock (median offset; "
            f"it varied by {attribution.get('alignment_ms', math.nan):.1f} ms between presses, max − min, which "
            "includes any preemption between the dispatch's start and the listener)."
        )
    add("")

    add("### Machine")
    add("")
    add(
        f"- CPU: {info['cpu']}, {info['cores']} cores, {info['mem']} RAM; {info['os']}, Python {info['python']}."
    )
    add(
        f"- Load average (1/5/15 min) at start {load_start[0]:.2f} / {load_start[1]:.2f} / {load_start[2]:.2f}, "
        f"at end {load_end[0]:.2f} / {load_end[1]:.2f} / {load_end[2]:.2f}. **The machine is shared and noisy** "
        "(2 cores; other jobs' servers and browsers ran at the same time), so expect ±20–30 % between runs; "
        "the tail (p95, max) suffers most."
    )
    add("- Versions: " + ", ".join(f"{k} {v}" for k, v in vers.items()) + ".")
    add("- Headless Debian chromium (`--disable-gpu`, software compositing), 60 Hz frames.")
    return "\n".join(lines)


def add_training(add: Any, idle: list[Series], trained: list[Series], args: argparse.Namespace) -> None:
    """The idle-vs-training comparison (the issue's 1.5× target at p95)."""
    medias = [m for m in ("images", "texts") if any(s.media == m for s in trained)]
    add("### While the auto-labeler trains: key → next item painted, idle vs training (stock server), ms")
    add("")
    add(
        f"Target (the issue): with the loop training and predicting, p95 within {TRAIN_TARGET:g}× of the idle "
        f"p95. Training series: cell 0 runs `job.autolabel(every={TRAIN_EVERY}, interval={TRAIN_INTERVAL})` "
        "right after creating the job, so the worker process retrains on the answers the presses give "
        "(a round whenever 10 new answers arrived or 1 s passed with new ones) and predicts the whole "
        f"pool each round. Same job size idle and training ({args.pool_images} images / "
        f"{args.pool_texts} texts). Keys `1`/`2`/`3` in turn are arbitrary labels, so the model is poor "
        "and auto-labels nothing: the point is the CPU load of fitting and predicting."
    )
    add("")
    add(
        "| media | idle n | idle p50 | idle p95 | training n | training p50 | training p95 | "
        f"p95 training ÷ idle | within {TRAIN_TARGET:g}× |"
    )
    add("|---|---|---|---|---|---|---|---|---|")
    for x in medias:
        si = summary(pooled(idle, "stock", x).values("t_paint"))
        st = summary(pooled(trained, "stock", x).values("t_paint"))
        ratio = st["p95"] / si["p95"] if si["p95"] else math.nan
        verdict = "–" if math.isnan(ratio) else ("**yes**" if ratio <= TRAIN_TARGET else "**no**")
        add(
            f"| {x} | {si['n']} | {fmt(si['p50'])} | {fmt(si['p95'])} | {st['n']} | {fmt(st['p50'])} | "
            f"{fmt(st['p95'])} | **{fmt(ratio, 2)}×** | {verdict} |"
        )
    add("")
    add(
        "Per series (training series: worker rounds = the store's latest round number when the measured "
        "presses started → when the last answer was acknowledged, and at the worker's stop; worker CPU = "
        "user + system seconds of the `python -m nblabel.autolabel.worker` process over that window, and "
        "its share of one core):"
    )
    add("")
    add(
        "| media | run | loop | n | p50 | p95 | max | presses without a prefetched item | worker rounds "
        "(during presses; at stop) | worker CPU s (share of a core) | kernel CPU s | browser CPU s | "
        "other processes' CPU | wall s |"
    )
    add("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    rows = [s for s in idle if s.mode == "stock"] + trained
    for s in sorted(rows, key=lambda s: (s.media, s.run, s.training)):
        st = summary(s.values("t_paint"))
        if s.training:
            share = 100 * s.worker_cpu_s / s.worker_wall_s if s.worker_wall_s else math.nan
            rounds = f"{s.rounds[0]} → {s.rounds[1]}; {s.rounds_total}"
            wcpu = f"{fmt(s.worker_cpu_s)} ({fmt(share, 0)} %)"
        else:
            rounds, wcpu = "–", "–"
        add(
            f"| {s.media} | {s.run} | {'training' if s.training else 'idle'} | {st['n']} | {fmt(st['p50'])} | "
            f"{fmt(st['p95'])} | {fmt(st['max'])} | {s.misses} | {rounds} | {wcpu} | {fmt(s.kernel_cpu_s)} | "
            f"{fmt(s.browser_cpu_s)} | {fmt(s.foreign_cpu_pct, 0)} % | {s.wall_s:.0f} |"
        )
    add("")
    add(
        "The worker runs at nice 10 with one BLAS thread (worker.py), leaving a core to the browser and "
        "kernel; features were computed before the runs (the worker loads them from the job's feature "
        "cache), so the load is the rounds' fitting and predicting."
    )
    add("")


def add_attribution(add: Any, attribution: dict[str, Any]) -> None:
    """The table explaining slow presses from the traced series."""
    series: Series = attribution["series"]
    st = summary(series.values("t_paint"))
    add(
        f"### Why some presses take longer than a frame (one extra, Chrome-traced {series.media[:-1]} series)"
    )
    add("")
    if "error" in attribution:
        add(f"Trace analysis failed: {attribution['error']}.")
        add("")
        return
    add(
        f"A separate stock-server {series.media[:-1]} series of {st['n']} measured presses ran with Chrome "
        "tracing on "
        f"(tracing slows Chromium, so it is not pooled above: p50 {fmt(st['p50'])}, p95 {fmt(st['p95'])} ms; "
        f"other processes used {fmt(series.foreign_cpu_pct, 0)} % of the machine meanwhile). For each press, "
        "the key → painted window on the renderer's main thread is split using the trace's wall and "
        "thread-CPU durations (ms, mean per press):"
    )
    add("")
    add(
        "| presses | n | key → painted | main thread in tasks (wall) | main thread on CPU | "
        + " | ".join(f"CPU: {k}" for k in TASK_KINDS)
        + " | GC (CPU, any task) | commit waiting for the compositor thread | in tasks but off the CPU | "
        "outside tasks |"
    )
    add("|---|---|---|---|---|" + "---|" * len(TASK_KINDS) + "---|---|---|---|")
    for name, label in (("within", "≤ 16.7 ms"), ("over", "> 16.7 ms")):
        g = attribution["groups"].get(name)
        if not g:
            continue
        add(
            f"| {label} | {g['n']} | {fmt(g['latency'])} | {fmt(g['wall'])} | {fmt(g['cpu'])} | "
            + " | ".join(fmt(g[k]) for k in TASK_KINDS)
            + f" | {fmt(g['gc'])} | {fmt(g['commit_wait'])} | {fmt(g['wall'] - g['cpu'])} | "
            f"{fmt(g['latency'] - g['wall'])} |"
        )
    add("")
    add(
        '"In tasks but off the CPU" is time the main thread was running a task without getting CPU time: '
        "preempted by other processes on the 2 cores, or blocked (e.g. the commit waiting for the "
        'compositor thread, which rasterizes in software here). "Outside tasks" is the wait for the '
        "frame to start plus scheduling gaps."
    )
    add("")


def write_section(out: Path, section: str, name: str = "ui_latency") -> None:
    """Replace the section between ``<!-- name:start -->`` and ``<!-- name:end -->`` in ``out``
    (appended when missing; the file is created with a title when it does not exist)."""
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    block = f"{start}\n{section.rstrip()}\n{end}\n"
    if out.exists():
        text = out.read_text()
        pattern = re.compile(re.escape(start) + r".*?" + re.escape(end) + r"\n?", re.S)
        if pattern.search(text):
            text = pattern.sub(lambda _m: block, text, count=1)
        else:
            text = text.rstrip("\n") + "\n\n" + block
    else:
        text = "# Benchmarks\n\n" + block
    out.write_text(text)


# --------------------------------------------------------------------------- main


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--items", type=int, default=220, help="items per job (default 220)")
    p.add_argument("--runs", type=int, default=2, help="runs per server mode, interleaved (default 2)")
    p.add_argument("--gap-ms", type=float, default=200.0, help="pause between presses (default 200)")
    p.add_argument("--jitter", type=float, default=0.2, help="± fraction of the gap, uniform (default 0.2)")
    p.add_argument("--warmup", type=int, default=10, help="uncounted presses per series (default 10)")
    p.add_argument(
        "--nodelay", choices=["both", "on", "off"], default="both", help="server modes (default both)"
    )
    p.add_argument("--media", choices=["both", "images", "texts"], default="both")
    p.add_argument(
        "--training",
        choices=["both", "on", "off"],
        default="both",
        help="stock-server series idle (off), with the auto-labeler training (on), or both (default)",
    )
    p.add_argument(
        "--pool-images",
        type=int,
        default=2000,
        help="image items per job when training is measured (default 2000; only --items are labeled)",
    )
    p.add_argument(
        "--pool-texts",
        type=int,
        default=3000,
        help="text items per job when training is measured (default 3000; only --items are labeled)",
    )
    p.add_argument("--control-presses", type=int, default=200, help="control presses per run (0: none)")
    p.add_argument("--out", type=Path, default=REPO / "BENCHMARKS.md", help="markdown file to update")
    p.add_argument("--json", type=Path, help="also write every raw record here")
    p.add_argument(
        "--attribution-items",
        type=int,
        default=100,
        help="items of one extra, Chrome-traced series (stock server) whose trace explains the "
        "slow presses; not pooled with the others (default 100, 0: skip)",
    )
    p.add_argument(
        "--attribution-media", choices=["images", "texts"], default="images", help="media of that series"
    )
    p.add_argument("--keep-trace", type=Path, help="keep that Chrome trace here (JSON, ~150 MB)")
    p.add_argument("--seed", type=int, default=1, help="seed of the gap jitter")
    p.add_argument(
        "--esm",
        type=Path,
        help="measure this build of the widget's JavaScript instead of src/nblabel/static/classify.js",
    )
    args = p.parse_args(argv)
    args.control = args.control_presses > 0
    if args.training == "off":
        args.pool_images = args.pool_texts = args.items
    args.pool_images = max(args.pool_images, args.items)
    args.pool_texts = max(args.pool_texts, args.items)
    if args.items - 1 - args.warmup < 200:
        print(
            f"warning: {args.items} items give {args.items - 1 - args.warmup} measured presses per series "
            "(fewer than 200)",
            file=sys.stderr,
        )
    return args


def _sigterm(_signum: int, _frame: Any) -> None:
    raise SystemExit(143)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _sigterm)
    from playwright.sync_api import sync_playwright

    started = dt.datetime.now(dt.timezone.utc)
    t0 = time.monotonic()
    load_start = os.getloadavg()
    modes = {"both": ["stock", "nodelay"], "on": ["nodelay"], "off": ["stock"]}[args.nodelay]
    medias = {"both": ["images", "texts"], "images": ["images"], "texts": ["texts"]}[args.media]
    rng = random.Random(args.seed)
    work = Path(tempfile.mkdtemp(prefix="nblabel-ui-latency-"))
    trainings = {"both": [False, True], "on": [True], "off": [False]}[args.training]
    all_series: list[Series] = []
    trained: list[Series] = []
    controls: list[Series] = []
    try:
        root = work / "root"
        print(
            f"generating {args.pool_images} images ({args.items} photo-like, the rest variations) and "
            f"{args.pool_texts} texts in {root}",
            flush=True,
        )
        images = make_images(root / "images", args.items)
        sizes = [p.stat().st_size / 1000 for p in images]
        extra = make_extra_images(root / "images", args.items, args.pool_images - args.items)
        extra_sizes = [p.stat().st_size / 1000 for p in extra]
        images += extra
        texts = make_texts(args.pool_texts)
        (root / "images.json").write_text(json.dumps([str(p) for p in images]))
        (root / "texts.json").write_text(json.dumps(texts))
        if True in trainings:
            # the worker would compute these first; do it now so the load measured is the rounds
            from nblabel.autolabel.features import cached_features, image_features, text_features

            tf = time.monotonic()
            cache = root / ".nblabel" / "features"
            if "images" in medias:
                cached_features([str(p) for p in images], image_features, cache)
            if "texts" in medias:
                cached_features(texts, text_features, cache)
            print(f"features cached ({time.monotonic() - tf:.0f} s)", flush=True)
        attribution: dict[str, Any] | None = None
        with sync_playwright() as pw:
            browser = launch_browser(pw)
            try:
                vers = versions(browser.version, args.esm)  # before the runs: the files may change
                for run in range(1, args.runs + 1):
                    for mode in modes:
                        with JupyterServer("lab", root, nodelay=(mode == "nodelay")) as server:
                            for media in medias:
                                # training series on the stock server only; alternate the order
                                # of idle and training between runs so drift cancels out
                                order = trainings if mode == "stock" else [False]
                                if run % 2 == 0:
                                    order = order[::-1]
                                for training in order:
                                    label = "training" if training else "idle"
                                    print(f"run {run} · {mode} · {media} · {label} ...", flush=True)
                                    series, control = run_widget_series(
                                        browser,
                                        server,
                                        mode=mode,
                                        media=media,
                                        run=run,
                                        items=args.items,
                                        args=args if mode == "stock" and not training else _no_control(args),
                                        rng=rng,
                                        training=training,
                                    )
                                    (trained if training else all_series).append(series)
                                    report_series(series)
                                    if control is not None:
                                        controls.append(control)
                                        report_series(control)
                if args.attribution_items > 0:
                    attribution = traced_series(browser, root, work, args, rng)
            finally:
                browser.close()
        runtime = time.monotonic() - t0
        command = "python benchmarks/ui_latency.py " + " ".join(
            os.path.relpath(a, REPO) if a.startswith(str(REPO) + os.sep) else a
            for a in (argv if argv is not None else sys.argv[1:])
        )
        section = render_section(
            all_series,
            controls,
            args=args,
            info=machine_info(),
            vers=vers,
            load_start=load_start,
            load_end=os.getloadavg(),
            started=started,
            runtime_s=runtime,
            image_kb=(min(sizes), max(sizes)),
            extra_kb=(min(extra_sizes), max(extra_sizes)) if extra_sizes else None,
            trained=trained,
            text_chars=(min(map(len, texts)), max(map(len, texts))),
            command=command.strip(),
            attribution=attribution,
        )
        write_section(args.out, section)
        print(f"wrote {args.out} ({runtime / 60:.1f} min)", flush=True)
        if args.json:
            args.json.write_text(json.dumps([s.to_json() for s in all_series + trained + controls]))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


def _no_control(args: argparse.Namespace) -> argparse.Namespace:
    ns = argparse.Namespace(**vars(args))
    ns.control = False
    return ns


if __name__ == "__main__":
    sys.exit(main())
