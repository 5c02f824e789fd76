"""The interface every task type implements."""

from __future__ import annotations

from typing import Any, ClassVar

__all__ = ["Task"]


class Task:
    """A kind of labeling work.

    A task knows its Ground Truth ``type`` string, which media it shows (``image`` or ``text``),
    how to validate an answer, and how an answer becomes ``<attr>`` + ``<attr>-metadata``.
    Subclasses set :attr:`media` and :attr:`family` (the widget that draws them).
    """

    media: ClassVar[str]
    family: ClassVar[str]

    @property
    def gt_type(self) -> str:
        """Ground Truth's ``type`` for this task's metadata."""
        raise NotImplementedError

    def validate(self, value: Any, item: str = "") -> Any:
        """Return the answer in canonical form, or raise ``ValueError`` naming the item."""
        raise NotImplementedError

    def to_gt(
        self,
        value: Any,
        *,
        confidence: float | None,
        human: bool,
        job_name: str,
        created: str,
    ) -> tuple[Any, dict[str, Any]]:
        """The ``<attr>`` value and ``<attr>-metadata`` dict GT writes for an answer."""
        raise NotImplementedError

    def spec(self) -> dict[str, Any]:
        """A JSON-able description, stored with the job so a changed task is noticed."""
        raise NotImplementedError
