"""Threshold calibration: the Wilson bound, the cut, the answers still needed, and the bound
holding on simulated held-out data whose accuracy is known."""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable

import numpy as np
import pytest
from scipy.stats import norm
from statsmodels.stats.proportion import proportion_confint

from nblabel.autolabel.calibrate import Threshold, answers_needed, choose_threshold, wilson_lower

# -- wilson_lower -----------------------------------------------------------------------------


def test_wilson_lower_known_values() -> None:
    # With no errors the bound is n / (n + z^2): 73 answers reach 95%, 72 do not.
    assert wilson_lower(73, 73) >= 0.95 > wilson_lower(72, 72)
    assert wilson_lower(73, 73) == pytest.approx(73 / (73 + 1.96**2))
    # The textbook Wilson 95% interval of 8/10 is (0.490, 0.943).
    assert wilson_lower(8, 10) == pytest.approx(0.4902, abs=1e-4)
    assert wilson_lower(0, 10) == pytest.approx(0.0, abs=1e-12)
    assert wilson_lower(0, 0) == 0.0
    assert isinstance(wilson_lower(5, 7), float)


@pytest.mark.parametrize("z", [1.0, 1.645, 1.96, 2.58])
def test_wilson_lower_equals_statsmodels(z: float) -> None:
    n = np.repeat(np.arange(1, 301), 7)
    correct = np.round(n * np.tile(np.linspace(0, 1, 7), 300))
    low, _ = proportion_confint(correct, n, alpha=2 * norm.sf(z), method="wilson")
    np.testing.assert_allclose(wilson_lower(correct, n, z), low, rtol=1e-12, atol=1e-12)


def test_wilson_lower_vectorised_and_ordered() -> None:
    n = np.arange(0, 500)
    bounds = wilson_lower(np.round(0.9 * n), n)
    assert isinstance(bounds, np.ndarray) and bounds.shape == n.shape
    assert bounds[0] == 0.0
    assert np.all(bounds[1:] < 0.9 + 1e-9)  # a lower bound stays below the observed rate...
    assert bounds[-1] > 0.87  # ...and approaches it with many answers
    assert wilson_lower(90, 100, z=2.58) < wilson_lower(90, 100, z=1.96) < wilson_lower(90, 100, z=1.0)


# -- choose_threshold -------------------------------------------------------------------------


def test_no_evidence_no_threshold() -> None:
    empty = choose_threshold(np.array([]), np.array([], dtype=bool))
    assert empty == Threshold(math.inf, 0, empty.accuracy, 0.0, 0) and math.isnan(empty.accuracy)
    few = choose_threshold(np.linspace(0.9, 1.0, 72), np.ones(72, dtype=bool))
    assert few.threshold == math.inf
    assert few.n_above == 72 and few.accuracy == 1.0 and few.n_held_out == 72
    assert few.lower_bound == pytest.approx(wilson_lower(72, 72))


def test_just_enough_evidence() -> None:
    confidence = np.linspace(0.9, 1.0, 73)
    cut = choose_threshold(confidence, np.ones(73, dtype=bool))
    assert cut.threshold == pytest.approx(0.9)
    assert (cut.n_above, cut.accuracy, cut.n_held_out) == (73, 1.0, 73)
    assert cut.lower_bound >= 0.95


def _brute_force(confidence: np.ndarray, correct: np.ndarray, target: float, z: float) -> float:
    passing = [
        t
        for t in np.unique(confidence)
        if wilson_lower(correct[confidence >= t].sum(), (confidence >= t).sum(), z) >= target
    ]
    return min(passing) if passing else math.inf


@pytest.mark.parametrize("seed", range(12))
def test_lowest_passing_cut_matches_brute_force(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(50, 600))
    confidence = np.round(rng.uniform(0.3, 1.0, n), 2)  # rounded: many ties
    correct = rng.random(n) < confidence**0.3
    target = float(rng.choice([0.8, 0.9, 0.95]))
    cut = choose_threshold(confidence, correct, target)
    assert cut.threshold == _brute_force(confidence, correct, target, 1.96)
    if math.isfinite(cut.threshold):
        above = confidence >= cut.threshold
        assert cut.n_above == above.sum()
        assert cut.accuracy == pytest.approx(correct[above].mean())
        assert cut.lower_bound >= target


def test_lowest_cut_even_when_a_higher_cut_fails() -> None:
    # 100 right at 0.99, 2 wrong at 0.98 (that cut fails), 400 right at 0.97 (passes again).
    confidence = np.r_[np.full(100, 0.99), np.full(2, 0.98), np.full(400, 0.97)]
    correct = np.r_[np.ones(100), np.zeros(2), np.ones(400)].astype(bool)
    assert wilson_lower(100, 102) < 0.95
    cut = choose_threshold(confidence, correct)
    assert (cut.threshold, cut.n_above) == (0.97, 502)


def test_ties_are_not_split() -> None:
    # 76 right then 4 wrong, all at 0.9: the first 73 alone would pass, but a cut cannot fall
    # between equal confidences, and 76/80 does not.
    confidence = np.full(80, 0.9)
    correct = np.r_[np.ones(76), np.zeros(4)].astype(bool)
    cut = choose_threshold(confidence, correct)
    assert cut.threshold == math.inf and cut.n_above == 80 and cut.accuracy == 0.95
    # With a clean group above, the threshold stops at that group.
    confidence = np.r_[np.full(80, 0.95), confidence]
    correct = np.r_[np.ones(80, dtype=bool), correct]
    cut = choose_threshold(confidence, correct)
    assert (cut.threshold, cut.n_above, cut.accuracy) == (0.95, 80, 1.0)


