"""Worker timing and identity, as Ground Truth's worker-response files record them, and the
per-annotator figures :meth:`nblabel.Job.stats` reports.

The browser measures each answer's ``acceptanceTime`` (the item was shown), ``submissionTime``
and ``timeSpentInSeconds`` (active time: pauses of more than 30 s with no input, and time in a
hidden tab, do not count; js/lib/timing.js). The feed checks them (:func:`check_timing`) and
stores them with who answered (:func:`worker_identity`) in the answer's ``meta`` (``"timing"``,
``"worker"``); the GT export writes them into the worker-response files. An answer to an item
shown with a proposal also records whether it took the proposal unchanged (``"proposal"``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from nblabel.labeling.answers import AnswerLog
from nblabel.store import Annotation
from nblabel.store.kinds import PERSON_KINDS
from nblabel.tasks.classification import plain_classes

__all__ = ["MAX_SECONDS", "PROPOSAL", "check_timing", "stats", "worker_identity"]

#: The answer meta key saying whether a person took the item's proposal as it was proposed.
PROPOSAL = "proposal"

#: The longest time on one item a browser may report (a day); more is a forged or broken clock.
MAX_SECONDS = 86_400.0
# The browser's two clocks (wall and monotonic) may disagree by a little.
_SLACK_SECONDS = 2.0


def _instant(value: Any, name: str) -> datetime:
    if not isinstance(value, str) or len(value) > 40:
        raise ValueError(f"timing {name} must be an ISO time like 2020-12-28T18:59:15.191Z, got {value!r}")
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(
            f"timing {name} must be an ISO time like 2020-12-28T18:59:15.191Z, got {value!r}"
        ) from None
    if when.tzinfo is None:
        raise ValueError(f"timing {name} must say its time zone (Z for UTC), got {value!r}")
    return when


def check_timing(timing: Any) -> dict[str, Any]:
    """The browser's timing of an answer, checked: ``acceptanceTime`` and ``submissionTime``
    (ISO times with a zone, in that order) and ``timeSpentInSeconds`` (a number from 0 to the
    time between them, at most :data:`MAX_SECONDS`), rounded to milliseconds.

    Raises
    ------
    ValueError
        Anything else; the message says which field and why.
    """
    if not isinstance(timing, Mapping):
        raise ValueError(
            f"timing is an object with acceptanceTime, submissionTime, timeSpentInSeconds; got {timing!r}"
        )
    accepted = _instant(timing.get("acceptanceTime"), "acceptanceTime")
    submitted = _instant(timing.get("submissionTime"), "submissionTime")
    wall = (submitted - accepted).total_seconds()
    if wall < -_SLACK_SECONDS:
        raise ValueError(f"timing: submissionTime {timing['submissionTime']} is before acceptanceTime")
    spent = timing.get("timeSpentInSeconds")
    if isinstance(spent, bool) or not isinstance(spent, (int, float)) or not math.isfinite(spent):
        raise ValueError(f"timing timeSpentInSeconds must be a number, got {spent!r}")
    if not 0 <= spent <= min(MAX_SECONDS, max(wall, 0) + _SLACK_SECONDS):
        raise ValueError(
            f"timing timeSpentInSeconds must be between 0 and the {max(wall, 0):.3f} s between acceptance "
            f"and submission (at most {MAX_SECONDS:.0f}), got {spent}"
        )
    return {
        "acceptanceTime": timing["acceptanceTime"],
        "submissionTime": timing["submissionTime"],
        "timeSpentInSeconds": round(float(spent), 3),
    }


def worker_identity(annotator: str) -> dict[str, Any]:
    """GT's ``workerId`` and ``workerMetadata`` for an nblabel annotator (GT names the identity
    provider, here nblabel itself, and the worker's subject id)."""
    return {
        "workerId": annotator,
        "workerMetadata": {"identityData": {"identityProviderType": "nblabel", "sub": annotator}},
    }


def stats(log: AnswerLog) -> pd.DataFrame:
    """Per annotator of a job's log: ``items`` answered, ``answers`` (their live answers and
    skips), ``median_seconds`` and ``p90_seconds`` of active time per item (the sum of the item's
    answers and skips the browser timed), ``agreement`` (the share of their current labels equal to the item's
    consolidated label, over items that have one) and ``accepted_unchanged`` (the share of their
    answers to items shown with a proposal that took it as it was proposed: the same class or
    classes, the same entities, proposed boxes accepted with none adjusted, deleted or added;
    masks are not counted). NaN where nothing counts.
    """
    log.refresh()
    by_person: dict[str, list[Annotation]] = {}
    consolidated: dict[str, Any] = {}
    for key, state in log.ledger.items.items():
        label = state.label()
        if label is not None and label.kind == "consolidated":
            consolidated[key] = label.value
        for a in state.live:
            if a.kind in PERSON_KINDS or a.kind == "skip":
                by_person.setdefault(a.annotator, []).append(a)
    rows = []
    for who, given in sorted(by_person.items()):
        # Seconds per item: an item answered again (or skipped, then answered) took the sum.
        per_item: dict[str, float] = {}
        for a in given:
            if a.meta and isinstance(a.meta.get("timing"), Mapping):
                per_item[a.item] = per_item.get(a.item, 0.0) + float(a.meta["timing"]["timeSpentInSeconds"])
        seconds = list(per_item.values())
        current: dict[str, Any] = {}
        for a in sorted(given, key=lambda a: a.seq):
            if a.kind in PERSON_KINDS:
                current[a.item] = a.value
        shared = [k for k in current if k in consolidated]
        agree = sum(_same(current[k], consolidated[k]) for k in shared)
        unchanged = [
            bool(a.meta[PROPOSAL]["unchanged"])
            for a in given
            if a.kind in PERSON_KINDS and a.meta and isinstance(a.meta.get(PROPOSAL), Mapping)
        ]
        rows.append(
            {
                "annotator": who,
                "items": len(current),
                "answers": len(given),
                "median_seconds": float(np.median(seconds)) if seconds else math.nan,
                "p90_seconds": float(np.percentile(seconds, 90)) if seconds else math.nan,
                "agreement": agree / len(shared) if shared else math.nan,
                "accepted_unchanged": sum(unchanged) / len(unchanged) if unchanged else math.nan,
            }
        )
    columns = [
        "annotator",
        "items",
        "answers",
        "median_seconds",
        "p90_seconds",
        "agreement",
        "accepted_unchanged",
    ]
    return pd.DataFrame(rows, columns=columns).set_index("annotator")


def _same(a: Any, b: Any) -> bool:
    """Labels equal for agreement: box and entity values compared without the answer's own
    bookkeeping (proposal actions, per-box scores), classes without their frame attributes."""
    a, b = plain_classes(a), plain_classes(b)
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        skip = {"actions", "objects"}
        return {k: v for k, v in a.items() if k not in skip} == {k: v for k, v in b.items() if k not in skip}
    return bool(a == b)
