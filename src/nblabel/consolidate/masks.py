"""Consolidating segmentation masks: pixel voting with smoothing, as Ground Truth does.

GT "treats each pixel in a single image as a multi-class classification ... treats the pixel
annotations from workers as "votes," with more information from surrounding pixels incorporated
by applying a smoothing function to the image" (gt-formats.md §5.1). Here each class's votes are
counted per pixel and averaged over a small square window (``smoothing`` pixels wide, 3 by
default; 1 turns smoothing off); each pixel takes the class with the most smoothed votes, the
lower class index on a tie. One class at a time is held in memory, so a large image with many
classes costs a few image-sized arrays.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np
from scipy.ndimage import uniform_filter

from nblabel.consolidate.result import Answers, Consolidated, Consolidation

__all__ = ["pixel_vote", "vote_masks"]


def pixel_vote(masks: Sequence[tuple[str, np.ndarray]], *, smoothing: int = 3) -> tuple[np.ndarray, float]:
    """Consolidate one image's masks (arrays of class indices, 0 = background).

    Parameters
    ----------
    masks
        ``(annotator, mask)`` pairs; every mask a 2-D integer array of the same shape.
    smoothing
        Width of the square window the votes are averaged over (odd; 1 = no smoothing).

    Returns
    -------
    mask, confidence
        The consolidated mask (the masks' dtype) and GT's one confidence per image: the mean,
        over pixels, of the share of annotators who voted for the pixel's class.

    Raises
    ------
    ValueError
        No masks, masks of different shapes, or not 2-D integer arrays.
    """
    arrays = [np.asarray(m) for _, m in masks]
    if not arrays:
        raise ValueError("pixel_vote needs at least one mask")
    shape = arrays[0].shape
    for (who, _), a in zip(masks, arrays, strict=True):
        if a.ndim != 2 or a.shape != shape or not np.issubdtype(a.dtype, np.integer):
            raise ValueError(
                f"the mask of {who!r} is a {a.dtype} array of shape {a.shape}; expected 2-D integers of shape {shape}"
            )
    if smoothing < 1 or smoothing % 2 == 0:
        raise ValueError(f"smoothing must be an odd width >= 1, got {smoothing}")
    classes = np.unique(np.concatenate([np.unique(a) for a in arrays]))
    best_score = np.full(shape, -1.0, dtype=np.float32)
    best = np.zeros(shape, dtype=arrays[0].dtype)
    agree = np.zeros(shape, dtype=np.float32)
    for c in classes:
        votes = np.zeros(shape, dtype=np.float32)
        for a in arrays:
            votes += a == c
        score = uniform_filter(votes, size=smoothing, mode="nearest") if smoothing > 1 else votes
        wins = score > best_score
        best_score[wins] = score[wins]
        best[wins] = c
        agree[wins] = votes[wins]
    return best, float(agree.mean() / len(arrays))


def vote_masks(answers: Answers, *, smoothing: int = 3) -> Consolidation:
    """:func:`pixel_vote` over many items.

    Returns
    -------
    Consolidation
        Per item the consolidated mask (an array) and its confidence; ``quality``: each
        annotator's share of pixels equal to the consolidated mask, over all their masks.
    """
    result = Consolidation("pixel-vote")
    same: Counter[str] = Counter()
    total: Counter[str] = Counter()
    for key, pairs in answers.items():
        last = list(dict(pairs).items())
        if not last:
            continue
        mask, confidence = pixel_vote(last, smoothing=smoothing)
        result.items[key] = Consolidated(mask, confidence, None, len(last))
        for who, m in last:
            same[who] += int((np.asarray(m) == mask).sum())
            total[who] += mask.size
    result.quality = {who: same[who] / total[who] for who in total}
    return result
