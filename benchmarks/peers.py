"""nblabel side by side with the Jupyter labeling widgets it replaces, in one real JupyterLab.

Installs the peers that still work on JupyterLab 4 / ipywidgets 8 into a separate virtual
environment (``--venv``, default ``~/.cache/nblabel-bench/peers-venv``), with the pins they need
(``PEER_REQUIREMENTS``), the same JupyterLab, ipywidgets and ipykernel versions as the environment
running this script, and nblabel itself from this checkout. JupyterLab is served from that
environment (its kernels too), so every widget runs in the same server, the same headless
chromium and the same run:

* ipyannotations 0.5.1 ``images.ClassLabeller`` (your own ``on_submit`` → ``display(next)`` loop);
* superintendent 0.6.0 with an ipyannotations ``ClassLabeller`` (SQLite file queue,
  ``sqlmodel==0.0.44``);
* jupyter-bbox-widget 0.7.0 (``on_submit`` → next image, Enter on the focused widget);
* ipyannotations ``text.ClassLabeller`` and pigeonXT 0.7.3 (``pigeonxt-jupyter --no-deps``) for texts.

The order interleaves: each peer's series is followed by an nblabel series on the same kind of
item with the same action (a click on a class button, or a key), so drift on the shared machine
hits both alike. Per action, measured in the page (``performance.now()`` clock), as
``benchmarks/ui_latency.py`` does for nblabel alone:

* ``t_act``: the click's (or keydown's) ``event.timeStamp``, from a capture listener on the
  widget's output area that runs before the widget's own handlers;
* ``t_dom``: a MutationObserver sees the next item in the DOM (a new element, a new ``src``, or
  nblabel's ``data-item-key``);
* ``t_ready``: for an ``<img>`` (ipyannotations, superintendent, bbox) after its ``load`` and
  ``decode()``; nblabel draws an already decoded bitmap on its canvas, so ``t_ready = t_dom``;
* ``t_paint``: ``performance.now()`` in a ``setTimeout(0)`` posted from the next
  ``requestAnimationFrame``: right after the frame showing the item was painted on the main thread.

With ``--memory-items`` (default 1000), after the latency runs, every widget labels that many
items once more in a fresh kernel, as fast as it allows (each action once the next item is in the
DOM); the kernel's RSS and PSS are read before the first action and after the last one.

Usage::

    python benchmarks/peers.py [--items 200] [--runs 1] [--nodelay both|on|off] [--quick]

The results replace the section between ``<!-- peers:start -->`` and ``<!-- peers:end -->`` in
``--out`` (default BENCHMARKS.md). Servers, kernels and the browser stop on exit (also Ctrl+C).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import datetime as dt
import json
import math
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

import psutil

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "benchmarks"), str(REPO / "tests" / "e2e")]

from harness import JupyterServer, NotebookPage, launch_browser  # noqa: E402

from report import write_section  # noqa: E402
from ui_latency import (  # noqa: E402
    LABELS,
    VIEWPORT,
    busy_cpu_s,
    fmt,
    job_cells,
    kernel_procs,
    machine_info,
    make_extra_images,
    make_images,
    make_texts,
    own_cpu_s,
    summary,
)

SECTION = "peers"
DEFAULT_VENV = Path.home() / ".cache" / "nblabel-bench" / "peers-venv"
TARGET = 3.0  # the issue: nblabel's p95 at most a third of the best peer's

# What makes the peers run on JupyterLab 4 / ipywidgets 8 (shared/reference/peers.md §4):
# superintendent breaks with sqlmodel >= 0.0.45 (naive datetimes); pigeonXT's metadata pins
# jupyterlab<4, pandas<2 and numpy<2, so it goes in without its dependencies.
PEER_REQUIREMENTS = [
    "ipyannotations==0.5.1",
    "superintendent==0.6.0",
    "sqlmodel==0.0.44",
    "jupyter-bbox-widget==0.7.0",
    "psutil",
]
PEER_NO_DEPS = ["pigeonxt-jupyter==0.7.3"]
# Same front end and kernel versions as nblabel's own benchmarks (the environment running this).
SAME_AS_HERE = ["jupyterlab", "jupyter_server", "ipykernel", "ipywidgets", "anywidget"]

# --------------------------------------------------------------------------- the widgets

_LOAD = (
    "import json\nfrom pathlib import Path\n"
    "paths = json.loads(Path('images.json').read_text())\n"
    "texts = json.loads(Path('texts.json').read_text())\n"
    "answers = []\n"
)


@dataclasses.dataclass(frozen=True)
class Widget:
    """How to show one labeling widget and act on it."""

    name: str  # e.g. "ipyannotations"
    media: str  # "images" | "texts"
    action: str  # "click" | "key"
    setup: str  # cell 0: make the widget (the data lists are loaded first)
    show: str = "w"  # cell 1: its output is the widget
    item: str = ""  # CSS selector of the element showing the item ('' = nblabel)
    img: bool = False  # the item is an <img>: wait for load + decode
    src_sig: bool = False  # the same <img> gets a new src per item (else a new element per item)
    targets: tuple[str, ...] = ()  # click: one selector per label, used in turn
    keys: tuple[str, ...] = ()  # key: the keys, in turn
    focus: str = ""  # key: element to focus first

    @property
    def label(self) -> str:
        return f"{self.name} ({self.media}, {self.action})"


_BUTTONS = tuple(f'button[title="{c}"]' for c in LABELS)

PEERS = [
    Widget(
        "ipyannotations ClassLabeller",
        "images",
        "click",
        _LOAD + "from ipyannotations.images import ClassLabeller\n"
        "items = iter(paths)\n"
        f"w = ClassLabeller(options={LABELS!r}, image_size=(800, 600), allow_freetext=False)\n"
        "def on_submit(label):\n"
        "    answers.append(label)\n"
        "    w.display(next(items, paths[0]))\n"
        "w.on_submit(on_submit)\n"
        "w.display(next(items))",
        item=".jp-RenderedImage img",
        img=True,
        targets=_BUTTONS,
    ),
    Widget(
        "superintendent + ipyannotations",
        "images",
        "click",
        _LOAD + "from ipyannotations.images import ClassLabeller\n"
        "from superintendent import Superintendent\n"
        f"c = ClassLabeller(options={LABELS!r}, image_size=(800, 600), allow_freetext=False)\n"
        "w = Superintendent(features=paths, labelling_widget=c, "
        "database_url='sqlite:///{{NAME}}.db')",
        item=".jp-RenderedImage img",
        img=True,
        targets=_BUTTONS,
    ),
    Widget(
        "jupyter-bbox-widget",
        "images",
        "key",
        _LOAD + "from jupyter_bbox_widget import BBoxWidget\n"
        "items = iter(paths)\n"
        f"w = BBoxWidget(image=next(items), classes={LABELS!r})\n"
        "@w.on_submit\n"
        "def _():\n"
        "    answers.append(w.bboxes)\n"
        "    w.bboxes = []\n"
        "    w.image = next(items, paths[0])",
        item="img[alt='annotate me']",
        img=True,
        src_sig=True,
        keys=("Enter",),
        focus=".wrapper",
    ),
    Widget(
        "ipyannotations ClassLabeller",
        "texts",
        "click",
        _LOAD + "from ipyannotations.text import ClassLabeller\n"
        "items = iter(texts)\n"
        f"w = ClassLabeller(options={LABELS!r}, allow_freetext=False)\n"
        "def on_submit(label):\n"
        "    answers.append(label)\n"
        "    w.display(next(items, texts[0]))\n"
        "w.on_submit(on_submit)\n"
        "w.display(next(items))",
        item=".jp-RenderedMarkdown",
        targets=_BUTTONS,
    ),
    Widget(
        "pigeonXT",
        "texts",
        "click",
        _LOAD + "import pigeonXT as pixt",
        show=f"df = pixt.annotate(texts, options={LABELS!r}, task_type='classification')",
        item=".widget-output .widget-html-content",
        targets=_BUTTONS,
    ),
]


def nblabel_widget(media: str, action: str) -> Widget:
    """nblabel on the same items, driven like the peer before it (its class buttons or keys 1-3)."""
    return Widget(
        "nblabel",
        media,
        action,
        setup="",  # job_cells() makes the job
        show="job",
        targets=tuple(f"[data-testid=nbl-class-{i}]" for i in range(len(LABELS))),
        keys=tuple(str(i + 1) for i in range(len(LABELS))),
        focus="[data-testid=nbl-position]",  # clicking the header focuses the widget root
    )


def cells(widget: Widget, name: str) -> list[str]:
    if widget.name == "nblabel":
        return job_cells(widget.media, name)
    return [widget.setup.replace("{{NAME}}", name), widget.show]


# --------------------------------------------------------------------------- page-side hook

# Installed on the widget cell's output area. One record per action; ``sig()`` names the item
# on screen ('' while none is), so "the next item is in the DOM" is a change of ``sig()``.
HOOK_JS = r"""
(root, cfg) => {
  const ids = new WeakMap();
  let nextId = 0;
  const idOf = (el) => { if (!ids.has(el)) ids.set(el, ++nextId); return ids.get(el); };
  const nbl = () => root.querySelector('[data-testid=nbl-root]');
  const sig = () => {
    if (!cfg.item) {
      const w = nbl();
      return w && w.dataset.state === 'item' ? (w.dataset.itemKey || '') : '';
    }
    const el = root.querySelector(cfg.item);
    if (!el) return '';
    return cfg.srcSig ? (el.getAttribute('src') || '') : String(idOf(el));
  };
  const B = {records: [], pending: null, sig, awaitingAck: [], lastUnacked: 0};
  window.__peerBench = B;
  const w0 = nbl();
  if (w0) B.lastUnacked = Number(w0.dataset.unacked || 0);

  root.addEventListener(cfg.trigger, (e) => {
    if (e.repeat) return;
    const r = {i: B.records.length, t_act: e.timeStamp, t_listener: performance.now(),
               from: sig(), miss: false, done: false};
    B.records.push(r);
    B.pending = r;
  }, {capture: true});

  function painted(r) {
    requestAnimationFrame(() => {
      r.t_frame = performance.now();
      setTimeout(() => { r.t_paint = performance.now(); }, 0);
      requestAnimationFrame(() => { r.t_next = performance.now(); r.done = true; });
    });
  }

  async function ready(r) {
    const img = cfg.img ? root.querySelector(cfg.item) : null;
    if (img) {
      if (!img.complete) {
        await new Promise((ok) => {
          img.addEventListener('load', ok, {once: true});
          img.addEventListener('error', ok, {once: true});
        });
      }
      r.t_load = performance.now();
      try { await img.decode(); } catch (err) { r.decodeError = String(err); }
      r.px = [img.naturalWidth, img.naturalHeight];
    }
    r.t_ready = performance.now();
    painted(r);
  }

  new MutationObserver(() => {
    const now = performance.now();
    const w = nbl();
    if (w) {  // nblabel: acknowledgements (answers stored by the kernel), attributed in order
      const n = Number(w.dataset.unacked || 0);
      if (n > B.lastUnacked) {
        for (let k = B.lastUnacked; k < n; k += 1) B.awaitingAck.push(B.pending);
      } else {
        for (let k = n; k < B.lastUnacked; k += 1) {
          const a = B.awaitingAck.shift();
          if (a && a.t_ack === undefined) a.t_ack = now;
        }
      }
      B.lastUnacked = n;
    }
    const r = B.pending;
    if (!r || r.t_dom !== undefined) return;
    const s = sig();
    if (s === r.from) return;
    if (s === '') {  // nblabel showed "Loading…": no prefetched item for this action
      if (!cfg.item) r.miss = true;
      return;
    }
    r.t_dom = now;
    r.to = s.length > 80 ? s.slice(0, 80) : s;
    ready(r);
  }).observe(root, {subtree: true, childList: true, attributes: true,
                    attributeFilter: ['src', 'data-item-key', 'data-state', 'data-unacked']});
  return sig();
}
"""

# --------------------------------------------------------------------------- statistics


@dataclasses.dataclass
class Series:
    """One widget, one server mode, one run: the actions' records and the kernel's memory."""

    widget: str
    media: str
    action: str
    mode: str
    run: int
    order: int  # position in the interleaved sequence of this run
    records: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    warmup: int = 0
    labeled: int = 0  # items labeled in all (measured ones + warm-up + the memory tail)
    mem_before: dict[str, float] = dataclasses.field(default_factory=dict)  # MiB
    mem_after: dict[str, float] = dataclasses.field(default_factory=dict)
    wall_s: float = math.nan
    foreign_cpu_pct: float = math.nan
    page_errors: list[str] = dataclasses.field(default_factory=list)
    error: str = ""  # why the series stopped early ('' = it ran to the end)

    @property
    def hits(self) -> list[dict[str, Any]]:
        """Measured records (after warm-up, painted, not a miss)."""
        return [r for r in self.records[self.warmup :] if r.get("done") and not r.get("miss")]

    @property
    def misses(self) -> int:
        return sum(1 for r in self.records[self.warmup :] if r.get("miss"))

    def values(self, end: str = "t_paint", start: str = "t_act") -> list[float]:
        return [r[end] - r[start] for r in self.hits if end in r and start in r]


def pool(series: Sequence[Series], **match: Any) -> list[float]:
    """Latencies (``t_act`` → ``t_paint``) of every series whose attributes equal ``match``."""
    return [v for s in series if all(getattr(s, k) == v for k, v in match.items()) for v in s.values()]


def ratio(peer: float, ours: float) -> float:
    """Peer ÷ nblabel: how many times longer the peer takes (nan when undefined)."""
    if ours is None or peer is None or math.isnan(ours) or math.isnan(peer) or ours <= 0:
        return math.nan
    return peer / ours


def comparison(series: Sequence[Series], mode: str) -> list[dict[str, Any]]:
    """One row per peer: its pooled p50/p95 and nblabel's on the same media and action."""
    rows = []
    for w in PEERS:
        peer = summary(pool(series, widget=w.name, media=w.media, action=w.action, mode=mode))
        if not peer["n"]:
            continue
        ours = summary(pool(series, widget="nblabel", media=w.media, action=w.action, mode=mode))
        rows.append(
            {
                "widget": w,
                "peer": peer,
                "ours": ours,
                "r50": ratio(peer["p50"], ours["p50"]),
                "r95": ratio(peer["p95"], ours["p95"]),
            }
        )
    return rows


