"""Auto-labeling rounds at scale: in the kernel's process vs a two-worker Dask ``LocalCluster``.

Items: the 4,624 dialogues of HH-RLHF's harmless-base test split (``/work/shared/data``), each
pair's ``chosen`` and ``rejected`` text labelled as such, **repeated** up to each size with the
copy's number appended (so every item has its own key; the features are nearly the same). The
featurizer is :func:`nblabel.autolabel.distributed.hashed_text_features` in both runs (a cluster
needs per-item features), the estimator the text default, 2,000 people's answers.

Per size and per mode, the stages of a round, each timed apart: ``featurize`` (every item,
once; the cluster writes partition files), ``fit`` (the model on the answers, five cross-fitted
folds and the final fit, always in the kernel), ``predict`` (answer, confidence and margin of
every open item; the cluster returns only those), ``write`` (the round's proposals and queue in
one SQLite transaction); peak memory of the kernel process and of each Dask worker. A line is
fitted through each stage's seconds against the number of items: its slope is the per-item
cost. Then ``job.add`` of 10,000 rows to the largest job, until another kernel's queue has them.

The rest of a job at that scale, each in a fresh Python process (as a new kernel):

* opening a ``--manifest-lines`` manifest (lines spelled as ``benchmarks.scale``'s,
  ``{"source-ref":"s3://bucket/images/0000042.jpg","id":42}``) with ``Job(name, path, ...)``,
  which opens it lazily (:mod:`nblabel.manifest_index`), until ``job.pending(1)``: wall and CPU
  seconds (medians of ``--open-repeats`` processes), the process's growth in memory and its
  peak. ``--open-only`` measures only this, printed and not written, and ``--compare-src``
  opens the same file, in turns, with the nblabel of another checkout's ``src`` folder (say
  main's), so two versions are measured side by side in the same minutes;
* exporting that job (ten items labeled) with ``job.export``, its output manifest streamed a
  chunk at a time: wall and CPU seconds, and the peak memory the export added;
* consolidating ``--consolidation-items`` items x 3 answers of ``benchmarks.consolidation``'s
  simulated crowd, Dawid-Skene and majority vote: wall and CPU seconds, and the peak memory the
  consolidation added to the process holding the answers.

Usage::

    python -m benchmarks.scale_autolabel [--sizes 100000,300000,1000000] [--answers 2000]
        [--manifest-lines 10000000] [--open-repeats 3] [--consolidation-items 1000000]
        [--out BENCHMARKS.md] [--no-write]
    python -m benchmarks.scale_autolabel --open-only [--manifest-lines 10000000]
        [--open-repeats 5] [--compare-src ../main/src]

Replaces the section between ``<!-- scale-autolabel:start -->`` and ``<!-- scale-autolabel:end -->``.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from benchmarks._lib.machine import cores, cpu_name, load_average
from benchmarks._lib.report import REPO, command_line, write_section
from benchmarks._lib.run import log
from benchmarks._lib.stats import median
from benchmarks.scale.children import status_bytes
from benchmarks.scale.cli import run_child
from nblabel import Job, TextClassification
from nblabel.autolabel.distributed import ClusterFeatures, hashed_text_features
from nblabel.autolabel.loop import _Model, default_estimator
from nblabel.labeling.items import item_keys
from nblabel.store import SQLiteStore

DATA = Path("/work/shared/data/hh-rlhf-harmless-test/test.jsonl.gz")
LABELS = ["chosen", "rejected"]
STAGES = ("featurize", "fit", "predict", "write")


def dialogues(n: int, data: Path = DATA) -> pd.DataFrame:
    """``n`` items: the real texts, repeated with the copy's number appended."""
    texts, labels = [], []
    with gzip.open(data, "rt", encoding="utf-8") as fh:
        for line in fh:
            pair = json.loads(line)
            for label in LABELS:
                texts.append(pair[label])
                labels.append(label)
    reps = -(-n // len(texts))
    source = [f"{t} #{r}" for r in range(reps) for t in texts][:n]
    return pd.DataFrame({"source": source, "gold": (labels * reps)[:n]})


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _timed(fn: Any) -> tuple[Any, float]:
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def one_round(df: pd.DataFrame, answers: int, client: Any, folder: Path) -> dict[str, Any]:
    """The stages of one round over ``df``; with ``client``, featurize and predict on Dask."""
    sources = list(df.source)
    y = np.asarray([LABELS.index(g) for g in df.gold[:answers]])
    answered, open_positions = np.arange(answers), np.arange(answers, len(df))
    if client is None:
        X, featurize = _timed(lambda: hashed_text_features(sources))
    else:
        X, featurize = _timed(lambda: ClusterFeatures(client, sources, hashed_text_features, folder))
    model = _Model(default_estimator("text"), len(LABELS), False, None)
    X_answered = X[answered]

    def fit() -> Any:
        for test in np.array_split(np.random.default_rng(0).permutation(answers), 5):  # the folds
            train = np.setdiff1d(answered, test)
            model.fit(X_answered[train], y[train]).decide(X_answered[test])
        return model.fit(X_answered, y)

    with threadpool_limits(limits=1, user_api="blas"):  # as a round does (worker.run_round)
        fitted, fit_s = _timed(fit)
        if client is None:
            (answer, confidence, _), predict = _timed(lambda: fitted.decide(X[open_positions]))
        else:
            (answer, confidence, _), predict = _timed(lambda: X.decide(fitted, open_positions))
    store = SQLiteStore(folder / "round.sqlite")
    keys = item_keys(df)  # what a job files answers under: a digest of each text, not the text
    proposals = [
        (keys[p], LABELS[int(a)], round(float(c), 4))
        for p, a, c in zip(open_positions, answer, confidence, strict=True)
    ]
    _, write = _timed(
        lambda: store.save_round("bench", {"round": 1}, proposals, [keys[p] for p in open_positions], [])
    )
    store.close()
    workers = client.run(lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024) if client else {}
    return {
        "featurize": featurize,
        "fit": fit_s,
        "predict": predict,
        "write": write,
        "kernel_mb": _peak_mb(),
        "worker_mb": max(workers.values(), default=0.0),
    }


def add_latency(n: int, folder: Path, count: int = 10_000) -> tuple[float, float]:
    """Seconds for ``job.add`` of ``count`` rows to an ``n``-item job, and until another kernel's
    queue holds them (its refresh and claim, without the widget's one-second poll)."""
    df = dialogues(n)[["source"]]
    spec = str(folder / "add.sqlite")
    adder = Job("scale", df, TextClassification(LABELS), store=spec)
    other = Job("scale", df, TextClassification(LABELS), store=spec, annotator="other")
    rows = pd.DataFrame({"source": [f"added text {i}" for i in range(count)]})
    start = time.perf_counter()
    adder.add(rows)
    added = time.perf_counter() - start
    other.refresh()
    assert other.items.has(adder.keys[-1]) and len(other.keys) == n + count
    return added, time.perf_counter() - start


def plain_manifest(path: Path, lines: int) -> Path:
    """A manifest of ``lines`` lines spelled as ``benchmarks.scale``'s (made once per size)."""
    if not path.exists():
        tmp = path.with_suffix(".tmp")
        with tmp.open("w") as fh:
            for start in range(0, lines, 500_000):
                stop = min(start + 500_000, lines)
                fh.write(
                    "".join(
                        f'{{"source-ref":"s3://bucket/images/{i:07d}.jpg","id":{i}}}\n'
                        for i in range(start, stop)
                    )
                )
        tmp.replace(path)
    return path


def open_runs(manifest: Path, folder: Path, repeats: int, sources: dict[str, Path | None]) -> dict[str, Any]:
    """``manifest`` opened lazily in ``repeats`` fresh processes per source (``benchmarks.scale``'s
    ``open_lazy`` child, a new store each), the sources in turns so that each run of one has a
    run of the other beside it. A source is the ``src`` folder nblabel is imported from (None:
    this process's). Per source: the runs, the median wall and CPU seconds, the median growth in
    memory and the highest peak."""
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in sources}
    for i in range(repeats):
        for n, (name, src) in enumerate(sources.items()):
            env = None if src is None else {**os.environ, "PYTHONPATH": str(src)}
            store = folder / f"open-{n}-{i}.sqlite"
            runs[name].append(run_child(["open_lazy", str(manifest), str(store)], env=env))
    return {
        name: {
            "runs": done,
            "open": [median([r["open"][k] for r in done]) for k in (0, 1)],
            "items": done[0]["items"],
            "rss": median([r["rss"] for r in done]),
            "peak_rss": max(r["peak_rss"] for r in done),
        }
        for name, done in runs.items()
    }


