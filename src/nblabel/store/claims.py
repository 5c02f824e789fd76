"""Claims: which person's session holds which item, so queues never hand out too many copies.

A job may want several answers per item (``answers_per_item``). An item has that many *slots*;
a slot is taken by a person who answered or skipped the item (a live annotation), or who holds an
unexpired claim on it. Before a person's widget shows items, the kernel claims them in one store
transaction; two kernels asking at once are serialized by the store, so once an item's slots are
taken the next kernel gets other items. Claims expire, so the items of a kernel that died go back
to the others; the widget renews its claims whenever the person works.

Claims are leases, not answers: they live in their own table, never in the annotation log, and
expired ones are simply dropped. The rule that decides which candidates a session gets is here,
shared by every store; each store only fetches the rows and writes the claims atomically.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass

__all__ = ["CLAIM_TTL", "Claim", "choose", "grant"]

#: Seconds a claim lasts unless renewed: long enough for a person to look at an item, short
#: enough that a dead kernel's items soon go to someone else.
CLAIM_TTL = 600.0


@dataclass(frozen=True)
class Claim:
    """One live claim: a person's session holds an item until ``expires`` (UNIX time)."""

    item: str
    annotator: str
    session: str
    expires: float


def choose(
    candidates: Sequence[str],
    *,
    want: int,
    slots: int,
    annotator: str,
    session: str,
    claims: Iterable[Claim],
    answers: Iterable[tuple[str, str, str]],
) -> list[str]:
    """The candidates (in order, at most ``want``) that ``annotator``'s ``session`` may claim.

    Parameters
    ----------
    candidates
        Item keys, best first.
    want
        How many items the session asks for.
    slots
        Answers wanted per item.
    annotator, session
        Who asks, from which kernel. Items the person holds already are granted again (a
        renewal), from any of their sessions: a notebook re-run or a restarted kernel gets its
        items back at once. Items the person has answered or skipped are not.
    claims
        The live claims on the candidates (others are ignored).
    answers
        ``(item, annotator, kind)`` of the live annotations of :data:`SLOT_KINDS` on the
        candidates.
    """
    people: dict[str, set[str]] = {}
    closed: set[str] = set()
    for item, who, kind in answers:
        if kind == "consolidated":
            closed.add(item)
        people.setdefault(item, set()).add(who)
    mine: set[str] = set()
    for c in claims:
        if c.annotator == annotator:
            mine.add(c.item)
        else:
            people.setdefault(c.item, set()).add(c.annotator)
    granted: list[str] = []
    for item in dict.fromkeys(candidates):
        if len(granted) >= want:
            break
        taken = people.get(item, set())
        if item in closed or annotator in taken:
            continue
        if item in mine or len(taken) < slots:
            granted.append(item)
    return granted


def grant(
    candidates: Sequence[str],
    renew: Collection[str],
    *,
    want: int,
    slots: int,
    annotator: str,
    session: str,
    claims: Iterable[Claim],
    answers: Iterable[tuple[str, str, str]],
) -> tuple[list[str], list[str]]:
    """What one claim request gets: the items of ``renew`` the session may keep holding, and up
    to ``want`` new candidates. ``answers`` are the slot-taking answers of both lists' items.
    A store calls this inside the transaction that then writes both lists as claims.
    """
    live, rows = list(claims), list(answers)
    held = list(renew)
    holding = set(held)
    fresh = [c for c in candidates if c not in holding]
    ask = {"slots": slots, "annotator": annotator, "session": session, "claims": live, "answers": rows}
    return choose(held, want=len(held), **ask), choose(fresh, want=want, **ask)