def target_verdict(rows: Sequence[dict[str, Any]]) -> tuple[dict[str, Any] | None, float]:
    """The best peer (lowest p95) and nblabel's p95 ÷ that peer's p95 (≤ 1/TARGET meets it)."""
    if not rows:
        return None, math.nan
    best = min(rows, key=lambda r: r["peer"]["p95"])
    return best, ratio(best["ours"]["p95"], best["peer"]["p95"])


# --------------------------------------------------------------------------- environment


def requirements() -> list[str]:
    pins = []
    for pkg in SAME_AS_HERE:
        try:
            pins.append(f"{pkg}=={metadata.version(pkg)}")
        except metadata.PackageNotFoundError:
            pins.append(pkg)
    return pins + PEER_REQUIREMENTS


def ensure_venv(venv: Path) -> Path:
    """Create or update the peers' environment; returns its python. A stamp of what was installed
    (requirements and this checkout's path) skips pip when nothing changed."""
    python = venv / "bin" / "python"
    want = {"requirements": requirements(), "no_deps": PEER_NO_DEPS, "nblabel": str(REPO)}
    stamp = venv / "nblabel-bench.json"
    if python.exists() and stamp.exists() and json.loads(stamp.read_text()) == want:
        return python
    print(f"installing the peers into {venv} (a few minutes the first time) ...", flush=True)
    if not python.exists():
        venv.parent.mkdir(parents=True, exist_ok=True)
        base = getattr(sys, "_base_executable", None) or sys.executable
        subprocess.run([base, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", "-U", "pip"], check=True)
    pip = [str(python), "-m", "pip", "install", "-q"]
    subprocess.run([*pip, *want["requirements"]], check=True)
    subprocess.run([*pip, "--no-deps", *PEER_NO_DEPS], check=True)
    # nblabel from this checkout, with its dependencies (its JS must have been built: make install)
    subprocess.run([*pip, "-e", str(REPO)], check=True)
    stamp.write_text(json.dumps(want, indent=1))
    return python


def venv_versions(python: Path) -> dict[str, str]:
    pkgs = [*SAME_AS_HERE, "ipyannotations", "superintendent", "sqlmodel", "jupyter-bbox-widget"]
    pkgs += ["pigeonxt-jupyter", "ipyevents", "pandas", "nblabel"]
    code = (
        "import json, sys\nfrom importlib import metadata\nout = {}\n"
        f"for p in {pkgs!r}:\n"
        "    try: out[p] = metadata.version(p)\n"
        "    except metadata.PackageNotFoundError: out[p] = 'n/a'\n"
        "out['python'] = sys.version.split()[0]\nprint(json.dumps(out))"
    )
    return json.loads(
        subprocess.run([str(python), "-c", code], capture_output=True, text=True, check=True).stdout
    )


# --------------------------------------------------------------------------- one series


def kernel_memory(server: JupyterServer, kernel_id: str | None) -> dict[str, float]:
    """RSS / PSS / USS (MiB) of this notebook's kernel process."""
    for p in kernel_procs(server):
        with contextlib.suppress(psutil.Error):
            if kernel_id and any(f"kernel-{kernel_id}.json" in a for a in p.cmdline()):
                m = p.memory_full_info()
                return {"rss": m.rss / 2**20, "pss": m.pss / 2**20, "uss": m.uss / 2**20}
    return {}


def act(page: Any, root: Any, widget: Widget, i: int) -> None:
    if widget.action == "click":
        root.locator(widget.targets[i % len(widget.targets)]).first.click()
    else:
        page.keyboard.press(widget.keys[i % len(widget.keys)])


def run_series(
    browser: Any,
    server: JupyterServer,
    widget: Widget,
    *,
    mode: str,
    run: int,
    order: int,
    items: int,
    warmup: int,
    total: int,
    gap_ms: float,
    jitter: float,
    rng: random.Random,
) -> Series:
    """Open a fresh notebook with ``widget``, act ``warmup + items`` times paced by ``gap_ms``,
    then (``total`` larger) as fast as it goes up to ``total`` actions; read the kernel's memory."""
    slug = "".join(c if c.isalnum() else "-" for c in widget.name.lower()).strip("-")
    name = f"peers-{slug}-{widget.media}-{widget.action}-{mode}-r{run}-{order}"
    page = browser.new_page(viewport=VIEWPORT)
    nb = NotebookPage(page, server, timeout=180)
    s = Series(widget.name, widget.media, widget.action, mode, run, order, warmup=warmup)
    try:
        nb.open(name, cells(widget, name))
        nb.run_cell(0, timeout=180)
        nb.run_cell(1, timeout=180)
        if "Traceback" in nb.cell_output_text(1) or "Error" in nb.cell_output_text(0):
            raise RuntimeError(f"{widget.label} failed:\n{nb.cell_output_text(0)}\n{nb.cell_output_text(1)}")
        root = nb.cell(1).locator(".jp-Cell-outputArea")
        cfg = {
            "trigger": "click" if widget.action == "click" else "keydown",
            "item": widget.item,
            "img": widget.img,
            "srcSig": widget.src_sig,
        }
        root.evaluate(HOOK_JS, cfg)
        page.wait_for_function("() => window.__peerBench.sig() !== ''", timeout=60_000, polling=50)
        if widget.focus:
            target = root.locator(widget.focus).first
            target.scroll_into_view_if_needed()
            if widget.name == "nblabel":
                target.click()  # the header is no button: a click focuses the widget root
            else:
                target.focus()
        time.sleep(1.0)  # let first loads settle (nblabel: its prefetch window)
        # the focusing click is no labeling action
        page.evaluate("() => { const B = window.__peerBench; B.records = []; B.pending = null; }")
        kid = nb.kernel_id()
        s.mem_before = kernel_memory(server, kid)
        busy0, own0, wall0 = busy_cpu_s(), own_cpu_s(), time.monotonic()
        for i in range(total):
            act(page, root, widget, i)
            # measured actions: until painted; the memory tail only until the next item is in the DOM
            page.wait_for_function(
                "([n, full]) => { const r = window.__peerBench.records[n];"
                " return !!r && (full ? r.done : r.t_dom !== undefined); }",
                arg=[i, i < warmup + items],
                polling=20,
                timeout=60_000,
            )
            if i < warmup + items:
                time.sleep(gap_ms * (1 + rng.uniform(-jitter, jitter)) / 1000)  # pacing, a fast human
            if i == warmup + items - 1:
                s.wall_s = time.monotonic() - wall0
                foreign = (busy_cpu_s() - busy0) - (own_cpu_s() - own0)
                s.foreign_cpu_pct = 100 * max(0.0, foreign) / (s.wall_s * (os.cpu_count() or 1))
        records = page.evaluate("() => window.__peerBench.records")
        if widget.name == "nblabel":  # the acknowledgements of the last answers
            with contextlib.suppress(Exception):
                page.wait_for_function(
                    "() => document.querySelector('[data-testid=nbl-root]').dataset.unacked === '0'",
                    timeout=60_000,
                )
                records = page.evaluate("() => window.__peerBench.records")
        s.records = records[: warmup + items]
        s.labeled = len(records)
        s.mem_after = kernel_memory(server, kid)
        s.page_errors = nb.page_errors
    finally:
        nb.close()
        page.close()
    return s


def guarded_series(browser: Any, server: JupyterServer, widget: Widget, **kw: Any) -> Series:
    """``run_series``, but a widget that fails (or hangs) gives an empty series with the reason
    instead of ending the benchmark."""
    try:
        return run_series(browser, server, widget, **kw)
    except Exception as exc:  # a broken peer must not hide the others' figures
        reason = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"[:300]
        print(f"  FAILED: {reason}", flush=True)
        return Series(
            widget.name, widget.media, widget.action, kw["mode"], kw["run"], kw["order"], error=reason
        )


def report(s: Series) -> None:
    st = summary(s.values())
    mem = (
        f" · kernel PSS {s.mem_before.get('pss', math.nan):.0f} → {s.mem_after.get('pss', math.nan):.0f} MiB "
        f"after {s.labeled}"
        if s.mem_after
        else ""
    )
    print(
        f"  painted p50 {fmt(st['p50'])} p95 {fmt(st['p95'])} max {fmt(st['max'])} n {st['n']} "
        f"misses {s.misses} other CPU {fmt(s.foreign_cpu_pct, 0)} % ({s.wall_s:.0f} s){mem}",
        flush=True,
    )


# --------------------------------------------------------------------------- report


def _pair(values: Sequence[float]) -> str:
    st = summary(values)
    return f"{fmt(st['p50'])} / {fmt(st['p95'])}"


def render_section(
    series: Sequence[Series],
    *,
    modes: Sequence[str],
    args: argparse.Namespace,
    vers: dict[str, str],
    info: dict[str, str],
    started: dt.datetime,
    runtime_s: float,
    command: str,
    load: tuple[tuple[float, float, float], tuple[float, float, float]],
    image_kb: tuple[float, float],
    websockets: dict[str, str] | None = None,
    expected: int = 0,
) -> str:
    lines: list[str] = []
    add = lines.append
    add("## Side by side with the Jupyter peers: action → next item painted, kernel memory")
    add("")
    add(
        f"Measured {started:%Y-%m-%d %H:%M} UTC by `{command}` (run time {runtime_s / 60:.1f} min). "
        "Produced by `benchmarks/peers.py`; rerun it to refresh this section (the first run also builds "
        f"the peers' virtual environment, `{args.venv_display}`)."
    )
    if len(series) < expected:
        add("")
        add(
            f"**Incomplete: {len(series)} of {expected} series ran** (the run was stopped or is still going); "
            "the tables hold what was measured."
        )
    add("")
    add(
        "**The machine is shared and noisy** (2 cores; other jobs' servers and browsers ran at the same "
        "time), so single figures move by ±20–30 % between runs and the tail (p95) most. What makes the "
        "comparison fair is the interleaving: every peer series is followed by an nblabel series on the "
        "same items with the same action, in the same server and browser, so load hits both alike."
    )
    add("")
    for mode in modes:
        rows = comparison(series, mode)
        best, share = target_verdict(rows)
        if best is None:
            continue
        verdict = "**met**" if share <= 1 / TARGET else "**not met**"
        add(
            f"**Target ({mode} server): nblabel's p95 at most a third of the best peer's.** Best peer: "
            f"{best['widget'].label}, p95 {fmt(best['peer']['p95'])} ms; nblabel on the same items and "
            f"action: p95 {fmt(best['ours']['p95'])} ms = {fmt(share, 2)} of it ({verdict})."
        )
        add("")
    server_note = {
        "stock": "`stock` = nblabel's server extension off (`NBLABEL_TCP_NODELAY=0`): Jupyter Server as shipped",
        "nodelay": "`nodelay` = nblabel's server extension on (as installed): TCP_NODELAY on kernel websockets",
    }
    ws = websockets or {}
    add("Servers: " + "; ".join(server_note[m] + (f" ({ws[m]})" if m in ws else "") for m in modes) + ".")
    add("")

    add("### Action → next item painted, pooled per widget, ms")
    add("")
    add(
        "Ratio = peer ÷ nblabel (how many times longer the peer takes), nblabel measured on the same "
        "media with the same action in the series interleaved with the peers'."
    )
    add("")
    add(
        "| server | peer | media | action | peer n | peer p50 | peer p95 | nblabel n | nblabel p50 | "
        "nblabel p95 | ratio p50 | ratio p95 |"
    )
    add("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for mode in modes:
        for r in comparison(series, mode):
            w, p, o = r["widget"], r["peer"], r["ours"]
            add(
                f"| {mode} | {w.name} | {w.media} | {w.action} | {p['n']} | {fmt(p['p50'])} | "
                f"{fmt(p['p95'])} | {o['n']} | {fmt(o['p50'])} | {fmt(o['p95'])} | "
                f"**{fmt(r['r50'])}×** | **{fmt(r['r95'])}×** |"
            )
    add("")

    add("### Per series (in the order run), ms")
    add("")
    add(
        "| server | run | # | widget | media | action | n | p50 | p95 | max | action → in DOM p50 / p95 | "
        "in DOM → image decoded p50 / p95 | image px | nblabel: no prefetched item | other processes' CPU |"
    )
    add("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for s in (s for s in series if s.run):  # run 0: the memory series, no latency measured
        st = summary(s.values())
        px = sorted({tuple(r["px"]) for r in s.hits if r.get("px")})
        add(
            f"| {s.mode} | {s.run} | {s.order} | {s.widget} | {s.media} | {s.action} | {st['n']} | "
            f"{fmt(st['p50'])} | {fmt(st['p95'])} | {fmt(st['max'])} | {_pair(s.values('t_dom'))} | "
            + (f"{_pair(s.values('t_ready', 't_dom'))} | " if px else "– | ")
            + (", ".join(f"{a}×{b}" for a, b in px) or "–")
            + f" | {s.misses if s.widget == 'nblabel' else '–'} | {fmt(s.foreign_cpu_pct, 0)} % |"
        )
    add("")

    failed = [s for s in series if s.error]
    if failed:
        add(
            "Series that stopped early (their rows are empty): "
            + "; ".join(
                f"{s.mode} run {s.run} #{s.order} {s.widget} ({s.media}, {s.action}): `{s.error}`"
                for s in failed
            )
            + "."
        )
        add("")

    mem = [s for s in series if s.mem_after and s.run == 0]
    if mem:
        add(f"### Kernel memory after {max(s.labeled for s in mem)} items (MiB)")
        add("")
        add(
            "Each widget in its own fresh kernel (its notebook's), read with psutil before the first action "
            "(widget shown, imports done) and after the last. PSS counts shared pages divided among the "
            "processes sharing them (a fairer total than RSS)."
        )
        add("")
        add("| widget | media | items labeled | RSS before → after | PSS before → after | PSS growth |")
        add("|---|---|---|---|---|---|")
        for s in mem:
            b, a = s.mem_before, s.mem_after
            add(
                f"| {s.widget} | {s.media} | {s.labeled} | {b['rss']:.0f} → {a['rss']:.0f} | "
                f"{b['pss']:.0f} → {a['pss']:.0f} | {a['pss'] - b['pss']:+.0f} |"
            )
        add("")

    acks = {
        m: [v for s in series if s.widget == "nblabel" and s.mode == m for v in s.values("t_ack")]
        for m in modes
    }
    if any(acks.values()):
        add("### nblabel: action → answer acknowledged by the kernel (the websocket delay), ms")
        add("")
        add("| server | n | p50 | p95 | max |")
        add("|---|---|---|---|---|")
        for m in modes:
            st = summary(acks[m])
            add(f"| {m} | {st['n']} | {fmt(st['p50'])} | {fmt(st['p95'])} | {fmt(st['max'])} |")
        add("")

    add("### Method")
    add("")
    add(
        f"- Data: {args.items + args.warmup + 1}+ distinct photo-like 1024×768 JPEGs (q85, "
        f"{image_kb[0]:.0f}–{image_kb[1]:.0f} kB; beyond {args.items + args.warmup + 1}, for the memory "
        "tail, cheap distinct variations of 8 of them) and distinct review-like texts, the same files "
        "and strings for every widget (`ui_latency.make_images` / `make_texts`)."
    )
    add(
        "- Widgets: ipyannotations' image `ClassLabeller` fed by its `on_submit` callback (it displays "
        "each file as a PNG in an `Output`: the path branch of its display function drops `image_size`, "
        "so it shows 1024×768), superintendent 0.6.0 over the file paths with that `ClassLabeller` and a "
        "SQLite file, jupyter-bbox-widget (`image=` the next path in `on_submit`, Enter on the focused "
        "widget; no boxes drawn), ipyannotations' text `ClassLabeller`, pigeonXT `annotate(texts, ...)`; "
        "nblabel `nl.Job(..., nl.ImageClassification | nl.TextClassification)` (it draws images at the "
        "size shown, see image px). Class buttons `cat`/`dog`/`bird` (nblabel keys `1`/`2`/`3`) in turn."
    )
    add(
        f"- Per series: a fresh notebook and kernel in a fresh page (viewport {VIEWPORT['width']}×"
        f"{VIEWPORT['height']}); {args.warmup} warm-up actions not counted, then {args.items} measured, "
        f"one every {args.gap_ms:g} ms ±{args.jitter * 100:.0f} % after the previous item was painted. "
        "Clicks are Playwright `locator.click()` (real mouse events through CDP), keys "
        "`keyboard.press` on the focused widget."
    )
    add(
        "- Painted: see the module docstring; the same hook for every widget. For `<img>` items the image's "
        "`load` and `decode()` are awaited before the frame, so the figure includes the browser decoding "
        "the peer's image (nblabel decodes ahead, while the previous item is on screen). "
        "Percentiles interpolate linearly between ranks; pooled rows combine runs."
    )
    add(
        '- nblabel "no prefetched item": actions after which nblabel showed "Loading…"; excluded from '
        "its figures and counted (the peers have no such state: their whole wait is counted)."
    )
    add(
        "- Not measured: ipyannotations' keyboard path (ipyevents `keyup` while the pointer hovers the "
        "widget), multi-label-pigeon, ipyannotator (own pinned environment) and jupyter-innotater / "
        "ipyannotations' TextTagger (they do not render on JupyterLab 4)."
    )
    add("")
    add("### Machine")
    add("")
    add(
        f"- CPU: {info['cpu']}, {info['cores']} cores, {info['mem']} RAM; {info['os']}. Load average "
        f"(1/5/15 min) at start {' / '.join(f'{x:.2f}' for x in load[0])}, at end "
        f"{' / '.join(f'{x:.2f}' for x in load[1])}."
    )
    add(
        "- Versions (peers' environment, which ran the server and every kernel): "
        + ", ".join(f"{k} {v}" for k, v in vers.items())
        + "."
    )
    add("- Headless Debian chromium (`--disable-gpu`, software compositing), 60 Hz frames.")
    return "\n".join(lines)


# --------------------------------------------------------------------------- main


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--items", type=int, default=200, help="measured actions per series (default 200)")
    p.add_argument("--warmup", type=int, default=10, help="uncounted actions per series (default 10)")
    p.add_argument("--runs", type=int, default=1, help="interleaved runs per server mode (default 1)")
    p.add_argument(
        "--nodelay", choices=["both", "on", "off"], help="server modes (default both; off with --quick)"
    )
    p.add_argument("--media", choices=["both", "images", "texts"], default="both")
    p.add_argument("--peers", help="comma-separated substrings of peer names to run (default: all)")
    p.add_argument(
        "--memory-items",
        type=int,
        default=1000,
        help="items labeled before reading kernel memory, first run only (default 1000; 0: skip)",
    )
    p.add_argument("--gap-ms", type=float, default=150.0, help="pause after each painted item (default 150)")
    p.add_argument("--jitter", type=float, default=0.2, help="± fraction of the gap, uniform (default 0.2)")
    p.add_argument(
        "--venv", type=Path, default=DEFAULT_VENV, help=f"peers' environment (default {DEFAULT_VENV})"
    )
    p.add_argument("--out", type=Path, default=REPO / "BENCHMARKS.md", help="markdown file to update")
    p.add_argument("--json", type=Path, help="also write every raw record here")
    p.add_argument("--seed", type=int, default=1, help="seed of the gap jitter")
    p.add_argument(
        "--reuse",
        type=Path,
        help="an earlier run's --json file: its finished series are kept and not run again (to "
        "complete a stopped run with the same options)",
    )
    p.add_argument(
        "--quick",
        action="store_true",
        help="smoke run: 20 items, 3 warm-up, 40 for memory (overrides those options), stock server only "
        "unless --nodelay says otherwise",
    )
    args = p.parse_args(argv)
    if args.quick:
        args.items, args.warmup, args.memory_items = 20, 3, 40
    args.nodelay = args.nodelay or ("off" if args.quick else "both")
    home = str(Path.home())
    args.venv_display = (
        str(args.venv).replace(home, "~", 1) if str(args.venv).startswith(home) else str(args.venv)
    )
    return args


def plan(args: argparse.Namespace) -> list[Widget]:
    """The interleaved sequence of one run: each peer, then nblabel on the same media and action."""
    medias = {"both": ["images", "texts"], "images": ["images"], "texts": ["texts"]}[args.media]
    wanted = [w.strip().lower() for w in args.peers.split(",")] if args.peers else None
    out = []
    for w in PEERS:
        if w.media in medias and (wanted is None or any(x in w.name.lower() for x in wanted)):
            out += [w, nblabel_widget(w.media, w.action)]
    return out


def nodelay_in_log(server: JupyterServer) -> str:
    """What the server's log says nblabel's extension did to the kernel websockets it opened."""
    log = server.log_path.read_text(errors="replace") if server.log_path and server.log_path.exists() else ""
    on = log.count("kernel websocket TCP_NODELAY=1")
    if on:
        return f"TCP_NODELAY=1 on {on} kernel websockets (server log)"
    if "TCP_NODELAY on kernel websockets is off" in log:
        return "extension loaded and off (server log)"
    return "no nblabel extension line in the server log"


def memory_plan(sequence: Sequence[Widget]) -> list[Widget]:
    """One series per widget and media for the kernel memory, nblabel first, slow peers last."""
    seen: dict[tuple[str, str], Widget] = {}
    for w in sequence:
        seen.setdefault((w.name, w.media), w)
    slow = {(p.name, p.media) for p in PEERS if p.img and not p.src_sig}  # a PNG per item in an Output
    return sorted(seen.values(), key=lambda w: (w.name != "nblabel", (w.name, w.media) in slow))


def _sigterm(_signum: int, _frame: Any) -> None:
    raise SystemExit(143)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _sigterm)
    from playwright.sync_api import sync_playwright

    python = ensure_venv(args.venv)
    started = dt.datetime.now(dt.timezone.utc)
    t0 = time.monotonic()
    load0 = os.getloadavg()
    modes = {"both": ["stock", "nodelay"], "on": ["nodelay"], "off": ["stock"]}[args.nodelay]
    sequence = plan(args)
    base = args.items + args.warmup + 1  # +1: the last item stays on screen
    n_items = max(base, args.memory_items + 1)
    rng = random.Random(args.seed)
    work = Path(tempfile.mkdtemp(prefix="nblabel-peers-"))
    series: list[Series] = []
    if args.reuse:
        series = [Series(**d) for d in json.loads(args.reuse.read_text())]
    finished = {(s.widget, s.media, s.mode, s.run, s.order) for s in series if not s.error}
    series = [s for s in series if not s.error]
    websockets: dict[str, str] = {}
    try:
        root = work / "root"
        print(f"generating {n_items} images and texts in {root}", flush=True)
        images = make_images(root / "images", base)
        sizes = [p.stat().st_size / 1000 for p in images]
        images += make_extra_images(root / "images", base, n_items - base)
        (root / "images.json").write_text(json.dumps([str(p) for p in images]))
        (root / "texts.json").write_text(json.dumps(make_texts(n_items)))
        vers = venv_versions(python)
        expected = len(modes) * args.runs * len(sequence) + (
            len(memory_plan(sequence)) if args.memory_items else 0
        )
        command = "python benchmarks/peers.py " + " ".join(argv if argv is not None else sys.argv[1:])

        def publish() -> None:
            """(Re)write the section with the series so far: a stopped run leaves what it measured."""
            section = render_section(
                series,
                modes=[m for m in modes if any(s.mode == m for s in series)],
                args=args,
                vers=vers,
                info=machine_info(),
                started=started,
                runtime_s=time.monotonic() - t0,
                command=command.strip(),
                load=(load0, os.getloadavg()),
                websockets=websockets,
                image_kb=(min(sizes), max(sizes)),
                expected=expected,
            )
            write_section(args.out, SECTION, section)
            if args.json:
                args.json.write_text(json.dumps([dataclasses.asdict(s) for s in series]))

        with sync_playwright() as pw:
            browser = launch_browser(pw)
            vers["chromium"] = browser.version
            try:
                for mode in modes:
                    with JupyterServer("lab", root, nodelay=(mode == "nodelay"), python=python) as server:
                        for run in range(1, args.runs + 1):
                            for order, widget in enumerate(sequence, 1):
                                if (widget.name, widget.media, mode, run, order) in finished:
                                    continue
                                print(f"{mode} · run {run} · {order} · {widget.label} ...", flush=True)
                                series.append(
                                    guarded_series(
                                        browser,
                                        server,
                                        widget,
                                        mode=mode,
                                        run=run,
                                        order=order,
                                        items=args.items,
                                        warmup=args.warmup,
                                        total=args.warmup + args.items,
                                        gap_ms=args.gap_ms,
                                        jitter=args.jitter,
                                        rng=rng,
                                    )
                                )
                                report(series[-1])
                                publish()
                        websockets[mode] = nodelay_in_log(server)
                if args.memory_items:
                    # after the latency runs, so its long tails do not delay them; nblabel and the
                    # quick peers first
                    mode = modes[0]
                    with JupyterServer("lab", root, nodelay=(mode == "nodelay"), python=python) as server:
                        for order, widget in enumerate(memory_plan(sequence), 1):
                            if (widget.name, widget.media, mode, 0, order) in finished:
                                continue
                            print(
                                f"memory · {order} · {widget.label}, {args.memory_items} items ...",
                                flush=True,
                            )
                            series.append(
                                guarded_series(
                                    browser,
                                    server,
                                    widget,
                                    mode=mode,
                                    run=0,
                                    order=order,
                                    items=0,
                                    warmup=0,
                                    total=args.memory_items,
                                    gap_ms=0.0,
                                    jitter=0.0,
                                    rng=rng,
                                )
                            )
                            report(series[-1])
                            publish()
            finally:
                browser.close()
        publish()
        print(f"wrote {args.out} ({(time.monotonic() - t0) / 60:.1f} min)", flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
