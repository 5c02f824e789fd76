"""Ground Truth's output layout and its worker-response files, written and read.

:func:`write_output` writes, under ``<destination>/<name>/`` (gt-formats.md §7):

- ``manifests/output/output.manifest``: the augmented manifest, one line per input line, in GT's
  compact JSON spelling;
- ``annotations/worker-response/iteration-1/<datasetObjectId>/<YYYY-MM-DD_HH:MM:SS>.json``: per
  item, every person's current answer, as GT's worker-response files (§5.5)
  ``{"answers":[{"answerContent":{"crowd-image-classifier":{"label":"cat"}},
  "submissionTime":"…Z","workerId":"<annotator>"}]}``. ``datasetObjectId`` is the item's line
  number in the input manifest, counted from 0, as in GT. Each task writes and reads its own
  ``answerContent`` (``Task.answer_content`` / ``Task.from_answer_content``);
- ``annotations/consolidated-annotation/consolidation-response/iteration-1/<timestamp>.json``:
  GT's consolidation response, ``[{"datasetObjectId":"0","consolidatedAnnotation":{"content":
  {"<attr>":…,"<attr>-metadata":{…}}}}, …]``, for the items labeled by people;
- ``annotations/consolidated-annotation/output/<datasetObjectId>_<creation-date>.png``: for a
  task whose label is a file (semantic segmentation's mask, ``Task.label_file``), each labeled
  item's file; the output manifest's ``<attr>`` then names that file where the export puts it
  (its ``s3://`` URI on S3, its path locally), as GT's does.

The folder is written all or nothing (:class:`nblabel.io.folders.AtomicFolder`), the output
manifest last. :func:`read_worker_responses` reads GT's worker-response files (GT's own, or an
export's) into a DataFrame, and :func:`response_annotations` makes them people's answers.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from nblabel.io import is_s3_uri
from nblabel.io.folders import AtomicFolder, ExportError
from nblabel.io.guard import CHECKED, MASK_BYTES, FileGuard, MediaError
from nblabel.manifest import is_missing, row_objects, write_manifest
from nblabel.store import Annotation
from nblabel.tasks.base import Task

__all__ = [
    "ExportError",
    "ExportResult",
    "WorkerResponseError",
    "read_worker_responses",
    "response_annotations",
    "worker_responses",
    "write_output",
]

MANIFEST = "manifests/output/output.manifest"
WORKER_RESPONSES = "annotations/worker-response"
CONSOLIDATION = "annotations/consolidated-annotation/consolidation-response"
LABEL_FILES = "annotations/consolidated-annotation/output"
#: The sub-folders an export owns: replaced by ``overwrite=True``; anything else is left alone.
#: The manifest's folder last: readers look there first.
OWNED = ("annotations/worker-response/", "annotations/consolidated-annotation/", "manifests/output/")
#: The columns of :func:`read_worker_responses`.
COLUMNS = ["dataset_object_id", "iteration", "worker", "value", "submitted", "file"]
_ITERATION = re.compile(r"^iteration-(\d+)$")


@dataclass(frozen=True)
class ExportResult:
    """What an export wrote.

    Attributes
    ----------
    destination
        The export's folder, ``<destination>/<job>/``.
    manifest
        The output manifest's path or URI (SageMaker's ``AugmentedManifestFile`` input).
    items
        Lines in the output manifest.
    labeled
        Items with a label (by a person or the auto-labeler).
    worker_responses
        Worker-response files written (items with at least one person's answer).
    files
        Every file written.
    """

    destination: str
    manifest: str
    items: int
    labeled: int
    worker_responses: int
    files: int


class WorkerResponseError(ValueError):
    """A worker-response file that cannot be read; names the file and the cause."""


# -- times --------------------------------------------------------------------------------------


def _utc(stamp: str) -> datetime | None:
    """A timestamp (``…Z``, ``…+02:00`` or zoneless UTC) as a zoneless UTC datetime."""
    try:
        moment = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc).replace(tzinfo=None)
    return moment


def submission_time(created: str) -> str:
    """GT's ``submissionTime`` (``2020-12-28T18:59:58.321Z``) of a stored UTC timestamp."""
    moment = _utc(created)
    return created if moment is None else moment.isoformat(timespec="milliseconds") + "Z"


def creation_date(submitted: str) -> str:
    """GT's ``creation-date`` spelling (UTC, microseconds, no zone) of a ``submissionTime``."""
    moment = _utc(submitted)
    return submitted if moment is None else moment.isoformat(timespec="microseconds")


def _file_time(created: str) -> str:
    """GT's file-name timestamp ``YYYY-MM-DD_HH:MM:SS``."""
    stamp = submission_time(created)
    return stamp[:10] + "_" + stamp[11:19]


# -- writing ------------------------------------------------------------------------------------


def worker_responses(
    task: Task, answers: Mapping[int, Sequence[Annotation]]
) -> dict[int, list[dict[str, Any]]]:
    """GT's worker-response ``answers`` lists.

    Parameters
    ----------
    task
        The task, which writes each answer's ``answerContent``.
    answers
        Per row position (GT's ``datasetObjectId``), each person's current answer, in the order
        given (``Job.answers``).

    Returns
    -------
    dict
        Row position to its ``answers`` list; positions without answers are absent.
    """
    return {
        position: [_worker_answer(task, a) for a in given] for position, given in answers.items() if given
    }


def _worker_answer(task: Task, a: Annotation) -> dict[str, Any]:
    """One worker-response answer; with the browser's timing and the worker's identity (the
    answer's ``meta``: ``acceptanceTime``, ``timeSpentInSeconds``, ``workerMetadata``) when the
    widget recorded them, as GT's newer files have them."""
    out: dict[str, Any] = {
        "answerContent": task.answer_content(a.value),
        "submissionTime": submission_time(a.created),
        "workerId": a.annotator,
    }
    meta = a.meta or {}
    timing, worker = meta.get("timing"), meta.get("worker")
    if isinstance(timing, Mapping):
        out["acceptanceTime"] = timing["acceptanceTime"]
        out["timeSpentInSeconds"] = timing["timeSpentInSeconds"]
    if isinstance(worker, Mapping) and worker.get("workerMetadata"):
        out["workerMetadata"] = worker["workerMetadata"]
    return out


def _dumps(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode("utf-8")


def write_output(
    destination: str | os.PathLike[str],
    *,
    name: str,
    attribute: str,
    task: Task,
    output: pd.DataFrame,
    answers: Mapping[int, Sequence[Annotation]],
    labels: Mapping[int, Annotation],
    overwrite: bool = False,
    labeled_only: bool = False,
    client: Any = None,
    progress: bool | None = None,
    chunks: Callable[[], Iterable[pd.DataFrame]] | None = None,
) -> ExportResult:
    """Write a job's result in Ground Truth's output layout (see the module docstring).

    Parameters
    ----------
    destination
        A local folder or an ``s3://bucket/prefix/`` URI; the export goes to its ``<name>/``.
    name
        The job's name.
    attribute
        The label attribute.
    task
        The job's task.
    output
        The augmented manifest (``Job.to_dataframe()``), in row order; it is not changed. With
        ``chunks``, only its rows at the positions of ``labels``.
    answers
        Per row position, each person's current answer (``Job.answers``), in the order given.
    labels
        Per row position, the annotation behind the row's label (``Job.current``).
    overwrite
        Replace an earlier export. Without it, an existing export is refused
        (``FileExistsError``) and on S3 the manifest is written with ``If-None-Match: *``.
    labeled_only
        Leave unlabeled items out of the output manifest, so that every line has the label
        attribute (what a SageMaker ``AugmentedManifestFile`` training input needs).
    client
        A boto3 S3 client; default from the standard AWS settings.
    progress
        A progress bar over the files: None shows it for large exports, True always, False never.
    chunks
        The whole augmented manifest as DataFrames indexed by row position, in order
        (``Job.to_dataframes``): the output manifest is written from them one at a time.

    Raises
    ------
    FileExistsError
        An export is already there (``nblabel.io.s3.S3ObjectExists`` on S3).
    ExportError
        A file could not be written; the files this export wrote were removed again.
    """
    if is_s3_uri(destination):
        where: str | Path = str(destination).rstrip("/") + f"/{name}/"
    else:
        where = Path(os.fspath(destination)).expanduser() / name
    folder = AtomicFolder(where, overwrite=overwrite, owned=OWNED, client=client)
    files, located = _label_files(task, labels, folder)
    output = _relocated(output, attribute, located)
    counts = {"items": 0, "labeled": 0}

    def manifest_rows() -> Iterator[dict[str, Any]]:
        for chunk in chunks() if chunks is not None else [output]:
            chunk = _relocated(chunk, attribute, located) if chunks is not None else chunk
            labeled = [not is_missing(v) for v in chunk[attribute]]
            counts["labeled"] += sum(labeled)
            if labeled_only:
                chunk = chunk[labeled]
            counts["items"] += len(chunk)
            yield from row_objects(chunk)

    responses = worker_responses(task, answers)
    files += [
        (
            f"{WORKER_RESPONSES}/iteration-1/{position}/{_file_time(max(a['submissionTime'] for a in given))}.json",
            _dumps({"answers": given}),
        )
        for position, given in sorted(responses.items())
    ]
    consolidated = _consolidation(attribute, output, labels)
    if consolidated:
        latest = max(created for created, _ in consolidated)
        files.append(
            (
                f"{CONSOLIDATION}/iteration-1/{_file_time(latest)}.json",
                _dumps([entry for _, entry in consolidated]),
            )
        )
    written = folder.write(
        files, last=(MANIFEST, lambda fh: write_manifest(manifest_rows(), fh)), progress=progress
    )
    return ExportResult(
        destination=folder.label,
        manifest=folder.location(MANIFEST),
        items=counts["items"],
        labeled=counts["labeled"],
        worker_responses=len(responses),
        files=written,
    )


def _label_files(
    task: Task, labels: Mapping[int, Annotation], folder: AtomicFolder
) -> tuple[list[tuple[str, bytes]], dict[int, str]]:
    """GT's label files (``<datasetObjectId>_<creation-date>.png``) and, per row position,
    where the export puts its file (what ``<attr>`` then names)."""
    files = []
    located: dict[int, str] = {}
    for position, label in sorted(labels.items()):
        path = task.label_file(label.value)
        if path is None:
            continue
        key = f"{LABEL_FILES}/{position}_{label.created}{path.suffix}"
        try:
            files.append((key, CHECKED.read(str(path), MASK_BYTES)))
        except MediaError as exc:
            raise ExportError(
                folder.label, key, f"cannot read the label file of row {position}: {exc.reason}"
            ) from exc
        located[position] = folder.location(key)
    return files, located


def _relocated(output: pd.DataFrame, attribute: str, located: Mapping[int, str]) -> pd.DataFrame:
    """Rows of the output (indexed by position) with ``<attr>`` naming each label file where
    the export puts it."""
    here = {p: where for p, where in located.items() if p in output.index}
    if not here:
        return output
    column = output[attribute].copy()
    for position, location in here.items():
        column.loc[position] = location
    return output.assign(**{attribute: column})


def _consolidation(
    attribute: str, output: pd.DataFrame, labels: Mapping[int, Annotation]
) -> list[tuple[str, dict[str, Any]]]:
    """(created, GT consolidation-response entry) for each item labeled by people."""
    meta = f"{attribute}-metadata"
    entries = []
    for position, label in sorted(labels.items()):
        # An auto-label is no person's; missing: a custom task's post-annotation function gave no label.
        if label.kind == "auto" or is_missing(output[attribute].loc[position]):
            continue
        content = {attribute: output[attribute].loc[position], meta: output[meta].loc[position]}
        entries.append(
            (
                label.created,
                {"datasetObjectId": str(position), "consolidatedAnnotation": {"content": content}},
            )
        )
    return entries


# -- reading ------------------------------------------------------------------------------------


def _root(path: Path) -> Path:
    """The ``worker-response`` folder: ``path`` itself, or inside a GT/nblabel export."""
    for candidate in (path, path / "worker-response", path / "annotations" / "worker-response"):
        if candidate.is_dir() and any(_ITERATION.match(p.name) for p in candidate.iterdir()):
            return candidate
    raise FileNotFoundError(
        f"{path}: no iteration-<n>/ folders of GT worker responses here, in worker-response/ or in "
        "annotations/worker-response/"
    )


def read_worker_responses(path: str | os.PathLike[str], task: Task | None = None) -> pd.DataFrame:
    """Read every answer of a folder of GT worker-response files.

    Parameters
    ----------
    path
        The ``worker-response`` folder, or a folder holding it (directly or under
        ``annotations/``, as in GT's and nblabel's output layouts).
    task
        The task whose answers these are: each ``answerContent`` becomes its value
        (``Task.from_answer_content``). None keeps each ``answerContent`` as GT wrote it.

    Returns
    -------
    pandas.DataFrame
        One row per answer, ordered by iteration, item and file: ``dataset_object_id`` (int),
        ``iteration`` (int), ``worker``, ``value``, ``submitted`` (GT's ``submissionTime``
        string), ``file`` (path relative to the worker-response folder).

    Raises
    ------
    FileNotFoundError
        No worker-response folders at ``path``.
    WorkerResponseError
        A file is not valid JSON or an answer is malformed; the message names the file.
    """
    root = _root(Path(os.fspath(path)))
    # The folder may come from someone else: its files must be regular files inside it.
    guard = FileGuard(root, root_name="the worker-response folder")
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
                rows.extend(_read_file(file, rel, int(object_dir.name), iteration, task, guard))
    return pd.DataFrame(rows, columns=COLUMNS)


def _read_file(
    file: Path, rel: str, object_id: int, iteration: int, task: Task | None, guard: FileGuard
) -> list[tuple[Any, ...]]:
    try:
        doc = json.loads(guard.read(str(file), MASK_BYTES).decode("utf-8"))
    except MediaError as exc:
        raise WorkerResponseError(f"{file}: {exc.reason}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise WorkerResponseError(f"{file}: not a readable JSON file: {exc}") from None
    answers = doc.get("answers") if isinstance(doc, dict) else None
    if not isinstance(answers, list):
        raise WorkerResponseError(f"{file}: expected an object with an 'answers' list")
    rows = []
    for n, answer in enumerate(answers):
        where = f"{file}, answer {n}"
        if not isinstance(answer, dict) or not isinstance(answer.get("workerId"), str):
            raise WorkerResponseError(f"{where}: an answer needs a 'workerId' string")
        submitted = answer.get("submissionTime")
        if not isinstance(submitted, str):
            raise WorkerResponseError(f"{where}: an answer needs a 'submissionTime' string")
        value = answer.get("answerContent")
        if task is not None:
            try:
                value = task.from_answer_content(value)
            except ValueError as exc:
                raise WorkerResponseError(f"{where}: {exc}") from None
            except (KeyError, TypeError) as exc:
                raise WorkerResponseError(
                    f"{where}: the answer is malformed: {type(exc).__name__}: {exc}"
                ) from None
        if _utc(submitted) is None:  # it dates the answer, and export names files after it
            raise WorkerResponseError(
                f"{where}: submissionTime {submitted[:80]!r} is not an ISO 8601 time "
                "(such as 2020-12-28T18:59:58.321Z)"
            )
        rows.append((object_id, iteration, answer["workerId"], value, submitted, rel))
    return rows


def response_annotations(
    responses: pd.DataFrame,
    keys: Sequence[str],
    attribute: str,
    answer_value: Callable[[str, Any, str | None], Any],
    path: str | os.PathLike[str] = "",
) -> list[Annotation]:
    """Read worker responses (:func:`read_worker_responses` with the task) as people's answers.

    Each answer becomes a ``human`` annotation by its ``workerId``, dated by its
    ``submissionTime``, for the item on line ``datasetObjectId``. Its id is derived from its
    content, so storing the same files again stores nothing twice.

    Parameters
    ----------
    responses
        The answers read.
    keys
        The item keys by row position.
    attribute
        The label attribute.
    answer_value
        ``(key, value, name) -> stored value``: checks an answer and writes any file it needs
        (:meth:`nblabel.labeling.answers.AnswerLog.value`); ``name`` keeps a mask's file the same on every import.
    path
        Where the responses were read from, named in errors.

    Raises
    ------
    WorkerResponseError
        An answer names an item outside ``keys``, or ``answer_value`` refuses it.
    """
    batch = []
    for row in responses.itertuples(index=False):
        where = f"{path}/{row.file}"
        if not 0 <= row.dataset_object_id < len(keys):
            raise WorkerResponseError(
                f"{where}: datasetObjectId {row.dataset_object_id} is outside the job's {len(keys)} items"
            )
        key = keys[row.dataset_object_id]
        # A mask is written as a PNG first, named by who drew what when: importing again writes
        # the same file and stores nothing twice.
        name = None
        pixels = row.value.get("indices") if isinstance(row.value, Mapping) else row.value  # with attributes
        if isinstance(pixels, np.ndarray):
            name = hashlib.sha1(f"{row.worker}\0{row.submitted}".encode() + pixels.tobytes()).hexdigest()
        try:
            value = answer_value(key, row.value, name)
        except ValueError as exc:
            raise WorkerResponseError(f"{where}: {exc}") from None
        digest = hashlib.sha1(
            json.dumps([attribute, key, row.worker, row.submitted, value], sort_keys=True).encode()
        ).hexdigest()
        batch.append(
            Annotation(
                key, attribute, row.worker, "human", value, uid=digest, created=creation_date(row.submitted)
            )
        )
    return batch
