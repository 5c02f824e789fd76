"""Stable item keys for manifest lines.

An item's key must survive kernel restarts and re-reading the manifest, because the store files
answers under it. It is the ``source-ref`` string for binary objects, or a digest of the
``source`` text for inline text, plus ``#n`` for the n-th repeat (n >= 2) of the same source.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from typing import Any

import numpy as np
import pandas as pd

from nblabel.manifest import is_missing

__all__ = ["KeyPositions", "item_keys", "source_column"]


def source_column(df: pd.DataFrame) -> str:
    """The column that holds each item: ``source-ref`` if present, else ``source``.

    Raises
    ------
    ValueError
        Neither column exists.
    """
    for column in ("source-ref", "source"):
        if column in df.columns:
            return column
    raise ValueError(
        "the manifest has neither a 'source-ref' nor a 'source' column; "
        f"its columns are {list(map(str, df.columns))}"
    )


def item_keys(df: pd.DataFrame) -> list[str]:
    """One stable key per row of a manifest DataFrame, in row order.

    Raises
    ------
    ValueError
        A row has neither ``source-ref`` nor ``source``; the message names the row.
    """
    has_ref = "source-ref" in df.columns
    has_text = "source" in df.columns
    if not (has_ref or has_text):
        source_column(df)  # raises with the column list
    refs = df["source-ref"].tolist() if has_ref else [pd.NA] * len(df)
    if has_ref and set(map(type, refs)) == {str}:
        bases = refs  # every row has a source-ref: the common case, no per-row work
    else:
        texts = df["source"].tolist() if has_text else [pd.NA] * len(df)
        bases = [_base(row, ref, text) for row, (ref, text) in enumerate(zip(refs, texts, strict=True))]
    if len(set(bases)) == len(bases):
        return bases  # no repeats: each key is its source
    seen: Counter[str] = Counter()
    used: set[str] = set()
    keys = []
    for base in bases:
        seen[base] += 1
        key = base if seen[base] == 1 else f"{base}#{seen[base]}"
        while key in used:  # a real source spelled like a repeat, e.g. "a.jpg#2"
            seen[base] += 1
            key = f"{base}#{seen[base]}"
        used.add(key)
        keys.append(key)
    return keys


def _base(row: int, ref: Any, text: Any) -> str:
    if isinstance(ref, str):
        return ref
    if isinstance(text, str):
        return "source:" + hashlib.sha1(text.encode("utf-8")).hexdigest()[:20]
    bad = "missing" if is_missing(ref) and is_missing(text) else "not a string"
    raise ValueError(f"row {row}: 'source-ref'/'source' is {bad}")


class KeyPositions:
    """The row position of each item key, looked up like a dict.

    A dict of a million keys also holds a million int objects (about 60 MB in all); a pandas
    Index holds the keys in one array plus its hash table (about 45 MB). From a million keys up,
    pandas needs no table at all when the keys are sorted, as manifests often are: it bisects.
    """

    def __init__(self, keys: list[str]) -> None:
        self._index = pd.Index(np.array(keys, dtype=object), dtype=object, copy=False)
        if keys:
            # Builds the lookup structure now: the first answer must not pay for it, and pandas
            # builds it lazily without a lock, while the widget looks keys up from two threads.
            self._index.get_loc(keys[0])

    def __len__(self) -> int:
        return len(self._index)

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and key in self._index

    def __getitem__(self, key: str) -> int:
        if not isinstance(key, str):
            raise KeyError(key)
        return int(self._index.get_loc(key))

    def get(self, key: str, default: int | None = None) -> int | None:
        """The key's position, or ``default`` when it is not an item key."""
        try:
            return self[key]
        except KeyError:
            return default
