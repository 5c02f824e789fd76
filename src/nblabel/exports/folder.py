"""Writing an export folder whole: the helpers every folder-of-files export shares."""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Iterable
from pathlib import Path, PurePosixPath

__all__ = ["image_stem", "write_folder"]


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


def write_folder(folder: str | os.PathLike[str], files: dict[str, bytes], overwrite: bool) -> Path:
    """Write files into a new folder all at once: staged aside, then renamed into place.

    Raises
    ------
    FileExistsError
        The folder exists and ``overwrite`` is False.
    """
    target = Path(folder)
    if target.exists() and not overwrite:
        raise FileExistsError(f"{target} already exists; pass overwrite=True to replace it")
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.parent / f".{target.name}.nblabel-{secrets.token_hex(4)}"
    try:
        staging.mkdir()
        for name, data in files.items():
            (staging / name).write_bytes(data)
        if target.exists():
            old = target.parent / f".{target.name}.old-{secrets.token_hex(4)}"
            target.rename(old)
            staging.rename(target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            staging.rename(target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target
