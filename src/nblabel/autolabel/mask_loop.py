"""One round of the mask auto-labeler: a pixel classifier trained on people's masks.

A round:

1. samples pixels of every image people answered (class-balanced within each image, so a small
   class such as roads is not drowned by land) and of the partial answers painted as strokes,
   where unpainted pixels are unknown, not background (the ilastik workflow);
2. cross-fits over *images*: each answered image is predicted by a model that saw none of its
   pixels, and compared with the person's mask at the original size: per-image mIoU over the
   classes present in either mask (the mask's BACKGROUND index included);
3. picks the confidence threshold: the lowest image confidence at which the lower 95% bound of
   the held-out mIoU of the images at or above it reaches the target (0.7 by default, Ground
   Truth's rule for semantic segmentation) with :func:`~nblabel.autolabel.mean_bound.choose_miou_threshold`,
   a bound valid for means of values in [0, 1] at any sample size. As in the classification loop
   every cut is tried and the lowest passing one is taken; the benchmark checks the auto-labels'
   mIoU against gold;
4. fits on every answer and predicts every open image: its proposal (class per pixel, per-pixel
   confidence) and its image confidence (the mean over pixels of the top class probability);
   images at or above the threshold are auto-labeled;
5. orders the people's queue: least confident images first, interleaved with random draws.

Step 4's predictions are the part that grows with the job. On a Dask cluster
(``job.autolabel(cluster=...)``) the fitted classifier is sent to the workers once and they
predict the open images in partitions (:func:`predict_masks`, through ``predict``; see
:class:`~nblabel.autolabel.distributed.ClusterItems`): each image's pixel features are made (or
read from the cache folder they share with the round) where it is predicted, and only the
proposal comes back (a class and a confidence byte per pixel, and the image's confidence). An
image whose pixels cannot be read, here or on a worker, gets no proposal and stays with people,
first in the queue, its reason in the round's report.

Pixels are predicted on a grid of the featurizer's working size (every :data:`PREDICT_STRIDE`-th
pixel) and the class probabilities scaled to the original size (bilinear) before the arg-max, so a
proposal has one class per original pixel. Any scikit-learn classifier with ``predict_proba`` plugs in.
"""

from __future__ import annotations

import functools
import math
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from PIL import Image

from nblabel.autolabel.features import unreadable_reason
from nblabel.autolabel.loop import RoundReport, _interleave
from nblabel.autolabel.mean_bound import choose_miou_threshold, images_needed
from nblabel.autolabel.pixels import PixelFeatures, cached_pixel_features

__all__ = [
    "MIN_IMAGES",
    "SAMPLES",
    "UNKNOWN",
    "MaskRound",
    "Prediction",
    "compute_mask_round",
    "default_pixel_estimator",
    "image_miou",
    "predict_masks",
    "predict_or_reason",
]

UNKNOWN = 255
"""The index of an unknown pixel in a partial answer (strokes) and in gold masks."""

MIN_IMAGES = 1
"""Answered images (or stroked ones) a round waits for before training."""

MIN_HELD_OUT = 5
"""Answered images below which a round makes proposals but no held-out figures."""

PREDICT_STRIDE = 4
"""Working pixels between the points a proposal is predicted at (in each direction); the class
probabilities are scaled up from that grid. On the Dubai aerial tiles (256 px, 10 answered images,
3 splits) every 4th pixel scored the same mIoU as every pixel (0.278 both) and predicted 17x faster."""

SAMPLES = 4000
"""Training pixels sampled per answered image (class-balanced; see :func:`default_pixel_estimator`)."""

MIN_CLASS_SHARE = 0.02
"""A class the model puts first on fewer than this share of an image's predicted points is dropped
from its proposal (those points go to their next likely class): scattered specks of a class the
image does not have cost a whole class's IoU. On the Dubai tiles (same set-up as above) it raised
mIoU from 0.279 to 0.294, in each of the 3 splits; 5% gave 0.283 and 10% 0.255."""


def default_pixel_estimator() -> Any:
    """50 extremely randomized trees on the pixel features (one thread: the worker leaves a core to
    the person), fitted on :data:`SAMPLES` pixels per image.

    Measured on the Dubai aerial tiles (10 answered images, 16 other images scored, 3 splits): at
    256 px with the CNN maps, 100 extra trees on 2,000 pixels per image scored the same mIoU as a
    60-tree random forest on 4,000 (0.279 vs 0.278) and fit about 5x faster; linear discriminant
    analysis scored lower (0.225). At 512 px on the scikit-image features, 50 trees on 4,000
    pixels per image scored 0.329, 100 trees on 2,000 0.324 (higher in each split), in the same
    fit time (2.3 s of CPU) and predicting a third faster.
    """
    from sklearn.ensemble import ExtraTreesClassifier

    return ExtraTreesClassifier(
        n_estimators=50, min_samples_leaf=2, max_features="sqrt", n_jobs=1, random_state=0
    )


