"""SQLite store: one file per job, WAL journal, every append committed before it returns.

WAL lets several kernels on one machine read while one writes; ``synchronous=FULL`` makes a
committed answer survive the kernel being killed (and the machine losing power). Appends are
idempotent on ``uid``, so a widget that re-sends an unacknowledged answer cannot store it twice.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from nblabel.store.base import COLUMNS, Annotation, annotation_from_row, utc_now
from nblabel.store.claims import Claim, grant
from nblabel.store.kinds import SLOT_KINDS

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
-- Claims look up the answers of a few items, and whether they were taken back.
CREATE INDEX IF NOT EXISTS annotations_item ON annotations (attribute, item);
CREATE INDEX IF NOT EXISTS annotations_target ON annotations (target) WHERE target IS NOT NULL;
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
-- What the auto-labeler derived in its latest round: a cache, replaced each round. Only the
-- annotations table is the record of what happened.
CREATE TABLE IF NOT EXISTS rounds (
    attribute TEXT NOT NULL, round INTEGER NOT NULL, report TEXT NOT NULL, created TEXT NOT NULL,
    PRIMARY KEY (attribute, round)
);
CREATE TABLE IF NOT EXISTS proposals (
    attribute TEXT NOT NULL, item TEXT NOT NULL, value TEXT NOT NULL, confidence REAL NOT NULL,
    PRIMARY KEY (attribute, item)
);
CREATE TABLE IF NOT EXISTS queue (
    attribute TEXT NOT NULL, rank INTEGER NOT NULL, item TEXT NOT NULL,
    PRIMARY KEY (attribute, rank)
);
-- Which session holds which item until when (UNIX time): leases, dropped once expired.
CREATE TABLE IF NOT EXISTS claims (
    attribute TEXT NOT NULL, item TEXT NOT NULL, session TEXT NOT NULL, annotator TEXT NOT NULL,
    expires REAL NOT NULL,
    PRIMARY KEY (attribute, item, session)
);
CREATE INDEX IF NOT EXISTS claims_expires ON claims (attribute, expires);
-- The log is append-only: refuse updates and deletes at the database level too.
CREATE TRIGGER IF NOT EXISTS annotations_no_update BEFORE UPDATE ON annotations
BEGIN SELECT RAISE(ABORT, 'nblabel annotations are append-only'); END;
CREATE TRIGGER IF NOT EXISTS annotations_no_delete BEFORE DELETE ON annotations
BEGIN SELECT RAISE(ABORT, 'nblabel annotations are append-only'); END;
"""

# How long opening waits for other kernels that are opening or writing the same store.
OPEN_TIMEOUT = 30.0


def _connect(path: Path) -> sqlite3.Connection:
    """Open ``path`` in WAL mode with the schema in place, waiting out other kernels doing the same.

    SQLite does not call its busy handler while another connection is switching a new file to WAL
    or recovering its WAL index, so two kernels opening one fresh store at once can get "database
    is locked" immediately. Those steps are short; retry them with backoff until OPEN_TIMEOUT.
    """
    deadline = time.monotonic() + OPEN_TIMEOUT
    delay = 0.005
    while True:
        db = sqlite3.connect(path, timeout=OPEN_TIMEOUT, check_same_thread=False, isolation_level=None)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=FULL")
            db.executescript(_SCHEMA)
            return db
        except sqlite3.OperationalError as exc:
            db.close()
            if "locked" not in str(exc) or time.monotonic() + delay > deadline:
                raise
        time.sleep(delay)
        delay = min(delay * 2, 0.25)


# Live annotations that take a slot, for a batch of items (placeholders filled in per batch).
_SLOT_ANSWERS = (
    "SELECT a.item, a.annotator, a.kind FROM annotations a WHERE a.attribute = ? AND a.item IN ({})"
    f" AND a.kind IN ({', '.join(repr(k) for k in SLOT_KINDS)})"
    " AND NOT EXISTS (SELECT 1 FROM annotations r WHERE r.target = a.uid AND r.kind = 'retract')"
)
# The claims on a batch of items.
_ITEM_CLAIMS = "SELECT item, annotator, session, expires FROM claims WHERE attribute = ? AND item IN ({})"
_BATCH = 500  # items per IN (...) list, well under SQLite's variable limit


