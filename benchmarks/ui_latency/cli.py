"""The command line of ``python -m benchmarks.ui_latency`` and its run (see the package's docstring)."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks import ui_latency
from benchmarks._lib.data import make_extra_images, make_images, make_texts
from benchmarks._lib.machine import machine_info, versions
from benchmarks._lib.report import REPO, command_line, write_section
from benchmarks._lib.run import stop_on_sigterm
from benchmarks.ui_latency.report import render_section
from benchmarks.ui_latency.series import Series, _no_control, report_series, run_widget_series, traced_series
from tests.harness import JupyterServer, launch_browser


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks.ui_latency",
        description=ui_latency.__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
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


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    stop_on_sigterm()
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
            command=command_line("ui_latency", argv),
            attribution=attribution,
        )
        write_section(args.out, "ui_latency", section)
        print(f"wrote {args.out} ({runtime / 60:.1f} min)", flush=True)
        if args.json:
            args.json.write_text(json.dumps([s.to_json() for s in all_series + trained + controls]))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0
