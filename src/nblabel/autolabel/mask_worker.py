"""The mask auto-labeler's side of the worker: a round from the store's masks, saved whole.

Proposals are masks, too big for the store's proposal table, so each is kept as two PNG files
next to the store and the table holds their paths::

    .nblabel/<job>/proposals/<attribute>/round-<n>/<item digest>.png       class per pixel (indexed PNG,
                                                                           GT's palette, as an answer)
    .nblabel/<job>/proposals/<attribute>/round-<n>/<item digest>.conf.png  per-pixel confidence, 0-255

A proposal's stored value is ``{"mask", "sha1", "labels_present", "confidence_map"}``: an
answer's form plus the confidence map, so accepting it stores exactly its pixels. A round's files
are written before the round is saved (one store transaction); the folders of rounds older than
the previous one are removed after it, so a kernel reading the round before the latest still
finds its files. Auto-labels are masks written like a person's answer (``Task.prepare`` into
the job's ``masks/`` folder), since the store keeps them for good.

Partial answers ("learn from strokes") are kept the same way: a greyscale PNG per item under
``strokes/<attribute>/`` (class index per painted pixel, 255 unknown), listed in the store's
metadata ``strokes:<attribute>``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import shutil
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from nblabel.autolabel.features import Progress
from nblabel.autolabel.mask_loop import UNKNOWN, Prediction, compute_mask_round, predict_masks
from nblabel.autolabel.pixels import PixelFeatures, cached_pixel_features
from nblabel.io import AtomicFile
from nblabel.io.guard import CHECKED, MASK_BYTES
from nblabel.masks import decode_mask, mask_png
from nblabel.store import Annotation, Store
from nblabel.store.kinds import HUMAN_KINDS
from nblabel.store.ledger import Ledger
from nblabel.tasks.segmentation import SemanticSegmentation

__all__ = [
    "MaskFeatures",
    "load_strokes",
    "mask_evidence",
    "read_proposal",
    "run_mask_round",
    "save_strokes",
]

log = logging.getLogger(__name__)

CHANGED = 0.02
"""Share of pixels by which a new prediction must differ to replace a standing auto-label."""


def _digest(key: str) -> str:
    return hashlib.sha1(key.encode("utf-8")).hexdigest()[:16]


def _png_bytes(array: np.ndarray) -> bytes:
    import io

    buffer = io.BytesIO()
    Image.fromarray(array.astype(np.uint8), mode="L").save(buffer, format="PNG", optimize=False)
    return buffer.getvalue()


class MaskFeatures:
    """The pixel features of a job's images, by row position, from the ``.npz`` cache (a folder,
    or an ``s3://`` prefix).

    Computing them (:meth:`compute_all`) reads each image once; afterwards a round reads each
    image's file when it needs it, so memory holds one image's features at a time.
    """

    def __init__(self, sources: list[Any], featurizer: PixelFeatures, folder: Path | str) -> None:
        self.sources = sources
        self.featurizer = featurizer
        self.folder = folder

    def __call__(self, position: int) -> dict[str, np.ndarray]:
        """The cached arrays of the image at ``position`` (computed now if they are missing)."""
        return cached_pixel_features(self.sources[position], self.featurizer, self.folder)

    def compute_all(
        self, positions: list[int] | None = None, progress: Progress | None = None
    ) -> MaskFeatures:
        """Compute and cache every image's features (unreadable images are logged and left out);
        ``progress`` hears how many images are done, of how many, after each."""
        todo = range(len(self.sources)) if positions is None else positions
        for done, position in enumerate(todo, 1):
            try:
                self(position)
            except (OSError, ValueError) as exc:  # MediaError is a ValueError: left to people
                log.warning("no pixel features for %s: %s", self.sources[position], exc)
            if progress is not None:
                progress(done, len(todo))
        return self


def _strokes_key(attribute: str) -> str:
    return f"strokes:{attribute}"


def save_strokes(store: Store, folder: Path, attribute: str, key: str, strokes: np.ndarray) -> str:
    """Keep a partial answer of an item: ``strokes`` holds a class index per painted pixel and
    :data:`~nblabel.autolabel.mask_loop.UNKNOWN` (255) elsewhere. Returns the PNG's path."""
    strokes = np.asarray(strokes)
    if strokes.ndim != 2 or not np.issubdtype(strokes.dtype, np.integer):
        raise ValueError(f"strokes are a 2-D array of class indices, got {strokes.dtype} {strokes.shape}")
    if strokes.min() < 0 or strokes.max() > UNKNOWN:
        raise ValueError("stroke values are class indices, or 255 for an unpainted pixel")
    data = _png_bytes(strokes)
    path = (folder / "strokes" / re.sub(r"[^A-Za-z0-9_.-]", "_", attribute) / f"{_digest(key)}.png").resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    with AtomicFile(path) as out:
        out.write(data)
    listing = _listing(store, attribute)
    listing["items"][key] = {"path": str(path), "sha1": hashlib.sha1(data).hexdigest()}
    listing["saved"] += 1
    store.set_meta(_strokes_key(attribute), json.dumps(listing, sort_keys=True))
    return str(path)


