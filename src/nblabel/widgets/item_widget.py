"""The widget protocol's kernel half, shared by every one-item-at-a-time labeling widget.

The browser says ``hello`` (with its display size and answers left unsaved by an earlier
widget), asks for ``more`` items or ``get`` s items again, sends ``answer`` / ``skip`` / ``undo``
and, for zoomed-in images, asks for a sharper ``detail`` crop. The kernel replies with ``items``,
``ack``, ``rejected``, ``store-error``, ``goto``, ``detail`` and, when the auto-labeler finishes a
round, ``proposals``. Answers travel as custom messages, not traits: ipywidgets merges quick
trait changes. Task widgets subclass :class:`ItemWidget` and add their configuration traits;
one whose items are not the feed's media payloads (a rendered worker template) overrides
:meth:`ItemWidget._payloads`, and one that keeps some items from people overrides
:meth:`ItemWidget._next_positions`.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Collection
from pathlib import Path
from typing import Any

import anywidget
import traitlets

from nblabel.labeling.feed import Feed, lift_bytes
from nblabel.media import MediaError

__all__ = ["STATIC", "ItemWidget"]

STATIC = Path(__file__).resolve().parent.parent / "static"
log = logging.getLogger(__name__)


class ItemWidget(anywidget.AnyWidget):
    """Base of the labeling widgets: serves a job's items and stores the answers sent back.

    Parameters
    ----------
    feed
        The item feed of the job to label (:class:`~nblabel.labeling.feed.Feed`).
    window
        How many items the browser holds ahead of the one on screen.
    """

    labels = traitlets.List(traitlets.Unicode(), help="Class names, in key order.").tag(sync=True)
    media = traitlets.Unicode("image", help="'image' or 'text'.").tag(sync=True)
    title = traitlets.Unicode("", help="Shown in the widget's header.").tag(sync=True)
    job_id = traitlets.Unicode("", help="Identifies the job's store, for re-sending answers.").tag(sync=True)
    window = traitlets.Int(6, help="Items prefetched ahead of the cursor.").tag(sync=True)
    progress = traitlets.Dict(help="total, labeled, skipped, remaining").tag(sync=True)

    def __init__(self, feed: Feed, *, window: int, **kwargs: Any) -> None:
        super().__init__(
            labels=list(getattr(feed.task, "labels", [])),
            media=feed.task.media,
            title=feed.title,
            job_id=feed.job_id,
            window=window,
            progress=feed.progress(),
            **kwargs,
        )
        self.feed = feed
        # Handlers run on the kernel's main thread; image replies are sent from worker threads.
        self._lock = threading.Lock()
        self._recent: deque[str] = deque(maxlen=500)  # keys the browser may hold
        self._closed = threading.Event()
        self.on_msg(self._on_custom)
        feed.watch_rounds(self._closed, self._push_round, "nblabel-rounds")

    def close(self) -> None:
        """Close the widget and stop watching the auto-labeler."""
        if hasattr(self, "feed"):  # not when __init__ refused the job (close runs from __del__)
            self._closed.set()
            self.feed.close()
        super().close()

    def _push_round(self) -> None:
        """Stream a new auto-labeling round's proposals and queue order to the browser."""
        news = self.feed.round_news(list(self._recent), self.window)
        self.progress = news["progress"]
        buffers: list[bytes] = []
        news = lift_bytes(news, buffers)  # mask proposals carry their pixels
        with self._lock:
            self.send(news, buffers)

    def _on_custom(self, _widget: Any, content: dict[str, Any], buffers: list[Any]) -> None:
        kind = content.get("type") if isinstance(content, dict) else None
        try:
            if kind == "hello":
                for message in content.get("resend") or []:
                    self._answer(message)
                width = int(content.get("width") or 1024)
                height = int(content.get("height") or 768)
                self.feed.max_width = max(320, min(width, 1600))
                self.feed.max_height = max(240, min(height, 1200))
                self._send_items(self._next_positions(self.window, []), reply=True)
            elif kind == "more":
                # Never more than the window: the browser holds a window, not the dataset.
                count = max(1, min(int(content.get("count") or self.window), self.window))
                self._send_items(self._next_positions(count, content.get("exclude") or []), reply=True)
            elif kind == "get":
                items = self.feed.items
                positions = [items.positions[k] for k in content.get("keys") or [] if items.has(k)]
                self._send_items((positions, False), reply=False)
            elif kind in ("answer", "skip", "undo"):
                self._answer(content, buffers)
            elif kind == "detail":
                self._send_detail(content)
            else:
                log.warning("nblabel widget: unknown message %r", kind)
        except Exception:  # a bad message must not kill the comm; say so in the log
            log.exception("nblabel widget: cannot handle %r", kind)

    def _answer(self, message: dict[str, Any], buffers: list[Any] | None = None) -> None:
        uid = str(message.get("uid") or "")
        try:
            undone = self.feed.apply(message, buffers or ())
        except (ValueError, KeyError, TypeError) as exc:
            self.send({"type": "rejected", "uid": uid, "reason": str(exc)})
            return
        except OSError as exc:  # disk full, read-only store: keep it unacked so it is re-sent
            log.error("nblabel: cannot store an answer: %s", exc)
            self.send({"type": "store-error", "uid": uid, "reason": str(exc)})
            return
        progress = self.feed.progress()
        self.progress = progress
        self.send({"type": "ack", "uids": [uid], "progress": progress})
        if undone is not None:
            items, buffers = self._payloads([self.feed.items.positions[undone.item]])
            self.send({"type": "goto", "key": undone.item, "items": items}, buffers)

    def _next_positions(self, count: int, exclude: Collection[str]) -> tuple[list[int], bool]:
        """The next ``count`` open positions to send, not in ``exclude``, and whether none are left."""
        return self.feed.next_positions(count, exclude=exclude)

    def _payloads(self, positions: list[int]) -> tuple[list[dict[str, Any]], list[bytes]]:
        """The items at some positions as the browser gets them, and their binary buffers.

        Runs in a worker thread unless the task shows texts. The feed's payloads by default:
        the downscaled image or the text, the answer given before, the proposal, the extras.
        """
        return self.feed.payloads(positions)

    def _send_items(self, found: tuple[list[int], bool], *, reply: bool) -> None:
        positions, exhausted = found
        progress = self.feed.progress()

        self._recent.extend(self.feed.items.keys[p] for p in positions)

        def work() -> None:
            try:
                items, buffers = self._payloads(positions)
                message = {
                    "type": "items",
                    "items": items,
                    "exhausted": exhausted,
                    "reply": reply,
                    "progress": progress,
                }
                with self._lock:
                    self.send(message, buffers)
            except Exception:
                log.exception("nblabel widget: cannot prepare items")

        if self.feed.task.media == "text":
            work()
        else:
            threading.Thread(target=work, name="nblabel-items", daemon=True).start()

    def _send_detail(self, content: dict[str, Any]) -> None:
        """A sharper crop of the visible region of a zoomed-in image, made in a worker thread."""
        key = str(content.get("key") or "")
        if not self.feed.items.has(key):
            return

        def work() -> None:
            try:
                message, data = self.feed.detail(
                    key, content["rect"], int(content["width"]), int(content["height"])
                )
            except (MediaError, KeyError, TypeError, ValueError) as exc:
                log.info("nblabel widget: no sharper view of %s: %s", key, exc)
                return
            with self._lock:
                self.send(message, [data])

        threading.Thread(target=work, name="nblabel-detail", daemon=True).start()
