"""AtomicFolder: one all-or-nothing folder writer for every export, locally and on S3 (a real
server with injected faults). GT's layout on top of it is tested in test_s3_export.py."""

from __future__ import annotations

import os
from pathlib import Path
from typing import IO

import pytest
from s3_helpers import keys, open_uploads

from nblabel.formats import from_coco, to_yolo
from nblabel.io.folders import AtomicFolder, ExportError, write_folder

pytest_plugins = ["s3_fixtures"]

COCO = {
    "images": [
        {"id": 1, "file_name": "a.jpg", "width": 10, "height": 10},
        {"id": 2, "file_name": "b.jpg", "width": 10, "height": 10},
    ],
    "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, 5, 5]}],
    "categories": [{"id": 1, "name": "car"}],
}


def test_a_local_folder_is_replaced_whole(tmp_path: Path) -> None:
    folder = write_folder(tmp_path / "out", {"a.txt": b"1", "sub/b.txt": b"2"})
    assert folder == tmp_path / "out" and (folder / "sub" / "b.txt").read_bytes() == b"2"
    with pytest.raises(FileExistsError, match="already holds an export"):
        write_folder(folder, {"c.txt": b"3"})
    write_folder(folder, {"c.txt": b"3"}, overwrite=True)
    assert sorted(str(p.relative_to(folder)) for p in folder.rglob("*")) == ["c.txt"]
    assert os.listdir(tmp_path) == ["out"]  # no staging or old folder left


def test_owned_sub_folders_are_replaced_and_the_rest_kept(tmp_path: Path) -> None:
    AtomicFolder(tmp_path / "job").write([("mine/a.json", b"old"), ("mine/b.json", b"old")])
    (tmp_path / "job" / "theirs.txt").write_text("not ours")
    folder = AtomicFolder(tmp_path / "job", overwrite=True, owned=["mine/", "last/"])
    written = folder.write([("mine/a.json", b"new")], last=("last/m.txt", lambda fh: fh.write(b"end")))
    assert written == 2
    files = {str(p.relative_to(tmp_path / "job")): p.read_bytes() for p in (tmp_path / "job").rglob("*.*")}
    assert files == {"mine/a.json": b"new", "theirs.txt": b"not ours", "last/m.txt": b"end"}
    with pytest.raises(ValueError, match=r"'theirs\.txt' lies outside the export's sub-folders"):
        folder.write([("theirs.txt", b"x")])
    assert (tmp_path / "job" / "theirs.txt").read_text() == "not ours"


def test_an_interrupted_local_write_leaves_nothing(tmp_path: Path) -> None:
    def interrupted(fh: IO[bytes]) -> None:
        fh.write(b"half")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        AtomicFolder(tmp_path / "out").write([("a.txt", b"1")], last=("m.txt", interrupted))
    assert os.listdir(tmp_path) == []


def test_a_failing_last_file_names_itself_and_leaves_nothing(tmp_path: Path) -> None:
    def broken(fh: IO[bytes]) -> None:
        raise ValueError("cannot serialize")

    folder = AtomicFolder(tmp_path / "out")
    with pytest.raises(ExportError) as info:
        folder.write([("a.txt", b"1")], last=("m.txt", broken))
    assert info.value.key == "m.txt" and info.value.destination == folder.label
    assert "ValueError: cannot serialize; nothing was moved into place" in info.value.reason
    assert os.listdir(tmp_path) == []


def test_yolo_to_s3_replaces_the_prefix_and_keeps_nothing_stale(s3_env, bucket: str, s3_direct) -> None:
    df, labels = from_coco(COCO, "coco")
    uri = f"s3://{bucket}/yolo/"
    assert to_yolo(df, "coco", uri, labels=labels) == uri
    assert keys(s3_direct, bucket) == ["yolo/a.txt", "yolo/b.txt", "yolo/classes.txt"]
    got = s3_direct.get_object(Bucket=bucket, Key="yolo/a.txt")
    assert got["Body"].read() == b"0 0.250000 0.250000 0.500000 0.500000\n"
    assert got["ContentType"] == "text/plain"
    with pytest.raises(FileExistsError, match="already there"):
        to_yolo(df, "coco", uri, labels=labels)
    to_yolo(df.iloc[:1], "coco", uri, labels=labels, overwrite=True)
    assert keys(s3_direct, bucket) == ["yolo/a.txt", "yolo/classes.txt"]


