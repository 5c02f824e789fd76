"""Chrome tracing of a benchmark's browser, and where a key press's time went on the main thread."""

from __future__ import annotations

import bisect
import collections
import contextlib
import json
import statistics
from collections.abc import Iterator
from pathlib import Path
from typing import Any

__all__ = ["FRAME_MS", "TASK_KINDS", "TRACE_CATEGORIES", "analyze_trace", "tracing"]

FRAME_MS = 1000 / 60

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


def analyze_trace(path: Path, records: list[dict[str, Any]], hits: list[dict[str, Any]]) -> dict[str, Any]:
    """Split each press's key → painted time on the renderer's main thread into thread CPU per
    kind of task, time inside tasks but off the CPU, and time outside any task.

    ``records`` are every press of the traced run in order (as the key hook recorded them),
    ``hits`` the measured ones among them; presses are grouped by "within" and "over" a frame.
    """
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
    for r in hits:
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


@contextlib.contextmanager
def tracing(browser: Any, path: Path | None) -> Iterator[None]:
    """Record a Chrome trace of ``browser`` into ``path`` (JSON) while the block runs; no trace
    when ``path`` is None."""
    if path is None:
        yield
        return
    browser.start_tracing(path=str(path), screenshots=False, categories=TRACE_CATEGORIES)
    try:
        yield
    finally:
        browser.stop_tracing()
