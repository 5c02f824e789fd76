"""Which image features let the auto-labeler's model cover more of Fashion-MNIST at 95% accuracy?

A cheap first answer before the loop (``python -m benchmarks.autolabel.features_probe``): on the
fixed random 10,000 images of ``fashion10k``, the loop's image estimator
(``default_estimator("image")``) is fitted on a random 700 and 1,400 of them (a few draws each) with
each featurizer of :data:`~benchmarks.autolabel.datasets.FASHION_FEATURES` and their
concatenation, and scored on the rest: accuracy, and the share of the rest a perfect threshold on
the top probability auto-labels at >= 0.95 against gold (what the loop's bound can at best certify).
``--dataset bbc`` asks the same of BBC news's texts (all 2,225; TF-IDF, MiniLM embeddings and the
two side by side, the MiniLM columns scaled by ``--scale``; the text estimator and ``--text-c``),
with random answer sets of 100 and 200 by default: is the model what keeps the loop from
auto-labeling at those budgets? Prints a markdown table; writes nothing.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks._lib.run import log
from benchmarks.autolabel.datasets import fashion10k_rows, fashion_matrix, fashion_pngs
from benchmarks.autolabel.simulate import limit_threads, oracle_coverage


def score(X: Any, y: np.ndarray, n_train: int, seed: int, estimator: Any = None) -> tuple[float, float]:
    """Accuracy on the rest and coverage at 95% of ``estimator`` (default: the image estimator)
    fitted on a random ``n_train`` of the rows."""
    from sklearn.base import clone

    from nblabel.autolabel.loop import default_estimator

    order = np.random.default_rng(seed).permutation(len(y))
    train, rest = order[:n_train], order[n_train:]
    model = clone(default_estimator("image") if estimator is None else estimator)
    proba = model.fit(X[train], y[train]).predict_proba(X[rest])
    right = model.classes_[proba.argmax(1)] == y[rest]
    return float(right.mean()), oracle_coverage(proba.max(1), right)


def _row(name: str, columns: int, ms: str, n: int, acc: np.ndarray, cov: np.ndarray) -> str:
    return (
        f"| {name} | {columns:,} | {ms} | {n:,} | {acc.mean():.3f} ({acc.min():.3f}–{acc.max():.3f}) "
        f"| {100 * cov.mean():.1f}% ({100 * cov.min():.1f}–{100 * cov.max():.1f}%) |"
    )


def _bbc(args: argparse.Namespace) -> None:
    from scipy import sparse
    from sklearn.linear_model import LogisticRegression

    from benchmarks.autolabel.datasets import load_bbc

    tfidf, minilm = load_bbc(args.cache, "tfidf"), load_bbc(args.cache, "minilm")
    combos = {"tfidf": tfidf.X, "minilm": minilm.X}
    for scale in (float(a) for a in args.scale.split(",")):
        combos[f"tfidf+minilm x{scale:g}"] = sparse.hstack(
            [tfidf.X, sparse.csr_matrix(scale * minilm.X)], format="csr"
        )
    for name, X in combos.items():
        for c in (float(v) for v in args.text_c.split(",")):
            estimator = LogisticRegression(C=c, max_iter=3000)
            for n in (int(a) for a in (args.answers or "100,200").split(",")):
                with limit_threads(1):
                    acc, cov = np.array(
                        [score(X, tfidf.y, n, seed, estimator) for seed in range(args.draws)]
                    ).T
                log(f"{name} C={c:g} at {n}: accuracy {acc.mean():.3f}, coverage {cov.mean():.3f}")
                print(_row(f"{name}, C={c:g}", X.shape[1], "–", n, acc, cov), flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.autolabel.features_probe", description=__doc__)
    p.add_argument("--dataset", choices=("fashion", "bbc"), default="fashion")
    p.add_argument("--features", default="hist,efficientnet128,efficientnet,hist+efficientnet128")
    p.add_argument("--answers", help="training sizes (default 700,1400; bbc: 100,200)")
    p.add_argument("--draws", type=int, default=5, help="random training draws per size (default 5)")
    p.add_argument("--scale", default="1,2", help="bbc: the MiniLM columns' weights beside TF-IDF")
    p.add_argument(
        "--text-c", default="1,20", help="bbc: the logistic regression's C values (the loop's: 20)"
    )
    p.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "nblabel-bench")
    args = p.parse_args(argv)
    print(
        "| features | columns | ms per item | answers | accuracy on the rest, mean (min–max) | coverage at 0.95, mean (min–max) |"
    )
    print("|---|---|---|---|---|---|")
    if args.dataset == "bbc":
        _bbc(args)
        return 0
    paths, y = fashion_pngs(args.cache)
    rows = fashion10k_rows()
    y = y[rows]
    for combo in args.features.split(","):
        X, _, ms = fashion_matrix(paths, combo, args.cache / "fashion-mnist", rows)
        for n in (int(a) for a in (args.answers or "700,1400").split(",")):
            with limit_threads(1):
                acc, cov = np.array([score(X, y, n, seed) for seed in range(args.draws)]).T
            log(f"{combo} at {n}: accuracy {acc.mean():.3f}, coverage {cov.mean():.3f}")
            print(_row(combo, X.shape[1], f"{ms:.1f}", n, acc, cov), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
