"""The notebook widgets: the only part of nblabel that imports anywidget or ipywidgets.

Widget classes are imported lazily, so ``import nblabel`` works headless and before the
JavaScript bundles are built.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from nblabel.job import Job

__all__ = [
    "BoxesWidget",
    "ClassifyWidget",
    "CustomWidget",
    "EntitiesWidget",
    "ReviewWidget",
    "SegmentWidget",
    "VerifyWidget",
    "review_widget",
    "widget_for",
]


def widget_for(job: Job, **options: Any) -> Any:
    """The widget that draws a job's task."""
    family = job.task.family
    if family == "classify":
        from nblabel.widgets.classify import ClassifyWidget

        return ClassifyWidget(job, **options)
    if family == "boxes":
        from nblabel.widgets.boxes import BoxesWidget

        return BoxesWidget(job, **options)
    if family == "verify":
        from nblabel.widgets.verify import VerifyWidget

        return VerifyWidget(job, **options)
    if family == "segment":
        from nblabel.widgets.segment import SegmentWidget

        return SegmentWidget(job, **options)
    if family == "entities":
        from nblabel.widgets.entities import EntitiesWidget

        return EntitiesWidget(job, **options)
    if family == "custom":
        from nblabel.widgets.custom import CustomWidget

        return CustomWidget(job, **options)
    raise NotImplementedError(f"no widget for task family {family!r}")


def review_widget(job: Job, **options: Any) -> Any:
    """The widget that reviews a job's auto-labels, or with ``disagreements=True`` the items
    people disagree on.

    ``options`` go to :class:`~nblabel.widgets.review.ReviewWidget` (``page_size``, ``thumb``,
    ``disagreements``).
    """
    family = job.task.family
    if family == "classify":
        from nblabel.widgets.review import ReviewWidget

        return ReviewWidget(job, **options)
    if options.get("disagreements"):
        raise TypeError(
            "job.review(disagreements=True) shows classification answers side by side; "
            f"the task {job.task!r} is not single- or multi-label classification"
        )
    raise NotImplementedError(f"no review widget for task family {family!r}")


def __getattr__(name: str) -> Any:
    if name == "ClassifyWidget":
        from nblabel.widgets.classify import ClassifyWidget

        return ClassifyWidget
    if name == "BoxesWidget":
        from nblabel.widgets.boxes import BoxesWidget

        return BoxesWidget
    if name == "VerifyWidget":
        from nblabel.widgets.verify import VerifyWidget

        return VerifyWidget
    if name == "SegmentWidget":
        from nblabel.widgets.segment import SegmentWidget

        return SegmentWidget
    if name == "EntitiesWidget":
        from nblabel.widgets.entities import EntitiesWidget

        return EntitiesWidget
    if name == "CustomWidget":
        from nblabel.widgets.custom import CustomWidget

        return CustomWidget
    if name == "ReviewWidget":
        from nblabel.widgets.review import ReviewWidget

        return ReviewWidget
    raise AttributeError(name)
