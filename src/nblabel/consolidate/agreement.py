"""Inter-annotator agreement: Cohen's kappa, Fleiss' kappa, Krippendorff's alpha.

All three treat answers as nominal categories (a multi-label answer is one category: its set of
classes) and correct the observed agreement for the agreement expected by chance, so 1 means
perfect agreement, 0 what chance gives, and below 0 systematic disagreement. Each works with
items that have different numbers of answers: Cohen's kappa on the items both annotators
answered; Fleiss' kappa in its form for varying numbers of raters; Krippendorff's alpha by
design (missing answers are simply absent). Items with one answer carry no agreement and are
left out. A figure that cannot be computed (one category only, or no items) is NaN.

Cohen's kappa is scikit-learn's, Krippendorff's alpha the ``krippendorff`` package's; Fleiss'
kappa for varying numbers of answers is computed here (see :func:`fleiss_kappa`).
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Hashable, Mapping, Sequence
from typing import Any

import krippendorff
import numpy as np
import pandas as pd

from nblabel.consolidate.result import Answers
from nblabel.tasks.classification import plain_classes

__all__ = ["agreement_table", "category", "cohen_kappa", "fleiss_kappa", "krippendorff_alpha"]


def category(value: Any) -> Hashable:
    """An answer as a nominal category: a class name, a set of class names, a mask's pixels (the
    sha1 of its PNG, the same for the same pixels whoever drew them), or canonical JSON. A
    classification answer with frame attributes counts as its classes: people who chose the same
    class agree, whatever values they gave (consolidation keeps the majority value apart)."""
    if isinstance(value, Mapping) and isinstance(value.get("mask"), str) and "sha1" in value:
        return ("mask", value["sha1"])
    if plain_classes(value) is not value:
        return category(plain_classes(value))
    if isinstance(value, (list, tuple, set, frozenset)) and all(isinstance(v, str) for v in value):
        return tuple(sorted(value))
    if isinstance(value, Hashable):
        return value
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def cohen_kappa(a: Sequence[Hashable], b: Sequence[Hashable]) -> float:
    """Cohen's kappa of two annotators' answers to the same items (parallel sequences).

    scikit-learn's ``cohen_kappa_score`` on the answers coded as integers: a category may be a
    tuple, which scikit-learn would read as a row, or mix ints and strings, which numpy would
    cast alike. NaN without items, or when both used one and the same category (nothing to
    correct for chance).
    """
    if len(a) != len(b):
        raise ValueError(f"two answer lists of different lengths ({len(a)} and {len(b)})")
    codes: dict[Hashable, int] = {}
    x = [codes.setdefault(v, len(codes)) for v in a]
    y = [codes.setdefault(v, len(codes)) for v in b]
    # Checked here: scikit-learn would warn (UndefinedMetricWarning) on every unanimous pair.
    if len(codes) < 2:
        return float("nan")
    # Imported here: scikit-learn takes seconds to import, and every kernel that opens a widget
    # imports this module.
    from sklearn.metrics import cohen_kappa_score

    return float(cohen_kappa_score(x, y))


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
    """Fleiss' kappa over items, each given as the list of its answers (any number per item).

    Written here rather than taken from statsmodels: its ``fleiss_kappa`` assumes every item has
    the same number of answers, which a job's items seldom do, and statsmodels would be a heavy
    runtime dependency for ten lines. The tests check these lines against it where both apply.
    """
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
    """Krippendorff's alpha (nominal) over items, each given as the list of its answers.

    The ``krippendorff`` package on the items' answer counts; NaN where it is undefined (no item
    with two answers, or a single category), which that package raises on.
    """
    counts = _counts(units)
    if counts.shape[0] == 0 or counts.shape[1] < 2:
        return float("nan")
    return float(krippendorff.alpha(value_counts=counts, level_of_measurement="nominal"))


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
