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
a scaled width and height), and on the detector's own boxes on the same images paired with the
person's (IoU >= 0.3): the jitter gives every answered box several examples, and the detector's
boxes show the errors it really makes, such as a red cell's box stretched over the cell it
touches. Those boxes come from the head fitted on the same images, so they are a little better
than its boxes on new images; cross-fitted ones would cost a fit per fold in every fit.

Cells touch, and where two do the colour across an edge says little about which cell it belongs
to. So each side also sees its neighbour: the nearest other box across it (overlapping it along
the side by a third at least), as the outward gap to that box's near edge and the distance to its
centre, shares of the box's size. When training on jittered boxes the neighbours are the other
boxes of the same jitter; on the detector's boxes, and when refining, the detector's boxes that
score at least a little (the detector says which). On BCCD after 50 answered images (one round,
60 test images, seeds 0-3) the two together cut the adjusts the simulated person makes from 260 to
226 and lift its saving from 42.7 % to 43.3 %. In the probe before (not committed) the detector's
boxes alone gave 230 adjusts and 43.4 %, the neighbours alone 257 and 42.5 %, and both 219 and
43.5 %: the detector's boxes do most of it, the neighbours take a few more adjusts off.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

import numpy as np

from nblabel.autolabel.box_match import pair_rows

__all__ = ["EdgeRefiner", "edge_features", "jitter", "neighbour_gaps", "side_offsets"]

SPAN = 0.3  # across an edge, the profile runs from SPAN of the box's size inside to SPAN outside
STEPS = 13  # points of the profile across the edge
ALONG = 7  # lines along the edge, averaged
_OUTWARD = np.array([-1.0, -1.0, 1.0, 1.0])  # left, top, right, bottom: the outward direction
_ALONG_OVERLAP = 1 / 3  # a neighbour across a side overlaps the box along it by this share at least
_NO_GAP, _NO_CENTRE = 1.0, 1.5  # a side's neighbour features with no neighbour near: the caps
_MATCH = 0.3  # a detector's box teaches the refiner when it overlaps a person's box this much


def _sizes(boxes: np.ndarray) -> np.ndarray:
    """Each side's box size across it: ``(n, 4)`` (width for left/right, height for top/bottom)."""
    w = np.maximum(boxes[:, 2] - boxes[:, 0], 1.0)
    h = np.maximum(boxes[:, 3] - boxes[:, 1], 1.0)
    return np.stack([w, h, w, h], axis=1)


def neighbour_gaps(boxes: np.ndarray, others: np.ndarray) -> np.ndarray:
    """Each side's nearest neighbour among ``others``: ``(n * 4, 2)``, rows as in
    :func:`edge_features`.

    A neighbour across a side is another box whose centre lies outward of the box's centre and
    that overlaps the box along the side by a third of its length at least; the nearest is the one
    whose centre is closest outward of the side. Its two features: the outward gap from the side
    to the neighbour's near edge (negative when they overlap) and the outward distance to its
    centre, both as shares of the box's size across the side, capped at 1 and 1.5 (the values
    when no neighbour is near). A box of ``others`` equal to the box itself is not its neighbour.
    """
    n = len(boxes)
    found = np.empty((n, 4, 2))
    found[..., 0], found[..., 1] = _NO_GAP, _NO_CENTRE
    if not n or not len(others):
        return found.reshape(n * 4, 2)
    b, o = boxes[:, None, :], others[None, :, :]
    # Overlap along each axis, as a share of the box's own length on it: (n, m).
    along_y = (np.minimum(b[..., 3], o[..., 3]) - np.maximum(b[..., 1], o[..., 1])) / np.maximum(
        b[..., 3] - b[..., 1], 1.0
    )
    along_x = (np.minimum(b[..., 2], o[..., 2]) - np.maximum(b[..., 0], o[..., 0])) / np.maximum(
        b[..., 2] - b[..., 0], 1.0
    )
    centre = (b[..., :2] + b[..., 2:]) / 2  # (n, 1, 2)
    their = (o[..., :2] + o[..., 2:]) / 2  # (1, m, 2)
    itself = np.all(b == o, axis=-1)
    size = _sizes(boxes)
    rows = np.arange(n)
    for side in range(4):
        axis = side % 2  # 0: x (left, right), 1: y (top, bottom)
        sign = _OUTWARD[side]
        overlap = along_y if axis == 0 else along_x
        outward = sign * (their[..., axis] - centre[..., axis]) > 0
        centre_out = sign * (their[..., axis] - b[..., side])
        near_edge = o[..., side + 2 if side < 2 else side - 2]
        gap = sign * (near_edge - b[..., side])
        distance = np.where((overlap >= _ALONG_OVERLAP) & outward & ~itself, centre_out, np.inf)
        nearest = np.argmin(distance, axis=1)
        has = np.isfinite(distance[rows, nearest])
        found[:, side, 0] = np.where(has, np.clip(gap[rows, nearest] / size[:, side], -0.5, _NO_GAP), _NO_GAP)
        found[:, side, 1] = np.where(
            has, np.clip(distance[rows, nearest] / size[:, side], -0.5, _NO_CENTRE), _NO_CENTRE
        )
    return found.reshape(n * 4, 2)


