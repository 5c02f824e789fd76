"""Bounding boxes: Ground Truth's ``groundtruth/object-detection`` (gt-formats §2.5, §2.6).

An answer is GT's own label object, in original image pixels::

    {"image_size": [{"width": 500, "height": 400, "depth": 3}],
     "annotations": [{"class_id": 0, "left": 111, "top": 134, "width": 61, "height": 128}]}

``class_id`` indexes the task's labels. An empty ``annotations`` list is a valid answer
("nothing to box"). Two optional keys ride along in the stored answer, never in GT's label:
``objects`` (one ``{"confidence": c}`` per box: an auto-label's per-box scores, written to GT's
metadata) and ``actions`` (``{"accepted", "adjusted", "deleted", "added"}`` counts: what a person
did to the proposed boxes before answering, for ``adjustment-status`` and effort figures). The metadata carries one ``objects`` confidence per box and a ``class-map``
of the classes present. With ``adjust=<attribute>`` the job starts from an existing box label and
the metadata adds ``adjustment-status`` (``adjusted`` when the person changed anything).
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar

from nblabel.manifest import is_missing
from nblabel.tasks.attributes import FRAME_KEY, OBJECT_KEY, LabelAttributes
from nblabel.tasks.base import Task, gt_answer, gt_job_name
from nblabel.tasks.classification import check_labels
from nblabel.tasks.instructions import Instructions

__all__ = ["BoundingBox", "Detector", "read_boxes"]

log = logging.getLogger(__name__)

GT_TYPE = "groundtruth/object-detection"

#: A detector: given an item's ``source-ref``, boxes to start from (see :class:`BoundingBox`).
Detector = Callable[[str], Any]


class BoundingBox(Task):
    """Draw boxes around objects, each with one class.

    Parameters
    ----------
    labels
        Class names; a box's ``class_id`` is its class's index here, and keys 1-9, 0 pick them.
    adjust
        A label attribute of the input manifest holding GT bounding boxes (an earlier job's
        output). Each image starts with those boxes to correct; the output gets GT's
        ``adjustment-status`` (``adjusted`` / ``unadjusted``). Use a different attribute for
        this job than the one adjusted, as GT requires.
    pre
        Pre-annotations to accept, adjust or delete, without ``adjustment-status``: either the
        name of a manifest attribute holding GT boxes, or a detector, a callable taking the
        item's ``source-ref`` and returning boxes as GT's label object or as a list of
        ``{"label": name or "class_id": int, "left", "top", "width", "height"}`` dicts in
        original pixels. The detector runs in the widget's image worker threads, a window of
        items ahead of the one on screen; when it fails, the image is shown without boxes and
        the reason is logged and shown.
    instructions
        What the people labeling are told (:class:`~nblabel.tasks.instructions.Instructions`):
        Markdown whose first paragraph is shown beside the item and the whole, with good and bad
        example images, in the panel the ``i`` key opens.
    attributes
        GT's label category configuration (``labels[].categoryAttributes``,
        ``categoryGlobalAttributes``, ``frameAttributes``; see :mod:`nblabel.tasks.attributes`),
        or ``{label: [attribute, ...], "*": [...], "frame": [...]}``. Each box then carries
        ``label-category-attributes`` and the image ``frame-attributes``; the widget shows a
        panel for the selected box and the image, and a required one left empty blocks Enter.

    Examples
    --------
    >>> task = BoundingBox(["car", "person"])                              # doctest: +SKIP
    >>> task = BoundingBox(["car", "person"], pre=lambda ref: model(ref))  # doctest: +SKIP
    >>> task = BoundingBox(["car", "person"], adjust="vehicles")           # doctest: +SKIP
    """

    media: ClassVar[str] = "image"
    family: ClassVar[str] = "boxes"

    def __init__(
        self,
        labels: Sequence[str],
        adjust: str | None = None,
        *,
        pre: str | Detector | None = None,
        instructions: Any = None,
        attributes: Any = None,
    ) -> None:
        self.labels = check_labels(labels)
        self.attributes = LabelAttributes.of(attributes, self.labels)
        self.instructions = Instructions.of(instructions)
        if adjust is not None and (not isinstance(adjust, str) or not adjust):
            raise ValueError(f"adjust names a manifest attribute with boxes, got {adjust!r}")
        if adjust is not None and pre is not None:
            raise ValueError("give adjust (boxes to correct) or pre (boxes to start from), not both")
        if pre is not None and not (callable(pre) or (isinstance(pre, str) and pre)):
            raise TypeError(f"pre is a manifest attribute name or a detector callable, got {pre!r}")
        self.adjust = adjust
        self.pre = pre
        self._index = {name: i for i, name in enumerate(self.labels)}

    def __repr__(self) -> str:
        extra = f", adjust={self.adjust!r}" if self.adjust else ""
        if isinstance(self.pre, str):
            extra += f", pre={self.pre!r}"
        elif self.pre is not None:
            extra += f", pre={getattr(self.pre, '__name__', 'detector')}"
        return f"BoundingBox({self.labels!r}{extra})"

    @property
    def gt_type(self) -> str:
        return GT_TYPE

    @property
    def gt_element(self) -> str:
        """``boundingBox``: the name GT's bounding-box template gives its ``crowd-bounding-box``."""
        return "boundingBox"

    @property
    def columns(self) -> tuple[str, ...]:
        source = self.adjust or (self.pre if isinstance(self.pre, str) else None)
        return (source,) if source else ()

    def spec(self) -> dict[str, Any]:
        spec: dict[str, Any] = {"type": GT_TYPE, "labels": self.labels}
        if self.adjust:
            spec["adjust"] = self.adjust
        return spec

    # -- answers ----------------------------------------------------------------------------

    def took_proposal(self, value: Any, proposal: Any) -> bool | None:
        """Whether the person accepted proposed boxes and changed none (the answer's ``actions``:
        nothing adjusted, deleted or added); None when the answer says nothing of them."""
        acts = value.get("actions") if isinstance(value, Mapping) else None
        if not isinstance(acts, Mapping):
            return None
        return not (acts.get("adjusted") or acts.get("deleted") or acts.get("added")) and bool(
            acts.get("accepted")
        )

    def validate(self, value: Any, item: str = "", *, source: Any = None) -> dict[str, Any]:
        """GT's box label object, checked and made canonical.

        Coordinates are rounded to whole pixels and clamped to the image; a box that has no
        area left inside the image is refused. ``class_id`` must index the labels (a ``label``
        class name is accepted instead).

        Raises
        ------
        ValueError
            The value is not a box answer for this task; the message names the item and box.
        """
        where = f"item {item}: " if item else ""
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                raise ValueError(f"{where}a box answer is a JSON object, got {value[:60]!r}") from None
        if not isinstance(value, Mapping):
            raise ValueError(
                f"{where}a box answer is {{'image_size': [...], 'annotations': [...]}}, got {value!r}"
            )
        width, height, depth = _image_size(value.get("image_size"), where)
        boxes = value.get("annotations", [])
        if not isinstance(boxes, (list, tuple)):
            raise ValueError(f"{where}'annotations' must be a list of boxes, got {boxes!r}")
        out: dict[str, Any] = {
            "image_size": [{"width": width, "height": height, "depth": depth}],
            "annotations": [self._box(box, n, width, height, where) for n, box in enumerate(boxes)],
        }
        if self.attributes is not None:
            for n, (raw, box) in enumerate(zip(boxes, out["annotations"], strict=True)):
                given = self.attributes.check_object(
                    self.labels[box["class_id"]], raw.get(OBJECT_KEY), f"{where}box {n}: "
                )
                if given:
                    box[OBJECT_KEY] = given
            frame = self.attributes.check_frame(value.get(FRAME_KEY), where)
            if frame:
                out[FRAME_KEY] = frame
        if value.get("objects") is not None:
            out["objects"] = _objects(value["objects"], len(boxes), where)
        if value.get("actions") is not None:
            out["actions"] = _actions(value["actions"], where)
        return out

    def _box(self, box: Any, n: int, width: int, height: int, where: str) -> dict[str, Any]:
        here = f"{where}box {n}: "
        if not isinstance(box, Mapping):
            raise ValueError(f"{here}a box is a dict with class_id, left, top, width, height; got {box!r}")
        if "class_id" in box:
            class_id = box["class_id"]
            if isinstance(class_id, str) and class_id.isdigit():
                class_id = int(class_id)
            if isinstance(class_id, bool) or not isinstance(class_id, int):
                raise ValueError(f"{here}class_id must be an integer, got {class_id!r}")
            if not 0 <= class_id < len(self.labels):
                raise ValueError(f"{here}class_id {class_id} is not an index of the labels {self.labels}")
        elif "label" in box:
            if box["label"] not in self._index:
                raise ValueError(f"{here}{box['label']!r} is not one of the labels {self.labels}")
            class_id = self._index[box["label"]]
        else:
            raise ValueError(f"{here}has no class_id")
        numbers = []
        for name in ("left", "top", "width", "height"):
            v = box.get(name)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
                raise ValueError(f"{here}{name} must be a finite number, got {v!r}")
            numbers.append(float(v))
        left, top, w, h = numbers
        if w < 0 or h < 0:
            raise ValueError(f"{here}width and height cannot be negative, got {w:g} x {h:g}")
        x0 = min(max(round(left), 0), width)
        y0 = min(max(round(top), 0), height)
        x1 = min(max(round(left + w), 0), width)
        y1 = min(max(round(top + h), 0), height)
        if x1 - x0 < 1 or y1 - y0 < 1:
            raise ValueError(
                f"{here}the box ({left:g}, {top:g}, {w:g} x {h:g}) has no area inside the "
                f"{width} x {height} image"
            )
        return {"class_id": class_id, "left": x0, "top": y0, "width": x1 - x0, "height": y1 - y0}

    def answer_content(self, value: Any) -> dict[str, Any]:
        """GT's ``crowd-bounding-box`` answer: the boxes with class names, and the image size."""
        size = value["image_size"][0]
        boxes = []
        for b in value["annotations"]:
            box = {
                "height": b["height"],
                "label": self.labels[b["class_id"]],
                "left": b["left"],
                "top": b["top"],
                "width": b["width"],
            }
            if b.get(OBJECT_KEY):
                box[OBJECT_KEY] = dict(b[OBJECT_KEY])
            boxes.append(box)
        answer: dict[str, Any] = {
            "boundingBoxes": boxes,
            "inputImageProperties": {"height": size["height"], "width": size["width"]},
        }
        if value.get(FRAME_KEY):
            answer[FRAME_KEY] = dict(value[FRAME_KEY])
        return {self.gt_element: answer}

    def from_answer_content(self, content: Any) -> dict[str, Any]:
        """GT's box label object from a ``crowd-bounding-box`` answer: class names become
        ``class_id`` indices, coordinates whole pixels."""
        answer = gt_answer(content, "boundingBoxes")
        size = answer.get("inputImageProperties") or {}
        boxes = []
        for b in answer["boundingBoxes"]:
            if b["label"] not in self._index:
                raise ValueError(f"box label {b['label']!r} is not one of {self.labels}")
            box = {
                "class_id": self._index[b["label"]],
                "left": round(b["left"]),
                "top": round(b["top"]),
                "width": round(b["width"]),
                "height": round(b["height"]),
            }
            if b.get(OBJECT_KEY):
                box[OBJECT_KEY] = dict(b[OBJECT_KEY])
            boxes.append(box)
        out = {
            "image_size": [{"width": int(size["width"]), "height": int(size["height"]), "depth": 3}],
            "annotations": boxes,
        }
        if answer.get(FRAME_KEY):
            out[FRAME_KEY] = dict(answer[FRAME_KEY])
        return out

    def to_gt(
        self,
        value: Any,
        *,
        confidence: float | None,
        human: bool,
        job_name: str,
        created: str,
    ) -> tuple[Any, dict[str, Any]]:
        # One person's answer has confidence 0.00 in GT's output; every box gets the answer's.
        # An auto-label carries each box's own score (GT's per-object confidence) in "objects".
        conf = round(float(confidence), 2) if confidence is not None else 0.0
        boxes = value["annotations"]
        present = sorted({box["class_id"] for box in boxes})
        label = {
            "image_size": [dict(size) for size in value["image_size"]],
            "annotations": [dict(box) for box in boxes],
        }
        if value.get(FRAME_KEY):  # GT's spelling for attributes of the whole item
            label[FRAME_KEY] = dict(value[FRAME_KEY])
        objects = value.get("objects") or [{"confidence": conf} for _ in boxes]
        return label, {
            "objects": [{"confidence": round(float(o["confidence"]), 2)} for o in objects],
            "class-map": {str(i): self.labels[i] for i in present},
            "type": GT_TYPE,
            "human-annotated": "yes" if human else "no",
            "creation-date": created,
            "job-name": gt_job_name(job_name),
        }

    # -- starting points --------------------------------------------------------------------

    def item_extras(
        self, row: Mapping[str, Any], source: Any, image_size: Mapping[str, int]
    ) -> dict[str, Any]:
        """The boxes an image starts with: ``{"initial": value}`` (adjust or pre), else {}.

        ``image_size`` is the image's GT ``image_size`` entry, for a detector's bare box list.

        Raises
        ------
        ValueError
            The manifest's boxes or the detector's answer cannot be read; says why.
        """
        if self.adjust or isinstance(self.pre, str):
            attribute = self.adjust or str(self.pre)
            label = row.get(attribute)
            if label is None or is_missing(label):
                return {}
            return {"initial": read_boxes(label, row.get(f"{attribute}-metadata"), self.labels, attribute)}
        if self.pre is not None:
            found = self.pre(source)
            if found is None:
                return {}
            if not isinstance(found, Mapping):  # a bare list of boxes, on this image
                found = {"image_size": [dict(image_size)], "annotations": list(found)}
            return {"initial": self.validate(found, f"detector answer for {source}")}
        return {}

    def row_metadata(self, value: Any, row: Mapping[str, Any]) -> dict[str, Any]:
        """``adjustment-status`` for an adjustment job: did the person change the boxes?"""
        if not self.adjust:
            return {}
        label = row.get(self.adjust)
        if label is None or is_missing(label):
            before: list[tuple[int, ...]] = []
        else:
            before = _box_set(read_boxes(label, row.get(f"{self.adjust}-metadata"), self.labels, self.adjust))
        return {"adjustment-status": "unadjusted" if _box_set(value) == before else "adjusted"}


