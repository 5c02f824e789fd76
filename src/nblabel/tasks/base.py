"""The interface every task type implements."""

from __future__ import annotations

from collections.abc import Mapping
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

    def validate(self, value: Any, item: str = "", *, source: Any = None) -> Any:
        """Return the answer in canonical form, or raise ``ValueError`` naming the item.

        ``source`` is the item's ``source`` / ``source-ref``, for checks that need it (a span
        inside its text).
        """
        raise NotImplementedError

    def pre_annotation(
        self, source: Any, line: Mapping[str, Any], item: str = ""
    ) -> tuple[Any, float] | None:
        """A proposal (value, confidence) for an item before any model has one; None by default."""
        return None

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
