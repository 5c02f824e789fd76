"""Grouping the parts of several annotators' answers (boxes, spans) that mean the same thing.

Annotators are taken in the order they answered. Each one's parts are matched one-to-one to
the groups formed so far (a group holds at most one part per annotator), maximising the total
similarity (Hungarian assignment); a pair joins only when its similarity reaches the threshold,
otherwise the part starts a group of its own. A group's representative, against which later
parts are compared, is recomputed as parts join.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

import numpy as np

__all__ = ["f1", "group_parts", "majority"]

P = TypeVar("P")


def majority(n: int) -> int:
    """More than half of ``n`` annotators."""
    return n // 2 + 1


def group_parts(
    answers: Sequence[tuple[str, Sequence[P]]],
    similarity: Callable[[P, P], float],
    represent: Callable[[list[P]], P],
    threshold: float,
) -> list[list[tuple[str, P]]]:
    """Groups of (annotator, part), each with at most one part per annotator.

    Parameters
    ----------
    answers
        Per annotator, in answer order, the parts of their answer.
    similarity
        Similarity of two parts in [0, 1] (IoU, Jaccard).
    represent
        A group's representative part from its members' parts (e.g. their mean).
    threshold
        The least similarity for a part to join a group.
    """
    from scipy.optimize import linear_sum_assignment  # here: SciPy's optimize takes seconds

    groups: list[list[tuple[str, P]]] = []
    centres: list[P] = []
    for who, parts in answers:
        open_groups = [g for g, members in enumerate(groups) if all(w != who for w, _ in members)]
        joined: dict[int, int] = {}
        if parts and open_groups:
            score = np.array([[similarity(p, centres[g]) for g in open_groups] for p in parts])
            rows, cols = linear_sum_assignment(-score)
            joined = {r: open_groups[c] for r, c in zip(rows, cols, strict=True) if score[r, c] >= threshold}
        for n, part in enumerate(parts):
            if n in joined:
                g = joined[n]
                groups[g].append((who, part))
                centres[g] = represent([p for _, p in groups[g]])
            else:
                groups.append([(who, part)])
                centres.append(part)
    return groups


def f1(found: int, given: int, wanted: int) -> float:
    """F1 of an annotator whose ``given`` parts include ``found`` of the ``wanted`` consolidated ones."""
    if given == 0 and wanted == 0:
        return 1.0
    if found == 0:
        return 0.0
    precision, recall = found / given, found / wanted
    return 2 * precision * recall / (precision + recall)
