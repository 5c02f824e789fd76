"""Every store write is one transaction that any failure rolls back, on SQLite and PostgreSQL.

A write that fails (a value the store cannot hold, an unexpected exception in the middle, the
database refusing) must leave the store as it was, writable by every other kernel, and the
SQLite connection at ``synchronous=FULL``. Values the stores cannot hold are refused the same way
by both, before any transaction starts, as :class:`UnstorableValue` (a ``ValueError``: a widget
answer that meets one is rejected, not retried).
"""

from __future__ import annotations

import sqlite3
from typing import Any

import pytest
from store_helpers import Backend

from nblabel.store import Annotation, SQLiteStore, Store
from nblabel.store.base import MAX_META_CHARS, MAX_VALUE_CHARS, UnstorableValue

pytest_plugins = ["pg_fixtures"]


@pytest.fixture
def store(backend: Backend):
    s = backend.open()
    yield s
    s.close()


def _in_transaction(store: Store) -> bool:
    if isinstance(store, SQLiteStore):
        return store._db.in_transaction
    import psycopg

    conn = store._conn
    return (
        conn is not None
        and not conn.closed
        and conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE
    )


def assert_released(store: Store, backend: Backend) -> None:
    """The store is outside any transaction, another connection can write at once, and the
    store itself can write again (SQLite: still committing with a full fsync)."""
    assert not _in_transaction(store)
    if backend.kind == "sqlite":
        other = sqlite3.connect(backend.spec, timeout=0, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")  # "database is locked" at once if the store held it
            other.execute("ROLLBACK")
        finally:
            other.close()
        assert isinstance(store, SQLiteStore)
        assert store._db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    else:
        with backend.sql() as db:
            db.execute("SET lock_timeout = '1s'")
            db.execute("INSERT INTO meta (job, key, value) VALUES ('other', 'probe', 'x')")
    stored = store.append([Annotation("after", "x", "ana", "human", "cat")])
    assert len(stored) == 1


SURROGATE = "\ud800"


@pytest.mark.parametrize(
    ("field", "annotation"),
    [
        ("item", Annotation(f"img{SURROGATE}.jpg", "x", "ana", "human", "cat", uid="u")),
        ("value", Annotation("a.jpg", "x", "ana", "human", f"c{SURROGATE}t", uid="u")),
        ("value", Annotation("a.jpg", "x", "ana", "human", {"nested": [SURROGATE]}, uid="u")),
        ("annotator", Annotation("a.jpg", "x", f"ana{SURROGATE}", "human", "cat", uid="u")),
        ("uid", Annotation("a.jpg", "x", "ana", "human", "cat", uid=f"u{SURROGATE}")),
        ("item", Annotation("a\x00.jpg", "x", "ana", "human", "cat", uid="u")),
        ("uid", Annotation("a.jpg", "x", "ana", "human", "cat", uid="u\x00")),
    ],
)
def test_unstorable_text_is_refused_and_releases_the_store(
    store: Store, backend: Backend, field: str, annotation: Annotation
) -> None:
    store.append([Annotation("a.jpg", "x", "ana", "human", "dog", uid="before")])
    good = Annotation("b.jpg", "x", "ana", "human", "cat", uid="good")
    with pytest.raises(UnstorableValue, match=field) as info:
        store.append([good, annotation])  # all or nothing: the good one is not stored either
    assert isinstance(info.value, ValueError)
    assert "surrogate" in str(info.value) or "NUL" in str(info.value)
    assert [a.uid for a in store.annotations()] == ["before"]
    assert_released(store, backend)


@pytest.mark.parametrize(
    ("annotation", "reason"),
    [
        (Annotation("a.jpg", "x", "ana", "human", float("inf"), uid="u"), "not storable JSON"),
        (Annotation("a.jpg", "x", "ana", "human", {"w": float("nan")}, uid="u"), "not storable JSON"),
        (Annotation("a.jpg", "x", "ana", "human", {1j}, uid="u"), "not storable JSON"),
        (Annotation("a.jpg", "x", "ana", "human", "c" * (MAX_VALUE_CHARS + 1), uid="u"), "more than"),
        (Annotation("a.jpg", "x", "ana", "auto", "cat", confidence=float("nan"), uid="u"), "finite"),
        (Annotation(["a.jpg"], "x", "ana", "human", "cat", uid="u"), "item must be a string"),  # type: ignore[arg-type]
        (
            Annotation("a.jpg", "x", "ana", "human", "cat", uid="u", meta=["asked"]),
            "meta must be a JSON object",
        ),  # type: ignore[arg-type]
        (
            Annotation("a.jpg", "x", "ana", "human", "cat", uid="u", meta={1: "x"}),
            "meta must be a JSON object",
        ),  # type: ignore[dict-item]
        (
            Annotation("a.jpg", "x", "ana", "human", "cat", uid="u", meta={"t": float("nan")}),
            "meta is not storable",
        ),
        (
            Annotation("a.jpg", "x", "ana", "human", "cat", uid="u", meta={"t": "x" * MAX_META_CHARS}),
            "more than",
        ),
        (Annotation("a.jpg", "x", "ana", "human", "cat", uid="u", meta={"t": SURROGATE}), "surrogate"),
    ],
)
def test_values_no_store_can_keep_are_refused(
    store: Store, backend: Backend, annotation: Annotation, reason: str
) -> None:
    with pytest.raises(UnstorableValue, match=reason):
        store.append([annotation])
    assert list(store.annotations()) == []
    assert_released(store, backend)


def test_meta_is_kept_with_its_annotation(store: Store) -> None:
    meta = {
        "asked": {"how": "random", "p": 0.25},
        "timing": {"timeSpentInSeconds": 3.5},
        "worker": {"workerId": "ä"},
    }
    store.append([Annotation("a.jpg", "x", "ana", "human", "cat", uid="m", meta=meta)])
    store.append([Annotation("b.jpg", "x", "ana", "skip", uid="n")])
    assert {a.uid: a.meta for a in store.annotations()} == {"m": meta, "n": None}


class Boom(Exception):
    """Stands for any exception a store does not expect, raised in the middle of a write."""


def test_any_exception_inside_a_write_rolls_it_back(store: Store, backend: Backend, monkeypatch) -> None:
    store.append([Annotation("a.jpg", "x", "ana", "human", "dog", uid="before")])
    from nblabel.store import sqlite as module

    owner: Any = module if isinstance(store, SQLiteStore) else store
    insert = owner._insert
    calls = []

    def explode(*args: Any) -> Any:
        calls.append(args)
        if len(calls) == 2:  # the second insert of the batch: the first is in the transaction
            raise Boom("in the middle")
        return insert(*args)

    monkeypatch.setattr(owner, "_insert", explode)
    batch = [Annotation(f"{i}.jpg", "x", "ana", "human", "cat") for i in range(3)]
    with pytest.raises(Boom):
        store.append(batch)
    monkeypatch.undo()
    assert [a.uid for a in store.annotations()] == ["before"]
    assert_released(store, backend)


def test_keyboard_interrupt_during_claims_restores_full_sync(tmp_path, monkeypatch) -> None:
    """A claim commits at synchronous=NORMAL; interrupted half-way, the connection goes back to
    FULL after the rollback (not inside the failed transaction, where SQLite ignores it)."""
    store = SQLiteStore(tmp_path / "s.sqlite")
    from nblabel.store import sqlite as module

    def interrupt(*args: Any, **kwargs: Any) -> Any:
        raise KeyboardInterrupt

    monkeypatch.setattr(module, "grant", interrupt)
    with pytest.raises(KeyboardInterrupt):
        store.claim("x", "ana", "s1", ["a", "b"], want=1, slots=1, ttl=60)
    monkeypatch.undo()
    assert_released(store, Backend("sqlite", str(tmp_path / "s.sqlite")))
    assert store.claim("x", "ana", "s1", ["a", "b"], want=1, slots=1, ttl=60) == ["a"]
    store.close()


def test_a_failed_round_is_rolled_back(store: Store, backend: Backend) -> None:
    store.save_round("x", {"n": 1}, [("a.jpg", "cat", 0.9)], ["b.jpg"], [])
    with pytest.raises(UnstorableValue, match="surrogate"):
        store.save_round(
            "x",
            {"n": 2},
            [("b.jpg", "dog", 0.5)],
            ["a.jpg"],
            [Annotation("b.jpg", "x", "auto:m", "auto", SURROGATE, confidence=0.5)],
        )
    assert store.latest_round("x") == (1, {"n": 1, "round": 1})
    assert store.proposals("x") == {"a.jpg": ("cat", 0.9)}
    assert_released(store, backend)


class RollbackFails:
    """A SQLite connection whose ROLLBACK fails, as it can after an I/O error."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def execute(self, sql: str, *args: Any) -> Any:
        if sql == "ROLLBACK":
            raise sqlite3.OperationalError("disk I/O error")
        return self.conn.execute(sql, *args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.conn, name)


def test_a_failed_rollback_closes_the_connection_and_the_next_write_reopens_it(tmp_path, monkeypatch) -> None:
    store = SQLiteStore(tmp_path / "s.sqlite")
    from nblabel.store import sqlite as module

    def explode(*args: Any) -> Any:
        raise Boom("in the middle")

    store._conn = RollbackFails(store._conn)  # type: ignore[assignment]
    monkeypatch.setattr(module, "_insert", explode)
    with pytest.raises(Boom):
        store.append([Annotation("a.jpg", "x", "ana", "human", "cat")])
    monkeypatch.undo()
    assert store._conn is None  # closed: closing released SQLite's lock
    assert_released(store, Backend("sqlite", str(tmp_path / "s.sqlite")))
    store.close()
