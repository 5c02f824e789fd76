"""Consolidating named entities: span clustering, as Ground Truth does.

GT "clusters text selections by Jaccard similarity and calculates selection boundaries based on
the mode, or the median if the mode isn't clear. The label resolves to the most assigned entity
label in the cluster, breaking ties by random selection" (gt-formats.md §5.1). Here each
annotator's spans are matched one-to-one to the clusters so far (Hungarian assignment on the
Jaccard index of the character ranges, at least 0.5 to join; see
:mod:`nblabel.consolidate.matching`). A cluster that more than half of the annotators marked
becomes one entity: each boundary is the mode of its members' boundaries, or their median
(rounded down) when no single value is most common; the label is the most common one, ties
going to the label given first (not chance, so a run can be repeated). Its confidence (GT's
``entities[].confidence``) is the share of annotators who marked it times the share who gave
that label. Entities may overlap and nest (an annotator's own spans never share a cluster, so
"Amazon SageMaker" and "SageMaker" inside it stay two entities); where two clusters end up as
the same label on the same range, the more confident one stays.
"""

from __future__ import annotations

from collections import Counter
from statistics import median_low
from typing import Any

from nblabel.consolidate.attributes import majority_attributes
from nblabel.consolidate.matching import f1, group_parts, majority
from nblabel.consolidate.result import Answers, Consolidated, Consolidation
from nblabel.tasks.attributes import OBJECT_KEY

__all__ = ["consolidate_spans", "jaccard"]


def jaccard(a: dict[str, Any], b: dict[str, Any]) -> float:
    """Jaccard index of two spans' character ranges (end exclusive)."""
    inter = max(0, min(a["endOffset"], b["endOffset"]) - max(a["startOffset"], b["startOffset"]))
    union = (a["endOffset"] - a["startOffset"]) + (b["endOffset"] - b["startOffset"]) - inter
    return inter / union if union > 0 else 0.0


def _boundary(values: list[int]) -> int:
    counts = Counter(values).most_common()
    if len(counts) == 1 or counts[0][1] > counts[1][1]:
        return counts[0][0]
    return int(median_low(values))


def _key(span: dict[str, Any]) -> tuple[str, int, int]:
    return span["label"], span["startOffset"], span["endOffset"]


def _represent(spans: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "label": spans[0]["label"],
        "startOffset": _boundary([s["startOffset"] for s in spans]),
        "endOffset": _boundary([s["endOffset"] for s in spans]),
    }


def consolidate_spans(
    answers: Answers, *, threshold: float = 0.5, min_votes: int | None = None
) -> Consolidation:
    """Consolidate entity answers (lists of ``{"label", "startOffset", "endOffset"}``).

    Parameters
    ----------
    answers
        Per item, its ``(annotator, entities)`` pairs (an annotator's last answer counts).
    threshold
        The least Jaccard index for a span to join a cluster.
    min_votes
        How many annotators must have marked an entity for it to be kept; default more than half.

    Returns
    -------
    Consolidation
        Per item the entities sorted by ``startOffset``, ``parts`` their confidences (GT's
        ``entities``), ``confidence`` their mean (for an item where no entity was kept: the
        share of annotators who marked none). ``quality``: each annotator's F1 against the
        consolidated entities (same range and label).
    """
    result = Consolidation("spans")
    found: Counter[str] = Counter()
    given: Counter[str] = Counter()
    wanted: Counter[str] = Counter()
    for key, pairs in answers.items():
        last = dict(pairs)
        if not last:
            continue
        n = len(last)
        need = min_votes if min_votes is not None else majority(n)
        candidates = []
        for cluster in group_parts(list(last.items()), jaccard, _represent, threshold):
            if len(cluster) < need:
                continue
            span = _represent([s for _, s in cluster])
            if span["endOffset"] <= span["startOffset"]:
                continue
            labels = Counter(s["label"] for _, s in cluster)  # insertion order: first given wins ties
            label, votes = max(labels.items(), key=lambda kv: kv[1])
            span["label"] = label
            chosen = majority_attributes(s.get(OBJECT_KEY) for _, s in cluster if s["label"] == label)
            if chosen:
                span[OBJECT_KEY] = chosen
            candidates.append((span, len(cluster) / n * votes / len(cluster)))
        kept: list[tuple[dict[str, Any], float]] = []
        for span, conf in sorted(candidates, key=lambda c: (-c[1], c[0]["startOffset"])):
            if all(_key(span) != _key(k) for k, _ in kept):
                kept.append((span, conf))
        kept.sort(key=lambda k: (k[0]["startOffset"], k[0]["endOffset"]))
        parts = [round(c, 6) for _, c in kept]
        confidence = sum(parts) / len(parts) if parts else sum(not v for v in last.values()) / n
        value = [s for s, _ in kept]
        result.items[key] = Consolidated(value, confidence, parts, n)
        chosen = {_key(s) for s in value}
        for who, spans in last.items():
            given[who] += len(spans)
            wanted[who] += len(value)
            found[who] += sum(_key(s) in chosen for s in spans)
    result.quality = {who: f1(found[who], given[who], wanted[who]) for who in wanted}
    return result
