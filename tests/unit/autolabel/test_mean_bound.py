"""The betting lower bound on a mean of values in [0, 1]: coverage on simulated data, the
threshold it picks, and how many more images it asks for."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from nblabel.autolabel.mean_bound import (
    choose_miou_threshold,
    images_needed,
    mean_lower_bound,
)


def skewed(rng: np.random.Generator, n: int) -> np.ndarray:
    """Held-out mIoU-like values: mostly near 0.8, one in ten a miss at 0. Mean 0.72."""
    return np.where(rng.random(n) < 0.1, 0.0, rng.beta(16, 4, n))


@pytest.mark.parametrize("n", [10, 30, 80])
def test_the_bound_covers_the_true_mean_at_least_95_percent_where_student_t_does_not(n: int) -> None:
    rng = np.random.default_rng(n)
    truth, runs = 0.72, 400
    ours = t_misses = 0
    for _ in range(runs):
        x = skewed(rng, n)
        ours += mean_lower_bound(x) > truth
        t_misses += x.mean() - stats.t.ppf(0.95, n - 1) * x.std(ddof=1) / math.sqrt(n) > truth
    # 95% coverage: at most 5% misses, plus three binomial standard errors of simulation noise.
    slack = 3 * math.sqrt(0.05 * 0.95 / runs)
    assert ours / runs <= 0.05 + slack
    if n <= 30:  # why not the t bound: on this skewed mixture it misses far more often
        assert t_misses / runs > 0.05 + slack


@pytest.mark.parametrize("dist", ["uniform", "two points", "beta"])
def test_coverage_holds_for_other_shapes_too(dist: str) -> None:
    rng = np.random.default_rng(7)
    draw = {
        "uniform": (lambda n: rng.random(n), 0.5),
        "two points": (lambda n: (rng.random(n) < 0.7).astype(float), 0.7),
        "beta": (lambda n: rng.beta(2, 5, n), 2 / 7),
    }[dist]
    misses = sum(mean_lower_bound(draw[0](25)) > draw[1] for _ in range(300))
    assert misses / 300 <= 0.05 + 3 * math.sqrt(0.05 * 0.95 / 300)


def test_the_bound_tightens_with_more_values_and_stays_below_the_mean() -> None:
    rng = np.random.default_rng(0)
    x = rng.beta(16, 4, 400)
    bounds = [mean_lower_bound(x[:n]) for n in (10, 50, 400)]
    assert bounds == sorted(bounds)
    assert bounds[-1] < x.mean() and x.mean() - bounds[-1] < 0.04
    assert mean_lower_bound(np.array([])) == 0.0


def test_the_threshold_is_the_lowest_cut_whose_bound_reaches_the_target() -> None:
    rng = np.random.default_rng(1)
    confidence = rng.random(200)
    # Confident images are good (0.9), unsure ones poor (0.2): all together average 0.55.
    miou = np.where(confidence > 0.5, 0.9, 0.2)
    choice = choose_miou_threshold(confidence, miou, target=0.6, seed=0)
    above = confidence >= choice.threshold
    assert 0 < choice.threshold < 0.5 and choice.lower_bound >= 0.6
    assert choice.n_above == above.sum() and choice.miou == pytest.approx(miou[above].mean())
    # The next lower cut, bet on in the same order, no longer reaches the target.
    order = np.random.default_rng(0).permutation(200)
    lower = confidence[confidence < choice.threshold].max()
    assert mean_lower_bound(miou[order[confidence[order] >= lower]]) < 0.6


def test_no_threshold_below_ten_held_out_images_or_with_a_poor_detector() -> None:
    assert math.isinf(choose_miou_threshold(np.ones(9), np.ones(9)).threshold)
    poor = choose_miou_threshold(np.linspace(0, 1, 100), np.full(100, 0.4))
    assert math.isinf(poor.threshold) and poor.lower_bound < 0.6
    assert images_needed(np.full(50, 0.4)) is None


def test_images_needed_is_enough_and_not_far_more() -> None:
    values = np.random.default_rng(3).beta(8, 3, 20)  # mean ~0.73
    needed = images_needed(values, target=0.6)
    assert needed is not None and needed > 20
    assert mean_lower_bound(np.resize(values, needed)) >= 0.6
    assert mean_lower_bound(np.resize(values, needed - 1)) < 0.6
