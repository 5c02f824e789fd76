"""The preference widget: a prompt and its responses, judged pairwise, ranked or rated."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import traitlets

from nblabel.tasks.preference import Pairwise, PreferenceTask, Ranking, Rating
from nblabel.widgets.item_widget import STATIC, ItemWidget

if TYPE_CHECKING:
    from nblabel.labeling.feed import Feed

__all__ = ["PreferenceWidget"]


class PreferenceWidget(ItemWidget):
    """Judge model responses one prompt at a time: which is better, their ranks, or scores.

    The prompt and the responses scroll together (two side by side, more stacked); Markdown in
    them is shown readably but built from text, never parsed as HTML. Keys (on the focused
    widget only): pairwise ``a`` / ``b`` / ``t`` (tie); ranking ``1``-``k`` give that response
    the next rank on the current dimension, ``=`` makes the next one share the last rank (where
    ties are allowed); rating: a score key rates the marked response; ``Tab`` / ``Shift+Tab``
    change dimension; ``Enter`` submits (or accepts the judge's proposal); ``z`` undoes the last
    placement, then the last answer; ``s`` skips; ``←``/``→`` revisit; ``r`` / ``c`` type a
    reason or comment, ``e`` a corrected response (``Escape`` leaves the box; keys typed there
    are the box's); ``i`` opens the task's instructions. Models behind the responses are never shown.

    Parameters
    ----------
    feed
        The item feed of a :class:`~nblabel.tasks.preference.Pairwise`,
        :class:`~nblabel.tasks.preference.Ranking` or :class:`~nblabel.tasks.preference.Rating` job.
    window
        How many items the browser holds ahead of the one on screen (default 20).
    """

    _esm = STATIC / "preference.js"
    _css = STATIC / "preference.css"

    kind = traitlets.Unicode("pairwise", help="'pairwise', 'ranking' or 'rating'.").tag(sync=True)
    criteria = traitlets.Unicode("", help="What to judge by, shown over the responses.").tag(sync=True)
    dimensions = traitlets.List(help="[{name, allowTie}] of a ranking or rating.").tag(sync=True)
    scale = traitlets.List(traitlets.Int(), help="A rating's lowest and highest score.").tag(sync=True)
    free_text = traitlets.Unicode("", help="'reason', 'comment' or '' (no text box).").tag(sync=True)
    correction = traitlets.Bool(False, help="Offer a corrected response (its own text box).").tag(sync=True)

    def __init__(self, feed: Feed, *, window: int | None = None, **kwargs: Any) -> None:
        task = feed.task
        if not isinstance(task, PreferenceTask):
            raise TypeError(f"PreferenceWidget draws Pairwise, Ranking and Rating tasks, not {task!r}")
        if isinstance(task, Ranking):
            dimensions = task.dimensions
        elif isinstance(task, Rating):
            dimensions = [{"name": name, "allowTie": True} for name in task.dimensions]
        else:
            dimensions = []
        free_text = ""
        if isinstance(task, Pairwise) and task.reason:
            free_text = "reason"
        elif isinstance(task, Rating) and task.comment:
            free_text = "comment"
        super().__init__(
            feed,
            window=window or 20,
            kind=task.kind,
            criteria=task.criteria,
            dimensions=dimensions,
            scale=list(task.scale) if isinstance(task, Rating) else [],
            free_text=free_text,
            correction=task.correction,
            **kwargs,
        )
