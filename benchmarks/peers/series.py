"""One series: a widget in a fresh notebook, acted on and timed to "painted", the kernel's memory;
and the statistics that pair each peer with nblabel."""

from __future__ import annotations

import contextlib
import dataclasses
import math
import random
import time
from collections.abc import Sequence
from typing import Any

import psutil

from benchmarks._lib.hooks import ACTION_HOOK_JS
from benchmarks._lib.machine import OtherLoad, kernel_procs
from benchmarks._lib.page import notebook_page, pause
from benchmarks._lib.stats import fmt, summary
from benchmarks.peers.widgets import PEERS, Widget, cells
from tests.harness import JupyterServer

TARGET = 3.0  # the issue: nblabel's p95 at most a third of the best peer's


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
    s = Series(widget.name, widget.media, widget.action, mode, run, order, warmup=warmup)
    with notebook_page(browser, server, name, cells(widget, name), timeout=180) as nb:
        page = nb.page
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
        root.evaluate(ACTION_HOOK_JS, cfg)
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
        others, wall0 = OtherLoad(), time.monotonic()
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
                pause(gap_ms, jitter, rng)
            if i == warmup + items - 1:
                s.wall_s = time.monotonic() - wall0
                s.foreign_cpu_pct = others.percent()
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
