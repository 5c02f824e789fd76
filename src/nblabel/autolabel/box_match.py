"""Matching boxes the way Ground Truth scores object detection: one image's mIoU.

Ground Truth auto-labels bounding boxes once its model's mean IoU on held-out human boxes
reaches 0.6. Boxes are paired one to one by IoU (the Hungarian algorithm maximises the summed
IoU), only within a class; a box left without a partner, on either side, counts as IoU 0. An
image's mIoU is therefore the summed IoU of the pairs over the larger of the two box counts, and
an image where both sides have no box scores 1 (nothing to find, nothing found).

Boxes are GT's ``{"class_id", "left", "top", "width", "height"}`` dicts in original pixels.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

__all__ = [
    "actions_from_iou",
    "as_array",
    "correction_actions",
    "image_miou",
    "iou_matrix",
    "match_boxes",
    "pair_rows",
    "rescale",
]


def as_array(boxes: Sequence[Mapping[str, Any]]) -> np.ndarray:
    """``(n, 5)`` float array of ``class_id, x0, y0, x1, y1``."""
    if not len(boxes):
        return np.zeros((0, 5))
    return np.asarray(
        [(b["class_id"], b["left"], b["top"], b["left"] + b["width"], b["top"] + b["height"]) for b in boxes],
        dtype=float,
    )


def iou_matrix(a: np.ndarray, b: np.ndarray, *, same_class: bool = True) -> np.ndarray:
    """IoU of every box of ``a`` with every box of ``b`` (rows of :func:`as_array`); pairs of
    different classes get 0 when ``same_class``."""
    x0 = np.maximum(a[:, None, 1], b[None, :, 1])
    y0 = np.maximum(a[:, None, 2], b[None, :, 2])
    x1 = np.minimum(a[:, None, 3], b[None, :, 3])
    y1 = np.minimum(a[:, None, 4], b[None, :, 4])
    inter = np.clip(x1 - x0, 0, None) * np.clip(y1 - y0, 0, None)
    area_a = (a[:, 3] - a[:, 1]) * (a[:, 4] - a[:, 2])
    area_b = (b[:, 3] - b[:, 1]) * (b[:, 4] - b[:, 2])
    union = area_a[:, None] + area_b[None, :] - inter
    iou = np.where(union > 0, inter / np.where(union > 0, union, 1), 0.0)
    if same_class:
        iou = np.where(a[:, None, 0] == b[None, :, 0], iou, 0.0)
    return iou


def pair_rows(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The one-to-one pairing of the boxes of ``a`` and ``b`` (rows of :func:`as_array`) with the
    largest summed IoU (same class only): the paired rows of each and their IoU."""
    if not len(a) or not len(b):
        return np.zeros(0, dtype=int), np.zeros(0, dtype=int), np.zeros(0)
    from scipy.optimize import linear_sum_assignment

    iou = iou_matrix(a, b)
    rows, cols = linear_sum_assignment(iou, maximize=True)
    return rows, cols, iou[rows, cols]


def match_boxes(
    predicted: Sequence[Mapping[str, Any]], gold: Sequence[Mapping[str, Any]]
) -> list[tuple[int, int, float]]:
    """The one-to-one pairing of ``predicted`` and ``gold`` boxes with the largest summed IoU:
    ``(predicted index, gold index, IoU)`` for each pair with IoU > 0 (same class only)."""
    rows, cols, iou = pair_rows(as_array(predicted), as_array(gold))
    return [(int(r), int(c), float(v)) for r, c, v in zip(rows, cols, iou, strict=True) if v > 0]


def image_miou(predicted: Sequence[Mapping[str, Any]], gold: Sequence[Mapping[str, Any]]) -> float:
    """GT's mIoU of one image: summed IoU of the matched pairs over the larger box count (1 when
    neither side has a box)."""
    n = max(len(predicted), len(gold))
    if n == 0:
        return 1.0
    return sum(iou for _, _, iou in match_boxes(predicted, gold)) / n


def correction_actions(proposed: Sequence[Mapping[str, Any]], gold: Sequence[Mapping[str, Any]]) -> int:
    """A person's actions to turn ``proposed`` boxes into ``gold``, Enter included, in the
    issue's model of the box widget: a proposal matching a gold box of its class at IoU >= 0.7
    is accepted (no action), one at IoU 0.3-0.7 or of another class is adjusted (one action), a
    proposal matching nothing is deleted (one) and a gold box left unmatched is drawn (one).
    Boxes are paired one to one whatever their class (a box of the wrong class is adjusted,
    not redrawn), by the largest summed IoU."""
    p, g = as_array(proposed), as_array(gold)
    return actions_from_iou(iou_matrix(p, g, same_class=False), p[:, None, 0] == g[None, :, 0])


def actions_from_iou(iou: np.ndarray, same: np.ndarray) -> int:
    """:func:`correction_actions` from the IoU of every proposed box with every gold box
    (whatever their class) and whether their classes agree: ``(proposed, gold)`` arrays."""
    n_proposed, n_gold = iou.shape
    if not n_proposed or not n_gold:
        return n_proposed + n_gold + 1
    from scipy.optimize import linear_sum_assignment

    rows, cols = linear_sum_assignment(iou, maximize=True)
    kept, adjusted = 0, 0
    for r, c in zip(rows, cols, strict=True):
        if iou[r, c] >= 0.3:
            kept += 1
            adjusted += not (iou[r, c] >= 0.7 and same[r, c])
    return 1 + adjusted + (n_proposed - kept) + (n_gold - kept)


def rescale(score: np.ndarray, cut: np.ndarray, at: float) -> np.ndarray:
    """Scores moved piecewise linearly so that ``cut`` lands on ``at``: 0 and 1 stay where they
    are and the order of scores under one cut is kept."""
    low = score * at / np.maximum(cut, 1e-9)
    high = at + (score - cut) * (1 - at) / np.maximum(1 - cut, 1e-9)
    return np.clip(np.where(score < cut, low, high), 0.0, 1.0)
