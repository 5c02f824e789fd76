"""The custom-task widget: a Ground Truth worker template per item, answers never lost."""

from __future__ import annotations

import logging
import threading
from collections.abc import Collection
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anywidget
import traitlets

from nblabel.feed import Feed
from nblabel.manifest import row_objects
from nblabel.tasks.custom import CustomTask

if TYPE_CHECKING:
    from nblabel.job import Job

__all__ = ["CustomWidget"]

STATIC = Path(__file__).resolve().parent.parent / "static"
log = logging.getLogger(__name__)


class CustomWidget(anywidget.AnyWidget):
    """Label a job's items with its custom task's worker template, one item at a time.

    Each item's template is rendered in the kernel (Liquid, autoescaped) and shown with
    nblabel's ``crowd-*`` elements. The template is the user's own code: its HTML and
    ``<script>`` run in the notebook page. Its ``<style>`` rules are scoped to the item.

    Keys (on the focused widget only): ``Ctrl+Enter`` submits the form (as its Submit button
    does); ``s`` skips and ``z`` or ``Backspace`` undoes the last answer, when the focus is not
    in a text field; ``←``/``→`` revisit. The elements add their own keys (digits pick a
    category or label, ``Delete`` removes a selected shape, ``Enter`` closes a polygon).

    Parameters
    ----------
    job
        The job to label; its task must be a :class:`~nblabel.tasks.custom.CustomTask`.
    window
        How many rendered items the browser holds ahead of the one on screen (default 5).
    """

    _esm = STATIC / "custom.js"
    _css = STATIC / "custom.css"

    title = traitlets.Unicode("", help="Shown in the widget's header.").tag(sync=True)
    job_id = traitlets.Unicode("", help="Identifies the job's store, for re-sending answers.").tag(sync=True)
    window = traitlets.Int(5, help="Items prefetched ahead of the cursor.").tag(sync=True)
    progress = traitlets.Dict(help="total, labeled, skipped, remaining").tag(sync=True)

    def __init__(self, job: Job, *, window: int | None = None, **kwargs: Any) -> None:
        if not isinstance(job.task, CustomTask):
            raise TypeError(f"CustomWidget draws custom tasks, not {job.task!r}")
        super().__init__(
            title=f"{job.name} · {job.attribute}",
            job_id=f"{Path(job.store.path).resolve()}::{job.attribute}",
            window=window or 5,
            progress=job.progress._asdict(),
            **kwargs,
        )
        self.job = job
        self.task: CustomTask = job.task
        self.feed = Feed(job)
        self._lock = threading.Lock()  # replies are sent from worker threads too
        self._not_required: set[str] = set()  # items the pre-annotation function kept from people
        self.on_msg(self._on_custom)

    def close(self) -> None:
        """Close the widget."""
        feed = getattr(self, "feed", None)  # absent when __init__ failed half way
        if feed is not None:
            feed.close()
        super().close()

    def _on_custom(self, _widget: Any, content: dict[str, Any], buffers: list[Any]) -> None:
        kind = content.get("type") if isinstance(content, dict) else None
        try:
            if kind == "hello":
                for message in content.get("resend") or []:
                    self._answer(message)
                self._send_next(self.window, [])
            elif kind == "more":
                count = max(1, min(int(content.get("count") or self.window), 20))
                self._send_next(count, content.get("exclude") or [])
            elif kind in ("answer", "skip", "undo"):
                self._answer(content)
            else:
                log.warning("nblabel custom widget: unknown message %r", kind)
        except Exception:  # a bad message must not kill the comm; say so in the log
            log.exception("nblabel custom widget: cannot handle %r", kind)

    def _reply(self, message: dict[str, Any]) -> None:
        with self._lock:
            self.send(message)

    def _answer(self, message: dict[str, Any]) -> None:
        uid = str(message.get("uid") or "")
        try:
            undone = self.feed.apply(message)
        except (ValueError, KeyError, TypeError) as exc:
            self._reply({"type": "rejected", "uid": uid, "reason": str(exc)})
            return
        except OSError as exc:  # disk full, read-only store: keep it unacked so it is re-sent
            log.error("nblabel: cannot store an answer: %s", exc)
            self._reply({"type": "store-error", "uid": uid, "reason": str(exc)})
            return
        progress = self.job.progress._asdict()
        self.progress = progress
        self._reply({"type": "ack", "uids": [uid], "progress": progress})
        if undone is not None:
            items = self._payloads([self.job.position(undone.item)])
            self._reply({"type": "goto", "key": undone.item, "items": items})

    def _send_next(self, count: int, exclude: Collection[str]) -> None:
        """Render the next open items in a worker thread (S3 signing, local files) and send them."""
        excluded = set(exclude)

        def work() -> None:
            try:
                items: list[dict[str, Any]] = []
                exhausted = False
                while len(items) < count and not exhausted:
                    positions, exhausted = self.feed.next_positions(
                        count - len(items), excluded | self._not_required
                    )
                    excluded.update(self.job.keys[p] for p in positions)
                    items += self._payloads(positions)
                message = {
                    "type": "items",
                    "items": items,
                    "exhausted": exhausted,
                    "reply": True,
                    "progress": self.job.progress._asdict(),
                }
                self._reply(message)
            except Exception:
                log.exception("nblabel custom widget: cannot prepare items")

        threading.Thread(target=work, name="nblabel-custom-items", daemon=True).start()

    def _payloads(self, positions: list[int]) -> list[dict[str, Any]]:
        """Rendered items; items the pre-annotation function keeps from people are left out."""
        items = []
        total = len(self.job.keys)
        for position in positions:
            key = self.job.keys[position]
            current = self.job.current(key)
            item: dict[str, Any] = {
                "key": key,
                "position": position,
                "total": total,
                "value": None if current is None or current.kind == "auto" else current.value,
            }
            try:
                data_object = next(row_objects(self.job.data.iloc[[position]]))
                task_input, required = self.task.prepare(data_object, key)
                if not required:
                    self._not_required.add(key)
                    continue
                item["html"] = self.task.render(task_input, key)
            except ValueError as exc:  # TemplateError too: shown on the item, which can be skipped
                item["error"] = str(exc)
            items.append(item)
        return items
