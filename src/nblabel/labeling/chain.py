"""Chained jobs: a job over an earlier job's output manifest, as Ground Truth chains them.

GT runs a job on the output manifest of an earlier one (SMDG sms-reusing-data.md). With the
**same** label attribute the earlier labels are kept and the job goes on with the objects that
have none (a stopped job continued; auto-labeling learns from the earlier answers too). With a
**new** attribute each object gets a second label beside the first.

:func:`carry_over` (called by :class:`nblabel.Job` when it opens) gives a job the first behaviour: every row whose ``<attribute>`` and
``<attribute>-metadata`` hold a label the task can read becomes a stored answer (once: the
answer's id is derived from the row's label, so opening the job again stores nothing twice).
A label a person gave (``human-annotated: "yes"``) is stored as a ``human`` answer by the earlier
job's name, so it counts as a person's label, leaves the queue and trains the auto-labeler, and a
person of this job can still change it (their later answer is the label); a machine label
(``"no"``) is stored as ``auto``, so it can still be reviewed and rejected. A new
attribute needs nothing: the earlier columns are input columns the job keeps.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

import pandas as pd

from nblabel.io.guard import CHECKED, FileGuard
from nblabel.labeling.answers import AnswerLog
from nblabel.manifest import is_missing
from nblabel.store import Annotation
from nblabel.tasks.attributes import FRAME_KEY, OBJECT_KEY

__all__ = ["CHAINED", "carry_over", "earlier_value"]

#: The id prefix of a carried-over label: :meth:`Job.to_dataframe` writes such a row's earlier
#: label and metadata unchanged, as GT leaves the objects a chained job does not send out.
CHAINED = "chain-"


def earlier_value(
    task: Any, label: Any, metadata: Mapping[str, Any], source: Any, guard: FileGuard = CHECKED
) -> Any:
    """An earlier job's GT label as ``task``'s answer, or None when the task cannot read it;
    a mask file is read under ``guard`` (the job's file rule).

    Classification reads ``class-name`` (single-label) or the label's indices through
    ``class-map`` (multi-label), with the metadata's ``frame-attributes``; boxes read the GT box
    object (:func:`read_boxes`); entities the text-span object (:meth:`NamedEntities.from_gt`);
    a segmentation mask is read by its ``internal-color-map`` (:func:`~nblabel.masks.read_gt_mask`,
    classes by name) with the attributes kept there; a verification verdict is its
    ``class-name`` with the ``worker-feedback`` comments; a custom task takes the label as it is.
    """
    from nblabel.masks import read_gt_mask
    from nblabel.tasks import (
        BoundingBox,
        CustomTask,
        ImageClassification,
        LabelVerification,
        NamedEntities,
        SemanticSegmentation,
        TextClassification,
    )
    from nblabel.tasks.boxes import read_boxes

    if isinstance(task, (ImageClassification, TextClassification)):
        if task.multi_label:
            names = {str(k): v for k, v in (metadata.get("class-map") or {}).items()}
            classes = [names[str(i)] for i in label] if isinstance(label, list) else None
        else:
            classes = metadata.get("class-name")
        frame = metadata.get(FRAME_KEY)
        if classes is None or not isinstance(frame, Mapping) or not frame:
            return classes
        return {"labels" if task.multi_label else "label": classes, FRAME_KEY: dict(frame)}
    if isinstance(task, BoundingBox):
        return read_boxes(label, metadata, task.labels)
    if isinstance(task, NamedEntities):
        return task.from_gt(label, source=source) or None
    if isinstance(task, SemanticSegmentation):
        indices, names = read_gt_mask(str(label), metadata, task.labels, guard=guard)
        colors = metadata.get("internal-color-map") or {}
        classes = {
            entry["class-name"]: dict(entry[OBJECT_KEY])
            for entry in colors.values()
            if isinstance(entry, Mapping) and entry.get(OBJECT_KEY) and entry.get("class-name") in names
        }
        values = {k: v for k, v in ((OBJECT_KEY, classes), (FRAME_KEY, metadata.get(FRAME_KEY))) if v}
        return {"indices": indices, **values}
    if isinstance(task, LabelVerification):
        feedback = metadata.get("worker-feedback") or []
        comments = [f["comment"] for f in feedback if isinstance(f, Mapping) and f.get("comment")]
        return {"verdict": metadata.get("class-name"), "comment": "\n".join(comments)}
    if isinstance(task, CustomTask):
        return label
    return None


def carry_over(log: AnswerLog, data: pd.DataFrame) -> int:
    """Store the labels a job's input ``data`` already has under the attribute of ``log`` (the
    job's answer log); returns how many were new.

    Raises
    ------
    ValueError
        A row's label does not fit the task (another task's label under the same attribute);
        the message names the row.
    """
    attribute, meta_column = log.attribute, f"{log.attribute}-metadata"
    if attribute not in data.columns or meta_column not in data.columns:
        return 0
    log.refresh()
    answered = log.ledger.items  # items with answers keep them: the job was opened before
    batch = []
    for position, (label, meta) in enumerate(zip(data[attribute], data[meta_column], strict=True)):
        if label is None or is_missing(label) or meta is None or is_missing(meta):
            continue
        key = log.items.keys[position]
        if key in answered:
            continue
        metadata = json.loads(meta) if isinstance(meta, str) else meta
        if not isinstance(metadata, Mapping):
            continue
        try:
            value = earlier_value(log.task, label, metadata, log.items.source_of(key), log.items.files)
            if value is None:
                continue
            # A mask is written as a file named after the row's label: the same on every opening.
            name = hashlib.sha256(json.dumps([key, str(label)]).encode("utf-8")).hexdigest()[:32]
            value = log.value(key, value, name)
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(
                f"row {position}: its {attribute!r} label does not fit this task: {exc}"
            ) from None
        human = str(metadata.get("human-annotated", "yes")).lower() != "no"
        earlier = str(metadata.get("job-name", "earlier-job")).removeprefix("labeling-job/")
        content = json.dumps([key, attribute, value, str(metadata.get("creation-date", ""))], sort_keys=True)
        confidence = metadata.get("confidence")
        batch.append(
            Annotation(
                item=key,
                attribute=attribute,
                annotator=earlier if human else f"auto:{earlier}",
                kind="human" if human else "auto",
                value=value,
                confidence=float(confidence) if isinstance(confidence, (int, float)) else None,
                uid=CHAINED + hashlib.sha256(content.encode("utf-8")).hexdigest()[:32],
                **({"created": str(metadata["creation-date"])} if metadata.get("creation-date") else {}),
            )
        )
    return len(log.store.append(batch)) if batch else 0
