"""The review grid's headless half: pages of auto-labels or disputed items, and the actions on them.

:class:`ReviewFeed` answers the review widget's messages: a ``page`` of tiles (filtered by class,
with counts and, for the slider, every confidence), and the actions — accept, reject, relabel,
accept above a confidence (auto-labels), decide and undo (disagreements). It holds no widget
code, so it runs and is tested headless like :class:`~nblabel.labeling.feed.Feed`.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from nblabel.consolidate.for_task import AUTOMATIC
from nblabel.labeling.answers import AnswerLog
from nblabel.labeling.consolidation import disagreements
from nblabel.labeling.feed import Feed
from nblabel.masks import mask_overlay
from nblabel.store import Annotation
from nblabel.tasks.boxes import BoundingBox
from nblabel.tasks.classification import Classification, classes_of
from nblabel.tasks.segmentation import SemanticSegmentation

__all__ = ["MODES", "ReviewFeed"]

SNIPPET = 300  # characters of a text shown on its tile
MODES = ("auto", "disagreements")
ACTIONS = {
    "auto": ("accept", "reject", "relabel", "accept_above"),
    "disagreements": ("decide", "undo"),
}


class ReviewFeed:
    """Pages and actions of a review grid over a job's auto-labels or its disagreements.

    Parameters
    ----------
    feed
        The job's item feed (thumbnails and text snippets come from it).
    mode
        ``"auto"`` (review auto-labels) or ``"disagreements"`` (decide disputed items).
    page_size
        Tiles per page (1-200).

    Raises
    ------
    TypeError
        The job's task is not single- or multi-label classification.
    """

    def __init__(self, feed: Feed, mode: str = "auto", page_size: int = 24) -> None:
        boxes = isinstance(feed.task, BoundingBox)
        masks = feed.task.family == "segment"  # auto-labeled masks, as thumbnails
        if not isinstance(feed.task, Classification) and not ((boxes or masks) and mode == "auto"):
            raise TypeError(
                "ReviewWidget reviews classification tasks (and the auto-labels of box and "
                f"segmentation tasks), not {feed.task!r}"
            )
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
        if not 1 <= page_size <= 200:
            raise ValueError(f"page_size must be 1-200, got {page_size}")
        self.feed = feed
        self.items = feed.items
        self.log = feed.log
        self.task: Classification | BoundingBox | SemanticSegmentation = feed.task
        #: Several classes per item: multi-label classification, boxes and masks (a box label or
        #: a mask holds any classes; the class filter keeps the images holding the class).
        self.multi_label = boxes or masks or bool(getattr(feed.task, "multi_label", False))
        #: A class key relabels the selection; not on box and mask jobs, whose labels
        #: no class key makes: a wrong box auto-label is rejected and goes back to the people.
        self.relabels = not (boxes or masks)
        self.actions = tuple(a for a in ACTIONS[mode] if self.relabels or a != "relabel")
        self.mode = mode
        self.page_size = page_size
        # Disagreements mode: each key's place in the grid, fixed when first shown, so a tile
        # does not jump when its decision (which has no confidence) changes its sort key.
        self._rank: dict[str, int] = {}
        # The decisions made here, one list per action, newest last: what undo takes back.
        self._decisions: list[list[Annotation]] = []

    def accepts(self, kind: Any) -> bool:
        """True when ``kind`` is a message this mode answers (``page`` or one of its actions)."""
        return kind == "page" or kind in self.actions

    def act(self, kind: str, content: dict[str, Any], view: dict[str, Any]) -> dict[str, Any]:
        """Apply one action; the ``ack`` (with a notice) or ``error`` message to send back.

        Raises
        ------
        OSError
            The store could not be written (the widget says so).
        """
        try:
            if kind == "accept":
                notice = self._accept(content["items"])
            elif kind == "reject":
                notice = self._reject(content["items"])
            elif kind == "relabel":
                notice = self._relabel(content["keys"], content["value"])
            elif kind == "decide":
                notice = self._decide(content["items"], content["value"])
            elif kind == "undo":
                notice = self._undo()
            else:
                notice = self._accept_above(content)
        except (ValueError, KeyError, TypeError) as exc:
            return {"type": "error", **view, "reason": str(exc)}
        return {"type": "ack", **view, "notice": notice}

    # -- actions -------------------------------------------------------------------------------

    def _unchanged(self, items: list[dict[str, Any]]) -> tuple[list[str], int]:
        """Keys whose current proposal is still the one the browser showed (by uid), and how
        many others there were."""
        self.log.refresh()
        keys = []
        for item in items:
            key = item["key"]
            current = self.log.current(key) if self.items.has(key) else None
            if current is not None and current.kind == "auto" and current.uid == item["uid"]:
                keys.append(key)
        return keys, len(items) - len(keys)

    def _accept(self, items: list[dict[str, Any]]) -> str:
        keys, changed = self._unchanged(items)
        n = self.log.accept(keys)
        return f"Accepted {_items(n)}" + _changed(changed, REVIEWED)

    def _reject(self, items: list[dict[str, Any]]) -> str:
        keys, changed = self._unchanged(items)
        n = self.log.reject(keys)
        return f"Rejected {_items(n)}: back in the people's queue" + _changed(changed, REVIEWED)

    def _relabel(self, keys: list[str], value: Any) -> str:
        keys = [self.items.key(key) for key in keys]  # all known, or nothing is stored
        value = self.task.validate(value)
        for key in keys:
            self.log.label(key, value)
        return f"Relabeled {_items(len(keys))} as {_shown(value)}"

    def _decide(self, items: list[dict[str, Any]], value: Any) -> str:
        """Decide ``value`` for the items whose answers are still those the browser showed."""
        value = self.task.validate(value)
        keys = [self.items.key(item["key"]) for item in items]  # all known, or nothing is stored
        self.log.refresh()
        fresh = [
            key for key, item in zip(keys, items, strict=True) if _version(self.log, key) == item["version"]
        ]
        decided = [self.log.label(key, value, kind="consolidated") for key in fresh]
        if decided:
            self._decisions.append(decided)
        return f"Decided {_items(len(decided))}: {_shown(value)}" + _changed(len(keys) - len(fresh), ANSWERED)

    def _undo(self) -> str:
        """Take back the newest decision made here that still stands."""
        self.log.refresh()
        while self._decisions:
            standing = [a for a in self._decisions.pop() if _uid(self.log.current(a.item)) == a.uid]
            if standing:
                for a in standing:
                    self.log.retract(a.uid)
                return f"Took back the decision on {_items(len(standing))}"
        return "Nothing to undo: no decision made here still stands"

    def _accept_above(self, content: dict[str, Any]) -> str:
        confidence = float(content["confidence"])
        if not 0.0 <= confidence <= 1.0:
            raise ValueError(f"confidence must be between 0 and 1, got {confidence}")
        label = self._label_filter(content.get("scope"))  # the class the count was made for
        auto = self.log.auto_labeled()
        auto = auto[self._matches(auto, label)]
        keys = auto.loc[_confidences(auto) >= confidence, "key"].tolist()
        expected = content.get("expected")
        if expected is not None and int(expected) != len(keys):
            # Proposals came or went since the browser counted: accept nothing it did not show.
            raise ValueError(
                f"{_items(len(keys))} now have confidence ≥ {confidence:.2f}, not the "
                f"{int(expected)} shown; nothing was accepted, check the count and try again"
            )
        n = self.log.accept(keys)
        of = f" of class {label}" if label else ""
        return f"Accepted {_items(n)}{of} with confidence ≥ {confidence:.2f}"

    # -- pages ---------------------------------------------------------------------------------

    def _label_filter(self, value: Any) -> str:
        label = str(value or "")
        if label and label not in self.task.labels:
            raise ValueError(f"{label!r} is not one of the labels {self.task.labels}")
        return label

    def _matches(self, auto: pd.DataFrame, label: str) -> pd.Series:
        """Rows whose proposal is ``label`` (multi-label: includes it); every row for ''."""
        if not label:
            return pd.Series(True, index=auto.index)
        if self.multi_label:
            return auto["value"].map(lambda value: label in _classes(value, self.task.labels)).astype(bool)
        return (auto["value"] == label).astype(bool)

    def page(
        self, content: dict[str, Any], view: dict[str, Any]
    ) -> tuple[dict[str, Any], list[dict[str, Any]], list[bytes]]:
        """The page at ``offset`` of the rows matching ``filter``, with the counts: the message,
        its tiles (without media: see :meth:`fill`) and its binary buffers so far."""
        label = self._label_filter(content.get("filter"))
        buffers: list[bytes] = []
        if self.mode == "disagreements":
            frame = self._disputes()
            rows = frame[_involving(frame, label, self.multi_label)]
            stats = self._dispute_stats(frame)
        else:
            frame = self.log.auto_labeled()
            rows = frame[self._matches(frame, label)]
            stats = self._stats(frame)
        size = self.page_size
        offset = max(0, int(content.get("offset") or 0))
        if offset >= len(rows):  # the last page emptied: show the one before
            offset = max(0, (len(rows) - 1) // size * size)
        page = rows.iloc[offset : offset + size]
        message: dict[str, Any] = {
            "type": "page",
            **view,
            "offset": offset,
            "filter": label,
            "total": len(rows),
            "stats": stats,
        }
        if self.mode == "disagreements":
            tiles = [self._dispute_tile(row) for row in page.itertuples(index=False)]
        else:
            if stats["version"] != content.get("have"):
                message["confidences"] = self._confidence_buffers(frame, buffers)
            tiles = [
                {
                    "key": row.key,
                    "position": int(row.position),
                    "value": row.value,
                    "confidence": None if _missing(row.confidence) else float(row.confidence),
                    "uid": row.uid,
                }
                for row in page.itertuples(index=False)
            ]
        return message, tiles, buffers

    def fill(
        self, message: dict[str, Any], tiles: list[dict[str, Any]], buffers: list[bytes]
    ) -> tuple[dict[str, Any], list[bytes]]:
        """The page message with each tile's text snippet or thumbnail, and all its buffers.

        Reads and downscales images: a widget calls it from a worker thread.
        """
        media, images = self.feed.payloads([t["position"] for t in tiles])
        first = len(buffers)
        for tile, shown in zip(tiles, media, strict=True):
            tile["kind"] = shown["kind"]
            if "text" in shown:
                text = shown["text"]
                tile["text"] = text[:SNIPPET] + ("…" if len(text) > SNIPPET else "")
            elif "error" in shown:
                tile["error"] = shown["error"]
            else:
                tile.update(buffer=first + shown["buffer"], mime=shown["mime"])
                value = tile.get("value")
                if isinstance(value, dict) and "mask" in value and hasattr(self.task, "colors"):
                    # A mask: the thumbnail shows it over the image, and the tile names its classes.
                    try:
                        images[shown["buffer"]] = mask_overlay(
                            images[shown["buffer"]], value["mask"], self.task.colors
                        )
                        tile["mime"] = "image/png"
                    except (OSError, ValueError) as exc:
                        tile["error"] = f"cannot show the mask: {exc}"
                    tile["value"] = ", ".join(value.get("labels_present") or []) or "(background only)"
        return {**message, "items": tiles}, [*buffers, *images]

    def _disputes(self) -> pd.DataFrame:
        """The job's disagreements, each kept at the place it had when first shown."""
        frame = disagreements(self.log)
        for key in frame["key"]:
            self._rank.setdefault(key, len(self._rank))
        order = frame["key"].map(self._rank).to_numpy()
        return frame.iloc[np.argsort(order, kind="stable")].reset_index(drop=True)

    def _dispute_tile(self, row: Any) -> dict[str, Any]:
        """One disputed item: every annotator's answer, the current label, whether a person
        decided it, and versions (of the tile, and of the answers a decision rests on)."""
        answers = self.log.answers(row.key)
        current = self.log.current(row.key)
        decided = _decision(current)
        uids = [a.uid for a in answers] + [_uid(current)]
        return {
            "key": row.key,
            "position": int(row.position),
            "answers": [{"annotator": a.annotator, "value": a.value} for a in answers],
            "share": float(row.share),
            "value": None if current is None else current.value,
            "confidence": None if _missing(row.confidence) else float(row.confidence),
            "decided_by": current.annotator if decided else None,  # type: ignore[union-attr]
            "uid": hashlib.blake2b("\n".join(uids).encode(), digest_size=8).hexdigest(),
            "version": _version(self.log, row.key),
        }

    def _dispute_stats(self, frame: pd.DataFrame) -> dict[str, Any]:
        """How many items people disagree on, how many a person decided, and per class how many
        involve it."""
        multi = self.multi_label
        return {
            "version": "",
            "total": len(frame),
            "decided": sum(_decision(self.log.current(key)) for key in frame["key"]),
            "counts": {label: int(_involving(frame, label, multi).sum()) for label in self.task.labels},
        }

    def _stats(self, auto: pd.DataFrame) -> dict[str, Any]:
        """Counts of proposals per class, the job's progress, and a version of the proposals."""
        digest = hashlib.blake2b("\n".join(auto["uid"]).encode(), digest_size=8).hexdigest()
        return {
            "version": digest,
            "auto": len(auto),
            "counts": {label: int(self._matches(auto, label).sum()) for label in self.task.labels},
            "progress": self.log.progress()._asdict(),
        }

    def _confidence_buffers(self, auto: pd.DataFrame, buffers: list[bytes]) -> dict[str, Any]:
        """Append ascending float64 arrays of confidences (all, and per class) to ``buffers``;
        return their buffer indices. Proposals without a confidence are left out, as the
        slider never accepts them."""

        def add(rows: pd.DataFrame) -> int:
            values = _confidences(rows).to_numpy(dtype=float)
            values = np.sort(values[np.isfinite(values)]).astype("<f8")
            buffers.append(values.tobytes())
            return len(buffers) - 1

        return {
            "all": add(auto),
            "by_class": {label: add(auto[self._matches(auto, label)]) for label in self.task.labels},
        }


