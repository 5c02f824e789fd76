"""Folders of files written whole or not at all, to a local folder or under an S3 prefix.

Every export that writes a folder (Ground Truth's output layout, YOLO, Pascal VOC, masks) writes
it through :class:`AtomicFolder`:

- locally, the files go to a hidden staging folder beside the destination, reach the disk
  (``fsync``), and are moved into place at the end;
- on S3, every object is written whole (a failed multipart upload is aborted), small objects
  several at a time, and when any write fails the objects already written are deleted again.

A file given as ``last`` (GT's output manifest, which is what SageMaker and GT's tools read) is
written after every other one, and on S3 conditionally (``If-None-Match: *``) unless
``overwrite``, so an export that finished meanwhile is noticed rather than replaced. With
``overwrite``, ``owned`` names the sub-folders the export replaces; anything else in the folder
is left alone (without ``owned`` the whole folder is replaced).
"""

from __future__ import annotations

import logging
import mimetypes
import os
import secrets
import shutil
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from pathlib import Path, PurePosixPath
from typing import IO, Any

from nblabel.io import is_s3_uri
from nblabel.io.progress import Progress
from nblabel.io.s3 import (
    S3Error,
    S3ObjectExists,
    S3Writer,
    default_client,
    delete_keys,
    list_keys,
    parse_s3_uri,
)

__all__ = ["AtomicFolder", "ExportError", "image_stem", "write_folder"]

log = logging.getLogger(__name__)

_PARALLEL = 8  # concurrent S3 uploads of small objects

#: Writes a file's content to the open binary stream it is given.
Fill = Callable[[IO[bytes]], Any]


class ExportError(OSError):
    """An export that failed; names the destination, the file that failed and the cause.

    Raised by every folder export (:class:`AtomicFolder`), after what it had written was removed.

    Attributes
    ----------
    destination
        The export's folder.
    key
        The file, relative to ``destination``, that could not be written (None if the failure
        was not about one file).
    reason
        The cause in words, plus what was cleaned up.
    """

    def __init__(self, destination: str, key: str | None, reason: str) -> None:
        self.destination = destination
        self.key = key
        self.reason = reason
        where = f" while writing {key}" if key else ""
        super().__init__(f"export to {destination} failed{where}: {reason}")


def image_stem(rows: Iterable[tuple[int, str]]) -> dict[int, str]:
    """The file stem of each row's image (``source-ref``), named after the image.

    Raises
    ------
    ValueError
        Two rows name images with the same stem (their files would collide).
    """
    out: dict[int, str] = {}
    seen: dict[str, int] = {}
    for row, ref in rows:
        stem = PurePosixPath(ref.split("?")[0]).stem or f"row{row}"
        if stem in seen:
            raise ValueError(
                f"rows {seen[stem]} and {row} both name an image {stem!r}; exported files are named "
                "after the image, so image names must be unique"
            )
        seen[stem] = row
        out[row] = stem
    return out


