"""Cache files of the auto-labeler (feature partitions, box feature maps, pixel features), in a
folder or under an ``s3://`` prefix: one place that reads them and writes them whole, for the
job's worker and for Dask workers alike."""

from __future__ import annotations

from pathlib import Path

from nblabel.io import AtomicFile

__all__ = ["cache_path", "read_cache", "write_cache"]


def read_cache(path: str) -> bytes | None:
    """A cache file's bytes, in a folder or under an ``s3://`` prefix (a HEAD, then a GET, with
    the process's own AWS settings); None when it is not there."""
    if path.startswith("s3://"):
        from nblabel.io.s3 import object_exists, read_bytes

        return read_bytes(path) if object_exists(path) else None
    try:
        return Path(path).read_bytes()
    except FileNotFoundError:
        return None


def write_cache(path: str, data: bytes) -> None:
    """Write a cache file whole, in a folder (written aside and renamed: processes sharing the
    folder never read half a file) or under an ``s3://`` prefix (one PUT: readers see all of it
    or none)."""
    if path.startswith("s3://"):
        from nblabel.io.s3 import put_bytes

        put_bytes(path, data)
        return
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with AtomicFile(path) as out:
        out.write(data)


def cache_path(folder: str | Path, *parts: str) -> str:
    """``parts`` joined under a cache folder or ``s3://`` prefix (a folder made absolute)."""
    root = str(folder).rstrip("/") if str(folder).startswith("s3://") else str(Path(folder).resolve())
    return "/".join([root, *parts])
