"""Percentiles and summaries of latencies, and how the tables print them."""

from __future__ import annotations

import math
from collections.abc import Sequence

__all__ = ["fmt", "median", "p95", "percentile", "summary"]


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile, interpolating linearly between closest ranks (numpy's default
    method); nan for no values."""
    if not values:
        return math.nan
    s = sorted(values)
    pos = (len(s) - 1) * q / 100
    lo = math.floor(pos)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (pos - lo)


def median(values: Sequence[float]) -> float:
    """The 50th percentile (nan for no values)."""
    return percentile(values, 50)


def p95(values: Sequence[float]) -> float:
    """The 95th percentile (nan for no values)."""
    return percentile(values, 95)


def summary(values: Sequence[float]) -> dict[str, float]:
    """n, p50, p95, max and mean of ``values`` (nan where undefined)."""
    return {
        "n": len(values),
        "p50": median(values),
        "p95": p95(values),
        "max": max(values) if values else math.nan,
        "mean": sum(values) / len(values) if values else math.nan,
    }


def fmt(x: float | None, digits: int = 1) -> str:
    """``x`` with ``digits`` decimals; an en dash for a missing or undefined value."""
    return "–" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.{digits}f}"
