"""The annotation stores: append-only, idempotent, durable, and loud when they cannot write.

Contract tests run against both stores (the ``backend`` fixture: SQLite, and a real PostgreSQL
server); the rest test what only one of them has (SQLite's file and journal, PostgreSQL's URL).
"""

from __future__ import annotations

import multiprocessing
import os
import re
import socket
import sqlite3
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from store_helpers import Backend

from nblabel.store import Annotation, PostgresStore, SQLiteStore, Store, new_uid, open_store, utc_now

pytest_plugins = ["pg_fixtures"]


@pytest.fixture
def store(backend: Backend):
    s = backend.open()
    yield s
    s.close()


def _count(backend: Backend) -> int:
    return int(backend.scalar("SELECT COUNT(*) FROM annotations"))


def test_append_and_read_back_every_field(store: Store) -> None:
    human = Annotation(
        "img/1.jpg",
        "pets",
        "ana",
        "human",
        {"nested": ["ünïcode", 1, 2.5, None]},
        confidence=0.25,
        uid="uid-human",
        created="2024-01-02T03:04:05.123456",
    )
    retract = Annotation("img/1.jpg", "pets", "ana", "retract", target="uid-human", uid="uid-retract")
    stored = store.append([human, retract])
    assert [a.uid for a in stored] == ["uid-human", "uid-retract"]
    assert stored[0].seq >= 1
    assert stored[1].seq > stored[0].seq

    back = list(store.annotations())
    assert back == stored  # dataclass equality: every field, including seq
    h, r = back
    assert (h.item, h.attribute, h.annotator, h.kind) == ("img/1.jpg", "pets", "ana", "human")
    assert h.value == {"nested": ["ünïcode", 1, 2.5, None]}
    assert h.confidence == 0.25
    assert h.created == "2024-01-02T03:04:05.123456"
    assert h.target is None
    assert (r.kind, r.target, r.value, r.confidence) == ("retract", "uid-human", None, None)


def test_list_and_string_values_round_trip(store: Store) -> None:
    store.append([Annotation("a", "x", "ana", "human", ["cat", "dog"], uid="1")])
    store.append([Annotation("b", "x", "ana", "human", "cat", uid="2")])
    store.append([Annotation("c", "x", "ana", "human", [], uid="3")])
    assert [a.value for a in store.annotations()] == [["cat", "dog"], "cat", []]


def test_same_uid_is_stored_once(store: Store, backend: Backend) -> None:
    a = Annotation("a", "x", "ana", "human", "cat", uid="same")
    assert len(store.append([a])) == 1
    assert store.append([a]) == []
    # a different value under the same uid is still the same (already stored) answer
    assert store.append([replace(a, value="dog")]) == []
    assert _count(backend) == 1
    assert [x.value for x in store.annotations()] == ["cat"]


def test_duplicate_uid_within_one_batch(store: Store, backend: Backend) -> None:
    a = Annotation("a", "x", "ana", "human", "cat", uid="dup")
    b = Annotation("b", "x", "ana", "human", "dog")
    stored = store.append([a, a, b])
    assert [s.uid for s in stored] == ["dup", b.uid]
    assert _count(backend) == 2


def test_annotations_filter_by_attribute_and_seq(store: Store) -> None:
    first = store.append([Annotation("a", "x", "ana", "human", "cat")])[0]
    store.append([Annotation("a", "y", "ana", "human", "dog")])
    third = store.append([Annotation("b", "x", "ana", "skip")])[0]
    assert [a.uid for a in store.annotations("x")] == [first.uid, third.uid]
    assert [a.uid for a in store.annotations("x", after=first.seq)] == [third.uid]
    assert [a.attribute for a in store.annotations()] == ["x", "y", "x"]
    assert list(store.annotations("x", after=third.seq)) == []


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE annotations SET value = '\"dog\"'",
        "UPDATE annotations SET kind = 'retract', target = 'x'",
        "DELETE FROM annotations",
        "DELETE FROM annotations WHERE uid = 'keep'",
    ],
)
def test_log_is_append_only_at_the_database_level(store: Store, backend: Backend, sql: str) -> None:
    store.append([Annotation("a", "x", "ana", "human", "cat", uid="keep")])
    with backend.sql() as db, pytest.raises(backend.errors, match="append-only"):
        db.execute(sql)
    assert [(a.uid, a.value, a.kind) for a in store.annotations()] == [("keep", "cat", "human")]