class _Local:
    """Files in a staging folder beside the destination, moved into place at commit."""

    def __init__(self, folder: str | os.PathLike[str], owned: Sequence[str] | None, overwrite: bool) -> None:
        self.root = Path(os.fspath(folder)).expanduser()
        self.parent = self.root.parent
        self.label = str(self.root) + os.sep
        self.owned = owned
        self.overwrite = overwrite
        self.staging: Path | None = None
        #: What a failed export leaves behind, in words (see :func:`_put_back`).
        self.left = "nothing was moved into place"

    def _taken(self) -> bool:
        return self.root.exists() and any(self.root.iterdir())

    def begin(self) -> None:
        if not self.overwrite and self._taken():
            raise FileExistsError(f"{self.label} already holds an export (pass overwrite=True to replace it)")
        self.parent.mkdir(parents=True, exist_ok=True)
        self.staging = self.parent / f".{self.root.name}.export-{secrets.token_hex(6)}"
        self.staging.mkdir()

    def write(self, key: str, fill: Fill, *, last: bool = False) -> None:
        assert self.staging is not None
        path = self.staging / key
        # The keys were checked (_check_keys); this is the last word on where a file lands.
        staging = os.path.realpath(self.staging)
        if os.path.commonpath([staging, os.path.realpath(path)]) != staging:
            raise ValueError(f"{key!r} would be written outside the export folder")
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as fh:
            fill(fh)

    def put(self, key: str, data: bytes) -> None:
        self.write(key, lambda fh: fh.write(data))

    def commit(self) -> None:
        assert self.staging is not None
        for path in self.staging.rglob("*"):  # the data reaches the disk before the move
            if path.is_file():
                with path.open("rb") as fh:
                    os.fsync(fh.fileno())
        if not self.root.exists():
            os.rename(self.staging, self.root)
            self.staging = None
            return
        if not self.overwrite and self._taken():
            raise FileExistsError(f"{self.label} appeared while the export was being written; not replaced")
        trash = self.parent / f".{self.root.name}.old-{secrets.token_hex(6)}"
        moved: list[tuple[Path, Path]] = []  # the renames done, undone in reverse on failure
        try:
            if self.owned is None:
                _move(self.root, trash, moved)
                _move(self.staging, self.root, moved)
            else:
                trash.mkdir()
                for owned in self.owned:  # in the given order: the caller puts what readers look at last
                    old, new = self.root / owned, self.staging / owned
                    if old.exists():
                        (trash / owned).parent.mkdir(parents=True, exist_ok=True)
                        _move(old, trash / owned, moved)
                    if new.exists():
                        old.parent.mkdir(parents=True, exist_ok=True)
                        _move(new, old, moved)
        except BaseException:  # an error or an interrupt: put the previous export back
            self.left = _put_back(moved, trash, self.label)
            raise
        if self.staging.exists():
            shutil.rmtree(self.staging, ignore_errors=True)
        shutil.rmtree(trash, ignore_errors=True)
        self.staging = None

    def rollback(self) -> str:
        if self.staging is not None:
            shutil.rmtree(self.staging, ignore_errors=True)
            self.staging = None
        return self.left

    def location(self, key: str) -> str:
        return str(self.root / key)


class _S3:
    """Objects under ``s3://bucket/prefix/``; deleted again on failure."""

    def __init__(self, folder: str, owned: Sequence[str] | None, overwrite: bool, client: Any) -> None:
        bucket, prefix = parse_s3_uri(folder)
        prefix = prefix.strip("/")
        self.bucket = bucket
        self.prefix = f"{prefix}/" if prefix else ""
        self.label = f"s3://{bucket}/{self.prefix}"
        self.owned = tuple(owned) if owned is not None else ("",)
        self.overwrite = overwrite
        self.client = client if client is not None else default_client()
        self.before: set[str] = set()
        self.written: list[str] = []

    def begin(self) -> None:
        if not self.overwrite:
            if next(iter(list_keys(self.label, client=self.client, limit=1)), None) is not None:
                raise S3ObjectExists(
                    self.label, "export to", "an export is already there (pass overwrite=True to replace it)"
                )
        else:
            self.before = {
                k
                for k in list_keys(self.label, client=self.client)
                if k[len(self.prefix) :].startswith(self.owned)
            }

    def _uri(self, key: str) -> str:
        return f"s3://{self.bucket}/{self.prefix}{key}"

    def write(self, key: str, fill: Fill, *, last: bool = False) -> None:
        # Only the last file is written conditionally: the prefix was empty when the export began.
        conditional = last and not self.overwrite
        with S3Writer(self._uri(key), overwrite=not conditional, client=self.client) as out:
            fill(out)
        self.written.append(self.prefix + key)

    def put(self, key: str, data: bytes) -> None:
        content_type = mimetypes.guess_type(key)[0] or "application/octet-stream"
        with S3Writer(self._uri(key), client=self.client, content_type=content_type, progress=False) as out:
            out.write(data)
        self.written.append(self.prefix + key)

    def commit(self) -> None:
        stale = self.before - set(self.written)
        if stale:
            failed = delete_keys(self.bucket, sorted(stale), client=self.client)
            if failed:
                log.warning(
                    "%s: %d files of the previous export could not be removed", self.label, len(failed)
                )

    def rollback(self) -> str:
        new = [k for k in self.written if k not in self.before]
        if not new:
            return "no object had been written"
        failed = delete_keys(self.bucket, new, client=self.client)
        if failed:
            return f"{len(new) - len(failed)} objects already written were removed, {len(failed)} could not be: {failed[:5]}"
        return f"the {len(new)} objects already written were removed"

    def location(self, key: str) -> str:
        return self._uri(key)


