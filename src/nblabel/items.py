"""Stable item keys for manifest lines.

An item's key must survive kernel restarts and re-reading the manifest, because the store files
answers under it. It is the ``source-ref`` string for binary objects, or a digest of the
``source`` text for inline text, plus ``#n`` for the n-th repeat (n >= 2) of the same source.
"""

from __future__ import annotations

import hashlib
from collections import Counter

import pandas as pd

from nblabel.manifest import is_missing

__all__ = ["item_keys", "source_column"]


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
    texts = df["source"].tolist() if has_text else [pd.NA] * len(df)
    seen: Counter[str] = Counter()
    used: set[str] = set()
    keys = []
    for row, (ref, text) in enumerate(zip(refs, texts, strict=True)):
        if isinstance(ref, str):
            base = ref
        elif isinstance(text, str):
            base = "source:" + hashlib.sha1(text.encode("utf-8")).hexdigest()[:20]
        else:
            bad = "missing" if is_missing(ref) and is_missing(text) else "not a string"
            raise ValueError(f"row {row}: 'source-ref'/'source' is {bad}")
        seen[base] += 1
        key = base if seen[base] == 1 else f"{base}#{seen[base]}"
        while key in used:  # a real source spelled like a repeat, e.g. "a.jpg#2"
            seen[base] += 1
            key = f"{base}#{seen[base]}"
        used.add(key)
        keys.append(key)
    return keys
