"""The consolidation for a task: GT's method for its answers' shape, over plain answer lists.

:mod:`nblabel.labeling.consolidation` runs it on a job's answer log and appends the labels.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import numpy as np

from nblabel.consolidate.attributes import majority_attributes
from nblabel.consolidate.boxes import consolidate_boxes
from nblabel.consolidate.dawid_skene import dawid_skene, dawid_skene_multilabel
from nblabel.consolidate.masks import vote_masks
from nblabel.consolidate.result import Answers, Consolidation
from nblabel.consolidate.spans import consolidate_spans
from nblabel.consolidate.vote import majority_vote, majority_vote_multilabel
from nblabel.tasks.attributes import FRAME_KEY, OBJECT_KEY
from nblabel.tasks.classification import classes_of

if TYPE_CHECKING:
    from nblabel.tasks.base import Task

__all__ = ["AUTOMATIC", "BY_TYPE", "consolidate_answers", "mask_file_name"]

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
        classes = {key: [(who, classes_of(v)) for who, v in pairs] for key, pairs in answers.items()}
        if method == "majority":
            result = (majority_vote_multilabel if multi else majority_vote)(classes, labels)
        else:
            result = (dawid_skene_multilabel if multi else dawid_skene)(classes, labels)
        return _with_frame_attributes(result, answers, "labels" if multi else "label")
    if method is not None:
        raise ValueError(f"method {method!r} is for classification; {task!r} has one consolidation")
    if gt_type not in BY_TYPE:
        raise TypeError(f"consolidating the answers of {task!r} in a job is not supported")
    return BY_TYPE[gt_type](task, answers)


def _with_frame_attributes(result: Consolidation, answers: Answers, field: str) -> Consolidation:
    """The consolidated classes with the majority value of each frame attribute the answers give
    (GT's classifier answer shape, as :func:`~nblabel.tasks.classification.classes_of` reads)."""
    for key, c in result.items.items():
        frame = majority_attributes(v.get(FRAME_KEY) for _, v in answers[key] if isinstance(v, Mapping))
        if frame:
            result.items[key] = replace(c, value={field: c.value, FRAME_KEY: frame})
    return result


def _vote_masks(task: Task, answers: Answers) -> Consolidation:
    arrays = {key: [(who, _mask_indices(task, v)) for who, v in pairs] for key, pairs in answers.items()}
    result = vote_masks(arrays)
    if getattr(task, "attributes", None) is None:
        return result
    # Attribute values by majority: a class's among the answers that painted it, kept for the
    # classes the voted mask has; the image's among all.
    labels = list(task.labels)  # type: ignore[attr-defined]
    for key, c in result.items.items():
        given = [v for _, v in answers[key] if isinstance(v, Mapping)]
        classes = {}
        for index in np.unique(c.value):
            if index > 0:
                name = labels[int(index) - 1]
                chosen = majority_attributes((v.get(OBJECT_KEY) or {}).get(name) for v in given)
                if chosen:
                    classes[name] = chosen
        values = {OBJECT_KEY: classes, FRAME_KEY: majority_attributes(v.get(FRAME_KEY) for v in given)}
        values = {k: v for k, v in values.items() if v}
        if values:
            result.items[key] = replace(c, value={"indices": c.value, **values})
    return result


def _mask_indices(task: Task, value: Any) -> np.ndarray:
    """A mask answer as class indices: a stored answer (``{"mask": path, ...}``) or an array."""
    if isinstance(value, Mapping) and "mask" in value:
        return task.indices(value)  # type: ignore[attr-defined]
    return np.asarray(value)


#: GT's consolidation for each task type other than classification (whose types vary with the
#: media and take a method): the task's ``gt_type`` → the function over its answer lists.
BY_TYPE: dict[str, Callable[[Task, Answers], Consolidation]] = {
    "groundtruth/object-detection": lambda _task, answers: consolidate_boxes(answers),
    "groundtruth/text-span": lambda _task, answers: consolidate_spans(answers),
    "groundtruth/semantic-segmentation": _vote_masks,
}


def mask_file_name(value: Any) -> str | None:
    """The file name of a consolidated mask: its pixels' digest, so that a rerun which finds the
    same mask writes the same file and sees the label unchanged. None for other values."""
    if isinstance(value, Mapping) and isinstance(value.get("indices"), np.ndarray):  # with attributes
        value = value["indices"]
    if isinstance(value, np.ndarray):
        return "consolidated-" + hashlib.sha1(value.tobytes()).hexdigest()[:16]
    return None
