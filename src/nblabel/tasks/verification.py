"""Label verification: a person judges an existing label (gt-formats §2.6).

Ground Truth writes the chosen verification class's index as a string, with ``class-name`` and,
when the person left a comment, ``worker-feedback: [{"comment": ...}]`` (empty comments are left
out, as GT does)::

    "verify": "1",
    "verify-metadata": {"class-name": "incorrect", "confidence": 0.0,
                        "type": "groundtruth/label-verification", "job-name": "labeling-job/verify",
                        "human-annotated": "yes", "creation-date": "...",
                        "worker-feedback": [{"comment": "the left box is too wide"}]}
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import numpy as np

from nblabel.io.guard import CHECKED
from nblabel.manifest import is_missing
from nblabel.masks import encode_indices, palette_colors, read_gt_mask
from nblabel.tasks.base import Task, gt_answer, gt_job_name
from nblabel.tasks.classification import check_labels
from nblabel.tasks.instructions import Instructions

__all__ = ["LabelVerification"]

GT_TYPE = "groundtruth/label-verification"
MAX_COMMENT = 2000


class LabelVerification(Task):
    """Judge an earlier job's label on each image: correct or not, with an optional comment.

    The widget shows the label held in ``source_attribute``: bounding boxes or a segmentation
    mask are drawn over the image (zoom and pan as in the box widget), a class is shown by name. Keys ``1``, ``2``, ...
    pick a verdict; the comment box takes keys only while it has focus.

    Parameters
    ----------
    source_attribute
        The manifest attribute holding the label to verify (with its ``-metadata``).
    labels
        The verdicts, in key order; GT writes the chosen one's index.
    instructions
        What the people labeling are told (:class:`~nblabel.tasks.instructions.Instructions`):
        Markdown whose first paragraph is shown beside the item and the whole, with good and bad
        example images, in the panel the ``i`` key opens.
    """

    media: ClassVar[str] = "image"
    family: ClassVar[str] = "verify"

    def __init__(
        self,
        source_attribute: str,
        labels: Sequence[str] = ("correct", "incorrect"),
        *,
        instructions: Any = None,
    ) -> None:
        self.instructions = Instructions.of(instructions)
        if not isinstance(source_attribute, str) or not source_attribute:
            raise ValueError(
                f"source_attribute names the manifest attribute to verify, got {source_attribute!r}"
            )
        self.source_attribute = source_attribute
        self.labels = check_labels(labels)

    def __repr__(self) -> str:
        return f"LabelVerification({self.source_attribute!r}, labels={tuple(self.labels)!r})"

    @property
    def gt_type(self) -> str:
        return GT_TYPE

    @property
    def gt_element(self) -> str:
        """GT verifies with ``crowd-image-classifier`` over an overlay of the label."""
        return "crowd-image-classifier"

    @property
    def columns(self) -> tuple[str, ...]:
        return (self.source_attribute,)

    def spec(self) -> dict[str, Any]:
        return {"type": GT_TYPE, "labels": self.labels, "source": self.source_attribute}

    def input_files(self, row: Mapping[str, Any]) -> list[tuple[str, str]]:
        """The mask under review, when the row's label is a segmentation mask."""
        label, meta = row.get(self.source_attribute), _metadata(row, self.source_attribute)
        if label is None or is_missing(label) or not isinstance(meta.get("internal-color-map"), Mapping):
            return []
        return [(self.source_attribute, str(label))]

    def validate(self, value: Any, item: str = "", *, source: Any = None) -> dict[str, str]:
        """``{"verdict": one of the labels, "comment": str}``; a bare verdict string is accepted.

        Raises
        ------
        ValueError
            Unknown verdict, or a comment that is not text or longer than 2000 characters.
        """
        where = f"item {item}: " if item else ""
        if isinstance(value, str):
            value = {"verdict": value}
        if not isinstance(value, Mapping):
            raise ValueError(
                f"{where}a verification answer is {{'verdict': ..., 'comment': ...}}, got {value!r}"
            )
        verdict = value.get("verdict")
        if not isinstance(verdict, str) or verdict not in self.labels:
            raise ValueError(f"{where}verdict {verdict!r} is not one of {self.labels}")
        comment = value.get("comment") or ""
        if not isinstance(comment, str):
            raise ValueError(f"{where}the comment must be text, got {comment!r}")
        if len(comment) > MAX_COMMENT:
            raise ValueError(f"{where}the comment is {len(comment)} characters; at most {MAX_COMMENT}")
        return {"verdict": verdict, "comment": comment.strip()}

    def answer_content(self, value: Any) -> dict[str, Any]:
        """``{"crowd-image-classifier": {"label": verdict}}``, with the comment as GT's
        ``workerComment`` when there is one."""
        content: dict[str, Any] = {self.gt_element: {"label": value["verdict"]}}
        if value.get("comment"):
            content["workerComment"] = value["comment"]
        return content

    def from_answer_content(self, content: Any) -> dict[str, str]:
        """``{"verdict": label, "comment": workerComment}``."""
        verdict = gt_answer(content, "label")["label"]
        comment = content.get("workerComment") or ""
        if not isinstance(verdict, str) or not isinstance(comment, str):
            raise ValueError(f"the verdict and workerComment must be strings, got {verdict!r}, {comment!r}")
        return {"verdict": verdict, "comment": comment}

    def to_gt(
        self,
        value: Any,
        *,
        confidence: float | None,
        human: bool,
        job_name: str,
        created: str,
    ) -> tuple[Any, dict[str, Any]]:
        meta: dict[str, Any] = {
            "class-name": value["verdict"],
            "confidence": round(float(confidence), 2) if confidence is not None else 0.0,
            "type": GT_TYPE,
            "job-name": gt_job_name(job_name),
            "human-annotated": "yes" if human else "no",
            "creation-date": created,
        }
        if value.get("comment"):
            meta["worker-feedback"] = [{"comment": value["comment"]}]
        return str(self.labels.index(value["verdict"])), meta

    def has_label(self, row: Mapping[str, Any]) -> bool:
        """Whether a manifest row carries the label under review (else there is nothing to verify)."""
        label = row.get(self.source_attribute)
        return label is not None and not is_missing(label)

    def item_extras(
        self, row: Mapping[str, Any], source: Any, image_size: Mapping[str, int]
    ) -> dict[str, Any]:
        """The label under review as the widget draws it: ``{"shown": {...}}``.

        Boxes become ``{"boxes": [...], "classes": {id: name}, "image_size": ...}``; a mask
        ``{"mask": {"width", "height", "data"}, "colors": [hex by index], "classes": {...}}`` (the
        pixels zlib-compressed, sent as a binary buffer); a class label ``{"class_name": ...}``;
        an item without the label ``{"missing": True}``.
        """
        label, meta = row.get(self.source_attribute), _metadata(row, self.source_attribute)
        if not self.has_label(row):
            return {"shown": {"missing": True}}
        kind = str(meta.get("type", ""))
        if _FRAMES.search(kind):
            # A video or point-cloud label is a file of per-frame objects, not a label of this image.
            raise ValueError(
                f"{self.source_attribute!r} holds a {kind} label: LabelVerification shows image boxes, "
                "masks and classes, not video-frame or 3D point-cloud labels"
            )
        if isinstance(meta.get("internal-color-map"), Mapping):  # a segmentation mask
            return {"shown": _mask_shown(str(label), meta, self.source_attribute)}
        if isinstance(label, str) and label.lstrip().startswith("{"):
            label = json.loads(label)
        if isinstance(label, Mapping) and "annotations" in label:
            class_map = meta.get("class-map") or {}
            boxes = []
            for box in label["annotations"]:
                b = {k: float(box[k]) for k in ("left", "top", "width", "height")}
                b["class_id"] = int(box.get("class_id", 0))
                boxes.append(b)
            return {
                "shown": {
                    "boxes": boxes,
                    "classes": {str(k): str(v) for k, v in class_map.items()},
                    "image_size": label.get("image_size"),
                }
            }
        name = meta.get("class-name")
        if name is None and isinstance(meta.get("class-map"), Mapping):
            name = ", ".join(str(v) for v in meta["class-map"].values())
        return {"shown": {"class_name": str(name if name is not None else label)}}


