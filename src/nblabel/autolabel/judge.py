"""A judge for preference tasks, calibrated against people like the classification auto-labeler.

A *judge* is any callable ``judge(prompt, responses) -> (answer, confidence)``: a user's LLM
client, a reward model, a heuristic. It proposes an answer for every item; the answers people
gave measure it. The judge never learns from those answers, so every one of them is held out.
The auto-labeling rule is classification's (:mod:`nblabel.autolabel.calibrate`): the threshold
is the lowest confidence at which the Wilson lower bound of the judge's agreement with people
(the share of exactly equal answers) reaches the target; without that evidence, nothing is
auto-labeled. Every open item gets the judge's proposal, which the widget shows and Enter
accepts, and the people's queue puts the judge's least confident items first.

A judge that raises, or returns something that is not an ``(answer, confidence)`` pair with a
valid answer and a confidence in [0, 1], stops the round with a :class:`JudgeError` naming the
item; all items are judged before anything is written, so nothing is auto-labeled from it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from nblabel.autolabel.auto_changes import auto_changes
from nblabel.autolabel.calibrate import Threshold, answers_needed, choose_threshold
from nblabel.autolabel.loop import RoundReport
from nblabel.store import Store
from nblabel.store.kinds import HUMAN_KINDS
from nblabel.store.ledger import Ledger
from nblabel.tasks.preference import PreferenceTask, response_text

__all__ = ["Judge", "JudgeError", "judge_items", "run_judge_round"]

Judge = Callable[[str, list[str]], Any]


class JudgeError(ValueError):
    """The judge failed on an item, or gave a malformed answer; the message names the item."""


def judge_items(
    task: PreferenceTask,
    judge: Judge,
    keys: Sequence[str],
    prompts: Sequence[str],
    responses: Sequence[list[str]],
) -> dict[str, tuple[Any, float]]:
    """The judge's checked ``(answer, confidence)`` for each item.

    Raises
    ------
    JudgeError
        On the first item the judge fails on or answers malformed, naming it and the cause.
    """
    out = {}
    for key, prompt, texts in zip(keys, prompts, responses, strict=True):
        try:
            result = judge(prompt, list(texts))
        except Exception as exc:
            raise JudgeError(f"item {key}: the judge failed: {type(exc).__name__}: {exc}") from exc
        if not (isinstance(result, (tuple, list)) and len(result) == 2):
            raise JudgeError(f"item {key}: a judge returns (answer, confidence), got {result!r}")
        answer, confidence = result
        try:
            value = task.validate(answer, key)
        except ValueError as exc:
            raise JudgeError(f"item {key}: the judge's answer is malformed: {exc}") from None
        if (
            isinstance(confidence, bool)
            or not isinstance(confidence, (int, float))
            or not 0 <= confidence <= 1
        ):
            raise JudgeError(
                f"item {key}: the judge's confidence must be a number in [0, 1], got {confidence!r}"
            )
        out[key] = (value, float(confidence))
    return out


def run_judge_round(
    task: PreferenceTask,
    judge: Judge,
    *,
    store: Store,
    ledger: Ledger,
    attribute: str,
    keys: Sequence[str],
    prompts: Sequence[Any],
    rows: Sequence[Mapping[str, Any]],
    target: float,
    z: float = 1.96,
) -> RoundReport:
    """Judge every item, calibrate on the people's answers, save the round (all or nothing).

    ``prompts`` are the items' sources, ``rows`` their input columns (the responses). Items
    with a person's answer are held out (their judge answer is compared with it);
    skipped items are left alone; open items get a proposal, and an auto-label when their
    confidence reaches the threshold (never those a person rejected an auto-label of).
    """
    ledger.apply(store.annotations(attribute, after=ledger.last_seq))
    if not 0.5 <= target < 1:
        raise ValueError(f"target_accuracy must be in [0.5, 1), got {target}")
    if not callable(judge):
        raise TypeError(
            f"a preference job auto-labels with judge=<callable(prompt, responses)>, got {judge!r}"
        )
    texts = [task.item_extras(row, None, {})["responses"] for row in rows]
    judged = judge_items(task, judge, keys, [response_text(p) for p in prompts], texts)
    held_conf, held_correct, open_keys = [], [], []
    for key in keys:
        label = ledger.label(key)
        if label is not None and label.kind in HUMAN_KINDS:
            held_conf.append(judged[key][1])
            held_correct.append(judged[key][0] == task.validate(label.value, key))
        elif not ledger.is_skipped(key):
            open_keys.append(key)
    previous = store.latest_round(attribute)
    report = RoundReport.maker(
        (previous[0] + 1) if previous else 1,
        len(held_conf),
        target,
        0,
        message="proposals and auto-labels from the judge",
    )
    cut = choose_threshold(np.array(held_conf), np.array(held_correct), target, z)
    fresh = {
        key: judged[key]
        for key in open_keys
        if judged[key][1] >= cut.threshold and not ledger.human_rejected(key)
    }
    queue = sorted((k for k in open_keys if k not in fresh), key=lambda k: judged[k][1])
    changes = auto_changes(ledger, attribute, "auto:judge", open_keys, fresh)
    proposals = [(key, judged[key][0], round(judged[key][1], 4)) for key in open_keys]
    needed = None if math.isfinite(cut.threshold) else _more_answers_needed(cut, target, z, len(held_conf))
    result = report(
        held_out=cut.n_held_out,
        threshold=cut.threshold,
        held_out_above=cut.n_above,
        estimated_accuracy=cut.accuracy,
        lower_bound=cut.lower_bound,
        auto_labeled=len(fresh),
        queued=len(queue),
        more_answers_needed=needed,
    )
    store.save_round(attribute, result.to_dict(), proposals, queue, changes)
    ledger.apply(store.annotations(attribute, after=ledger.last_seq))
    return result


def _more_answers_needed(cut: Threshold, target: float, z: float, answered: int) -> int | None:
    """About how many more answers Wilson's bound needs to reach ``target``, from the best cut's
    agreement and the share of held-out answers above it; None when no number would do."""
    count = answers_needed(cut.accuracy, target, z) if cut.n_above else None
    if count is None or not cut.n_held_out:
        return None
    share_above = cut.n_above / cut.n_held_out  # answers that land above the best cut
    return max(1, math.ceil(count / max(share_above, 1e-9)) - answered)
