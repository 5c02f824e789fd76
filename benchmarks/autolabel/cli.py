"""The command line of ``python -m benchmarks.autolabel`` and its run (see the package's docstring)."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import re
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks import autolabel
from benchmarks._lib.machine import cores, cpu_name, load_average
from benchmarks._lib.report import REPO, command_line, write_section
from benchmarks._lib.run import ensure_pip, log
from benchmarks.autolabel import simulate
from benchmarks.autolabel.datasets import LOADERS, NAMES
from benchmarks.autolabel.report import plot, render, summarise
from benchmarks.autolabel.simulate import (
    at_budget,
    fmt_accuracy,
    fmt_share,
    limit_threads,
    load_runs,
    parse_budgets,
    parse_seeds,
    run_seed,
)
from benchmarks.autolabel.zero_shot import bbc_zero_shot

DEFAULT_BUDGETS = {
    "bbc": ["100", "150", "200", "300"],
    "bbc-tfidf": ["100", "150", "200", "300"],
    "bbc-minilm": ["100", "150", "200", "300"],
    "fashion": ["1%", "2%", "5%", "10%"],
    "fashion10k": ["1%", "2%", "5%", "10%"],
    **{
        f"fashion-{f}": ["1%", "2%", "5%", "10%"]
        for f in ("hist", "efficientnet", "efficientnet128", "hist+efficientnet", "hist+efficientnet128")
    },
    "digits": ["100", "200", "300", "500"],
}


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks.autolabel",
        description=autolabel.__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--datasets",
        default="bbc,fashion",
        help="comma list of bbc, fashion (the issue's two; the default), fashion10k, digits; bbc-tfidf and "
        "bbc-minilm force BBC's featurizer (bbc takes the package's default), fashion-hist, "
        "fashion-efficientnet, fashion-efficientnet128 (128 px) and fashion-hist+efficientnet[128] "
        "(both side by side) Fashion-MNIST's (features cached in --cache, resumed if killed)",
    )
    p.add_argument(
        "--seeds",
        action="append",
        default=[],
        help="N (seeds 0..N-1), a-b, or a comma list (default 10); DATASET=... for one dataset (repeatable)",
    )
    p.add_argument(
        "--budgets",
        action="append",
        default=[],
        metavar="DATASET=B1,B2",
        help="answer counts to report, ints or percentages of the dataset (repeatable); "
        "defaults bbc=100,150,200,300 and fashion=1%%,2%%,5%%,10%%",
    )
    p.add_argument("--jobs", type=int, default=1, help="processes running seeds side by side (default 1)")
    p.add_argument("--threads", type=int, default=1, help="BLAS threads per process (default 1)")
    p.add_argument(
        "--growth",
        type=float,
        default=0.05,
        help="batch between rounds past 200 answers, as a share of the answers so far (default 0.05)",
    )
    p.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "nblabel-bench")
    p.add_argument("--out", type=Path, default=REPO / "BENCHMARKS.md", help="markdown file to update")
    p.add_argument("--img", type=Path, default=REPO / "docs" / "img", help="folder for the plots")
    p.add_argument("--json", type=Path, help="also write every round's record here")
    p.add_argument(
        "--reuse",
        type=Path,
        action="append",
        default=[],
        help="take finished (dataset, seed) runs with the same budgets from an earlier --json file "
        "or its .runs.jsonl instead of running them again (repeatable)",
    )
    p.add_argument(
        "--cold",
        action="store_true",
        help="fit every round's models from scratch, not from the previous round's (compares the "
        "incremental fits the background worker does)",
    )
    p.add_argument(
        "--zero-shot",
        type=int,
        default=2225,
        metavar="N",
        help="BBC texts (drawn at random) to measure the zero-shot first proposals on; 0: skip (default: all 2,225)",
    )
    p.add_argument(
        "--only-nblabel",
        action="store_true",
        help="run nblabel's loop alone, not the GT-style and uncertainty-only baselines (their columns show —)",
    )
    p.add_argument("--no-write", action="store_true", help="print the section instead of writing --out")
    return p.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    keys = [k.strip() for k in args.datasets.split(",") if k.strip()]
    for k in keys:
        if k not in NAMES:
            raise SystemExit(f"unknown dataset {k!r} ({', '.join(NAMES)})")
    spec = dict(DEFAULT_BUDGETS)
    for item in args.budgets:
        name, _, values = item.partition("=")
        if not values:  # no dataset given: the same budgets for every dataset
            name, values = "", item
        for k in [name] if name else keys:
            spec[k] = values.split(",")
    seed_spec = dict.fromkeys(keys, "10")
    for item in args.seeds:
        name, _, values = item.rpartition("=")
        for k in [name] if name else keys:
            seed_spec[k] = values
    for k, v in seed_spec.items():
        if not parse_seeds(v):
            raise SystemExit(f"no seeds for {k}: --seeds N runs seeds 0..N-1; use 0-0 or 3, for single seeds")
    ensure_pip("matplotlib", "matplotlib")
    t_start = time.perf_counter()
    results: dict[str, Any] = {"datasets": {}}
    for key in keys:
        t0 = time.perf_counter()
        with limit_threads(max(args.threads, args.jobs)):
            data = LOADERS[key](args.cache, args.jobs)
        simulate.DATA[key] = data
        budgets = parse_budgets(spec[key], data.n)
        seeds = parse_seeds(seed_spec[key])
        log(f"{NAMES[key]}: {data.n:,} items, budgets {budgets}, seeds {seeds}; {data.note}")
        runs: list[dict[str, Any]] = []

        def done(
            run: dict[str, Any], key: str = key, budgets: list[int] = budgets, runs: list = runs
        ) -> None:
            runs.append(run)
            if args.json:  # every finished run at once, so a crash loses nothing (see --reuse)
                with args.json.with_suffix(".runs.jsonl").open("a") as fh:
                    fh.write(json.dumps(run, default=float) + "\n")
            w = run["wall"]
            last = {b: at_budget(run["nblabel"], b) for b in budgets}
            log(
                f"{key} seed {run['seed']}: "
                + ", ".join(
                    f"{b}: cov {fmt_share(x['coverage'])} acc {fmt_accuracy(x['auto_acc'])}"
                    for b, x in last.items()
                )
                + f" | nblabel {w['nblabel']:.0f} s (CPU {run.get('cpu', {}).get('nblabel', 0):.0f} s), GT-style {w['gt_style']:.0f} s, uncertainty {w['uncertainty']:.0f} s"
            )

        reused = {r["seed"]: r for r in load_runs(args.reuse, key, budgets) if r["seed"] in seeds}
        for run in reused.values():
            runs.append(run)
            log(f"{key} seed {run['seed']}: reused from an earlier run")
        todo = [s for s in seeds if s not in reused]
        seed_args = (args.threads, not args.cold, args.growth, not args.only_nblabel)
        if args.jobs > 1 and len(todo) > 1:
            import multiprocessing as mp

            with ProcessPoolExecutor(args.jobs, mp_context=mp.get_context("fork")) as pool:
                futures = [pool.submit(run_seed, key, budgets, s, *seed_args) for s in todo]
                for f in futures:
                    done(f.result())
        else:
            for s in todo:
                done(run_seed(key, budgets, s, *seed_args))
        runs.sort(key=lambda r: r["seed"])
        wall = time.perf_counter() - t0
        if key.startswith("bbc") and args.zero_shot:
            zero_shot = bbc_zero_shot(args.zero_shot, args.cache)
        results["datasets"][key] = {
            "n": data.n,
            "classes": data.classes,
            "note": data.note,
            "budgets": budgets,
            "seeds": seeds,
            "runs": runs,
            "reused": sorted(reused),
            "summary": summarise(runs, budgets),
            "wall": wall,
        }
        if key.startswith("bbc") and args.zero_shot:
            results["datasets"][key]["zero_shot"] = zero_shot
        plot(key, runs, budgets, data.n, args.img / f"autolabel-{key}.png")
        log(f"{NAMES[key]} done in {wall / 60:.1f} min; plot {args.img / f'autolabel-{key}.png'}")
        del simulate.DATA[key]
    import sklearn

    results.update(
        loop_defaults=loop_defaults(),
        date=dt.date.today().isoformat(),
        wall=time.perf_counter() - t_start,
        load=load_average(),
        jobs=args.jobs,
        threads=args.threads,
        growth=args.growth,
        command=command_line("autolabel", argv),
        machine={
            "cpus": cores(),
            "cpu": cpu_name(),
            "python": f"Python {platform.python_version()}",
            "numpy": np.__version__,
            "sklearn": sklearn.__version__,
        },
    )
    section = render(results)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1, default=float))
    if args.no_write:
        print(section)
    else:
        write_section(args.out, "autolabel", section)
        log(f"wrote the autolabel section of {args.out}")
    return 0


def loop_defaults() -> dict[str, Any]:
    """compute_round's default parameters and the default estimators, as this run used them."""
    import inspect

    from nblabel.autolabel.loop import (
        LARGE_JOB_ITEMS,
        compute_round,
        default_estimator,
        default_random_fraction,
    )

    params = inspect.signature(compute_round).parameters
    out: dict[str, Any] = {k: params[k].default for k in ("target", "level", "folds")}
    out["random_fraction"] = (
        f"{default_random_fraction(0)} below {LARGE_JOB_ITEMS:,} items, "
        f"{default_random_fraction(LARGE_JOB_ITEMS)} above"
    )
    for media in ("text", "image"):
        out[f"{media}_estimator"] = re.sub(r"\s+", " ", repr(default_estimator(media)))
    return out
