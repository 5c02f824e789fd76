"""The optional parts of the ui_latency section: idle against training, and the Chrome-trace
attribution of the slow presses."""

from __future__ import annotations

import argparse
import math
from typing import Any

from benchmarks._lib.stats import fmt, summary
from benchmarks._lib.trace import TASK_KINDS
from benchmarks.ui_latency.series import TRAIN_EVERY, TRAIN_INTERVAL, TRAIN_TARGET, Series, pooled


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
