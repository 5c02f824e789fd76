"""Inter-annotator agreement: Cohen's kappa, Fleiss' kappa, Krippendorff's alpha.

All three treat answers as nominal categories (a multi-label answer is one category: its set of
classes) and correct the observed agreement for the agreement expected by chance, so 1 means
perfect agreement, 0 what chance gives, and below 0 systematic disagreement. Each works with
items that have different numbers of answers: Cohen's kappa on the items both annotators
answered; Fleiss' kappa in its form for varying numbers of raters; Krippendorff's alpha by
design (missing answers are simply absent). Items with one answer carry no agreement and are
left out. A figure that cannot be computed (one category only, or no items) is NaN.
"""

from __future__ import annotations

import itertools
import json
from collections import Counter
from collections.abc import Hashable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from nblabel.consolidate.result import Answers

__all__ = ["agreement_table", "category", "cohen_kappa", "fleiss_kappa", "krippendorff_alpha"]


def category(value: Any) -> Hashable:
    """An answer as a nominal category: a class name, a set of class names, a mask's pixels (the
    sha1 of its PNG, the same for the same pixels whoever drew them), or canonical JSON."""
    if isinstance(value, Mapping) and isinstance(value.get("mask"), str) and "sha1" in value:
        return ("mask", value["sha1"])
    if isinstance(value, (list, tuple, set, frozenset)) and all(isinstance(v, str) for v in value):
        return tuple(sorted(value))
    if isinstance(value, Hashable):
        return value
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def cohen_kappa(a: Sequence[Hashable], b: Sequence[Hashable]) -> float:
    """Cohen's kappa of two annotators' answers to the same items (parallel sequences)."""
    if len(a) != len(b):
        raise ValueError(f"two answer lists of different lengths ({len(a)} and {len(b)})")
    n = len(a)
    if n == 0:
        return float("nan")
    observed = sum(x == y for x, y in zip(a, b, strict=True)) / n
    ca, cb = Counter(a), Counter(b)
    expected = sum(ca[c] * cb[c] for c in ca) / (n * n)
    if expected == 1.0:
        return float("nan")
    return (observed - expected) / (1.0 - expected)


def _counts(units: Sequence[Sequence[Hashable]]) -> np.ndarray:
    """Units x categories matrix of answer counts, units with fewer than 2 answers dropped."""
    units = [u for u in units if len(u) >= 2]
    cats = {c: n for n, c in enumerate(sorted({c for u in units for c in u}, key=repr))}
    counts = np.zeros((len(units), len(cats)))
    for n, unit in enumerate(units):
        for c in unit:
            counts[n, cats[c]] += 1
    return counts


def fleiss_kappa(units: Sequence[Sequence[Hashable]]) -> float:
    """Fleiss' kappa over items, each given as the list of its answers (any number per item)."""
    counts = _counts(units)
    if counts.shape[0] == 0:
        return float("nan")
    raters = counts.sum(axis=1)
    per_item = (counts * (counts - 1)).sum(axis=1) / (raters * (raters - 1))
    observed = per_item.mean()
    shares = counts.sum(axis=0) / raters.sum()
    expected = float((shares**2).sum())
    if expected == 1.0:
        return float("nan")
    return float((observed - expected) / (1.0 - expected))


def krippendorff_alpha(units: Sequence[Sequence[Hashable]]) -> float:
    """Krippendorff's alpha (nominal) over items, each given as the list of its answers."""
    counts = _counts(units)
    if counts.shape[0] == 0:
        return float("nan")
    raters = counts.sum(axis=1)
    # Coincidence matrix: pairs of answers within a unit, each unit weighted 1 / (m_u - 1).
    pairs = np.einsum("uc,uk->ck", counts / (raters - 1)[:, None], counts) - np.diag(
        (counts / (raters - 1)[:, None]).sum(axis=0)
    )
    n_c = pairs.sum(axis=1)
    n = n_c.sum()
    disagree_observed = pairs.sum() - np.trace(pairs)
    disagree_expected = (n_c.sum() ** 2 - (n_c**2).sum()) / (n - 1)
    if disagree_expected == 0:
        return float("nan")
    return float(1.0 - disagree_observed / disagree_expected)


def agreement_table(
    answers: Answers,
    consolidated: Mapping[Hashable, Any] | None = None,
    quality: Mapping[str, float] | None = None,
) -> pd.DataFrame:
    """Every agreement figure of a set of answers, one row each.

    Parameters
    ----------
    answers
        Per item, its ``(annotator, value)`` pairs (an annotator's last answer counts).
    consolidated
        Per item, the consolidated value: adds each annotator's agreement with it.
    quality
        Per annotator, a quality estimate (Dawid-Skene's accuracy): added as rows too.

    Returns
    -------
    pandas.DataFrame
        Columns ``measure``, ``annotator``, ``other``, ``value``, ``items``. Measures:
        ``fleiss_kappa`` and ``krippendorff_alpha`` (whole job); ``cohen_kappa`` (per pair of
        annotators with at least one item in common); ``agreement_with_consolidated`` and
        ``quality`` (per annotator).
    """
    per_item: dict[Hashable, dict[str, Hashable]] = {}
    for key, pairs in answers.items():
        last: dict[str, Hashable] = {}
        for who, value in pairs:
            last[who] = category(value)
        if last:
            per_item[key] = last
    units = [list(v.values()) for v in per_item.values()]
    rated = sum(len(u) >= 2 for u in units)
    rows: list[tuple[str, str | None, str | None, float, int]] = [
        ("fleiss_kappa", None, None, fleiss_kappa(units), rated),
        ("krippendorff_alpha", None, None, krippendorff_alpha(units), rated),
    ]
    by_annotator: dict[str, dict[Hashable, Hashable]] = {}
    for key, last in per_item.items():
        for who, value in last.items():
            by_annotator.setdefault(who, {})[key] = value
    names = sorted(by_annotator)
    for first, second in itertools.combinations(names, 2):
        common = by_annotator[first].keys() & by_annotator[second].keys()
        if common:
            order = sorted(common, key=repr)
            kappa = cohen_kappa(
                [by_annotator[first][k] for k in order], [by_annotator[second][k] for k in order]
            )
            rows.append(("cohen_kappa", first, second, kappa, len(common)))
    if consolidated is not None:
        for who in names:
            mine = [(v, category(consolidated[k])) for k, v in by_annotator[who].items() if k in consolidated]
            if mine:
                rows.append(
                    (
                        "agreement_with_consolidated",
                        who,
                        None,
                        sum(a == b for a, b in mine) / len(mine),
                        len(mine),
                    )
                )
    if quality is not None:
        for who in names:
            if who in quality:
                rows.append(("quality", who, None, float(quality[who]), len(by_annotator[who])))
    frame = pd.DataFrame(rows, columns=["measure", "annotator", "other", "value", "items"])
    frame["items"] = frame["items"].astype(int)
    return frame
