"""The simulated annotator: nblabel's loop answered from gold labels, and the two baselines
(GT-style and uncertainty only) on the same features and estimator."""

from __future__ import annotations

import json
import math
import re
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks._lib.run import log
from benchmarks.autolabel.datasets import Data

TARGET = 0.95


def fmt_accuracy(x: float | None, digits: int = 3) -> str:
    """An accuracy or bound with ``digits`` decimals; an em dash when there is none."""
    return "—" if x is None else f"{x:.{digits}f}"


def fmt_share(x: float | None) -> str:
    """A share as a percentage with one decimal; an em dash when there is none."""
    return "—" if x is None else f"{100 * x:.1f}%"


# --------------------------------------------------------------------------- measures


def oracle_coverage(confidence: np.ndarray, correct: np.ndarray) -> float:
    """Largest confidence-ordered share of these items whose accuracy is >= TARGET (a perfect threshold)."""
    if not len(confidence):
        return 0.0
    order = np.argsort(-confidence, kind="stable")
    acc = np.cumsum(correct[order]) / np.arange(1, len(order) + 1)
    ok = np.flatnonzero(acc >= TARGET)
    return float((ok[-1] + 1) / len(order)) if ok.size else 0.0


def _next_batch(answers: int, budgets: Sequence[int], first: int, growth: float) -> int:
    size = first if answers < 200 else max(first, round(growth * answers))
    upcoming = [b for b in budgets if b > answers]
    return min(size, upcoming[0] - answers) if upcoming else 0


def run_nblabel(
    data: Data,
    budgets: Sequence[int],
    seed: int,
    *,
    loop_kwargs: dict[str, Any] | None = None,
    estimator: Callable[[], Any] | None = None,
    first: int = 10,
    growth: float = 0.05,
    progress: bool = False,
    incremental: bool = True,
) -> list[dict[str, Any]]:
    """nblabel's loop with a simulated person; one record per round. ``incremental`` keeps a
    ``WarmStart`` between rounds, as the background worker does."""
    from nblabel.autolabel.loop import WarmStart, compute_round, default_estimator

    make = estimator or (lambda: default_estimator(data.media))
    y, k = data.y, len(data.classes)
    human: dict[int, int] = {}  # in answer order, as the worker hands them to the loop
    drawn: set[int] = set()  # answers to the queue's random draws (the worker reads meta["asked"])
    is_open = np.ones(data.n, dtype=bool)
    records = []
    warm = WarmStart() if incremental else None
    r = 0
    while True:
        rd = compute_round(
            data.X,
            k,
            human,
            np.flatnonzero(is_open),
            estimator=make(),
            seed=seed,  # the worker passes its one seed to every round
            round_number=r,
            warm=warm,
            random_draws=frozenset(drawn),
            **(loop_kwargs or {}),
        )
        rep = rd.report
        remaining = data.n - len(human)
        rec: dict[str, Any] = {
            "round": r,
            "answers": len(human),
            "remaining": remaining,
            "auto": len(rd.auto),
            "coverage": len(rd.auto) / remaining if remaining else 0.0,
            "auto_acc": None,
            "lower_bound": rep.lower_bound if math.isfinite(rep.threshold) else None,
            # The bound at the most promising cut even when it fell short of the target: how far
            # the evidence was from auto-labeling.
            "best_bound": rep.lower_bound if rep.held_out_random else None,
            "threshold": rep.threshold if math.isfinite(rep.threshold) else None,
            "held_out_above": rep.held_out_above,
            "random_answers": len(drawn),
            "seconds": rep.seconds,
        }
        if rd.auto:
            pos = np.fromiter((a[0] for a in rd.auto), int, len(rd.auto))
            val = np.fromiter((a[1] for a in rd.auto), int, len(rd.auto))
            rec["auto_acc"] = float(np.mean(y[pos] == val))
        if rd.proposals:
            pos = np.fromiter(rd.proposals, int, len(rd.proposals))
            val = np.fromiter((v[0] for v in rd.proposals.values()), int, len(pos))
            conf = np.fromiter((v[1] for v in rd.proposals.values()), float, len(pos))
            rec["model_acc"] = float(np.mean(y[pos] == val))
            rec["oracle_coverage"] = oracle_coverage(conf, y[pos] == val) * len(pos) / max(remaining, 1)
        records.append(rec)
        if progress and len(human) in budgets:
            log(
                f"{data.key} seed {seed}: {len(human):,} answers, round {r} took {rep.seconds:.1f} s, "
                f"coverage {fmt_share(rec['coverage'])}, accuracy {fmt_accuracy(rec['auto_acc'])}"
            )
        batch = _next_batch(len(human), budgets, first, growth)
        take = rd.queue[:batch]
        if not take:  # budget spent, or nothing left for people
            return records
        for p in take:
            human[p] = int(y[p])
            is_open[p] = False
            if p in rd.random_draws:
                drawn.add(p)
        r += 1


