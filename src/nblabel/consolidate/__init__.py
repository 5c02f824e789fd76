"""Several annotators per item: one label drawn from their answers, and how much they agree.

Every consolidation is a plain function over per-item lists of ``(annotator, value)`` pairs, in
the task's value shape, so a scheduled script can run it without a widget; the ``Job`` methods
(:meth:`~nblabel.Job.consolidate`, :meth:`~nblabel.Job.agreement`,
:meth:`~nblabel.Job.disagreements`) run them on a job's store. GT's worker-response files, the
answers of a GT job, are read by :func:`nblabel.formats.read_worker_responses`.

=================================  =================================================================
:func:`dawid_skene`                GT's modified Dawid-Skene for single-label classification
:func:`dawid_skene_multilabel`     the same, class by class, for multi-label classification
:func:`majority_vote`              the simple option (and its ``_multilabel`` form)
:func:`consolidate_boxes`          IoU matching and averaging of bounding boxes
:func:`consolidate_spans`          span clustering of named entities
:func:`pixel_vote`                 smoothed pixel voting of segmentation masks (numpy index arrays)
:func:`agreement_table`            Cohen's kappa per pair, Fleiss' kappa, Krippendorff's alpha
=================================  =================================================================
"""

from __future__ import annotations

from nblabel.consolidate.agreement import agreement_table, cohen_kappa, fleiss_kappa, krippendorff_alpha
from nblabel.consolidate.boxes import consolidate_boxes, iou
from nblabel.consolidate.dawid_skene import GT_CONFIDENCE_CAP, dawid_skene, dawid_skene_multilabel
from nblabel.consolidate.for_task import consolidate_answers
from nblabel.consolidate.masks import pixel_vote, vote_masks
from nblabel.consolidate.result import Answers, Consolidated, Consolidation
from nblabel.consolidate.spans import consolidate_spans, jaccard
from nblabel.consolidate.vote import majority_vote, majority_vote_multilabel

__all__ = [
    "GT_CONFIDENCE_CAP",
    "Answers",
    "Consolidated",
    "Consolidation",
    "agreement_table",
    "cohen_kappa",
    "consolidate_answers",
    "consolidate_boxes",
    "consolidate_spans",
    "dawid_skene",
    "dawid_skene_multilabel",
    "fleiss_kappa",
    "iou",
    "jaccard",
    "krippendorff_alpha",
    "majority_vote",
    "majority_vote_multilabel",
    "pixel_vote",
    "vote_masks",
]
