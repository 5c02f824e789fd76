"""An unbiased held-out accuracy above a threshold, and an honest lower bound on it, when the
people's queue mixes random draws with uncertainty picks.

Why not every held-out answer
    The queue hands people the items the model is least sure of, interleaved with items drawn
    at random. Answers to uncertainty picks are harder than average, so an accuracy estimated
    from all held-out answers is pessimistic; one estimated from the random draws alone throws
    away what the picks tell (they are items of the population too, known exactly once answered).

The estimator (inverse-probability weighting with the design known)
    Fix a threshold ``t`` and let ``A`` be the items whose confidence reaches it: the answered
    ones by their cross-fitted (held-out) confidence, the open ones by the model trained on every
    answer. The quantity claimed is the accuracy of the predictions over ``A``. Take the random
    draws that landed in ``A``, in the order they were answered. When draw ``j`` was made it was
    uniform over the items still open, so given that it landed in ``A`` it was uniform over
    ``O_j``, the ``|A| - a_j`` items of ``A`` not answered before it (``a_j`` of them were,
    by random draw, uncertainty pick or a person's own choice). Its inclusion probability is
    ``1 / |O_j|``, so::

        Z_j = (c_j + |O_j| * correct_j) / |A|,

    with ``c_j`` the right predictions among the ``a_j`` items answered before, has conditional
    mean exactly the accuracy over ``A`` whatever was picked before (the answered items count as
    themselves, the draw stands for the rest). Every ``Z_j`` lies in [0, 1]. The sequence is a
    bounded martingale-difference sequence around the accuracy: an adaptive design (the picks
    depend on the answers so far) does not bias it, and uncertainty picks no longer drag it down.

The bound (betting, anytime valid)
    For a candidate accuracy ``m`` a gambler starts with wealth 1 and bets ``lambda_j (Z_j - m)``
    on each value, ``lambda_j`` chosen from the values before it. If the accuracy is ``m`` (or
    less) the wealth is a nonnegative (super)martingale, so by Ville's inequality it ever reaches
    ``1/alpha`` with probability at most ``alpha`` (Waudby-Smith & Ramdas, "Estimating means of
    bounded random variables by betting", JRSS-B 2024). The bound is the smallest ``m`` whose
    wealth stays below ``1/alpha``. The gambler here splits the wealth between two bet rules and
    keeps the average (a mixture of martingales is a martingale):

    * the predictable plug-in bets of the paper, ``sqrt(2 ln(1/alpha) / (var_j j ln(1 + j)))``
      capped at ``1/(2m)``: safe when wrong answers show up (a few per hundred);
    * approximate-growth-rate bets ``(mean_j - m) / E_j[(Z - m)^2]`` capped at ``0.8/m``: they
      grow the wealth fast when nothing is wrong, where a binary proportion has most of its
      information (all-correct held-out answers reach 0.95 after 85 draws instead of 115).

    Both rules use only values before each bet (no sample size fixed in advance), so the bound
    stays valid however many draws arrive, and it holds for any distribution on [0, 1], with no
    normal approximation (the Wilson bound is not valid for an adaptive design). It is a
    one-sided 95% bound at ``level=0.95``.

Why anytime valid, and what the bets leave on the table (issue #22, measured on BBC news)
    Every round looks again and people take the auto-labels of whichever round they stop at, so
    a bound valid only at one sample size fixed in advance would be checked until it passes;
    spending alpha over the rounds costs more than it saves (ten rounds by 100 answers). Nor does
    anytime validity cost draws where the first auto-labels come from (every draw above the cut
    right): a fixed-sample exact bound (Clopper-Pearson) needs ``ln(alpha) / ln(m)`` right draws,
    59 for 0.95, and a bettor that goes all in (``lambda = 1/m``) reaches ``1/alpha`` after the
    same 59, anytime. The 85 the rules above need is their hedging against wrong draws. Half the
    wealth all in would need 67 (one wrong: 142 instead of 123), and on BBC at 100 answers it
    auto-labeled 3 of 10 seeds with MiniLM features and TF-IDF seed 0, but that TF-IDF run was
    wrong: 89.4% of the rest auto-labeled at accuracy 0.932, where a perfect threshold would stop
    at 83.2%. The 70 draws above its cut were all right, which at an accuracy of 0.932 happens
    once in 140 (``0.932 ** 70``). Scoring the open items with the cross-fitted models (the
    draws' scale) instead of the model trained on every answer did not help (85.2% at 0.924), so
    it is either that rare event or draws less uniform than the design assumes (every round
    draws along a permutation from the same seed, over the open items); not settled. The hedged
    rules' margin absorbs it (every measured run honest), so they stay.

Uncertainty picks as evidence
    They cannot stand for other items: an uncertainty pick is the open item of least margin, not
    a draw with a known probability. Drawing them at random with probabilities rising with the
    uncertainty would make them usable with inverse-probability weights, but the cuts are about
    the confident items, where such a pick almost never lands: its weight there would be huge
    (``Z`` far outside [0, 1]) and the evidence about the region a cut governs would still be the
    uniform draws. So every answer counts as itself (``c_j``) and only uniform draws stand for
    the open items. No union bound is paid over the candidate cuts (their selection is checked
    by simulation, below), so fewer cuts would not lower the evidence needed either.

What it assumes
    The predictions are treated as fixed (those of the current cross-fit), as every held-out
    estimate does; items a person skipped leave the population; the threshold scan picks the
    lowest cut whose bound reaches the target, like the Wilson rule before it, so the coverage
    of the chosen cut is checked by simulation (``tests/unit/autolabel/test_design_bound.py``),
    not assumed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

__all__ = [
    "MAX_CUTS",
    "DesignThreshold",
    "betting_log_wealth",
    "choose_design_threshold",
    "design_values",
    "lower_bound",
]

MAX_CUTS = 256
"""Candidate thresholds a scan tries at most (quantiles of the random draws' confidences)."""

_GROWTH_CAP = 0.8  # growth-rate bets stay under 0.8/m: one wrong answer keeps a fifth of the wealth
_GRID = np.linspace(0.0, 1.0, 1001)
# Weight of the bets' prior, in values. Any predictable bet keeps the bound valid; a light prior
# lets the growth bets start once the draws' own mean passes the candidate: with a prior worth one
# value at 1/2 the first nine right draws bet nothing against 0.95. Measured on 0/1 values against
# 0.95 (median over 30 placements of the wrong ones): all right 95 -> 85 draws to the bound, one
# wrong 132 -> 123, two 170 -> 161, three 206 -> 200, Bernoulli(0.975) 375 -> 384.
_PRIOR = 0.1


def design_values(above: np.ndarray, correct: np.ndarray, random: np.ndarray, open_above: int) -> np.ndarray:
    """The inverse-probability-weighted values ``Z_j`` of the random draws that landed above a cut.

    Parameters
    ----------
    above, correct, random
        One entry per answered item, in the order the answers were given: whether its held-out
        confidence reaches the cut, whether its held-out prediction was right, whether it was a
        random draw (uniform over the open items when drawn).
    open_above
        Open items whose confidence (from the model trained on every answer) reaches the cut.

    Returns
    -------
    numpy.ndarray
        One value in [0, 1] per random draw above the cut, in answer order; each has conditional
        mean the accuracy over the items above the cut (see the module docstring).
    """
    above = np.asarray(above, dtype=bool)
    right = np.asarray(correct, dtype=bool) & above
    size = int(above.sum()) + int(open_above)
    if size == 0:
        return np.zeros(0)
    answered_before = np.cumsum(above) - above
    right_before = np.cumsum(right) - right
    drawn = np.asarray(random, dtype=bool) & above
    still_open = size - answered_before[drawn]  # |O_j|: the draw's inverse inclusion probability
    return np.clip((right_before[drawn] + still_open * right[drawn]) / size, 0.0, 1.0)


def betting_log_wealth(values: np.ndarray, m: np.ndarray | float, level: float = 0.95) -> np.ndarray:
    """Log of the gambler's final wealth against each candidate mean ``m`` (see the module).

    ``m`` reaches ``log(1 / (1 - level))`` exactly where the evidence rules out a mean of ``m``
    or less at that level.
    """
    x = np.asarray(values, dtype=float)
    ms = np.atleast_1d(np.asarray(m, dtype=float))[:, None]
    n = len(x)
    if n == 0:
        return np.zeros(ms.shape[0])
    alpha = 1.0 - level
    t = np.arange(1, n + 1)
    # Running mean and variance before each value, from a prior worth _PRIOR values at mean 1/2,
    # variance 1/4 (the first bet, before any value, uses the prior alone).
    mean = (_PRIOR * 0.5 + np.cumsum(x)) / (t + _PRIOR)
    var = (_PRIOR * 0.25 + np.cumsum((x - mean) ** 2)) / (t + _PRIOR)
    mean_before = np.r_[0.5, mean[:-1]]
    var_before = np.r_[0.25, var[:-1]]
    plug_in = np.sqrt(2 * math.log(1 / alpha) / (var_before * t * np.log1p(t)))
    m_safe = np.maximum(ms, 1e-12)
    lam_plug = np.minimum(plug_in[None, :], 0.5 / m_safe)
    # Second moment about m before each value: (mean - m)^2 + variance.
    spread = (mean_before[None, :] - ms) ** 2 + var_before[None, :]
    lam_grow = np.clip((mean_before[None, :] - ms) / spread, 0.0, _GROWTH_CAP / m_safe)
    gain = x[None, :] - ms
    log_plug = np.log1p(lam_plug * gain).sum(axis=1)
    log_grow = np.log1p(lam_grow * gain).sum(axis=1)
    return np.logaddexp(log_plug, log_grow) - math.log(2)


def lower_bound(values: np.ndarray, level: float = 0.95) -> float:
    """The betting lower confidence bound at ``level`` on the mean of ``values`` (0 for none):
    the largest mean on a grid of 0.001 that the evidence rules out (the wealth falls as the
    candidate mean rises, so a bisection finds it)."""
    need = math.log(1 / (1 - level))
    lo, hi = 0, len(_GRID)  # _GRID[lo - 1] is ruled out (or lo is 0), _GRID[hi] is not
    while lo < hi:
        mid = (lo + hi) // 2
        if betting_log_wealth(values, _GRID[mid], level)[0] >= need:
            lo = mid + 1
        else:
            hi = mid
    return float(_GRID[lo - 1]) if lo else 0.0


@dataclass(frozen=True)
class DesignThreshold:
    """The outcome of calibration with the sampling design known.

    ``threshold`` is ``inf`` when the evidence supports no auto-label. ``n_above`` counts the
    random draws above the cut (at the most promising cut when there is no threshold),
    ``accuracy`` is the unbiased estimate there and ``lower_bound`` its bound; ``n_random`` is
    the number of random draws among the held-out answers; ``values`` the weighted values of
    the draws above that cut (:func:`design_values`).
    """

    threshold: float
    n_above: int
    accuracy: float
    lower_bound: float
    n_random: int
    values: np.ndarray = field(default_factory=lambda: np.zeros(0), compare=False, repr=False)


def choose_design_threshold(
    confidence: np.ndarray,
    correct: np.ndarray,
    random: np.ndarray,
    open_confidence: np.ndarray,
    target: float = 0.95,
    level: float = 0.95,
) -> DesignThreshold:
    """The lowest confidence cut whose design-based accuracy bound reaches ``target``.

    Parameters
    ----------
    confidence, correct, random
        Per answered item in answer order: held-out confidence, whether the held-out prediction
        was right, whether the item was a random draw.
    open_confidence
        The confidence of every open item (the model trained on all answers).
    target
        The accuracy the auto-labels must have.
    level
        Confidence level of the one-sided bound.
    """
    conf = np.asarray(confidence, dtype=float)
    right = np.asarray(correct, dtype=bool)
    drawn = np.asarray(random, dtype=bool)
    open_sorted = np.sort(np.asarray(open_confidence, dtype=float))
    n_random = int(drawn.sum())
    if n_random == 0:
        return DesignThreshold(math.inf, 0, math.nan, 0.0, 0)
    cuts = np.unique(conf[drawn])[::-1]
    if len(cuts) > MAX_CUTS:
        cuts = np.unique(np.quantile(conf[drawn], np.linspace(0, 1, MAX_CUTS)))[::-1]
    need = math.log(1 / (1 - level))
    found: tuple[float, np.ndarray] | None = None
    best: tuple[float, float, np.ndarray] | None = None
    for cut in cuts:
        above = conf >= cut
        open_above = len(open_sorted) - int(np.searchsorted(open_sorted, cut, side="left"))
        z = design_values(above, right, drawn, open_above)
        wealth = float(betting_log_wealth(z, target, level)[0])
        if wealth >= need:
            found = (float(cut), z)
        elif best is None or wealth > best[1]:
            best = (float(cut), wealth, z)
    if found is not None:
        cut, z = found
        return DesignThreshold(cut, len(z), float(z.mean()), lower_bound(z, level), n_random, z)
    assert best is not None
    z = best[2]
    return DesignThreshold(
        math.inf, len(z), float(z.mean()) if len(z) else math.nan, lower_bound(z, level), n_random, z
    )
