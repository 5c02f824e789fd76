"""Why an item was put in front of a person: the ``asked`` record every answer carries.

The design-based bound (:mod:`nblabel.autolabel.design_bound`) weights an answer by how its item
was chosen, so the queue remembers it and the answer stores it in its ``meta``::

    meta["asked"] = {"how": "random", "p": 0.0004}   # a random draw, with its probability
    meta["asked"] = {"how": "uncertainty"}           # the loop's least-certain ranking
    meta["asked"] = {"how": "order"}                 # the job's row order (no round yet)
    meta["asked"] = {"how": "person"}                # a person's own choice (went back to it)
    meta["asked"] = {"how": "pre"}                   # written from a pre-annotation

Only ``"random"`` answers carry the bound's weight; every other answer, and every answer stored
before answers had a ``meta`` (their meta is None), counts as itself only.

A round hands its draws to the people's queue inside its report (the store keeps one report per
round): ``report["random_draws"]`` lists ``[rank, drawn_from]`` pairs, the queue rank of each
random draw and the number of items it was drawn from (its probability is one over that).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["ASKED", "HOW", "asked", "queue_draws", "report_draws", "was_drawn"]

ASKED = "asked"
"""The reserved key of an answer's ``meta`` that says why its item was asked."""

HOW = ("random", "uncertainty", "order", "person", "pre")
"""The ways an item comes to be asked (see the module)."""


def asked(how: str, p: float | None = None) -> dict[str, Any]:
    """The ``asked`` record: ``how`` one of :data:`HOW`, ``p`` the draw's probability (random only)."""
    if how not in HOW:
        raise ValueError(f"how must be one of {HOW}, got {how!r}")
    if (how == "random") != (p is not None):
        raise ValueError("a random draw, and only a random draw, carries its probability p")
    return {"how": how} if p is None else {"how": how, "p": float(p)}


def was_drawn(meta: Mapping[str, Any] | None) -> bool:
    """True when an answer's ``meta`` says its item was a random draw of the queue."""
    record = (meta or {}).get(ASKED)
    return isinstance(record, Mapping) and record.get("how") == "random"


def queue_draws(queue: Sequence[int], random_draws: Mapping[int, float]) -> dict[str, Any]:
    """A round's draws for its report: ``{"random_draws": [[rank, drawn_from], ...]}``."""
    return {
        "random_draws": [
            [rank, round(1 / random_draws[p])] for rank, p in enumerate(queue) if p in random_draws
        ]
    }


def report_draws(report: Mapping[str, Any], queue: Sequence[str]) -> dict[str, float]:
    """The probability of each randomly drawn item of a round, by key, from its report and queue."""
    out: dict[str, float] = {}
    for rank, drawn_from in report.get("random_draws") or ():
        if 0 <= rank < len(queue) and drawn_from >= 1:
            out[queue[rank]] = 1 / drawn_from
    return out
