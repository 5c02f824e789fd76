"""Task types: what an answer looks like and how it becomes Ground Truth's label + metadata."""

from __future__ import annotations

from nblabel.tasks.base import Task
from nblabel.tasks.boxes import BoundingBox
from nblabel.tasks.classification import ImageClassification, TextClassification
from nblabel.tasks.custom import CustomTask
from nblabel.tasks.entities import NamedEntities
from nblabel.tasks.preference import Pairwise, Ranking, Rating
from nblabel.tasks.segmentation import SemanticSegmentation
from nblabel.tasks.verification import LabelVerification

__all__ = [
    "BoundingBox",
    "CustomTask",
    "ImageClassification",
    "LabelVerification",
    "NamedEntities",
    "Pairwise",
    "Ranking",
    "Rating",
    "SemanticSegmentation",
    "Task",
    "TextClassification",
]
