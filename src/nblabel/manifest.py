"""Ground Truth manifests (JSON Lines) as pandas DataFrames, and back.

A manifest line is one JSON object. Every top-level key becomes a column; nested values stay
Python objects (dicts and lists), so an unknown key written by some other tool passes through a
read/write round trip untouched. A key missing from a line is ``pd.NA`` in its column and is left
out again on writing; an explicit JSON ``null`` is ``None`` and is written back as ``null``.

Columns are kept with ``object`` dtype so that integers stay integers (GT writes class indices as
ints; a float column would turn ``9`` into ``9.0``).
"""

from __future__ import annotations

import io
import json
import math
import os
import re
import secrets
import shutil
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import chain
from pathlib import Path
from typing import IO, Any

import numpy as np
import orjson
import pandas as pd

from nblabel.checks import check_line
from nblabel.io import is_s3_uri

__all__ = ["ManifestError", "ManifestWarning", "dumps_line", "read_manifest", "write_manifest"]

_MISSING = pd.NA
_orjson_loads = orjson.loads


class ManifestError(ValueError):
    """A manifest line that is not a JSON object; names the file and the line."""

    def __init__(self, source: str, line: int, reason: str) -> None:
        self.source = source
        self.line = line
        self.reason = reason
        super().__init__(f"{source}, line {line}: {reason}")


class ManifestWarning(UserWarning):
    """Something odd but readable in a manifest (for example NER offsets that miss their text)."""


def _line_batches(
    path_or_file: str | os.PathLike[str] | IO[Any], client: Any = None
) -> Iterator[list[str | bytes]]:
    """The manifest's lines in batches of about ``_BATCH_BYTES`` (one line if longer)."""
    if is_s3_uri(path_or_file):
        from nblabel.io.s3 import open_reader  # boto3 is imported on first S3 use only

        with open_reader(str(path_or_file), client=client) as fh:
            yield from _read_batches(fh)
        return
    if not hasattr(path_or_file, "read"):
        with Path(os.fspath(path_or_file)).open("rb") as fh:
            yield from _read_batches(fh)
        return
    yield from _read_batches(path_or_file)  # a text or binary file object; the caller keeps it open


def _read_batches(fh: Any) -> Iterator[list[str | bytes]]:
    if hasattr(fh, "readlines"):
        while batch := fh.readlines(_BATCH_BYTES):
            yield batch
        return
    batch, size = [], 0
    for line in fh:
        batch.append(line)
        size += len(line)
        if size >= _BATCH_BYTES:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


class _OutOfRange(ValueError):
    """Valid JSON that no manifest written back could hold."""


def _finite_float(text: str) -> float:
    # 1e999 would read as inf, which no manifest line can hold: it could not be written back.
    value = float(text)
    if not math.isfinite(value):
        raise _OutOfRange(f"the number {text[:40]} is beyond a double's range (it would read as infinity)")
    return value


# One decoder for every line: json.loads() with an argument builds a new decoder per call.
_DECODER = json.JSONDecoder(parse_constant=_reject_constant, parse_float=_finite_float)

# A \uD800-\uDFFF escape: a line with one may hold a lone surrogate once decoded (a pair is
# one character and fine). Only such lines are searched.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def _lone_surrogate(obj: Any, where: str = "") -> str | None:
    """Where in a decoded line a string (or key) holds a lone UTF-16 surrogate, or None.

    Such a string cannot be encoded as UTF-8: no store can keep it and no manifest written back
    could hold it (a JavaScript string cut inside an emoji makes one).
    """
    if isinstance(obj, str):
        try:
            obj.encode("utf-8")
        except UnicodeEncodeError:
            return where or "a value"
        return None
    if isinstance(obj, dict):
        for key, value in obj.items():
            found = _lone_surrogate(key, f"a key in {where or 'the line'}") or _lone_surrogate(
                value, f"{where}.{key}" if where else key
            )
            if found:
                return found
    elif isinstance(obj, list):
        for n, value in enumerate(obj):
            if found := _lone_surrogate(value, f"{where}[{n}]"):
                return found
    return None


# Lines are parsed in batches: one orjson call per line in a list comprehension is ~4x faster than
# the standard library, and a small batch bounds the memory held by objects not yet in columns.
_BATCH_BYTES = 1 << 18

# orjson reads an integer that does not fit 64 bits as a float (12345678901234567890123 would
# become 1.2345678901234568e+22); the standard library keeps it an int. Batches holding a run of
# 19 digits (anywhere, strings included: a cheap test that errs on the safe side) are read with
# the standard library. Digits are mapped to "0" so one substring search finds any such run.
_LONG_RUN = b"0" * 19
_DIGITS_TO_ZERO = bytes.maketrans(b"123456789", b"000000000")


