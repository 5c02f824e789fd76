"""Consolidation at scale: 100,000 items x 3 answers, Dawid-Skene against majority vote.

A simulated crowd (:func:`nblabel.datasets.crowd.simulate_crowd`) of ten annotators of mixed
quality labels 100,000 items of five classes, three different annotators per item:

    accuracies 0.95, 0.90, 0.85, 0.80, 0.70, 0.60, 0.55, 0.50, 0.45 (wrong answers at random)
    and one adversary at 0.20 (wrong answers always the "next" class)

For each method, the consolidation function is timed on the per-item answer lists (what a
scheduled job hands it), ``--repeats`` times (median and p95 of the wall time), and its peak
Python memory is measured with ``tracemalloc`` in a separate run (numpy reports its buffers to
it). Accuracy against the simulated truth is measured on ``--seeds`` crowds. The section also
gives the figures on the real GT bird job shipped in ``nblabel.datasets``.

Usage::

    python -m benchmarks.consolidation [--items 100000] [--repeats 5] [--seeds 3] [--out BENCHMARKS.md]

The results replace the section between ``<!-- consolidation:start -->`` and
``<!-- consolidation:end -->`` in ``--out`` (created if missing; other sections are kept).
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time
import tracemalloc
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks._lib.machine import cores
from benchmarks._lib.report import REPO, command_line, write_section
from benchmarks._lib.stats import median, p95
from nblabel import ImageClassification, datasets
from nblabel.consolidate import dawid_skene, majority_vote
from nblabel.datasets.crowd import simulate_crowd
from nblabel.formats import read_worker_responses

CROWD = {
    "a95": 0.95,
    "b90": 0.90,
    "c85": 0.85,
    "d80": 0.80,
    "e70": 0.70,
    "f60": 0.60,
    "g55": 0.55,
    "h50": 0.50,
    "i45": 0.45,
    "adversary": 0.20,
}
METHODS: dict[str, Callable[..., Any]] = {"Dawid-Skene": dawid_skene, "majority vote": majority_vote}


def measure(items: int, repeats: int, seeds: int) -> dict[str, Any]:
    crowd = simulate_crowd(items, 5, CROWD, 3, adversarial=["adversary"], seed=0)
    results: dict[str, Any] = {}
    for name, method in METHODS.items():
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            method(crowd.answers, crowd.classes)
            times.append(time.perf_counter() - start)
        tracemalloc.start()
        method(crowd.answers, crowd.classes)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        accuracies = []
        ranked = []
        for seed in range(seeds):
            other = (
                crowd
                if seed == 0
                else simulate_crowd(items, 5, CROWD, 3, adversarial=["adversary"], seed=seed)
            )
            result = method(other.answers, other.classes)
            accuracies.append(other.accuracy({k: c.value for k, c in result.items.items()}))
            ranked.append(sorted(result.quality, key=result.quality.get, reverse=True) == list(CROWD))
        results[name] = {
            "median": median(times),
            "p95": p95(times),
            "peak_mb": peak / 2**20,
            "accuracy": accuracies,
            "ranked": sum(ranked),
        }
    return results


def bird_job() -> dict[str, int]:
    answers = read_worker_responses(
        datasets.gt_bird_responses(), ImageClassification(datasets.gt_bird_labels())
    )
    per_item: dict[int, list[tuple[str, str]]] = {}
    for row in answers.itertuples(index=False):
        per_item.setdefault(row.dataset_object_id, []).append((row.worker, row.value))
    birds = datasets.gt_birds()
    out = {"GT": int((birds["gt-label"] == birds["gold"]).sum())}
    for name, method in METHODS.items():
        result = method(per_item, datasets.gt_bird_labels())
        out[name] = sum(result.items[i].value == g for i, g in enumerate(birds["gold"]))
        out[name + " same as GT"] = sum(result.items[i].value == g for i, g in enumerate(birds["gt-label"]))
    return out


def section(results: dict[str, Any], birds: dict[str, int], args: argparse.Namespace, wall: float) -> str:
    lines = [
        "## Consolidation (`python -m benchmarks.consolidation`)",
        "",
        f"{args.items:,} items x 3 answers from a simulated crowd of ten annotators (accuracies 0.95 down to "
        "0.45, one adversary at 0.20 whose errors are always the next class), five classes. Time: wall time of "
        f"the consolidation function over the per-item answer lists, {args.repeats} runs; memory: peak of "
        f"`tracemalloc` during one run; accuracy against the simulated truth on {args.seeds} crowds (seeds "
        f"0-{args.seeds - 1}); ranking: crowds on which the per-annotator quality estimates put all ten in "
        "the true order.",
        "",
        "| method | median time | p95 time | peak memory | accuracy (mean, min-max) | ranking right |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, r in results.items():
        acc = r["accuracy"]
        lines.append(
            f"| {name} | {r['median']:.2f} s | {r['p95']:.2f} s | {r['peak_mb']:.0f} MB | "
            f"{statistics.mean(acc):.4f} ({min(acc):.4f}-{max(acc):.4f}) | {r['ranked']}/{args.seeds} |"
        )
    lines += [
        "",
        "The real GT bird job (302 images, 1,510 answers by 97 workers): right against the Open Images labels "
        f"GT {birds['GT']}/302, Dawid-Skene {birds['Dawid-Skene']}/302 (same label as GT on "
        f"{birds['Dawid-Skene same as GT']}), majority vote {birds['majority vote']}/302 (same as GT on "
        f"{birds['majority vote same as GT']}; its ties go to the answer given first).",
        "",
        f"Run {date.today().isoformat()} on {platform.machine()} ({cores()} CPU(s) shared with other work), "
        f"Python {platform.python_version()}, numpy {np.__version__}. Total {wall:.0f} s. Command: "
        f"`{command_line('consolidation', ['--items', str(args.items), '--repeats', str(args.repeats), '--seeds', str(args.seeds)])}`.",
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks.consolidation", description=__doc__.split("\n\n")[0]
    )
    p.add_argument("--items", type=int, default=100_000)
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--out", type=Path, default=REPO / "BENCHMARKS.md")
    args = p.parse_args(argv)
    start = time.perf_counter()
    results = measure(args.items, args.repeats, args.seeds)
    birds = bird_job()
    text = section(results, birds, args, time.perf_counter() - start)
    write_section(args.out, "consolidation", text)
    print(text)


if __name__ == "__main__":
    main()
