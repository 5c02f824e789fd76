"""The label-verification widget: shows an earlier label over its image and records a verdict."""

from __future__ import annotations

from collections.abc import Collection
from typing import TYPE_CHECKING, Any

import traitlets

from nblabel.tasks.verification import LabelVerification
from nblabel.widgets.item_widget import STATIC, ItemWidget

if TYPE_CHECKING:
    from nblabel.labeling.feed import Feed

__all__ = ["VerifyWidget"]


class VerifyWidget(ItemWidget):
    """Verify an earlier job's labels, one image at a time.

    The label under review is drawn over the image (boxes, or a segmentation mask in its
    colours at half opacity) or shown by name (classes), on the same zoomable stage as the box
    widget. Keys (on the focused widget only, and not while typing
    a comment): ``1``, ``2``, ... record a verdict and move on; ``c`` puts the cursor in the
    comment box (``Escape`` leaves it; ``Enter`` in it records nothing); ``s`` skips; ``z`` or
    ``Backspace`` undoes; ``←``/``→`` revisit; ``+``/``-``, wheel, space-drag and ``f`` zoom and
    pan. It does not edit the label: see ``BoundingBox(..., adjust=...)`` for that.

    Parameters
    ----------
    feed
        The item feed of the job to label; its task must be :class:`~nblabel.tasks.verification.LabelVerification`.
    window
        How many images the browser holds ahead of the one on screen (default 8).
    """

    _esm = STATIC / "verify.js"
    _css = STATIC / "verify.css"

    source = traitlets.Unicode("", help="The attribute whose labels are verified.").tag(sync=True)

    def __init__(self, feed: Feed, *, window: int | None = None, **kwargs: Any) -> None:
        if not isinstance(feed.task, LabelVerification):
            raise TypeError(f"VerifyWidget draws LabelVerification tasks, not {feed.task!r}")
        items, task = feed.items, feed.task
        # Rows without the label under review have nothing to verify: they are never offered,
        # and the header says how many were left out.
        self._unlabeled = [
            key for position, key in enumerate(items.keys) if not task.has_label(items.row_inputs(position))
        ]
        title = feed.title
        if self._unlabeled:
            title += f" · {len(self._unlabeled)} of {len(items.keys)} have no {task.source_attribute!r} label to verify, left out"
        super().__init__(feed, window=window or 8, source=task.source_attribute, title=title, **kwargs)

    def _next_positions(self, count: int, exclude: Collection[str]) -> tuple[list[int], bool]:
        return self.feed.next_positions(count, exclude=exclude, skip=self._unlabeled)