def image_miou(predicted: np.ndarray, truth: np.ndarray) -> float:
    """Mean IoU over the classes present in either mask; ``UNKNOWN`` pixels of ``truth`` are left
    out. 1.0 when the truth has no known pixel."""
    known = truth != UNKNOWN
    p, t = predicted[known], truth[known]
    if t.size == 0:
        return 1.0
    k = int(max(p.max(initial=0), t.max(initial=0))) + 1
    inter = np.bincount(t[p == t], minlength=k).astype(float)
    area_p = np.bincount(p, minlength=k)
    area_t = np.bincount(t, minlength=k)
    union = area_p + area_t - inter
    present = union > 0
    return float(np.mean(inter[present] / union[present]))


@dataclass(frozen=True)
class Prediction:
    """A proposal for one image: the class per original pixel, the per-pixel confidence (0-255),
    the image's confidence, and whether it is auto-labeled."""

    labels: np.ndarray
    pixel_confidence: np.ndarray
    confidence: float
    auto: bool


@dataclass
class MaskRound:
    """A round's report, the people's queue, the positions auto-labeled and those unreadable
    (by row position)."""

    report: RoundReport
    queue: list[int] = field(default_factory=list)
    auto: list[int] = field(default_factory=list)
    confidence: dict[int, float] = field(default_factory=dict)
    #: Open images whose pixels could not be read (no proposal): position -> the reason.
    unreadable: dict[int, str] = field(default_factory=dict)


