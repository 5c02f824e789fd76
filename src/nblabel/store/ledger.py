"""The current state of a job, derived from its append-only annotation log.

The ledger folds annotations in log order. An item's label is its latest live (not retracted)
``consolidated`` label, the one answer drawn from several people's; failing that, its latest live
person's answer (``human`` or ``verified``); failing that, its latest live ``auto`` label: a
person always outranks the auto-labeler, whatever the order.

A job may want ``answers_per_item`` answers from different people. Each person who answered
or skipped an item takes one of its slots (answering again changes their answer, not the
count). An item is *complete* with that many answers, or a ``consolidated`` label; it is
*labeled* when complete or labeled by the auto-labeler alone; it is *settled* once its slots are
taken; a settled item that is not labeled is *skipped*. With one answer per item this is: an
item is labeled by any answer, and skipped when it has no label and a live ``skip``.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field

from nblabel.store.base import Annotation
from nblabel.store.kinds import LABEL_KINDS, PERSON_KINDS, SLOT_KINDS

__all__ = ["ItemState", "Ledger"]


@dataclass
class ItemState:
    """Live annotations of one item, oldest first."""

    live: list[Annotation] = field(default_factory=list)

    def people(self, kinds: Collection[str] = SLOT_KINDS) -> set[str]:
        """The people with a live annotation of one of ``kinds`` on the item."""
        return {a.annotator for a in self.live if a.kind in kinds}

    def complete(self, slots: int) -> bool:
        """True with a consolidated label, or answers from ``slots`` different people."""
        return any(a.kind == "consolidated" for a in self.live) or len(self.people(PERSON_KINDS)) >= slots

    def labeled(self, slots: int) -> bool:
        """True when complete, or labeled by the auto-labeler and not answered by anyone."""
        if self.complete(slots):
            return True
        label = self.label()
        return label is not None and label.kind == "auto"

    def settled(self, slots: int) -> bool:
        """True when complete or every slot is taken by an answer or a skip."""
        return self.complete(slots) or len(self.people()) >= slots

    def label(self) -> Annotation | None:
        """The annotation that gives the item its current label, if any."""
        person = auto = None
        for a in reversed(self.live):
            if a.kind == "consolidated":
                return a
            if a.kind in PERSON_KINDS and person is None:
                person = a
            if a.kind == "auto" and auto is None:
                auto = a
        return person or auto

    def answers(self) -> list[Annotation]:
        """Each person's current answer (their latest live one), in the order they were given."""
        latest: dict[str, Annotation] = {}
        for a in self.live:
            if a.kind in PERSON_KINDS:
                latest[a.annotator] = a
        return sorted(latest.values(), key=lambda a: a.seq)

    def skipped(self, slots: int = 1) -> bool:
        """True when the item's slots are taken but it is not labeled (someone skipped it)."""
        return self.settled(slots) and not self.labeled(slots)


class Ledger:
    """Current labels, skips and per-annotator history, kept up to date as annotations arrive.

    Parameters
    ----------
    answers_per_item
        How many people's answers make an item complete.
    """

    def __init__(self, answers_per_item: int = 1) -> None:
        self.slots = answers_per_item
        self.items: dict[str, ItemState] = {}
        self.by_uid: dict[str, Annotation] = {}
        self.retracted: set[str] = set()
        self.labeled = 0
        self.skipped = 0
        self.auto = 0
        self.last_seq = 0
        self._history: dict[str, list[Annotation]] = {}
        self._retractions: dict[str, list[Annotation]] = {}

    def apply(self, annotations: Iterable[Annotation]) -> None:
        """Fold annotations (in log order) into the state."""
        for a in annotations:
            self.last_seq = max(self.last_seq, a.seq)
            if a.uid in self.by_uid:
                continue
            self.by_uid[a.uid] = a
            if a.kind == "retract":
                self._retractions.setdefault(a.item, []).append(a)
                self._retract(a)
                continue
            if a.uid in self.retracted:  # retraction logged before its target (merged logs)
                continue
            state = self.items.setdefault(a.item, ItemState())
            before = self._counts(state)
            state.live.append(a)
            self._recount(before, state)
            if a.kind in LABEL_KINDS or a.kind == "skip":
                self._history.setdefault(a.annotator, []).append(a)

    def _retract(self, r: Annotation) -> None:
        self.retracted.add(r.target or "")
        target = self.by_uid.get(r.target or "")
        if target is None:
            return
        state = self.items.get(target.item)
        if state is None or target not in state.live:
            return
        before = self._counts(state)
        state.live.remove(target)
        self._recount(before, state)

    def _counts(self, state: ItemState) -> tuple[int, int, int]:
        label = state.label()
        auto = label is not None and label.kind == "auto"
        return int(state.labeled(self.slots)), int(state.skipped(self.slots)), int(auto)

    def _recount(self, before: tuple[int, int, int], state: ItemState) -> None:
        labeled, skipped, auto = self._counts(state)
        self.labeled += labeled - before[0]
        self.skipped += skipped - before[1]
        self.auto += auto - before[2]

    def label(self, item: str) -> Annotation | None:
        """The annotation behind an item's current label, or None."""
        state = self.items.get(item)
        return None if state is None else state.label()

    def answers(self, item: str) -> list[Annotation]:
        """Each person's current answer for an item, in the order they were given."""
        state = self.items.get(item)
        return [] if state is None else state.answers()

    def is_open(self, item: str) -> bool:
        """True when the item waits for people: not labeled and a slot is free."""
        state = self.items.get(item)
        return state is None or not (state.labeled(self.slots) or state.settled(self.slots))

    def awaits_person(self, item: str) -> bool:
        """True when the item waits for people, counting an auto-labeled one as waiting."""
        state = self.items.get(item)
        if state is None:
            return True
        if state.complete(self.slots):
            return False
        label = state.label()
        return (label is not None and label.kind == "auto") or not state.settled(self.slots)

    def is_skipped(self, item: str) -> bool:
        """True when the item's slots are taken and it is not labeled."""
        state = self.items.get(item)
        return state is not None and state.skipped(self.slots)

    def answered_by(self, item: str, annotator: str) -> bool:
        """True when the person holds one of the item's slots (a live answer or skip)."""
        state = self.items.get(item)
        return state is not None and any(
            a.annotator == annotator and a.kind in SLOT_KINDS for a in state.live
        )

    def auto_label(self, item: str) -> Annotation | None:
        """The item's current label when it comes from the auto-labeler, else None."""
        label = self.label(item)
        return label if label is not None and label.kind == "auto" else None

    def human_rejected(self, item: str) -> bool:
        """True when a person took back an auto-label of this item (it stays with people)."""
        return any(
            r.kind == "retract"
            and not r.annotator.startswith("auto:")
            and self.by_uid.get(r.target or "") is not None
            and self.by_uid[r.target or ""].kind == "auto"
            for r in self._retractions.get(item, ())
        )

    def last_live(self, annotator: str) -> Annotation | None:
        """The newest live answer or skip by one annotator (what undo takes back)."""
        history = self._history.get(annotator, [])
        while history and history[-1].uid in self.retracted:
            history.pop()
        return history[-1] if history else None
