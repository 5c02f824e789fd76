"""A job's result in Ground Truth's output layout, to a local folder or an S3 prefix.

``Job.export(destination)`` writes, under ``<destination>/<job name>/`` (gt-formats.md §7):

- ``manifests/output/output.manifest``: the augmented manifest (:meth:`Job.to_dataframe`), one
  line per input line, in GT's compact JSON spelling;
- ``annotations/worker-response/iteration-1/<datasetObjectId>/<YYYY-MM-DD_HH:MM:SS>.json``: per
  item, every person's current answer, as GT's worker-response files (§5.5)
  ``{"answers":[{"answerContent":{"crowd-image-classifier":{"label":"cat"}},
  "submissionTime":"…Z","workerId":"<annotator>"}]}`` (``crowd-classifier`` for texts,
  ``…-multi-select`` with ``labels`` for multi-label tasks). ``datasetObjectId`` is the item's
  line number in the input manifest, counted from 0, as in GT;
- ``annotations/consolidated-annotation/consolidation-response/iteration-1/<timestamp>.json``:
  GT's consolidation response, ``[{"datasetObjectId":"0","consolidatedAnnotation":{"content":
  {"<attr>":…,"<attr>-metadata":{…}}}}, …]``, for the items labeled by people.

- ``annotations/consolidated-annotation/output/<datasetObjectId>_<creation-date>.png``: for
  semantic segmentation, each labeled item's mask (an indexed PNG); the output manifest's
  ``<attr>`` then names that file (its ``s3://`` URI on S3, its path locally), as GT's does.

An export is all or nothing as far as storage allows. The output manifest, which is what
SageMaker and GT's tools read, is written last. Locally the files are written in a hidden
staging folder and moved into place at the end. On S3 every object is written whole (a failed
multipart upload is aborted), and when any write fails the objects this export already wrote
are deleted again; the error names the object that failed and the cause.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import secrets
import shutil
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nblabel.io import is_s3_uri
from nblabel.io.progress import Progress
from nblabel.io.s3 import (
    S3Error,
    S3ObjectExists,
    S3Writer,
    default_client,
    delete_keys,
    list_keys,
    parse_s3_uri,
)
from nblabel.manifest import is_missing, write_manifest
from nblabel.store.kinds import HUMAN_KINDS
from nblabel.tasks.boxes import BoundingBox
from nblabel.tasks.classification import Classification
from nblabel.tasks.custom import CustomTask
from nblabel.tasks.segmentation import SemanticSegmentation
from nblabel.tasks.verification import LabelVerification

if TYPE_CHECKING:
    from nblabel.job import Job

__all__ = ["ExportError", "ExportResult", "export_job", "worker_responses"]

log = logging.getLogger(__name__)

MANIFEST = "manifests/output/output.manifest"
WORKER_RESPONSES = "annotations/worker-response"
CONSOLIDATION = "annotations/consolidated-annotation/consolidation-response"
MASKS = "annotations/consolidated-annotation/output"
#: The sub-folders an export owns: replaced by ``overwrite=True``; anything else is left alone.
OWNED = ("annotations/worker-response/", "annotations/consolidated-annotation/", "manifests/output/")
_PARALLEL = 8  # concurrent S3 uploads of small objects


class ExportError(OSError):
    """An export that failed; names the destination, the file that failed and the cause.

    Attributes
    ----------
    destination
        The export's folder (``…/<job>/``).
    key
        The file, relative to ``destination``, that could not be written (None if the failure
        was not about one file).
    reason
        The cause in words, plus what was cleaned up.
    """

    def __init__(self, destination: str, key: str | None, reason: str) -> None:
        self.destination = destination
        self.key = key
        self.reason = reason
        where = f" while writing {key}" if key else ""
        super().__init__(f"export to {destination} failed{where}: {reason}")


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


# -- GT's worker-response and consolidation files ---------------------------------------------------


def _answer_content(task: Any, value: Any) -> dict[str, Any]:
    """GT's worker ``answerContent`` for one answer (gt-formats §2.5, §2.6, §5.5)."""
    if isinstance(task, CustomTask):  # a custom task's answer is its template's form output
        return value
    if isinstance(task, BoundingBox):  # crowd-bounding-box, named "boundingBox" in GT's templates
        size = value["image_size"][0]
        boxes = [
            {
                "height": b["height"],
                "label": task.labels[b["class_id"]],
                "left": b["left"],
                "top": b["top"],
                "width": b["width"],
            }
            for b in value["annotations"]
        ]
        return {
            "boundingBox": {
                "boundingBoxes": boxes,
                "inputImageProperties": {"height": size["height"], "width": size["width"]},
            }
        }
    if isinstance(task, SemanticSegmentation):  # crowd-semantic-segmentation: a base64 PNG and colours
        indices = task.indices(value)
        return {
            "crowd-semantic-segmentation": {
                "inputImageProperties": {"height": int(indices.shape[0]), "width": int(indices.shape[1])},
                "labelMappings": {name: {"color": task.colors[i + 1]} for i, name in enumerate(task.labels)},
                "labeledImage": {"pngImageData": base64.b64encode(Path(value["mask"]).read_bytes()).decode()},
            }
        }
    if isinstance(task, LabelVerification):  # GT verifies with crowd-image-classifier and an overlay
        answer: dict[str, Any] = {"crowd-image-classifier": {"label": value["verdict"]}}
        if value.get("comment"):
            answer["workerComment"] = value["comment"]
        return answer
    element, field = _element(task)
    return {element: {field: value}}


