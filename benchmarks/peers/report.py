"""The peers section of BENCHMARKS.md: the target, the pooled comparison, every series, the
kernels' memory, the method and the machine."""

from __future__ import annotations

import argparse
import datetime as dt
from collections.abc import Sequence

from benchmarks._lib.page import VIEWPORT
from benchmarks._lib.stats import fmt, summary
from benchmarks.peers.series import TARGET, Series, comparison, target_verdict


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
        "Produced by `python -m benchmarks.peers`; rerun it to refresh this section (the first run also builds "
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
        "and strings for every widget (`benchmarks._lib.data.make_images` / `make_texts`)."
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