class AtomicFolder:
    """A folder written whole or not at all, locally or under an S3 prefix (see the module).

    Parameters
    ----------
    folder
        A local folder or an ``s3://bucket/prefix/`` URI.
    overwrite
        Replace what an earlier export wrote. Without it, a folder that holds anything is
        refused (``FileExistsError``; ``nblabel.io.s3.S3ObjectExists`` on S3).
    owned
        The sub-folders (``"manifests/output/"``) the export owns and writes into: replaced by
        ``overwrite``, locally in the order given. None: the whole folder.
    client
        A boto3 S3 client; default from the standard AWS settings.
    """

    def __init__(
        self,
        folder: str | os.PathLike[str],
        *,
        overwrite: bool = False,
        owned: Sequence[str] | None = None,
        client: Any = None,
    ) -> None:
        self.owned = tuple(owned) if owned is not None else None
        if is_s3_uri(folder):
            self._target: _Local | _S3 = _S3(str(folder), owned, overwrite, client)
        else:
            self._target = _Local(folder, owned, overwrite)

    @property
    def label(self) -> str:
        """The folder as messages name it, ending in a separator."""
        return self._target.label

    def location(self, key: str) -> str:
        """Where the file ``key`` (relative, ``/``-separated) will be once the folder is in place."""
        return self._target.location(key)

    def write(
        self,
        files: Sequence[tuple[str, bytes]],
        *,
        last: tuple[str, Fill] | None = None,
        progress: bool | None = False,
    ) -> int:
        """Write ``files`` (relative key, content), then ``last`` (key, a function writing its
        content to a stream); returns the number of files written.

        ``progress`` shows a bar over the files: None for large exports, True always.

        Raises
        ------
        ValueError
            A key lies outside the folder (``..``, absolute) or outside the owned sub-folders
            (nothing is written).
        FileExistsError
            The folder already holds files (and ``overwrite`` is False), or another export
            finished first while this one was written; its files are left alone.
        ExportError
            A file could not be written; what this export had written was removed again.
        """
        _check_keys([key for key, _ in [*files, *([last] if last else [])]])
        if self.owned is not None:
            outside = [
                key for key, _ in [*files, *([last] if last else [])] if not key.startswith(self.owned)
            ]
            if outside:
                raise ValueError(f"{outside[0]!r} lies outside the export's sub-folders {list(self.owned)}")
        target = self._target
        target.begin()
        total = len(files) + (last is not None)
        bar = Progress(f"export to {target.label}", total, unit="files", enabled=progress, threshold=500)
        try:
            self._put_all(files, bar)
            if last is not None:
                key, fill = last
                try:
                    target.write(key, fill, last=True)
                except FileExistsError:
                    raise
                except Exception as exc:
                    raise _Failed(key, exc) from exc
                bar.update(1)
            target.commit()
        except FileExistsError as exc:
            # Another export finished first: its files are in place; leave them alone.
            if isinstance(target, _Local):
                target.rollback()
            raise FileExistsError(
                f"{target.label}: another export was written meanwhile; not replaced ({exc})"
            ) from exc
        except Exception as exc:
            cleanup = target.rollback()
            failed = exc if isinstance(exc, _Failed) else None
            reason = failed.reason if failed else f"{type(exc).__name__}: {exc}"
            raise ExportError(target.label, failed.key if failed else None, f"{reason}; {cleanup}") from (
                failed.cause if failed else exc
            )
        except BaseException:  # an interrupt: nothing half-written stays behind either
            target.rollback()
            raise
        finally:
            bar.close()
        return total

    def _put_all(self, files: Sequence[tuple[str, bytes]], bar: Progress) -> None:
        """Write the files (several at a time on S3); raises :class:`_Failed` naming the file."""
        target = self._target
        if isinstance(target, _Local):
            for key, data in files:
                try:
                    target.put(key, data)
                except Exception as exc:
                    raise _Failed(key, exc) from exc
                bar.update(1)
            return
        with ThreadPoolExecutor(max_workers=_PARALLEL, thread_name_prefix="nblabel-export") as pool:
            pending: dict[Future[None], str] = {}
            for key, data in files:
                pending[pool.submit(target.put, key, data)] = key
                if len(pending) >= 4 * _PARALLEL:  # bounded: a million files are not all queued at once
                    _collect(pending, bar, wait(pending, return_when=FIRST_COMPLETED).done)
            _collect(pending, bar, wait(pending).done)


