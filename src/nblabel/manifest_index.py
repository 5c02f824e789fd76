"""A manifest opened lazily: each line's item key and byte offset first, its row when needed.

Reading a ten-million-line manifest into a DataFrame takes a Python object per cell and about
ten seconds; a job needs, to open and show its first item, only the item keys and where each
line starts. :func:`open_manifest` finds both with numpy over blocks of the raw bytes, for a
manifest in the plain form Ground Truth and nblabel write (every line starts with
``{"source-ref":"``, the reference holds no ``\\`` escape, the file holds no NUL byte and no
blank line); for any other manifest it returns None and the caller reads the whole file with
:func:`nblabel.manifest.read_manifest`, as before. The rest of each line is read, and checked,
when its row is asked for (:meth:`ManifestIndex.rows`, :meth:`ManifestIndex.chunks`).
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO, Any

import numpy as np
import pandas as pd

from nblabel.io import is_s3_uri
from nblabel.manifest import ManifestError, read_manifest

__all__ = ["ManifestIndex", "open_manifest"]

_PREFIX = b'{"source-ref":"'
_BLOCK_BYTES = 1 << 25  # read and scanned a block at a time: memory stays at a few blocks
_CHUNK_ROWS = 1 << 20  # rows per DataFrame of ManifestIndex.chunks


class ManifestIndex:
    """A manifest's item keys (its ``source-ref`` values) and line offsets, rows read on demand.

    Made by :func:`open_manifest`. ``keys[i]`` is line ``i``'s ``source-ref``; its bytes are
    ``offsets[i]:offsets[i + 1]`` of the file.

    Attributes
    ----------
    source
        The path or ``s3://`` URI.
    keys
        Each line's ``source-ref``, in file order.
    offsets
        ``len(keys) + 1`` byte offsets (numpy ``int64``).
    may_climb
        False when no line holds ``..`` or ``%`` (so no reference can climb out of a folder).
    metadata
        False when no line holds ``-metadata"`` (so no line has a label an earlier job wrote).
    """

    def __init__(
        self, source: str, keys: list[str], offsets: np.ndarray, may_climb: bool, metadata: bool, client: Any
    ) -> None:
        self.source = source
        self.keys = keys
        self.offsets = offsets
        self.may_climb = may_climb
        self.metadata = metadata
        self._client = client

    def __len__(self) -> int:
        return len(self.keys)

    def _read(self, start: int, stop: int) -> bytes:
        if is_s3_uri(self.source):
            from nblabel.io.s3 import read_range

            return read_range(self.source, start, stop, client=self._client)
        with Path(self.source).open("rb") as fh:
            fh.seek(start)
            return fh.read(stop - start)

    def rows(self, positions: Sequence[int]) -> pd.DataFrame:
        """The rows at ``positions`` as a manifest DataFrame indexed by position (the columns
        those lines have).

        Raises
        ------
        nblabel.manifest.ManifestError
            One of the lines is not a valid manifest line.
        """
        positions = [int(p) for p in positions]
        lines = [self._read(int(self.offsets[p]), int(self.offsets[p + 1])) for p in positions]
        data = b"".join(line if line.endswith(b"\n") else line + b"\n" for line in lines)
        try:
            frame = read_manifest(_Named(data, self.source))
        except ManifestError as exc:  # named by its line in the file, not in the lines read
            raise ManifestError(exc.source, positions[exc.line - 1] + 1, exc.reason) from None
        frame.index = pd.Index(positions)
        return frame

    def chunks(self, rows: int = _CHUNK_ROWS) -> Iterator[pd.DataFrame]:
        """The whole manifest as DataFrames of ``rows`` rows, in order (indexed by position)."""
        for start in range(0, len(self.keys), rows):
            stop = min(start + rows, len(self.keys))
            frame = read_manifest(
                _Named(self._read(int(self.offsets[start]), int(self.offsets[stop])), self.source)
            )
            frame.index = pd.RangeIndex(start, stop)
            yield frame

    def to_dataframe(self) -> pd.DataFrame:
        """The whole manifest, as :func:`~nblabel.manifest.read_manifest` reads it."""
        return read_manifest(self.source, client=self._client)

    def mentions(self, text: str) -> bool:
        """Whether the file holds ``text`` (as UTF-8 bytes) anywhere: False proves no line has
        a key or value spelled so (without escapes)."""
        needle = text.encode("utf-8")
        with _open(self.source, self._client) as fh:
            tail = b""
            while block := fh.read(_BLOCK_BYTES):
                if needle in tail + block[: len(needle)] or needle in block:
                    return True
                tail = block[-len(needle) :]
        return False


class _Named(io.BytesIO):
    """Bytes read back as lines of the file they came from (errors name the file)."""

    def __init__(self, data: bytes, name: str) -> None:
        super().__init__(data)
        self.name = name


def _open(source: str, client: Any) -> IO[bytes]:
    if is_s3_uri(source):
        from nblabel.io.s3 import open_reader

        return open_reader(source, client=client)
    return Path(source).open("rb")


def open_manifest(path: str | os.PathLike[str], *, client: Any = None) -> ManifestIndex | None:
    """Open a manifest lazily (see the module docstring), or None when it is not in the plain form.

    Parameters
    ----------
    path
        A path or an ``s3://bucket/key`` URI (streamed through :mod:`nblabel.io.s3`).
    client
        For ``s3://`` URIs: a boto3 S3 client; default from the standard AWS settings.
    """
    source = os.fspath(path)
    keys: list[str] = []
    offsets = [np.zeros(1, dtype=np.int64)]
    base, rest, may_climb, metadata, base_read = 0, b"", False, False, 0
    with _open(source, client) as fh:
        while True:
            data = fh.read(_BLOCK_BYTES)
            base_read += len(data)
            block = rest + data if data else rest + (b"\n" if rest else b"")  # the last line may lack "\n"
            if not block:
                break
            cut = block.rfind(b"\n") + 1
            rest, block = block[cut:], block[:cut]
            if block:
                found = _block_keys(block)
                if found is None:
                    return None
                keys.extend(found[0])
                offsets.append(found[1] + (base + 1))
                may_climb = may_climb or b".." in block or b"%" in block
                metadata = metadata or b'-metadata"' in block
                base += len(block)
            if not data:
                break
    ends = np.concatenate(offsets)
    if ends[-1] > base_read:  # the last line had no "\n": it ends with the file
        ends[-1] = base_read
    return ManifestIndex(source, keys, ends, may_climb, metadata, client)


def _block_keys(block: bytes) -> tuple[list[str], np.ndarray] | None:
    """The ``source-ref`` of each line of a block of whole lines and the lines' ends, or None
    when a line is not in the plain form."""
    lines = block.count(b"\n")
    # Every line starts with the prefix, and holds "source-ref" once (JSON keeps a repeated
    # key's last value: such a line needs the full reader).
    if (
        not block.startswith(_PREFIX)
        or block.count(b"\n" + _PREFIX) != lines - 1
        or block.count(b'"source-ref"') != lines
        or b"\x00" in block
    ):
        return None
    raw = np.frombuffer(block, dtype=np.uint8)
    ends = np.flatnonzero(raw == ord("\n"))
    starts = np.empty_like(ends)
    starts[0], starts[1:] = 0, ends[:-1] + 1
    starts += len(_PREFIX)
    quotes = np.flatnonzero(raw == ord('"'))
    at = np.searchsorted(quotes, starts)
    if at[-1] >= len(quotes):
        return None
    stops = quotes[at]  # the quote that closes each key
    if (stops >= ends).any():
        return None
    backslashes = np.flatnonzero(raw == ord("\\"))
    if (
        len(backslashes)
        and (np.searchsorted(backslashes, stops) != np.searchsorted(backslashes, starts)).any()
    ):
        return None  # an escape inside a key: the full reader decodes it
    # The keys' bytes, one per line: a mask over the block made of runs (outside, key, outside,
    # key, ...), newlines kept as separators.
    bounds = np.empty(2 * len(starts) + 2, dtype=np.int64)
    bounds[0], bounds[1:-1:2], bounds[2:-1:2], bounds[-1] = 0, starts, stops, len(raw)
    runs = np.zeros(len(bounds) - 1, dtype=bool)
    runs[1::2] = True
    inside = np.repeat(runs, np.diff(bounds))
    inside[ends] = True
    try:
        text = raw[inside].tobytes().decode("utf-8")
    except UnicodeDecodeError:
        return None
    return text.split("\n")[:-1], ends