def test_stricter_bound_needs_more() -> None:
    confidence = np.linspace(0.5, 1.0, 200)
    correct = np.ones(200, dtype=bool)
    correct[::25] = False
    loose = choose_threshold(confidence, correct, 0.9, z=1.0)
    strict = choose_threshold(confidence, correct, 0.9, z=2.58)
    assert loose.threshold <= strict.threshold


# -- answers_needed ---------------------------------------------------------------------------


@pytest.mark.parametrize("accuracy", [0.95, 0.9, 0.5, 0.0])
def test_answers_needed_none_when_accuracy_cannot_reach_target(accuracy: float) -> None:
    assert answers_needed(accuracy, 0.95) is None


def test_answers_needed_values_and_monotonic() -> None:
    assert answers_needed(1.0) == 73
    grid = np.linspace(0.955, 1.0, 46)
    needed = [answers_needed(float(a)) for a in grid]
    assert all(isinstance(n, int) for n in needed)
    assert all(a >= b for a, b in itertools.pairwise(needed))  # better model, fewer
    for accuracy, n in zip(grid, needed, strict=True):  # the smallest count that reaches the target
        assert wilson_lower(accuracy * n, n) >= 0.95 > wilson_lower(accuracy * (n - 1), n - 1)
    assert answers_needed(0.99, 0.95, z=2.58) > answers_needed(0.99, 0.95, z=1.96)
    assert answers_needed(0.9500001, 0.95, limit=1000) is None  # beyond the limit


# -- the bound holds on simulated data ----------------------------------------------------------

Draw = Callable[[np.random.Generator, int], np.ndarray]
Accuracy = Callable[[np.ndarray], np.ndarray]


def _uniform(rng: np.random.Generator, n: int) -> np.ndarray:
    return rng.uniform(0.5, 1.0, n)


def _mostly_easy(rng: np.random.Generator, n: int) -> np.ndarray:
    return 1 - 0.5 * rng.beta(1, 6, n)


def _calibrated(c: np.ndarray) -> np.ndarray:
    return c


def _overconfident(c: np.ndarray) -> np.ndarray:
    return 0.5 + 0.5 * ((c - 0.5) / 0.5) ** 2


def _two_regimes(c: np.ndarray) -> np.ndarray:
    return np.where(c > 0.8, 0.97, 0.6)


def _simulate(draw: Draw, accuracy: Accuracy, n: int, reps: int, naive: bool = False) -> tuple[int, int]:
    """Pick a threshold on ``n`` held-out answers whose P(correct | confidence) is known, then
    measure the true accuracy above it on a large fresh sample. Returns (repetitions that
    auto-labeled, of which below target)."""
    target = 0.95
    fresh = np.sort(draw(np.random.default_rng(10**6), 200_000))
    right_above = np.cumsum(accuracy(fresh)[::-1])[::-1]  # expected right answers above each cut
    labeled = failed = 0
    for seed in range(reps):
        rng = np.random.default_rng(seed)
        confidence = draw(rng, n)
        correct = rng.random(n) < accuracy(confidence)
        if naive:  # Ground Truth's way: the lowest cut whose observed accuracy reaches the target
            order = np.argsort(-confidence)
            observed = np.cumsum(correct[order]) / np.arange(1, n + 1)
            good = np.flatnonzero(observed >= target)
            threshold = confidence[order][good[-1]] if good.size else math.inf
        else:
            threshold = choose_threshold(confidence, correct, target).threshold
        if not math.isfinite(threshold):
            continue
        i = np.searchsorted(fresh, threshold)
        true_accuracy = right_above[i] / (len(fresh) - i)
        labeled += 1
        failed += true_accuracy < target
    return labeled, failed


@pytest.mark.parametrize(
    ("draw", "accuracy", "n"),
    [
        (_mostly_easy, _calibrated, 500),
        (_mostly_easy, _overconfident, 500),
        (_uniform, _calibrated, 2000),
        (_uniform, _two_regimes, 2000),
    ],
    ids=["easy-calibrated", "easy-overconfident", "uniform-calibrated", "two-regimes"],
)
def test_bound_holds_on_simulated_held_out_data(draw: Draw, accuracy: Accuracy, n: int) -> None:
    reps = 250
    labeled, failed = _simulate(draw, accuracy, n, reps)
    assert labeled >= reps // 2  # the evidence usually supports some auto-labels here
    assert (labeled - failed) / labeled >= 0.95
    # A point estimate instead of the bound falls for the winner's curse about half the time.
    labeled, failed = _simulate(draw, accuracy, n, reps, naive=True)
    assert failed / labeled > 0.3


@pytest.mark.parametrize(
    ("draw", "accuracy", "n"),
    [(_uniform, _overconfident, 2000), (_uniform, _calibrated, 500)],
    ids=["scarce-overconfident", "scarce-calibrated"],
)
def test_bound_rarely_wrong_when_evidence_is_scarce(draw: Draw, accuracy: Accuracy, n: int) -> None:
    # When few answers land above any passing cut, auto-labeling is rare, and a lower confidence
    # bound controls how often it is wrong over all repetitions (not among the rare successes).
    reps = 250
    labeled, failed = _simulate(draw, accuracy, n, reps)
    assert labeled < reps // 2
    assert failed / reps <= 0.05
