"""The semantic-segmentation widget: paint a class per pixel on a zoomable image."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import traitlets

from nblabel.tasks.segmentation import SemanticSegmentation
from nblabel.widgets.item_widget import STATIC, ItemWidget

if TYPE_CHECKING:
    from nblabel.labeling.feed import Feed

__all__ = ["SegmentWidget"]


class SegmentWidget(ItemWidget):
    """Paint segmentation masks on a job's images, one image at a time.

    The mask is exact: one class index per original pixel, painted with integer rules and no
    antialiasing, sent to the kernel losslessly and written there as an indexed PNG. Tools:
    ``b`` brush, ``e`` eraser (paints BACKGROUND), ``p`` polygon (click the corners; Enter, a
    double-click or a click on the first corner fills it; Escape drops it), ``g`` flood fill of
    the region under the pointer, ``r`` fills every still-unpainted pixel with the current class.
    ``[`` and ``]`` change the brush size; ``1``-``9``, ``0`` pick the class; ``o`` steps the mask
    opacity, ``m`` hides or shows the mask; ``z`` / ``Backspace`` undo and ``Shift+Z`` redoes every
    edit (past the first edit, ``z`` takes back the previous image's answer); ``Enter`` submits,
    ``s`` skips, ``←``/``→`` revisit. Zoom with the wheel or ``+``/``-``, pan with space-drag or
    the middle button, ``f`` fits. It does not draw boxes: see the box widget.

    Parameters
    ----------
    feed
        The item feed of the job to label; its task must be :class:`~nblabel.tasks.segmentation.SemanticSegmentation`.
    window
        How many images the browser holds ahead of the one on screen (default 4).
    """

    _esm = STATIC / "segment.js"
    _css = STATIC / "segment.css"

    colors = traitlets.List(traitlets.Unicode(), help="Hex colour by class index (0: BACKGROUND).").tag(
        sync=True
    )
    adjusting = traitlets.Bool(False, help="The images start from an earlier job's masks.").tag(sync=True)

    def __init__(self, feed: Feed, *, window: int | None = None, **kwargs: Any) -> None:
        if not isinstance(feed.task, SemanticSegmentation):
            raise TypeError(f"SegmentWidget paints SemanticSegmentation tasks, not {feed.task!r}")
        super().__init__(
            feed,
            window=window or 4,
            colors=list(feed.task.colors),
            adjusting=bool(feed.task.adjust),
            **kwargs,
        )
