"""Consistency checks on Ground Truth manifest lines that warn rather than fail.

Real GT files and AWS's own samples contain lines that are odd but usable: NER offsets that no
longer match their text, a ``confidence-map`` whose keys are not in the ``class-map``. Reading
keeps such lines and reports each oddity once, naming the attribute.
"""

from __future__ import annotations

from typing import Any

from nblabel.text import utf16_length

__all__ = ["check_line"]


def check_line(obj: dict[str, Any]) -> list[str]:
    """Return human-readable warnings for one manifest object (empty when all is well)."""
    problems: list[str] = []
    for key, meta in obj.items():
        if not key.endswith("-metadata") or not isinstance(meta, dict):
            continue
        attribute = key[: -len("-metadata")]
        kind = str(meta.get("type", "")).lower()
        if kind.endswith("-multilabel"):
            problems.extend(_check_maps(attribute, obj.get(attribute), meta))
        elif kind == "groundtruth/text-span":
            problems.extend(_check_spans(attribute, obj.get("source"), obj.get(attribute)))
    return problems


def _check_maps(attribute: str, label: Any, meta: dict[str, Any]) -> list[str]:
    class_map = meta.get("class-map")
    confidence_map = meta.get("confidence-map")
    problems = []
    if isinstance(class_map, dict) and isinstance(confidence_map, dict):
        extra = sorted(set(confidence_map) - set(class_map))
        if extra:
            problems.append(
                f"{attribute}: confidence-map keys {extra} are not in class-map {sorted(class_map)}"
            )
    if isinstance(class_map, dict) and isinstance(label, list):
        unknown = [v for v in label if str(v) not in class_map]
        if unknown:
            problems.append(f"{attribute}: labels {unknown} are not in class-map {sorted(class_map)}")
    return problems


def _check_spans(attribute: str, text: Any, label: Any) -> list[str]:
    if not isinstance(text, str) or not isinstance(label, dict):
        return []
    annotations = label.get("annotations") or {}
    entities = (annotations.get("entities") or []) if isinstance(annotations, dict) else None
    if not isinstance(entities, list):
        return [f"{attribute}: annotations.entities is not a list"]
    problems = []
    for n, entity in enumerate(entities):
        try:
            start, end = int(entity["startOffset"]), int(entity["endOffset"])
        except (KeyError, TypeError, ValueError):
            problems.append(f"{attribute}: entity {n} has no usable startOffset/endOffset")
            continue
        if not 0 <= start <= end <= len(text):
            hint = ""
            if 0 <= start <= end <= utf16_length(text) != len(text):
                hint = (
                    "; they fit its length in UTF-16 units: were they counted in JavaScript? "
                    "nblabel.text.utf16_to_codepoint converts them"
                )
            problems.append(
                f"{attribute}: entity {n} offsets {start}:{end} fall outside the text "
                f"({len(text)} characters){hint}"
            )
    return problems