def _element(task: Any) -> tuple[str, str]:
    """GT's crowd HTML element for a classification task and the key its answer goes under."""
    if not isinstance(task, Classification):
        raise TypeError(f"exporting worker responses of {task!r} is not supported yet")
    element = "crowd-image-classifier" if task.media == "image" else "crowd-classifier"
    if task.multi_label:
        return element + "-multi-select", "labels"
    return element, "label"


def _submission_time(created: str) -> str:
    """GT's ``submissionTime`` (``2020-12-28T18:59:58.321Z``) from a stored UTC timestamp."""
    try:
        moment = datetime.fromisoformat(created.replace("Z", "+00:00"))
    except ValueError:
        return created
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc).replace(tzinfo=None)
    return moment.isoformat(timespec="milliseconds") + "Z"


def _file_time(created: str) -> str:
    """GT's file-name timestamp ``YYYY-MM-DD_HH:MM:SS``."""
    stamp = _submission_time(created)
    return stamp[:10] + "_" + stamp[11:19]


def worker_responses(job: Job) -> dict[int, list[dict[str, Any]]]:
    """Every person's current answer per item, as GT's worker-response ``answers`` lists.

    An answer is an annotator's latest live (not undone) ``human`` or ``verified`` answer;
    skips and auto-labels are not worker answers. Answers are in the order they were given.

    Returns
    -------
    dict
        Row position (GT's ``datasetObjectId``) to its ``answers`` list; items nobody answered
        are absent.
    """
    job.refresh()
    out: dict[int, list[dict[str, Any]]] = {}
    for position, key in enumerate(job.keys):
        given = job.answers(key)
        if given:
            out[position] = [
                {
                    "answerContent": _answer_content(job.task, a.value),
                    "submissionTime": _submission_time(a.created),
                    "workerId": a.annotator,
                }
                for a in given
            ]
    return out


