"""The review widget: a grid of auto-labels to accept, reject or relabel, least confident first;
or, in its disagreements mode, the items people disagree on, for a person's final decision."""

from __future__ import annotations

import hashlib
import logging
import math
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anywidget
import numpy as np
import pandas as pd
import traitlets

from nblabel.consolidate.jobs import AUTOMATIC
from nblabel.feed import Feed
from nblabel.tasks.classification import Classification
from nblabel.widgets.rounds import watch_rounds

if TYPE_CHECKING:
    from nblabel.job import Job
    from nblabel.store import Annotation

__all__ = ["ReviewWidget"]

STATIC = Path(__file__).resolve().parent.parent / "static"
SNIPPET = 300  # characters of a text shown on its tile
MODES = ("auto", "disagreements")
ACTIONS = {
    "auto": ("accept", "reject", "relabel", "accept_above"),
    "disagreements": ("decide", "undo"),
}
log = logging.getLogger(__name__)


class ReviewWidget(anywidget.AnyWidget):
    """Review a job's auto-labels in a grid, least confident first.

    Each tile shows an item (a thumbnail, or the first characters of a text), the class the
    auto-labeler proposed and its confidence. A person accepts proposals (they become
    ``verified`` answers), rejects them (the items go back to the people's queue and the
    auto-labeler leaves them alone), or relabels them (a person's answer). A slider accepts every
    proposal at or above a confidence in one step and shows, live, how many that is. A class
    filter narrows the grid, and the slider, to one proposed class.

    Keys (on the focused widget only): arrows move, Shift+arrows and Shift-click extend the
    selection, Ctrl/Cmd-click toggles a tile, Ctrl/Cmd+A selects the page, ``Home``/``End``,
    ``PageUp``/``PageDown``; ``a`` or ``Enter`` accepts the selection, ``r`` or ``Delete``
    rejects it, ``1``-``9``, ``0`` relabel it. In multi-label tasks a class key opens a small
    panel where keys toggle classes and ``Enter`` saves. Every action also has a button.

    When the auto-labeler finishes a round, the grid fetches its page again. Accepting or
    rejecting an item whose proposal changed after it was drawn leaves it alone and says so.
    The widget does not undo reviews, and it only shows items whose current label comes from
    the auto-labeler: labels by people are not reviewed here.

    With ``disagreements=True`` the grid shows the items people disagree on instead, most
    disputed first (:meth:`nblabel.Job.disagreements`): each tile shows every annotator's
    answer side by side, the current consolidated label and its confidence. Clicking an
    annotator's answer, or a class key on the selected tiles, records a person's final decision
    (:meth:`nblabel.Job.decide`), which later consolidations leave alone; ``z`` takes back the
    last decision made in this widget. Decided tiles stay in place, marked as decided. A
    decision on an item whose answers changed after it was drawn is left out and said so. The
    class filter shows the items where someone gave that class.

    Parameters
    ----------
    job
        The job whose auto-labels are reviewed; its task must be a classification task.
    page_size
        Tiles per page (1-200).
    thumb
        Thumbnail size in CSS pixels (48-512); images are downscaled to fit it.
    disagreements
        Show the items people disagree on, for a final decision, instead of the auto-labels.

    Raises
    ------
    TypeError
        The job's task is not single- or multi-label classification.
    """

    _esm = STATIC / "review.js"
    _css = STATIC / "review.css"

    # -- configuration ----------------------------------------------------------------------
    labels = traitlets.List(traitlets.Unicode(), help="Class names, in key order.").tag(sync=True)
    multi_label = traitlets.Bool(False, help="Several classes per item.").tag(sync=True)
    media = traitlets.Unicode("image", help="'image' or 'text'.").tag(sync=True)
    title = traitlets.Unicode("", help="Shown in the widget's header.").tag(sync=True)
    page_size = traitlets.Int(24, help="Tiles per page.").tag(sync=True)
    thumb = traitlets.Int(160, help="Thumbnail size in CSS pixels.").tag(sync=True)
    mode = traitlets.Unicode(
        "auto", help="'auto' (review auto-labels) or 'disagreements' (decide disputed items)."
    ).tag(sync=True)

    def __init__(
        self, job: Job, page_size: int = 24, thumb: int = 160, disagreements: bool = False, **kwargs: Any
    ) -> None:
        if not isinstance(job.task, Classification):
            raise TypeError(f"ReviewWidget reviews classification tasks, not {job.task!r}")
        if not 1 <= page_size <= 200:
            raise ValueError(f"page_size must be 1-200, got {page_size}")
        if not 48 <= thumb <= 512:
            raise ValueError(f"thumb must be 48-512 pixels, got {thumb}")
        super().__init__(
            labels=list(job.task.labels),
            multi_label=job.task.multi_label,
            media=job.task.media,
            title=f"{job.name} · {job.attribute} · {'disagreements' if disagreements else 'review'}",
            page_size=page_size,
            thumb=thumb,
            mode=MODES[bool(disagreements)],
            **kwargs,
        )
        self.job = job
        # Disagreements mode: each key's place in the grid, fixed when first shown, so a tile
        # does not jump when its decision (which has no confidence) changes its sort key.
        self._rank: dict[str, int] = {}
        # The decisions made here, one list per action, newest last: what undo takes back.
        self._decisions: list[list[Annotation]] = []
        # Handlers run on the kernel's main thread; image pages are sent from worker threads.
        self._lock = threading.Lock()
        self._closed = threading.Event()
        # Thumbnails at twice their CSS size stay sharp on high-density screens.
        self.feed = Feed(job, max_width=2 * thumb, max_height=2 * thumb)
        self.on_msg(self._on_custom)
        watch_rounds(job, self._closed, lambda: self._reply({"type": "stale"}), "nblabel-review-rounds")

    def close(self) -> None:
        """Close the widget, stop watching the auto-labeler and stop the image workers."""
        if hasattr(self, "feed"):  # ipywidgets also closes widgets whose __init__ raised
            self._closed.set()
            self.feed.close()
        super().close()

    # -- messages ------------------------------------------------------------------------------

    def _on_custom(self, _widget: Any, content: dict[str, Any], buffers: list[Any]) -> None:
        kind = content.get("type") if isinstance(content, dict) else None
        if kind != "page" and kind not in ACTIONS[self.mode]:
            log.warning("nblabel review widget (%s mode): unknown message %r", self.mode, kind)
            return
        view = {key: content.get(key) for key in ("seq", "view")}
        try:
            if kind != "page":
                self._act(kind, content, view)
            self._send_page(content, view)
        except Exception:  # a bad message must not kill the comm; say so in the log
            log.exception("nblabel review widget: cannot handle %r", kind)

    def _act(self, kind: str, content: dict[str, Any], view: dict[str, Any]) -> None:
        """Apply one action and acknowledge it (or say why not) before the page is re-sent."""
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
            self._reply({"type": "error", **view, "reason": str(exc)})
            return
        except OSError as exc:  # disk full, read-only store
            log.error("nblabel: cannot store a review: %s", exc)
            self._reply({"type": "error", **view, "reason": f"could not save: {exc}"})
            return
        self._reply({"type": "ack", **view, "notice": notice})

    def _reply(self, message: dict[str, Any], buffers: list[bytes] | None = None) -> None:
        with self._lock:
            self.send(message, buffers or [])

    # -- actions -------------------------------------------------------------------------------

    def _unchanged(self, items: list[dict[str, Any]]) -> tuple[list[str], int]:
        """Keys whose current proposal is still the one the browser showed (by uid), and how
        many others there were."""
        self.job.refresh()
        keys = []
        for item in items:
            key = item["key"]
            current = self.job.current(key) if self.job.has_item(key) else None
            if current is not None and current.kind == "auto" and current.uid == item["uid"]:
                keys.append(key)
        return keys, len(items) - len(keys)

    def _accept(self, items: list[dict[str, Any]]) -> str:
        keys, changed = self._unchanged(items)
        n = self.job.accept(keys)
        return f"Accepted {_items(n)}" + _changed(changed, REVIEWED)

    def _reject(self, items: list[dict[str, Any]]) -> str:
        keys, changed = self._unchanged(items)
        n = self.job.reject(keys)
        return f"Rejected {_items(n)}: back in the people's queue" + _changed(changed, REVIEWED)

    def _relabel(self, keys: list[str], value: Any) -> str:
        keys = [self.job.key(key) for key in keys]  # all known, or nothing is stored
        value = self.job.task.validate(value)
        for key in keys:
            self.job.label(key, value)
        return f"Relabeled {_items(len(keys))} as {_shown(value)}"

    def _decide(self, items: list[dict[str, Any]], value: Any) -> str:
        """Decide ``value`` for the items whose answers are still those the browser showed."""
        value = self.job.task.validate(value)
        keys = [self.job.key(item["key"]) for item in items]  # all known, or nothing is stored
        self.job.refresh()
        fresh = [
            key for key, item in zip(keys, items, strict=True) if _version(self.job, key) == item["version"]
        ]
        decided = [self.job.decide(key, value) for key in fresh]
        if decided:
            self._decisions.append(decided)
        return f"Decided {_items(len(decided))}: {_shown(value)}" + _changed(len(keys) - len(fresh), ANSWERED)

    def _undo(self) -> str:
        """Take back the newest decision made here that still stands."""
        self.job.refresh()
        while self._decisions:
            standing = [a for a in self._decisions.pop() if _uid(self.job.current(a.item)) == a.uid]
            if standing:
                for a in standing:
                    self.job.retract(a.uid)
                return f"Took back the decision on {_items(len(standing))}"
        return "Nothing to undo: no decision made here still stands"

    def _accept_above(self, content: dict[str, Any]) -> str:
        confidence = float(content["confidence"])
        if not 0.0 <= confidence <= 1.0:
            raise ValueError(f"confidence must be between 0 and 1, got {confidence}")
        label = self._label_filter(content.get("scope"))  # the class the count was made for
        auto = self.job.auto_labeled()
        auto = auto[self._matches(auto, label)]
        keys = auto.loc[_confidences(auto) >= confidence, "key"].tolist()
        expected = content.get("expected")
        if expected is not None and int(expected) != len(keys):
            # Proposals came or went since the browser counted: accept nothing it did not show.
            raise ValueError(
                f"{_items(len(keys))} now have confidence ≥ {confidence:.2f}, not the "
                f"{int(expected)} shown; nothing was accepted, check the count and try again"
            )
        n = self.job.accept(keys)
        of = f" of class {label}" if label else ""
        return f"Accepted {_items(n)}{of} with confidence ≥ {confidence:.2f}"

    # -- pages ---------------------------------------------------------------------------------

    def _label_filter(self, value: Any) -> str:
        label = str(value or "")
        if label and label not in self.job.task.labels:
            raise ValueError(f"{label!r} is not one of the labels {self.job.task.labels}")
        return label

    def _matches(self, auto: pd.DataFrame, label: str) -> pd.Series:
        """Rows whose proposal is ``label`` (multi-label: includes it); every row for ''."""
        if not label:
            return pd.Series(True, index=auto.index)
        if self.job.task.multi_label:
            return auto["value"].map(lambda value: label in value).astype(bool)
        return (auto["value"] == label).astype(bool)

    def _send_page(self, content: dict[str, Any], view: dict[str, Any]) -> None:
        """Send the page at ``offset`` of the rows matching ``filter``, with the counts."""
        label = self._label_filter(content.get("filter"))
        buffers: list[bytes] = []
        if self.mode == "disagreements":
            frame = self._disputes()
            rows = frame[_involving(frame, label, self.job.task.multi_label)]
            stats = self._dispute_stats(frame)
        else:
            frame = self.job.auto_labeled()
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
        self._send_tiles(message, tiles, buffers)

    def _send_tiles(self, message: dict[str, Any], tiles: list[dict[str, Any]], buffers: list[bytes]) -> None:
        """Add each tile's text snippet or thumbnail (a worker thread reads images) and send."""

        def work() -> None:
            try:
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
                self._reply({**message, "items": tiles}, [*buffers, *images])
            except Exception:
                log.exception("nblabel review widget: cannot prepare a page")

        if self.job.task.media == "text":
            work()
        else:
            threading.Thread(target=work, name="nblabel-review", daemon=True).start()

    def _disputes(self) -> pd.DataFrame:
        """The job's disagreements, each kept at the place it had when first shown."""
        frame = self.job.disagreements()
        for key in frame["key"]:
            self._rank.setdefault(key, len(self._rank))
        order = frame["key"].map(self._rank).to_numpy()
        return frame.iloc[np.argsort(order, kind="stable")].reset_index(drop=True)

    def _dispute_tile(self, row: Any) -> dict[str, Any]:
        """One disputed item: every annotator's answer, the current label, whether a person
        decided it, and versions (of the tile, and of the answers a decision rests on)."""
        answers = self.job.answers(row.key)
        current = self.job.current(row.key)
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
            "version": _version(self.job, row.key),
        }

    def _dispute_stats(self, frame: pd.DataFrame) -> dict[str, Any]:
        """How many items people disagree on, how many a person decided, and per class how many
        involve it."""
        multi = self.job.task.multi_label
        return {
            "version": "",
            "total": len(frame),
            "decided": sum(_decision(self.job.current(key)) for key in frame["key"]),
            "counts": {label: int(_involving(frame, label, multi).sum()) for label in self.job.task.labels},
        }

    def _stats(self, auto: pd.DataFrame) -> dict[str, Any]:
        """Counts of proposals per class, the job's progress, and a version of the proposals."""
        digest = hashlib.blake2b("\n".join(auto["uid"]).encode(), digest_size=8).hexdigest()
        return {
            "version": digest,
            "auto": len(auto),
            "counts": {label: int(self._matches(auto, label).sum()) for label in self.job.task.labels},
            "progress": self.job.progress._asdict(),
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
            "by_class": {label: add(auto[self._matches(auto, label)]) for label in self.job.task.labels},
        }


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


def _version(job: Job, key: str) -> str:
    """A digest of the answers an item has now: a decision is made on the answers shown."""
    uids = "\n".join(a.uid for a in job.answers(key))
    return hashlib.blake2b(uids.encode(), digest_size=8).hexdigest()


def _involving(frame: pd.DataFrame, label: str, multi: bool) -> pd.Series:
    """Rows where someone answered ``label`` (multi-label: included it); every row for ''."""
    if not label:
        return pd.Series(True, index=frame.index)

    def involves(answers: dict[str, Any]) -> bool:
        return any((label in value) if multi else value == label for value in answers.values())

    return frame["answers"].map(involves).astype(bool)