# GT's video-frame and 3D point-cloud task types (groundtruth/video-object-tracking,
# groundtruth/point_cloud_object_detection, ...), whose labels point at sequence files.
_FRAMES = re.compile(r"video|point[-_]?cloud|3d", re.IGNORECASE)


def _metadata(row: Mapping[str, Any], attribute: str) -> Mapping[str, Any]:
    """A row's ``<attribute>-metadata`` as a dict (empty when it has none)."""
    meta = row.get(f"{attribute}-metadata")
    if isinstance(meta, str):
        meta = json.loads(meta)
    return meta if isinstance(meta, Mapping) else {}


def _mask_shown(ref: str, meta: Mapping[str, Any], attribute: str) -> dict[str, Any]:
    """A GT mask as the verification widget overlays it: pixels, colours and names by index."""
    # The job checked the column against its media_root when it was made (input_files).
    indices, names = read_gt_mask(ref, meta, None, attribute, guard=CHECKED)
    cmap = meta["internal-color-map"]
    fallback = palette_colors(len(names) - 1)
    colors = [str((cmap.get(str(i)) or {}).get("hex-color") or fallback[i]) for i in range(len(names))]
    present = [int(i) for i in np.unique(indices) if i > 0]
    return {
        "mask": {"width": indices.shape[1], "height": indices.shape[0], "data": encode_indices(indices)},
        "colors": colors,
        "classes": {str(i): names[i] for i in range(len(names))},
        "present": [names[i] for i in present],
    }