def _parse_line(name: str, number: int, raw: str | bytes) -> dict | None:
    """One manifest line read by the standard library, None for a blank line; errors name the line."""
    if isinstance(raw, bytes):
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ManifestError(name, number, f"not valid UTF-8 (byte {exc.start + 1})") from None
    else:
        text = raw
    # GT allows "\n" or "\r\n"; a UTF-8 BOM on the first line is a common editor artefact.
    text = text.rstrip("\r\n")
    if number == 1:
        text = text.lstrip("\ufeff")
    if not text.strip():
        return None
    try:
        obj = _DECODER.decode(text)
    except json.JSONDecodeError as exc:
        raise ManifestError(name, number, f"invalid JSON: {exc.msg} at column {exc.colno}") from None
    except _OutOfRange as exc:
        raise ManifestError(name, number, str(exc)) from None
    except ValueError as exc:
        raise ManifestError(name, number, f"invalid JSON: {exc}") from None
    except RecursionError:
        raise ManifestError(name, number, "JSON nested too deeply to read") from None
    if not isinstance(obj, dict):
        raise ManifestError(name, number, f"expected a JSON object, found {type(obj).__name__}")
    if _SURROGATE_ESCAPE.search(text) or not text.isascii():
        where = _lone_surrogate(obj)
        if where is not None:
            raise ManifestError(
                name,
                number,
                f"{where} holds a lone UTF-16 surrogate (half of a character), which UTF-8 cannot hold",
            )
    return obj


def _fast_batch(lines: list[str | bytes]) -> list[dict] | None:
    """The objects of a batch of lines read by orjson, or None if any line needs the careful path.

    orjson refuses everything the standard library refuses here (bad UTF-8, NaN, a BOM, blank
    lines, control characters), plus lone surrogate escapes and numbers beyond a double, which
    the standard library reads; such batches go the careful way, so the result never differs.
    One difference remains: orjson reads nesting up to 1024 levels, while the standard library
    stops near Python's recursion limit (about 990 levels from here). A line nested between the
    two is read in a batch that goes the fast way, refused in one that does not. No real
    manifest comes near either.
    """
    data = b"".join(lines) if isinstance(lines[0], bytes) else "".join(lines).encode("utf-8", "replace")
    if _LONG_RUN in data.translate(_DIGITS_TO_ZERO):
        return None
    try:
        objects = [_orjson_loads(line) for line in lines]
    except orjson.JSONDecodeError:
        return None
    for obj in objects:
        if type(obj) is not dict:
            return None
    return objects


def _object_batches(
    path_or_file: str | os.PathLike[str] | IO[Any], client: Any
) -> Iterator[tuple[Sequence[int], list[dict]]]:
    """Batches of (line numbers, objects) of a manifest's non-blank lines, in file order."""
    name = _source_name(path_or_file)
    first = 1
    for batch in _line_batches(path_or_file, client):
        objects = _fast_batch(batch)
        if objects is not None:
            yield range(first, first + len(batch)), objects
        else:
            numbers, objects = [], []
            for number, raw in enumerate(batch, start=first):
                obj = _parse_line(name, number, raw)
                if obj is not None:
                    numbers.append(number)
                    objects.append(obj)
            yield numbers, objects
        first += len(batch)


def iter_manifest(
    path_or_file: str | os.PathLike[str] | IO[Any], *, client: Any = None
) -> Iterator[tuple[int, dict]]:
    """Yield ``(line_number, object)`` for each non-blank line of a manifest.

    ``path_or_file`` may be an ``s3://`` URI, read as a stream (``client``: a boto3 S3 client;
    default from the standard AWS settings).

    Raises
    ------
    nblabel.io.s3.S3Error
        An ``s3://`` manifest cannot be read; the message names the URI and the cause.
    ManifestError
        For a line that is not UTF-8, not valid JSON (``NaN`` and ``Infinity`` included), nested
        too deeply to read (about a thousand levels; see ``_fast_batch``), not a JSON object, or
        holding what no manifest written back could: a number beyond a double (``1e999``), a
        lone UTF-16 surrogate (``"\\ud800"``).
    """
    for numbers, objects in _object_batches(path_or_file, client):
        yield from zip(numbers, objects, strict=True)


