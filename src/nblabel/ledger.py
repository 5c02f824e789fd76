"""The current state of a job, derived from its append-only annotation log.

The ledger folds annotations in log order. An item's label is its latest live (not retracted)
``consolidated`` label, the one answer drawn from several people's; failing that, its latest live
person's answer (``human`` or ``verified``); failing that, its latest live ``auto`` label: a
person always outranks the auto-labeler, whatever the order. An item is skipped when it has no
label and a live ``skip``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from nblabel.store.base import LABEL_KINDS, Annotation

__all__ = ["HUMAN_KINDS", "PERSON_KINDS", "ItemState", "Ledger"]

HUMAN_KINDS = frozenset({"human", "verified", "consolidated"})
#: One person's own answer (``verified``: an auto-label a person accepted); what consolidation reads.
PERSON_KINDS = frozenset({"human", "verified"})


@dataclass
class ItemState:
    """Live annotations of one item, oldest first."""

    live: list[Annotation] = field(default_factory=list)

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

    def skipped(self) -> bool:
        """True when the item has no label and a person skipped it."""
        return self.label() is None and any(a.kind == "skip" for a in self.live)


class Ledger:
    """Current labels, skips and per-annotator history, kept up to date as annotations arrive."""

    def __init__(self) -> None:
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

    @staticmethod
    def _counts(state: ItemState) -> tuple[int, int, int]:
        label = state.label()
        auto = label is not None and label.kind == "auto"
        return int(label is not None), int(state.skipped()), int(auto)

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
        """True when the item waits for a person: no label and not skipped."""
        state = self.items.get(item)
        return state is None or (state.label() is None and not state.skipped())

    def awaits_person(self, item: str) -> bool:
        """True when no person has answered or skipped the item (an auto-label may exist)."""
        state = self.items.get(item)
        if state is None:
            return True
        label = state.label()
        if label is not None:
            return label.kind == "auto"
        return not state.skipped()

    def is_skipped(self, item: str) -> bool:
        """True when the item has no label and was skipped."""
        state = self.items.get(item)
        return state is not None and state.skipped()

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