def _fit_proba(make: Callable[[], Any], X: Any, y: np.ndarray, train: np.ndarray, test: np.ndarray, k: int):
    import warnings

    out = np.zeros((len(test), k))
    present = np.unique(y[train])
    if present.size < 2:
        out[:, present[0]] = 1.0
        return out
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = make().fit(X[train], y[train])
    out[:, np.asarray(model.classes_, dtype=int)] = model.predict_proba(X[test])
    return out


def run_gt_style(
    data: Data, points: Sequence[int], seed: int, *, estimator: Callable[[], Any] | None = None
) -> list[dict[str, Any]]:
    """Ground Truth's rule: random order, 20% random validation, point-estimate threshold."""
    from nblabel.autolabel.calibrate import choose_threshold
    from nblabel.autolabel.loop import default_estimator

    make = estimator or (lambda: default_estimator(data.media))
    y, k = data.y, len(data.classes)
    rng = np.random.default_rng([seed, 7])
    order = rng.permutation(data.n)
    records = []
    for b in points:
        start = time.perf_counter()
        answered = order[:b]
        val = answered[np.arange(b) % 5 == 4]  # the order is random: every fifth answer is a random 20%
        train = answered[np.arange(b) % 5 != 4]
        pool = order[b:]
        proba = _fit_proba(make, data.X, y, train, np.concatenate([val, pool]), k)
        pred, conf = proba.argmax(1), proba.max(1)
        cut = choose_threshold(conf[: len(val)], pred[: len(val)] == y[val], TARGET, z=0.0)
        auto = conf[len(val) :] >= cut.threshold
        right = pred[len(val) :] == y[pool]
        records.append(
            {
                "answers": int(b),
                "remaining": len(pool),
                "auto": int(auto.sum()),
                "coverage": float(auto.mean()),
                "auto_acc": float(right[auto].mean()) if auto.any() else None,
                "val_acc_above": cut.accuracy if math.isfinite(cut.threshold) else None,
                "model_acc": float(right.mean()),
                "seconds": time.perf_counter() - start,
            }
        )
    return records


def run_uncertainty(
    data: Data,
    budgets: Sequence[int],
    seed: int,
    *,
    estimator: Callable[[], Any] | None = None,
    first: int = 10,
    growth: float = 0.05,
) -> list[dict[str, Any]]:
    """superintendent-style: margin order, no auto-labels; the model's accuracy on what is left."""
    from nblabel.autolabel.loop import default_estimator

    make = estimator or (lambda: default_estimator(data.media))
    y, k = data.y, len(data.classes)
    rng = np.random.default_rng([seed, 11])
    answered: list[int] = []
    is_open = np.ones(data.n, dtype=bool)
    records = []
    queue = list(rng.permutation(data.n))  # nothing to rank before the first answers
    while True:
        start = time.perf_counter()
        open_arr = np.flatnonzero(is_open)
        if len(answered) >= 2 and len(np.unique(y[answered])) >= 2:
            proba = _fit_proba(make, data.X, y, np.asarray(answered), open_arr, k)
            top2 = np.sort(proba, axis=1)[:, -2:]
            queue = list(open_arr[np.argsort(top2[:, 1] - top2[:, 0], kind="stable")])
            right = proba.argmax(1) == y[open_arr]
            rec = {"answers": len(answered), "model_acc": float(right.mean())}
            rec["oracle_coverage"] = oracle_coverage(proba.max(1), right)
        else:
            rec = {"answers": len(answered), "model_acc": None, "oracle_coverage": 0.0}
            queue = [p for p in queue if is_open[p]]
        rec.update(coverage=0.0, seconds=time.perf_counter() - start)
        records.append(rec)
        batch = _next_batch(len(answered), budgets, first, growth)
        take = [int(p) for p in queue[:batch]]
        if not take:
            return records
        answered += take
        is_open[take] = False


