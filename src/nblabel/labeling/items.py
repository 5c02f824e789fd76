"""A job's items: the manifest's rows, their stable keys, positions and sources.

An item's key must survive kernel restarts and re-reading the manifest, because the store files
answers under it. It is the ``source-ref`` string for binary objects, or a digest of the
``source`` text for inline text, plus ``#n`` for the n-th repeat (n >= 2) of the same source.
:class:`Items` is the table the rest of the labeling core looks items up in.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections import Counter
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np
import pandas as pd

from nblabel.io.guard import FileGuard
from nblabel.manifest import is_missing
from nblabel.manifest_index import ManifestIndex, ManifestKeys
from nblabel.tasks.base import Task

__all__ = ["Items", "KeyPositions", "item_bases", "item_keys", "numbered", "source_column"]


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
        A row has neither ``source-ref`` nor ``source``, or its source holds a lone UTF-16
        surrogate or a NUL character (no store can keep such a key); the message names the row.
    """
    bases = item_bases(df)
    if len(set(bases)) == len(bases):
        return bases  # no repeats: each key is its source
    return numbered(bases)


def numbered(bases: list[str]) -> list[str]:
    """The item keys of rows with these bases: a repeated base gets ``#n`` from its second row."""
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


def item_bases(df: pd.DataFrame) -> list[str]:
    """Each row's item key before repeats are numbered: its ``source-ref``, or a digest of its
    ``source`` text (what makes two rows the same item).

    Raises
    ------
    ValueError
        As :func:`item_keys`.
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
    _check_storable(bases)
    return bases


def _check_storable(sources: list[str]) -> None:
    """Refuse sources no store can keep as keys, naming the first such row (one pass over all
    of them in C; the rows are searched only when one is found)."""
    joined = "".join(sources)
    try:
        joined.encode("utf-8")
        if "\x00" not in joined:
            return
    except UnicodeEncodeError:
        pass
    for row, source in enumerate(sources):
        if "\x00" in source:
            raise ValueError(f"row {row}: 'source-ref' contains a NUL character")
        try:
            source.encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError(
                f"row {row}: 'source-ref' holds a lone UTF-16 surrogate ({source[:80]!r}), which UTF-8 cannot hold"
            ) from None


def _base(row: int, ref: Any, text: Any) -> str:
    if isinstance(ref, str):
        return ref
    if isinstance(text, str):
        try:
            data = text.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise ValueError(
                f"row {row}: 'source' holds a lone UTF-16 surrogate at character {exc.start}, which "
                "UTF-8 cannot hold"
            ) from None
        return "source:" + hashlib.sha1(data).hexdigest()[:20]
    bad = "missing" if is_missing(ref) and is_missing(text) else "not a string"
    raise ValueError(f"row {row}: 'source-ref'/'source' is {bad}")


class KeyPositions:
    """The row position of each item key, looked up like a dict.

    A dict of a million keys also holds a million int objects (about 60 MB in all); a pandas
    Index holds the keys in one array plus its hash table (about 45 MB). From a million keys up,
    pandas needs no table at all when the keys are sorted, as manifests often are: it bisects.
    The keys of a lazily opened manifest are not held at all: its index looks them up by hash
    (:meth:`~nblabel.manifest_index.ManifestIndex.position`).
    """

    def __init__(self, keys: list[str] | ManifestIndex) -> None:
        # Keys added to the open job (Job.add): a small dict beside the index, which is not
        # rebuilt for a few added rows.
        self._added: dict[str, int] = {}
        self._lazy = keys if isinstance(keys, ManifestIndex) else None
        if isinstance(keys, ManifestIndex):
            self._index = pd.Index([], dtype=object)
            self.unique = keys.unique
            return
        self._index = pd.Index(np.array(keys, dtype=object), dtype=object, copy=False)
        #: Whether no key is given twice (pandas learns it with the lookup structure).
        self.unique = bool(self._index.is_unique)
        if keys:
            # Builds the lookup structure now: the first answer must not pay for it, and pandas
            # builds it lazily without a lock, while the widget looks keys up from two threads.
            self._index.get_loc(keys[0])

    def __len__(self) -> int:
        return (len(self._lazy) if self._lazy is not None else len(self._index)) + len(self._added)

    def __contains__(self, key: object) -> bool:
        if self._lazy is not None:
            return isinstance(key, str) and self.get(key) is not None
        return isinstance(key, str) and (key in self._added or key in self._index)

    def __getitem__(self, key: str) -> int:
        if not isinstance(key, str):
            raise KeyError(key)
        if key in self._added:
            return self._added[key]
        if self._lazy is not None:
            position = self._lazy.position(key)
            if position is None:
                raise KeyError(key)
            return position
        return int(self._index.get_loc(key))

    def extend(self, keys: list[str]) -> None:
        """Give the next positions to keys added to the job."""
        start = len(self)
        self._added.update(zip(keys, range(start, start + len(keys)), strict=True))

    def get(self, key: str, default: int | None = None) -> int | None:
        """The key's position, or ``default`` when it is not an item key."""
        try:
            return self[key]
        except KeyError:
            return default


