"""SQLite store: one file per job, WAL journal, every append committed before it returns.

WAL lets several kernels on one machine read while one writes; ``synchronous=FULL`` makes a
committed answer survive the kernel being killed (and the machine losing power). Appends are
idempotent on ``uid``, so a widget that re-sends an unacknowledged answer cannot store it twice.
Every write runs in :meth:`SQLiteStore._write`, which rolls back on any exception, so a failed
write never leaves the file locked for other kernels.

A store file says what it is: SQLite's ``application_id`` is :data:`APPLICATION_ID` and its
``user_version`` the schema version. Opening refuses another application's file and one written
by a newer nblabel, naming it, rather than converting it; stores from before the id (schema 1,
recorded in the ``meta`` table only) are upgraded in place.

Rows added to an open job (``Job.add``) are kept in the ``added_items`` table (schema 3): a
store upgraded from before it simply has no added rows.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import threading
import time
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import replace
from operator import itemgetter
from pathlib import Path
from typing import Any

from nblabel.store.base import (
    COLUMNS,
    Annotation,
    StoreFormatError,
    UnstorableValue,
    annotation_from_row,
    row_of,
    utc_now,
)
from nblabel.store.claims import Claim, grant
from nblabel.store.kinds import SLOT_KINDS

__all__ = ["APPLICATION_ID", "SCHEMA_VERSION", "SQLiteStore"]

#: SQLite's ``PRAGMA application_id`` of an nblabel store: "nbl1" in ASCII.
APPLICATION_ID = 0x6E626C31
#: The store schema this release writes (``PRAGMA user_version``). 1: the first, recorded in the
#: ``meta`` table only; 2: the application id, and the log refuses ``INSERT OR REPLACE`` too;
#: 3: each annotation's ``meta`` (why the item was asked, the worker's timing), and the
#: ``added_items`` table.
SCHEMA_VERSION = 3

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
    target     TEXT,
    meta       TEXT
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
-- The log is append-only: refuse updates and deletes at the database level too, and inserts
-- that would replace a row (INSERT OR REPLACE deletes without firing delete triggers).
CREATE TRIGGER IF NOT EXISTS annotations_no_update BEFORE UPDATE ON annotations
BEGIN SELECT RAISE(ABORT, 'nblabel annotations are append-only'); END;
CREATE TRIGGER IF NOT EXISTS annotations_no_delete BEFORE DELETE ON annotations
BEGIN SELECT RAISE(ABORT, 'nblabel annotations are append-only'); END;
CREATE TRIGGER IF NOT EXISTS annotations_no_replace BEFORE INSERT ON annotations
WHEN EXISTS (SELECT 1 FROM annotations WHERE uid = NEW.uid)
    OR EXISTS (SELECT 1 FROM annotations WHERE seq = NEW.seq)
BEGIN SELECT RAISE(ABORT, 'nblabel annotations are append-only'); END;
-- Rows added to an open job (Job.add, GT's streaming jobs), in the order they were added: the
-- item's key, the deduplication key that makes adding it again a no-op, and the manifest line
-- as JSON. Not part of the answer log: a store upgraded from before schema 3 only lacks rows.
CREATE TABLE IF NOT EXISTS added_items (
    seq       INTEGER PRIMARY KEY AUTOINCREMENT,
    attribute TEXT NOT NULL,
    dedup     TEXT NOT NULL,
    item      TEXT NOT NULL,
    line      TEXT NOT NULL,
    created   TEXT NOT NULL,
    UNIQUE (attribute, dedup),
    UNIQUE (attribute, item)
);
"""

