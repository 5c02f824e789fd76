"""One round of the box auto-labeler: proposals for every waiting image, auto-labels on evidence.

A round, on a :class:`~nblabel.tasks.boxes.BoundingBox` job:

1. fits the detector on every image people answered (when it has ``fit``; the default is
   :class:`~nblabel.autolabel.detector.BoxDetector`); a detector without ``fit`` is used as it is;
2. measures it on held-out images: cross-fitted (``folds`` parts, each predicted by a detector
   trained without it) when the loop trains it, every answered image when it does not (it never
   saw them). Each held-out image gets GT's mIoU against the person's boxes
   (:func:`~nblabel.autolabel.box_match.image_miou`) and the detector's confidence for the image;
3. picks the lowest confidence at which the lower 95% bound of the held-out mIoU
   (:func:`~nblabel.autolabel.mean_bound.mean_lower_bound`, valid for any distribution) reaches
   the target (GT's 0.6), and auto-labels the waiting images at or above it, with
   ``human-annotated: "no"`` and each box's score as GT's per-object confidence;
4. proposes the detector's boxes for every waiting image, and orders the people's queue: least
   confident first, interleaved with random draws that keep the held-out sample honest.

A detector the loop trains that has ``rescore(cuts, at)`` (the default one does) gets its scores
placed on the cross-fitted held-out images: per class, the score from which showing its boxes
leaves the person fewest correction actions
(:func:`~nblabel.autolabel.box_match.correction_actions`) is moved to ``min_score``, so what is
shown is what saves the most work, and one score means the same for every class. The cuts are
chosen on all the held-out images for the waiting ones, and cross-fitted for the bound: each
held-out image is measured with cuts chosen on the other folds, so the choice of cuts is
measured on images it never saw, like the detector.

An image's confidence is the smaller of the mean score of the boxes it proposes (those scoring at
least ``min_score``) and one minus the best score it left out: an image is sure when what it
shows is sure and nothing it hides was close.

Predicting the waiting images is the part that grows with the job (:func:`predict_boxes`: each
image's boxes and its size as shown). On a Dask cluster (``job.autolabel(cluster=...)``) the
fitted, rescored detector is sent to the workers once and they predict the waiting images in
partitions (``predict``, see :class:`~nblabel.autolabel.distributed.ClusterItems`), returning
only boxes and sizes; fitting, cross-fitting, the cuts and the bound stay where the round runs.
The default detector's feature maps of the waiting images are then made on the workers, into its
cache (next to the store, or where ``cluster_cache=`` says: a folder the workers share or an
``s3://`` prefix).

The detector protocol (scikit-learn-like): ``predict(images) -> one list of boxes per image``,
each box ``{"class_id": int or "label": name, "left", "top", "width", "height", "score"}`` in
original pixels (a GT label object with ``annotations`` is accepted too); optionally
``fit(images, boxes)`` with GT box label objects. Images are the items' ``source-ref`` strings.
Any failure or malformed answer stops the round with a :class:`DetectorError` saying what was
wrong, before anything is stored.
"""

from __future__ import annotations

import copy
import logging
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from nblabel.autolabel.auto_changes import auto_changes
from nblabel.autolabel.box_match import actions_from_iou, as_array, image_miou, iou_matrix, rescale
from nblabel.autolabel.features import Progress, in_parts
from nblabel.autolabel.loop import Round, RoundReport, _interleave
from nblabel.autolabel.mean_bound import MIN_HELD_OUT, choose_miou_threshold, images_needed
from nblabel.io.guard import CHECKED
from nblabel.media import MediaError, image_size
from nblabel.store import Store
from nblabel.store.kinds import HUMAN_KINDS
from nblabel.store.ledger import Ledger
from nblabel.tasks.boxes import BoundingBox

__all__ = [
    "MIN_ANSWERS",
    "DetectorError",
    "PreDetector",
    "check_detector",
    "compute_box_round",
    "image_confidence",
    "predict_boxes",
    "run_box_round",
    "score_cuts",
]

log = logging.getLogger(__name__)

MIN_ANSWERS = 5
"""Answered images a trainable detector waits for before its first fit."""


class DetectorError(ValueError):
    """A detector failed or answered something that is not boxes; nothing was stored."""


