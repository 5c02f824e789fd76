"""Which items wait for a person, in which order, and which this session holds.

The :class:`Queue` follows the answer log: items whose slots are taken leave it, a retraction
brings an item back. Once the auto-labeler has written a round, the round's order comes first
(least certain items, with random draws for the held-out sample), and every item shows the
round's proposal. Items are handed out through the store's claims, so several kernels labeling
the same job at once get different items. The queue remembers how it chose each item it handed
out (a random draw and its probability, an uncertainty pick, the row order: :meth:`Queue.asked`),
for the answer to record (see :mod:`nblabel.autolabel.asked`).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator
from itertools import islice
from typing import Any

from nblabel.autolabel.asked import asked, report_draws
from nblabel.labeling.answers import AnswerLog
from nblabel.labeling.items import Items
from nblabel.store import CLAIM_TTL, Annotation, Store, new_uid
from nblabel.store.claims import choose
from nblabel.store.kinds import SLOT_KINDS

__all__ = ["Queue"]


class Queue:
    """The open items of a job's attribute for one annotator's session.

    Parameters
    ----------
    items
        The job's items.
    log
        The job's answer log: the queue subscribes to it.
    """

    def __init__(self, items: Items, log: AnswerLog) -> None:
        self.items = items
        self.log = log
        self.store: Store = log.store
        self.attribute = log.attribute
        #: Identifies this kernel's claims on items (see :meth:`claim`).
        self.session = new_uid()
        self._first_open = 0  # rows before it wait for nobody, or not for this annotator
        self._round = 0
        self._order: list[int] = []
        self._proposals: dict[str, tuple[Any, float]] = {}
        self._draws: dict[str, float] = {}  # the round's random draws: their probability, by key
        self._handed: dict[str, dict[str, Any]] = {}  # how each item handed out was chosen
        log.subscribe(self._follow)

    @property
    def round(self) -> int:
        """The number of the auto-labeler's latest round this queue follows (0: none yet)."""
        return self._round

    def latest_round(self) -> int:
        """The number of the latest round in the store, read now (0: none)."""
        latest = self.store.latest_round(self.attribute)
        return 0 if latest is None else latest[0]

    def _follow(self, new: list[Annotation]) -> None:
        positions = self.items.positions
        for a in new:  # a retraction, from this kernel or another, can reopen an earlier item
            position = positions.get(a.item)
            if position is not None and position < self._first_open:
                self._first_open = position
        latest = self.store.latest_round(self.attribute)
        if latest is not None and latest[0] != self._round:
            self._round = latest[0]
            queue = self.store.queue(self.attribute)
            self._order = [positions[k] for k in queue if k in positions]
            self._draws = report_draws(latest[1], queue)
            self._proposals = self.store.proposals(self.attribute)

    # -- order ----------------------------------------------------------------------------

    def open_positions(self, exclude: Collection[str] = (), start: int = 0) -> Iterator[int]:
        """Row positions waiting for the log's annotator, skipping ``exclude`` keys.

        Once the auto-labeler has run, its queue comes first (least certain items, with random
        draws for the held-out sample); then any other open item, in row order. With several
        answers per item, the items the annotator answered or skipped are left out. Items other
        people have claimed are not (see :meth:`claim`).
        """
        ledger = self.log.ledger
        keys = self.items.keys
        ordered: set[int] = set()
        for position in self._order:
            ordered.add(position)
            key = keys[position]
            # The loop's random draws may name auto-labeled items: a person checks those too.
            if ledger.awaits_person(key) and key not in exclude and not self.answered(key):
                yield position
        for position in self._row_order(exclude, start):
            if position not in ordered:
                yield position

    def answered(self, key: str) -> bool:
        """True when the annotator took a slot of the item, with several answers per item
        (with one, an answered item is not open anyway)."""
        ledger = self.log.ledger
        return ledger.slots > 1 and ledger.answered_by(key, self.log.annotator)

    def _row_order(self, exclude: Collection[str], start: int) -> Iterator[int]:
        ledger = self.log.ledger
        keys = self.items.keys
        first = max(start, self._first_open)
        advancing = first == self._first_open
        for position in range(first, len(keys)):
            key = keys[position]
            if not ledger.is_open(key) or self.answered(key):
                if advancing:
                    self._first_open = position + 1
                continue
            advancing = False
            if key not in exclude:
                yield position

    def proposal(self, key: str) -> tuple[Any, float] | None:
        """The auto-labeler's latest proposal for an item: (value, confidence), or None.

        Before the auto-labeler has one, the task's pre-annotation (if it makes any); the task
        says how the two combine (``Task.combine_proposals``).
        """
        items = self.items
        position = items.positions[key]
        pre = items.task.pre_annotation(items.sources[position], items.line(position), key)
        return items.task.combine_proposals(self._proposals.get(key), pre)

    # -- claims ---------------------------------------------------------------------------

    def pending(self, n: int) -> list[int]:
        """The positions of the next ``n`` items waiting for the annotator, leaving out items
        whose free slots other people's kernels have claimed; nothing is claimed."""
        self.log.refresh()
        claims = self.store.claims(self.attribute)
        # Claims hide at most one candidate each, so this many candidates always suffice.
        candidates = [self.items.keys[p] for p in islice(self.open_positions(), n + len(claims))]
        keys = choose(
            candidates,
            want=n,
            slots=self.log.ledger.slots,
            annotator=self.log.annotator,
            session=self.session,
            claims=claims,
            answers=self._slot_answers(candidates),
        )
        self._remember(keys)
        return [self.items.positions[k] for k in keys]

    def claim(
        self,
        count: int,
        held: Collection[str] = (),
        *,
        skip: Collection[str] = (),
        ttl: float = CLAIM_TTL,
    ) -> list[int]:
        """Claim the next ``count`` items for the annotator: their row positions.

        The store hands each item to at most ``answers_per_item`` people at once, counting
        their answers, skips and unexpired claims, so kernels asking at the same time get
        different items once an item's slots are taken. A claim lasts ``ttl`` seconds; the
        claims on ``held`` (the items the widget holds) are renewed, and they are not handed
        out again. ``skip`` keys are neither claimed nor renewed (items a custom task's
        pre-annotation function keeps from people). Fewer than ``count`` positions means nothing
        more is free for this person.

        Raises
        ------
        OSError
            The store could not be written.
        """
        keys, positions = self.items.keys, self.items.positions
        granted: list[str] = []
        renew = [k for k in held if k in positions]
        candidates = self.open_positions(exclude={*renew, *skip})
        size = max(2 * count, 16)
        while True:
            batch = [keys[p] for p in islice(candidates, size)] if len(granted) < count else []
            if batch or renew:
                granted += self.store.claim(
                    self.attribute,
                    self.log.annotator,
                    self.session,
                    batch,
                    want=count - len(granted),
                    slots=self.log.ledger.slots,
                    ttl=ttl,
                    renew=renew,
                )
            if not batch or len(granted) >= count:
                break
            renew, size = [], size * 2  # others hold the first candidates: look further, faster
        self._remember(granted)
        return [positions[k] for k in granted]

    def _remember(self, keys: Iterable[str]) -> None:
        """Remember how the queue chose these items it hands out, as first chosen (a later round
        may order them otherwise)."""
        ordered = {self.items.keys[p] for p in self._order}
        for key in keys:
            if key in self._handed:
                continue
            if key in self._draws:
                self._handed[key] = asked("random", self._draws[key])
            else:
                self._handed[key] = asked("uncertainty" if key in ordered else "order")

    def asked(self, key: str) -> dict[str, Any]:
        """How the item came before the annotator: as this queue chose it when it handed it out
        (:meth:`claim`, :meth:`pending`: ``{"how": "random", "p": ...}``, ``"uncertainty"`` or
        ``"order"``), else ``"person"`` (the person went to it: back, by key, or labeled it in
        code). See :mod:`nblabel.autolabel.asked`."""
        return self._handed.get(key) or asked("person")

    def _slot_answers(self, keys: Iterable[str]) -> list[tuple[str, str, str]]:
        """(item, annotator, kind) of the live annotations that take a slot on these items."""
        items = self.log.ledger.items
        return [
            (key, a.annotator, a.kind)
            for key in keys
            if key in items
            for a in items[key].live
            if a.kind in SLOT_KINDS
        ]
