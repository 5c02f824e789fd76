"""Label exports beyond Ground Truth's own layout (see :mod:`nblabel.export` for that)."""

from __future__ import annotations

from nblabel.exports.boxes import box_labels, from_coco, to_coco, to_voc, to_yolo
from nblabel.exports.masks import mask_classes, to_masks

__all__ = ["box_labels", "from_coco", "mask_classes", "to_coco", "to_masks", "to_voc", "to_yolo"]
