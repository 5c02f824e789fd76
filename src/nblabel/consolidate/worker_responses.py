"""Ground Truth's worker-response files: read them, and load them into a job.

GT keeps every worker's raw answers under
``annotations/worker-response/iteration-<n>/<datasetObjectId>/<YYYY-MM-DD_HH:MM:SS>.json``, each
file ``{"answers": [{"answerContent": {...}, "submissionTime": "…Z", "workerId": "…"}, …]}``
(gt-formats.md §5.5). ``datasetObjectId`` is the item's line in the input manifest, from 0.
:meth:`nblabel.Job.export` writes the same layout, so an export reads back with
:func:`read_worker_responses`.

``answerContent`` holds the answer under the name of the template's element; the answer's shape
says what it is: ``{"label": …}`` (single-label classification), ``{"labels": […]}``
(multi-label), ``{"boundingBoxes": […], "inputImageProperties": {…}}`` (boxes),
``{"entities": […]}`` (named entities), ``{"labeledImage": {"pngImageData": …}, "labelMappings":
{…}}`` (a segmentation mask, read by colour into class indices). Each becomes nblabel's value for
that task. A custom
task's answer is the whole form output, so its ``answerContent`` is kept as it is.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import json
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from PIL import Image, UnidentifiedImageError

from nblabel.store import Annotation

if TYPE_CHECKING:
    from nblabel.job import Job

__all__ = ["WorkerResponseError", "answer_value", "import_worker_responses", "read_worker_responses"]

_ITERATION = re.compile(r"^iteration-(\d+)$")
COLUMNS = ["dataset_object_id", "iteration", "worker", "value", "submitted", "file"]


class WorkerResponseError(ValueError):
    """A worker-response file that cannot be read; names the file and the cause."""


@dataclass(frozen=True)
class _Where:
    file: str
    answer: int

    def __str__(self) -> str:
        return f"{self.file}, answer {self.answer}"


def answer_value(content: Any, labels: Sequence[str] | None = None, where: object = "") -> Any:
    """nblabel's value for one ``answerContent``.

    Parameters
    ----------
    content
        The ``answerContent`` dict: ``{"<element name>": {...answer...}}``.
    labels
        The task's classes; needed for boxes (GT's worker answer names the class, nblabel's
        value holds its index).
    where
        Named in errors (file and answer).

    Raises
    ------
    WorkerResponseError
        The content has no answer of a known shape, or more than one.
    """
    prefix = f"{where}: " if where else ""
    if not isinstance(content, dict):
        raise WorkerResponseError(f"{prefix}answerContent must be an object, got {content!r}")
    found = [v for v in content.values() if isinstance(v, dict) and _shape(v) is not None]
    if len(found) != 1:
        raise WorkerResponseError(
            f"{prefix}expected one answer with 'label', 'labels', 'boundingBoxes', 'entities' or 'labeledImage' "
            f"in answerContent, found {len(found)} in {sorted(content)}"
        )
    answer = found[0]
    shape = _shape(answer)
    try:
        if shape == "label":
            if not isinstance(answer["label"], str):
                raise TypeError(f"label must be a string, got {answer['label']!r}")
            return answer["label"]
        if shape == "labels":
            names = answer["labels"]
            if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
                raise TypeError(f"labels must be a list of strings, got {names!r}")
            return names
        if shape == "entities":
            entities = [
                {
                    "label": str(e["label"]),
                    "startOffset": int(e["startOffset"]),
                    "endOffset": int(e["endOffset"]),
                }
                for e in answer["entities"]
            ]
            return sorted(entities, key=lambda e: (e["startOffset"], e["endOffset"]))
        if shape == "labeledImage":
            return _mask(answer, labels, prefix)
        return _boxes(answer, labels)
    except WorkerResponseError:
        raise
    except (KeyError, TypeError, ValueError) as exc:
        raise WorkerResponseError(f"{prefix}{shape} answer is malformed: {exc}") from None


def _shape(answer: dict[str, Any]) -> str | None:
    for key in ("label", "labels", "entities", "boundingBoxes", "labeledImage"):
        if key in answer:
            return key
    return None


def _mask(answer: dict[str, Any], labels: Sequence[str] | None, prefix: str) -> np.ndarray:
    """A ``crowd-semantic-segmentation`` answer as class indices (0 = background), by colour:
    each class's colour is in ``labelMappings``; white and transparent pixels are background."""
    from nblabel.tasks.segmentation import indices_by_colour

    if labels is None:
        raise WorkerResponseError(f"{prefix}a mask answer needs the task's labels to number its classes")
    colors = {0: "#ffffff"}
    for name, mapping in answer.get("labelMappings", {}).items():
        if name not in labels:
            raise WorkerResponseError(
                f"{prefix}the mask has class {name!r}, which is not among the labels {list(labels)}"
            )
        colors[list(labels).index(name) + 1] = mapping["color"]
    try:
        png = base64.b64decode(answer["labeledImage"]["pngImageData"], validate=True)
        with Image.open(io.BytesIO(png)) as img:
            rgba = np.array(img.convert("RGBA"), dtype=np.uint8)
    except (binascii.Error, UnidentifiedImageError, OSError) as exc:
        raise WorkerResponseError(f"{prefix}pngImageData is not a base64 PNG: {exc}") from None
    rgba[rgba[..., 3] == 0, :3] = 255  # transparent: not painted
    size = answer.get("inputImageProperties", {})
    if size and (size.get("height"), size.get("width")) != rgba.shape[:2]:
        raise WorkerResponseError(
            f"{prefix}the mask is {rgba.shape[1]}x{rgba.shape[0]} pixels, the image {size.get('width')}x{size.get('height')}"
        )
    try:
        return indices_by_colour(rgba[..., :3], colors, f"{prefix}the mask", "labelMappings")
    except ValueError as exc:
        raise WorkerResponseError(str(exc)) from None


