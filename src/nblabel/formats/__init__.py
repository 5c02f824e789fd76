"""Every file format nblabel reads and writes, over DataFrames and answer lists (never a Job).

====================================  =============================================================
:mod:`nblabel.formats.gt`             Ground Truth's output layout; worker responses, read and write
:mod:`nblabel.formats.boxes`          bounding boxes as COCO JSON (read and write), YOLO, Pascal VOC
:mod:`nblabel.formats.masks`          segmentation masks as index PNGs plus ``color_map.json``
:mod:`nblabel.formats.entities`       named entities as spaCy JSONL, CoNLL (IOB2), a token table
:mod:`nblabel.formats.setup`          GT's automated data setup: a manifest from a folder or prefix
====================================  =============================================================

Each task writes and reads its own answers in GT's worker-response shape
(``Task.answer_content`` / ``Task.from_answer_content``); the codecs these formats share live
below the tasks: :mod:`nblabel.masks` (mask PNGs, GT's colours), :mod:`nblabel.text` (offsets,
the tokenizer) and :mod:`nblabel.io.folders` (folders written all or nothing, locally or on S3).
"""

from __future__ import annotations

from nblabel.formats.boxes import box_labels, from_coco, to_coco, to_voc, to_yolo
from nblabel.formats.entities import (
    documents,
    from_hf_table,
    read_conll,
    read_spacy_jsonl,
    to_conll,
    to_hf_table,
    to_spacy_jsonl,
)
from nblabel.formats.gt import (
    ExportError,
    ExportResult,
    WorkerResponseError,
    read_worker_responses,
    write_output,
)
from nblabel.formats.masks import mask_classes, to_masks
from nblabel.formats.setup import manifest_from

__all__ = [
    "ExportError",
    "ExportResult",
    "WorkerResponseError",
    "box_labels",
    "documents",
    "from_coco",
    "from_hf_table",
    "manifest_from",
    "mask_classes",
    "read_conll",
    "read_spacy_jsonl",
    "read_worker_responses",
    "to_coco",
    "to_conll",
    "to_hf_table",
    "to_masks",
    "to_spacy_jsonl",
    "to_voc",
    "to_yolo",
    "write_output",
]
