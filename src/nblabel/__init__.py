"""nblabel: SageMaker Ground Truth in a notebook cell.

Labeling widgets that run in JupyterLab, Ground Truth augmented manifests as pandas DataFrames,
and a durable store that keeps every answer. ``import nblabel`` works headless and before the
JavaScript is built: widget classes are only imported when a job is displayed, boto3 when an
``s3://`` location is first used. Importing nblabel registers the ``df.nblabel`` accessor.
"""

from __future__ import annotations

import nblabel.accessor  # noqa: F401  (registers the df.nblabel accessor)
from nblabel.formats import ExportError, ExportResult
from nblabel.formats.setup import manifest_from  # GT's automated data setup (#21)
from nblabel.job import Job
from nblabel.manifest import ManifestError, ManifestWarning, read_manifest, write_manifest
from nblabel.tasks import (
    BoundingBox,
    CustomTask,
    ImageClassification,
    LabelVerification,
    NamedEntities,
    Pairwise,
    Ranking,
    Rating,
    SemanticSegmentation,
    TextClassification,
)

__all__ = [
    "BoundingBox",
    "CustomTask",
    "ExportError",
    "ExportResult",
    "ImageClassification",
    "Job",
    "LabelVerification",
    "ManifestError",
    "ManifestWarning",
    "NamedEntities",
    "Pairwise",
    "Ranking",
    "Rating",
    "SemanticSegmentation",
    "TextClassification",
    "manifest_from",
    "read_manifest",
    "write_manifest",
]

__version__ = "0.1.0"
