"""PostgreSQL store: one database for a team, the same append-only log as the SQLite store.

Notebooks on different machines (JupyterHub users) label one job together by opening it with
``store="postgresql://user@host:5432/db"``. Tables live in the ``nblabel`` schema; every row
carries its job's name, so one database holds many jobs, as one folder holds many SQLite files.

The model is the SQLite store's: answers are appended, never updated or deleted (triggers refuse
both, and TRUNCATE); appends are idempotent on the answer's uid; each append commits before it
returns. Readers follow the log by its ``seq``, so a job's appends take a per-job lock while
they run: a sequence number is handed out and committed before the next one is, and a reader
that saw ``seq`` 12 can never later find an 11 committed behind it. Claims (see
:mod:`nblabel.store.claims`) use the server's clock, so kernels on machines whose clocks differ
agree on when a claim expires.

Every write runs in :meth:`PostgresStore._run`, one transaction that any exception rolls back;
a connection that is not idle after a failure is closed and opened again on the next call.
The database records the store schema version in the ``nblabel.meta`` row of job ``""``; a
database written by a newer nblabel is refused, naming it.

Needs the ``postgres`` extra: ``pip install 'nblabel[postgres]'`` (psycopg 3).
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

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

__all__ = ["SCHEMA_VERSION", "PostgresStore", "is_postgres_url"]

#: The schema this release writes, recorded database-wide (the ``meta`` row of job ``""``, which
#: no job can be named) and, for releases that read only that, in each job's ``meta`` too.
#: 1: the first; 2: each annotation's ``meta`` (why the item was asked, the worker's timing).
SCHEMA_VERSION = 2

T = TypeVar("T")

_SCHEMA = """
CREATE SCHEMA IF NOT EXISTS nblabel;
CREATE TABLE IF NOT EXISTS nblabel.annotations (
    seq        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    job        TEXT NOT NULL,
    uid        TEXT NOT NULL,
    item       TEXT NOT NULL,
    attribute  TEXT NOT NULL,
    annotator  TEXT NOT NULL,
    kind       TEXT NOT NULL,
    value      TEXT,
    confidence DOUBLE PRECISION,
    created    TEXT NOT NULL,
    target     TEXT,
    meta       TEXT,
    UNIQUE (job, uid)
);
CREATE INDEX IF NOT EXISTS annotations_attribute ON nblabel.annotations (job, attribute, seq);
CREATE INDEX IF NOT EXISTS annotations_item ON nblabel.annotations (job, attribute, item);
CREATE INDEX IF NOT EXISTS annotations_target ON nblabel.annotations (job, target)
    WHERE target IS NOT NULL;
CREATE TABLE IF NOT EXISTS nblabel.meta (
    job TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (job, key)
);
-- What the auto-labeler derived in its latest round: a cache, replaced each round.
CREATE TABLE IF NOT EXISTS nblabel.rounds (
    job TEXT NOT NULL, attribute TEXT NOT NULL, round INTEGER NOT NULL, report TEXT NOT NULL,
    created TEXT NOT NULL, PRIMARY KEY (job, attribute, round)
);
CREATE TABLE IF NOT EXISTS nblabel.proposals (
    job TEXT NOT NULL, attribute TEXT NOT NULL, item TEXT NOT NULL, value TEXT NOT NULL,
    confidence DOUBLE PRECISION NOT NULL, PRIMARY KEY (job, attribute, item)
);
CREATE TABLE IF NOT EXISTS nblabel.queue (
    job TEXT NOT NULL, attribute TEXT NOT NULL, rank INTEGER NOT NULL, item TEXT NOT NULL,
    PRIMARY KEY (job, attribute, rank)
);
CREATE TABLE IF NOT EXISTS nblabel.claims (
    job TEXT NOT NULL, attribute TEXT NOT NULL, item TEXT NOT NULL, session TEXT NOT NULL,
    annotator TEXT NOT NULL, expires TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (job, attribute, item, session)
);
CREATE INDEX IF NOT EXISTS claims_expires ON nblabel.claims (job, attribute, expires);
-- The log is append-only: refuse updates, deletes and truncation at the database level too.
CREATE OR REPLACE FUNCTION nblabel.refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'nblabel annotations are append-only';
END $$;
DO $$
BEGIN
    IF NOT EXISTS (
        SELECT 1 FROM pg_trigger
        WHERE tgname = 'annotations_append_only' AND tgrelid = 'nblabel.annotations'::regclass
    ) THEN
        CREATE TRIGGER annotations_append_only BEFORE UPDATE OR DELETE ON nblabel.annotations
            FOR EACH ROW EXECUTE FUNCTION nblabel.refuse_change();
        CREATE TRIGGER annotations_no_truncate BEFORE TRUNCATE ON nblabel.annotations
            FOR EACH STATEMENT EXECUTE FUNCTION nblabel.refuse_change();
    END IF;