class PreDetector:
    """A ``pre=`` detector callable (one ``source-ref`` in, boxes out) seen through the detector
    protocol, so the loop calibrates it like any other. Boxes without a score count as sure (1)."""

    def __init__(self, function: Callable[[str], Any]) -> None:
        self.function = function

    def predict(self, images: Sequence[str]) -> list[Any]:
        """The function's boxes for each image."""
        out = []
        for ref in images:
            found = self.function(ref)
            boxes = found.get("annotations", []) if isinstance(found, Mapping) else (found or [])
            out.append([{"score": 1.0, **b} if isinstance(b, Mapping) else b for b in boxes])
        return out


def check_detector(detector: Any) -> None:
    """Refuse an object that does not follow the detector protocol.

    Raises
    ------
    TypeError
        It has no callable ``predict``, or a ``fit`` that is not callable.
    """
    if not callable(getattr(detector, "predict", None)):
        raise TypeError(f"a detector needs predict(images) -> boxes with labels and scores, got {detector!r}")
    if hasattr(detector, "fit") and not callable(detector.fit):
        raise TypeError(f"the detector's fit must be a method fit(images, boxes), got {detector.fit!r}")


def _fresh(detector: Any) -> Any:
    """An unfitted copy for one cross-fitting fold."""
    if hasattr(detector, "get_params"):
        from sklearn.base import clone

        return clone(detector)
    return copy.deepcopy(detector)


def _boxes(found: Any, labels: Sequence[str], where: str) -> list[dict[str, Any]]:
    """One image's predicted boxes, checked: class_id, left, top, width, height, score."""
    if isinstance(found, Mapping):
        found = found.get("annotations")
    if not isinstance(found, (list, tuple)):
        raise DetectorError(
            f"{where}: expected a list of boxes, got {type(found).__name__}: {str(found)[:80]}"
        )
    out = []
    for n, box in enumerate(found):
        here = f"{where}, box {n}"
        if not isinstance(box, Mapping):
            raise DetectorError(f"{here}: a box is a dict, got {box!r}")
        if "class_id" in box:
            class_id = box["class_id"]
            if (
                isinstance(class_id, bool)
                or not isinstance(class_id, (int, np.integer))
                or not 0 <= class_id < len(labels)
            ):
                raise DetectorError(
                    f"{here}: class_id {class_id!r} is not an index of the labels {list(labels)}"
                )
        elif "label" in box:
            if box["label"] not in labels:
                raise DetectorError(f"{here}: label {box['label']!r} is not one of {list(labels)}")
            class_id = list(labels).index(box["label"])
        else:
            raise DetectorError(f"{here}: has neither class_id nor label: {box!r}")
        numbers = {}
        for name in ("left", "top", "width", "height", "score"):
            v = box.get(name)
            if isinstance(v, bool) or not isinstance(v, (int, float, np.number)) or not math.isfinite(v):
                raise DetectorError(f"{here}: {name} must be a finite number, got {v!r}")
            numbers[name] = float(v)
        if not 0 <= numbers["score"] <= 1:
            raise DetectorError(f"{here}: score must be in [0, 1], got {numbers['score']:g}")
        if numbers["width"] <= 0 or numbers["height"] <= 0:
            continue  # an empty box: nothing to show or count
        out.append({"class_id": int(class_id), **numbers})
    return out


def _predict(detector: Any, refs: Sequence[str], labels: Sequence[str]) -> list[list[dict[str, Any]]]:
    if not refs:
        return []
    try:
        found = detector.predict(list(refs))
    except Exception as exc:
        raise DetectorError(f"the detector's predict failed: {type(exc).__name__}: {exc}") from exc
    if not isinstance(found, (list, tuple)) or len(found) != len(refs):
        got = len(found) if isinstance(found, (list, tuple)) else type(found).__name__
        raise DetectorError(
            f"the detector's predict must return one list of boxes per image: {len(refs)} images, got {got}"
        )
    return [_boxes(f, labels, f"the detector's boxes for {ref}") for f, ref in zip(found, refs, strict=True)]


def _fit(detector: Any, refs: Sequence[str], values: Sequence[Any]) -> Any:
    try:
        detector.fit(list(refs), list(values))
    except Exception as exc:
        raise DetectorError(f"the detector's fit failed: {type(exc).__name__}: {exc}") from exc
    return detector


