"""Consolidation, agreement and disagreements of a job's answers, on its answer log.

A job's answers are each person's current answer per item (:meth:`AnswerLog.answers`); the
functions here pick the consolidation for the job's task (:mod:`nblabel.consolidate`), append
the ``consolidated`` labels, and compute the figures. They read and write only through the log
and its store, so a scheduled script can run them on a store without a widget.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable
from datetime import datetime, timezone
from typing import Any

import pandas as pd

from nblabel.consolidate.agreement import agreement_table, category
from nblabel.consolidate.for_task import AUTOMATIC, consolidate_answers, mask_file_name
from nblabel.consolidate.gt import load_consolidation, save_consolidation
from nblabel.consolidate.result import Consolidation
from nblabel.labeling.answers import AnswerLog
from nblabel.store import Annotation

__all__ = ["agreement", "answer_lists", "consolidate", "disagreements"]


def answer_lists(log: AnswerLog) -> dict[str, list[tuple[str, Any]]]:
    """Per item with answers, each person's current ``(annotator, value)``, in the order given."""
    log.refresh()
    out = {}
    for key in log.items.keys:
        given = log.answers(key)
        if given:
            out[key] = [(a.annotator, a.value) for a in given]
    return out


def _rounded(parts: Any) -> Any:
    if isinstance(parts, dict):
        return {k: round(v, 2) for k, v in parts.items()}
    if isinstance(parts, list):
        return [round(v, 2) for v in parts]
    return parts


def consolidate(log: AnswerLog, method: str | None = None, *, min_answers: int = 2) -> Consolidation:
    """Consolidate a job's answers and append the changed ``consolidated`` labels.

    See :meth:`nblabel.Job.consolidate`. The run's per-part confidences and per-annotator
    quality are stored first (:mod:`nblabel.consolidate.gt`), then all labels in one append.
    """
    if min_answers < 1:
        raise ValueError(f"min_answers must be at least 1, got {min_answers}")
    result = consolidate_answers(log.task, answer_lists(log), method)
    record = load_consolidation(log.store, log.attribute)
    old_parts: dict[str, Any] = record.get("parts", {})
    who = AUTOMATIC + result.method
    batch: list[Annotation] = []
    parts: dict[str, Any] = {}
    for key, c in result.items.items():
        if c.answers < min_answers:
            continue
        value = log.value(str(key), c.value, mask_file_name(c.value))
        current = log.current(str(key))
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
        annotation = Annotation(str(key), log.attribute, who, "consolidated", value, float(c.confidence))
        batch.append(annotation)
        if c.parts is not None:
            parts[annotation.uid] = c.parts
    for key in log.items.keys:  # parts of current labels this run did not touch stay
        current = log.current(key)
        if current is not None and current.uid in old_parts and current.uid not in parts:
            parts[current.uid] = old_parts[current.uid]
    save_consolidation(
        log.store,
        log.attribute,
        {
            "method": result.method,
            "created": datetime.now(timezone.utc).replace(tzinfo=None).isoformat(timespec="microseconds"),
            "quality": result.quality,
            "parts": parts,
        },
    )
    log.append(batch)
    return result


def _consolidated(log: AnswerLog) -> dict[Hashable, Any]:
    out: dict[Hashable, Any] = {}
    for key in log.items.keys:
        current = log.current(key)
        if current is not None and current.kind == "consolidated":
            out[key] = current.value
    return out


def agreement(log: AnswerLog) -> pd.DataFrame:
    """The agreement figures of a job's answers (see :func:`nblabel.consolidate.agreement_table`).

    Answers are compared as exact categories, so for boxes and entities the figures count
    identical answers only. ``agreement_with_consolidated`` appears once the job has
    consolidated labels, ``quality`` after :meth:`nblabel.Job.consolidate`.
    """
    answers = answer_lists(log)
    consolidated = _consolidated(log)
    quality = load_consolidation(log.store, log.attribute).get("quality")
    return agreement_table(answers, consolidated or None, quality or None)


def disagreements(log: AnswerLog, n: int | None = None) -> pd.DataFrame:
    """Items whose answers differ, most disputed first (see :meth:`nblabel.Job.disagreements`)."""
    rows = []
    for key, pairs in answer_lists(log).items():
        if len(pairs) < 2:
            continue
        counts = Counter(category(v) for _, v in pairs)
        share = counts.most_common(1)[0][1] / len(pairs)
        if share == 1.0:
            continue
        current = log.current(key)
        rows.append(
            (
                log.items.positions[key],
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