def read_manifest(path_or_file: str | os.PathLike[str] | IO[Any], *, client: Any = None) -> pd.DataFrame:
    """Read a Ground Truth manifest (JSON Lines) into a DataFrame, one row per line.

    Parameters
    ----------
    path_or_file
        A path, an ``s3://bucket/key`` URI, or an open text or binary file. An S3 manifest is
        streamed (never held whole in memory as bytes) and resumed if the connection is cut.
    client
        For ``s3://`` URIs: a boto3 S3 client; default from the standard AWS settings
        (``AWS_ENDPOINT_URL_S3`` selects an S3-compatible server).

    Returns
    -------
    pandas.DataFrame
        One column per top-level key, in order of first appearance, ``object`` dtype. Keys absent
        from a line are ``pd.NA``. Row order is the file's.

    Raises
    ------
    ManifestError
        A line is not a JSON object, or holds a number beyond a double or a lone UTF-16
        surrogate; the message names the file, the line number and the cause.
    nblabel.io.s3.S3Error
        An ``s3://`` manifest cannot be read; the message names the URI and the cause.
    """
    columns: dict[str, list[Any]] = {}
    rows = 0
    name = _source_name(path_or_file)
    for numbers, objects in _object_batches(path_or_file, client):
        # Built column by column, a batch at a time: one list comprehension per key instead of
        # a Python loop over every cell.
        keys = dict.fromkeys(chain.from_iterable(objects))  # the batch's keys, in order of first use
        if any(key.endswith("-metadata") for key in keys):  # only metadata can warn (check_line)
            for number, obj in zip(numbers, objects, strict=True):
                for message in check_line(obj):
                    warnings.warn(f"{name}, line {number}: {message}", ManifestWarning, stacklevel=2)
        for key in keys:
            if key not in columns:
                columns[key] = [_MISSING] * rows
        for key, column in columns.items():
            if key in keys:
                column.extend([obj.get(key, _MISSING) for obj in objects])
            else:
                column.extend([_MISSING] * len(objects))
        rows += len(objects)
    frame = {}
    for key in list(columns):  # popped one by one so each list is freed once it is an array
        frame[key] = pd.Series(columns.pop(key), dtype=object)
    return pd.DataFrame(frame, index=pd.RangeIndex(rows))


def _source_name(path_or_file: Any) -> str:
    if hasattr(path_or_file, "read"):
        return str(getattr(path_or_file, "name", "<stream>"))
    return os.fspath(path_or_file)


def is_missing(value: Any) -> bool:
    """True for the cell values that mean "this line has no such key" (``pd.NA`` or NaN)."""
    return value is pd.NA or (isinstance(value, float) and math.isnan(value))


def _plain(value: Any) -> Any:
    """Turn numpy scalars that pandas may have introduced back into JSON-able Python values."""
    if isinstance(value, np.generic):
        return value.item()
    return value


# Rows are converted and written a block at a time: one list comprehension per column and one
# write per block, instead of a Python call per cell and a write per line.
_BLOCK_ROWS = 1 << 14
_BLOCK_CHARS = 1 << 18  # and at most about this much text held before it is written
_SKIP = object()  # a missing cell: its key is left out of the line
# Types a cell can have that need neither the missing test nor a numpy conversion.
_PLAIN_TYPES = frozenset({str, int, bool, dict, list, type(None)})


def _cell(value: Any) -> Any:
    return _SKIP if is_missing(value) else _plain(value)


def _column_cells(column: pd.Series, start: int, stop: int) -> tuple[list[Any], bool]:
    """A column's cells for rows ``start:stop`` as JSON-able values, ``_SKIP`` where missing,
    and whether any is missing.

    The values are those iterating the column yields (what ``itertuples`` gives): Python
    scalars for numpy dtypes, the extension array's own scalars otherwise.
    """
    if isinstance(column.dtype, np.dtype) and column.dtype.kind in "biufO":
        values = column.to_numpy()[start:stop].tolist()  # as iterating gives: ndarray.item per cell
    else:  # datetimes (Timestamps, not ints), extension arrays: their own iteration
        values = list(column.iloc[start:stop])
    if set(map(type, values)) <= _PLAIN_TYPES:
        return values, False
    values = [_SKIP if v is _MISSING else v if type(v) in _PLAIN_TYPES else _cell(v) for v in values]
    return values, any(v is _SKIP for v in values)


def row_objects(df: pd.DataFrame) -> Iterator[dict[str, Any]]:
    """Yield each row of a manifest DataFrame as the JSON object it stands for.

    Raises
    ------
    ValueError
        Two columns have the same name (as text): a line can hold a key once, so one column
        would silently be lost.
    """
    names = [str(c) for c in df.columns]
    if len(set(names)) != len(names):
        repeated = sorted({n for n in names if names.count(n) > 1})
        raise ValueError(
            f"the DataFrame has duplicate columns {repeated}: a manifest line holds each key once; "
            "rename or drop them first"
        )
    columns = [df.iloc[:, k] for k in range(df.shape[1])]
    for start in range(0, len(df), _BLOCK_ROWS):
        stop = min(start + _BLOCK_ROWS, len(df))
        cells = [_column_cells(column, start, stop) for column in columns]
        # The leading columns without a missing cell become each row's dict in one step; the
        # others are added column by column, in order, so every line keeps the columns' order.
        lead = next((k for k, (_, skips) in enumerate(cells) if skips), len(cells))
        if lead:
            lead_names = names[:lead]
            lead_cells = [values for values, _ in cells[:lead]]
            objects = [dict(zip(lead_names, row, strict=True)) for row in zip(*lead_cells, strict=True)]
        else:
            objects = [{} for _ in range(stop - start)]
        for name, (values, _) in zip(names[lead:], cells[lead:], strict=True):
            for obj, value in zip(objects, values, strict=True):
                if value is not _SKIP:
                    obj[name] = value
        yield from objects


