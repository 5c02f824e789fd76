"""Choosing the confidence threshold above which auto-labels keep their promise.

Ground Truth picks a threshold where the validation accuracy *looks* like 95%; by the winner's
curse the true accuracy then lands under 95% about half the time. nblabel requires a lower
confidence bound instead: the threshold is the lowest confidence ``t`` such that the Wilson score
lower bound of the accuracy of held-out answers with confidence >= ``t`` reaches the target.
With the default ``z = 1.96`` (a two-sided 95% interval, i.e. a one-sided 97.5% bound) it takes
73 held-out answers above ``t`` without a single error before any auto-label is allowed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["Threshold", "answers_needed", "choose_threshold", "wilson_lower"]


def wilson_lower(correct: int | np.ndarray, n: int | np.ndarray, z: float = 1.96) -> np.ndarray | float:
    """Wilson score lower bound of a proportion (0 where ``n`` is 0).

    The lower end of statsmodels' ``proportion_confint(correct, n, alpha, method="wilson")``
    with ``z = norm.isf(alpha / 2)`` (the tests check it), written here because calibration
    needs it in ``z`` for whole arrays including ``n = 0``, and eight lines do not earn a runtime
    dependency on statsmodels (a 12 MB wheel that brings patsy and formulaic).
    """
    k = np.asarray(correct, dtype=float)
    m = np.asarray(n, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.where(m > 0, k / np.maximum(m, 1), 0.0)
        centre = p + z * z / (2 * m)
        spread = z * np.sqrt(p * (1 - p) / m + z * z / (4 * m * m))
        bound = np.where(m > 0, (centre - spread) / (1 + z * z / m), 0.0)
    return float(bound) if bound.ndim == 0 else bound


@dataclass(frozen=True)
class Threshold:
    """The outcome of calibration.

    ``threshold`` is ``inf`` when the evidence supports no auto-label. ``n_above``, ``accuracy``
    and ``lower_bound`` describe the held-out answers at or above the threshold (at the most
    promising cut when there is no threshold).
    """

    threshold: float
    n_above: int
    accuracy: float
    lower_bound: float
    n_held_out: int


def choose_threshold(
    confidence: np.ndarray, correct: np.ndarray, target: float = 0.95, z: float = 1.96
) -> Threshold:
    """The lowest confidence cut whose held-out accuracy bound reaches ``target``.

    Parameters
    ----------
    confidence
        Confidence of each held-out prediction (the model never trained on that answer).
    correct
        Whether each held-out prediction matched the person's answer.
    target
        The accuracy the auto-labels must have.
    z
        The normal quantile of the bound (1.96: two-sided 95%).
    """
    confidence = np.asarray(confidence, dtype=float)
    correct = np.asarray(correct, dtype=bool)
    n = len(confidence)
    if n == 0:
        return Threshold(math.inf, 0, float("nan"), 0.0, 0)
    order = np.argsort(-confidence, kind="stable")
    conf = confidence[order]
    hits = np.cumsum(correct[order])
    counts = np.arange(1, n + 1)
    # Cuts fall only between distinct confidences: keep the last index of each run of equal values.
    last = np.r_[conf[1:] != conf[:-1], True]
    bounds = np.where(last, wilson_lower(hits, counts, z), -1.0)
    ok = np.flatnonzero(bounds >= target)
    if ok.size:
        i = ok[-1]
        return Threshold(float(conf[i]), int(counts[i]), float(hits[i] / counts[i]), float(bounds[i]), n)
    i = int(np.argmax(bounds))
    return Threshold(math.inf, int(counts[i]), float(hits[i] / counts[i]), float(bounds[i]), n)


def answers_needed(
    accuracy: float, target: float = 0.95, z: float = 1.96, limit: int = 100_000
) -> int | None:
    """How many held-out answers at ``accuracy`` it takes for the bound to reach ``target``.

    None when the accuracy itself is not above the target (no number of answers would do).
    """
    if not accuracy > target:
        return None
    lo, hi = 1, 1
    while wilson_lower(accuracy * hi, hi, z) < target:
        hi *= 2
        if hi > limit:
            return None
    while lo < hi:
        mid = (lo + hi) // 2
        if wilson_lower(accuracy * mid, mid, z) >= target:
            hi = mid
        else:
            lo = mid + 1
    return lo
