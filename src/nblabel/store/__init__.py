"""Durable, append-only annotation stores.

Every answer is one :class:`Annotation` appended to a log; nothing is updated or deleted. Undo
appends a retraction that names the annotation it takes back. The current label of an item is
derived from the log (see :mod:`nblabel.ledger`).
"""

from __future__ import annotations

from nblabel.store.base import Annotation, Store, new_uid, utc_now
from nblabel.store.sqlite import SQLiteStore

__all__ = ["Annotation", "SQLiteStore", "Store", "new_uid", "open_store", "utc_now"]


def open_store(spec: str | None, job_name: str) -> Store:
    """Open the store a ``Job`` asked for: a path, or ``None`` for ``.nblabel/<job>.sqlite``."""
    from pathlib import Path

    path = Path(spec) if spec is not None else Path(".nblabel") / f"{job_name}.sqlite"
    return SQLiteStore(path)