def _classes(value: Any, labels: Sequence[str]) -> Any:
    """The classes of an answer: a box label's classes by name, a mask's classes present, else
    the class or classes (:func:`classes_of`: without frame attributes)."""
    if isinstance(value, dict) and "annotations" in value:
        return {labels[b["class_id"]] for b in value["annotations"]}
    if isinstance(value, dict) and "labels_present" in value:
        return set(value["labels_present"])
    return classes_of(value)


def _confidences(rows: pd.DataFrame) -> pd.Series:
    return pd.to_numeric(rows["confidence"], errors="coerce")


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _items(n: int) -> str:
    return f"{n} item{'' if n == 1 else 's'}"


REVIEWED = "reviewed elsewhere or relabeled"
ANSWERED = "their answers changed"


def _changed(n: int, why: str) -> str:
    if not n:
        return ""
    verb = "was" if n == 1 else "were"
    return f"; {_items(n)} changed since shown ({why}) and {verb} left alone"


def _shown(value: Any) -> str:
    return (", ".join(value) or "(none)") if isinstance(value, list) else str(value)


def _uid(annotation: Annotation | None) -> str:
    return "" if annotation is None else annotation.uid


def _decision(current: Annotation | None) -> bool:
    """True when an item's label is a person's final decision (not a computed consolidation)."""
    return (
        current is not None and current.kind == "consolidated" and not current.annotator.startswith(AUTOMATIC)
    )


def _version(log: AnswerLog, key: str) -> str:
    """A digest of the answers an item has now: a decision is made on the answers shown."""
    uids = "\n".join(a.uid for a in log.answers(key))
    return hashlib.blake2b(uids.encode(), digest_size=8).hexdigest()


def _involving(frame: pd.DataFrame, label: str, multi: bool) -> pd.Series:
    """Rows where someone answered ``label`` (multi-label: included it); every row for ''."""
    if not label:
        return pd.Series(True, index=frame.index)

    def involves(answers: dict[str, Any]) -> bool:
        classes = [classes_of(value) for value in answers.values()]  # without frame attributes
        return any((label in value) if multi else value == label for value in classes)

    return frame["answers"].map(involves).astype(bool)