END $$;
"""


_INSERT = (
    "INSERT INTO nblabel.annotations"
    " (job, uid, item, attribute, annotator, kind, value, confidence, created, target, meta)"
    " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (job, uid) DO NOTHING RETURNING seq"
)

_SLOT_ANSWERS = (
    "SELECT a.item, a.annotator, a.kind FROM nblabel.annotations a"
    " WHERE a.job = %s AND a.attribute = %s AND a.item = ANY(%s) AND a.kind = ANY(%s)"
    " AND NOT EXISTS (SELECT 1 FROM nblabel.annotations r"
    " WHERE r.job = a.job AND r.target = a.uid AND r.kind = 'retract')"
)


def is_postgres_url(spec: str) -> bool:
    """True when a store spec names a PostgreSQL database rather than a file."""
    return spec.startswith(("postgresql://", "postgres://"))


def _redact(url: str) -> str:
    """The URL without its password, for messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username}:***@{host}" if parts.username else f"***@{host}"
    if parts.port is not None:
        netloc += f":{parts.port}"
    return urlunsplit(parts._replace(netloc=netloc))


def _psycopg() -> Any:
    try:
        import psycopg
    except ImportError as exc:
        raise ImportError("a postgresql:// store needs psycopg: pip install 'nblabel[postgres]'") from exc
    return psycopg


