"""nblabel: SageMaker Ground Truth in a notebook cell.

Labeling widgets that run in JupyterLab, Ground Truth augmented manifests as pandas DataFrames,
and a durable store that keeps every answer. ``import nblabel`` works headless and before the
JavaScript is built: widget classes are only imported when a job is displayed.
"""

from __future__ import annotations

from nblabel.job import Job
from nblabel.manifest import ManifestError, ManifestWarning, read_manifest, write_manifest
from nblabel.tasks import ImageClassification, TextClassification

__all__ = [
    "ImageClassification",
    "Job",
    "ManifestError",
    "ManifestWarning",
    "TextClassification",
    "read_manifest",
    "write_manifest",
]

__version__ = "0.1.0"