def gt_points(budgets: Sequence[int], n: int) -> list[int]:
    top = max(budgets)
    grid = {round(top * f) for f in (0.125, 0.25, 0.375, 0.5, 0.625, 0.75, 0.875, 1.0)}
    return sorted(b for b in grid | set(budgets) if 10 <= b < n)


# --------------------------------------------------------------------------- running


# The datasets run_seed works on, by key: filled before the seeds run, inherited by forked workers.
# The datasets run_seed works on, by key: filled before the seeds run, inherited by forked workers.
DATA: dict[str, Data] = {}


def limit_threads(threads: int) -> Any:
    """A context that limits BLAS / OpenMP threads to ``threads``."""
    from threadpoolctl import threadpool_limits

    return threadpool_limits(threads)


def run_seed(
    key: str,
    budgets: list[int],
    seed: int,
    threads: int,
    incremental: bool = True,
    growth: float = 0.05,
    baselines: bool = True,
) -> dict[str, Any]:
    """nblabel's loop on one seed, then (unless ``baselines`` is false) the two baselines; a
    skipped baseline has no records and no time. ``wall`` and ``cpu`` hold each method's seconds
    of wall time and of this process's CPU time."""
    data = DATA[key]
    methods: dict[str, Callable[[], list[dict[str, Any]]]] = {
        "nblabel": lambda: run_nblabel(
            data, budgets, seed, progress=True, incremental=incremental, growth=growth
        ),
        "gt_style": lambda: run_gt_style(data, gt_points(budgets, data.n), seed),
        "uncertainty": lambda: run_uncertainty(data, budgets, seed, growth=growth),
    }
    out: dict[str, Any] = {"dataset": key, "seed": seed, "budgets": list(budgets), "wall": {}, "cpu": {}}
    with limit_threads(threads):
        for name, method in methods.items():
            out[name], out["wall"][name], out["cpu"][name] = [], 0.0, 0.0
            if baselines or name == "nblabel":
                # CPU seconds beside wall seconds: a run paused (SIGSTOP) or starved by other
                # processes on a shared machine shows it in the wall time only.
                start, cpu = time.perf_counter(), time.process_time()
                out[name] = method()
                out["wall"][name] = time.perf_counter() - start
                out["cpu"][name] = time.process_time() - cpu
    return out


def load_runs(paths: Sequence[Path], key: str, budgets: list[int]) -> list[dict[str, Any]]:
    """Finished runs of ``key`` with the same budgets, from --json outputs or their .runs.jsonl files."""
    out = []
    for path in paths:
        text = path.read_text()
        if path.suffix == ".jsonl":
            runs = [json.loads(line) for line in text.splitlines() if line.strip()]
        else:
            ds = json.loads(text).get("datasets", {}).get(key, {})
            runs = [{"budgets": ds.get("budgets"), **r} for r in ds.get("runs", [])]
        out += [r for r in runs if r.get("dataset") == key and r.get("budgets") == budgets]
    return out


def at_budget(records: list[dict[str, Any]], b: int) -> dict[str, Any]:
    """The record of the last round run with at most ``b`` answers."""
    best = None
    for rec in records:
        if rec["answers"] <= b and (best is None or rec["answers"] >= best["answers"]):
            best = rec
    assert best is not None
    return best


def parse_budgets(spec: list[str], n: int) -> list[int]:
    out = []
    for s in spec:
        s = s.strip()
        out.append(round(float(s[:-1]) / 100 * n) if s.endswith("%") else int(s))
    return sorted(set(out))


def parse_seeds(spec: str) -> list[int]:
    if re.fullmatch(r"\d+", spec):  # a count; single seeds are "0-0" or "3,"
        return list(range(int(spec)))
    if m := re.fullmatch(r"(\d+)-(\d+)", spec):
        return list(range(int(m[1]), int(m[2]) + 1))
    return [int(s) for s in spec.split(",") if s.strip()]