class Items:
    """The rows of a job's manifest as the labeling core sees them.

    Parameters
    ----------
    data
        The manifest DataFrame (its index is reset), or a manifest opened lazily
        (:class:`~nblabel.manifest_index.ManifestIndex`, for a task that labels ``source-ref``
        and reads no other column): its rows are then read when asked for, and :attr:`data`
        reads the whole file on first use.
    task
        The task: which column holds each item (``source-ref`` for images, ``source`` for
        texts) and which input attributes it reads.
    name
        The job's name, for error messages.
    media_root
        See :class:`nblabel.Job`: the folder local files must come from. Every local file the
        rows name (``source-ref``, a mask to adjust or verify) is checked against it here, and
        read through :attr:`files`.

    Raises
    ------
    ValueError
        The manifest lacks the column the task labels or an attribute it reads, a row has no
        source, or a local path escapes ``media_root``.
    """

    def __init__(
        self,
        data: pd.DataFrame,
        task: Task,
        name: str,
        media_root: str | os.PathLike[str] | None = None,
    ) -> None:
        self.task = task
        self.name = name
        self.media_root = media_root
        #: The job's file rule (:class:`~nblabel.io.guard.FileGuard`): what reads its files.
        self.files = FileGuard(media_root)
        # A lazily opened manifest, and the rows added to the job since (Job.add), until the
        # whole DataFrame is asked for.
        self._index = data if isinstance(data, ManifestIndex) else None
        self._added: list[pd.DataFrame] = []
        if self._index is not None:
            self._open_lazily(self._index)
            return
        self._data: pd.DataFrame | None = data.reset_index(drop=True)
        wanted = "source-ref" if task.media == "image" else "source"
        if task.media == "any":  # a custom task shows whatever its template makes of a line
            wanted = source_column(self.data)
        if wanted not in self.data.columns:
            raise ValueError(
                f"{type(task).__name__} labels the {task.media} in each line's {wanted!r}, but the "
                f"manifest's columns are {list(map(str, self.data.columns))}"
            )
        missing = [c for c in task.columns if c not in self.data.columns]
        if missing:
            raise ValueError(
                f"{task!r} reads the manifest attribute(s) {missing}, which the manifest lacks; its "
                f"columns are {list(map(str, self.data.columns))}"
            )
        #: The column that holds each item (``source-ref`` or ``source``).
        self.column = wanted
        self.keys = item_keys(self.data)
        self.positions = KeyPositions(self.keys)
        self.sources: list[Any] = self.data[wanted].tolist()
        if wanted == "source-ref":
            self.files.check(self.sources)
        if task.columns:
            self._check_input_files()

    def _open_lazily(self, index: ManifestIndex) -> None:
        if self.task.media not in ("image", "any") or self.task.columns:
            raise ValueError(f"{self.task!r} needs the manifest read whole: pass read_manifest(...) instead")
        self._data = None
        self.column = "source-ref"
        # Unique references are the keys, read from the file when asked for (two sequences:
        # rows added later extend each); repeated ones are numbered as a DataFrame's are.
        self.sources = ManifestKeys(index)
        self.keys = ManifestKeys(index)
        self.positions = KeyPositions(index)
        if not index.unique:
            self.sources = list(index.keys)
            self.keys = numbered(self.sources)
            self.positions = KeyPositions(self.keys)
        if index.may_climb or self.media_root is not None:
            self.files.check(self.sources)

    @property
    def data(self) -> pd.DataFrame:
        """The manifest DataFrame, one row per item (index reset); a lazily opened manifest is
        read whole on first use."""
        if self._data is None:
            assert self._index is not None
            self._data = pd.concat([self._index.to_dataframe(), *self._added], ignore_index=True)
            self._added = []
        return self._data

    def may_have(self, column: str) -> bool:
        """Whether the manifest may have ``column``: exact for a DataFrame; for a lazily opened
        manifest, False only when no line can hold the key (the file never spells it)."""
        if self._data is not None or self._index is None:
            return column in self.data.columns
        if any(column in frame.columns for frame in self._added):
            return True
        if column.endswith("-metadata") and not self._index.metadata:  # known from the scan
            return False
        return self._index.mentions(json.dumps(column))

    def rows(self, positions: list[int]) -> pd.DataFrame:
        """The manifest rows at ``positions``, indexed by position; read from the file when the
        manifest was opened lazily (with the columns those rows have)."""
        if self._data is not None or self._index is None:
            return self.data.iloc[positions]
        stored = len(self._index)
        frames = [self._index.rows([p for p in positions if p < stored])]
        if self._added and any(p >= stored for p in positions):
            added = pd.concat(self._added, ignore_index=True)
            added.index = pd.RangeIndex(stored, stored + len(added))
            frames.append(added.loc[[p for p in positions if p >= stored]])
        return pd.concat(frames).loc[positions] if len(frames) > 1 else frames[0]

    def __len__(self) -> int:
        return len(self.keys)

    @property
    def lazy(self) -> bool:
        """Whether the manifest is read from its file when needed (not yet read whole)."""
        return self._data is None

    def chunks(self, rows: int) -> Iterator[pd.DataFrame]:
        """The manifest rows as DataFrames of at most ``rows`` rows, in order, indexed by
        position; a lazily opened manifest is read a chunk at a time (then the added rows)."""
        if self._data is not None or self._index is None:
            for start in range(0, len(self.data), rows):
                yield self.data.iloc[start : start + rows]
            return
        yield from self._index.chunks(rows)
        if self._added:
            added = pd.concat(self._added, ignore_index=True)
            added.index = pd.RangeIndex(len(self._index), len(self._index) + len(added))
            for start in range(0, len(added), rows):
                yield added.iloc[start : start + rows]

    def extend(self, keys: list[str], rows: pd.DataFrame) -> None:
        """Append rows added to the open job (see :mod:`nblabel.labeling.additions`), already
        checked, under the keys the store gave them.

        Widgets read items from other threads: the keys go in last, so any key a reader finds
        already has its position, source and row.
        """
        if not keys:
            return
        if self._data is None:
            self._added.append(rows.reset_index(drop=True))
        else:
            self._data = pd.concat([self._data, rows.reset_index(drop=True)], ignore_index=True)
        self.sources.extend(rows[self.column].tolist())
        self.positions.extend(keys)
        self.keys.extend(keys)

    def _check_input_files(self) -> None:
        """The files the task's input columns name (masks to adjust or verify) follow the same
        rule as ``source-ref``; the task reads them later with only the file itself checked."""
        for position in range(len(self.keys)):
            try:
                named = self.task.input_files(self.row_inputs(position))
            except ValueError:  # malformed -metadata: no file is read; the widget names the cause
                continue
            for column, ref in named:
                why = self.files.refusal(ref)
                if why:
                    raise ValueError(f"row {position}: {column} {why}")

    def key(self, item: int | str) -> str:
        """The item key of a row position or an item key.

        Raises
        ------
        KeyError
            No such item.
        """
        if isinstance(item, int) and not isinstance(item, bool):
            if not 0 <= item < len(self.keys):
                raise KeyError(f"row {item} is outside the job's {len(self.keys)} items")
            return self.keys[item]
        if isinstance(item, str) and item in self.positions:
            return item
        raise KeyError(f"no item {item!r} in job {self.name!r}")

    def has(self, key: str) -> bool:
        """True when ``key`` is one of the item keys."""
        return key in self.positions

    def position(self, item: int | str) -> int:
        """The row position of an item (row position or key)."""
        return self.positions[self.key(item)]

    def source(self, position: int) -> Any:
        """The ``source-ref`` or ``source`` of a row."""
        return self.sources[position]

    def source_of(self, key: str) -> Any:
        """The ``source-ref`` or ``source`` of an item key."""
        return self.sources[self.positions[key]]

    def row_inputs(self, position: int) -> dict[str, Any]:
        """The input attributes the task reads for a row (see ``Task.columns``), with their
        ``-metadata`` when the manifest has it."""
        row: dict[str, Any] = {}
        for column in self.task.columns:
            for name in (column, f"{column}-metadata"):
                if name in self.data.columns:
                    row[name] = self.data.at[position, name]
        return row

    def line(self, position: int) -> Mapping[str, Any]:
        """One manifest line, read lazily (pre-annotators rarely need it)."""
        return _Line(self, position)


class _Line(Mapping[str, Any]):
    """One manifest line, read when first looked at."""

    def __init__(self, items: Items, position: int) -> None:
        self._items = items
        self._position = position
        self._row: pd.DataFrame | None = None

    def _frame(self) -> pd.DataFrame:
        if self._row is None:
            self._row = self._items.rows([self._position])
        return self._row

    def __getitem__(self, key: str) -> Any:
        if key not in self._frame().columns:
            raise KeyError(key)
        return self._frame()[key].iat[0]

    def __iter__(self) -> Iterator[str]:
        return iter(map(str, self._frame().columns))

    def __len__(self) -> int:
        return len(self._frame().columns)
