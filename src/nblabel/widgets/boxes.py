"""The bounding-box widget: draw, select, move, resize and classify boxes on a zoomable image."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import traitlets

from nblabel.tasks.boxes import BoundingBox
from nblabel.widgets.item_widget import STATIC, ItemWidget

if TYPE_CHECKING:
    from nblabel.labeling.feed import Feed

__all__ = ["BoxesWidget"]


class BoxesWidget(ItemWidget):
    """Draw bounding boxes on a job's images, one image at a time.

    Mouse: drag on the image to draw a box; click a box to select it; drag it to move it, or
    drag a corner or edge handle to resize it. Keys (on the focused widget only): ``1``-``9``,
    ``0`` pick the class of the selected box, or of the next one drawn; ``Tab`` / ``Shift+Tab``
    cycle through the boxes; arrows nudge the selected box by one original pixel (``Shift``: 10);
    ``Delete`` removes it; ``d`` duplicates it; ``Escape`` deselects; ``Enter`` submits the
    image (no boxes is a valid answer); ``s`` skips; ``z`` or ``Backspace`` undoes and
    ``Shift+Z`` redoes every edit, and past the first edit, the previous image's answer. Zoom:
    wheel (once the widget has focus) or ``+``/``-`` around the pointer; pan with space-drag or
    the middle button; ``f`` fits. Coordinates are kept in original image pixels whatever the
    zoom. Pre-annotations (``BoundingBox(..., adjust=...)`` or ``pre=...``) appear as boxes to
    accept with Enter, adjust or delete. It does not draw polygons or masks.

    Parameters
    ----------
    feed
        The item feed of the job to label; its task must be :class:`~nblabel.tasks.boxes.BoundingBox`.
    window
        How many images the browser holds ahead of the one on screen (default 6).
    """

    _esm = STATIC / "boxes.js"
    _css = STATIC / "boxes.css"

    adjusting = traitlets.Bool(False, help="The images start from an earlier job's boxes.").tag(sync=True)

    def __init__(self, feed: Feed, *, window: int | None = None, **kwargs: Any) -> None:
        if not isinstance(feed.task, BoundingBox):
            raise TypeError(f"BoxesWidget draws BoundingBox tasks, not {feed.task!r}")
        super().__init__(feed, window=window or 6, adjusting=bool(feed.task.adjust), **kwargs)
