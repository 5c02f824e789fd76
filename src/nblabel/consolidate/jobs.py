"""Consolidation, agreement and disagreements of a job's answers (what the ``Job`` methods call).

A job's answers are each person's current answer per item (:meth:`nblabel.Job.answers`); the
functions here pick the consolidation for the job's task, append the ``consolidated`` labels,
and compute the figures. They read and write only through the job and its store, so a
scheduled script can run them on a store without a widget.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Hashable, Mapping
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from nblabel.consolidate.agreement import agreement_table, category
from nblabel.consolidate.boxes import consolidate_boxes
from nblabel.consolidate.dawid_skene import dawid_skene, dawid_skene_multilabel
from nblabel.consolidate.gt import load_consolidation, save_consolidation
from nblabel.consolidate.masks import vote_masks
from nblabel.consolidate.result import Answers, Consolidation
from nblabel.consolidate.spans import consolidate_spans
from nblabel.consolidate.vote import majority_vote, majority_vote_multilabel
from nblabel.store import Annotation

if TYPE_CHECKING:
    from nblabel.job import Job
    from nblabel.tasks.base import Task

__all__ = [
    "AUTOMATIC",
    "consolidate_answers",
    "consolidate_job",
    "job_agreement",
    "job_answers",
    "job_disagreements",
]

#: Annotator-name prefix of consolidated labels computed by nblabel (a person's decision has a
#: person's name, and later runs leave it alone).
AUTOMATIC = "consolidate:"
METHODS = (None, "dawid-skene", "majority")


def consolidate_answers(task: Task, answers: Answers, method: str | None = None) -> Consolidation:
    """Consolidate answers with the method for ``task``: GT's by default, or ``"majority"``.

    Raises
    ------
    ValueError
        An unknown method, or majority vote for a task that is not classification.
    TypeError
        A task whose answers cannot be consolidated in a job.
    """
    if method not in METHODS:
        raise ValueError(
            f"method must be None (GT's algorithm for the task), 'dawid-skene' or 'majority', got {method!r}"
        )
    gt_type = getattr(task, "gt_type", "")
    if gt_type.endswith(("-classification", "-classification-multilabel")):
        labels = list(task.labels)  # type: ignore[attr-defined]
        multi = bool(getattr(task, "multi_label", False))
        if method == "majority":
            return (majority_vote_multilabel if multi else majority_vote)(answers, labels)
        return (dawid_skene_multilabel if multi else dawid_skene)(answers, labels)
    if method is not None:
        raise ValueError(f"method {method!r} is for classification; {task!r} has one consolidation")
    if gt_type == "groundtruth/object-detection":
        return consolidate_boxes(answers)
    if gt_type == "groundtruth/text-span":
        return consolidate_spans(answers)
    if gt_type == "groundtruth/semantic-segmentation":
        arrays = {key: [(who, _mask_indices(task, v)) for who, v in pairs] for key, pairs in answers.items()}
        return vote_masks(arrays)
    raise TypeError(f"consolidating the answers of {task!r} in a job is not supported")


def _mask_indices(task: Task, value: Any) -> np.ndarray:
    """A mask answer as class indices: a stored answer (``{"mask": path, ...}``) or an array."""
    if isinstance(value, Mapping) and "mask" in value:
        return task.indices(value)  # type: ignore[attr-defined]
    return np.asarray(value)


def _file_name(value: Any) -> str | None:
    """The file name of a consolidated mask: its pixels' digest, so that a rerun which finds the
    same mask writes the same file and sees the label unchanged. None for other values."""
    if isinstance(value, np.ndarray):
        return "consolidated-" + hashlib.sha1(value.tobytes()).hexdigest()[:16]
    return None


def job_answers(job: Job) -> dict[str, list[tuple[str, Any]]]:
    """Per item with answers, each person's current ``(annotator, value)``, in the order given."""
    job.refresh()
    out = {}
    for key in job.keys:
        given = job.answers(key)
        if given:
            out[key] = [(a.annotator, a.value) for a in given]
    return out


