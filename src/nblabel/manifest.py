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
import secrets
import shutil
import warnings
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any

import numpy as np
import pandas as pd

from nblabel.checks import check_line
from nblabel.io import is_s3_uri

__all__ = ["ManifestError", "ManifestWarning", "dumps_line", "read_manifest", "write_manifest"]

_MISSING = pd.NA


class ManifestError(ValueError):
    """A manifest line that is not a JSON object; names the file and the line."""

    def __init__(self, source: str, line: int, reason: str) -> None:
        self.source = source
        self.line = line
        self.reason = reason
        super().__init__(f"{source}, line {line}: {reason}")


class ManifestWarning(UserWarning):
    """Something odd but readable in a manifest (for example NER offsets that miss their text)."""


def _raw_lines(path_or_file: str | os.PathLike[str] | IO[Any], client: Any = None) -> Iterator[str | bytes]:
    if is_s3_uri(path_or_file):
        from nblabel.io.s3 import open_reader  # boto3 is imported on first S3 use only

        with open_reader(str(path_or_file), client=client) as fh:
            yield from fh
        return
    if not hasattr(path_or_file, "read"):
        with Path(os.fspath(path_or_file)).open("rb") as fh:
            yield from fh
        return
    yield from path_or_file  # a text or binary file object; the caller keeps it open


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


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
        deeper than Python's recursion limit, or not a JSON object.
    """
    name = _source_name(path_or_file)
    for number, raw in enumerate(_raw_lines(path_or_file, client), start=1):
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
            continue
        try:
            obj = json.loads(text, parse_constant=_reject_constant)
        except json.JSONDecodeError as exc:
            raise ManifestError(name, number, f"invalid JSON: {exc.msg} at column {exc.colno}") from None
        except ValueError as exc:
            raise ManifestError(name, number, f"invalid JSON: {exc}") from None
        except RecursionError:
            raise ManifestError(name, number, "JSON nested too deeply to read") from None
        if not isinstance(obj, dict):
            raise ManifestError(name, number, f"expected a JSON object, found {type(obj).__name__}")
        yield number, obj


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
        A line is not a JSON object; the message names the file, the line number and the cause.
    nblabel.io.s3.S3Error
        An ``s3://`` manifest cannot be read; the message names the URI and the cause.
    """
    columns: dict[str, list[Any]] = {}
    rows = 0
    name = _source_name(path_or_file)
    for number, obj in iter_manifest(path_or_file, client=client):
        for message in check_line(obj):
            warnings.warn(f"{name}, line {number}: {message}", ManifestWarning, stacklevel=2)
        for key, value in obj.items():
            column = columns.get(key)
            if column is None:
                column = columns[key] = [_MISSING] * rows
            column.append(value)
        rows += 1
        for column in columns.values():
            if len(column) < rows:
                column.append(_MISSING)
    return pd.DataFrame(
        {key: pd.Series(values, dtype=object) for key, values in columns.items()},
        index=pd.RangeIndex(rows),
    )


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


def row_objects(df: pd.DataFrame) -> Iterator[dict[str, Any]]:
    """Yield each row of a manifest DataFrame as the JSON object it stands for."""
    columns = [str(c) for c in df.columns]
    for values in df.itertuples(index=False, name=None):
        yield {c: _plain(v) for c, v in zip(columns, values, strict=True) if not is_missing(v)}


def dumps_line(obj: dict[str, Any]) -> str:
    """One manifest line, in Ground Truth's compact spelling (no spaces, UTF-8 kept as is)."""
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


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
        A value cannot be written as JSON; the message names the row.
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
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
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
    for number, obj in enumerate(rows):
        try:
            line = dumps_line(obj) + "\n"
        except (TypeError, ValueError) as exc:
            raise ValueError(f"row {number}: cannot be written as JSON: {exc}") from None
        fh.write(line.encode("utf-8") if binary else line)
