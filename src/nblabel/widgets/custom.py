"""The custom-task widget: a Ground Truth worker template per item, answers never lost."""

from __future__ import annotations

import threading
from collections.abc import Collection
from typing import TYPE_CHECKING, Any

from nblabel.manifest import row_objects
from nblabel.tasks.custom import CustomTask
from nblabel.widgets.item_widget import STATIC, ItemWidget

if TYPE_CHECKING:
    from nblabel.labeling.feed import Feed

__all__ = ["CustomWidget"]


class CustomWidget(ItemWidget):
    """Label a job's items with its custom task's worker template, one item at a time.

    Each item's template is rendered in the kernel (Liquid, autoescaped) and shown with
    nblabel's ``crowd-*`` elements. The template is the user's own code: its HTML and
    ``<script>`` run in the notebook page. Its ``<style>`` rules are scoped to the item.
    Items the pre-annotation function keeps from people are never sent.

    Keys (on the focused widget only): ``Ctrl+Enter`` submits the form (as its Submit button
    does); ``s`` skips and ``z`` or ``Backspace`` undoes the last answer, when the focus is not
    in a text field; ``←``/``→`` revisit. The elements add their own keys (digits pick a
    category or label, ``Delete`` removes a selected shape, ``Enter`` closes a polygon).

    Parameters
    ----------
    feed
        The item feed of the job to label; its task must be a :class:`~nblabel.tasks.custom.CustomTask`.
    window
        How many rendered items the browser holds ahead of the one on screen (default 5).
    """

    _esm = STATIC / "custom.js"
    _css = STATIC / "custom.css"

    def __init__(self, feed: Feed, *, window: int | None = None, **kwargs: Any) -> None:
        if not isinstance(feed.task, CustomTask):
            raise TypeError(f"CustomWidget draws custom tasks, not {feed.task!r}")
        super().__init__(feed, window=window or 5, **kwargs)
        self.task: CustomTask = feed.task
        # Items the pre-annotation function kept from people; filled by the item workers.
        self._not_required: set[str] = set()
        self._not_required_lock = threading.Lock()

    def _next_positions(self, count: int, exclude: Collection[str]) -> tuple[list[int], bool]:
        with self._not_required_lock:
            hidden = list(self._not_required)
        return self.feed.next_positions(count, exclude=exclude, skip=hidden)

    def _payloads(self, positions: list[int]) -> tuple[list[dict[str, Any]], list[bytes]]:
        """Rendered templates; items the pre-annotation function keeps from people are left
        out (the browser asks for more when it gets fewer than it wanted)."""
        items = []
        for position in positions:
            item = self.feed.item(position)
            key = item["key"]
            try:
                data_object = next(row_objects(self.feed.items.rows([position])))
                task_input, required = self.task.pre_annotate(data_object, key)
                if not required:
                    with self._not_required_lock:
                        self._not_required.add(key)
                    continue
                item["html"] = self.task.render(task_input, key, media_root=self.feed.items.media_root)
            except ValueError as exc:  # TemplateError too: shown on the item, which can be skipped
                item["error"] = str(exc)
            items.append(item)
        return items, []
