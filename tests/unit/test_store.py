"""The SQLite annotation store: append-only, idempotent, durable, and loud when it cannot write."""

from __future__ import annotations

import os
import re
import sqlite3
from dataclasses import replace
from pathlib import Path

import pytest

from nblabel.store import Annotation, SQLiteStore, new_uid, open_store, utc_now
from nblabel.store.sqlite import SCHEMA_VERSION


@pytest.fixture
def store(tmp_path: Path):
    s = SQLiteStore(tmp_path / "db" / "job.sqlite")
    yield s
    s.close()


def _count(path: Path) -> int:
    with sqlite3.connect(path) as db:
        return db.execute("SELECT COUNT(*) FROM annotations").fetchone()[0]


def test_append_and_read_back_every_field(store: SQLiteStore) -> None:
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


def test_list_and_string_values_round_trip(store: SQLiteStore) -> None:
    store.append([Annotation("a", "x", "ana", "human", ["cat", "dog"], uid="1")])
    store.append([Annotation("b", "x", "ana", "human", "cat", uid="2")])
    store.append([Annotation("c", "x", "ana", "human", [], uid="3")])
    assert [a.value for a in store.annotations()] == [["cat", "dog"], "cat", []]


def test_same_uid_is_stored_once(store: SQLiteStore) -> None:
    a = Annotation("a", "x", "ana", "human", "cat", uid="same")
    assert len(store.append([a])) == 1
    assert store.append([a]) == []
    # a different value under the same uid is still the same (already stored) answer
    assert store.append([replace(a, value="dog")]) == []
    assert _count(store.path) == 1
    assert [x.value for x in store.annotations()] == ["cat"]


def test_duplicate_uid_within_one_batch(store: SQLiteStore) -> None:
    a = Annotation("a", "x", "ana", "human", "cat", uid="dup")
    b = Annotation("b", "x", "ana", "human", "dog")
    stored = store.append([a, a, b])
    assert [s.uid for s in stored] == ["dup", b.uid]
    assert _count(store.path) == 2


def test_annotations_filter_by_attribute_and_seq(store: SQLiteStore) -> None:
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
def test_log_is_append_only_at_the_sqlite_level(store: SQLiteStore, sql: str) -> None:
    store.append([Annotation("a", "x", "ana", "human", "cat", uid="keep")])
    with sqlite3.connect(store.path) as db, pytest.raises(sqlite3.DatabaseError, match="append-only"):
        db.execute(sql)
    assert [(a.uid, a.value, a.kind) for a in store.annotations()] == [("keep", "cat", "human")]


def test_schema_version_is_recorded(store: SQLiteStore) -> None:
    assert store.get_meta("schema_version") == SCHEMA_VERSION


def test_schema_version_mismatch_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    SQLiteStore(path).close()
    with sqlite3.connect(path) as db:
        db.execute("UPDATE meta SET value = '999' WHERE key = 'schema_version'")
    with pytest.raises(OSError, match=r"schema version 999.*reads " + re.escape(SCHEMA_VERSION)) as info:
        SQLiteStore(path)
    assert str(path) in str(info.value)


def test_reopening_keeps_annotations_and_meta(tmp_path: Path) -> None:
    path = tmp_path / "job.sqlite"
    s = SQLiteStore(path)
    a = s.append([Annotation("a", "x", "ana", "human", "cat")])[0]
    s.set_meta("task:x", "{}")
    s.close()
    again = SQLiteStore(path)
    assert list(again.annotations()) == [a]
    assert again.get_meta("task:x") == "{}"
    again.close()


def test_meta_set_overwrites_and_missing_is_none(store: SQLiteStore) -> None:
    assert store.get_meta("nope") is None
    store.set_meta("k", "1")
    store.set_meta("k", "2")
    assert store.get_meta("k") == "2"


def test_wal_mode_and_full_sync_are_on(store: SQLiteStore) -> None:
    assert store._db.execute("PRAGMA journal_mode").fetchone()[0].lower() == "wal"
    assert store._db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    # WAL is a property of the file: another connection sees it too
    with sqlite3.connect(store.path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0].lower() == "wal"


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


def test_failed_append_is_an_oserror_and_stores_nothing(store: SQLiteStore) -> None:
    store.append([Annotation("a", "x", "ana", "human", "cat", uid="before")])
    store._db.execute("PRAGMA query_only = ON")  # the database refuses writes from now on
    batch = [Annotation("b", "x", "ana", "human", "dog"), Annotation("c", "x", "ana", "skip")]
    with pytest.raises(OSError, match="cannot write to the nblabel store") as info:
        store.append(batch)
    assert str(store.path) in str(info.value)
    store._db.execute("PRAGMA query_only = OFF")
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
