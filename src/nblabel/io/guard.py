"""The one gate for local files named by data or by a message.

A manifest, a GT worker-response folder or a shared project folder may come from someone else,
and a widget message may be forged. Every local file such data names (a ``source-ref``, a mask
to adjust or verify, a custom template's ``grant_read_access`` value, an imported answer's mask)
is opened here, never with a bare ``open()``:

- **the path rule** (:meth:`FileGuard.refusal`): with ``media_root``, a local path must resolve
  (symlinks followed, relative paths from the working folder) inside it; without, a path with a
  ``..`` part is refused. Absolute paths are allowed without ``media_root``: a user's own
  images by absolute path are normal, and what is read is decoded as an image or a mask, never
  shown as it is;
- **system files**: a path that resolves under ``/proc``, ``/sys`` or ``/dev`` is refused
  (``/proc/self/environ`` stats as a regular file and holds the kernel's credentials);
- **regular files only**: FIFOs, devices, sockets and folders are refused, checked on the open
  file itself (opened non-blocking, so a FIFO cannot hang the caller);
- **bounded reads**: a file larger than the caller's cap is refused before it is read;
- **embedding** (:meth:`FileGuard.embed`, ``grant_read_access``): a file whose bytes go into the
  page as they are must be an image, audio, video or PDF by its bytes, or plain text with a text
  name (``.txt``, ``.csv``, ``.tsv``, ``.md``) outside hidden folders; ``file://`` URIs are
  refused there.

Every refusal is a :class:`MediaError` (a ``ValueError``) naming the reference and the cause.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any
from urllib.parse import unquote, urlparse

__all__ = [
    "CHECKED",
    "EMBED_BYTES",
    "IMAGE_BYTES",
    "MASK_BYTES",
    "FileGuard",
    "MediaError",
    "check_local_refs",
    "local_path",
    "sniff",
]

#: The most nblabel reads of one image (a 16-bit TIFF of 16k x 16k is 1.5 GiB; photos are MBs).
IMAGE_BYTES = 1 << 30
#: The most it reads of one mask PNG.
MASK_BYTES = 256 << 20
#: The most ``grant_read_access`` puts into a page as a ``data:`` URL.
EMBED_BYTES = 50 << 20
#: Folders whose files are the system's, never data (resolved paths).
SYSTEM_FOLDERS = ("/proc", "/sys", "/dev")
TEXT_SUFFIXES = (".txt", ".csv", ".tsv", ".md")


class MediaError(ValueError):
    """A file nblabel cannot or will not read (an item's media, a mask, a file to embed);
    ``ref`` is the reference as the data gave it, ``reason`` says why in a person's words."""

    def __init__(self, ref: str, reason: str) -> None:
        self.ref = ref
        self.reason = reason
        super().__init__(f"{ref}: {reason}")


def local_path(ref: str) -> Path:
    """The local file a reference names (a path, a ``file://`` or an ``s3://`` URI), unchecked.

    An ``s3://`` object is fetched into the media cache first (network I/O on a miss). Use
    :meth:`FileGuard.open` to read it.

    Raises
    ------
    MediaError
        The reference is a scheme nblabel cannot read, or the S3 object cannot be fetched (the
        reason says why: no such object, access denied, throttled, connection cut, ...).
    """
    parsed = urlparse(ref)
    if parsed.scheme in ("", "file") or (len(parsed.scheme) == 1 and os.name == "nt"):
        return Path(unquote(parsed.path) if parsed.scheme == "file" else ref)
    if parsed.scheme.lower() == "s3":
        from nblabel.io.s3 import S3Error, default_media_cache

        try:
            return default_media_cache().path(ref)
        except (S3Error, ValueError) as exc:
            raise MediaError(ref, f"cannot fetch from S3: {getattr(exc, 'reason', exc)}") from exc
        except OSError as exc:  # the cache folder: disk full, permissions
            raise MediaError(ref, f"cannot store the image in the media cache: {exc}") from exc
    raise MediaError(ref, f"cannot read {parsed.scheme}:// sources yet")


class FileGuard:
    """The file rule of one job (see the module): where its local files may come from.

    Parameters
    ----------
    media_root
        The folder local files must lie in; None: anywhere but through ``..`` (see the module).
    checked
        The references read through this guard were checked against the path rule already (a
        job's ``source-ref`` column, when the job was made): only the file itself is checked.
        For code that reads them without the job, such as the auto-labeler's worker.
    root_name
        What refusals call ``media_root`` (``"the worker-response folder"``).
    """

    def __init__(
        self,
        media_root: str | os.PathLike[str] | None = None,
        *,
        checked: bool = False,
        root_name: str = "media_root",
    ) -> None:
        self.media_root = media_root
        self.checked = checked
        self.root_name = root_name
        self._root = None if media_root is None else os.path.realpath(os.fspath(media_root))

    def __repr__(self) -> str:
        return f"FileGuard(media_root={self.media_root!r})"

    # -- the path rule ----------------------------------------------------------------------

    def refusal(self, ref: str) -> str | None:
        """Why the path rule refuses a reference (a sentence starting with it), or None.

        No file is opened: this is the cheap check of whole columns (``s3://`` always passes).
        """
        # Cheap tests first (urlparse costs microseconds, a million refs take seconds): without a
        # root only a ".." can fail, and "%" is how a file:// URI could spell one.
        root = self._root
        if (root is None and ".." not in ref and "%" not in ref) or ref.startswith("s3://"):
            return None
        parsed = urlparse(ref)
        if parsed.scheme not in ("", "file"):
            return None
        path = unquote(parsed.path) if parsed.scheme == "file" else ref
        if root is None:
            if ".." in Path(path).parts:
                return (
                    f"{ref!r} climbs out of its folder with '..'; nblabel refuses such paths unless you "
                    "name the folder files may come from: Job(..., media_root=FOLDER)"
                )
        elif os.path.commonpath([root, os.path.realpath(path)]) != root:
            return f"{ref!r} is outside {self.root_name} {os.fspath(self.media_root)!r}"  # type: ignore[arg-type]
        return None

    def check(self, refs: Sequence[Any], what: str = "source-ref") -> None:
        """Refuse a column of references whose paths break the rule, naming the first row.

        Values that are not strings are left to the caller's own type check.

        Raises
        ------
        ValueError
            ``row N: <what> <why>``.
        """
        if self._root is None and not _may_climb(refs):
            return
        for row, ref in enumerate(refs):
            if isinstance(ref, str) and (why := self.refusal(ref)):
                raise ValueError(f"row {row}: {what} {why}")

    # -- reading ----------------------------------------------------------------------------

    def open(self, ref: str, limit: int = IMAGE_BYTES) -> IO[bytes]:
        """Open the regular file a reference names for reading, under the rule (see the module).

        Raises
        ------
        MediaError
            The rule refuses it, it is missing, a system file, not a regular file, or larger
            than ``limit`` bytes; the reason says which.
        """
        why = None if self.checked else self.refusal(ref)
        if why:
            raise MediaError(ref, why.removeprefix(f"{ref!r} "))
        path = local_path(ref)
        real = os.path.realpath(path)
        if any(real == top or real.startswith(top + "/") for top in SYSTEM_FOLDERS):
            raise MediaError(ref, f"{real} is a system file, not data")
        try:
            # Non-blocking: opening a FIFO for reading would otherwise wait for a writer. No
            # following: a symlink swapped in after realpath() is refused, not followed.
            flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOFOLLOW", 0)
            fd = os.open(real, flags | getattr(os, "O_BINARY", 0))
        except FileNotFoundError:
            raise MediaError(ref, f"file not found: {path}") from None
        except PermissionError:
            raise MediaError(ref, f"permission denied: {path}") from None
        except OSError as exc:
            raise MediaError(ref, f"cannot open {path}: {exc.strerror or exc}") from None
        try:
            info = os.fstat(fd)  # the opened file itself: no swap between a check and the open
            if not stat.S_ISREG(info.st_mode):
                raise MediaError(ref, f"{path} is {_kind(info.st_mode)}, not a regular file")
            if info.st_size > limit:
                raise MediaError(
                    ref,
                    f"{path} is {info.st_size:,} bytes, more than the {limit:,} nblabel reads of one file",
                )
            if hasattr(os, "set_blocking"):
                os.set_blocking(fd, True)
            return os.fdopen(fd, "rb")
        except BaseException:
            os.close(fd)
            raise

    def read(self, ref: str, limit: int = IMAGE_BYTES) -> bytes:
        """The bytes of the file a reference names, under the rule; at most ``limit`` bytes.

        Raises
        ------
        MediaError
            As :meth:`open`, or the file grew past ``limit`` while it was read.
        """
        with self.open(ref, limit) as fh:
            data = fh.read(limit + 1)
        if len(data) > limit:
            raise MediaError(ref, f"more than the {limit:,} bytes nblabel reads of one file")
        return data

    def embed(self, ref: str, limit: int = EMBED_BYTES) -> tuple[str, bytes]:
        """(media type sniffed from the bytes, bytes) of a file to put into a page as it is.

        Raises
        ------
        MediaError
            As :meth:`read`; a ``file://`` URI; or the bytes are not an image, audio, video or
            PDF, nor plain text with a text name outside hidden folders.
        """
        if urlparse(ref).scheme == "file":
            raise MediaError(ref, "file:// URIs are not embedded; name the file by its path")
        data = self.read(ref, limit)
        mime = sniff(data)
        if mime is None:
            real = Path(os.path.realpath(local_path(ref)))
            hidden = any(part.startswith(".") for part in real.parts)
            if real.suffix.lower() in TEXT_SUFFIXES and not hidden and _plain_text(data):
                mime = "text/plain;charset=utf-8"
            else:
                raise MediaError(
                    ref,
                    "is not an image, audio, video or PDF file by its bytes, nor plain text named "
                    f"{'/'.join(TEXT_SUFFIXES)} outside hidden folders; only those are embedded",
                )
        return mime, data


#: For source-refs a job has checked against its ``media_root`` (the auto-labeler's worker reads
#: them in another process, without the job): the files themselves are still checked.
CHECKED = FileGuard(checked=True)


def check_local_refs(refs: Sequence[Any], media_root: str | os.PathLike[str] | None = None) -> None:
    """Refuse ``source-ref`` paths that climb out of where the user allowed files to come from.

    :meth:`FileGuard.check` with a guard for ``media_root``: a manifest from someone else could
    name ``../../home/you/.ssh/id_rsa`` and have the widget show it.

    Raises
    ------
    ValueError
        Naming the first offending row, its reference and how to allow it.
    """
    FileGuard(media_root).check(refs)


def _may_climb(refs: Sequence[Any]) -> bool:
    """False when no ref can hold a ".." part: one substring search over all of them at once."""
    try:
        joined = "\n".join(refs)
    except TypeError:  # some ref is not a string: look at each
        return True
    return ".." in joined or "%" in joined


def _kind(mode: int) -> str:
    for test, name in (
        (stat.S_ISDIR, "a folder"),
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    ):
        if test(mode):
            return name
    return "a special file"


# The signatures of the media types a page may embed, by their first bytes.
_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"II*\x00", "image/tiff"),
    (b"MM\x00*", "image/tiff"),
    (b"%PDF-", "application/pdf"),
    (b"OggS", "audio/ogg"),
    (b"fLaC", "audio/flac"),
    (b"\x1aE\xdf\xa3", "video/webm"),
)
_CONTROL = re.compile(rb"[\x00-\x08\x0b\x0e-\x1f\x7f]")
_RIFF = {b"WEBP": "image/webp", b"WAVE": "audio/wav", b"AVI ": "video/x-msvideo"}
_FTYP = {b"avif": "image/avif", b"heic": "image/heic", b"M4A ": "audio/mp4", b"qt  ": "video/quicktime"}


def sniff(data: bytes) -> str | None:
    """The media type of an image, audio, video or PDF file by its first bytes, else None."""
    for signature, mime in _SIGNATURES:
        if data.startswith(signature):
            return mime
    if data[:2] == b"BM" and len(data) >= 6 and int.from_bytes(data[2:6], "little") == len(data):
        return "image/bmp"  # "BM" and the file's own length: not a text that starts with "BM"
    if data[:3] == b"ID3" and len(data) > 3 and data[3] in (2, 3, 4):
        return "audio/mpeg"
    if data[:4] == b"RIFF" and data[8:12] in _RIFF:
        return _RIFF[data[8:12]]
    if data[4:8] == b"ftyp":  # ISO base media: MP4, MOV, M4A, AVIF, HEIC
        return _FTYP.get(data[8:12], "video/mp4")
    if len(data) > 1 and data[0] == 0xFF and data[1] & 0xE0 == 0xE0:  # an MPEG audio frame
        return "audio/mpeg"
    return None


def _plain_text(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return _CONTROL.search(data) is None
