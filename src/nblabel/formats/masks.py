"""Segmentation masks as a folder of index PNGs plus a colour map, the layout training tools read.

:func:`to_masks` reads an augmented manifest DataFrame (``job.to_dataframe()`` or any Ground
Truth ``groundtruth/semantic-segmentation`` output) and writes ``<folder>/<image stem>.png`` per
labeled image, an indexed PNG whose pixel value is the class index (0 = ``BACKGROUND``) and whose
palette is the class colours, and ``<folder>/color_map.json`` (locally or under an ``s3://``
prefix)::

    {"classes": [{"index": 0, "name": "BACKGROUND", "color": "#ffffff"},
                 {"index": 1, "name": "road", "color": "#1f77b4"}, ...]}

Every mask is decoded by colour through its row's ``internal-color-map`` (so GT masks with the
2020 index bug come out right) and renumbered to one class list for the whole folder: the order
the rows' colour maps first name the classes, or ``labels`` when given. The folder is written
whole or not at all.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from nblabel.io.folders import image_stem, write_folder
from nblabel.manifest import is_missing
from nblabel.masks import BACKGROUND, mask_png, palette_colors, read_gt_mask

__all__ = ["mask_classes", "to_masks"]

COLOR_MAP = "color_map.json"


def _rows(df: pd.DataFrame, attribute: str) -> list[tuple[int, str, str, dict[str, Any]]]:
    """(row, source-ref, mask location, metadata) for each row with a mask."""
    if attribute not in df.columns:
        raise ValueError(f"the DataFrame has no label attribute {attribute!r}; columns: {list(df.columns)}")
    meta_col = f"{attribute}-metadata"
    if meta_col not in df.columns:
        raise ValueError(f"the DataFrame has no {meta_col!r} column with the masks' internal-color-map")
    if "source-ref" not in df.columns:
        raise ValueError("mask exports need a 'source-ref' column naming each image")
    out = []
    for row, (ref, label, meta) in enumerate(zip(df["source-ref"], df[attribute], df[meta_col], strict=True)):
        if label is None or is_missing(label):
            continue
        meta = json.loads(meta) if isinstance(meta, str) else meta
        if not isinstance(meta, dict) or not isinstance(meta.get("internal-color-map"), dict):
            raise ValueError(f"row {row} ({ref}): {meta_col!r} has no internal-color-map")
        out.append((row, str(ref), str(label), meta))
    return out


def mask_classes(df: pd.DataFrame, attribute: str) -> list[tuple[str, str]]:
    """(name, hex colour) by class index for a folder of masks: ``BACKGROUND`` first, then the
    classes in the order the rows' ``internal-color-map`` first name them.

    Raises
    ------
    ValueError
        Two rows give one class different colours.
    """
    classes: dict[str, str] = {BACKGROUND: "#ffffff"}
    for row, ref, _mask, meta in _rows(df, attribute):
        cmap = meta["internal-color-map"]
        for key in sorted(cmap, key=lambda k: int(k) if str(k).isdigit() else 0):
            entry = cmap[key]
            name = str(entry.get("class-name", f"class_{key}"))
            color = str(entry.get("hex-color") or "").lower()
            known = classes.setdefault(name, color)
            if color and known and known != color and name != BACKGROUND:
                raise ValueError(
                    f"row {row} ({ref}): class {name!r} is {color} here but {known} in an earlier row"
                )
    fallback = palette_colors(len(classes) - 1)
    return [(name, color or fallback[i]) for i, (name, color) in enumerate(classes.items())]


def to_masks(
    df: pd.DataFrame,
    attribute: str,
    folder: str | os.PathLike[str],
    *,
    labels: Sequence[str] | None = None,
    overwrite: bool = False,
    client: Any = None,
) -> Path | str:
    """Write the masks of ``attribute`` as index PNGs plus ``color_map.json``; returns the folder
    (a Path, or the ``s3://`` URI).

    Parameters
    ----------
    df
        An augmented manifest with ``source-ref``, ``<attribute>`` (mask locations: paths or
        ``s3://`` URIs) and ``<attribute>-metadata``.
    attribute
        The segmentation label attribute (it ends in ``-ref``).
    folder
        Where to write (a local folder or ``s3://`` prefix); it must hold no files unless
        ``overwrite``.
    labels
        The class names for indices 1, 2, ...; default: as :func:`mask_classes` finds them.
    client
        A boto3 S3 client for an ``s3://`` folder; default from the standard AWS settings.

    Raises
    ------
    ValueError
        A mask cannot be read or has a class outside ``labels``; two images share a file stem.
    FileExistsError
        The folder holds files and ``overwrite`` is False.
    nblabel.ExportError
        A file could not be written; nothing was left behind.
    """
    rows = _rows(df, attribute)
    if labels is None:
        classes = mask_classes(df, attribute)
    else:
        names = [BACKGROUND, *labels]
        classes = list(zip(names, palette_colors(len(labels)), strict=True))
    names = [name for name, _ in classes[1:]]
    colors = [color for _, color in classes]
    stems = image_stem((row, ref) for row, ref, _, _ in rows)
    files: dict[str, bytes] = {}
    for row, ref, mask, meta in rows:
        try:
            indices, _ = read_gt_mask(mask, meta, names, attribute)
        except ValueError as exc:
            raise ValueError(f"row {row} ({ref}): {exc}") from None
        files[f"{stems[row]}.png"] = mask_png(indices, colors)
    table = [{"index": i, "name": name, "color": color} for i, (name, color) in enumerate(classes)]
    files[COLOR_MAP] = (json.dumps({"classes": table}, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
    return write_folder(folder, files, overwrite=overwrite, client=client)
