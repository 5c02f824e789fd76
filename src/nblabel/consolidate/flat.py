"""Per-item answer lists flattened to parallel arrays, the form the vectorised consolidations use.

A consolidation's input is a mapping of item to ``(annotator, value)`` pairs; at a million items
a Python loop per item and per answer is most of the time. :func:`flatten` turns it into arrays
once (an item index and an annotator index per answer, and the values), keeping only each
annotator's last answer to an item, in the order the per-item loops saw them: items in the
mapping's order, annotators in the order they first answered the item. Sums over answers then
run in the same order as before, so the results are the same to the last bit.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from itertools import chain
from typing import Any

import numpy as np
import pandas as pd

from nblabel.consolidate.result import Answers

__all__ = ["FlatAnswers", "class_codes", "flatten", "not_a_class"]


@dataclass(frozen=True)
class FlatAnswers:
    """Answers as parallel arrays, one entry per (item, annotator): the annotator's last answer.

    Attributes
    ----------
    items
        The items with at least one answer, in the mapping's order.
    annotators
        The annotators, in the order of their first answer (items in order).
    item, annotator
        Per answer, the index of its item in ``items`` and of its annotator in ``annotators``;
        ``item`` is non-decreasing.
    values
        Per answer, the value (an object array).
    """

    items: list[Hashable]
    annotators: list[str]
    item: np.ndarray
    annotator: np.ndarray
    values: np.ndarray

    def given(self) -> np.ndarray:
        """How many annotators answered each item."""
        return np.bincount(self.item, minlength=len(self.items))


def flatten(answers: Answers) -> FlatAnswers:
    """The answers as :class:`FlatAnswers` (see the module docstring)."""
    keys = list(answers)
    lists = list(answers.values())
    sizes = np.fromiter(map(len, lists), dtype=np.int64, count=len(lists))
    pairs = list(chain.from_iterable(lists))
    if set(map(len, pairs)) - {2}:
        raise ValueError("each answer must be an (annotator, value) pair")
    who, values_ = zip(*pairs, strict=True) if pairs else ((), ())  # transposed in C: no loop per answer
    del pairs
    values = np.fromiter(values_, dtype=object, count=len(values_))
    # Numbered in order of first appearance; None or NaN as a name is a name like any other.
    annotator, names = pd.factorize(np.fromiter(who, dtype=object, count=len(who)), use_na_sentinel=False)
    index = names.tolist()
    answered = sizes > 0
    item = np.repeat(np.arange(int(answered.sum()), dtype=np.int64), sizes[answered])
    items = [key for key, n in zip(keys, sizes.tolist(), strict=True) if n]
    code = item * max(len(index), 1) + annotator
    repeated = pd.Index(code).duplicated(keep="first")
    if repeated.any():  # someone answered an item twice: their first place, their last value
        firsts = np.flatnonzero(~repeated)
        lasts = np.flatnonzero(~pd.Index(code).duplicated(keep="last"))
        value_at = np.empty(len(firsts), dtype=np.int64)
        value_at[np.argsort(code[firsts], kind="stable")] = lasts[np.argsort(code[lasts], kind="stable")]
        item, annotator, values = item[firsts], annotator[firsts], values[value_at]
    return FlatAnswers(items, index, item, annotator.astype(np.int64, copy=False), values)


def class_codes(flat: FlatAnswers, classes: Sequence[Any], error: Any) -> np.ndarray:
    """Each value's index in ``classes``; ``error(key, value)`` makes the exception raised for
    the first value that is not one of them (in answer order)."""
    index = {name: i for i, name in enumerate(classes)}
    get = index.get

    def code(value: Any) -> int:
        try:
            return get(value, -1)
        except TypeError:  # an unhashable value (a list): not a class either
            return -1

    try:
        codes = np.fromiter((get(v, -1) for v in flat.values), dtype=np.int64, count=len(flat.values))
    except TypeError:
        codes = np.fromiter(map(code, flat.values), dtype=np.int64, count=len(flat.values))
    bad = np.flatnonzero(codes < 0)
    if len(bad):
        first = int(bad[0])
        raise error(flat.items[int(flat.item[first])], flat.values[first])
    return codes


def not_a_class(classes: Sequence[Any]) -> Any:
    """The error for an answer outside ``classes`` (for :func:`class_codes`)."""

    def error(key: Hashable, value: Any) -> ValueError:
        return ValueError(f"item {key}: answer {value!r} is not one of the classes {classes}")

    return error
