"""The command line of ``python -m benchmarks.peers`` and its run (see the package's docstring)."""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import os
import random
import shutil
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from benchmarks import peers
from benchmarks._lib.data import make_extra_images, make_images, make_texts
from benchmarks._lib.machine import machine_info
from benchmarks._lib.report import REPO, command_line, write_section
from benchmarks._lib.run import stop_on_sigterm
from benchmarks.peers.report import render_section
from benchmarks.peers.series import Series, guarded_series, report
from benchmarks.peers.widgets import DEFAULT_VENV, ensure_venv, memory_plan, plan, venv_versions
from tests.harness import JupyterServer, launch_browser

SECTION = "peers"


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks.peers",
        description=peers.__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
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


def nodelay_in_log(server: JupyterServer) -> str:
    """What the server's log says nblabel's extension did to the kernel websockets it opened."""
    log = server.log_path.read_text(errors="replace") if server.log_path and server.log_path.exists() else ""
    on = log.count("kernel websocket TCP_NODELAY=1")
    if on:
        return f"TCP_NODELAY=1 on {on} kernel websockets (server log)"
    if "TCP_NODELAY on kernel websockets is off" in log:
        return "extension loaded and off (server log)"
    return "no nblabel extension line in the server log"


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    stop_on_sigterm()
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
        command = command_line("peers", argv)

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
                command=command,
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
