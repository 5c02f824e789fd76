"""Ground Truth's per-part confidences of consolidated labels, kept beside the annotation log.

An annotation has one confidence. GT writes more for some tasks: a ``confidence-map`` per class
of a multi-label answer, ``objects[]`` per box, ``entities[]`` per entity (gt-formats.md
§2.4-2.8). A consolidation run stores them in the store's job settings under
``consolidation:<attribute>``, keyed by the uid of the consolidated annotation they belong to,
before it appends the annotations; :meth:`nblabel.Job.to_dataframe` puts them into the metadata.
A label without stored parts keeps its one confidence everywhere (as GT writes a single
worker's answer).
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["consolidated_parts", "load_consolidation", "save_consolidation", "with_parts"]


def _key(attribute: str) -> str:
    return f"consolidation:{attribute}"


def load_consolidation(store: Any, attribute: str) -> dict[str, Any]:
    """The stored record of the latest consolidation run (empty when there was none)."""
    raw = store.get_meta(_key(attribute))
    return json.loads(raw) if raw else {}


def consolidated_parts(store: Any, attribute: str) -> dict[str, Any]:
    """Annotation uid to its per-part confidences (a class-name map, or a list)."""
    return load_consolidation(store, attribute).get("parts", {})


def save_consolidation(store: Any, attribute: str, record: dict[str, Any]) -> None:
    """Store a consolidation run's record (method, time, quality, parts)."""
    store.set_meta(_key(attribute), json.dumps(record, separators=(",", ":"), allow_nan=False))


def with_parts(meta: dict[str, Any], parts: Any) -> dict[str, Any]:
    """A copy of GT metadata with per-part confidences in GT's fields, rounded to 2 places.

    ``parts`` is ``{class name: confidence}`` for a multi-label label (GT's ``confidence-map``,
    keyed like its ``class-map``), or a list parallel to the label's boxes (``objects``) or
    entities (``entities``). Metadata of any other shape is returned unchanged.
    """
    meta = dict(meta)
    if isinstance(parts, dict) and "class-map" in meta:
        names = meta["class-map"]
        meta["confidence-map"] = {
            index: round(float(parts.get(name, 0.0)), 2) for index, name in names.items()
        }
    elif isinstance(parts, list):
        for field in ("objects", "entities"):
            if field in meta and len(meta[field]) == len(parts):
                meta[field] = [{"confidence": round(float(c), 2)} for c in parts]
    return meta
