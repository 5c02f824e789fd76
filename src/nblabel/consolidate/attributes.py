"""Consolidating label category and frame attributes: the majority value per attribute.

The objects people agree on (a group of matched boxes, a cluster of spans) and the item itself
carry attribute values (:mod:`nblabel.tasks.attributes`); the consolidated object or item keeps,
per attribute, the value most of those who gave one gave (ties go to the value given first, so a
run can be repeated). An attribute nobody gave stays out.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["majority_attributes"]


def majority_attributes(given: Iterable[Mapping[str, Any] | None]) -> dict[str, Any]:
    """Per attribute name, the most common value among the mappings that hold it."""
    votes: dict[str, Counter[str]] = {}
    values: dict[tuple[str, str], Any] = {}
    for attributes in given:
        for name, value in (attributes or {}).items():
            # Values may be numbers or strings: count them by a key that keeps 4 and "4" apart.
            key = repr(value)
            votes.setdefault(name, Counter())[key] += 1  # insertion order: first given wins ties
            values.setdefault((name, key), value)
    return {
        name: values[(name, max(counts.items(), key=lambda kv: kv[1])[0])] for name, counts in votes.items()
    }
