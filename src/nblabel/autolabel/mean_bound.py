"""A lower confidence bound for the mean of values in [0, 1] (per-image IoUs), valid at any size.

The mask auto-labeler's promise is about a *mean*: the mIoU of the images it labels. Per-image
mIoU is continuous and bounded, and its distribution is the dangerous kind: most images near the
top, a few where the model fails (a class it never saw, a different season). The usual bounds
each fail one way:

- a one-sided Student t bound assumes near-normal means. On ten images of which the one bad
  image was simply not drawn, the sample spread is tiny and t claims nearly the sample mean; on
  simulated data with a 10% failure mode it covers in well under 95% of runs (the tests show it);
- Hoeffding is valid for any distribution on [0, 1] but ignores the variance: a mean 0.1 above
  the target needs ~150 images before it says anything;
- empirical Bernstein (Maurer & Pontil) uses the variance but pays a ``7 ln(1/alpha) / 3n`` term,
  still ~0.2 wide at 50 images.

nblabel uses the *betting* bound of Waudby-Smith & Ramdas ("Estimating means of bounded random
variables by betting", JRSS-B 2024, the hedged-capital construction): for a candidate mean ``m``
a gambler bets a fraction ``lambda_i`` of their wealth on each value exceeding ``m``; if the true
mean were at most ``m`` the wealth ``prod(1 + lambda_i (x_i - m))`` would be a nonnegative
supermartingale, so by Markov's (Ville's) inequality it reaches ``1/alpha`` with probability at
most ``alpha``. The bound is the lowest ``m`` the gambler does not get rich against. It is valid
for *every* distribution on [0, 1] and every sample size (no normal approximation), and it
adapts to the variance as a t bound does, so at 30-50 images it is about as tight as t. Bets
are "predictable" (each uses only the values before it), so the bound depends on the order of
the values; averaging the wealth over several random orders is still a valid test (a mean of
e-values is an e-value) and removes most of that dependence.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["answers_for_mean", "mean_lower_bound"]

_ORDERS = 16  # random orders the wealth is averaged over
_GRID = 400  # candidate means tried, evenly spaced in [0, 1]
_CAP = 0.75  # at most 3/4 of the wealth at stake on one value (the paper's c): it never reaches 0


def _wealth(x: np.ndarray, grid: np.ndarray, alpha: float) -> np.ndarray:
    """Wealth after betting on the values in this order, for every candidate mean."""
    n = len(x)
    count = np.arange(1, n + 1)
    # Predictable variance estimates: value i's bet uses values 0..i-1 (with a prior of 1/4).
    mu = (0.5 + np.cumsum(x)) / (count + 1)
    var = (0.25 + np.cumsum((x - mu) ** 2)) / (count + 1)
    var_before = np.r_[0.25, var[:-1]]  # the bet's size uses the spread; its side is fixed (x above m)
    lam = np.sqrt(2 * math.log(1 / alpha) / (n * var_before))  # the fixed-n tuning of the paper
    lam = np.minimum(lam[None, :], _CAP / np.maximum(grid[:, None], 1e-9))
    return np.exp(np.sum(np.log1p(lam * (x[None, :] - grid[:, None])), axis=1))


def mean_lower_bound(values: np.ndarray, alpha: float = 0.05, seed: int = 0) -> float:
    """One-sided ``1 - alpha`` lower confidence bound of the mean of values in [0, 1].

    The betting bound of the module docstring: valid for any distribution on [0, 1] and any
    number of values. 0.0 for no values.
    """
    x = np.clip(np.asarray(values, dtype=float), 0.0, 1.0)
    if x.size == 0:
        return 0.0
    grid = np.linspace(0.0, 1.0, _GRID + 1)
    rng = np.random.default_rng(seed)
    wealth = np.zeros(len(grid))
    for _ in range(_ORDERS):
        wealth += _wealth(x[rng.permutation(x.size)], grid, alpha)
    rejected = wealth / _ORDERS >= 1 / alpha  # the mean is above these candidates
    # Wealth grows as the candidate falls, so the rejected candidates are the low end of the grid.
    below = np.flatnonzero(~rejected)
    return float(grid[below[0]]) if below.size else 1.0


def answers_for_mean(values: np.ndarray, target: float, alpha: float = 0.05, limit: int = 5000) -> int | None:
    """How many values like these it takes for :func:`mean_lower_bound` to reach ``target``.

    The values are repeated (the same spread, more of it). None when their mean is not above the
    target (no number of answers would do) or it would take more than ``limit``.
    """
    x = np.clip(np.asarray(values, dtype=float), 0.0, 1.0)
    if x.size == 0 or not x.mean() > target:
        return None

    def enough(n: int) -> bool:
        return mean_lower_bound(np.resize(x, n), alpha) >= target

    hi = max(x.size, 2)
    while not enough(hi):
        hi *= 2
        if hi > limit:
            return None
    lo = 1
    while lo < hi:
        mid = (lo + hi) // 2
        if enough(mid):
            hi = mid
        else:
            lo = mid + 1
    return lo
