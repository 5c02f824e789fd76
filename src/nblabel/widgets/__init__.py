"""The notebook widgets: the only part of nblabel that imports anywidget or ipywidgets.

Widget classes are imported lazily, so ``import nblabel`` works headless and before the
JavaScript bundles are built. Every widget takes a :class:`~nblabel.labeling.feed.Feed`, never
a job: :data:`WIDGETS` maps a task family to the module and class that draws it.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from nblabel.labeling.feed import Feed

__all__ = [
    "WIDGETS",
    "BoxesWidget",
    "ClassifyWidget",
    "CustomWidget",
    "EntitiesWidget",
    "PreferenceWidget",
    "ReviewWidget",
    "SegmentWidget",
    "VerifyWidget",
    "review_widget",
    "widget_for",
]

#: Task family (``Task.family``) → (module, class) of the widget that draws it.
WIDGETS: dict[str, tuple[str, str]] = {
    "classify": ("nblabel.widgets.classify", "ClassifyWidget"),
    "boxes": ("nblabel.widgets.boxes", "BoxesWidget"),
    "verify": ("nblabel.widgets.verify", "VerifyWidget"),
    "segment": ("nblabel.widgets.segment", "SegmentWidget"),
    "entities": ("nblabel.widgets.entities", "EntitiesWidget"),
    "custom": ("nblabel.widgets.custom", "CustomWidget"),
    "preference": ("nblabel.widgets.preference", "PreferenceWidget"),
}
_REVIEW = ("nblabel.widgets.review", "ReviewWidget")


def _load(entry: tuple[str, str]) -> Any:
    module, name = entry
    return getattr(import_module(module), name)


def widget_for(feed: Feed, **options: Any) -> Any:
    """The widget that draws a feed's task."""
    family = feed.task.family
    if family not in WIDGETS:
        raise NotImplementedError(f"no widget for task family {family!r}")
    return _load(WIDGETS[family])(feed, **options)


def review_widget(feed: Feed, **options: Any) -> Any:
    """The widget that reviews a job's auto-labels, or with ``disagreements=True`` the items
    people disagree on.

    ``options`` go to :class:`~nblabel.widgets.review.ReviewWidget` (``page_size``, ``thumb``,
    ``disagreements``).
    """
    family = feed.task.family
    # Box and segmentation jobs: the grid reviews their auto-labels (tiles draw the boxes or the
    # mask); no disagreements mode.
    if family == "classify" or (family in ("boxes", "segment") and not options.get("disagreements")):
        return _load(_REVIEW)(feed, **options)
    if options.get("disagreements"):
        raise TypeError(
            "job.review(disagreements=True) shows classification answers side by side; "
            f"the task {feed.task!r} is not single- or multi-label classification"
        )
    raise NotImplementedError(f"no review widget for task family {family!r}")


def __getattr__(name: str) -> Any:
    for entry in (*WIDGETS.values(), _REVIEW):
        if entry[1] == name:
            return _load(entry)
    raise AttributeError(name)