def test_reopening_keeps_annotations_and_meta(backend: Backend) -> None:
    s = backend.open()
    a = s.append([Annotation("a", "x", "ana", "human", "cat")])[0]
    s.set_meta("task:x", "{}")
    s.close()
    again = backend.open()
    assert list(again.annotations()) == [a]
    assert again.get_meta("task:x") == "{}"
    again.close()


def test_two_connections_see_each_others_appends_in_log_order(backend: Backend) -> None:
    one, two = backend.open(), backend.open()
    first = one.append([Annotation("a", "x", "ana", "human", "cat")])[0]
    second = two.append([Annotation("b", "x", "bo", "human", "dog")])[0]
    assert second.seq > first.seq
    assert [a.uid for a in one.annotations("x")] == [first.uid, second.uid]
    assert [a.uid for a in two.annotations("x", after=first.seq)] == [second.uid]
    one.close()
    two.close()


def test_meta_set_overwrites_and_missing_is_none(store: Store) -> None:
    assert store.get_meta("nope") is None
    store.set_meta("k", "1")
    store.set_meta("k", "2")
    assert store.get_meta("k") == "2"


def test_wal_mode_and_full_sync_are_on(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "job.sqlite")
    assert store._db.execute("PRAGMA journal_mode").fetchone()[0].lower() == "wal"
    assert store._db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    # WAL is a property of the file: another connection sees it too
    with sqlite3.connect(store.path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0].lower() == "wal"
    # a claim commits without the fsync, and puts FULL back for the answers that follow
    store.claim("x", "ana", "s", ["a"], want=1, slots=1, ttl=60)
    assert store._db.execute("PRAGMA synchronous").fetchone()[0] == 2
    store.close()


def test_folder_is_created(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "c.sqlite"
    SQLiteStore(path).close()
    assert path.is_file()


def test_file_in_place_of_folder_is_an_oserror_naming_the_store(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("I am a file")
    path = blocker / "job.sqlite"
    with pytest.raises(OSError, match="cannot open the nblabel store") as info:
        SQLiteStore(path)
    assert str(path) in str(info.value)


def test_unwritable_folder_is_an_oserror_naming_the_store(tmp_path: Path) -> None:
    if os.geteuid() == 0:
        # root writes through chmod 0o500; /proc refuses new files even to root
        path = Path("/proc/self/nblabel-store.sqlite")
    else:
        folder = tmp_path / "ro"
        folder.mkdir()
        folder.chmod(0o500)
        path = folder / "job.sqlite"
    try:
        with pytest.raises(OSError, match="cannot open the nblabel store") as info:
            SQLiteStore(path)
        assert str(path) in str(info.value)
        assert not path.exists()
    finally:
        if os.geteuid() != 0:
            (tmp_path / "ro").chmod(0o700)


def _refuse_writes(store: Store, refuse: bool) -> None:
    """Make the store's own connection read-only (or writable again), as a full disk would."""
    if isinstance(store, SQLiteStore):
        store._db.execute(f"PRAGMA query_only = {'ON' if refuse else 'OFF'}")
    else:
        assert isinstance(store, PostgresStore)
        store._conn.execute(f"SET default_transaction_read_only = {'on' if refuse else 'off'}")


def test_failed_append_is_an_oserror_and_stores_nothing(store: Store) -> None:
    store.append([Annotation("a", "x", "ana", "human", "cat", uid="before")])
    _refuse_writes(store, True)  # the database refuses writes from now on
    batch = [Annotation("b", "x", "ana", "human", "dog"), Annotation("c", "x", "ana", "skip")]
    with pytest.raises(OSError, match="cannot write to the nblabel store") as info:
        store.append(batch)
    assert str(store.path) in str(info.value)
    _refuse_writes(store, False)
    assert [a.uid for a in store.annotations()] == ["before"]
    # the store is usable again once the disk is
    assert [a.uid for a in store.append(batch)] == [a.uid for a in batch]


def test_open_store_default_path_is_under_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    s = open_store(None, "pets")
    assert Path(s.path) == Path(".nblabel") / "pets.sqlite"
    assert (tmp_path / ".nblabel" / "pets.sqlite").is_file()
    s.close()
    explicit = open_store(str(tmp_path / "elsewhere.sqlite"), "pets")
    assert Path(explicit.path) == tmp_path / "elsewhere.sqlite"
    explicit.close()


def test_annotation_rejects_unknown_kind_and_targetless_retraction() -> None:
    with pytest.raises(ValueError, match="unknown annotation kind 'label'"):
        Annotation("a", "x", "ana", "label", "cat")
    with pytest.raises(ValueError, match="must name the annotation it takes back"):
        Annotation("a", "x", "ana", "retract")


def test_uids_are_unique_and_timestamps_use_gt_spelling() -> None:
    assert len({new_uid() for _ in range(1000)}) == 1000
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}", utc_now())
    a, b = Annotation("a", "x", "ana", "skip"), Annotation("a", "x", "ana", "skip")
    assert a.uid != b.uid
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}", a.created)


