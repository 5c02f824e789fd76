"""A judge for preference tasks, calibrated against people like the classification auto-labeler.

A *judge* is any callable ``judge(prompt, responses) -> (answer, confidence)``: a user's LLM
client, a reward model, a heuristic. It proposes an answer for every item; the answers people
gave measure it. The judge never learns from those answers, so every one of them is held out.
The auto-labeling rule is classification's, with the same functions: the threshold is the lowest
confidence at which the design-based lower bound of the judge's agreement with people (the share
of exactly equal answers) reaches the target
(:func:`~nblabel.autolabel.design_bound.choose_design_threshold`: answers to the queue's random
draws weighted by the inverse of their probability, every other answer counting as itself, a
betting bound valid whatever cut the scan picks); without that evidence (no random draws, or too
few), nothing is auto-labeled. Every open item gets the judge's proposal, which the widget shows
and Enter accepts, and the people's queue puts the judge's least confident items first,
interleaved with random draws (classification's ``_interleave``), each remembered in the round's
report (:func:`~nblabel.autolabel.asked.queue_draws`) so the answers to them carry the bound.

A judge that raises, or returns something that is not an ``(answer, confidence)`` pair with a
valid answer and a confidence in [0, 1], stops the round with a :class:`JudgeError` naming the
item; all items are judged before anything is written, so nothing is auto-labeled from it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from nblabel.autolabel.asked import queue_draws, was_drawn
from nblabel.autolabel.auto_changes import auto_changes
from nblabel.autolabel.loop import (
    RoundReport,
    _Evidence,
    _interleave,
    _lower_target,
    _more_answers_needed,
    default_random_fraction,
)
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
    level: float = 0.95,
    random_fraction: float | None = None,
    seed: int = 0,
) -> RoundReport:
    """Judge every item, calibrate on the people's answers, save the round (all or nothing).

    ``prompts`` are the items' sources, ``rows`` their input columns (the responses). Items
    with a person's answer are held out (their judge answer is compared with it, in answer
    order; answers to the queue's random draws carry the bound, see the module); skipped items
    are left alone; open items get a proposal, and an auto-label when their confidence reaches
    the threshold (never those a person rejected an auto-label of). ``random_fraction`` is the
    share of the people's queue drawn at random (None: classification's default for the number
    of items); ``seed`` seeds the draws.
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
    held: list[tuple[int, float, bool, bool]] = []  # (log position, confidence, right, drawn)
    open_keys: list[str] = []
    for key in keys:
        label = ledger.label(key)
        if label is not None and label.kind in HUMAN_KINDS:
            right = judged[key][0] == task.validate(label.value, key)
            held.append((label.seq or 0, judged[key][1], right, was_drawn(label.meta)))
        elif not ledger.is_skipped(key):
            open_keys.append(key)
    held.sort(key=lambda h: h[0])  # answer order: the bound follows it
    open_conf = np.array([judged[k][1] for k in open_keys])
    evidence = _Evidence(
        np.array([h[1] for h in held], dtype=float),
        np.array([h[2] for h in held], dtype=bool),
        np.array([h[3] for h in held], dtype=bool),
        open_conf,
    )
    cut = evidence.threshold(target, level)
    blocked = np.array([ledger.human_rejected(k) for k in open_keys], dtype=bool)
    auto = (open_conf >= cut.threshold) & ~blocked
    fresh = {open_keys[i]: judged[open_keys[i]] for i in np.flatnonzero(auto)}
    # The people's queue, as classification's: least confident first, interleaved with random
    # draws over every open item (auto-labeled ones included: a person's answer to one is the
    # unbiased check of the region the threshold governs), each drawn with a known probability.
    remaining = np.flatnonzero(~auto)
    by_confidence = remaining[np.argsort(open_conf[remaining], kind="stable")]
    permutation = np.random.default_rng(seed).permutation(len(open_keys))
    if random_fraction is None:
        random_fraction = default_random_fraction(len(keys))
    queue, drawn = _interleave(by_confidence, permutation[~blocked[permutation]], random_fraction)
    previous = store.latest_round(attribute)
    report = RoundReport.maker(
        (previous[0] + 1) if previous else 1,
        len(held),
        target,
        len(remaining),
        message="proposals and auto-labels from the judge",
    )
    needed = lower = lower_needed = None
    if not math.isfinite(cut.threshold):
        needed = _more_answers_needed(cut, target, level, random_fraction)
        if needed is not None and needed > len(remaining):
            lower, lower_needed = _lower_target(evidence, target, level, random_fraction, len(remaining))
    result = report(
        held_out=len(held),
        threshold=cut.threshold,
        held_out_above=cut.n_above,
        estimated_accuracy=cut.accuracy,
        lower_bound=cut.lower_bound,
        auto_labeled=len(fresh),
        more_answers_needed=needed,
        lower_target=lower,
        lower_target_needed=lower_needed,
        held_out_random=cut.n_random,
    )
    changes = auto_changes(ledger, attribute, "auto:judge", open_keys, fresh)
    proposals = [(key, judged[key][0], round(judged[key][1], 4)) for key in open_keys]
    store.save_round(
        attribute,
        {**result.to_dict(), **queue_draws(queue, drawn)},
        proposals,
        [open_keys[i] for i in queue],
        changes,
    )
    ledger.apply(store.annotations(attribute, after=ledger.last_seq))
    return result