def read_boxes(label: Any, metadata: Any, labels: Sequence[str], attribute: str = "") -> dict[str, Any]:
    """An existing GT box label (``<attr>`` and ``<attr>-metadata``) as this task's answer.

    Class ids are mapped through the metadata's ``class-map`` by class name when the names are
    among ``labels``; otherwise they are kept as they are. Fractional coordinates (consolidated
    boxes) are rounded. The boxes' ``label-category-attributes`` and the label's
    ``frame-attributes`` are kept, unchecked (the task that takes the label checks them).

    Raises
    ------
    ValueError
        The label is not GT's box object, or a class is not among ``labels``.
    """
    where = f"attribute {attribute!r}: " if attribute else ""
    if isinstance(label, str):
        label = json.loads(label)
    if isinstance(metadata, str):
        metadata = json.loads(metadata)
    if not isinstance(label, Mapping) or "annotations" not in label:
        raise ValueError(f"{where}not a Ground Truth bounding-box label: {str(label)[:80]}")
    class_map = metadata.get("class-map") if isinstance(metadata, Mapping) else None
    index = {name: i for i, name in enumerate(labels)}
    boxes = []
    for n, box in enumerate(label.get("annotations") or []):
        box = dict(box)
        name = class_map.get(str(box.get("class_id"))) if isinstance(class_map, Mapping) else None
        if name is not None:
            if name not in index:
                raise ValueError(
                    f"{where}box {n} has class {name!r}, which is not among the labels {list(labels)}"
                )
            box["class_id"] = index[name]
        boxes.append(box)
    out = BoundingBox(labels).validate(
        {"image_size": label.get("image_size"), "annotations": boxes}, attribute
    )
    # Attributes ride along as written: the task that takes the label checks them (validate).
    for raw, kept in zip(boxes, out["annotations"], strict=True):
        if raw.get(OBJECT_KEY):
            kept[OBJECT_KEY] = dict(raw[OBJECT_KEY])
    if label.get(FRAME_KEY):
        out[FRAME_KEY] = dict(label[FRAME_KEY])
    return out


