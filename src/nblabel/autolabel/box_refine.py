"""The box detector's second stage: each proposed box's four edges moved onto the cell's own edges.

The head reads boxes off a 16-pixel grid, so a box often lands a few pixels off the edges a
person draws; the simulated person of the benchmark then adjusts it (IoU under 0.7) as if
drawing it. This stage looks at the image itself around each edge: across the edge, from 30 %
of the box's size inside it to 30 % outside, the colour of the image is sampled (averaged along
the middle 60 % of the edge) and a gradient-boosted regressor says how far, as a share of the
box's size, the person's edge lies outward of the proposed one. The four sides are mirrored so
that "outward" is one direction, and one regressor learns them all. It runs twice, the second
pass from the first one's boxes (on BCCD after 50 images a little better than once: 40-41 % fewer
actions vs 39-40 %, seeds 0 and 1).

It is trained on the person's own boxes, jittered the way proposals are off (a shifted centre,
a scaled width and height): no held-out predictions are needed, and every answered box gives
several examples.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["EdgeRefiner", "edge_features", "jitter", "side_offsets"]

SPAN = 0.3  # across an edge, the profile runs from SPAN of the box's size inside to SPAN outside
STEPS = 13  # points of the profile across the edge
ALONG = 7  # lines along the edge, averaged
_OUTWARD = np.array([-1.0, -1.0, 1.0, 1.0])  # left, top, right, bottom: the outward direction


def _sizes(boxes: np.ndarray) -> np.ndarray:
    """Each side's box size across it: ``(n, 4)`` (width for left/right, height for top/bottom)."""
    w = np.maximum(boxes[:, 2] - boxes[:, 0], 1.0)
    h = np.maximum(boxes[:, 3] - boxes[:, 1], 1.0)
    return np.stack([w, h, w, h], axis=1)


def edge_features(pixels: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """The features of each side of each box: ``(n * 4, f)``, rows box by box in the order left,
    top, right, bottom.

    ``pixels`` is an ``(H, W, 3)`` image (0-255), ``boxes`` ``(n, 4)`` of ``x0, y0, x1, y1`` in
    its pixels. Per side: the image's colour (less the image's median colour) and brightness
    gradient sampled across the edge, outward last, the box's log size and which axis the side
    lies on.
    """
    from scipy.ndimage import map_coordinates

    n = len(boxes)
    if not n:
        return np.zeros((0, STEPS * 4 - 1 + 3))
    size = _sizes(boxes)
    edge = boxes[:, [0, 1, 2, 3]]
    t = np.linspace(-SPAN, SPAN, STEPS)  # positive: outward
    across = edge[:, :, None] + _OUTWARD[None, :, None] * t[None, None, :] * size[:, :, None]  # (n, 4, S)
    u = np.linspace(0.2, 0.8, ALONG)
    # Along a vertical side (left, right) the lines run in y between the box's top and bottom.
    start = np.stack([boxes[:, 1], boxes[:, 0], boxes[:, 1], boxes[:, 0]], axis=1)
    length = np.stack([size[:, 1], size[:, 0], size[:, 1], size[:, 0]], axis=1)
    along = start[:, :, None] + u[None, None, :] * length[:, :, None]  # (n, 4, A)
    across_grid = np.broadcast_to(across[..., None], (n, 4, STEPS, ALONG))
    along_grid = np.broadcast_to(along[:, :, None, :], (n, 4, STEPS, ALONG))
    vertical = np.array([True, False, True, False])[None, :, None, None]
    x = np.where(vertical, across_grid, along_grid)
    y = np.where(vertical, along_grid, across_grid)
    centre = np.median(pixels[::4, ::4].reshape(-1, 3), axis=0)  # every 16th pixel: as good, far quicker
    profiles = (
        np.stack(
            [
                map_coordinates(pixels[..., k] - centre[k], [y.ravel(), x.ravel()], order=1, mode="nearest")
                .reshape(n, 4, STEPS, ALONG)
                .mean(axis=3)
                for k in range(3)
            ],
            axis=-1,
        )
        / 255.0
    )  # (n, 4, S, 3)
    gradient = np.diff(profiles.mean(axis=-1), axis=2)  # (n, 4, S - 1)
    extra = np.stack(
        [np.log(size), np.log(length), np.broadcast_to(vertical[..., 0, 0].astype(float), (n, 4))], axis=-1
    )
    return np.concatenate([profiles.reshape(n, 4, STEPS * 3), gradient * 10, extra], axis=-1).reshape(
        n * 4, -1
    )


def side_offsets(proposed: np.ndarray, true: np.ndarray) -> np.ndarray:
    """How far each side of ``true`` lies outward of ``proposed`` (``x0, y0, x1, y1`` rows), as a
    share of the proposed box's size across it: ``(n * 4,)`` in the order of :func:`edge_features`."""
    return ((true - proposed) * _OUTWARD[None, :] / _sizes(proposed)).reshape(-1)


def jitter(
    boxes: np.ndarray, rng: np.random.Generator, copies: int, shift: float, scale: float
) -> np.ndarray:
    """``copies`` jittered copies of each box, as proposals are off: the centre moved by a
    normal share ``shift`` of the size, the width and height scaled by ``exp(normal * scale)``."""
    b = np.repeat(boxes, copies, axis=0)
    w, h = b[:, 2] - b[:, 0], b[:, 3] - b[:, 1]
    cx = (b[:, 0] + b[:, 2]) / 2 + rng.normal(0, shift, len(b)) * w
    cy = (b[:, 1] + b[:, 3]) / 2 + rng.normal(0, shift, len(b)) * h
    w, h = w * np.exp(rng.normal(0, scale, len(b))), h * np.exp(rng.normal(0, scale, len(b)))
    return np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], axis=1)


