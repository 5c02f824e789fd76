"""What a consolidation returns: one label per item, with confidences, and per-annotator figures."""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Answers", "Consolidated", "Consolidation"]

#: Per item, the (annotator, value) pairs given for it: the input of every consolidation function.
Answers = Mapping[Hashable, Sequence[tuple[str, Any]]]


@dataclass(frozen=True)
class Consolidated:
    """The consolidated answer of one item.

    Attributes
    ----------
    value
        The answer, in the task's own value shape.
    confidence
        How sure the consolidation is, in [0, 1] (GT's ``confidence``).
    parts
        Per-part confidences where Ground Truth writes them: ``{class name: confidence}`` for a
        multi-label answer (GT's ``confidence-map``), a list parallel to the boxes or entities
        of the value (GT's ``objects`` / ``entities``); None for a single-label answer or a mask.
    answers
        How many answers the item had.
    """

    value: Any
    confidence: float
    parts: dict[str, float] | list[float] | None = None
    answers: int = 0


@dataclass
class Consolidation:
    """The result of consolidating a set of items.

    Attributes
    ----------
    method
        ``"dawid-skene"``, ``"majority"``, ``"iou"``, ``"spans"`` or ``"pixel-vote"``.
    items
        Item to its :class:`Consolidated` answer; items without answers are absent.
    quality
        Annotator to an estimate of the share of their answers that are right (Dawid-Skene's
        estimated accuracy; for the other methods, the share of answers that agree with the
        consolidated one).
    confusion
        Dawid-Skene only: annotator to their estimated confusion matrix (rows: true class,
        columns: answered class, in ``classes`` order).
    classes
        The classes the confusion matrices are indexed by.
    """

    method: str
    items: dict[Hashable, Consolidated] = field(default_factory=dict)
    quality: dict[str, float] = field(default_factory=dict)
    confusion: dict[str, Any] = field(default_factory=dict)
    classes: list[str] = field(default_factory=list)

    def __repr__(self) -> str:
        # The generated repr prints every item and confusion matrix (~40 KB for 300 items): a
        # notebook cell that ends in `job.consolidate()` shows this summary instead.
        answers = sum(c.answers for c in self.items.values())
        mean = sum(c.confidence for c in self.items.values()) / len(self.items) if self.items else 0.0
        return (
            f"Consolidation(method={self.method!r}, {len(self.items)} items from {answers} answers "
            f"by {len(self.quality)} annotators, mean confidence {mean:.2f}; "
            f".items, .quality, .confusion for the details)"
        )