def open_table(opened: dict[str, Any], loads: list[tuple[float, float, float]]) -> str:
    """The runs of :func:`open_runs` side by side, as markdown."""
    lines = [
        f"Opening (`Job(name, path, ...)` + `job.pending(1)`, a fresh process each, sources in turns; "
        f"load average {load_average(min(loads))} to {load_average(max(loads))}):",
        "",
        "| nblabel | items | wall s, median (runs) | CPU s, median (runs) | peak MB above the start, max |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, r in opened.items():
        walls = ", ".join(f"{run['open'][0]:.2f}" for run in r["runs"])
        cpus = ", ".join(f"{run['open'][1]:.2f}" for run in r["runs"])
        lines.append(
            f"| {name} | {r['items']:,} | {r['open'][0]:.2f} ({walls}) | {r['open'][1]:.2f} ({cpus}) | "
            f"{r['peak_rss'] / 1e6:.0f} |"
        )
    return "\n".join(lines)


def _status_mb(field: str) -> float:
    """A memory figure of this process (``VmRSS``, ``VmHWM``), in MB."""
    return status_bytes(field) / 2**20


def consolidation_child(items: int, method: str) -> dict[str, float]:
    """One consolidation of ``items`` x 3 simulated answers, in this (fresh) process.

    Its memory is the peak during the consolidation above the process's size just before: the
    peak (Linux's ``VmHWM``) is reset first, since making the crowd peaked higher than that.
    """
    import gc

    from benchmarks.consolidation import CROWD, METHODS
    from nblabel.datasets.crowd import simulate_crowd

    crowd = simulate_crowd(items, 5, CROWD, 3, adversarial=["adversary"], seed=0)
    gc.collect()
    Path("/proc/self/clear_refs").write_text("5")  # the peak RSS starts again from the RSS
    before = _status_mb("VmRSS")
    wall, cpu = time.perf_counter(), time.process_time()
    METHODS[method](crowd.answers, crowd.classes)
    return {
        "wall": time.perf_counter() - wall,
        "cpu": time.process_time() - cpu,
        "added_mb": _status_mb("VmHWM") - before,
        "answers_mb": before,
    }


def export_child(manifest: Path, store: Path, folder: Path) -> dict[str, float]:
    """``job.export`` of a job over a lazily opened manifest (ten items labeled), in this
    (fresh) process: wall and CPU seconds, lines written, the peak memory the export added."""
    from nblabel import ImageClassification

    job = Job("scale", manifest, ImageClassification(["a", "b", "c"]), store=store)
    step = max(1, len(job.keys) // 10)
    for position in range(0, len(job.keys), step):
        job.label(position, "a")
    Path("/proc/self/clear_refs").write_text("5")  # the peak RSS starts again from the RSS
    before = _status_mb("VmRSS")
    wall, cpu = time.perf_counter(), time.process_time()
    done = job.export(folder)
    return {
        "wall": time.perf_counter() - wall,
        "cpu": time.process_time() - cpu,
        "lines": done.items,
        "added_mb": _status_mb("VmHWM") - before,
    }


def consolidation(items: int) -> dict[str, dict[str, float]]:
    """Each consolidation method over ``items`` x 3 answers, each in a fresh process."""
    out = {}
    for method in ("Dawid-Skene", "majority vote"):
        done = subprocess.run(
            [sys.executable, "-m", "benchmarks.scale_autolabel", "--consolidation-child", str(items), method],
            cwd=REPO,
            check=True,
            capture_output=True,
            text=True,
        )
        out[method] = json.loads(done.stdout.strip().splitlines()[-1])
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,300000,1000000")
    parser.add_argument("--answers", type=int, default=2000)
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--out", type=Path, default=REPO / "BENCHMARKS.md")
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--manifest-lines", type=int, default=10_000_000)
    parser.add_argument("--open-repeats", type=int, default=3, help="fresh processes opening the manifest")
    parser.add_argument(
        "--open-only", action="store_true", help="only open the manifest (printed, not written)"
    )
    parser.add_argument(
        "--compare-src", type=Path, help="with --open-only: also open it with this nblabel src"
    )
    parser.add_argument("--consolidation-items", type=int, default=1_000_000)
    parser.add_argument("--add-rows", type=int, default=10_000)
    parser.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "nblabel-bench" / "scale")
    parser.add_argument("--consolidation-child", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--export-child", nargs=3, type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.consolidation_child:
        print(json.dumps(consolidation_child(int(args.consolidation_child[0]), args.consolidation_child[1])))
        return 0
    if args.export_child:
        print(json.dumps(export_child(*args.export_child)))
        return 0
    if args.open_only:
        args.cache.mkdir(parents=True, exist_ok=True)
        manifest = plain_manifest(args.cache / f"plain-{args.manifest_lines}.manifest", args.manifest_lines)
        sources: dict[str, Path | None] = {"this checkout": None}
        if args.compare_src:
            sources[str(args.compare_src)] = args.compare_src.resolve()
        loads = [os.getloadavg()]
        with tempfile.TemporaryDirectory(prefix="nblabel-open-") as tmp:
            opened = open_runs(manifest, Path(tmp), args.open_repeats, sources)
        loads.append(os.getloadavg())
        print(open_table(opened, loads))
        return 0
    sizes = [int(s) for s in args.sizes.split(",")]
    from distributed import Client, LocalCluster

    results: dict[tuple[str, int], dict[str, Any]] = {}
    loads = [os.getloadavg()]
    # LocalCluster writes its workers' settings into this process's environment
    # (MALLOC_TRIM_THRESHOLD_=65536, OMP_NUM_THREADS=1, ...) and leaves them there; the children
    # below (a new kernel opening the manifest, exporting, consolidating) must not inherit them:
    # the malloc setting alone makes the manifest's open 3.6x slower.
    environ = dict(os.environ)
    with tempfile.TemporaryDirectory(prefix="nblabel-scale-") as tmp:
        with (
            LocalCluster(
                processes=True, n_workers=2, threads_per_worker=1, dashboard_address=None
            ) as cluster,
            Client(cluster) as client,
        ):
            for n in sizes:
                df = dialogues(n, args.data)
                for mode, c in (("in-process", None), ("2-worker LocalCluster", client)):
                    folder = Path(tmp) / f"{mode[:2]}-{n}"
                    folder.mkdir()
                    log(f"{mode}: {n:,} items")
                    results[mode, n] = one_round(df, args.answers, c, folder)
                    log(", ".join(f"{k} {v:.2f}" for k, v in results[mode, n].items()))
                    loads.append(os.getloadavg())
        os.environ.clear()
        os.environ.update(environ)
        added, visible = add_latency(sizes[-1], Path(tmp), args.add_rows)
        loads.append(os.getloadavg())
        args.cache.mkdir(parents=True, exist_ok=True)
        manifest = plain_manifest(args.cache / f"plain-{args.manifest_lines}.manifest", args.manifest_lines)
        log(f"open a {args.manifest_lines:,}-line manifest")
        opened = open_runs(manifest, Path(tmp), args.open_repeats, {"this checkout": None})["this checkout"]
        log("export it")
        store, folder = Path(tmp) / "export.sqlite", Path(tmp) / "export"
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "benchmarks.scale_autolabel",
                "--export-child",
                str(manifest),
                str(store),
                str(folder),
            ],
            cwd=REPO,
            check=True,
            capture_output=True,
            text=True,
        )
        opened["export"] = json.loads(done.stdout.strip().splitlines()[-1])
        loads.append(os.getloadavg())
        log(f"consolidate {args.consolidation_items:,} items x 3")
        consolidated = consolidation(args.consolidation_items)
        loads.append(os.getloadavg())
    section = (
        report(results, sizes, args, added, visible, loads) + "\n\n" + rest_report(args, opened, consolidated)
    )
    print(section)
    if not args.no_write:
        write_section(args.out, "scale-autolabel", section)
    return 0


