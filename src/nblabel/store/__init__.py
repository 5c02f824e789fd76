"""Durable, append-only annotation stores.

Every answer is one :class:`Annotation` appended to a log; nothing is updated or deleted. Undo
appends a retraction that names the annotation it takes back. The current label of an item is
derived from the log (see :mod:`nblabel.store.ledger`). SQLite (one file per job) is the default;
a ``postgresql://`` URL opens the team store (:mod:`nblabel.store.postgres`).
"""

from __future__ import annotations

from nblabel.store.base import Annotation, Store, new_uid, utc_now
from nblabel.store.claims import CLAIM_TTL, Claim
from nblabel.store.postgres import PostgresStore, is_postgres_url
from nblabel.store.sqlite import SQLiteStore

__all__ = [
    "CLAIM_TTL",
    "Annotation",
    "Claim",
    "PostgresStore",
    "SQLiteStore",
    "Store",
    "new_uid",
    "open_store",
    "utc_now",
]


def open_store(spec: str | None, job_name: str) -> Store:
    """Open the store a ``Job`` asked for: a ``postgresql://`` URL (the job's rows in that
    database), a file path, or ``None`` for ``.nblabel/<job>.sqlite``."""
    from pathlib import Path

    if spec is not None and is_postgres_url(spec):
        return PostgresStore(spec, job_name)
    path = Path(spec) if spec is not None else Path(".nblabel") / f"{job_name}.sqlite"
    return SQLiteStore(path)
