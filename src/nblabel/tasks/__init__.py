"""Task types: what an answer looks like and how it becomes Ground Truth's label + metadata."""

from __future__ import annotations

from nblabel.tasks.base import Task
from nblabel.tasks.classification import ImageClassification, TextClassification
from nblabel.tasks.entities import NamedEntities

__all__ = ["ImageClassification", "NamedEntities", "Task", "TextClassification"]
