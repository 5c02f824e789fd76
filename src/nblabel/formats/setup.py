"""Ground Truth's automated data setup: an input manifest from a folder or an ``s3://`` prefix.

GT's console can build the input manifest of a job from the objects under an S3 location
("Automated data setup", SMDG sms-console-create-manifest-file.md): each image or video file is
one data object (``{"source-ref": <its URI>}``), each line of a ``.txt`` file is one text object
and so is each row of a ``.csv`` file (``{"source": <the text>}``); the job can run on a random
sample of the objects and on the objects whose names match a filter. :func:`manifest_from` does
the same for a local folder or an ``s3://`` prefix and returns the manifest as a DataFrame.
"""

from __future__ import annotations

import csv
import fnmatch
import io
import os
import random
from collections.abc import Callable, Iterator
from pathlib import Path, PurePosixPath
from typing import Any, Literal

import pandas as pd

from nblabel.io import is_s3_uri

__all__ = ["IMAGE_SUFFIXES", "VIDEO_SUFFIXES", "manifest_from"]

#: File types that are images, by name (GT's image tasks take JPEG and PNG; the rest are the
#: types a browser shows).
IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".gif", ".bmp", ".webp", ".tif", ".tiff"})
#: File types that are videos, by name.
VIDEO_SUFFIXES = frozenset({".mp4", ".m4v", ".mov", ".webm", ".ogv", ".avi", ".mkv"})


def manifest_from(
    location: str | os.PathLike[str],
    kind: Literal["image", "text", "csv"] = "image",
    sample: float | None = None,
    where: str | Callable[[str], bool] | None = None,
    *,
    seed: int | None = None,
    client: Any = None,
) -> pd.DataFrame:
    """An input manifest of the objects under a folder or ``s3://`` prefix, as GT builds it.

    Parameters
    ----------
    location
        A local folder or an ``s3://bucket/prefix``; read recursively, in name order.
    kind
        ``"image"``: every image and video file (by its name's suffix, see
        :data:`IMAGE_SUFFIXES`, :data:`VIDEO_SUFFIXES`) is a row ``{"source-ref": uri}`` (local
        files by their absolute path). ``"text"``: every non-empty line of every ``.txt`` file is
        a row ``{"source": line}``. ``"csv"``: every non-empty row of every ``.csv`` file is a
        row ``{"source": text}``, the text being the row's cells joined with ``","`` (GT takes a
        CSV row as one line of text; quotes are read as CSV quotes).
    sample
        A share in (0, 1]: a random sample of that share of the objects (rounded, at least
        one), kept in order, as GT's "random sample" setting. Default: all.
    where
        A filter on object names (their path under ``location``, ``/``-separated): a glob
        pattern (``"*/2024-*.jpg"``) or a function of the name. For text and CSV it selects
        the files, not the lines.
    seed
        Makes the sample repeatable.
    client
        The boto3 S3 client for an ``s3://`` location; default from the AWS settings.

    Returns
    -------
    pandas.DataFrame
        One row per data object, with a ``source-ref`` or a ``source`` column: ready for
        :class:`nblabel.Job` or :func:`nblabel.write_manifest`.

    Raises
    ------
    ValueError
        An unknown ``kind``, a ``sample`` outside (0, 1], or no object found (the message
        says what was looked for and where).
    FileNotFoundError
        A local ``location`` that is not a folder.
    """
    if kind not in ("image", "text", "csv"):
        raise ValueError(f"kind must be 'image', 'text' or 'csv', got {kind!r}")
    if sample is not None and not (isinstance(sample, (int, float)) and 0 < sample <= 1):
        raise ValueError(f"sample is the share of objects to keep, in (0, 1]; got {sample!r}")
    suffixes = (
        IMAGE_SUFFIXES | VIDEO_SUFFIXES if kind == "image" else {f".{'txt' if kind == 'text' else 'csv'}"}
    )
    keep = where if callable(where) or where is None else (lambda name: fnmatch.fnmatchcase(name, where))
    names = [
        (name, uri)
        for name, uri in _objects(location, client)
        if PurePosixPath(name).suffix.lower() in suffixes and (keep is None or keep(name))
    ]
    if kind == "image":
        rows: list[Any] = [uri for _name, uri in names]
    else:
        rows = [text for _name, uri in names for text in _texts(uri, kind, client)]
    if not rows:
        what = "image or video files" if kind == "image" else f"{kind} lines in {sorted(suffixes)[0]} files"
        raise ValueError(
            f"no {what} under {location}{' matching ' + repr(where) if where is not None else ''}"
        )
    if sample is not None:
        count = max(1, round(len(rows) * sample))
        chosen = sorted(random.Random(seed).sample(range(len(rows)), count))
        rows = [rows[i] for i in chosen]
    column = "source-ref" if kind == "image" else "source"
    return pd.DataFrame({column: pd.Series(rows, dtype=object)})


def _objects(location: str | os.PathLike[str], client: Any) -> Iterator[tuple[str, str]]:
    """(name relative to the location, URI or absolute path) of every file, in name order."""
    if is_s3_uri(location):
        from nblabel.io.s3 import list_keys, parse_s3_uri

        uri = str(location)
        bucket, prefix = parse_s3_uri(uri)
        if prefix and not prefix.endswith("/"):
            prefix += "/"  # a prefix names a folder: images/ is not images-old/
        keys = sorted(k for k in list_keys(f"s3://{bucket}/{prefix}", client=client) if not k.endswith("/"))
        for key in keys:
            yield key[len(prefix) :], f"s3://{bucket}/{key}"
        return
    root = Path(os.fspath(location)).expanduser()
    if not root.is_dir():
        raise FileNotFoundError(f"{root} is not a folder")
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        yield path.relative_to(root).as_posix(), str(path.resolve())


def _texts(uri: str, kind: str, client: Any) -> list[str]:
    """The non-empty lines (text) or rows (csv) of one file."""
    if is_s3_uri(uri):
        from nblabel.io.s3 import read_bytes

        data = read_bytes(uri, client=client)
    else:
        data = Path(uri).read_bytes()
    text = data.decode("utf-8-sig")
    if kind == "text":
        return [line.strip() for line in text.splitlines() if line.strip()]
    return [",".join(row) for row in csv.reader(io.StringIO(text)) if any(cell.strip() for cell in row)]
