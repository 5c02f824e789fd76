"""The websocket delay: kernel ↔ browser messages with and without TCP_NODELAY on the kernel websocket.

Jupyter Server does not set TCP_NODELAY on its websockets, so a small message can wait for the
browser's delayed ACK (about 40 ms) behind the previous one. nblabel ships a server extension
(``nblabel.server_extension``) that sets it; ``NBLABEL_TCP_NODELAY=0`` turns it off. This script
measures the two messages the delay could hold back, on a stock server (extension off) and with
the extension, interleaved:

* **key → answer acknowledged**: a class key in the classification widget → the kernel stores
  the answer durably and sends ``ack`` → the widget's ``data-unacked`` count drops. Keys are
  pressed one every ``--gap-ms`` ±20 %, each only after the previous one was acknowledged.
* **proposals push → painted**: the kernel sends a ``proposals`` message (what the widget sends
  after each auto-labeling round, here with a new confidence each time for the item on screen),
  and the browser paints the new "Model suggests" line. Sent from a kernel cell every
  ``--gap-ms`` ±20 %; the send time is Python's ``time.time()``, the paint time
  ``performance.timeOrigin + performance.now()`` in a ``setTimeout(0)`` posted from the
  ``requestAnimationFrame`` after the text changed (the frame that shows it). Both clocks are the
  same machine's wall clock.

Usage::

    python -m benchmarks.push_latency [--runs 3] [--presses 100] [--pushes 99] [--out BENCHMARKS.md]

Replaces the section between ``<!-- push_latency:start -->`` and ``<!-- push_latency:end -->``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks._lib.data import make_texts
from benchmarks._lib.hooks import ACK_HOOK_JS, PUSH_HOOK_JS
from benchmarks._lib.machine import load_average, machine_info, versions
from benchmarks._lib.page import LABELS, notebook_page, pause, show_widget
from benchmarks._lib.report import REPO, command_line, write_section
from benchmarks._lib.run import stop_on_sigterm
from benchmarks._lib.stats import fmt, summary
from tests.harness import JupyterServer, launch_browser

SECTION = "push_latency"
MODES = ("stock", "nodelay")
WARMUP = 10
SLOW_MS = 35  # a delayed ACK holds a message back ~40 ms; nothing else here takes that long


def push_cell(key: str, pushes: int, gap_ms: float, seed: int) -> str:
    """Kernel code: send ``pushes`` proposals for the item on screen, confidence 1 %, 2 %, ...,
    paced; print the send times."""
    return (
        "import json as _json, random as _random, time as _time\n"
        f"_rng, _sent = _random.Random({seed}), {{}}\n"
        f"for _i in range(1, {pushes + 1}):\n"
        f"    _msg = {{'type': 'proposals', 'proposals': {{{key!r}: {{'value': {LABELS[0]!r}, "
        "'confidence': _i / 100}}, 'auto': [], 'order': [], 'progress': w.feed.progress()}\n"
        "    _sent[str(_i)] = _time.time() * 1000\n"
        "    w.send(_msg)\n"
        f"    _time.sleep({gap_ms / 1000} * (1 + _rng.uniform(-0.2, 0.2)))  # pacing, as a person's rounds\n"
        "print('SENT' + _json.dumps(_sent))"
    )


def run_once(
    browser: Any, root: Path, mode: str, run: int, args: argparse.Namespace
) -> dict[str, list[float]]:
    """One notebook on a fresh server: the key → ack series, then the proposals series."""
    rng = random.Random(args.seed * 100 + run)
    name = f"push-{mode}-r{run}"
    cells = [
        "import json\nfrom pathlib import Path\nimport pandas as pd\nimport nblabel as nl\n"
        "df = pd.DataFrame({'source': json.loads(Path('texts.json').read_text())})\n"
        f"job = nl.Job({name!r}, df, nl.TextClassification({LABELS!r}))\nw = job.annotate()",
        "w",
    ]
    with (
        JupyterServer("lab", root, nodelay=(mode == "nodelay")) as server,
        notebook_page(browser, server, name, cells) as nb,
    ):
        page = nb.page
        nb.run_cell(0)
        nb.run_cell(1)
        widget = show_widget(nb)
        widget.evaluate(ACK_HOOK_JS)
        for i in range(args.presses + WARMUP):
            page.keyboard.press("123"[i % 3])
            page.wait_for_function(
                "() => document.querySelector('[data-testid=nbl-root]').dataset.unacked === '0'",
                timeout=60_000,
                polling=5,
            )
            pause(args.gap_ms, 0.2, rng)
        acks = page.evaluate("() => window.__nblAck.latencies")[WARMUP:]
        key = widget.get_attribute("data-item-key")
        widget.evaluate(PUSH_HOOK_JS)
        cell = nb.add_cell(push_cell(key, args.pushes + WARMUP, args.gap_ms, rng.randrange(10**6)))
        nb.run_cell(cell, timeout=600)
        text = nb.cell_output_text(cell)
        sent = json.loads(text[text.index("SENT") + 4 :].strip().splitlines()[0])
        page.wait_for_function(
            f"() => {{ const e = window.__nblPush[{args.pushes + WARMUP!r}]; return e && e.painted; }}",
            timeout=60_000,
        )
        seen = page.evaluate("() => window.__nblPush")
        pushes = [
            seen[i]["painted"] - sent[i]
            for i in map(str, range(WARMUP + 1, args.pushes + WARMUP + 1))
            if i in seen and "painted" in seen[i]
        ]
        missing = args.pushes - len(pushes)
        if missing:
            print(f"  {mode} run {run}: {missing} pushes never painted", flush=True)
    print(
        f"  {mode} run {run}: ack p50 {fmt(summary(acks)['p50'])} ms, push p50 {fmt(summary(pushes)['p50'])} ms",
        flush=True,
    )
    return {"ack": acks, "push": pushes}


def slow_share(values: list[float]) -> str:
    """The share of messages slow enough to have waited for a delayed ACK."""
    if not values:
        return "–"
    return f"{100 * sum(v >= SLOW_MS for v in values) / len(values):.0f} %"


def render(results: dict[str, dict[str, list[list[float]]]], meta: dict[str, Any]) -> str:
    lines = [
        "## The websocket delay: kernel ↔ browser messages with and without TCP_NODELAY",
        "",
        f"Measured {meta['started']} by `{meta['command']}` "
        f"(run time {meta['minutes']:.1f} min). Produced by `python -m benchmarks.push_latency`; rerun it to "
        "refresh this section. `stock` is JupyterLab as users run it (nblabel's server extension off, "
        "`NBLABEL_TCP_NODELAY=0`); `nodelay` has the extension on, as installed.",
        "",
        f"| message | server | n | p50 | p95 | max | mean | ≥ {SLOW_MS} ms |",
        "|---|---|---|---|---|---|---|---|",
    ]
    names = {"ack": "key → answer acknowledged", "push": "proposals push → painted"}
    for measure in ("ack", "push"):
        for mode in MODES:
            pooled = [v for run in results[mode][measure] for v in run]
            s = summary(pooled)
            lines.append(
                f"| {names[measure]} | {mode} | {len(pooled)} | {fmt(s['p50'])} | {fmt(s['p95'])} | "
                f"{fmt(s['max'])} | {fmt(s['mean'])} | {slow_share(pooled)} |"
            )
    lines += [
        "",
        "Per run, p50 / p95 (ms):",
        "",
        "| message | server | " + " | ".join(f"run {r + 1}" for r in range(meta["runs"])) + " |",
        "|---|---|" + "---|" * meta["runs"],
    ]
    for measure in ("ack", "push"):
        for mode in MODES:
            cells = [f"{fmt(summary(v)['p50'])} / {fmt(summary(v)['p95'])}" for v in results[mode][measure]]
            lines.append(f"| {names[measure]} | {mode} | " + " | ".join(cells) + " |")
    info = meta["machine"]
    lines += [
        "",
        f"The last column is the share of messages that took {SLOW_MS} ms or more: those that waited "
        "for the browser's delayed ACK (about 40 ms) behind an earlier frame.",
        "",
        "### Method",
        "",
        f"- Each run: a fresh server per mode (order alternating between runs), a fresh notebook and "
        f"kernel, a text-classification job over {meta['texts']} texts in the widget. First "
        f"{meta['presses']} class keys (after {WARMUP} not counted), one every {meta['gap_ms']:.0f} ms "
        "±20 % after the previous answer was acknowledged; then "
        f"{meta['pushes']} proposals pushes (after {WARMUP} not counted) sent by a kernel cell at the "
        "same pace. See the module docstring for the clocks.",
        "- The pushes change the text of the item on screen, so each one is a real re-render: "
        "the widget applies the round (`newRound`), repaints and asks the kernel for more items, as "
        "after an auto-labeling round.",
        f"- Machine: {info['cpu']}, {info['cores']} cores, {info['mem']}; {info['os']}, Python "
        f"{info['python']}. Load average (1/5/15 min) at start {meta['load_start']}, at end "
        f"{meta['load_end']}: the machine is shared, expect the tail (p95, max) to vary between runs.",
        "- Versions: " + ", ".join(f"{k} {v}" for k, v in meta["versions"].items() if k != "widget JS") + ".",
    ]
    return "\n".join(lines)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks.push_latency", description=__doc__.split("\n\n")[0]
    )
    p.add_argument("--runs", type=int, default=3, help="runs per server mode, interleaved (default 3)")
    p.add_argument("--presses", type=int, default=100, help="counted key presses per run (default 100)")
    p.add_argument("--pushes", type=int, default=89, help="counted proposals pushes per run (≤ 89)")
    p.add_argument("--gap-ms", type=float, default=150.0, help="pause between messages (default 150)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--out", type=Path, default=REPO / "BENCHMARKS.md")
    p.add_argument("--json", type=Path, help="also write the raw latencies here")
    args = p.parse_args(argv)
    if not 1 <= args.pushes <= 99 - WARMUP:
        p.error(f"--pushes must be 1..{99 - WARMUP}: each push shows its own whole percent")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    stop_on_sigterm()
    from playwright.sync_api import sync_playwright

    started = dt.datetime.now(dt.timezone.utc)
    t0 = time.monotonic()
    load_start = load_average()
    results: dict[str, dict[str, list[list[float]]]] = {m: {"ack": [], "push": []} for m in MODES}
    with tempfile.TemporaryDirectory(prefix="nblabel-push-") as tmp:
        root = Path(tmp)
        texts = make_texts(args.presses + WARMUP + 50)
        (root / "texts.json").write_text(json.dumps(texts))
        with sync_playwright() as pw:
            browser = launch_browser(pw)
            try:
                vers = versions(browser.version)
                for run in range(args.runs):
                    for mode in MODES if run % 2 == 0 else MODES[::-1]:
                        got = run_once(browser, root, mode, run, args)
                        for measure, values in got.items():
                            results[mode][measure].append(values)
            finally:
                browser.close()
    meta = {
        "started": started.strftime("%Y-%m-%d %H:%M UTC"),
        "command": command_line("push_latency", argv),
        "minutes": (time.monotonic() - t0) / 60,
        "runs": args.runs,
        "presses": args.presses,
        "pushes": args.pushes,
        "gap_ms": args.gap_ms,
        "texts": len(texts),
        "machine": machine_info(),
        "load_start": load_start,
        "load_end": load_average(),
        "versions": vers,
    }
    if args.json:
        args.json.write_text(json.dumps({"meta": meta, "results": results}, indent=1))
    section = render(results, meta)
    write_section(args.out, SECTION, section)
    print(section)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