def _one_thread() -> Any:
    """One OpenMP thread for the gradient boosting: its threads wait actively at every small
    call, and with the cores busy (load 9 on 2 cores) predicting 30 images took 53 s on two
    threads and 2.5 s on one."""
    return _threads().limit(limits=1, user_api="openmp")


@functools.cache
def _threads() -> Any:
    """The process's thread pools, found once (finding them takes tens of milliseconds)."""
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


class EdgeRefiner:
    """Moves boxes' edges onto the image's edges; see the module.

    Parameters
    ----------
    copies
        Jittered copies of each training box.
    shift, scale
        Spread of the jitter: of the centre, as a share of the size, and of the log size.
    passes
        Times the edges are moved, each pass starting from the last one's boxes.
    seed
        Seeds the jitter.
    """

    def __init__(
        self, copies: int = 4, shift: float = 0.08, scale: float = 0.12, passes: int = 2, seed: int = 0
    ) -> None:
        self.copies = copies
        self.shift = shift
        self.scale = scale
        self.passes = passes
        self.seed = seed

    def fit(self, images: Sequence[np.ndarray], boxes: Sequence[np.ndarray]) -> EdgeRefiner:
        """Learn from images (``(H, W, 3)``) and their true boxes (``(n, 4)`` in its pixels)."""
        from sklearn.ensemble import HistGradientBoostingRegressor

        rng = np.random.default_rng(self.seed)
        xs, ys = [], []
        for pixels, true in zip(images, boxes, strict=True):
            if not len(true):
                continue
            moved = jitter(true, rng, self.copies, self.shift, self.scale)
            xs.append(edge_features(pixels, moved))
            ys.append(side_offsets(moved, np.repeat(true, self.copies, axis=0)))
        self.model_ = None
        if xs:
            y = np.clip(np.concatenate(ys), -SPAN, SPAN)
            with _one_thread():
                self.model_ = HistGradientBoostingRegressor(max_iter=200, random_state=self.seed).fit(
                    np.concatenate(xs), y
                )
        return self

    def refine(self, pixels: np.ndarray, boxes: np.ndarray) -> np.ndarray:
        """The boxes (``(n, 4)``, ``x0, y0, x1, y1`` in the image's pixels) with their edges moved;
        unchanged when nothing was learned."""
        if getattr(self, "model_", None) is None or not len(boxes):
            return boxes
        moved = np.asarray(boxes, dtype=float)
        for _ in range(self.passes):
            with _one_thread():
                offset = self.model_.predict(edge_features(pixels, moved))
            offset = np.clip(offset, -SPAN, SPAN).reshape(-1, 4)
            moved = moved + offset * _OUTWARD[None, :] * _sizes(moved)
            # A box never turns inside out: the sides keep at least a pixel apart.
            moved[:, 2] = np.maximum(moved[:, 2], moved[:, 0] + 1)
            moved[:, 3] = np.maximum(moved[:, 3], moved[:, 1] + 1)
        return moved
