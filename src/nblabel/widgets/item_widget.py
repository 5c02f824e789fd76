"""The widget protocol's kernel half, shared by every one-item-at-a-time labeling widget.

The browser says ``hello`` (with its display size and answers left unsaved by an earlier
widget), asks for ``more`` items or ``get`` s items again, sends ``answer`` / ``skip`` / ``undo``
and, for zoomed-in images, asks for a sharper ``detail`` crop. Every message gets exactly one
reply: ``items`` (to ``hello``, ``more``, ``get``), ``ack`` / ``rejected`` / ``store-error``
(to an answer) or ``detail``; or, for any message the kernel cannot handle, ``rejected`` (the
message is invalid: the browser drops it) or ``error`` (the kernel failed unexpectedly: the
browser stops re-sending it), with the ``reason`` and, for answers, the ``uid``, else the
``request`` type; a task widget's own requests (the segmentation tools') get their own reply.
``goto`` (after an undo's ``ack``), ``proposals`` (a new auto-labeling round) and ``answered``
(answers stored from anywhere) are sent unasked. Answers travel as custom messages, not traits: ipywidgets merges quick
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

# A refusal's reason is shown to the person, not echoed whole: a forged value may be huge.
_REASON_CHARS = 2000


def _sendable(text: str, limit: int | None = None) -> str:
    """Text that can travel in a message: Jupyter encodes messages as UTF-8, which a lone
    surrogate (from a forged message, echoed in a reason) would make fail, losing the reply."""
    if limit is not None and len(text) > limit:
        text = text[:limit] + "..."
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _short(value: Any) -> str:
    """A message field for a log line or a reason: its repr, cut short (a forged one may be huge)."""
    text = repr(value)
    return text if len(text) <= 80 else text[:80] + "..."


def _strings(value: Any, name: str) -> list[str]:
    """A message field that must be a list of strings (item keys), or [] when absent."""
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise TypeError(f"{name} must be a list of item keys, got {type(value).__name__}")
    return value


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
    instructions = traitlets.Dict(
        help="The task's instructions: short, full (Markdown), good and bad examples ({src, caption})."
    ).tag(sync=True)
    attributes = traitlets.Dict(
        help="Label category and frame attributes: {labels: {label: [...]}, global: [...], frame: [...]}."
    ).tag(sync=True)

    def __init__(self, feed: Feed, *, window: int, title: str | None = None, **kwargs: Any) -> None:
        super().__init__(
            labels=list(getattr(feed.task, "labels", [])),
            media=feed.task.media,
            title=feed.title if title is None else title,
            job_id=feed.job_id,
            window=window,
            progress=feed.progress(),
            instructions=guide.payload(feed.items.files) if (guide := feed.task.instructions) else {},
            attributes=config.spec() if (config := feed.task.attributes) else {},
            **kwargs,
        )
        self.feed = feed
        # Handlers run on the kernel's main thread; image replies are sent from worker threads.
        self._lock = threading.Lock()
        self._recent: deque[str] = deque(maxlen=500)  # keys the browser may hold
        self._closed = threading.Event()
        self.on_msg(self._on_custom)
        feed.watch_rounds(self._closed, self._push_round, "nblabel-rounds", self._push_answers)

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
        self._reply(lift_bytes(news, buffers), buffers)  # mask proposals carry their pixels

    def _push_answers(self) -> None:
        """Tell the browser which items it holds got an answer elsewhere (code, another kernel),
        with the store's progress, so it stops offering them and its counts follow."""
        news = self.feed.answer_news(list(self._recent))
        self.progress = news["progress"]
        self._reply(news)

    def _on_custom(self, _widget: Any, content: Any, buffers: list[Any]) -> None:
        """Handle one message from the browser; whatever happens, it gets exactly one reply."""
        kind = content.get("type") if isinstance(content, dict) else None
        try:
            if not isinstance(content, dict):
                raise TypeError(f"a message is a JSON object, got {type(content).__name__}")
            if kind == "hello":
                for message in _resent(content.get("resend")):
                    self._answer(message)
                width = int(content.get("width") or 1024)
                height = int(content.get("height") or 768)
                self.feed.max_width = max(320, min(width, 1600))
                self.feed.max_height = max(240, min(height, 1200))
                self._send_items(self._next_positions(self.window, []), "hello", reply=True)
            elif kind == "more":
                # Never more than the window: the browser holds a window, not the dataset.
                count = max(1, min(int(content.get("count") or self.window), self.window))
                exclude = _strings(content.get("exclude"), "exclude")
                self._send_items(self._next_positions(count, exclude), "more", reply=True)
            elif kind == "get":
                items = self.feed.items
                positions = [
                    items.positions[k] for k in _strings(content.get("keys"), "keys") if items.has(k)
                ]
                self._send_items((positions, False), "get", reply=False)
            elif kind in ("answer", "skip", "undo"):
                self._answer(content, buffers)
            elif kind == "detail":
                self._send_detail(content)
            elif not self._on_request(kind, content, buffers):
                raise ValueError(f"unknown message type {_short(kind)}")
        except (ValueError, KeyError, TypeError, OverflowError) as exc:  # the message is invalid
            log.warning("nblabel widget: refused a %s message: %s", _short(kind), _sendable(str(exc), 300))
            self._refuse("rejected", kind, exc)
        except Exception as exc:  # a bug: still reply, or the browser waits (or re-sends) forever
            log.exception("nblabel widget: cannot handle %s", _short(kind))
            self._refuse("error", kind, exc)

    def _reply(self, message: dict[str, Any], buffers: list[bytes] | None = None) -> None:
        with self._lock:
            self.send(message, buffers)

    def _refuse(self, status: str, request: Any, exc: BaseException, uid: str | None = None) -> None:
        """Reply ``rejected`` or ``error`` with the reason, naming the answer's uid or the request."""
        message: dict[str, Any] = {"type": status, "reason": _sendable(str(exc), _REASON_CHARS)}
        if uid:
            message["uid"] = _sendable(uid)
        else:
            message["request"] = _sendable(request, 40) if isinstance(request, str) else None
        self._reply(message)

    def _on_request(self, kind: Any, content: dict[str, Any], buffers: list[Any]) -> bool:
        """Handle a message of a task widget's own (a segmentation tool's, with its binary
        ``buffers``), which then owes it exactly one reply; False when the kind is unknown."""
        return False

    def _answer(self, message: Any, buffers: list[Any] | None = None) -> None:
        """Apply an answer, skip or undo; reply ``ack``, ``rejected`` (never stored, dropped by
        the browser), ``store-error`` (kept and re-sent) or ``error``."""
        uid = message.get("uid") if isinstance(message, dict) else None
        uid = uid if isinstance(uid, str) else ""
        kind = message.get("type") if isinstance(message, dict) else None
        try:
            if not isinstance(message, dict):
                raise TypeError(f"a message is a JSON object, got {type(message).__name__}")
            undone = self.feed.apply(message, buffers or ())
        except (ValueError, KeyError, TypeError, OverflowError) as exc:
            self._refuse("rejected", kind, exc, uid)
            return
        except OSError as exc:  # disk full, read-only store: keep it unacked so it is re-sent
            log.error("nblabel: cannot store an answer: %s", exc)
            self._reply({"type": "store-error", "uid": uid, "reason": _sendable(str(exc), _REASON_CHARS)})
            return
        except Exception as exc:
            log.exception("nblabel widget: cannot store an answer")
            self._refuse("error", kind, exc, uid)
            return
        progress = self.feed.progress()
        self.progress = progress
        self._reply({"type": "ack", "uids": [uid], "progress": progress})
        if undone is not None:
            items, buffers = self._payloads([self.feed.items.positions[undone.item]])
            self._reply({"type": "goto", "key": undone.item, "items": items}, buffers)

    def _next_positions(self, count: int, exclude: Collection[str]) -> tuple[list[int], bool]:
        """The next ``count`` open positions to send, not in ``exclude``, and whether none are left."""
        return self.feed.next_positions(count, exclude=exclude)

    def _payloads(self, positions: list[int]) -> tuple[list[dict[str, Any]], list[bytes]]:
        """The items at some positions as the browser gets them, and their binary buffers.

        Runs in a worker thread unless the task shows texts. The feed's payloads by default:
        the downscaled image or the text, the answer given before, the proposal, the extras.
        """
        return self.feed.payloads(positions)

    def _send_items(self, found: tuple[list[int], bool], request: str, *, reply: bool) -> None:
        positions, exhausted = found
        progress = self.feed.progress()

        self._recent.extend(self.feed.items.keys[p] for p in positions)

        def work() -> None:
            try:
                items, buffers = self._payloads(positions)
            except Exception as exc:
                log.exception("nblabel widget: cannot prepare items")
                self._refuse("error", request, exc)
                return
            message = {
                "type": "items",
                "items": items,
                "exhausted": exhausted,
                "reply": reply,
                "progress": progress,
            }
            self._reply(message, buffers)

        if self.feed.task.media == "text":
            work()
        else:
            threading.Thread(target=work, name="nblabel-items", daemon=True).start()

    def _send_detail(self, content: dict[str, Any]) -> None:
        """A sharper crop of the visible region of a zoomed-in image, made in a worker thread."""
        key = content.get("key")
        if not isinstance(key, str) or not self.feed.items.has(key):
            raise KeyError(f"no item {key!r} to show sharper")
        if self.feed.task.media != "image":
            raise ValueError("only images have a sharper view")

        def work() -> None:
            try:
                message, data = self.feed.detail(
                    key, content["rect"], int(content["width"]), int(content["height"])
                )
            except (MediaError, KeyError, TypeError, ValueError, OverflowError) as exc:
                log.info("nblabel widget: no sharper view of %s: %s", key, exc)
                self._refuse("rejected", "detail", exc)
                return
            except Exception as exc:
                log.exception("nblabel widget: no sharper view of %s", key)
                self._refuse("error", "detail", exc)
                return
            self._reply(message, [data])

        threading.Thread(target=work, name="nblabel-detail", daemon=True).start()


def _resent(value: Any) -> list[Any]:
    """The answers a ``hello`` carries from an earlier widget: each is handled (and replied to)
    as if sent on its own."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise TypeError(f"resend must be a list of answer messages, got {type(value).__name__}")
    return value
