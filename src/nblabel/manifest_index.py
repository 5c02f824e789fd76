"""A manifest opened lazily: each line's byte offset and item key first, its row when needed.

Reading a ten-million-line manifest into a DataFrame takes a Python object per cell and about
ten seconds; a job needs, to open and show its first item, only where each line starts and a way
to find an item by its key. :func:`open_manifest` finds both with numpy over blocks of the raw
bytes, for a manifest in the plain form Ground Truth and nblabel write (every line starts with
``{"source-ref":"``, the reference holds no ``\\`` escape, the file holds no NUL byte and no
blank line); for any other manifest it returns None and the caller reads the whole file with
:func:`nblabel.manifest.read_manifest`, as before. No Python object is made per line: the index
keeps three numpy arrays (line offsets, key lengths, and the keys' 64-bit hashes sorted with
their positions, the lookup), and reads a key's bytes from the file when it is asked for. The
rest of each line is read, and checked, when its row is asked for (:meth:`ManifestIndex.rows`,
:meth:`ManifestIndex.chunks`). An ``s3://`` manifest is copied to an unnamed temporary file (one
GET), then scanned and read from there.

Ten million lines open in about two seconds of CPU: the file is scanned in a few
ranges at once, one thread each (numpy releases the GIL in its passes over the bytes), each
block read in place with ``os.pread`` (no block is joined to the carried partial line), and the
byte searches that hold the GIL are kept to the few that are cheap (see :func:`_scan`).
"""

from __future__ import annotations

import io
import os
import shutil
import tempfile
import threading
import weakref
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from itertools import pairwise
from pathlib import Path
from typing import IO, Any, overload

import numpy as np
import pandas as pd

from nblabel.io import is_s3_uri
from nblabel.manifest import ManifestError, read_manifest

__all__ = ["ManifestIndex", "ManifestKeys", "open_manifest"]

_PREFIX = b'{"source-ref":"'
# Read and scanned a block at a time: memory stays at a few blocks per thread, and the per-line
# arrays of a 1 MB block (about 17,000 lines, 140 kB each) are reused by malloc from block to
# block and stay in the CPU's caches between numpy's passes (4 MB blocks took a third more CPU,
# much of it page faults of fresh arrays; 512 kB blocks a tenth more, in Python's overhead).
_BLOCK_BYTES = 1 << 20
_THREADS = max(1, min(4, os.cpu_count() or 1))  # ranges of a file scanned at once
_SHORTEST_ATTRIBUTE = len(b'","source-ref":0}')  # the fewest bytes a second attribute adds
_CHUNK_ROWS = 1 << 20  # rows per DataFrame of ManifestIndex.chunks
_KEY_CHUNK = 1 << 16  # keys decoded per read when iterating over them

_U64 = np.dtype("<u8")
_MUL = np.uint64(0x9E3779B97F4A7C15)
_SEED = np.uint64(0x243F6A8885A308D3)
_ONE, _EIGHT, _SIXTY_THREE, _SIXTY_FOUR = np.uint64(1), np.uint64(8), np.uint64(63), np.uint64(64)
_HEAD = np.frombuffer(_PREFIX[:8], dtype=_U64)[0], np.frombuffer(_PREFIX[7:15], dtype=_U64)[0]
_S3, _FIVE_BYTES = np.frombuffer(b"s3://\0\0\0", dtype=_U64)[0], np.uint64(0xFF_FFFF_FFFF)


