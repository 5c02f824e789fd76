"""A store says what it is: nblabel opens its own stores (older ones too) and refuses, naming the
file, another application's SQLite file or a store written by a newer nblabel. The log is
append-only against every client, ``INSERT OR REPLACE`` included."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pandas as pd
import pytest
from store_helpers import Backend

from nblabel import ImageClassification, Job
from nblabel.store import Annotation, SQLiteStore, Store
from nblabel.store import postgres as pg
from nblabel.store.base import StoreFormatError
from nblabel.store.sqlite import APPLICATION_ID, SCHEMA_VERSION

pytest_plugins = ["pg_fixtures"]

SCHEMA1 = Path(__file__).resolve().parents[2] / "data" / "stores" / "pets-schema1.sql"
SCHEMA2 = SCHEMA1.with_name("pets-schema2.sql")


def _pragmas(path: Path) -> tuple[int, int]:
    db = sqlite3.connect(path)
    try:
        return db.execute("PRAGMA application_id").fetchone()[0], db.execute(
            "PRAGMA user_version"
        ).fetchone()[0]
    finally:
        db.close()


def test_a_new_store_carries_the_application_id_and_version(tmp_path: Path) -> None:
    SQLiteStore(tmp_path / "s.sqlite").close()
    assert _pragmas(tmp_path / "s.sqlite") == (APPLICATION_ID, SCHEMA_VERSION)


def test_a_store_of_the_previous_release_opens_and_is_upgraded(tmp_path: Path) -> None:
    """pets-schema1.sql is a store the code at 3eaf38b wrote (dumped as SQL text)."""
    path = tmp_path / ".nblabel" / "pets.sqlite"
    path.parent.mkdir()
    db = sqlite3.connect(path)
    db.executescript(SCHEMA1.read_text())
    db.close()
    assert _pragmas(path) == (0, 0)
    df = pd.DataFrame({"source-ref": ["a.jpg", "b.jpg", "c.jpg"]})
    job = Job("pets", df, ImageClassification(["cat", "dog"]), store=path, annotator="ana")
    assert job.progress.labeled == 1 and job.progress.skipped == 1
    assert job.log.current(job.keys[0]).uid == "u-a"
    assert job.log.current(job.keys[1]) is None  # u-b was taken back
    assert _pragmas(path) == (APPLICATION_ID, SCHEMA_VERSION)
    job.label(1, "cat")
    assert job.progress.labeled == 2
    job.store.close()
    # an older release, which reads only the meta row, now refuses it instead of writing to it
    db = sqlite3.connect(path)
    assert db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone() == (
        str(SCHEMA_VERSION),
    )
    db.close()


def test_a_store_of_schema_2_opens_and_gains_the_meta_column(tmp_path: Path) -> None:
    """pets-schema2.sql is a store the code at 83ab677 wrote (dumped as SQL text, pragmas kept)."""
    path = tmp_path / "pets.sqlite"
    db = sqlite3.connect(path)
    db.executescript(SCHEMA2.read_text())
    db.close()
    assert _pragmas(path) == (APPLICATION_ID, 2)
    df = pd.DataFrame({"source-ref": ["a.jpg", "b.jpg", "c.jpg"]})
    job = Job("pets", df, ImageClassification(["cat", "dog"]), store=path, annotator="ana")
    assert _pragmas(path) == (APPLICATION_ID, SCHEMA_VERSION)
    assert job.progress.labeled == 1 and job.progress.skipped == 1
    assert job.log.current(job.keys[0]).meta is None  # answers from before say nothing
    job.log.label(job.keys[1], "dog", meta={"timing": {"timeSpentInSeconds": 2.5}})
    assert job.log.current(job.keys[1]).meta == {"timing": {"timeSpentInSeconds": 2.5}}
    job.store.close()
    again = SQLiteStore(path)  # reopening an upgraded store leaves it as it is
    assert [a.meta for a in again.annotations()][-1] == {"timing": {"timeSpentInSeconds": 2.5}}
    again.close()


def test_another_applications_sqlite_file_is_refused_and_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "notes.sqlite"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
    db.execute("INSERT INTO notes (body) VALUES ('mine')")
    db.commit()
    db.close()
    before = path.read_bytes()
    with pytest.raises(StoreFormatError, match=r"not an nblabel store \(it holds the tables notes\)") as info:
        SQLiteStore(path)
    assert str(path) in str(info.value)
    assert path.read_bytes() == before  # not switched to WAL, no tables added
    assert not Path(f"{path}-wal").exists()


def test_a_file_with_another_application_id_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.sqlite"
    db = sqlite3.connect(path)
    db.execute("PRAGMA application_id = 1598903374")  # 0x5f4d544e, someone else's
    db.close()
    with pytest.raises(StoreFormatError, match=r"another application \(SQLite application id 0x5f4d544e\)"):
        SQLiteStore(path)


def test_a_store_of_a_newer_release_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    SQLiteStore(path).close()
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.close()
    with pytest.raises(
        StoreFormatError, match=f"newer nblabel \\(store schema {SCHEMA_VERSION + 1};"
    ) as info:
        SQLiteStore(path)
    assert str(path) in str(info.value)


def test_a_postgres_database_of_a_newer_release_is_refused(pg_database: str) -> None:
    pg.PostgresStore(pg_database, "job").close()
    backend = Backend("postgres", pg_database)
    assert backend.scalar("SELECT value FROM meta WHERE job = '' AND key = 'schema_version'") == str(
        pg.SCHEMA_VERSION
    )
    with backend.sql() as db:
        db.execute("UPDATE meta SET value = '99' WHERE job = '' AND key = 'schema_version'")
    with pytest.raises(StoreFormatError, match=r"newer nblabel \(store schema 99;"):
        pg.PostgresStore(pg_database, "other")


def test_a_postgres_database_from_before_the_version_row_opens(pg_database: str) -> None:
    store = pg.PostgresStore(pg_database, "job")
    store.append([Annotation("a", "x", "ana", "human", "cat", uid="kept")])
    store.close()
    backend = Backend("postgres", pg_database)
    with backend.sql() as db:  # as the previous release left it: per-job rows only
        db.execute("DELETE FROM meta WHERE job = ''")
    again = pg.PostgresStore(pg_database, "job")
    assert [a.uid for a in again.annotations()] == ["kept"]
    assert backend.scalar("SELECT value FROM meta WHERE job = '' AND key = 'schema_version'") == str(
        pg.SCHEMA_VERSION
    )
    again.close()


def test_a_postgres_database_of_the_previous_release_is_upgraded(pg_database: str) -> None:
    """Schema 1 had no meta column: its answers open with meta None, and new ones keep theirs."""
    store = pg.PostgresStore(pg_database, "job")
    store.append([Annotation("a", "x", "ana", "human", "cat", uid="old")])
    store.close()
    backend = Backend("postgres", pg_database)
    with backend.sql() as db:  # as schema 1 left it
        db.execute("ALTER TABLE annotations DROP COLUMN meta")
        db.execute("UPDATE meta SET value = '1' WHERE key = 'schema_version'")
    again = pg.PostgresStore(pg_database, "job")
    again.append([Annotation("b", "x", "ana", "human", "dog", uid="new", meta={"asked": {"how": "random"}})])
    assert {a.uid: a.meta for a in again.annotations()} == {"old": None, "new": {"asked": {"how": "random"}}}
    assert backend.scalar("SELECT value FROM meta WHERE job = '' AND key = 'schema_version'") == "2"
    assert backend.scalar("SELECT value FROM meta WHERE job = 'job' AND key = 'schema_version'") == "2"
    again.close()


@pytest.fixture
def store(backend: Backend):
    s = backend.open()
    yield s
    s.close()


def test_insert_or_replace_cannot_rewrite_the_log(store: Store, backend: Backend) -> None:
    store.append([Annotation("a", "x", "ana", "human", "cat", uid="keep")])
    seq = next(iter(store.annotations())).seq
    if backend.kind == "sqlite":
        attempts = [
            "INSERT OR REPLACE INTO annotations (uid, item, attribute, annotator, kind, value, created)"
            " VALUES ('keep', 'a', 'x', 'eve', 'human', '\"dog\"', 'now')",
            f"REPLACE INTO annotations (seq, uid, item, attribute, annotator, kind, value, created)"
            f" VALUES ({seq}, 'new', 'a', 'x', 'eve', 'human', '\"dog\"', 'now')",
        ]
    else:
        attempts = [
            "INSERT INTO annotations (job, uid, item, attribute, annotator, kind, value, created)"
            " VALUES ('job', 'keep', 'a', 'x', 'eve', 'human', '\"dog\"', 'now')"
            " ON CONFLICT (job, uid) DO UPDATE SET value = EXCLUDED.value",
        ]
    for sql in attempts:
        with backend.sql() as db, pytest.raises(backend.errors, match="append-only"):
            db.execute(sql)
    assert [(a.uid, a.value, a.annotator) for a in store.annotations()] == [("keep", "cat", "ana")]
    # and the store's own idempotent appends still work
    assert store.append([Annotation("a", "x", "ana", "human", "cat", uid="keep")]) == []