def _boxes(answer: dict[str, Any], labels: Sequence[str] | None) -> dict[str, Any]:
    if labels is None:
        raise WorkerResponseError("box answers need the task's labels to number their classes")
    index = {name: n for n, name in enumerate(labels)}
    size = answer.get("inputImageProperties") or {}
    boxes = []
    for b in answer["boundingBoxes"]:
        if b["label"] not in index:
            raise ValueError(f"box label {b['label']!r} is not one of {list(labels)}")
        boxes.append(
            {
                "class_id": index[b["label"]],
                "left": round(b["left"]),
                "top": round(b["top"]),
                "width": round(b["width"]),
                "height": round(b["height"]),
            }
        )
    return {
        "image_size": [{"width": int(size["width"]), "height": int(size["height"]), "depth": 3}],
        "annotations": boxes,
    }


def _root(path: Path) -> Path:
    """The ``worker-response`` folder: ``path`` itself, or inside a GT/nblabel export."""
    for candidate in (path, path / "worker-response", path / "annotations" / "worker-response"):
        if candidate.is_dir() and any(_ITERATION.match(p.name) for p in candidate.iterdir()):
            return candidate
    raise FileNotFoundError(
        f"{path}: no iteration-<n>/ folders of GT worker responses here, in worker-response/ or in "
        "annotations/worker-response/"
    )


def read_worker_responses(
    path: str | os.PathLike[str], labels: Sequence[str] | None = None, *, form: bool = False
) -> pd.DataFrame:
    """Read every answer of a folder of GT worker-response files.

    Parameters
    ----------
    path
        The ``worker-response`` folder, or a folder holding it (directly or under
        ``annotations/``, as in GT's and nblabel's output layouts).
    labels
        The task's classes (needed for box answers).
    form
        Keep each ``answerContent`` whole as the value (a custom task's form output) instead
        of reading one element's answer out of it.

    Returns
    -------
    pandas.DataFrame
        One row per answer, ordered by iteration, item and file: ``dataset_object_id`` (int),
        ``iteration`` (int), ``worker``, ``value`` (nblabel's value), ``submitted`` (GT's
        ``submissionTime`` string), ``file`` (path relative to the worker-response folder).

    Raises
    ------
    FileNotFoundError
        No worker-response folders at ``path``.
    WorkerResponseError
        A file is not valid JSON or an answer is malformed; the message names the file.
    """
    root = _root(Path(os.fspath(path)))
    rows = []
    for iteration_dir in sorted(root.iterdir(), key=lambda p: p.name):
        match = _ITERATION.match(iteration_dir.name)
        if match is None or not iteration_dir.is_dir():
            continue
        iteration = int(match.group(1))
        objects = [p for p in iteration_dir.iterdir() if p.is_dir()]
        for object_dir in sorted(
            objects, key=lambda p: (not p.name.isdigit(), int(p.name) if p.name.isdigit() else 0, p.name)
        ):
            if not object_dir.name.isdigit():
                raise WorkerResponseError(
                    f"{object_dir}: expected a datasetObjectId (a line number) as folder name"
                )
            for file in sorted(object_dir.glob("*.json")):
                rel = str(file.relative_to(root))
                rows.extend(_read_file(file, rel, int(object_dir.name), iteration, labels, form))
    return pd.DataFrame(rows, columns=COLUMNS)