def _small(mask: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """A class mask at the working size (nearest neighbour)."""
    if mask.shape == shape:
        return mask
    return np.asarray(Image.fromarray(mask.astype(np.uint8)).resize(shape[::-1], Image.Resampling.NEAREST))


def _sample(mask: np.ndarray, count: int, rng: np.random.Generator) -> np.ndarray:
    """Flat indices of up to ``count`` known pixels, shared out evenly over the classes present."""
    flat = mask.ravel()
    classes = [c for c in np.unique(flat) if c != UNKNOWN]
    if not classes:
        return np.zeros(0, dtype=int)
    share = max(1, count // len(classes))
    picks = []
    for c in classes:
        where = np.flatnonzero(flat == c)
        picks.append(where if where.size <= share else rng.choice(where, share, replace=False))
    return np.concatenate(picks)


class _Pixels:
    """The training pixels of each answered image, sampled once per round."""

    def __init__(
        self,
        featurizer: PixelFeatures,
        arrays: Callable[[int], dict[str, np.ndarray]],
        masks: dict[int, np.ndarray],
        samples: int,
        rng: np.random.Generator,
    ) -> None:
        self.X: dict[int, np.ndarray] = {}
        self.y: dict[int, np.ndarray] = {}
        for position, mask in masks.items():
            data = arrays(position)
            h, w = data["hand"].shape[:2]
            small = _small(mask, (h, w))
            index = _sample(small, samples, rng)
            rows, cols = np.divmod(index, w)
            self.X[position] = featurizer.at(data, rows, cols)
            self.y[position] = small.ravel()[index]

    def fit(self, estimator: Any, positions: Sequence[int]) -> Any | None:
        """``estimator`` (cloned) fitted on the pixels of ``positions``; None with one class."""
        from sklearn.base import clone

        X = np.concatenate([self.X[p] for p in positions])
        y = np.concatenate([self.y[p] for p in positions])
        if np.unique(y).size < 2:
            return _Constant(int(y[0])) if y.size else None
        return clone(estimator).fit(X, y)


class _Constant:
    """The model of a training set with one class: that class, with certainty."""

    def __init__(self, value: int) -> None:
        self.classes_ = np.asarray([value])

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        return np.ones((X.shape[0], 1))


def predict_image(
    model: Any, featurizer: PixelFeatures, data: dict[str, np.ndarray], n_classes: int
) -> tuple[np.ndarray, np.ndarray, float]:
    """The class per original pixel, the per-pixel confidence (uint8, 0-255) and the image's
    confidence (mean top probability over the predicted points).

    The model predicts every :data:`PREDICT_STRIDE`-th working pixel in each direction, classes
    below :data:`MIN_CLASS_SHARE` of those points are dropped, and the class probabilities are
    scaled (bilinear) from that grid to the original size before the arg-max.
    """
    h, w = data["hand"].shape[:2]
    width, height = (int(v) for v in data["size"])
    # Grid points near the centre of each stride x stride cell, clipped into the image.
    grid_rows = np.minimum(np.arange(0, h, PREDICT_STRIDE) + PREDICT_STRIDE // 2, h - 1)
    grid_cols = np.minimum(np.arange(0, w, PREDICT_STRIDE) + PREDICT_STRIDE // 2, w - 1)
    gh, gw = grid_rows.size, grid_cols.size
    proba = np.zeros((gh * gw, n_classes), dtype=np.float32)
    chunk = 32768  # bounds the float32 feature rows held at once
    classes = np.asarray(model.classes_, dtype=int)
    for start in range(0, gh * gw, chunk):
        stop = min(start + chunk, gh * gw)
        r, c = np.divmod(np.arange(start, stop), gw)
        proba[start:stop][:, classes] = model.predict_proba(featurizer.at(data, grid_rows[r], grid_cols[c]))
    share = np.bincount(proba.argmax(axis=1), minlength=n_classes) / proba.shape[0]
    drop = share < MIN_CLASS_SHARE
    drop[share.argmax()] = False  # with many classes all may be below the share: keep the first
    proba[:, drop] = 0.0
    confidence = float(proba.max(axis=1).mean())
    full = np.stack(
        [
            np.asarray(
                Image.fromarray(proba[:, k].reshape(gh, gw)).resize(
                    (width, height), Image.Resampling.BILINEAR
                )
            )
            for k in range(n_classes)
        ],
        axis=-1,
    )
    labels = full.argmax(axis=-1).astype(np.uint8)
    pixel_conf = np.clip(full.max(axis=-1) * 255 + 0.5, 0, 255).astype(np.uint8)
    return labels, pixel_conf, confidence


#: One image's proposal (class per pixel, confidence per pixel, the image's confidence), or why
#: its pixels could not be read.
Predicted = tuple[np.ndarray, np.ndarray, float] | str


def predict_or_reason(
    model: Any, featurizer: PixelFeatures, n_classes: int, load: Callable[[], dict[str, np.ndarray]]
) -> Predicted:
    """:func:`predict_image` of the image whose features ``load`` gives, or the reason they
    could not be read (the image is then left to people, not the round failed)."""
    try:
        data = load()
    except (OSError, ValueError) as exc:  # MediaError is a ValueError
        return unreadable_reason(exc)
    return predict_image(model, featurizer, data, n_classes)


def predict_masks(shared: tuple[Any, PixelFeatures, int, str], refs: Sequence[Any]) -> list[Predicted]:
    """:func:`predict_or_reason` of each image, its features read from (or written to) the
    cache folder or ``s3://`` prefix; ``shared`` is the fitted model, the featurizer, the number
    of classes and the cache. The heavy part of a round, on a Dask worker."""
    model, featurizer, n_classes, folder = shared
    return [
        predict_or_reason(
            model, featurizer, n_classes, functools.partial(cached_pixel_features, ref, featurizer, folder)
        )
        for ref in refs
    ]


def _image_folds(positions: list[int], folds: int, seed: int) -> list[list[int]]:
    rng = np.random.default_rng(seed)
    order = [positions[i] for i in rng.permutation(len(positions))]
    k = max(2, min(folds, len(order)))
    return [order[i::k] for i in range(k)]


def compute_mask_round(
    arrays: Callable[[int], dict[str, np.ndarray]],
    featurizer: PixelFeatures,
    n_classes: int,
    human: dict[int, np.ndarray],
    open_positions: Sequence[int],
    on_prediction: Callable[[int, Prediction], None],
    *,
    strokes: dict[int, np.ndarray] | None = None,
    estimator: Any = None,
    target: float = 0.7,
    level: float = 0.95,
    folds: int = 5,
    samples: int = SAMPLES,
    random_fraction: float = 0.5,
    no_auto: frozenset[int] = frozenset(),
    seed: int = 0,
    round_number: int = 1,
    total_items: int | None = None,
    predict: Callable[[Any, list[int]], Iterable[Predicted]] | None = None,
) -> MaskRound:
    """Run one round of the mask auto-labeler.

    Parameters
    ----------
    arrays
        The cached pixel features of a row position (:func:`~nblabel.autolabel.pixels.cached_pixel_features`).
    featurizer
        The :class:`~nblabel.autolabel.pixels.PixelFeatures` that made them.
    n_classes
        Mask indices in use: the labels plus BACKGROUND.
    human
        People's masks by position, at the original size (class indices).
    open_positions
        Images waiting for people: each gets a proposal.
    on_prediction
        Called with each open image's :class:`Prediction` as soon as it is made (proposals are
        big: the caller writes them out rather than keeping them all).
    strokes
        Partial answers by position: painted pixels hold their class, the rest ``UNKNOWN``. They
        train the model; they are never held out (nobody said what their other pixels are).
    estimator
        An unfitted classifier with ``predict_proba``; default :func:`default_pixel_estimator`.
    target, level
        The held-out mIoU the auto-labels must reach, with a one-sided bound at ``level``.
    folds
        Cross-fitting folds over images.
    samples
        Training pixels per image.
    random_fraction
        Share of the people's queue drawn at random.
    no_auto
        Positions that stay with people (their auto-label was rejected).
    seed
        Seeds the sampling, the folds and the random draws.
    total_items
        The job's size, for the report's "too small" remark (default: answered + open).
    predict
        ``predict(model, positions)``: :func:`predict_or_reason` of each open image at
        ``positions``, in order, made elsewhere (on a Dask cluster); default here, through
        ``arrays``.
    """
    estimator = default_pixel_estimator() if estimator is None else estimator
    strokes = strokes or {}
    positions = sorted(human)
    open_arr = np.asarray(list(open_positions), dtype=int)
    rng = np.random.default_rng(seed)
    random_order = open_arr[rng.permutation(len(open_arr))]
    total = total_items if total_items is not None else len(positions) + len(open_arr)

    report = RoundReport.maker(round_number, len(positions), target, len(open_arr), measure="mIoU")

    if len(positions) + len(strokes) < MIN_IMAGES:
        return MaskRound(
            report(message=f"waiting for at least {MIN_IMAGES} answered images before training"),
            queue=[int(p) for p in random_order],
        )
    pixels = _Pixels(featurizer, arrays, {**strokes, **human}, samples, rng)
    if not any(y.size for y in pixels.y.values()):
        return MaskRound(
            report(message="no known pixels to learn from yet"), queue=[int(p) for p in random_order]
        )

    held_conf = np.zeros(0)
    held_miou = np.zeros(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tiny folds: classes missing from a fold's training part
        if len(positions) >= MIN_HELD_OUT:
            conf_list, miou_list = [], []
            for test in _image_folds(positions, folds, seed):
                train = [p for p in pixels.y if p not in test]
                model = pixels.fit(estimator, train)
                if model is None:
                    continue
                for p in test:
                    labels, _, conf = predict_image(model, featurizer, arrays(p), n_classes)
                    conf_list.append(conf)
                    miou_list.append(image_miou(labels, human[p]))
            held_conf, held_miou = np.asarray(conf_list), np.asarray(miou_list)
        cut = choose_miou_threshold(
            held_conf, held_miou, target, level=level, seed=seed, min_held_out=MIN_HELD_OUT
        )
        threshold, n_above, mean_above, bound = cut.threshold, cut.n_above, cut.miou, cut.lower_bound
        model = pixels.fit(estimator, list(pixels.y))
        confidence: dict[int, float] = {}
        auto: list[int] = []
        unreadable: dict[int, str] = {}
        waiting = [int(p) for p in open_arr]
        if predict is None:
            results: Iterable[Predicted] = (
                predict_or_reason(model, featurizer, n_classes, functools.partial(arrays, p)) for p in waiting
            )
        else:
            results = predict(model, waiting)
        for p, result in zip(waiting, results, strict=True):
            if isinstance(result, str):  # left to people, first in the queue
                unreadable[p], confidence[p] = result, 0.0
                continue
            labels, pixel_conf, conf = result
            is_auto = conf >= threshold and p not in no_auto
            confidence[p] = conf
            if is_auto:
                auto.append(p)
            on_prediction(p, Prediction(labels, pixel_conf, conf, is_auto))

    auto_set = set(auto)
    remaining = np.asarray([p for p in open_arr if int(p) not in auto_set], dtype=int)
    ranked = remaining[np.argsort([confidence[int(p)] for p in remaining], kind="stable")]
    randoms = random_order[~np.isin(random_order, list(no_auto))]
    queue, _ = _interleave(
        ranked, randoms, random_fraction
    )  # draws: only classification's bound weights by them

    needed = None
    message = ""
    if not held_conf.size:
        message = f"proposals only: no held-out figures below {MIN_HELD_OUT} answered images"
    elif not math.isfinite(threshold):
        top = held_miou[np.argsort(-held_conf, kind="stable")][: max(n_above, 1)]
        count = images_needed(top, target, level=level)
        if count is not None:
            needed = max(1, math.ceil(count * len(held_conf) / max(n_above, 1)) - len(positions))
            if len(positions) + needed > total:
                message = (
                    f"the job is too small for the bound: it would take about {len(positions) + needed} "
                    f"answered images, and the job has {total}"
                )
        else:
            message = f"held-out mIoU {held_miou.mean():.2f} is not above the target {target:.2f}"
    return MaskRound(
        report(
            held_out=len(held_conf),
            threshold=threshold,
            held_out_above=n_above,
            estimated_accuracy=mean_above,
            lower_bound=bound,
            auto_labeled=len(auto),
            queued=len(remaining),
            more_answers_needed=needed,
            message=message,
        ),
        queue=queue,
        auto=auto,
        confidence=confidence,
        unreadable=unreadable,
    )