class ManifestIndex:
    """A manifest's line offsets and item keys (its ``source-ref`` values), rows read on demand.

    Made by :func:`open_manifest`. Line ``i`` is bytes ``offsets[i]:offsets[i + 1]`` of the
    file, its ``source-ref`` the ``lengths[i]`` bytes after the 15 of ``{"source-ref":"``.

    Attributes
    ----------
    source
        The path or ``s3://`` URI.
    keys
        Each line's ``source-ref``, in file order (a sequence read from the file on demand).
    offsets
        ``len(keys) + 1`` byte offsets (numpy ``int64``).
    may_climb
        False when no ``source-ref`` other than an ``s3://`` URI (those never climb) holds
        ``..``, and no block of lines with such a reference holds ``%``: no reference can climb
        out of a folder.
    metadata
        False when no line has a ``...-metadata`` attribute (a label an earlier job wrote).
    unique
        Whether no ``source-ref`` is given twice.
    """

    def __init__(
        self,
        source: str,
        file: IO[bytes],
        offsets: np.ndarray,
        lengths: np.ndarray,
        lookup: np.ndarray,
        shift: int,
        same: np.ndarray,
        may_climb: bool,
        metadata: bool,
        *,
        client: Any,
    ) -> None:
        self.source = source
        self.offsets = offsets
        self.lengths = lengths
        self.may_climb = may_climb
        self.metadata = metadata
        self._file = file
        self._client = client
        weakref.finalize(self, file.close)
        # The lookup: each key's hash, its low ``shift`` bits replaced by the key's position,
        # sorted. Two keys whose hashes agree above those bits are told apart by their bytes.
        self._lookup = lookup
        self._low = np.uint64((1 << shift) - 1)
        self.keys = ManifestKeys(self)
        # Known before the index is handed out: Items numbers repeated keys, as a DataFrame's
        # are, when it is False.
        self.unique = self._unique(same)

    def __len__(self) -> int:
        return len(self.lengths)

    def _read(self, start: int, stop: int) -> bytes:
        return os.pread(self._file.fileno(), stop - start, start)

    def key(self, position: int) -> str:
        """The ``source-ref`` of line ``position`` (0-based)."""
        start = int(self.offsets[position]) + len(_PREFIX)
        return self._read(start, start + int(self.lengths[position])).decode("utf-8")

    def key_range(self, start: int, stop: int) -> list[str]:
        """The ``source-ref`` of lines ``start:stop``, read at once."""
        if stop <= start:
            return []
        base = int(self.offsets[start])
        data = self._read(base, int(self.offsets[stop]))
        heads = (self.offsets[start:stop] - (base - len(_PREFIX))).tolist()
        return [
            data[head : head + length].decode("utf-8")
            for head, length in zip(heads, self.lengths[start:stop].tolist(), strict=True)
        ]

    def position(self, key: str) -> int | None:
        """The position of the line whose ``source-ref`` is ``key`` (the first, when it repeats),
        or None."""
        try:
            data = key.encode("utf-8")
        except UnicodeEncodeError:
            return None
        if b'"' in data:
            return None
        words = _words(np.frombuffer(data + bytes(16), dtype=np.uint8))
        hashed = _hashes(words, np.zeros(1, dtype=np.int64), np.array([len(data)]))[0] & ~self._low
        at = int(np.searchsorted(self._lookup, hashed))
        found = []
        while at < len(self._lookup) and self._lookup[at] & ~self._low == hashed:
            position = int(self._lookup[at] & self._low)
            if self.lengths[position] == len(data) and self.key(position) == key:
                found.append(position)
            at += 1
        return min(found, default=None)

    def _unique(self, same: np.ndarray) -> bool:
        """Whether no key is given twice, ``same`` being where an entry of the lookup has the
        hash head of the next."""
        # Equal hash heads are rare (about n^2 / 2^(65 - shift) pairs): their keys are compared.
        seen: dict[int, set[str]] = {}
        for at in np.union1d(same, same + 1).tolist():
            keys = seen.setdefault(int(self._lookup[at] & ~self._low), set())
            key = self.key(int(self._lookup[at] & self._low))
            if key in keys:
                return False
            keys.add(key)
        return True

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
        """The whole manifest as DataFrames of ``rows`` rows, in order (indexed by position).

        Raises
        ------
        nblabel.manifest.ManifestError
            A line is not a valid manifest line (named by its line in the file).
        """
        for start in range(0, len(self), rows):
            stop = min(start + rows, len(self))
            data = self._read(int(self.offsets[start]), int(self.offsets[stop]))
            try:
                frame = read_manifest(_Named(data if data.endswith(b"\n") else data + b"\n", self.source))
            except ManifestError as exc:
                raise ManifestError(exc.source, start + exc.line, exc.reason) from None
            frame.index = pd.RangeIndex(start, stop)
            yield frame

    def to_dataframe(self) -> pd.DataFrame:
        """The whole manifest, as :func:`~nblabel.manifest.read_manifest` reads it."""
        return read_manifest(self.source, client=self._client)

    def mentions(self, text: str) -> bool:
        """Whether the file holds ``text`` (as UTF-8 bytes) anywhere: False proves no line has
        a key or value spelled so (without escapes)."""
        needle = text.encode("utf-8")
        tail, at, size = b"", 0, int(self.offsets[-1])
        while at < size:
            block = self._read(at, min(at + _BLOCK_BYTES, size))
            if needle in tail + block[: len(needle)] or needle in block:
                return True
            tail, at = block[-len(needle) :], at + len(block)
        return False