class SQLiteStore:
    """An append-only annotation log in a SQLite file.

    Parameters
    ----------
    path
        The database file; its folder is created if needed.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.spec = str(self.path)
        self.local_dir = self.path.parent
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = _connect(self.path)
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
                    seq = self._insert(a)
                    if seq is not None:
                        stored.append(replace(a, seq=seq))
                self._db.execute("COMMIT")
            except sqlite3.Error as exc:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise OSError(f"cannot write to the nblabel store {self.path}: {exc}") from exc
        return stored

    def _insert(self, a: Annotation) -> int | None:
        """Insert one annotation inside the caller's transaction; its seq, or None if a duplicate."""
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
        return int(cursor.lastrowid or 0) if cursor.rowcount else None

    def annotations(self, attribute: str | None = None, after: int = 0) -> Iterator[Annotation]:
        """Yield stored annotations in log order."""
        if attribute is None:
            sql, args = f"SELECT {COLUMNS} FROM annotations WHERE seq > ? ORDER BY seq", (after,)
        else:
            sql = f"SELECT {COLUMNS} FROM annotations WHERE attribute = ? AND seq > ? ORDER BY seq"
            args = (attribute, after)
        with self._lock:
            rows = self._db.execute(sql, args).fetchall()
        for row in rows:
            yield annotation_from_row(row)

    def save_round(
        self,
        attribute: str,
        report: dict[str, Any],
        proposals: Iterable[tuple[str, Any, float]],
        queue: Iterable[str],
        annotations: Iterable[Annotation],
    ) -> int:
        """Store an auto-labeling round in one transaction: its report, the proposals and the
        people's queue that replace the previous round's, and its annotations (auto-labels and
        retractions of stale ones). Returns the round's number. All or nothing.
        """
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                row = self._db.execute(
                    "SELECT COALESCE(MAX(round), 0) + 1 FROM rounds WHERE attribute = ?", (attribute,)
                ).fetchone()
                number = int(row[0])
                self._db.execute(
                    "INSERT INTO rounds (attribute, round, report, created) VALUES (?, ?, ?, ?)",
                    (attribute, number, json.dumps({**report, "round": number}), utc_now()),
                )
                self._db.execute("DELETE FROM proposals WHERE attribute = ?", (attribute,))
                self._db.executemany(
                    "INSERT INTO proposals (attribute, item, value, confidence) VALUES (?, ?, ?, ?)",
                    ((attribute, item, json.dumps(value), conf) for item, value, conf in proposals),
                )
                self._db.execute("DELETE FROM queue WHERE attribute = ?", (attribute,))
                self._db.executemany(
                    "INSERT INTO queue (attribute, rank, item) VALUES (?, ?, ?)",
                    ((attribute, rank, item) for rank, item in enumerate(queue)),
                )
                for a in annotations:
                    self._insert(a)
                self._db.execute("COMMIT")
            except sqlite3.Error as exc:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise OSError(f"cannot write to the nblabel store {self.path}: {exc}") from exc
        return number

    def latest_round(self, attribute: str) -> tuple[int, dict[str, Any]] | None:
        """The newest round's number and report, or None before the first round."""
        with self._lock:
            row = self._db.execute(
                "SELECT round, report FROM rounds WHERE attribute = ? ORDER BY round DESC LIMIT 1",
                (attribute,),
            ).fetchone()
        return None if row is None else (int(row[0]), json.loads(row[1]))

    def proposals(self, attribute: str) -> dict[str, tuple[Any, float]]:
        """The latest round's proposal (value, confidence) for every item it proposed for."""
        with self._lock:
            rows = self._db.execute(
                "SELECT item, value, confidence FROM proposals WHERE attribute = ?", (attribute,)
            ).fetchall()
        return {item: (json.loads(value), conf) for item, value, conf in rows}

    def queue(self, attribute: str) -> list[str]:
        """The latest round's order of items for people."""
        with self._lock:
            rows = self._db.execute(
                "SELECT item FROM queue WHERE attribute = ? ORDER BY rank", (attribute,)
            ).fetchall()
        return [r[0] for r in rows]

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

    def claim(
        self,
        attribute: str,
        annotator: str,
        session: str,
        candidates: Sequence[str],
        *,
        want: int,
        slots: int,
        ttl: float,
        renew: Collection[str] = (),
    ) -> list[str]:
        """Claim up to ``want`` candidates for a session in one write transaction, which SQLite
        serializes with every other kernel's; renew the session's claims on ``renew`` first.

        Claims are leases, so their commits skip the fsync (``synchronous=NORMAL``): a power
        cut may forget a claim, never an answer.
        """
        with self._lock:
            try:
                self._db.execute("PRAGMA synchronous=NORMAL")
                self._db.execute("BEGIN IMMEDIATE")
                now = time.time()
                self._db.execute("DELETE FROM claims WHERE attribute = ? AND expires <= ?", (attribute, now))
                items = [*renew, *candidates]
                live = [Claim(*row) for row in self._batched(_ITEM_CLAIMS, attribute, items)]
                held, granted = grant(
                    candidates,
                    renew,
                    want=want,
                    slots=slots,
                    annotator=annotator,
                    session=session,
                    claims=live,
                    answers=self._batched(_SLOT_ANSWERS, attribute, items),
                )
                self._db.executemany(
                    "INSERT INTO claims (attribute, item, session, annotator, expires)"
                    " VALUES (?, ?, ?, ?, ?) ON CONFLICT (attribute, item, session)"
                    " DO UPDATE SET expires = excluded.expires",
                    ((attribute, item, session, annotator, now + ttl) for item in [*held, *granted]),
                )
                self._db.execute("COMMIT")
            except sqlite3.Error as exc:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise OSError(f"cannot write to the nblabel store {self.path}: {exc}") from exc
            finally:
                self._db.execute("PRAGMA synchronous=FULL")
        return granted

    def _batched(self, sql: str, attribute: str, items: Sequence[str]) -> list[Any]:
        """The rows of ``sql`` (with ``IN ({})`` for the items) over batches of items."""
        rows: list[Any] = []
        for start in range(0, len(items), _BATCH):
            batch = items[start : start + _BATCH]
            rows += self._db.execute(sql.format(", ".join("?" * len(batch))), (attribute, *batch)).fetchall()
        return rows

    def claims(self, attribute: str) -> list[Claim]:
        """Every live claim on an attribute."""
        with self._lock:
            rows = self._db.execute(
                "SELECT item, annotator, session, expires FROM claims WHERE attribute = ? AND expires > ?",
                (attribute, time.time()),
            ).fetchall()
        return [Claim(*row) for row in rows]

    def close(self) -> None:
        """Close the database connection."""
        with self._lock:
            self._db.close()

    def __repr__(self) -> str:
        return f"SQLiteStore({str(self.path)!r})"
