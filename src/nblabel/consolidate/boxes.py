"""Consolidating bounding boxes: IoU matching and averaging, as Ground Truth does.

GT "finds the most similar boxes from different workers based on the Jaccard index, or
intersection over union, of the boxes and averages them" (gt-formats.md §5.1). Here, per class,
each annotator's boxes are matched one-to-one to the groups of boxes so far (Hungarian
assignment on IoU with the group's mean box, IoU ≥ 0.5 to join, see
:mod:`nblabel.consolidate.matching`). A group that more than half of the annotators drew becomes
one box: the mean of its members' edges, rounded to whole pixels (nblabel's box values are in
integer pixels). Its confidence (GT's ``objects[].confidence``) is the share of annotators who
drew it times the mean IoU of their boxes with it.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from nblabel.consolidate.attributes import majority_attributes
from nblabel.consolidate.matching import f1, group_parts, majority
from nblabel.consolidate.result import Answers, Consolidated, Consolidation
from nblabel.tasks.attributes import FRAME_KEY, OBJECT_KEY

__all__ = ["consolidate_boxes", "iou"]


def iou(a: dict[str, Any], b: dict[str, Any]) -> float:
    """Intersection over union of two boxes (``left``, ``top``, ``width``, ``height``)."""
    x1, y1 = max(a["left"], b["left"]), max(a["top"], b["top"])
    x2 = min(a["left"] + a["width"], b["left"] + b["width"])
    y2 = min(a["top"] + a["height"], b["top"] + b["height"])
    inter = max(0.0, x2 - x1) * max(0.0, y2 - y1)
    union = a["width"] * a["height"] + b["width"] * b["height"] - inter
    return inter / union if union > 0 else 0.0


def _mean(boxes: list[dict[str, Any]]) -> dict[str, Any]:
    n = len(boxes)
    left = sum(b["left"] for b in boxes) / n
    top = sum(b["top"] for b in boxes) / n
    right = sum(b["left"] + b["width"] for b in boxes) / n
    bottom = sum(b["top"] + b["height"] for b in boxes) / n
    return {
        "class_id": boxes[0]["class_id"],
        "left": left,
        "top": top,
        "width": right - left,
        "height": bottom - top,
    }


def _whole(box: dict[str, Any]) -> dict[str, Any]:
    left, top = round(box["left"]), round(box["top"])
    right, bottom = round(box["left"] + box["width"]), round(box["top"] + box["height"])
    return {
        "class_id": box["class_id"],
        "left": left,
        "top": top,
        "width": right - left,
        "height": bottom - top,
    }


def consolidate_boxes(
    answers: Answers, *, threshold: float = 0.5, min_votes: int | None = None
) -> Consolidation:
    """Consolidate box answers (nblabel's ``{"image_size": …, "annotations": […]}`` values).

    Parameters
    ----------
    answers
        Per item, its ``(annotator, value)`` pairs (an annotator's last answer counts).
    threshold
        The least IoU for a box to join a group.
    min_votes
        How many annotators must have drawn a box for it to be kept; default more than half.

    Returns
    -------
    Consolidation
        Per item a box value, ``parts`` holding each box's confidence (GT's ``objects``) and
        ``confidence`` their mean (for an item where nobody kept a box: the share of annotators
        who drew none). ``quality``: each annotator's F1 against the consolidated boxes.
    """
    result = Consolidation("iou")
    found: Counter[str] = Counter()
    given: Counter[str] = Counter()
    wanted: Counter[str] = Counter()
    for key, pairs in answers.items():
        last = dict(pairs)
        if not last:
            continue
        n = len(last)
        need = min_votes if min_votes is not None else majority(n)
        sizes = Counter(str(v["image_size"]) for v in last.values())
        image_size = next(
            v["image_size"] for v in last.values() if str(v["image_size"]) == sizes.most_common(1)[0][0]
        )
        kept: list[tuple[dict[str, Any], float, list[str]]] = []
        for class_id in sorted({b["class_id"] for v in last.values() for b in v["annotations"]}):
            per_annotator = [
                (who, [b for b in v["annotations"] if b["class_id"] == class_id]) for who, v in last.items()
            ]
            for group in group_parts(per_annotator, iou, _mean, threshold):
                if len(group) < need:
                    continue
                box = _whole(_mean([b for _, b in group]))
                chosen = majority_attributes(b.get(OBJECT_KEY) for _, b in group)
                if chosen:
                    box[OBJECT_KEY] = chosen
                agreement = sum(iou(b, box) for _, b in group) / len(group)
                kept.append((box, len(group) / n * agreement, [w for w, _ in group]))
        kept.sort(key=lambda k: (k[0]["class_id"], k[0]["top"], k[0]["left"]))
        parts = [round(c, 6) for _, c, _ in kept]
        if parts:
            confidence = sum(parts) / len(parts)
        else:
            confidence = sum(not v["annotations"] for v in last.values()) / n
        value = {"image_size": image_size, "annotations": [b for b, _, _ in kept]}
        frame = majority_attributes(v.get(FRAME_KEY) for v in last.values())
        if frame:
            value[FRAME_KEY] = frame
        result.items[key] = Consolidated(value, confidence, parts, n)
        for who, v in last.items():
            given[who] += len(v["annotations"])
            wanted[who] += len(kept)
            found[who] += sum(who in members for _, _, members in kept)
    result.quality = {who: f1(found[who], given[who], wanted[who]) for who in wanted}
    return result
