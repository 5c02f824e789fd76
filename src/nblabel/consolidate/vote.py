"""Majority vote: the simple consolidation of classification answers.

Each item gets the answer most of its annotators gave, with the share of votes as confidence
(three answers "owl", "owl", "falcon" give "owl" at 0.67, as in GT's own comparison). A tie goes
to the tied answer given first, so the result does not depend on chance. Multi-label answers
are voted class by class: a class is in the answer when more than half of the annotators chose it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from itertools import repeat
from typing import Any

import numpy as np
import pandas as pd

from nblabel.consolidate.flat import class_codes, flatten, not_a_class
from nblabel.consolidate.result import Answers, Consolidated, Consolidation

__all__ = ["agreement_shares", "majority_vote", "majority_vote_multilabel"]


def _latest(pairs: Sequence[tuple[str, Any]]) -> dict[str, Any]:
    """Each annotator's last answer, in the order the annotators first answered."""
    last: dict[str, Any] = {}
    for who, value in pairs:
        last[who] = value
    return last


def agreement_shares(result: Consolidation, answers: Answers, same: Any = None) -> dict[str, float]:
    """Per annotator, the share of their answers equal to the consolidated answer.

    ``same(a, b)`` decides equality (default ``==``).
    """
    agree: Counter[str] = Counter()
    total: Counter[str] = Counter()
    for key, pairs in answers.items():
        consolidated = result.items.get(key)
        if consolidated is None:
            continue
        for who, value in _latest(pairs).items():
            total[who] += 1
            ok = value == consolidated.value if same is None else same(value, consolidated.value)
            agree[who] += int(ok)
    return {who: agree[who] / n for who, n in total.items()}


def majority_vote(answers: Answers, classes: Sequence[str] | None = None) -> Consolidation:
    """Consolidate single-label answers by majority vote.

    Parameters
    ----------
    answers
        Per item, its ``(annotator, class name)`` pairs; an annotator's last answer counts.
    classes
        The task's classes; when given, an answer outside them is an error.

    Returns
    -------
    Consolidation
        Per item the most frequent answer, with the share of votes as confidence; ``quality`` is
        each annotator's share of answers equal to the vote.
    """
    result = Consolidation("majority", classes=list(classes or []))
    flat = flatten(answers)
    if not flat.items:
        return result
    if classes is not None:
        codes = class_codes(flat, [c for c in classes if isinstance(c, str)], not_a_class(classes))
    else:  # the answers' own values, equal as Python compares them (as a Counter would count)
        seen: dict[Any, int] = {}
        codes = np.fromiter((seen.setdefault(v, len(seen)) for v in flat.values), np.int64, len(flat.values))
    # Votes per (item, value), the pairs numbered in the order each value was first given to
    # its item (items in order): the first of an item's values with the most votes wins, as the
    # Counter's insertion order made it.
    pairs = flat.item * (int(codes.max()) + 1) + codes
    pair, first = pd.factorize(pairs)[0], np.flatnonzero(~pd.Index(pairs).duplicated())
    votes = np.bincount(pair)
    pair_item = flat.item[first]
    new_item = np.r_[True, pair_item[1:] != pair_item[:-1]]
    group = np.cumsum(new_item) - 1  # the pair's item number
    most = np.maximum.reduceat(votes, np.flatnonzero(new_item))
    candidates = np.flatnonzero(votes == most[group])
    winners = first[candidates[np.r_[True, group[candidates][1:] != group[candidates][:-1]]]]
    given = flat.given()
    shares = (most / given).tolist()
    values = flat.values[winners].tolist()
    result.items = dict(
        zip(flat.items, map(Consolidated, values, shares, repeat(None), given.tolist()), strict=True)
    )
    agree = codes == codes[winners][flat.item]
    right = np.bincount(flat.annotator, weights=agree, minlength=len(flat.annotators))
    total = np.bincount(flat.annotator, minlength=len(flat.annotators))
    result.quality = {
        who: int(r) / int(n)
        for who, r, n in zip(flat.annotators, right.tolist(), total.tolist(), strict=True)
    }
    return result


def majority_vote_multilabel(answers: Answers, classes: Sequence[str] | None = None) -> Consolidation:
    """Consolidate multi-label answers: each class chosen by more than half of the annotators.

    ``parts`` gives each chosen class its share of votes (GT's ``confidence-map``);
    ``confidence`` is the smallest share among the decisions taken (chosen or left out).
    ``quality`` is each annotator's share of answers equal to the consolidated set.
    """
    result = Consolidation("majority", classes=list(classes or []))
    order = None if classes is None else {c: n for n, c in enumerate(classes)}
    for key, pairs in answers.items():
        votes = list(_latest(pairs).values())
        if not votes:
            continue
        counts: Counter[str] = Counter()
        for v in votes:
            if isinstance(v, str) or not isinstance(v, (list, tuple, set, frozenset)):
                raise ValueError(f"item {key}: a multi-label answer is a list of class names, got {v!r}")
            if order is not None and any(c not in order for c in v):
                raise ValueError(f"item {key}: answer {v!r} is not a list of the classes {classes}")
            counts.update(set(v))
        n = len(votes)
        chosen = [c for c, m in counts.items() if m * 2 > n]
        chosen.sort(key=(lambda c: order[c]) if order is not None else str)
        decisions = [max(m, n - m) / n for m in counts.values()] or [1.0]
        result.items[key] = Consolidated(chosen, min(decisions), {c: counts[c] / n for c in chosen}, n)
    result.quality = agreement_shares(result, answers, lambda a, b: set(a) == set(b))
    return result