class PostgresStore:
    """A job's append-only annotation log in a PostgreSQL database.

    Parameters
    ----------
    url
        ``postgresql://user[:password]@host[:port]/database`` (libpq's other settings, such as
        ``PGPASSWORD`` or ``~/.pgpass``, apply too).
    job
        The job's name: its rows in the shared tables.
    """

    def __init__(self, url: str, job: str) -> None:
        self.spec = url
        self.job = job
        self.path = f"{_redact(url)}#{job}"
        self.local_dir = (Path(".nblabel") / job).resolve()
        self._psycopg = _psycopg()
        self._lock = threading.Lock()
        self._conn: Any = None
        try:
            with self._lock:
                self._connect()
                with self._conn.transaction():
                    # CREATE ... IF NOT EXISTS races with itself: kernels opening a fresh
                    # database at once create the schema one after the other.
                    self._conn.execute("SELECT pg_advisory_xact_lock(hashtextextended('nblabel:schema', 0))")
                    exists = self._conn.execute("SELECT to_regclass('nblabel.claims')").fetchone()[0]
                    if exists is None:
                        self._conn.execute(_SCHEMA)
                    self._check_version()
        except self._psycopg.Error as exc:
            raise OSError(f"cannot open the nblabel store {self.path}: {exc}") from exc
        if self.get_meta("schema_version") != str(SCHEMA_VERSION):
            self.set_meta("schema_version", str(SCHEMA_VERSION))

    def _check_version(self) -> None:
        """Refuse a database written by a newer nblabel, upgrade one written by an older one, and
        record this version in one without (a new database, or one from before the version row).
        Runs in the schema's transaction."""
        row = self._conn.execute(
            "SELECT value FROM nblabel.meta WHERE job = '' AND key = 'schema_version'"
        ).fetchone()
        if row is not None and (not row[0].isdigit() or int(row[0]) > SCHEMA_VERSION):
            raise StoreFormatError(
                f"{self.path} was written by a newer nblabel (store schema {row[0]}; this nblabel "
                f"reads up to {SCHEMA_VERSION}): upgrade nblabel to open it"
            )
        if row is None or int(row[0]) < SCHEMA_VERSION:
            # Schema 2 adds each annotation's meta; answers from before have none.
            self._conn.execute("ALTER TABLE nblabel.annotations ADD COLUMN IF NOT EXISTS meta TEXT")
            self._conn.execute(
                "INSERT INTO nblabel.meta (job, key, value) VALUES ('', 'schema_version', %s)"
                " ON CONFLICT (job, key) DO UPDATE SET value = excluded.value",
                (str(SCHEMA_VERSION),),
            )

    def _connect(self) -> None:
        self._conn = self._psycopg.connect(self.spec, autocommit=True, application_name="nblabel")

    def _run(self, action: str, work: Callable[[Any], T], *, write: bool, pipeline: bool = False) -> T:
        """Run ``work(connection)``, reconnecting first if the link broke.

        A write runs in one transaction; with ``pipeline``, its statements are sent without
        waiting for each answer (fewer round trips; no COPY then). A read is one statement.
        Any exception rolls the transaction back (psycopg's ``transaction()`` does, whatever
        the exception); if the connection is still not idle after it, it is closed, so the next
        call starts afresh. Raises OSError naming the store when the database refuses or cannot
        be reached, UnstorableValue when it refuses a value; a failed write stored nothing.
        """
        with self._lock:
            try:
                if self._conn is None or self._conn.closed or self._conn.broken:
                    self._connect()
                if not write:
                    return work(self._conn)
                with contextlib.ExitStack() as stack:
                    if pipeline:
                        stack.enter_context(self._conn.pipeline())
                    stack.enter_context(self._conn.transaction())
                    return work(self._conn)
            except BaseException as exc:
                self._settle()
                if isinstance(exc, self._psycopg.DataError):
                    raise UnstorableValue(f"cannot store this in {self.path}: {exc}") from exc
                if isinstance(exc, self._psycopg.Error):
                    raise OSError(f"cannot {action} the nblabel store {self.path}: {exc}") from exc
                raise

    def _settle(self) -> None:
        """After a failure: close the connection unless it is idle (outside any transaction)."""
        conn = self._conn
        if conn is None or conn.closed:
            return
        if conn.broken or conn.info.transaction_status != self._psycopg.pq.TransactionStatus.IDLE:
            conn.close()

    def _read(self, sql: str, args: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        return self._run("read", lambda conn: conn.execute(sql, args).fetchall(), write=False)

    def _lock_log(self, conn: Any) -> None:
        """Serialize this job's appends, so seq order is commit order (see the module doc)."""
        conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (f"nblabel:log:{self.job}",))

    def _insert(self, conn: Any, row: tuple[Any, ...]) -> Any:
        """Send one insert of a :func:`row_of`; its cursor gives the new seq, or no row for a
        duplicate uid."""
        return conn.execute(_INSERT, (self.job, *row))

    def append(self, annotations: Iterable[Annotation]) -> list[Annotation]:
        """Append annotations in one transaction; duplicates (same uid) are ignored.

        Returns the annotations that were new, with their log position (``seq``) set.

        Raises
        ------
        OSError
            The database could not be written or reached; nothing was stored.
        """
        batch = list(annotations)
        rows = [row_of(a) for a in batch]  # refused here, before the transaction starts

        def work(conn: Any) -> list[Any]:
            self._lock_log(conn)
            return [self._insert(conn, row) for row in rows]

        # The inserts and the commit go in one round trip; the cursors hold the results after.
        cursors = self._run("write to", work, write=True, pipeline=True)
        stored = []
        for a, cursor in zip(batch, cursors, strict=True):
            row = cursor.fetchone()
            if row is not None:
                stored.append(replace(a, seq=int(row[0])))
        return stored

    def annotations(self, attribute: str | None = None, after: int = 0) -> Iterator[Annotation]:
        """Yield stored annotations in log order."""
        sql = f"SELECT {COLUMNS} FROM nblabel.annotations WHERE job = %s AND seq > %s"
        args: tuple[Any, ...] = (self.job, after)
        if attribute is not None:
            sql += " AND attribute = %s"
            args += (attribute,)
        rows = self._read(sql + " ORDER BY seq", args)
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
        """Store an auto-labeling round in one transaction (see ``SQLiteStore.save_round``)."""
        proposals, queue = list(proposals), list(queue)
        rows = [row_of(a) for a in annotations]

        def work(conn: Any) -> int:
            self._lock_log(conn)
            number = int(
                conn.execute(
                    "SELECT COALESCE(MAX(round), 0) + 1 FROM nblabel.rounds WHERE job = %s AND attribute = %s",
                    (self.job, attribute),
                ).fetchone()[0]
            )
            conn.execute(
                "INSERT INTO nblabel.rounds (job, attribute, round, report, created)"
                " VALUES (%s, %s, %s, %s, %s)",
                (self.job, attribute, number, json.dumps({**report, "round": number}), utc_now()),
            )
            conn.execute(
                "DELETE FROM nblabel.proposals WHERE job = %s AND attribute = %s", (self.job, attribute)
            )
            with conn.cursor().copy(
                "COPY nblabel.proposals (job, attribute, item, value, confidence) FROM STDIN"
            ) as copy:
                for item, value, conf in proposals:
                    copy.write_row((self.job, attribute, item, json.dumps(value), conf))
            conn.execute("DELETE FROM nblabel.queue WHERE job = %s AND attribute = %s", (self.job, attribute))
            with conn.cursor().copy("COPY nblabel.queue (job, attribute, rank, item) FROM STDIN") as copy:
                for rank, item in enumerate(queue):
                    copy.write_row((self.job, attribute, rank, item))
            for row in rows:
                self._insert(conn, row)
            return number

        return self._run("write to", work, write=True)

    def latest_round(self, attribute: str) -> tuple[int, dict[str, Any]] | None:
        """The newest round's number and report, or None before the first round."""
        rows = self._read(
            "SELECT round, report FROM nblabel.rounds WHERE job = %s AND attribute = %s"
            " ORDER BY round DESC LIMIT 1",
            (self.job, attribute),
        )
        return None if not rows else (int(rows[0][0]), json.loads(rows[0][1]))

    def proposals(self, attribute: str) -> dict[str, tuple[Any, float]]:
        """The latest round's proposal (value, confidence) for every item it proposed for."""
        rows = self._read(
            "SELECT item, value, confidence FROM nblabel.proposals WHERE job = %s AND attribute = %s",
            (self.job, attribute),
        )
        return {item: (json.loads(value), conf) for item, value, conf in rows}

    def queue(self, attribute: str) -> list[str]:
        """The latest round's order of items for people."""
        rows = self._read(
            "SELECT item FROM nblabel.queue WHERE job = %s AND attribute = %s ORDER BY rank",
            (self.job, attribute),
        )
        return [r[0] for r in rows]

    def get_meta(self, key: str) -> str | None:
        """A job-level setting, or None."""
        rows = self._read("SELECT value FROM nblabel.meta WHERE job = %s AND key = %s", (self.job, key))
        return None if not rows else rows[0][0]

    def set_meta(self, key: str, value: str) -> None:
        """Store a job-level setting."""
        self._run(
            "write to",
            lambda conn: conn.execute(
                "INSERT INTO nblabel.meta (job, key, value) VALUES (%s, %s, %s)"
                " ON CONFLICT (job, key) DO UPDATE SET value = EXCLUDED.value",
                (self.job, key, value),
            ),
            write=True,
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
        """Claim up to ``want`` candidates for a session; the job's claimers take turns on a
        lock, so two kernels asking at once get different items once an item's slots are taken.

        Claims are leases, so their commits do not wait for the disk (``synchronous_commit``
        off): a server crash may forget a claim, never an answer.
        """

        def work(conn: Any) -> list[str]:
            conn.execute("SET LOCAL synchronous_commit = off")
            conn.execute(
                "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))",
                (f"nblabel:claims:{self.job}:{attribute}",),
            )
            conn.execute(
                "DELETE FROM nblabel.claims WHERE job = %s AND attribute = %s AND expires <= now()",
                (self.job, attribute),
            )
            items = [*renew, *candidates]
            live = conn.execute(
                "SELECT item, annotator, session, expires FROM nblabel.claims"
                " WHERE job = %s AND attribute = %s AND item = ANY(%s)",
                (self.job, attribute, items),
            )
            answers = conn.execute(_SLOT_ANSWERS, (self.job, attribute, items, list(SLOT_KINDS)))
            held, granted = grant(
                candidates,
                renew,
                want=want,
                slots=slots,
                annotator=annotator,
                session=session,
                claims=[Claim(i, who, sess, exp.timestamp()) for i, who, sess, exp in live.fetchall()],
                answers=answers.fetchall(),
            )
            mine = [*held, *granted]
            if mine:
                conn.cursor().executemany(
                    "INSERT INTO nblabel.claims (job, attribute, item, session, annotator, expires)"
                    " VALUES (%s, %s, %s, %s, %s, now() + make_interval(secs => %s))"
                    " ON CONFLICT (job, attribute, item, session) DO UPDATE SET expires = EXCLUDED.expires",
                    [(self.job, attribute, item, session, annotator, ttl) for item in mine],
                )
            return granted

        return self._run("write to", work, write=True, pipeline=True)

    def claims(self, attribute: str) -> list[Claim]:
        """Every live claim on an attribute."""
        rows = self._read(
            "SELECT item, annotator, session, expires FROM nblabel.claims"
            " WHERE job = %s AND attribute = %s AND expires > now()",
            (self.job, attribute),
        )
        return [Claim(item, who, sess, expires.timestamp()) for item, who, sess, expires in rows]

    def close(self) -> None:
        """Close the database connection."""
        with self._lock:
            if self._conn is not None:
                self._conn.close()

    def __repr__(self) -> str:
        return f"PostgresStore({self.path!r})"
