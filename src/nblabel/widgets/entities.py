"""The named-entity widget: mark spans of each text, by mouse or keyboard, answers never lost."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from nblabel.tasks.entities import NamedEntities
from nblabel.widgets.item_widget import STATIC, ItemWidget

if TYPE_CHECKING:
    from nblabel.labeling.feed import Feed

__all__ = ["EntitiesWidget"]


class EntitiesWidget(ItemWidget):
    """Mark named entities in a job's texts, one text at a time.

    Select text with the mouse (it snaps to whole words; hold Alt for exact characters) or
    double-click a word, then press a label key (``1``-``9``, ``0``); or press the key first and
    then select. Without a mouse, ``←``/``→`` move a token cursor, ``Shift`` extends it, and a
    label key tags it. Click an entity (or put the cursor on it) to relabel it with a key or
    remove it with ``Delete``. ``Enter`` submits the text's entities (accepting any proposals
    shown), ``s`` skips, ``z``/``y`` undo and redo, ``[``/``]`` revisit. Overlapping entities
    are refused with the reason shown; adjacent ones are fine. The text is shown as text, with
    its spaces, TABs and line breaks. Stored offsets are code points (Python ``str`` indices).

    Parameters
    ----------
    feed
        The item feed of the job to label; its task must be :class:`~nblabel.NamedEntities`.
    window
        How many texts the browser holds ahead of the one on screen (default 20).
    """

    _esm = STATIC / "entities.js"
    _css = STATIC / "entities.css"

    def __init__(self, feed: Feed, *, window: int | None = None, **kwargs: Any) -> None:
        if not isinstance(feed.task, NamedEntities):
            raise TypeError(f"EntitiesWidget draws NamedEntities tasks, not {feed.task!r}")
        super().__init__(feed, window=window or 20, **kwargs)