def _listing(store: Store, attribute: str) -> dict[str, Any]:
    raw = store.get_meta(_strokes_key(attribute))
    return json.loads(raw) if raw else {"saved": 0, "items": {}}


def load_strokes(store: Store, attribute: str) -> dict[str, np.ndarray]:
    """The partial answers kept by :func:`save_strokes`, by item key (unreadable ones left out)."""
    out = {}
    for key, entry in _listing(store, attribute)["items"].items():
        try:
            # The path comes from the store, which others may write: read it through the guard.
            with CHECKED.open(str(entry["path"]), MASK_BYTES) as fh, Image.open(fh) as img:
                out[key] = np.asarray(img.convert("L"))
        except (OSError, ValueError) as exc:  # MediaError is a ValueError
            log.warning("ignoring the strokes of %s: %s", key, exc)
    return out


def mask_evidence(store: Store, attribute: str) -> int:
    """How many times strokes were saved: a worker counts them with the answers, to train again."""
    return int(_listing(store, attribute)["saved"])


def read_proposal(value: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """A stored mask proposal's class indices and per-pixel confidence (0-255)."""
    with CHECKED.open(str(value["confidence_map"]), MASK_BYTES) as fh, Image.open(fh) as img:
        confidence = np.asarray(img.convert("L"))
    return decode_mask(value["mask"]), confidence


def _changed(current: dict[str, Any], labels: np.ndarray) -> bool:
    try:
        before = decode_mask(current["mask"])
    except (OSError, ValueError):
        return True
    return before.shape != labels.shape or float(np.mean(before != labels)) > CHANGED


def run_mask_round(settings: Any, features: Any, store: Store, ledger: Ledger) -> Any:
    """One mask round from the store's answers, saved in one transaction (see the module).

    ``settings`` is the worker's :class:`~nblabel.autolabel.worker.Settings` of a segmentation
    job; ``features`` the images' :class:`MaskFeatures`, or a
    :class:`~nblabel.autolabel.distributed.ClusterItems` predicting the open images on Dask (the
    answered ones are then featurized here, on demand, for the fit). The proposals come back from
    the workers one partition at a time and are written out as they come.
    """
    predict = None
    if not isinstance(features, MaskFeatures):
        cluster, folder = features, settings.item_cache
        features = MaskFeatures(settings.sources, settings.featurizer, folder)
        n_classes = len(settings.labels) + 1

        def predict(model: Any, positions: list[int]) -> Iterator[Any]:
            shared = (model, settings.featurizer, n_classes, folder)
            return cluster.map(predict_masks, shared, [settings.sources[p] for p in positions])

    task = SemanticSegmentation(settings.labels)
    job_folder = Path(settings.cache_dir).resolve().parent / settings.job_name
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", settings.attribute)
    keys = settings.keys
    human: dict[int, np.ndarray] = {}
    open_positions: list[int] = []
    no_auto: set[int] = set()
    for position, key in enumerate(keys):
        label = ledger.label(key)
        if label is not None and label.kind in HUMAN_KINDS:
            try:
                human[position] = task.indices(label.value)
            except (OSError, ValueError, KeyError, TypeError) as exc:
                log.warning("ignoring the mask of %s: %s", key, exc)
            continue
        if ledger.is_skipped(key):
            continue
        open_positions.append(position)
        if ledger.human_rejected(key):
            no_auto.add(position)
    positions = {key: p for p, key in enumerate(keys)}
    strokes = {positions[k]: v for k, v in load_strokes(store, settings.attribute).items() if k in positions}
    strokes = {p: v for p, v in strokes.items() if p not in human}
    previous = store.latest_round(settings.attribute)
    number = (previous[0] + 1) if previous else 1
    round_folder = job_folder / "proposals" / safe / f"round-{number}"
    round_folder.mkdir(parents=True, exist_ok=True)
    annotator = f"auto:{settings.model_name}"
    proposals: list[tuple[str, Any, float]] = []
    changes: list[Annotation] = []

    def keep(position: int, prediction: Prediction) -> None:
        key = keys[position]
        png = mask_png(prediction.labels, task.colors)
        path = round_folder / f"{_digest(key)}.png"
        conf_path = round_folder / f"{_digest(key)}.conf.png"
        with AtomicFile(path) as out:
            out.write(png)
        with AtomicFile(conf_path) as out:
            out.write(_png_bytes(prediction.pixel_confidence))
        present = [task.labels[i - 1] for i in np.unique(prediction.labels) if 0 < i <= len(task.labels)]
        value = {
            "mask": str(path),
            "sha1": hashlib.sha1(png).hexdigest(),
            "labels_present": present,
            "confidence_map": str(conf_path),
        }
        confidence = round(prediction.confidence, 4)
        proposals.append((key, value, confidence))
        current = ledger.auto_label(key)
        if prediction.auto and current is not None and not _changed(current.value, prediction.labels):
            return  # the standing auto-label still holds
        if current is not None:
            changes.append(Annotation(key, settings.attribute, annotator, "retract", target=current.uid))
        if prediction.auto:
            answer = task.prepare(
                prediction.labels, key, job_folder / "masks" / settings.attribute, f"auto-r{number}"
            )
            changes.append(Annotation(key, settings.attribute, annotator, "auto", answer, confidence))

    result = compute_mask_round(
        features,
        features.featurizer,
        len(task.labels) + 1,
        human,
        open_positions,
        keep,
        strokes=strokes,
        estimator=settings.estimator,
        target=settings.target,
        level=settings.level,
        folds=settings.folds,
        random_fraction=settings.random_fraction,
        no_auto=frozenset(no_auto),
        seed=settings.seed,
        round_number=number,
        total_items=len(keys),
        predict=predict,
    )
    report = result.report
    if result.unreadable:
        first = sorted(result.unreadable.items())[:1000]
        report = replace(
            report, unfeaturized={keys[p]: why for p, why in first}, unfeaturized_count=len(result.unreadable)
        )
        log.warning(
            "%d open images unreadable, left for people; the first: %s: %s",
            len(result.unreadable),
            settings.sources[first[0][0]],
            first[0][1],
        )
    store.save_round(
        settings.attribute, report.to_dict(), proposals, [keys[p] for p in result.queue], changes
    )
    ledger.apply(store.annotations(settings.attribute, after=ledger.last_seq))
    for old in round_folder.parent.glob("round-*"):
        suffix = old.name.removeprefix("round-")
        if suffix.isdigit() and int(suffix) < number - 1:
            shutil.rmtree(old, ignore_errors=True)
    log.info("%s", report)
    return report