#: What a person did to an image's proposed boxes before answering (recorded by the widget).
ACTIONS = ("accepted", "adjusted", "deleted", "added")


def _objects(objects: Any, n: int, where: str) -> list[dict[str, float]]:
    """GT's per-object confidences, one ``{"confidence": c}`` per box, each in [0, 1]."""
    if not isinstance(objects, (list, tuple)) or len(objects) != n:
        raise ValueError(f"{where}'objects' must hold one {{'confidence': c}} per box ({n}), got {objects!r}")
    out = []
    for o in objects:
        c = o.get("confidence") if isinstance(o, Mapping) else None
        if isinstance(c, bool) or not isinstance(c, (int, float)) or not 0 <= c <= 1:
            raise ValueError(f"{where}an object's confidence must be a number in [0, 1], got {o!r}")
        out.append({"confidence": float(c)})
    return out


def _actions(actions: Any, where: str) -> dict[str, int]:
    """The counts of what the person did to the proposed boxes: ``accepted``, ``adjusted``,
    ``deleted`` and ``added`` (boxes drawn)."""
    if not isinstance(actions, Mapping) or set(actions) - set(ACTIONS):
        raise ValueError(f"{where}'actions' counts {', '.join(ACTIONS)}; got {actions!r}")
    out = {}
    for name in ACTIONS:
        v = actions.get(name, 0)
        if isinstance(v, bool) or not isinstance(v, int) or v < 0:
            raise ValueError(f"{where}actions {name} must be a count, got {v!r}")
        out[name] = v
    return out


def _image_size(sizes: Any, where: str) -> tuple[int, int, int]:
    size = sizes[0] if isinstance(sizes, (list, tuple)) and sizes else sizes
    if not isinstance(size, Mapping):
        raise ValueError(
            f"{where}image_size must be [{{'width': W, 'height': H, 'depth': D}}], got {sizes!r}"
        )
    out = []
    for name, default in (("width", None), ("height", None), ("depth", 3)):
        v = size.get(name, default)
        if isinstance(v, float) and v.is_integer():
            v = int(v)
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise ValueError(f"{where}image_size {name} must be a positive integer, got {v!r}")
        out.append(v)
    return out[0], out[1], out[2]


def _box_set(value: Mapping[str, Any]) -> list[tuple[int, ...]]:
    return sorted(
        (b["class_id"], b["left"], b["top"], b["width"], b["height"]) for b in value.get("annotations", [])
    )