def _rounded(parts: Any) -> Any:
    if isinstance(parts, dict):
        return {k: round(v, 2) for k, v in parts.items()}
    if isinstance(parts, list):
        return [round(v, 2) for v in parts]
    return parts


def consolidate_job(job: Job, method: str | None = None, *, min_answers: int = 2) -> Consolidation:
    """Consolidate a job's answers and append the changed ``consolidated`` labels.

    See :meth:`nblabel.Job.consolidate`. The run's per-part confidences and per-annotator
    quality are stored first (:mod:`nblabel.consolidate.gt`), then all labels in one append.
    """
    if min_answers < 1:
        raise ValueError(f"min_answers must be at least 1, got {min_answers}")
    result = consolidate_answers(job.task, job_answers(job), method)
    record = load_consolidation(job.store, job.attribute)
    old_parts: dict[str, Any] = record.get("parts", {})
    who = AUTOMATIC + result.method
    batch: list[Annotation] = []
    parts: dict[str, Any] = {}
    for key, c in result.items.items():
        if c.answers < min_answers:
            continue
        value = job.answer_value(str(key), c.value, _file_name(c.value))
        current = job.current(str(key))
        if current is not None and current.kind == "consolidated":
            if not current.annotator.startswith(AUTOMATIC):
                continue  # a person's final decision stands
            unchanged = (
                current.value == value
                and current.confidence is not None
                and round(current.confidence, 2) == round(c.confidence, 2)
                and _rounded(old_parts.get(current.uid)) == _rounded(c.parts)
            )
            if unchanged:
                if current.uid in old_parts:
                    parts[current.uid] = old_parts[current.uid]
                continue
        annotation = Annotation(str(key), job.attribute, who, "consolidated", value, float(c.confidence))
        batch.append(annotation)
        if c.parts is not None:
            parts[annotation.uid] = c.parts
    for key in job.keys:  # parts of current labels this run did not touch stay
        current = job.current(key)
        if current is not None and current.uid in old_parts and current.uid not in parts:
            parts[current.uid] = old_parts[current.uid]
    save_consolidation(
        job.store,
        job.attribute,
        {
            "method": result.method,
            "created": datetime.now(timezone.utc).replace(tzinfo=None).isoformat(timespec="microseconds"),
            "quality": result.quality,
            "parts": parts,
        },
    )
    if batch:
        job.store.append(batch)
        job.refresh()
    return result


def _consolidated(job: Job) -> dict[Hashable, Any]:
    out: dict[Hashable, Any] = {}
    for key in job.keys:
        current = job.current(key)
        if current is not None and current.kind == "consolidated":
            out[key] = current.value
    return out


def job_agreement(job: Job) -> pd.DataFrame:
    """The agreement figures of a job's answers (see :func:`nblabel.consolidate.agreement_table`).

    Answers are compared as exact categories, so for boxes and entities the figures count
    identical answers only. ``agreement_with_consolidated`` appears once the job has
    consolidated labels, ``quality`` after :meth:`nblabel.Job.consolidate`.
    """
    answers = job_answers(job)
    consolidated = _consolidated(job)
    quality = load_consolidation(job.store, job.attribute).get("quality")
    return agreement_table(answers, consolidated or None, quality or None)


def job_disagreements(job: Job, n: int | None = None) -> pd.DataFrame:
    """Items whose answers differ, most disputed first (see :meth:`nblabel.Job.disagreements`)."""
    rows = []
    for key, pairs in job_answers(job).items():
        if len(pairs) < 2:
            continue
        counts = Counter(category(v) for _, v in pairs)
        share = counts.most_common(1)[0][1] / len(pairs)
        if share == 1.0:
            continue
        current = job.current(key)
        rows.append(
            (
                job.position(key),
                key,
                dict(pairs),
                share,
                None if current is None else current.value,
                float("nan") if current is None or current.confidence is None else current.confidence,
            )
        )
    frame = pd.DataFrame(rows, columns=["position", "key", "answers", "share", "label", "confidence"])
    frame = frame.sort_values(["share", "confidence", "position"], kind="stable", na_position="last")
    frame = frame.reset_index(drop=True)
    return frame if n is None else frame.head(n)