def write_folder(
    folder: str | os.PathLike[str], files: Mapping[str, bytes], *, overwrite: bool = False, client: Any = None
) -> Path | str:
    """Write ``files`` (relative key to content) as the whole of ``folder``, all or nothing.

    Returns the folder: its ``Path``, or its ``s3://`` URI.

    Raises
    ------
    FileExistsError
        The folder holds files and ``overwrite`` is False.
    ExportError
        A file could not be written; nothing of this write is left behind.
    """
    AtomicFolder(folder, overwrite=overwrite, client=client).write(list(files.items()))
    return str(folder) if is_s3_uri(folder) else Path(os.fspath(folder)).expanduser()


def _move(source: Path, target: Path, moved: list[tuple[Path, Path]]) -> None:
    os.rename(source, target)
    moved.append((source, target))


def _put_back(moved: list[tuple[Path, Path]], trash: Path, label: str) -> str:
    """Undo an export's renames, last first; says what is left (the message of the error)."""
    failed = []
    for source, target in reversed(moved):
        try:
            os.rename(target, source)
        except OSError as exc:
            failed.append(f"{target} -> {source}: {exc}")
    if failed:
        return (
            f"{len(moved) - len(failed)} of the {len(moved)} folders moved were put back; "
            f"{'; '.join(failed)}; the previous export's remaining files are in {trash}"
        )
    shutil.rmtree(trash, ignore_errors=True)
    if not moved:
        return "nothing was moved into place"
    return f"the previous export in {label} was put back as it was"


def _check_keys(keys: Iterable[str]) -> None:
    """Refuse a file name that would land outside the export's folder (``..``, absolute, empty
    parts): names are built from data (an item's position, an answer's date)."""
    for key in keys:
        parts = key.split("/")
        if key.startswith("/") or "\\" in key or "\0" in key or any(p in ("", ".", "..") for p in parts):
            raise ValueError(f"the export file name {key!r} would land outside the export folder")


def _collect(pending: dict[Future[None], str], bar: Progress, done: set[Future[None]]) -> None:
    for future in done:
        key = pending.pop(future)
        exc = future.exception()
        if exc is not None:
            for other in pending:
                other.cancel()
            wait(pending)  # let uploads in flight end, so that the rollback sees every written key
            raise _Failed(key, exc) from exc
        bar.update(1)


class _Failed(Exception):
    """A file of the export could not be written."""

    def __init__(self, key: str, cause: BaseException) -> None:
        self.key = key
        self.cause = cause
        self.reason = str(cause) if isinstance(cause, S3Error) else f"{type(cause).__name__}: {cause}"
        super().__init__(f"{key}: {self.reason}")