# -- PostgreSQL only ----------------------------------------------------------------------------


def test_postgres_refuses_truncate_too(pg_database: str) -> None:
    backend = Backend("postgres", pg_database)
    store = backend.open()
    store.append([Annotation("a", "x", "ana", "human", "cat", uid="keep")])
    with backend.sql() as db, pytest.raises(backend.errors, match="append-only"):
        db.execute("TRUNCATE annotations")
    assert [a.uid for a in store.annotations()] == ["keep"]
    store.close()


def test_postgres_url_opens_the_jobs_rows_and_jobs_keep_apart(pg_url: str) -> None:
    pets = open_store(pg_url, f"pets-{new_uid()}")
    birds = open_store(pg_url.replace("postgresql://", "postgres://"), f"birds-{new_uid()}")
    assert isinstance(pets, PostgresStore) and isinstance(birds, PostgresStore)
    assert str(pets.path) == f"{pg_url}#{pets.job}"
    # the same uid in two jobs is two answers (an import into two jobs), each stored once
    assert len(pets.append([Annotation("a", "x", "ana", "human", "cat", uid="same")])) == 1
    assert len(birds.append([Annotation("a", "x", "bo", "human", "owl", uid="same")])) == 1
    assert pets.append([Annotation("a", "x", "ana", "human", "cat", uid="same")]) == []
    assert [a.value for a in pets.annotations()] == ["cat"]
    assert [a.value for a in birds.annotations()] == ["owl"]
    pets.set_meta("k", "pets")
    assert birds.get_meta("k") is None
    pets.close()
    birds.close()


def test_unreachable_postgres_is_an_oserror_without_the_password() -> None:
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"postgresql://ana:s3cret@127.0.0.1:{port}/labels"
    with pytest.raises(OSError, match="cannot open the nblabel store") as info:
        open_store(url, "pets")
    assert f"postgresql://ana:***@127.0.0.1:{port}/labels#pets" in str(info.value)
    assert "s3cret" not in str(info.value)


def _open_when_released(url: str, job: str, release: Any, results: Any) -> None:
    """Child process: wait for the release, open the store on a fresh database, report."""
    release.wait()
    try:
        store = open_store(url, job)
        store.append([Annotation("a", "x", job, "human", "cat")])
        store.close()
        results.put("ok")
    except OSError as exc:
        results.put(str(exc))


def test_many_kernels_create_the_postgres_schema_at_once(pg_database: str) -> None:
    ctx = multiprocessing.get_context("fork")
    url = pg_database
    release, results = ctx.Event(), ctx.Queue()
    procs = [ctx.Process(target=_open_when_released, args=(url, f"k{i}", release, results)) for i in range(6)]
    for p in procs:
        p.start()
    release.set()
    outcomes = [results.get(timeout=60) for _ in procs]
    for p in procs:
        p.join(60)
    assert outcomes == ["ok"] * 6
    assert int(Backend("postgres", url).scalar("SELECT COUNT(*) FROM annotations")) == 6


def test_a_broken_connection_is_an_oserror_then_reconnects(pg_url: str) -> None:
    store = open_store(pg_url, f"j-{new_uid()}")
    assert isinstance(store, PostgresStore)
    with Backend("postgres", pg_url).sql() as db:  # the server ends the store's session
        db.execute("SELECT pg_terminate_backend(%s)", (store._conn.info.backend_pid,))
    with pytest.raises(OSError, match="cannot write to the nblabel store"):
        store.append([Annotation("a", "x", "ana", "human", "cat", uid="lost")])
    # the next call reconnects; the re-sent answer is stored once
    assert [a.uid for a in store.append([Annotation("a", "x", "ana", "human", "cat", uid="lost")])] == [
        "lost"
    ]
    assert [a.uid for a in store.annotations()] == ["lost"]
    store.close()


def test_without_postgres_the_tests_skip_but_fail_in_ci(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    plugin = request.config.pluginmanager.get_plugin("pg_fixtures")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="PostgreSQL tests cannot run in CI: no binaries"):
        plugin._unavailable("no binaries")
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception, match="PostgreSQL tests skipped: no binaries"):
        plugin._unavailable("no binaries")
