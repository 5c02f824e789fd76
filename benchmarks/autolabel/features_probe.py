"""Which image features let the auto-labeler's model cover more of Fashion-MNIST at 95% accuracy?

A cheap first answer before the loop (``python -m benchmarks.autolabel.features_probe``): on the
fixed random 10,000 images of ``fashion10k``, the loop's image estimator
(``default_estimator("image")``) is fitted on a random 700 and 1,400 of them (a few draws each) with
each featurizer of :data:`~benchmarks.autolabel.datasets.FASHION_FEATURES` and their
concatenation, and scored on the rest: accuracy, and the share of the rest a perfect threshold on
the top probability auto-labels at >= 0.95 against gold (what the loop's bound can at best certify).
Prints a markdown table; writes nothing.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from benchmarks._lib.run import log
from benchmarks.autolabel.datasets import fashion10k_rows, fashion_matrix, fashion_pngs
from benchmarks.autolabel.simulate import limit_threads, oracle_coverage


def score(X: np.ndarray, y: np.ndarray, n_train: int, seed: int) -> tuple[float, float]:
    """Accuracy on the rest and coverage at 95% of the image estimator fitted on a random
    ``n_train`` of the rows."""
    from nblabel.autolabel.loop import default_estimator

    order = np.random.default_rng(seed).permutation(len(y))
    train, rest = order[:n_train], order[n_train:]
    proba = default_estimator("image").fit(X[train], y[train]).predict_proba(X[rest])
    right = proba.argmax(1) == y[rest]  # the classes are 0..9 and every draw holds all ten
    return float(right.mean()), oracle_coverage(proba.max(1), right)


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.autolabel.features_probe", description=__doc__)
    p.add_argument("--features", default="hist,efficientnet128,efficientnet,hist+efficientnet128")
    p.add_argument("--answers", default="700,1400", help="training sizes (default 700,1400)")
    p.add_argument("--draws", type=int, default=5, help="random training draws per size (default 5)")
    p.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "nblabel-bench")
    args = p.parse_args(argv)
    paths, y = fashion_pngs(args.cache)
    rows = fashion10k_rows()
    y = y[rows]
    print(
        "| features | columns | ms per image | answers | accuracy on the rest, mean (min–max) | coverage at 0.95, mean (min–max) |"
    )
    print("|---|---|---|---|---|---|")
    for combo in args.features.split(","):
        X, _, ms = fashion_matrix(paths, combo, args.cache / "fashion-mnist", rows)
        for n in (int(a) for a in args.answers.split(",")):
            with limit_threads(1):
                acc, cov = np.array([score(X, y, n, seed) for seed in range(args.draws)]).T
            log(f"{combo} at {n}: accuracy {acc.mean():.3f}, coverage {cov.mean():.3f}")
            print(
                f"| {combo} | {X.shape[1]:,} | {ms:.1f} | {n:,} | {acc.mean():.3f} ({acc.min():.3f}–{acc.max():.3f}) "
                f"| {100 * cov.mean():.1f}% ({100 * cov.min():.1f}–{100 * cov.max():.1f}%) |",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
