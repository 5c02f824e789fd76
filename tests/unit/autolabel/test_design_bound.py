"""The design-based accuracy bound: unbiased and honest under a queue that mixes random draws with
uncertainty picks, checked by simulation against known truth."""

from __future__ import annotations

import math

import numpy as np
import pytest

from nblabel.autolabel.design_bound import (
    betting_log_wealth,
    choose_design_threshold,
    design_values,
    lower_bound,
)
from nblabel.autolabel.mean_bound import mean_lower_bound

RUNS = 400
SLACK = 3 * math.sqrt(0.05 * 0.95 / RUNS)  # three binomial standard errors of simulation noise


def population(rng: np.random.Generator, n: int = 2000) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Confidences (in steps of 0.01, as ties come), whether each prediction is right (the less
    confident, the more often wrong) and the margin an earlier model ranked by: lower for the
    wrong predictions, so uncertainty picks are harder than their confidence says."""
    confidence = np.round(rng.uniform(0.3, 1.0, n), 2)
    correct = rng.random(n) < np.clip(0.45 + 0.6 * (confidence - 0.3) / 0.7, 0.0, 0.995)
    margin = confidence - 0.5 * ~correct + rng.normal(0, 0.3, n)
    return confidence, correct, margin


def adaptive_queue(
    rng: np.random.Generator, margin: np.ndarray, answers: int, random_share: float
) -> tuple[np.ndarray, np.ndarray]:
    """The answered items in answer order and which were random draws: each pick is a uniform draw
    from the open items with probability ``random_share``, else the open item of least margin."""
    n = len(margin)
    taken = np.zeros(n, dtype=bool)
    ranked, drawn = iter(np.argsort(margin)), iter(rng.permutation(n))
    order, random = [], rng.random(answers) < random_share
    for is_random in random:
        pick = next(p for p in (drawn if is_random else ranked) if not taken[p])
        taken[pick] = True
        order.append(pick)
    return np.asarray(order), random


def one_run(rng: np.random.Generator, cut: float, answers: int = 300, random_share: float = 0.4):
    confidence, correct, margin = population(rng)
    order, random = adaptive_queue(rng, margin, answers, random_share)
    open_ = np.setdiff1d(np.arange(len(confidence)), order)
    truth = correct[confidence >= cut].mean()
    z = design_values(confidence[order] >= cut, correct[order], random, int((confidence[open_] >= cut).sum()))
    naive = correct[order][confidence[order] >= cut].mean()  # every held-out answer above the cut
    return truth, z, naive, (confidence, correct, order, random, open_)


def test_the_estimate_is_unbiased_where_all_held_out_answers_are_not_and_the_bound_covers() -> None:
    rng = np.random.default_rng(22)
    truths, estimates, naives, misses = [], [], [], 0
    for _ in range(RUNS):
        truth, z, naive, _ = one_run(rng, cut=0.75)
        truths.append(truth)
        estimates.append(z.mean())
        naives.append(naive)
        misses += lower_bound(z) > truth
    error = np.asarray(estimates) - np.asarray(truths)
    # Unbiased: the mean error is within three standard errors of zero.
    assert abs(error.mean()) < 3 * error.std() / math.sqrt(RUNS)
    # Uncertainty picks are harder than average: all held-out answers above the cut underestimate.
    naive_error = np.asarray(naives) - np.asarray(truths)
    assert naive_error.mean() < -5 * naive_error.std() / math.sqrt(RUNS)
    # The 95% lower bound is below the true accuracy in at least 95% of the runs.
    assert misses / RUNS <= 0.05


def test_the_chosen_threshold_keeps_its_promise_in_at_least_95_percent_of_runs() -> None:
    rng = np.random.default_rng(7)
    chosen = dishonest = 0
    target = 0.9
    for _ in range(RUNS // 2):
        confidence, correct, margin = population(rng, 1500)
        order, random = adaptive_queue(rng, margin, 400, 0.5)
        open_ = np.setdiff1d(np.arange(len(confidence)), order)
        cut = choose_design_threshold(confidence[order], correct[order], random, confidence[open_], target)
        if math.isfinite(cut.threshold):
            chosen += 1
            truth = correct[confidence >= cut.threshold].mean()
            dishonest += truth < target
            assert cut.lower_bound >= target and cut.n_random == random.sum()
    assert chosen > RUNS // 8  # the test says something: many runs auto-label
    assert dishonest / chosen <= 0.05


def test_design_values_by_hand() -> None:
    # Five answered items, the cut keeps four of them; three open items above it: |A| = 7.
    above = np.array([True, True, False, True, True])
    correct = np.array([True, False, True, True, True])
    random = np.array([True, False, True, True, False])
    z = design_values(above, correct, random, open_above=3)
    # Draw 1: nothing answered before, 7 items it stands for, right: 7/7.
    # Draw 4 (the third row is below the cut): 2 answered before in A, 1 of them right, 5 left: (1 + 5)/7.
    assert z == pytest.approx([1.0, 6 / 7])
    assert design_values(above, correct, np.zeros(5, bool), 3).size == 0
    assert design_values(np.zeros(2, bool), np.ones(2, bool), np.ones(2, bool), 0).size == 0


@pytest.mark.parametrize("p", [0.9, 0.97, 1.0])
def test_the_bound_covers_bernoulli_means_at_every_length(p: float) -> None:
    rng = np.random.default_rng(int(p * 100))
    x = (rng.random((RUNS, 150)) < p).astype(float)
    for n in (20, 150):
        misses = sum(lower_bound(row[:n]) > p for row in x)
        assert misses / RUNS <= 0.05 + SLACK


def test_all_right_draws_reach_95_percent_sooner_than_the_plain_betting_bound() -> None:
    ones = np.ones(200)
    ours = next(n for n in range(10, 200) if lower_bound(ones[:n]) >= 0.95)
    plain = next(n for n in range(10, 200) if mean_lower_bound(ones[:n]) >= 0.95)
    assert ours < 100 < plain
    # The wealth is monotone in the candidate mean: the bound is where it crosses 1/alpha.
    wealth = betting_log_wealth(ones[:ours], np.array([0.5, 0.9, 0.95, 0.99]))
    assert np.all(np.diff(wealth) < 0) and wealth[2] >= math.log(20)
    assert lower_bound(np.zeros(0)) == 0.0