def edge_features(pixels: np.ndarray, boxes: np.ndarray, others: np.ndarray | None = None) -> np.ndarray:
    """The features of each side of each box: ``(n * 4, f)``, rows box by box in the order left,
    top, right, bottom.

    ``pixels`` is an ``(H, W, 3)`` image (0-255), ``boxes`` ``(n, 4)`` of ``x0, y0, x1, y1`` in
    its pixels, ``others`` the boxes that count as their neighbours (default: ``boxes``). Per
    side: the image's colour (less the image's median colour) and brightness gradient sampled
    across the edge, outward last, the box's log size, which axis the side lies on, and its
    nearest neighbour (:func:`neighbour_gaps`).
    """
    from scipy.ndimage import map_coordinates

    n = len(boxes)
    if not n:
        return np.zeros((0, STEPS * 4 - 1 + 3 + 2))
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
    image = np.concatenate([profiles.reshape(n, 4, STEPS * 3), gradient * 10, extra], axis=-1).reshape(
        n * 4, -1
    )
    return np.concatenate([image, neighbour_gaps(boxes, boxes if others is None else others)], axis=1)


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


def _pairs(proposed: np.ndarray, true: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Proposed and true boxes (``x0, y0, x1, y1``) paired one to one by the largest summed IoU,
    pairs under ``_MATCH`` dropped: the indices into each."""
    rows, cols, iou = pair_rows(np.c_[np.zeros(len(proposed)), proposed], np.c_[np.zeros(len(true)), true])
    return rows[iou >= _MATCH], cols[iou >= _MATCH]


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

    def fit(
        self,
        images: Sequence[np.ndarray],
        boxes: Sequence[np.ndarray],
        proposed: Sequence[np.ndarray] | None = None,
    ) -> EdgeRefiner:
        """Learn from images (``(H, W, 3)``) and their true boxes (``(n, 4)`` in its pixels), and
        from the detector's own boxes on them (``proposed``, ``(m, 4)`` per image, each other's
        neighbours) where one pairs with a true box."""
        from sklearn.ensemble import HistGradientBoostingRegressor

        rng = np.random.default_rng(self.seed)
        xs, ys = [], []
        for k, (pixels, true) in enumerate(zip(images, boxes, strict=True)):
            if not len(true):
                continue
            # Copy by copy, so that a jittered box's neighbours are the others of its jitter.
            moved = jitter(true, rng, self.copies, self.shift, self.scale).reshape(len(true), self.copies, 4)
            for copy in range(self.copies):
                xs.append(edge_features(pixels, moved[:, copy]))
                ys.append(side_offsets(moved[:, copy], true))
            own = np.zeros((0, 4)) if proposed is None else np.asarray(proposed[k], dtype=float)
            pair, with_ = _pairs(own, true)
            if len(pair):
                xs.append(edge_features(pixels, own[pair], own))
                ys.append(side_offsets(own[pair], true[with_]))
        self.model_ = None
        if xs:
            y = np.clip(np.concatenate(ys), -SPAN, SPAN)
            with _one_thread():
                self.model_ = HistGradientBoostingRegressor(max_iter=200, random_state=self.seed).fit(
                    np.concatenate(xs), y
                )
        return self

    def refine(
        self, pixels: np.ndarray, boxes: np.ndarray, neighbours: np.ndarray | None = None
    ) -> np.ndarray:
        """The boxes (``(n, 4)``, ``x0, y0, x1, y1`` in the image's pixels) with their edges moved;
        unchanged when nothing was learned. ``neighbours`` says which of the boxes count as the
        others' neighbours (a boolean mask; default all), as they move."""
        if getattr(self, "model_", None) is None or not len(boxes):
            return boxes
        moved = np.asarray(boxes, dtype=float)
        among = np.ones(len(moved), dtype=bool) if neighbours is None else np.asarray(neighbours, dtype=bool)
        for _ in range(self.passes):
            with _one_thread():
                offset = self.model_.predict(edge_features(pixels, moved, moved[among]))
            offset = np.clip(offset, -SPAN, SPAN).reshape(-1, 4)
            moved = moved + offset * _OUTWARD[None, :] * _sizes(moved)
            # A box never turns inside out: the sides keep at least a pixel apart.
            moved[:, 2] = np.maximum(moved[:, 2], moved[:, 0] + 1)
            moved[:, 3] = np.maximum(moved[:, 3], moved[:, 1] + 1)
        return moved
