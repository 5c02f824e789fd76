"""The classification widget: one item at a time, keyboard first, answers never lost."""

from __future__ import annotations

import logging
import threading
from collections import deque
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anywidget
import traitlets

from nblabel.feed import Feed
from nblabel.tasks.classification import Classification
from nblabel.widgets.rounds import watch_rounds

if TYPE_CHECKING:
    from nblabel.job import Job

__all__ = ["ClassifyWidget"]

STATIC = Path(__file__).resolve().parent.parent / "static"
log = logging.getLogger(__name__)


class ClassifyWidget(anywidget.AnyWidget):
    """Label a job's images or texts one at a time.

    Keys (on the focused widget only): ``1``-``9``, ``0`` pick a class (multi-label: toggle,
    ``Enter`` submits); ``s`` skips; ``z`` or ``Backspace`` undoes; ``←``/``→`` revisit.
    Every action also has a button. The widget shows progress, items per minute, and how many
    answers are not yet saved. It does not draw boxes or masks: see the other task widgets.

    Parameters
    ----------
    job
        The job to label; its task must be a classification task.
    window
        How many items the browser holds ahead of the one on screen; defaults to 10 images or
        50 texts. Keys pressed while the next item is still loading are ignored, never applied
        to an item the person has not seen.
    """

    _esm = STATIC / "classify.js"
    _css = STATIC / "classify.css"

    # -- configuration ----------------------------------------------------------------------
    labels = traitlets.List(traitlets.Unicode(), help="Class names, in key order.").tag(sync=True)
    multi_label = traitlets.Bool(False, help="Several classes per item.").tag(sync=True)
    media = traitlets.Unicode("image", help="'image' or 'text'.").tag(sync=True)
    title = traitlets.Unicode("", help="Shown in the widget's header.").tag(sync=True)
    job_id = traitlets.Unicode("", help="Identifies the job's store, for re-sending answers.").tag(sync=True)
    window = traitlets.Int(6, help="Items prefetched ahead of the cursor.").tag(sync=True)

    # -- state --------------------------------------------------------------------------------
    progress = traitlets.Dict(help="total, labeled, skipped, remaining").tag(sync=True)

    def __init__(self, job: Job, *, window: int | None = None, **kwargs: Any) -> None:
        if not isinstance(job.task, Classification):
            raise TypeError(f"ClassifyWidget draws classification tasks, not {job.task!r}")
        super().__init__(
            labels=list(job.task.labels),
            multi_label=job.task.multi_label,
            media=job.task.media,
            title=f"{job.name} · {job.attribute}",
            job_id=f"{Path(job.store.path).resolve()}::{job.attribute}",
            window=window or (10 if job.task.media == "image" else 50),
            progress=job.progress._asdict(),
            **kwargs,
        )
        self.job = job
        self.feed = Feed(job)
        # Handlers run on the kernel's main thread; image replies are sent from worker threads.
        self._lock = threading.Lock()
        self._recent: deque[str] = deque(maxlen=500)  # keys the browser may hold
        self._closed = threading.Event()
        self.on_msg(self._on_custom)
        watch_rounds(job, self._closed, self._push_round, "nblabel-rounds")

    def close(self) -> None:
        """Close the widget and stop watching the auto-labeler."""
        self._closed.set()
        self.feed.close()
        super().close()

    def _push_round(self) -> None:
        """Stream a new auto-labeling round's proposals and queue order to the browser."""
        news = self.feed.round_news(list(self._recent), self.window)
        self.progress = news["progress"]
        with self._lock:
            self.send(news)

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
                self._send_items(self.feed.next_positions(self.window), reply=True)
            elif kind == "more":
                # Never more than the window: the browser holds a window, not the dataset.
                count = max(1, min(int(content.get("count") or self.window), self.window))
                positions = self.feed.next_positions(count, exclude=content.get("exclude") or [])
                self._send_items(positions, reply=True)
            elif kind == "get":
                positions = [self.job.position(k) for k in content.get("keys") or [] if self.job.has_item(k)]
                self._send_items((positions, False), reply=False)
            elif kind in ("answer", "skip", "undo"):
                self._answer(content)
            else:
                log.warning("nblabel widget: unknown message %r", kind)
        except Exception:  # a bad message must not kill the comm; say so in the log
            log.exception("nblabel widget: cannot handle %r", kind)

    def _answer(self, message: dict[str, Any]) -> None:
        uid = str(message.get("uid") or "")
        try:
            undone = self.feed.apply(message)
        except (ValueError, KeyError, TypeError) as exc:
            self.send({"type": "rejected", "uid": uid, "reason": str(exc)})
            return
        except OSError as exc:  # disk full, read-only store: keep it unacked so it is re-sent
            log.error("nblabel: cannot store an answer: %s", exc)
            self.send({"type": "store-error", "uid": uid, "reason": str(exc)})
            return
        progress = self.job.progress._asdict()
        self.progress = progress
        self.send({"type": "ack", "uids": [uid], "progress": progress})
        if undone is not None:
            items, buffers = self.feed.payloads([self.job.position(undone.item)])
            self.send({"type": "goto", "key": undone.item, "items": items}, buffers)

    def _send_items(self, found: tuple[list[int], bool], *, reply: bool) -> None:
        positions, exhausted = found
        progress = self.job.progress._asdict()

        self._recent.extend(self.job.keys[p] for p in positions)

        def work() -> None:
            try:
                items, buffers = self.feed.payloads(positions)
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

        if self.job.task.media == "text":
            work()
        else:
            threading.Thread(target=work, name="nblabel-items", daemon=True).start()
