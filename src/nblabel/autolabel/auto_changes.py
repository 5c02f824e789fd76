"""The annotations that move an attribute's auto-labels from one round to the next."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from nblabel.store import Annotation
from nblabel.store.ledger import Ledger

__all__ = ["auto_changes"]


def auto_changes(
    ledger: Ledger,
    attribute: str,
    annotator: str,
    open_keys: Iterable[str],
    fresh: Mapping[str, tuple[Any, float]],
) -> list[Annotation]:
    """Retract the open items' auto-labels the round no longer gives, and write its new ones.

    ``fresh`` maps keys to the round's (value, confidence); an unchanged auto-label is left alone.
    """
    changes: list[Annotation] = []
    for key in open_keys:
        current = ledger.auto_label(key)
        new = fresh.get(key)
        if current is not None and (new is None or new[0] != current.value):
            changes.append(Annotation(key, attribute, annotator, "retract", target=current.uid))
        if new is not None and (current is None or new[0] != current.value):
            changes.append(Annotation(key, attribute, annotator, "auto", new[0], round(new[1], 4)))
    return changes
