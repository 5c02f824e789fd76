"""An honest lower bound on the mean of values in [0, 1], and the threshold it picks.

Box and mask auto-labels are judged by each held-out image's mIoU, a continuous value in [0, 1], so the
Wilson bound of the classification loop (for a share of right answers) does not apply. The
usual stand-ins are not honest at the sample sizes a person produces in a session:

* a one-sided Student-t bound assumes a near-normal mean. Held-out mIoU is skewed: most images
  near 0.8, a few near 0 (a missed cell cluster, a wrong class). With 20-30 images the rare low
  ones are often absent from the sample, the spread looks small and the bound sits too high; the
  tests measure t's coverage falling below 95% on such a mixture while this bound's holds;
* the bootstrap has the same blind spot (it resamples only the values it saw);
* empirical Bernstein (Maurer & Pontil 2009) is valid for any distribution on [0, 1] but pays
  ``7 ln(1/alpha) / 3n`` on top of the variance term: about 0.2 at 50 images.

:func:`mean_lower_bound` is the betting bound of Waudby-Smith & Ramdas ("Estimating means of
bounded random variables by betting", JRSS-B 2024), one-sided, with their predictable plug-in
bets: for each candidate mean ``m`` a gambler bets ``lambda_i (x_i - m)`` on each value in turn, with
``lambda_i`` chosen from the values before it. Under a true mean ``m`` the wealth is a nonnegative
martingale, so by Ville's inequality it reaches ``1/alpha`` with probability at most ``alpha``;
the bound is the smallest ``m`` whose wealth stays below that. It is valid for every distribution
on [0, 1] at every sample size (no normal approximation), and close to the variance term alone.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

__all__ = ["MIN_HELD_OUT", "MiouThreshold", "choose_miou_threshold", "images_needed", "mean_lower_bound"]

MIN_HELD_OUT = 10
"""Held-out images a threshold needs above it before any auto-label is claimed."""

_GRID = np.linspace(0.0, 1.0, 1001)


def mean_lower_bound(values: np.ndarray, level: float = 0.95) -> float:
    """A lower confidence bound at ``level`` on the mean of ``values`` (each in [0, 1]).

    The values are bet on in the order given: shuffle them first (with a seed) if their order
    carries information. 0 for no values.
    """
    x = np.clip(np.asarray(values, dtype=float), 0.0, 1.0)
    n = len(x)
    if n == 0:
        return 0.0
    alpha = 1.0 - level
    # Running mean and variance before each value, started at 1/2 and 1/4 (the prior of the paper).
    t = np.arange(1, n + 1)
    mean = (0.5 + np.cumsum(x)) / (t + 1)
    var = (0.25 + np.cumsum((x - mean) ** 2)) / (t + 1)
    var_before = np.r_[0.25, var[:-1]]
    bet = np.sqrt(2 * math.log(1 / alpha) / (n * var_before))
    m = _GRID[:, None]
    # Bets stay below 1/(2m), so wealth 1 + lambda (x - m) never reaches 0.
    lam = np.minimum(bet[None, :], 0.5 / np.maximum(m, 1e-12))
    log_wealth = np.log1p(lam * (x[None, :] - m)).sum(axis=1)
    kept = np.flatnonzero(log_wealth < math.log(1 / alpha))
    return float(_GRID[kept[0]]) if kept.size else 1.0


@dataclass(frozen=True)
class MiouThreshold:
    """The outcome of calibrating box auto-labels.

    ``threshold`` is ``inf`` when the evidence supports no auto-label; ``n_above``, ``miou``
    and ``lower_bound`` describe the held-out images at or above it (at the most promising cut
    when there is none).
    """

    threshold: float
    n_above: int
    miou: float
    lower_bound: float
    n_held_out: int


def choose_miou_threshold(
    confidence: np.ndarray,
    miou: np.ndarray,
    target: float = 0.6,
    level: float = 0.95,
    seed: int = 0,
    min_held_out: int = MIN_HELD_OUT,
) -> MiouThreshold:
    """The lowest image-confidence cut whose held-out mIoU lower bound reaches ``target``.

    Parameters
    ----------
    confidence
        Each held-out image's confidence (from a model that never trained on it).
    miou
        Each held-out image's mIoU against the person's boxes (:func:`~nblabel.autolabel.box_match.image_miou`).
    target
        The mIoU the auto-labels must reach (GT's 0.6).
    level
        Confidence level of the one-sided bound.
    seed
        Fixes the order the bound bets in.
    min_held_out
        Cuts with fewer held-out images above them are not considered.
    """
    conf = np.asarray(confidence, dtype=float)
    values = np.asarray(miou, dtype=float)
    n = len(conf)
    if n == 0:
        return MiouThreshold(math.inf, 0, math.nan, 0.0, 0)
    shuffled = np.random.default_rng(seed).permutation(n)  # the betting order, the same for every cut
    cuts = np.unique(conf)[::-1]
    best = MiouThreshold(math.inf, 0, math.nan, -1.0, n)
    found: MiouThreshold | None = None
    for cut in cuts:
        above = shuffled[conf[shuffled] >= cut]
        if len(above) < min_held_out:
            continue
        bound = mean_lower_bound(values[above], level)
        if bound >= target:
            found = MiouThreshold(float(cut), len(above), float(values[above].mean()), bound, n)
        elif bound > best.lower_bound:
            best = MiouThreshold(math.inf, len(above), float(values[above].mean()), bound, n)
    if found is not None:
        return found
    if best.lower_bound < 0:
        return MiouThreshold(math.inf, n, float(values.mean()), 0.0, n)
    return best


def images_needed(
    miou: np.ndarray,
    target: float = 0.6,
    level: float = 0.95,
    limit: int = 20_000,
    bound: Callable[[np.ndarray, float], float] = mean_lower_bound,
) -> int | None:
    """About how many held-out images like these it takes for the bound to reach ``target``:
    the values are repeated in turn until it does. None when their mean is not above ``target``.
    ``bound(values, level)`` is the lower bound to forecast (the classification loop passes its
    design-based one, :func:`nblabel.autolabel.design_bound.lower_bound`)."""
    values = np.asarray(miou, dtype=float)
    if not len(values) or not values.mean() > target:
        return None
    lo, hi = len(values), len(values)
    while bound(np.resize(values, hi), level) < target:
        lo, hi = hi, hi * 2
        if hi > limit:
            return None
    while lo < hi:
        mid = (lo + hi) // 2
        if bound(np.resize(values, mid), level) >= target:
            hi = mid
        else:
            lo = mid + 1
    return lo