def predict_boxes(
    shared: tuple[Any, Sequence[str]], refs: Sequence[str]
) -> list[tuple[list[dict[str, Any]], tuple[int, int]]]:
    """Each image's checked boxes by the detector and its size as shown ((0, 0): unreadable, no
    proposal); ``shared`` is the detector and the labels. A round's heavy part: run where the
    round runs, or on the Dask workers.

    Raises
    ------
    DetectorError
        The detector failed or returned something that is not boxes.
    """
    detector, labels = shared
    found = _predict(detector, refs, labels)
    return [(boxes, _shown_size(ref)) for boxes, ref in zip(found, refs, strict=True)]


_CUTS = np.round(np.arange(0.05, 1.0, 0.05), 2)


def score_cuts(
    found: Sequence[Sequence[Mapping[str, Any]]],
    answers: Sequence[Sequence[Mapping[str, Any]]],
    n_classes: int,
    start: float,
) -> np.ndarray:
    """Per class, the score from which showing the predicted boxes leaves the person the
    fewest correction actions on these images (``found``: predicted boxes, ``answers``: the
    person's); coordinate descent over 0.05, 0.10, ..., 0.95 from ``start``, a class's cut
    moving only when that strictly saves actions."""
    # Per image: IoU of every predicted box with every answer box, computed once; the actions
    # of each distinct shown subset are remembered (most cuts cross no score of an image).
    images = []
    for boxes, gold in zip(found, answers, strict=True):
        p, g = as_array(boxes), as_array(gold)
        scores = np.asarray([b["score"] for b in boxes], dtype=float)
        same = p[:, None, 0] == g[None, :, 0]
        images.append((p[:, 0].astype(int), scores, iou_matrix(p, g, same_class=False), same, {}))

    def cost(cuts: np.ndarray) -> int:
        total = 0
        for classes, scores, iou, same, seen in images:
            keep = scores >= cuts[classes]
            key = keep.tobytes()
            if key not in seen:
                seen[key] = actions_from_iou(iou[keep], same[keep])
            total += seen[key]
        return total

    cuts = np.full(n_classes, float(start))
    best = cost(cuts)
    for _ in range(2):
        moved = False
        for c in range(n_classes):
            for cut in _CUTS:
                trial = cuts.copy()
                trial[c] = cut
                spent = cost(trial)
                if spent < best:
                    best, cuts, moved = spent, trial, True
        if not moved:
            break
    return cuts


def _place_cuts(
    held: dict[int, list[dict[str, Any]]],
    human: Mapping[int, Mapping[str, Any]],
    n_classes: int,
    min_score: float,
    folds: int,
    seed: int,
) -> np.ndarray:
    """The score cuts for the waiting images, chosen on every held-out image; each held-out
    image's own scores are placed with cuts chosen on the other folds (rescaled in place), so
    the bound measures the cut-choosing procedure on images it did not see, as it measures the
    detector."""
    keys = sorted(held)
    found = [held[p] for p in keys]
    gold = [human[p]["annotations"] for p in keys]
    cuts = score_cuts(found, gold, n_classes, min_score)
    everyone = np.arange(len(keys))
    parts = np.array_split(np.random.default_rng(seed).permutation(len(keys)), max(2, min(folds, len(keys))))
    placed = []
    for part in parts:
        rest = np.setdiff1d(everyone, part)
        chosen = score_cuts([found[i] for i in rest], [gold[i] for i in rest], n_classes, min_score)
        placed.append((part, chosen))
    for part, chosen in placed:  # after every choice: rescaling changes the scores they read
        for i in part:
            for b in found[i]:
                b["score"] = float(rescale(np.float64(b["score"]), chosen[b["class_id"]], min_score))
    return cuts


def image_confidence(boxes: Sequence[Mapping[str, Any]], min_score: float) -> float:
    """An image's confidence: the smaller of its shown boxes' mean score and one minus the best
    score it leaves out (1 when the detector found nothing at all)."""
    shown = [b["score"] for b in boxes if b["score"] >= min_score]
    hidden = [b["score"] for b in boxes if b["score"] < min_score]
    return float(min(np.mean(shown) if shown else 1.0, 1.0 - max(hidden, default=0.0)))


