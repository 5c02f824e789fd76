"""SQLite store: one file per job, WAL journal, every append committed before it returns.

WAL lets several kernels on one machine read while one writes; ``synchronous=FULL`` makes a
committed answer survive the kernel being killed (and the machine losing power). Appends are
idempotent on ``uid``, so a widget that re-sends an unacknowledged answer cannot store it twice.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path

from nblabel.store.base import Annotation

__all__ = ["SQLiteStore"]

SCHEMA_VERSION = "1"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS annotations (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    uid        TEXT NOT NULL UNIQUE,
    item       TEXT NOT NULL,
    attribute  TEXT NOT NULL,
    annotator  TEXT NOT NULL,
    kind       TEXT NOT NULL,
    value      TEXT,
    confidence REAL,
    created    TEXT NOT NULL,
    target     TEXT
);
CREATE INDEX IF NOT EXISTS annotations_attribute ON annotations (attribute, seq);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
-- The log is append-only: refuse updates and deletes at the database level too.
CREATE TRIGGER IF NOT EXISTS annotations_no_update BEFORE UPDATE ON annotations
BEGIN SELECT RAISE(ABORT, 'nblabel annotations are append-only'); END;
CREATE TRIGGER IF NOT EXISTS annotations_no_delete BEFORE DELETE ON annotations
BEGIN SELECT RAISE(ABORT, 'nblabel annotations are append-only'); END;
"""

_COLUMNS = "seq, uid, item, attribute, annotator, kind, value, confidence, created, target"


class SQLiteStore:
    """An append-only annotation log in a SQLite file.

    Parameters
    ----------
    path
        The database file; its folder is created if needed.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, timeout=30, check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.executescript(_SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            raise OSError(f"cannot open the nblabel store {self.path}: {exc}") from exc
        self._lock = threading.Lock()
        version = self.get_meta("schema_version")
        if version is None:
            self.set_meta("schema_version", SCHEMA_VERSION)
        elif version != SCHEMA_VERSION:
            raise OSError(
                f"{self.path} has store schema version {version}; this nblabel reads {SCHEMA_VERSION}"
            )

    def append(self, annotations: Iterable[Annotation]) -> list[Annotation]:
        """Append annotations in one transaction; duplicates (same uid) are ignored.

        Returns the annotations that were new, with their log position (``seq``) set.

        Raises
        ------
        OSError
            The database could not be written (disk full, read-only folder); nothing was stored.
        """
        batch = list(annotations)
        stored: list[Annotation] = []
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                for a in batch:
                    cursor = self._db.execute(
                        "INSERT OR IGNORE INTO annotations "
                        "(uid, item, attribute, annotator, kind, value, confidence, created, target)"
                        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        (
                            a.uid,
                            a.item,
                            a.attribute,
                            a.annotator,
                            a.kind,
                            None if a.value is None else json.dumps(a.value, ensure_ascii=False),
                            a.confidence,
                            a.created,
                            a.target,
                        ),
                    )
                    if cursor.rowcount:
                        stored.append(_with_seq(a, cursor.lastrowid))
                self._db.execute("COMMIT")
            except sqlite3.Error as exc:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise OSError(f"cannot write to the nblabel store {self.path}: {exc}") from exc
        return stored

    def annotations(self, attribute: str | None = None, after: int = 0) -> Iterator[Annotation]:
        """Yield stored annotations in log order."""
        if attribute is None:
            sql, args = f"SELECT {_COLUMNS} FROM annotations WHERE seq > ? ORDER BY seq", (after,)
        else:
            sql = f"SELECT {_COLUMNS} FROM annotations WHERE attribute = ? AND seq > ? ORDER BY seq"
            args = (attribute, after)
        with self._lock:
            rows = self._db.execute(sql, args).fetchall()
        for seq, uid, item, attr, annotator, kind, value, confidence, created, target in rows:
            yield Annotation(
                item=item,
                attribute=attr,
                annotator=annotator,
                kind=kind,
                value=None if value is None else json.loads(value),
                confidence=confidence,
                uid=uid,
                created=created,
                target=target,
                seq=seq,
            )

    def get_meta(self, key: str) -> str | None:
        """A job-level setting, or None."""
        with self._lock:
            row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else row[0]

    def set_meta(self, key: str, value: str) -> None:
        """Store a job-level setting."""
        with self._lock:
            self._db.execute(
                "INSERT INTO meta (key, value) VALUES (?, ?) "
                "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (key, value),
            )

    def close(self) -> None:
        """Close the database connection."""
        with self._lock:
            self._db.close()

    def __repr__(self) -> str:
        return f"SQLiteStore({str(self.path)!r})"


def _with_seq(a: Annotation, seq: int | None) -> Annotation:
    from dataclasses import replace

    return replace(a, seq=int(seq or 0))