def _read_file(
    file: Path, rel: str, object_id: int, iteration: int, labels: Sequence[str] | None, form: bool
) -> list[tuple[Any, ...]]:
    try:
        doc = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise WorkerResponseError(f"{file}: not a readable JSON file: {exc}") from None
    answers = doc.get("answers") if isinstance(doc, dict) else None
    if not isinstance(answers, list):
        raise WorkerResponseError(f"{file}: expected an object with an 'answers' list")
    rows = []
    for n, answer in enumerate(answers):
        where = _Where(str(file), n)
        if not isinstance(answer, dict) or not isinstance(answer.get("workerId"), str):
            raise WorkerResponseError(f"{where}: an answer needs a 'workerId' string")
        content = answer.get("answerContent")
        if form and not isinstance(content, dict):
            raise WorkerResponseError(f"{where}: answerContent must be an object, got {content!r}")
        value = content if form else answer_value(content, labels, where)
        submitted = answer.get("submissionTime")
        if not isinstance(submitted, str):
            raise WorkerResponseError(f"{where}: an answer needs a 'submissionTime' string")
        rows.append((object_id, iteration, answer["workerId"], value, submitted, rel))
    return rows


def _created(submitted: str) -> str:
    """GT's ``creation-date`` spelling (UTC, microseconds, no zone) of a ``submissionTime``."""
    try:
        moment = datetime.fromisoformat(submitted.replace("Z", "+00:00"))
    except ValueError:
        return submitted
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc).replace(tzinfo=None)
    return moment.isoformat(timespec="microseconds")


def import_worker_responses(job: Job, path: str | os.PathLike[str]) -> int:
    """Store every answer of a folder of GT worker-response files as people's answers in ``job``.

    Each answer becomes a ``human`` annotation by its ``workerId``, dated by its
    ``submissionTime``, for the item on line ``datasetObjectId`` of the job's manifest. Every
    answer is checked before anything is stored, and all are stored in one transaction. An
    answer's id is derived from its content, so importing the same files again stores nothing
    twice.

    Returns
    -------
    int
        The number of answers newly stored.

    Raises
    ------
    WorkerResponseError
        A file is malformed, names an item outside the job, or holds an answer the task refuses.
    """
    labels = getattr(job.task, "labels", None)
    frame = read_worker_responses(path, labels, form=job.task.family == "custom")
    batch = []
    for row in frame.itertuples(index=False):
        where = f"{path}/{row.file}"
        if not 0 <= row.dataset_object_id < len(job.keys):
            raise WorkerResponseError(
                f"{where}: datasetObjectId {row.dataset_object_id} is outside the job's {len(job.keys)} items"
            )
        key = job.keys[row.dataset_object_id]
        try:
            # A mask is written as a PNG first, named by who drew what when: importing again
            # writes the same file and stores nothing twice.
            name = None
            if isinstance(row.value, np.ndarray):
                name = hashlib.sha1(
                    f"{row.worker}\0{row.submitted}".encode() + row.value.tobytes()
                ).hexdigest()
            value = job.log.value(key, row.value, name)
        except ValueError as exc:
            raise WorkerResponseError(f"{where}: {exc}") from None
        digest = hashlib.sha1(
            json.dumps([job.attribute, key, row.worker, row.submitted, value], sort_keys=True).encode()
        ).hexdigest()
        batch.append(
            Annotation(
                key, job.attribute, row.worker, "human", value, uid=digest, created=_created(row.submitted)
            )
        )
    stored = job.store.append(batch)
    job.refresh()
    return len(stored)
