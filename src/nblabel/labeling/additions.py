"""Rows added to an open job, as in Ground Truth's streaming labeling jobs (``Job.add``).

Added rows are kept in the store, in a table beside the answer log (``added_items``), never in
the notebook: every kernel of the job sees them (the answer log reads new ones each time it
refreshes), the auto-labeler's worker featurizes and predicts them in its next round, and a
``Job`` re-created over its original DataFrame gets them back, after the original rows, in the
order they were added. A store from before the table simply has no added rows.

Each row has a deduplication key, so adding an item again is a no-op: by default the item's key
(its ``source-ref``, or a digest of its ``source`` text), or the value of a column the caller
names. A row of the original manifest counts as added already.
"""

from __future__ import annotations

import json
import logging

import pandas as pd

from nblabel.labeling.items import Items, item_bases
from nblabel.manifest import dumps_line, is_missing, row_objects
from nblabel.store import Store

__all__ = ["Additions"]

log = logging.getLogger(__name__)


class Additions:
    """The rows added to one attribute's job: writes new ones, and follows the store's.

    Parameters
    ----------
    store
        The job's store, where added rows are kept.
    attribute
        The job's label attribute (added rows belong to it, as answers do).
    items
        The job's items, which :meth:`refresh` extends.
    """

    def __init__(self, store: Store, attribute: str, items: Items) -> None:
        self.store = store
        self.attribute = attribute
        self.items = items
        self.seq = 0  # the last added row read from the store

    def add(self, data: pd.DataFrame, key: str | None = None) -> int:
        """Store the rows of ``data`` that are not in the job yet; how many were new.

        The rows are checked as the job's manifest is (the task's columns, the file rule of the
        job's ``media_root``) before anything is stored; they enter the job at the next
        :meth:`refresh`.

        Raises
        ------
        ValueError
            A row is not a valid line for the job's task, or lacks the ``key`` column's value.
        KeyError
            ``key`` names no column of ``data``.
        OSError
            The store could not be written; nothing was added.
        """
        items = self.items
        checked = Items(data, items.task, items.name, items.media_root)  # raises, naming the row
        bases = item_bases(checked.data)
        if key is None:
            dedups = bases
            known = items.has
        else:
            if key not in checked.data.columns:
                raise KeyError(f"no column {key!r} to deduplicate on; the columns are {list(data.columns)}")
            values = checked.data[key].tolist()
            missing = [row for row, v in enumerate(values) if is_missing(v) or v is None]
            if missing:
                raise ValueError(f"row {missing[0]}: the deduplication column {key!r} is empty")
            dedups = [f"{key}={v}" for v in values]
            stored = set()
            if key in items.data.columns:
                stored = {
                    f"{key}={v}" for v in items.data[key].tolist() if not is_missing(v) and v is not None
                }
            known = stored.__contains__
        rows, seen = [], set()
        for dedup, base, line in zip(dedups, bases, row_objects(checked.data), strict=True):
            if known(dedup) or dedup in seen:
                continue
            seen.add(dedup)
            rows.append((dedup, self._free_key(base), dumps_line(line)))
        return len(self.store.add_items(self.attribute, rows)) if rows else 0

    def _free_key(self, base: str) -> str:
        """``base``, or ``base#n`` with the first ``n`` no item has (the manifest's rule for
        repeats); the store renames it again if another kernel took it meanwhile."""
        key, n = base, 1
        while self.items.has(key):
            n += 1
            key = f"{base}#{n}"
        return key

    def refresh(self) -> int:
        """Append the rows other kernels (or this one) added since the last look to the items;
        how many. Rows this kernel's file rule refuses (another ``media_root``) are left out,
        with a warning."""
        stored = self.store.added_items(self.attribute, after=self.seq)
        if not stored:
            return 0
        self.seq = stored[-1][0]
        fresh = [(item, line) for _, _, item, line in stored if not self.items.has(item)]
        if not fresh:
            return 0
        keys = [item for item, _ in fresh]
        rows = pd.DataFrame.from_records([json.loads(line) for _, line in fresh])
        try:
            self._check(rows)
        except ValueError:
            keep = []
            for position in range(len(rows)):
                try:
                    self._check(rows.iloc[[position]])
                    keep.append(position)
                except ValueError as exc:
                    log.warning("nblabel: leaving out the added item %s: %s", keys[position], exc)
            keys = [keys[p] for p in keep]
            rows = rows.iloc[keep]
        self.items.extend(keys, rows)
        return len(keys)

    def _check(self, rows: pd.DataFrame) -> None:
        """Check added rows as the job's own manifest was checked (``ValueError`` if refused)."""
        if len(rows):
            Items(rows, self.items.task, self.items.name, self.items.media_root)