# Appends leave out the uids already stored themselves (see _new_rows): INSERT OR IGNORE would
# meet the trigger above, which refuses any insert over an existing row.
_INSERT = (
    "INSERT INTO annotations"
    " (uid, item, attribute, annotator, kind, value, confidence, created, target, meta)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)

# How long opening waits for other kernels that are opening or writing the same store.
OPEN_TIMEOUT = 30.0


def _schema_version(db: sqlite3.Connection, path: Path) -> int:
    """The nblabel schema version of an open file: 0 for an empty file, 1 for a store from before
    the application id. Reads only, so a foreign file is left as it was; all in one read
    transaction, so another kernel creating the store at the same time is seen before or after,
    never half-way.

    Raises
    ------
    StoreFormatError
        Another application's file, or a store written by a newer nblabel.
    """
    if db.in_transaction:
        return _read_schema_version(db, path)
    db.execute("BEGIN")
    try:
        return _read_schema_version(db, path)
    finally:
        db.execute("COMMIT")


def _read_schema_version(db: sqlite3.Connection, path: Path) -> int:
    app = db.execute("PRAGMA application_id").fetchone()[0]
    version = db.execute("PRAGMA user_version").fetchone()[0]
    if app == APPLICATION_ID:
        if version > SCHEMA_VERSION:
            raise StoreFormatError(
                f"{path} was written by a newer nblabel (store schema {version}; this nblabel reads up "
                f"to {SCHEMA_VERSION}): upgrade nblabel to open it"
            )
        return int(version)
    if app != 0:
        raise StoreFormatError(
            f"{path} belongs to another application (SQLite application id {app:#010x}), it is not "
            "an nblabel store: give the job another store"
        )
    tables = sorted(r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'"))
    if not tables:
        return 0
    if {"annotations", "meta"} <= set(tables):
        row = db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        if row is not None and row[0] == "1":
            return 1
    raise StoreFormatError(
        f"{path} is not an nblabel store (it holds the tables {', '.join(tables)}): nblabel leaves it "
        "alone; give the job another store"
    )


def _connect(path: Path) -> sqlite3.Connection:
    """Open the store at ``path`` in WAL mode with its schema in place, waiting out other kernels
    doing the same; a new file becomes a store, an older store is upgraded.

    SQLite does not call its busy handler while another connection is switching a new file to WAL
    or recovering its WAL index, so two kernels opening one fresh store at once can get "database
    is locked" immediately. Those steps are short; retry them with backoff until OPEN_TIMEOUT.
    """
    deadline = time.monotonic() + OPEN_TIMEOUT
    delay = 0.005
    while True:
        db = sqlite3.connect(path, timeout=OPEN_TIMEOUT, check_same_thread=False, isolation_level=None)
        try:
            # Identified before anything is written: a foreign file is not switched to WAL.
            version = _schema_version(db, path)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=FULL")
            if version < SCHEMA_VERSION:
                _create(db, path)
            return db
        except sqlite3.OperationalError as exc:
            db.close()
            if "locked" not in str(exc) or time.monotonic() + delay > deadline:
                raise
        except BaseException:
            db.close()
            raise
        time.sleep(delay)
        delay = min(delay * 2, 0.25)


def _create(db: sqlite3.Connection, path: Path) -> None:
    """Create or upgrade the schema in one transaction, and stamp the file as this version's.

    The version is checked again under the write lock: another kernel may have done it first.
    The ``meta`` row keeps older releases, which read only it, from writing to this store.
    """
    db.execute("BEGIN IMMEDIATE")
    try:
        if _schema_version(db, path) < SCHEMA_VERSION:
            for statement in _statements(_SCHEMA):
                db.execute(statement)
            columns = {row[1] for row in db.execute("PRAGMA table_info(annotations)")}
            if "meta" not in columns:  # a store from before schema 3: its answers have no meta
                db.execute("ALTER TABLE annotations ADD COLUMN meta TEXT")
            db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            db.execute(
                "INSERT INTO meta (key, value) VALUES ('schema_version', ?)"
                " ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (str(SCHEMA_VERSION),),
            )
        db.execute("COMMIT")
    except BaseException:
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise


def _statements(script: str) -> Iterator[str]:
    """The statements of a script one by one (``executescript`` would commit the transaction)."""
    statement = ""
    for line in script.splitlines(keepends=True):
        if line.lstrip().startswith("--"):
            continue
        statement += line
        if sqlite3.complete_statement(statement):
            yield statement.strip()
            statement = ""


# Live annotations that take a slot, for a batch of items (placeholders filled in per batch).
_SLOT_ANSWERS = (
    "SELECT a.item, a.annotator, a.kind FROM annotations a WHERE a.attribute = ? AND a.item IN ({})"
    f" AND a.kind IN ({', '.join(repr(k) for k in SLOT_KINDS)})"
    " AND NOT EXISTS (SELECT 1 FROM annotations r WHERE r.target = a.uid AND r.kind = 'retract')"
)
# The claims on a batch of items.
_ITEM_CLAIMS = "SELECT item, annotator, session, expires FROM claims WHERE attribute = ? AND item IN ({})"
_BATCH = 500  # items per IN (...) list, well under SQLite's variable limit


def _new_rows(db: sqlite3.Connection, rows: list[tuple[Any, ...]]) -> list[bool]:
    """For each row (a :func:`row_of`), whether its uid is new: neither stored nor earlier in
    the batch. Looked up a batch of uids at a time, inside the caller's transaction."""
    uids = [row[0] for row in rows]
    seen: set[str] = set()
    for start in range(0, len(uids), _BATCH):
        batch = uids[start : start + _BATCH]
        marks = ", ".join("?" * len(batch))
        seen.update(u for (u,) in db.execute(f"SELECT uid FROM annotations WHERE uid IN ({marks})", batch))
    new = []
    for uid in uids:
        new.append(uid not in seen)
        seen.add(uid)
    return new


def _insert(db: sqlite3.Connection, row: tuple[Any, ...]) -> int:
    """Insert one annotation with a new uid inside a transaction; its seq."""
    return int(db.execute(_INSERT, row).lastrowid or 0)


def _batched(db: sqlite3.Connection, sql: str, attribute: str, items: Sequence[str]) -> list[Any]:
    """The rows of ``sql`` (with ``IN ({})`` for the items) over batches of items."""
    rows: list[Any] = []
    for start in range(0, len(items), _BATCH):
        batch = items[start : start + _BATCH]
        rows += db.execute(sql.format(", ".join("?" * len(batch))), (attribute, *batch)).fetchall()
    return rows


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
        self._conn: sqlite3.Connection | None = None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._conn = _connect(self.path)
        except StoreFormatError:
            raise
        except (OSError, sqlite3.Error) as exc:
            raise OSError(f"cannot open the nblabel store {self.path}: {exc}") from exc
        self._lock = threading.Lock()

    @property
    def _db(self) -> sqlite3.Connection:
        """The connection, opened again if a failed rollback had to close it."""
        if self._conn is None:
            self._conn = _connect(self.path)
        return self._conn

    @contextlib.contextmanager
    def _write(self, *, durable: bool = True) -> Iterator[sqlite3.Connection]:
        """One write transaction (``BEGIN IMMEDIATE`` ... ``COMMIT``) under the store's lock.

        Any exception inside rolls it back, whatever its type, so the file is never left locked
        for other kernels. ``durable=False`` commits without waiting for the disk
        (``synchronous=NORMAL``, for leases); ``synchronous=FULL`` is restored after the commit or
        the rollback, outside any transaction, where SQLite accepts it.

        Raises
        ------
        OSError
            The database refused the write (disk full, read-only file, locked too long); nothing
            was written.
        UnstorableValue
            SQLite refused a value (too big); nothing was written.
        """
        with self._lock:
            try:
                if not durable:
                    self._db.execute("PRAGMA synchronous=NORMAL")
                try:
                    self._db.execute("BEGIN IMMEDIATE")
                    yield self._db
                    self._db.execute("COMMIT")
                except BaseException:
                    self._rollback()
                    raise
                finally:
                    if not durable and self._conn is not None:  # a new connection starts at FULL
                        self._conn.execute("PRAGMA synchronous=FULL")
            except sqlite3.DataError as exc:
                raise UnstorableValue(f"cannot store this in {self.path}: {exc}") from exc
            except sqlite3.Error as exc:
                raise OSError(f"cannot write to the nblabel store {self.path}: {exc}") from exc

    def _rollback(self) -> None:
        """Roll back the open transaction; if even that fails, close the connection (which
        releases SQLite's lock): the next use opens a new one (see ``_db``)."""
        if self._conn is None or not self._conn.in_transaction:
            return
        try:
            self._conn.execute("ROLLBACK")
        except sqlite3.Error:
            self._conn.close()
            self._conn = None

    def append(self, annotations: Iterable[Annotation]) -> list[Annotation]:
        """Append annotations in one transaction; duplicates (same uid) are ignored.

        Returns the annotations that were new, with their log position (``seq``) set.

        Raises
        ------
        OSError
            The database could not be written (disk full, read-only folder); nothing was stored.
        """
        batch = list(annotations)
        rows = [row_of(a) for a in batch]  # refused here, before the transaction starts
        stored: list[Annotation] = []
        with self._write() as db:
            for a, row, new in zip(batch, rows, _new_rows(db, rows), strict=True):
                if new:
                    stored.append(replace(a, seq=_insert(db, row)))
        return stored

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
        rows = [row_of(a) for a in annotations]
        with self._write() as db:
            row = db.execute(
                "SELECT COALESCE(MAX(round), 0) + 1 FROM rounds WHERE attribute = ?", (attribute,)
            ).fetchone()
            number = int(row[0])
            db.execute(
                "INSERT INTO rounds (attribute, round, report, created) VALUES (?, ?, ?, ?)",
                (attribute, number, json.dumps({**report, "round": number}), utc_now()),
            )
            db.execute("DELETE FROM proposals WHERE attribute = ?", (attribute,))
            # In key order: each row lands next to the last in the (attribute, item) B-tree, which
            # halves the CPU of a round of a million proposals (random keys split pages all over).
            db.executemany(
                "INSERT INTO proposals (attribute, item, value, confidence) VALUES (?, ?, ?, ?)",
                (
                    (attribute, item, json.dumps(value), conf)
                    for item, value, conf in sorted(proposals, key=itemgetter(0))
                ),
            )
            db.execute("DELETE FROM queue WHERE attribute = ?", (attribute,))
            db.executemany(
                "INSERT INTO queue (attribute, rank, item) VALUES (?, ?, ?)",
                ((attribute, rank, item) for rank, item in enumerate(queue)),
            )
            db.executemany(_INSERT, (row for row, new in zip(rows, _new_rows(db, rows), strict=True) if new))
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
        with self._write() as db:
            db.execute(
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
        with self._write(durable=False) as db:
            now = time.time()
            db.execute("DELETE FROM claims WHERE attribute = ? AND expires <= ?", (attribute, now))
            items = [*renew, *candidates]
            live = [Claim(*row) for row in _batched(db, _ITEM_CLAIMS, attribute, items)]
            held, granted = grant(
                candidates,
                renew,
                want=want,
                slots=slots,
                annotator=annotator,
                session=session,
                claims=live,
                answers=_batched(db, _SLOT_ANSWERS, attribute, items),
            )
            db.executemany(
                "INSERT INTO claims (attribute, item, session, annotator, expires)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT (attribute, item, session)"
                " DO UPDATE SET expires = excluded.expires",
                ((attribute, item, session, annotator, now + ttl) for item in [*held, *granted]),
            )
        return granted

    def claims(self, attribute: str) -> list[Claim]:
        """Every live claim on an attribute."""
        with self._lock:
            rows = self._db.execute(
                "SELECT item, annotator, session, expires FROM claims WHERE attribute = ? AND expires > ?",
                (attribute, time.time()),
            ).fetchall()
        return [Claim(*row) for row in rows]

    # -- rows added to an open job ---------------------------------------------------------

    def add_items(
        self, attribute: str, rows: Sequence[tuple[str, str, str]]
    ) -> list[tuple[int, str, str, str]]:
        """Add manifest lines to an attribute's job in one transaction: ``(dedup, item, line)``.

        A row whose ``dedup`` key is stored already is left out; a row whose ``item`` key another
        kernel took meanwhile gets the first free ``item#n``. Returns the new rows as
        ``(seq, dedup, item, line)``.
        """
        stored = []
        with self._write() as db:
            for dedup, item, line in rows:
                if db.execute(
                    "SELECT 1 FROM added_items WHERE attribute = ? AND dedup = ?", (attribute, dedup)
                ).fetchone():
                    continue
                key, n = item, 1
                while db.execute(
                    "SELECT 1 FROM added_items WHERE attribute = ? AND item = ?", (attribute, key)
                ).fetchone():
                    n += 1
                    key = f"{item}#{n}"
                seq = db.execute(
                    "INSERT INTO added_items (attribute, dedup, item, line, created) VALUES (?, ?, ?, ?, ?)",
                    (attribute, dedup, key, line, utc_now()),
                ).lastrowid
                stored.append((int(seq or 0), dedup, key, line))
        return stored

    def added_items(self, attribute: str, after: int = 0) -> list[tuple[int, str, str, str]]:
        """The rows added to an attribute's job after ``seq``: ``(seq, dedup, item, line)``."""
        with self._lock:
            return self._db.execute(
                "SELECT seq, dedup, item, line FROM added_items WHERE attribute = ? AND seq > ? ORDER BY seq",
                (attribute, after),
            ).fetchall()

    def close(self) -> None:
        """Close the database connection."""
        with self._lock:
            if self._conn is not None:
                self._conn.close()

    def __repr__(self) -> str:
        return f"SQLiteStore({str(self.path)!r})"