def _dumps(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode("utf-8")


# -- where the files go ------------------------------------------------------------------------


class _LocalTarget:
    """Files in a staging folder beside the destination, moved into place at commit."""

    def __init__(self, destination: str | os.PathLike[str], job: str, overwrite: bool) -> None:
        self.parent = Path(os.fspath(destination)).expanduser()
        self.root = self.parent / job
        self.label = str(self.root) + os.sep
        self.overwrite = overwrite
        self.staging: Path | None = None

    def begin(self) -> None:
        if not self.overwrite and self.root.exists() and any(self.root.iterdir()):
            raise FileExistsError(f"{self.label} already holds an export (pass overwrite=True to replace it)")
        self.parent.mkdir(parents=True, exist_ok=True)
        self.staging = self.parent / f".{self.root.name}.export-{secrets.token_hex(6)}"
        self.staging.mkdir()

    def write(self, key: str, fill: Callable[[Any], None], *, last: bool = False) -> None:
        assert self.staging is not None
        path = self.staging / key
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as fh:
            fill(fh)

    def put(self, key: str, data: bytes) -> None:
        self.write(key, lambda fh: fh.write(data))

    def commit(self) -> None:
        assert self.staging is not None
        for path in self.staging.rglob("*"):  # the data reaches the disk before the move
            if path.is_file():
                with path.open("rb") as fh:
                    os.fsync(fh.fileno())
        if not self.root.exists():
            os.rename(self.staging, self.root)
            self.staging = None
            return
        if not self.overwrite and any(self.root.iterdir()):
            raise FileExistsError(f"{self.label} appeared while the export was being written; not replaced")
        trash = self.parent / f".{self.root.name}.old-{secrets.token_hex(6)}"
        trash.mkdir()
        for owned in OWNED:  # the manifest's folder last: readers look there first
            old, new = self.root / owned, self.staging / owned
            if old.exists():
                (trash / owned).parent.mkdir(parents=True, exist_ok=True)
                os.rename(old, trash / owned)
            if new.exists():
                old.parent.mkdir(parents=True, exist_ok=True)
                os.rename(new, old)
        shutil.rmtree(trash, ignore_errors=True)
        shutil.rmtree(self.staging, ignore_errors=True)
        self.staging = None

    def rollback(self) -> str:
        if self.staging is not None:
            shutil.rmtree(self.staging, ignore_errors=True)
            self.staging = None
        return "nothing was moved into place"

    def manifest(self) -> str:
        return str(self.root / MANIFEST)

    def location(self, key: str) -> str:
        """Where a file of the export will be once it is in place."""
        return str(self.root / key)


class _S3Target:
    """Objects under ``s3://bucket/prefix/<job>/``; the manifest last; deleted again on failure."""

    def __init__(self, destination: str, job: str, overwrite: bool, client: Any) -> None:
        bucket, prefix = parse_s3_uri(destination)
        prefix = prefix.strip("/")
        self.bucket = bucket
        self.prefix = f"{prefix}/{job}/" if prefix else f"{job}/"
        self.label = f"s3://{bucket}/{self.prefix}"
        self.overwrite = overwrite
        self.client = client if client is not None else default_client()
        self.before: set[str] = set()
        self.written: list[str] = []

    def begin(self) -> None:
        if not self.overwrite:
            if next(iter(list_keys(self.label, client=self.client, limit=1)), None) is not None:
                raise S3ObjectExists(
                    self.label, "export to", "an export is already there (pass overwrite=True to replace it)"
                )
        else:
            self.before = {
                k
                for k in list_keys(self.label, client=self.client)
                if k[len(self.prefix) :].startswith(OWNED)
            }

    def _uri(self, key: str) -> str:
        return f"s3://{self.bucket}/{self.prefix}{key}"

    def write(self, key: str, fill: Callable[[Any], None], *, last: bool = False) -> None:
        # Only the manifest is written conditionally: the prefix was empty when the export began.
        conditional = last and not self.overwrite
        with S3Writer(self._uri(key), overwrite=not conditional, client=self.client) as out:
            fill(out)
        self.written.append(self.prefix + key)

    def put(self, key: str, data: bytes) -> None:
        content_type = "image/png" if key.endswith(".png") else "application/json"
        with S3Writer(self._uri(key), client=self.client, content_type=content_type, progress=False) as out:
            out.write(data)
        self.written.append(self.prefix + key)

    def commit(self) -> None:
        stale = self.before - set(self.written)
        if stale:
            failed = delete_keys(self.bucket, sorted(stale), client=self.client)
            if failed:
                log.warning(
                    "%s: %d files of the previous export could not be removed", self.label, len(failed)
                )

    def rollback(self) -> str:
        new = [k for k in self.written if k not in self.before]
        if not new:
            return "no object had been written"
        failed = delete_keys(self.bucket, new, client=self.client)
        if failed:
            return f"{len(new) - len(failed)} objects already written were removed, {len(failed)} could not be: {failed[:5]}"
        return f"the {len(new)} objects already written were removed"

    def manifest(self) -> str:
        return self._uri(MANIFEST)

    def location(self, key: str) -> str:
        """Where a file of the export will be once it is in place."""
        return self._uri(key)


# -- the export ------------------------------------------------------------------------------


def export_job(
    job: Job,
    destination: str | os.PathLike[str],
    *,
    overwrite: bool = False,
    labeled_only: bool = False,
    client: Any = None,
    progress: bool | None = None,
) -> ExportResult:
    """Write a job's result in Ground Truth's output layout (see the module docstring).

    Parameters
    ----------
    job
        The job.
    destination
        A local folder or an ``s3://bucket/prefix/`` URI; the export goes to its ``<job name>/``.
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

    Returns
    -------
    ExportResult

    Raises
    ------
    FileExistsError
        An export is already there (``nblabel.io.s3.S3ObjectExists`` on S3).
    ExportError
        A file could not be written; the files this export wrote were removed again.
    """
    if is_s3_uri(destination):
        target: _LocalTarget | _S3Target = _S3Target(str(destination), job.name, overwrite, client)
    else:
        target = _LocalTarget(destination, job.name, overwrite)
    output = job.to_dataframe()
    masks = _mask_files(job, output, target.location)
    manifest = output
    if labeled_only:
        manifest = output[[not is_missing(v) for v in output[job.attribute]]]
    answers = worker_responses(job)
    consolidated = _consolidation(job, output)
    small: list[tuple[str, bytes]] = masks + [
        (
            f"{WORKER_RESPONSES}/iteration-1/{position}/{_file_time(max(a['submissionTime'] for a in items))}.json",
            _dumps({"answers": items}),
        )
        for position, items in sorted(answers.items())
    ]
    if consolidated:
        latest = max(created for created, _ in consolidated)
        small.append(
            (
                f"{CONSOLIDATION}/iteration-1/{_file_time(latest)}.json",
                _dumps([entry for _, entry in consolidated]),
            )
        )
    target.begin()
    bar = Progress(f"export to {target.label}", len(small) + 1, unit="files", enabled=progress, threshold=500)
    try:
        _put_all(target, small, bar)
        try:
            target.write(MANIFEST, lambda fh: write_manifest(manifest, fh), last=True)
        except FileExistsError:
            raise
        except Exception as exc:
            raise _Failed(MANIFEST, exc) from exc
        bar.update(1)
        target.commit()
    except FileExistsError as exc:
        # Another export finished first: its files are in place; leave them alone.
        if isinstance(target, _LocalTarget):
            target.rollback()
        raise FileExistsError(
            f"{target.label}: another export was written meanwhile; not replaced ({exc})"
        ) from exc
    except Exception as exc:
        cleanup = target.rollback()
        failed = exc if isinstance(exc, _Failed) else None
        reason = failed.reason if failed else f"{type(exc).__name__}: {exc}"
        raise ExportError(target.label, failed.key if failed else None, f"{reason}; {cleanup}") from (
            failed.cause if failed else exc
        )
    finally:
        bar.close()
    labeled = sum(1 for value in output[job.attribute] if not is_missing(value))
    return ExportResult(
        destination=target.label,
        manifest=target.manifest(),
        items=len(manifest),
        labeled=labeled,
        worker_responses=len(answers),
        files=len(small) + 1,
    )


def _mask_files(job: Job, output: Any, location: Callable[[str], str]) -> list[tuple[str, bytes]]:
    """GT's mask files of a segmentation job, ``<datasetObjectId>_<creation-date>.png``; the
    output's ``<attr>`` is changed to name each file where the export puts it."""
    if not isinstance(job.task, SemanticSegmentation):
        return []
    files = []
    attr = job.attribute
    for position, key in enumerate(job.keys):
        label = job.current(key)
        if label is None:
            continue
        name = f"{MASKS}/{position}_{label.created}.png"
        try:
            data = Path(label.value["mask"]).read_bytes()
        except OSError as exc:
            raise ExportError(location(""), name, f"cannot read the mask of row {position}: {exc}") from exc
        files.append((name, data))
        output.at[position, attr] = location(name)
    return files


def _consolidation(job: Job, output: Any) -> list[tuple[str, dict[str, Any]]]:
    """(created, GT consolidation-response entry) for each item labeled by people."""
    attr, meta = job.attribute, f"{job.attribute}-metadata"
    entries = []
    for position, key in enumerate(job.keys):
        label = job.current(key)
        if label is None or label.kind not in HUMAN_KINDS or is_missing(output.at[position, attr]):
            continue  # missing: a custom task's post-annotation function gave no label
        content = {attr: output.at[position, attr], meta: output.at[position, meta]}
        entries.append(
            (
                label.created,
                {"datasetObjectId": str(position), "consolidatedAnnotation": {"content": content}},
            )
        )
    return entries


def _put_all(target: _LocalTarget | _S3Target, files: list[tuple[str, bytes]], bar: Progress) -> None:
    """Write the small files (several at a time on S3); raises :class:`_Failed` naming the file."""
    if isinstance(target, _LocalTarget):
        for key, data in files:
            try:
                target.put(key, data)
            except Exception as exc:
                raise _Failed(key, exc) from exc
            bar.update(1)
        return
    with ThreadPoolExecutor(max_workers=_PARALLEL, thread_name_prefix="nblabel-export") as pool:
        pending: dict[Future[None], str] = {}
        for key, data in files:
            pending[pool.submit(target.put, key, data)] = key
            if len(pending) >= 4 * _PARALLEL:  # bounded: a million files are not all queued at once
                _collect(pending, bar, wait(pending, return_when=FIRST_COMPLETED).done)
        _collect(pending, bar, wait(pending).done)


def _collect(pending: dict[Future[None], str], bar: Progress, done: set[Future[None]]) -> None:
    for future in done:
        key = pending.pop(future)
        exc = future.exception()
        if exc is not None:
            for other in pending:
                other.cancel()
            wait(pending)  # let uploads in flight end, so that the rollback sees every written key
            raise _Failed(key, exc) from exc
        bar.update(1)


class _Failed(Exception):
    """A file of the export could not be written."""

    def __init__(self, key: str, cause: BaseException) -> None:
        self.key = key
        self.cause = cause
        self.reason = str(cause) if isinstance(cause, S3Error) else f"{type(cause).__name__}: {cause}"
        super().__init__(f"{key}: {self.reason}")