def report(
    results: dict[tuple[str, int], dict[str, Any]],
    sizes: list[int],
    args: argparse.Namespace,
    added: float,
    visible: float,
    loads: list[tuple[float, float, float]],
) -> str:
    modes = sorted({m for m, _ in results}, reverse=True)
    lines = [
        "## Auto-labeling at scale (Dask)",
        "",
        f"`{command_line('scale_autolabel', None)}` on {cpu_name()} ({cores()} cores), load average "
        f"{load_average(max(loads))} at its highest during the run (a shared machine: absolute times are "
        "pessimistic, ratios measured side by side). HH-RLHF harmless-base dialogues (4,624 real texts) "
        f"**repeated** to each size; {args.answers:,} answers; hashed word features (2^16 columns).",
        "",
        "| mode | items | featurize s | fit s | predict s | write s | kernel peak MB | worker peak MB |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for mode in modes:
        for n in sizes:
            r = results[mode, n]
            lines.append(
                f"| {mode} | {n:,} | {r['featurize']:.1f} | {r['fit']:.1f} | {r['predict']:.1f} | "
                f"{r['write']:.1f} | {r['kernel_mb']:.0f} | {r['worker_mb']:.0f} |"
            )
    lines += ["", "Per-item cost (slope of a line through the sizes, microseconds per item):", ""]
    lines += ["| mode | " + " | ".join(STAGES) + " |", "|---|" + "---:|" * len(STAGES)]
    for mode in modes:
        slopes = []
        for stage in STAGES:
            seconds = [results[mode, n][stage] for n in sizes]
            slope = np.polyfit(sizes, seconds, 1)[0] if len(sizes) > 1 else seconds[0] / sizes[0]
            slopes.append(f"{slope * 1e6:.1f}")
        lines.append(f"| {mode} | " + " | ".join(slopes) + " |")
    lines += [
        "",
        f"`job.add` of {args.add_rows:,} rows to a {sizes[-1]:,}-item job: {added:.2f} s to store them, {visible:.2f} s "
        "until another kernel's items and queue hold them (a widget polls once a second on top).",
        "",
        "Kernel peak MB is the benchmark process's peak so far (it grows with the largest size run); "
        "worker peak MB the larger of the two Dask workers' peaks, bounded by a partition "
        "(5,000 items) and the model, not by the job. Extrapolation to 10M-100M items: docs/scale.md.",
    ]
    return "\n".join(lines)


def rest_report(
    args: argparse.Namespace, opened: dict[str, Any], consolidated: dict[str, dict[str, float]]
) -> str:
    """The manifest's opening and the consolidation, against issue #24's targets."""
    wall, cpu = opened["open"]
    lines = [
        f"### The rest of the job: a {args.manifest_lines:,}-line manifest, {args.consolidation_items:,} items x 3 answers",
        "",
        f"Opening (`Job(name, path, ...)` + `job.pending(1)`, the median of {len(opened['runs'])} fresh processes; "
        f"the manifest opened lazily, `nblabel.manifest_index`): **{wall:.1f} s wall, {cpu:.1f} s CPU** for "
        f"{opened['items']:,} items "
        f"(target ≤ 3 s: {'met' if wall <= 3 else 'not met'} on this machine); memory: the process grew "
        f"{opened['rss'] / 1e6:.0f} MB, peak {opened['peak_rss'] / 1e6:.0f} MB above the start "
        f"(target ≤ 2 GB: {'met' if opened['peak_rss'] <= 2e9 else 'not met'}).",
        "",
        f"Exporting it (`job.export(folder)`, ten items labeled, a fresh process; the output manifest "
        f"streamed from `job.to_dataframes` a chunk at a time): {opened['export']['lines']:,} lines in "
        f"{opened['export']['wall']:.1f} s wall, {opened['export']['cpu']:.1f} s CPU; the export added "
        f"{opened['export']['added_mb']:.0f} MB to the process's peak memory.",
        "",
        "| consolidation | wall s | CPU s | peak memory added, MB | target ≤ 15 s, ≤ 1 GB |",
        "|---|---:|---:|---:|---|",
    ]
    for method, r in consolidated.items():
        ok = r["wall"] <= 15 and r["added_mb"] <= 1024
        lines.append(
            f"| {method} | {r['wall']:.1f} | {r['cpu']:.1f} | {r['added_mb']:.0f} | "
            f"{'met' if ok else 'not met'} (wall) / {'met' if r['cpu'] <= 15 and r['added_mb'] <= 1024 else 'not met'} (CPU) |"
        )
    lines += [
        "",
        "Peak memory added: the process's peak during the consolidation (Linux `VmHWM`, reset just "
        "before) minus its size just before, when it held the answers (a dict of per-item lists of "
        "pairs, what `job.consolidate()` hands the function), numpy and nblabel: "
        f"{max(r['answers_mb'] for r in consolidated.values()):.0f} MB.",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