def _proposal(
    boxes: Sequence[Mapping[str, Any]], size: tuple[int, int], min_score: float, task: BoundingBox
) -> dict[str, Any]:
    """GT's box label object of the shown boxes, with their scores as ``objects`` confidences."""
    shown = [b for b in boxes if b["score"] >= min_score]
    value = task.validate(
        {
            "image_size": [{"width": size[0], "height": size[1], "depth": 3}],
            "annotations": shown,
            "objects": [{"confidence": round(b["score"], 4)} for b in shown],
        }
    )
    return value


def _shown_size(ref: str) -> tuple[int, int]:
    """An image's (width, height) as shown, from its header; (0, 0) when it cannot be read (the
    image then gets no proposal, never an error)."""
    try:
        return image_size(str(ref), CHECKED)
    except MediaError as exc:
        log.info("cannot read the size of %s: %s", ref, exc.reason)
        return 0, 0


def compute_box_round(
    detector: Any,
    refs: Sequence[str],
    labels: Sequence[str],
    human: dict[int, dict[str, Any]],
    open_positions: Sequence[int],
    *,
    target: float = 0.6,
    level: float = 0.95,
    min_score: float = 0.5,
    folds: int = 5,
    random_fraction: float = 0.5,
    no_auto: frozenset[int] = frozenset(),
    seed: int = 0,
    round_number: int = 1,
    predict: Callable[[Any, list[str]], Sequence[tuple[list[dict[str, Any]], tuple[int, int]]]] | None = None,
) -> Round:
    """Run one box round; see the module. ``human`` maps row positions to people's box answers,
    ``open_positions`` are the images waiting for people, ``no_auto`` those never to auto-label.
    ``predict(detector, refs)`` gives :func:`predict_boxes` of the waiting images made elsewhere
    (on a Dask cluster); by default they are predicted here.

    Raises
    ------
    DetectorError
        The detector failed or returned something that is not boxes.
    """
    task = BoundingBox(labels)
    positions = sorted(human)
    open_arr = np.asarray(list(open_positions), dtype=int)
    rng = np.random.default_rng(seed)
    random_order = open_arr[rng.permutation(len(open_arr))]
    trains = callable(getattr(detector, "fit", None))

    report = RoundReport.maker(round_number, len(positions), target, len(open_arr), measure="mIoU")

    if trains and (len(positions) < MIN_ANSWERS or not any(human[p]["annotations"] for p in positions)):
        return Round(
            report(
                message=f"waiting for at least {MIN_ANSWERS} answered images, one with a box, before training"
            ),
            queue=[int(p) for p in random_order],
        )
    # Held-out predictions: cross-fitted when the loop trains the detector.
    held: dict[int, list[dict[str, Any]]] = {}
    if not trains:
        held = dict(zip(positions, _predict(detector, [refs[p] for p in positions], labels), strict=True))
    elif len(positions) >= 2 * MIN_ANSWERS:
        from sklearn.model_selection import KFold

        order = np.asarray(positions)
        k = max(2, min(folds, len(positions)))
        for train, test in KFold(n_splits=k, shuffle=True, random_state=seed).split(order):
            train_pos = [int(p) for p in order[train]]
            test_pos = [int(p) for p in order[test]]
            model = _fit(_fresh(detector), [refs[p] for p in train_pos], [human[p] for p in train_pos])
            held.update(zip(test_pos, _predict(model, [refs[p] for p in test_pos], labels), strict=True))
    if trains:
        _fit(detector, [refs[p] for p in positions], [human[p] for p in positions])
    if trains and held and callable(getattr(detector, "rescore", None)):
        cuts = _place_cuts(held, human, len(labels), min_score, folds, seed)
        detector.rescore(cuts, min_score)
        log.info("score cuts on %d held-out images: %s", len(held), np.round(cuts, 2).tolist())
    waiting = [refs[int(p)] for p in open_arr]
    found = predict_boxes((detector, labels), waiting) if predict is None else predict(detector, waiting)

    held_pos = sorted(held)
    held_conf = np.asarray([image_confidence(held[p], min_score) for p in held_pos])
    held_miou = np.asarray(
        [
            image_miou([b for b in held[p] if b["score"] >= min_score], human[p]["annotations"])
            for p in held_pos
        ]
    )
    choice = choose_miou_threshold(held_conf, held_miou, target, level, seed)

    proposals: dict[int, tuple[Any, float]] = {}
    auto: list[tuple[int, Any, float]] = []
    confidence = np.zeros(len(open_arr))
    for n, (position, (boxes, size)) in enumerate(zip(open_arr, found, strict=True)):
        conf = image_confidence(boxes, min_score)
        confidence[n] = conf
        if not size[0]:
            continue
        value = _proposal(boxes, size, min_score, task)
        proposals[int(position)] = (value, round(conf, 4))
        if conf >= choice.threshold and int(position) not in no_auto:
            auto.append((int(position), value, conf))
    ranked = open_arr[np.argsort(confidence, kind="stable")]
    queue, _ = _interleave(
        ranked, random_order, random_fraction
    )  # draws: only classification's bound weights by them

    more = None
    if not math.isfinite(choice.threshold) and len(held_pos):
        needed = images_needed(held_miou, target, level)
        more = None if needed is None else max(needed - len(held_pos), 1)
    if not held_pos:
        message = (
            f"no held-out images yet: cross-fitting starts at {2 * MIN_ANSWERS} answered images"
            if trains
            else "no answered images to measure the detector on yet"
        )
    else:
        message = (
            f"held-out mIoU {held_miou.mean():.3f} over {len(held_pos)} images"
            f"{' (cross-fitted)' if trains else ' (detector used as is)'}"
        )
        if not math.isfinite(choice.threshold):
            message += f"; a threshold needs at least {MIN_HELD_OUT} held-out images above it"
    return Round(
        report(
            held_out=len(held_pos),
            threshold=choice.threshold,
            held_out_above=choice.n_above if math.isfinite(choice.threshold) else 0,
            estimated_accuracy=choice.miou,
            lower_bound=max(choice.lower_bound, 0.0),
            auto_labeled=len(auto),
            more_answers_needed=more,
            message=message,
        ),
        auto=auto,
        proposals=proposals,
        queue=queue,
    )