class ManifestKeys(Sequence[str]):
    """The item keys of a lazily opened manifest, read from its file when asked for, then the
    keys appended to them (rows added to the open job)."""

    def __init__(self, index: ManifestIndex) -> None:
        self._index = index
        self._more: list[str] = []

    def __len__(self) -> int:
        return len(self._index) + len(self._more)

    @overload
    def __getitem__(self, item: int) -> str: ...

    @overload
    def __getitem__(self, item: slice) -> list[str]: ...

    def __getitem__(self, item: int | slice) -> str | list[str]:
        if isinstance(item, slice):
            return [self[i] for i in range(*item.indices(len(self)))]
        stored = len(self._index)
        position = item + len(self) if item < 0 else item
        if not 0 <= position < len(self):
            raise IndexError(f"key {item} of {len(self)}")
        return self._index.key(position) if position < stored else self._more[position - stored]

    def __iter__(self) -> Iterator[str]:
        stored = len(self._index)
        for start in range(0, stored, _KEY_CHUNK):
            yield from self._index.key_range(start, min(start + _KEY_CHUNK, stored))
        yield from list(self._more)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence) or isinstance(other, (str, bytes)):
            return NotImplemented
        return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))

    __hash__ = None  # type: ignore[assignment]

    def extend(self, keys: Iterable[str]) -> None:
        """Append keys after the file's."""
        self._more.extend(keys)


class _Named(io.BytesIO):
    """Bytes read back as lines of the file they came from (errors name the file)."""

    def __init__(self, data: bytes, name: str) -> None:
        super().__init__(data)
        self.name = name


def open_manifest(path: str | os.PathLike[str], *, client: Any = None) -> ManifestIndex | None:
    """Open a manifest lazily (see the module docstring), or None when it is not in the plain form.

    Parameters
    ----------
    path
        A path or an ``s3://bucket/key`` URI (copied through :mod:`nblabel.io.s3` into an
        unnamed temporary file, then scanned there).
    client
        For ``s3://`` URIs: a boto3 S3 client; default from the standard AWS settings.
    """
    source = os.fspath(path)
    file = _download(source, client) if is_s3_uri(source) else Path(source).open("rb")  # noqa: SIM115 (kept by the index)
    if file is None:
        return None
    try:
        scanned = _scan_file(file.fileno())
    except BaseException:
        file.close()
        raise
    if scanned is None:
        file.close()
        return None
    return ManifestIndex(source, file, *scanned, client=client)


def _download(source: str, client: Any) -> IO[bytes] | None:
    """An ``s3://`` manifest copied to an unnamed temporary file (one GET), or None when its
    first bytes already show that it is not in the plain form (the full reader gets it then)."""
    from nblabel.io.s3 import open_reader

    spool = tempfile.TemporaryFile()  # noqa: SIM115 (kept by the index)
    try:
        with open_reader(source, client=client) as fh:
            head = fh.read(len(_PREFIX))
            if head and head != _PREFIX:
                spool.close()
                return None
            spool.write(head)
            shutil.copyfileobj(fh, spool, _BLOCK_BYTES)
        spool.flush()
    except BaseException:
        spool.close()
        raise
    return spool


