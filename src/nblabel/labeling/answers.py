"""The answer log of one job's attribute: what people (and the auto-labeler) said, as verbs.

:class:`AnswerLog` turns the user's and the widgets' verbs (label, skip, undo, retract, accept,
reject, decide) into annotations appended to the store, each checked once on the way in, and
keeps the store's read model (:class:`~nblabel.store.ledger.Ledger`) up to date. Every verb
takes an optional ``uid``: a widget names its messages, so a re-sent answer is stored once.
Other parts of the core (the queue) follow the log through :meth:`AnswerLog.subscribe`.
"""

from __future__ import annotations

import dataclasses
import os
import threading
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, NamedTuple

import pandas as pd

from nblabel.labeling.items import Items
from nblabel.store import Annotation, Store
from nblabel.store.kinds import LABEL_KINDS
from nblabel.store.ledger import Ledger
from nblabel.tasks.base import Task

__all__ = ["AnswerLog", "Progress"]


class Progress(NamedTuple):
    """How far a job has come. ``labeled`` counts every labeled item, ``auto`` the part of them
    labeled by the auto-labeler and not (yet) by a person."""

    total: int
    labeled: int
    skipped: int
    remaining: int
    auto: int = 0


class AnswerLog:
    """Records answers for one attribute of a store and folds them into a ledger.

    Parameters
    ----------
    store
        The durable store.
    attribute
        The label attribute the answers are for.
    items
        The job's items (keys and sources, for checking answers).
    task
        The task that checks and prepares answers.
    annotator
        Who answers when a verb names nobody.
    answers_per_item
        How many people's answers complete an item.
    folder
        Where files an answer needs are written (segmentation masks).
    """

    def __init__(
        self,
        store: Store,
        attribute: str,
        items: Items,
        task: Task,
        annotator: str,
        answers_per_item: int,
        folder: Path,
    ) -> None:
        self.store = store
        self.attribute = attribute
        self.items = items
        self.task = task
        self.annotator = annotator
        self.folder = folder
        #: Where the files an answer needs go (segmentation masks): inside the job's folder,
        #: whatever the attribute is named.
        self.files = folder / "masks" / attribute
        inside = (folder / "masks").resolve()
        if (
            os.path.commonpath([inside, self.files.resolve()]) != str(inside)
            or self.files.resolve() == inside
        ):
            raise ValueError(f"attribute {attribute!r} would place answer files outside {inside}")
        self.ledger = Ledger(answers_per_item)
        self._lock = threading.RLock()  # widgets refresh from watcher threads too
        self._listeners: list[Callable[[list[Annotation]], None]] = []

    def subscribe(self, listener: Callable[[list[Annotation]], None]) -> None:
        """Call ``listener`` with every batch of annotations read from the store (under the
        log's lock, after the ledger has them)."""
        self._listeners.append(listener)

    def refresh(self) -> None:
        """Read what other kernels and the auto-labeler appended since the last look."""
        with self._lock:
            new = list(self.store.annotations(self.attribute, after=self.ledger.last_seq))
            self.ledger.apply(new)
            for listener in self._listeners:
                listener(new)

    # -- reading --------------------------------------------------------------------------

    def progress(self) -> Progress:
        """Counts of items: total, labeled (by anyone), skipped, remaining, auto-labeled.

        With several answers per item, an item counts as labeled once it has all its answers.
        """
        total, ledger = len(self.items), self.ledger
        return Progress(
            total, ledger.labeled, ledger.skipped, total - ledger.labeled - ledger.skipped, ledger.auto
        )

    def current(self, key: str) -> Annotation | None:
        """The annotation behind an item's current label, if it has one."""
        return self.ledger.label(key)

    def answers(self, key: str) -> list[Annotation]:
        """Each person's current answer for an item, in the order they were given."""
        return self.ledger.answers(key)

    def by_position(self) -> dict[int, list[Annotation]]:
        """Each person's current answers, per row position of the rows that have any, in row
        order: what worker responses and a custom task's consolidation read."""
        self.refresh()
        positions = self.items.positions
        found = {
            positions[k]: given for k in self.ledger.items if k in positions and (given := self.answers(k))
        }
        return dict(sorted(found.items()))

    def labels_by_position(self) -> dict[int, Annotation]:
        """The annotation behind each labeled row's current label, per row position, in row order."""
        self.refresh()
        positions = self.items.positions
        found = {positions[k]: a for k in self.ledger.items if k in positions and (a := self.current(k))}
        return dict(sorted(found.items()))

    def auto_labeled(self) -> pd.DataFrame:
        """Items whose current label comes from the auto-labeler, least confident first.

        Columns: ``position`` (row), ``key``, ``value`` (the proposed answer), ``confidence``,
        ``uid`` (the auto annotation).
        """
        self.refresh()
        rows = []
        for position, key in enumerate(self.items.keys):
            a = self.ledger.auto_label(key)
            if a is not None:
                rows.append((position, key, a.value, a.confidence, a.uid))
        df = pd.DataFrame(rows, columns=["position", "key", "value", "confidence", "uid"])
        return df.sort_values(["confidence", "position"], kind="stable").reset_index(drop=True)

    def has(self, uid: str) -> bool:
        """True when an annotation with this uid is in the store (as last read)."""
        return uid in self.ledger.by_uid

    # -- writing --------------------------------------------------------------------------

    def value(self, key: str, value: Any, name: str | None = None) -> Any:
        """A person's answer made storable and checked: files it needs are written first (see
        ``Task.prepare``), then ``Task.validate``. ``name`` keeps such files unique per answer."""
        prepared = self.task.prepare(value, key, self.files, name)
        return self.task.validate(prepared, key, source=self.items.source_of(key))

    def label(
        self,
        key: str,
        value: Any,
        annotator: str | None = None,
        *,
        kind: str = "human",
        uid: str | None = None,
        meta: Mapping[str, Any] | None = None,
    ) -> Annotation:
        """Record a person's answer (``kind`` ``human``, or ``consolidated`` for a decision);
        ``meta`` says how it came about (see :class:`~nblabel.store.base.Annotation`)."""
        value = self.value(key, value, uid)
        return self._one(key, annotator, kind, value, uid=uid, meta=meta)

    def skip(
        self,
        key: str,
        annotator: str | None = None,
        *,
        uid: str | None = None,
        meta: Mapping[str, Any] | None = None,
    ) -> Annotation:
        """Record that a person passed on an item."""
        return self._one(key, annotator, "skip", uid=uid, meta=meta)

    def undo(self, annotator: str | None = None, *, uid: str | None = None) -> Annotation | None:
        """Take back the annotator's latest live answer or skip; ``uid`` names the retraction.
        Returns the annotation taken back, or None when there is nothing to undo."""
        who = annotator or self.annotator
        target = self.ledger.last_live(who)
        if target is None:
            return None
        self.retract(target.uid, who, uid=uid)
        return target

    def retract(self, target: str, annotator: str | None = None, *, uid: str | None = None) -> Annotation:
        """Append a retraction of the annotation ``target`` (a uid).

        Raises
        ------
        KeyError
            No annotation has that uid.
        """
        taken = self.ledger.by_uid.get(target)
        if taken is None:
            raise KeyError(f"no annotation {target!r} in job {self.items.name!r}")
        return self._one(taken.item, annotator, "retract", target=target, uid=uid)

    def accept(self, keys: Iterable[str], annotator: str | None = None) -> int:
        """Confirm the auto-labels of some items (a ``verified`` answer each); returns how many."""
        who = annotator or self.annotator
        batch = [
            Annotation(a.item, self.attribute, who, "verified", a.value, a.confidence)
            for a in map(self.ledger.auto_label, keys)
            if a is not None
        ]
        return len(self.append(batch))

    def reject(self, keys: Iterable[str], annotator: str | None = None) -> int:
        """Refuse the auto-labels of some items: back to the people, for good; returns how many."""
        who = annotator or self.annotator
        batch = [
            Annotation(a.item, self.attribute, who, "retract", target=a.uid)
            for a in map(self.ledger.auto_label, keys)
            if a is not None
        ]
        return len(self.append(batch))

    def record(self, annotation: Annotation) -> Annotation:
        """Append a prepared annotation, its value checked by the task, and return it as stored.

        Raises
        ------
        ValueError
            The annotation is for another attribute, or its value is not a valid answer.
        KeyError
            No such item.
        """
        if annotation.attribute != self.attribute:
            raise ValueError(
                f"annotation for attribute {annotation.attribute!r} recorded in job {self.items.name!r}, "
                f"whose attribute is {self.attribute!r}"
            )
        if not self.items.has(annotation.item):
            raise KeyError(f"no item {annotation.item!r} in job {self.items.name!r}")
        if annotation.kind in LABEL_KINDS:
            source = self.items.source_of(annotation.item)
            value = self.task.validate(annotation.value, annotation.item, source=source)
            annotation = dataclasses.replace(annotation, value=value)  # canonical (multi-label order)
        stored = self.append([annotation])
        return stored[0] if stored else self.resent(annotation)

    def append(self, batch: list[Annotation]) -> list[Annotation]:
        """Append checked annotations in one store transaction and read them back; returns the
        ones that were new (a uid already stored is stored once)."""
        if not batch:
            return []
        stored = self.store.append(batch)
        self.refresh()
        return stored

    def _one(
        self,
        key: str,
        annotator: str | None,
        kind: str,
        value: Any = None,
        *,
        target: str | None = None,
        uid: str | None = None,
        meta: Mapping[str, Any] | None = None,
    ) -> Annotation:
        extra = {"uid": uid} if uid else {}
        annotation = Annotation(
            key, self.attribute, annotator or self.annotator, kind, value, target=target, meta=meta, **extra
        )
        stored = self.append([annotation])
        return stored[0] if stored else self.resent(annotation)

    def resent(self, annotation: Annotation) -> Annotation:
        """The stored annotation whose uid ``annotation`` repeats, when it is the same answer
        sent again (same item, annotator, kind and target).

        Raises
        ------
        ValueError
            The uid names another annotation, or one of another attribute in the store: the
            answer was not stored, and must not be acknowledged as if it were.
        """
        kept = self.ledger.by_uid.get(annotation.uid)
        if kept is None:
            raise ValueError(
                f"uid {annotation.uid!r} already names an annotation of another attribute in the store "
                f"{self.store.path}; nothing was stored"
            )
        if (kept.item, kept.annotator, kept.kind, kept.target) != (
            annotation.item,
            annotation.annotator,
            annotation.kind,
            annotation.target,
        ):
            raise ValueError(
                f"uid {annotation.uid!r} already names another annotation ({kept.kind} of {kept.item!r} "
                f"by {kept.annotator!r}); nothing was stored"
            )
        return kept