def test_a_failing_s3_object_removes_what_was_written(s3_env, bucket: str, s3_direct) -> None:
    files = [(f"f{i:02}.txt", b"x") for i in range(20)]
    s3_env.inject(method="PUT", path="/f13.txt", status=500, code="InternalError", times=-1)
    folder = AtomicFolder(f"s3://{bucket}/out")
    with pytest.raises(ExportError) as info:
        folder.write(files)
    assert info.value.key == "f13.txt" and "InternalError" in info.value.reason
    assert info.value.destination == f"s3://{bucket}/out/"
    assert keys(s3_direct, bucket) == [] and open_uploads(s3_direct, bucket) == []


# -- issue 17: names built from data stay inside; a failed overwrite puts the old export back ----


@pytest.mark.parametrize("key", ["../escaped.png", "a/../../escaped.png", "/abs.png", "a//b.png", "a\\..\\b"])
def test_a_file_name_that_would_land_outside_is_refused_before_anything_is_written(
    tmp_path: Path, key: str
) -> None:
    with pytest.raises(ValueError, match="would land outside the export folder"):
        AtomicFolder(tmp_path / "out").write([("ok.txt", b"1"), (key, b"2")])
    assert os.listdir(tmp_path) == []


def _export(folder: Path, content: bytes) -> None:
    files = [("mine/a.json", content), ("other/b.json", content)]
    AtomicFolder(folder, overwrite=True, owned=["mine/", "other/", "last/"]).write(
        files, last=("last/m.txt", lambda fh: fh.write(content))
    )


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


@pytest.mark.parametrize("failure", [OSError(28, "No space left on device"), KeyboardInterrupt()])
def test_an_overwrite_failing_while_moving_into_place_puts_the_old_export_back(
    tmp_path: Path, monkeypatch, failure: BaseException
) -> None:
    folder = tmp_path / "job"
    _export(folder, b"old")
    (folder / "theirs.txt").write_text("not ours")
    before = _files(folder)
    real_rename, calls = os.rename, []

    def rename(source: object, target: object) -> None:
        calls.append(target)
        if len(calls) == 4:  # mine/ and other/ moved away, mine/ moved in: fail on other/
            raise failure
        real_rename(source, target)

    monkeypatch.setattr("nblabel.io.folders.os.rename", rename)
    with pytest.raises(type(failure)) as info:
        _export(folder, b"new")
    monkeypatch.undo()
    assert _files(folder) == before  # not a mix of old and new, nothing lost
    assert sorted(os.listdir(tmp_path)) == ["job"]  # no staging, no hidden copy of the old files
    if isinstance(failure, OSError):
        assert isinstance(info.value, ExportError)
        assert info.value.reason.endswith(f"the previous export in {folder}{os.sep} was put back as it was")


def test_an_overwrite_that_cannot_put_back_says_where_the_old_files_are(tmp_path: Path, monkeypatch) -> None:
    folder = tmp_path / "job"
    _export(folder, b"old")
    real_rename, calls = os.rename, []

    def rename(source: object, target: object) -> None:
        calls.append(target)
        if len(calls) >= 4:  # the failing move, and every move back
            raise OSError(5, "Input/output error")
        real_rename(source, target)

    monkeypatch.setattr("nblabel.io.folders.os.rename", rename)
    with pytest.raises(ExportError) as info:
        _export(folder, b"new")
    monkeypatch.undo()
    reason = info.value.reason
    assert "0 of the 3 folders moved were put back" in reason
    trash = next(p for p in tmp_path.iterdir() if p.name.startswith(".job.old-"))
    assert f"the previous export's remaining files are in {trash}" in reason
    assert _files(trash) == {"mine/a.json": b"old", "other/b.json": b"old"}