def _scan_file(fd: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, int, np.ndarray, bool, bool] | None:
    """The line offsets, key lengths, sorted lookup, its shift and where neighbours in it may
    hold the same key (see :func:`_sort_lookup`), and the ``may_climb`` and ``metadata`` flags
    of the manifest open as ``fd``; None when a line is not in the plain form.

    The file is cut at line ends into up to :data:`_THREADS` ranges scanned at once, one thread
    each: numpy releases the GIL in its array passes, which are most of the work, so the threads
    run on separate cores (the byte searches of ``bytes`` hold the GIL; they are the small part).
    A range that finds a line outside the plain form stops the others.
    """
    size = os.fstat(fd).st_size
    # A line holds at least 16 bytes and its "\n", so every position is below size / 16: the
    # lookup's low bits (the position) are fixed before the lines are counted, and each range
    # puts its own positions in them.
    shift = max(1, (size // 16).bit_length())
    bounds = _bounds(fd, size, min(_THREADS, -(-size // _BLOCK_BYTES)))
    ranges = list(pairwise(bounds))
    failed = threading.Event()
    with ThreadPoolExecutor(_THREADS) as pool:
        found = list(pool.map(lambda r: _scan_range(fd, *r, shift, failed), ranges))
        if failed.is_set():
            return None
        blocks = [block for part in found if part is not None for block in part]
        # One thread joins and sorts the lookup while this one joins the offsets and lengths.
        # (Sorting it in two halves at once, split by the hashes' top bit, took more CPU to
        # split than it saved, and more time on a loaded machine.)
        ranges_entries, base = [], 0
        for part in found:
            assert part is not None
            ranges_entries.append(([block[2] for block in part], base))
            base += sum(len(block[1]) for block in part)
        lookup = pool.submit(_sort_lookup, ranges_entries, base, shift)
        offsets = np.concatenate([np.zeros(1, dtype=np.int64), *(block[0] for block in blocks)])
        lengths = np.concatenate([np.zeros(0, dtype=np.int32), *(block[1] for block in blocks)])
        lookup, same = lookup.result()
    offsets[-1] = min(int(offsets[-1]), size)  # the last line may have no "\n": it ends with the file
    may_climb = any(block[3] for block in blocks)
    metadata = any(block[4] for block in blocks)
    return offsets, lengths, lookup, shift, same, may_climb, metadata


def _sort_lookup(
    ranges: list[tuple[list[np.ndarray], int]], lines: int, shift: int
) -> tuple[np.ndarray, np.ndarray]:
    """The lookup of every range (its blocks' entries, and its first line's number, added to
    make their line numbers the file's: the low bits only), sorted, and where an entry's hash
    agrees with the next one's above the low ``shift`` bits, looked for a million entries at a
    time (no array as long as the lookup)."""
    lookup = np.empty(lines, dtype=np.uint64)
    at = 0
    for entries, base in ranges:
        part = lookup[at : at + sum(len(e) for e in entries)]
        np.concatenate(entries, out=part)
        if base:
            part += np.uint64(base)
        at += len(part)
    lookup.sort()
    low = np.uint64((1 << shift) - 1)
    same = [np.zeros(0, dtype=np.int64)]
    for first in range(0, lines - 1, 1 << 20):
        chunk = lookup[first : first + (1 << 20) + 1]
        # Neighbours whose hashes agree above the low bits differ only in those: XOR <= low.
        same.append(np.flatnonzero((chunk[1:] ^ chunk[:-1]) <= low) + first)
    return lookup, np.concatenate(same)


def _bounds(fd: int, size: int, ranges: int) -> list[int]:
    """``0``, the starts of the lines nearest each ``size * k / ranges``, and ``size``."""
    bounds = [0]
    for k in range(1, ranges):
        at = max(bounds[-1], size * k // ranges)
        while at < size:
            chunk = os.pread(fd, 1 << 16, at)
            found = chunk.find(b"\n")
            if found >= 0:
                at += found + 1
                break
            at += len(chunk)
        if bounds[-1] < at < size:
            bounds.append(at)
    return [*bounds, size] if size else bounds


def _scan_range(
    fd: int, start: int, stop: int, shift: int, failed: threading.Event
) -> list[tuple[np.ndarray, np.ndarray, np.ndarray, bool, bool]] | None:
    """Bytes ``start:stop`` of the file (whole lines), a block at a time; per block, each line's
    end offset (in the file, past its "\\n"), key length and lookup entry (the key's hash, its
    low ``shift`` bits replaced by the line's number in the range), and the block's
    ``may_climb`` and ``metadata`` flags.
    None when a line is not in the plain form (then ``failed`` is set), or as soon as another
    range has set it.

    Each block is read with ``os.pread`` at its own offset together with the 16 bytes after it,
    which the 8-byte word loads may touch: the partial line at a block's end is read again as the
    next block's start, instead of being carried over and joined to it (a copy of the block).
    Not an ``mmap`` of the file: the byte searches need a ``bytes`` object (an mmap has no
    ``count`` or ``isascii``), and a file cut short under a map kills the process (SIGBUS).
    """
    low = np.uint64((1 << shift) - 1)
    found = []
    at, want, lines = start, _BLOCK_BYTES, 0
    while at < stop:
        if failed.is_set():
            return None
        end = min(want, stop - at)  # the block's own bytes
        block = os.pread(fd, end + 16, at)
        if len(block) <= end:  # the block reaches the end of the file
            end = len(block)
            if not block.endswith(b"\n"):  # the last line may lack "\n"
                block += b"\n"
                end += 1
        cut = block.rfind(b"\n", 0, end) + 1
        if not cut:  # a line longer than the block: read it whole
            want *= 2
            continue
        if len(block) < cut + 16:  # words are read up to 16 bytes past the last line
            block += bytes(cut + 16 - len(block))
        scanned = _scan(block, cut)
        if scanned is None:
            failed.set()
            return None
        ends, lengths, hashes, may_climb, metadata = scanned
        hashes &= ~low
        hashes |= np.arange(lines, lines + len(ends), dtype=np.uint64)
        found.append((ends + (at + 1), lengths, hashes, may_climb, metadata))
        at, want, lines = at + cut, _BLOCK_BYTES, lines + len(ends)
    return found


def _words(raw: np.ndarray) -> np.ndarray:
    """Every 8 bytes of ``raw`` (padded with 8 zero bytes) as a little-endian uint64, one per
    starting byte (an unaligned, overlapping view)."""
    return np.ndarray((len(raw) - 7,), dtype=_U64, buffer=raw, strides=(1,))


def _bitmap(flags: np.ndarray) -> np.ndarray:
    """One bool per byte packed into little-endian uint64s (byte ``i`` is bit ``i % 64`` of word
    ``i // 64``), with a zero word after the last: a 64-bit window may start at any bit."""
    packed = np.packbits(flags, bitorder="little")
    bitmap = np.zeros(len(packed) // 8 + 2, dtype=_U64)
    bitmap.view(np.uint8)[: len(packed)] = packed
    return bitmap


def _window(bitmap: np.ndarray, at: np.ndarray) -> np.ndarray:
    """The 64 bits of ``bitmap`` from bit ``at`` on, for each ``at`` (bit 0 is byte ``at``)."""
    word, bit = at >> 6, (at & 63).astype(np.uint64)
    return (bitmap[word] >> bit) | (bitmap[word + 1] << (_SIXTY_FOUR - bit))  # << 64 gives 0


def _lengths(raw: np.ndarray, heads: np.ndarray, size: int) -> np.ndarray:
    """Each key's length: from its head to the first ``"`` after it in ``raw[:size]`` (past
    ``size`` when there is none).

    The quotes of the block are one bitmap (a byte comparison and ``np.packbits``); each key
    reads the 64 bits from its head and counts the zeros below the lowest set one, so a key of
    up to 63 bytes takes one step, whatever its length.
    """
    quotes = _bitmap(raw[:size] == ord('"'))
    found = _window(quotes, heads)
    # The zeros below the lowest set bit: 64 when none is set (0 - 1 wraps to all ones).
    lengths = np.bitwise_count((found & -found) - _ONE).astype(np.int64)
    rows = np.flatnonzero((found == 0) & (heads + 64 < size))  # keys of 64 bytes and more
    while len(rows):
        at = heads[rows] + lengths[rows]
        found = _window(quotes, at)
        lengths[rows] += np.bitwise_count((found & -found) - _ONE)
        rows = rows[(found == 0) & (at + 64 < size)]
    return lengths


def _hashes(words: np.ndarray, heads: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Each key's 64-bit hash: its words mixed one after the other, the bytes of the last from
    the key's end on zeroed (so a key is hashed the same way wherever its bytes sit), then its
    length. ``words`` reaches 8 bytes past every key's end."""
    hashes = np.full(len(heads), _SEED, dtype=np.uint64)
    whole = lengths >> 3  # the words before the one a key ends in
    shortest = int(whole.min())
    at = heads.copy()  # each key's next word
    for i in range(int(whole.max()) + 1):
        # The keys with a word here: all of them (a slice, no gathers) until the shortest ends.
        rows: slice | np.ndarray = slice(None) if i <= shortest else np.flatnonzero(whole >= i)
        word = words[at[rows]]
        if i >= shortest:  # some key ends in this word: keep only its bytes before the end
            kept = np.minimum(lengths[rows] - 8 * i, 8).astype(np.uint64)
            word &= (_ONE << (kept * _EIGHT)) - _ONE  # 1 << 64 gives 0: all ones
        word ^= hashes[rows]
        if i <= shortest:
            hashes = _mix(word)
        else:
            hashes[rows] = _mix(word)
        at += 8
    return _mix(hashes ^ lengths.astype(np.uint64))


def _climbs(raw: np.ndarray, heads: np.ndarray, stops: np.ndarray, size: int) -> bool:
    """Whether some key ``raw[heads[i]:stops[i]]`` holds ``..`` (the keys in order, not
    overlapping, not necessarily all the block's): pairs of dots found in a bitmap of the
    block's dots (rare), then placed in the keys."""
    dots = _bitmap(raw[:size] == ord("."))
    pairs = dots[:-1] & ((dots[:-1] >> _ONE) | (dots[1:] << _SIXTY_THREE))
    if not pairs.any():
        return False
    at = np.flatnonzero(np.unpackbits(pairs.view(np.uint8), bitorder="little"))
    line = np.searchsorted(heads, at, side="right") - 1
    inside = line >= 0
    return bool((at[inside] + 1 < stops[line[inside]]).any())


def _mix(h: np.ndarray) -> np.ndarray:
    """``h`` mixed, in place (its callers hand it arrays of their own)."""
    h *= _MUL  # wraps modulo 2**64
    h ^= h >> np.uint64(29)
    return h


def _scan(block: bytes, cut: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, bool, bool] | None:
    """For the whole lines ``block[:cut]`` (at least 16 bytes follow them): each line's end, its
    ``source-ref``'s length and hash, whether a reference may climb (holds ``..``, or the block
    holds ``%``) and whether a line may have a ``-metadata`` attribute; None when a line is not
    in the plain form."""
    raw = np.frombuffer(block, dtype=np.uint8)
    words = _words(raw)
    ends = np.flatnonzero(raw[:cut] == ord("\n"))
    starts = np.empty_like(ends)
    starts[0], starts[1:] = 0, ends[:-1] + 1
    # Every line starts with the prefix (a shorter line cannot: its "\n" would be in it), and
    # its key's closing quote comes before its end; no NUL byte anywhere.
    if (
        (words[starts] != _HEAD[0]).any()
        or (words[starts + 7] != _HEAD[1]).any()
        or block.find(b"\x00", 0, cut) >= 0
    ):
        return None
    heads = starts + len(_PREFIX)
    lengths = _lengths(raw, heads, cut)
    stops = heads + lengths
    rests = ends - stops  # from each key's closing quote to its line's end
    if rests.min() <= 0:
        return None
    # A line holds "source-ref" once (JSON keeps a repeated key's last value: such a line needs
    # the full reader), and ``-metadata"`` marks a label an earlier job wrote. A valid line
    # with either has at least ``","source-ref":0}`` from its key's closing quote on: a block of
    # shorter lines (references alone, or with an id) holds neither, and the two searches, the
    # slowest part of the scan that holds the GIL, are skipped. (A shorter line that spells
    # ``"source-ref"`` again is not valid JSON: reading its row reports it.)
    long = bool(rests.max() >= _SHORTEST_ATTRIBUTE)
    if long and block.count(b'"source-ref"', 0, cut) != len(ends):
        return None
    if block.find(b"\\", 0, cut) >= 0:
        backslashes = np.flatnonzero(raw[:cut] == ord("\\"))
        if (np.searchsorted(backslashes, stops) != np.searchsorted(backslashes, heads)).any():
            return None  # an escape inside a key: the full reader decodes it
    if not block.isascii() and not _utf8(block, heads, stops):
        return None
    hashes = _hashes(words, heads, lengths)
    # An s3:// reference never climbs out of a folder (nblabel.io.guard passes it): a block
    # whose references all are such URIs needs no search for ".." or "%" in them.
    local = (words[heads] & _FIVE_BYTES) != _S3
    may_climb = bool(local.any()) and (
        block.find(b"%", 0, cut) >= 0 or _climbs(raw, heads[local], stops[local], cut)
    )
    metadata = long and block.find(b'-metadata"', 0, cut) >= 0
    return ends, lengths.astype(np.int32), hashes, may_climb, metadata


def _utf8(block: bytes, heads: np.ndarray, stops: np.ndarray) -> bool:
    """Whether every key of a block with non-ASCII bytes is valid UTF-8."""
    try:
        for head, stop in zip(heads.tolist(), stops.tolist(), strict=True):
            block[head:stop].decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True