def run_box_round(
    settings: Any, store: Store, ledger: Ledger, cluster: Any = None, progress: Progress | None = None
) -> RoundReport:
    """A box round from the store's answers, saved in one transaction (see ``worker.run_round``).

    ``settings`` is the worker's :class:`~nblabel.autolabel.worker.Settings` (``boxes=True``);
    ``cluster`` a :class:`~nblabel.autolabel.distributed.ClusterItems` predicting the waiting
    images on Dask (None: here). Predicting here, ``progress`` hears how many waiting images have
    their boxes, of how many: the detector is given :data:`~nblabel.autolabel.features.PROGRESS_CHUNK` of them at a time.
    """
    predict = None
    labels = settings.labels
    if cluster is not None:

        def predict(detector: Any, refs: list[str]) -> list[Any]:
            return list(cluster.map(predict_boxes, (detector, labels), refs))

    elif progress is not None:

        def predict(detector: Any, refs: list[str]) -> list[Any]:
            parts = in_parts(refs, lambda part: predict_boxes((detector, labels), part), progress)
            return [found for part in parts for found in part]

    human: dict[int, dict[str, Any]] = {}
    open_positions: list[int] = []
    no_auto: set[int] = set()
    for position, key in enumerate(settings.keys):
        label = ledger.label(key)
        if label is not None and label.kind in HUMAN_KINDS:
            human[position] = label.value
        elif not ledger.is_skipped(key):
            open_positions.append(position)
            if ledger.human_rejected(key):
                no_auto.add(position)
    previous = store.latest_round(settings.attribute)
    result = compute_box_round(
        settings.detector,
        [str(s) for s in settings.sources],
        settings.labels,
        human,
        open_positions,
        target=settings.target,
        level=settings.level,
        min_score=settings.min_score,
        folds=settings.folds,
        random_fraction=settings.random_fraction,
        no_auto=frozenset(no_auto),
        seed=settings.seed,
        round_number=(previous[0] + 1) if previous else 1,
        predict=predict,
    )
    keys = settings.keys
    fresh = {keys[p]: (value, conf) for p, value, conf in result.auto}
    annotator = f"auto:{settings.model_name}"
    changes = auto_changes(ledger, settings.attribute, annotator, [keys[p] for p in open_positions], fresh)
    proposals = [(keys[p], value, round(c, 4)) for p, (value, c) in result.proposals.items()]
    store.save_round(
        settings.attribute, result.report.to_dict(), proposals, [keys[p] for p in result.queue], changes
    )
    ledger.apply(store.annotations(settings.attribute, after=ledger.last_seq))
    log.info("%s", result.report)
    return result.report
