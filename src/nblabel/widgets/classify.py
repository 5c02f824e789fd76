"""The classification widget: one item at a time, keyboard first, answers never lost."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import traitlets

from nblabel.tasks.classification import Classification
from nblabel.widgets.item_widget import STATIC, ItemWidget

if TYPE_CHECKING:
    from nblabel.labeling.feed import Feed

__all__ = ["ClassifyWidget"]


class ClassifyWidget(ItemWidget):
    """Label a job's images or texts one at a time.

    Keys (on the focused widget only): ``1``-``9``, ``0`` pick a class (multi-label: toggle,
    ``Enter`` submits); ``s`` skips; ``z`` or ``Backspace`` undoes; ``←``/``→`` revisit.
    Every action also has a button. The widget shows progress, items per minute, and how many
    answers are not yet saved. It does not draw boxes or masks: see the other task widgets.

    Parameters
    ----------
    feed
        The item feed of the job to label; its task must be a classification task.
    window
        How many items the browser holds ahead of the one on screen; defaults to 10 images or
        50 texts. Keys pressed while the next item is still loading are ignored, never applied
        to an item the person has not seen.
    """

    _esm = STATIC / "classify.js"
    _css = STATIC / "classify.css"

    multi_label = traitlets.Bool(False, help="Several classes per item.").tag(sync=True)

    def __init__(self, feed: Feed, *, window: int | None = None, **kwargs: Any) -> None:
        if not isinstance(feed.task, Classification):
            raise TypeError(f"ClassifyWidget draws classification tasks, not {feed.task!r}")
        super().__init__(
            feed,
            window=window or (10 if feed.task.media == "image" else 50),
            multi_label=feed.task.multi_label,
            **kwargs,
        )