_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def dumps_line(obj: dict[str, Any]) -> str:
    """One manifest line, in Ground Truth's compact spelling (no spaces, UTF-8 kept as is)."""
    return _ENCODER.encode(obj)


def _line_encoder() -> Callable[[dict[str, Any]], str]:
    """``dumps_line`` for one write, without its per-line set-up.

    ``JSONEncoder.encode`` builds the C encoder anew for every line, which costs about as much
    as encoding a short line. The C encoder is built here once, with the arguments
    ``JSONEncoder.iterencode`` gives it, so the lines are the same. Its circular-reference
    markers live as long as the write, so a new one is made for each write.
    """
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:  # Python without the C accelerator
        return _ENCODER.encode
    e = _ENCODER
    encode = make({}, e.default, json.encoder.encode_basestring, None, e.key_separator, e.item_separator,
                  e.sort_keys, e.skipkeys, e.allow_nan)  # fmt: skip
    join = "".join
    return lambda obj: join(encode(obj, 0))


def write_manifest(
    df: pd.DataFrame | Iterable[dict[str, Any]],
    path_or_file: str | os.PathLike[str] | IO[Any],
    *,
    client: Any = None,
) -> None:
    """Write a DataFrame (or an iterable of dicts) as a Ground Truth manifest.

    A path is written aside and renamed into place, so a failure never leaves a half-written
    manifest behind. An ``s3://bucket/key`` URI is streamed to S3 in parts (memory stays
    below two 8 MiB parts) and appears only when complete: on any failure the multipart upload
    is aborted. Missing cells (``pd.NA``/NaN) are left out of their line.

    Parameters
    ----------
    client
        For ``s3://`` URIs: a boto3 S3 client; default from the standard AWS settings.

    Raises
    ------
    ValueError
        A value cannot be written as JSON (the message names the row), or two columns have the
        same name.
    nblabel.io.s3.S3Error
        The S3 upload failed; the message names the URI and the cause.
    """
    rows = row_objects(df) if isinstance(df, pd.DataFrame) else iter(df)
    if is_s3_uri(path_or_file):
        from nblabel.io.s3 import S3Writer

        with S3Writer(str(path_or_file), client=client) as out:
            _write_lines(rows, out)
        return
    if hasattr(path_or_file, "write"):
        _write_lines(rows, path_or_file)
        return
    path = Path(os.fspath(path_or_file))
    # Not tempfile.mkstemp: its 0600 mode would replace the file's usual (umask) permissions.
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    fd = os.open(tmp, flags, 0o666)
    try:
        with os.fdopen(fd, "wb") as fh:
            _write_lines(rows, fh)
            fh.flush()
            os.fsync(fh.fileno())
        if path.exists():
            shutil.copymode(path, tmp)  # replacing a file keeps its permissions
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _write_lines(rows: Iterable[dict[str, Any]], fh: IO[Any]) -> None:
    binary = isinstance(fh, (io.RawIOBase, io.BufferedIOBase)) or "b" in str(getattr(fh, "mode", ""))
    block: list[str] = []
    size = first = 0
    encode = _line_encoder()
    for number, obj in enumerate(rows):
        try:
            line = encode(obj)
        except (TypeError, ValueError, RecursionError) as exc:
            reason = "nested too deeply" if isinstance(exc, RecursionError) else exc
            raise ValueError(f"row {number}: cannot be written as JSON: {reason}") from None
        block.append(line)
        size += len(line)
        if size >= _BLOCK_CHARS or len(block) == _BLOCK_ROWS:  # long lines: memory stays small
            _write_block(fh, block, first, binary)
            first, block, size = number + 1, [], 0
    if block:
        _write_block(fh, block, first, binary)


def _write_block(fh: IO[Any], lines: list[str], first: int, binary: bool) -> None:
    text = "\n".join(lines) + "\n"
    if not binary:
        fh.write(text)
        return
    try:
        data = text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate in a string: name its row
        for number, line in enumerate(lines, start=first):
            try:
                line.encode("utf-8")
            except UnicodeEncodeError as exc:
                raise ValueError(f"row {number}: cannot be written as UTF-8: {exc}") from None
        raise
    fh.write(data)
