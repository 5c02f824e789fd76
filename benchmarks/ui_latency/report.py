"""The ui_latency section of BENCHMARKS.md: latency tables, the idle-vs-training comparison,
the trace attribution, the method and the machine."""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import math
from typing import Any

from benchmarks._lib.page import VIEWPORT
from benchmarks._lib.stats import fmt, summary
from benchmarks._lib.trace import FRAME_MS
from benchmarks.ui_latency.series import Series, pooled
from benchmarks.ui_latency.subsections import add_attribution, add_training

# Median / p95 in ms, stock JupyterLab 4.6 (/work/shared/reference/peer-latency.md).
PEERS = [
    ("jupyter-bbox-widget", "images", 39.0, 59.0),
    ("ipyannotations ClassLabeller", "images", 217.0, 270.0),
    ("superintendent", "images", 228.0, 274.0),
    ("ipyannotations (text)", "texts", 25.0, 34.0),
    ("pigeonXT", "texts", 35.0, 42.0),
]


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
        f"(run time {runtime_s / 60:.1f} min). Produced by `python -m benchmarks.ui_latency`; "
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
