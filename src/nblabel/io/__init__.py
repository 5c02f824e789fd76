"""Where nblabel's data lives: local files and Amazon S3 (or any S3-compatible server).

Everything here works on *locations*: a local path or an ``s3://bucket/key`` URI. Local writes
and S3 writes share one rule: an object is either written whole or not at all (a local file is
written aside and renamed; an S3 upload is one ``PutObject`` or a multipart upload that is
completed only at the end and aborted on any failure).

:mod:`nblabel.io.s3` imports boto3 only when an S3 location is first used, so ``import nblabel``
stays fast and works without AWS settings.
"""

from __future__ import annotations

import contextlib
import io
import os
import secrets
import shutil
from pathlib import Path
from types import TracebackType
from typing import IO, Any

__all__ = ["AtomicFile", "is_s3_uri", "open_writer"]


def is_s3_uri(location: Any) -> bool:
    """True when ``location`` is a string starting with ``s3://``."""
    return isinstance(location, str) and location[:5].lower() == "s3://"


class AllOrNothing(io.BufferedIOBase):
    """A writer that publishes its output only when closed without error.

    Subclasses implement ``close`` (commit) and ``abort`` (drop everything, idempotent). Used as
    a context manager it commits when the block succeeds and aborts when it raises; a writer
    dropped without being closed is aborted too (io.IOBase's ``__del__`` would commit it).
    """

    def abort(self) -> None:
        """Drop everything written; the destination is left as it was."""
        raise NotImplementedError

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()

    def __del__(self) -> None:
        with contextlib.suppress(Exception):
            self.abort()


class AtomicFile(AllOrNothing):
    """A local file written aside and moved into place when closed without error.

    Used as a context manager it commits when the block succeeds and removes the partial file
    when it raises; a writer dropped without being closed is aborted too. So a reader never
    sees half a file. Writing is binary.

    Parameters
    ----------
    path
        The final file. Its folder must exist.
    overwrite
        When False, refuse (``FileExistsError``) if ``path`` exists, both up front and at the
        final move (a file that appeared in the meantime is not replaced).
    """

    def __init__(self, path: str | os.PathLike[str], *, overwrite: bool = True) -> None:
        super().__init__()
        self.path = Path(os.fspath(path))
        self.overwrite = overwrite
        self._done = True  # until the temporary file exists, there is nothing to abort
        if not overwrite and self.path.exists():
            raise FileExistsError(f"{self.path} already exists (pass overwrite=True to replace it)")
        # Not tempfile.mkstemp: its 0600 mode would replace the file's usual (umask) permissions.
        self._tmp = self.path.with_name(f".{self.path.name}.{secrets.token_hex(8)}.tmp")
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
        self.file: IO[bytes] = os.fdopen(os.open(self._tmp, flags, 0o666), "wb")
        self._done = False

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        """Write bytes; returns how many."""
        return self.file.write(data)

    def tell(self) -> int:
        return self.file.tell()

    def flush(self) -> None:
        if not self._done:
            self.file.flush()

    def close(self) -> None:
        """Flush to disk and move the file into place (:meth:`commit`)."""
        if not self.closed:
            try:
                self.commit()
            finally:
                super().close()

    def commit(self) -> None:
        """Flush to disk and move the file into place."""
        if self._done:
            return
        self._done = True
        try:
            self.file.flush()
            os.fsync(self.file.fileno())
            self.file.close()
            if self.path.exists():
                if not self.overwrite:
                    raise FileExistsError(f"{self.path} appeared while it was being written; not replaced")
                shutil.copymode(self.path, self._tmp)  # replacing a file keeps its permissions
            if self.overwrite:
                os.replace(self._tmp, self.path)
            else:
                os.link(self._tmp, self.path)  # fails if the name was taken in the meantime
                self._tmp.unlink()
        except BaseException:
            self.file.close()
            self._tmp.unlink(missing_ok=True)
            raise

    def abort(self) -> None:
        """Remove the partial file; the destination is left as it was."""
        if not self._done:
            self._done = True
            self.file.close()
            self._tmp.unlink(missing_ok=True)
        if not self.closed:
            super().close()


def open_writer(
    location: str | os.PathLike[str],
    *,
    overwrite: bool = True,
    client: Any = None,
    progress: bool | None = None,
) -> Any:
    """A binary writer for a local path or an ``s3://`` URI that is all-or-nothing.

    Use it as a context manager: the object appears when the block ends without an error;
    on an error nothing appears (the partial file is removed, the multipart upload aborted).

    Parameters
    ----------
    location
        A local path or ``s3://bucket/key``.
    overwrite
        When False, refuse to replace an existing file or object (``FileExistsError``); on S3 the
        final write is conditional (``If-None-Match: *``) where the server supports it.
    client
        A boto3 S3 client for S3 locations; default: one from the standard AWS settings.
    progress
        Show a progress bar for S3 uploads: None shows one for long transfers, True always,
        False never.

    Returns
    -------
    AtomicFile or nblabel.io.s3.S3Writer
    """
    if is_s3_uri(location):
        from nblabel.io.s3 import S3Writer

        return S3Writer(str(location), overwrite=overwrite, client=client, progress=progress)
    return AtomicFile(location, overwrite=overwrite)
