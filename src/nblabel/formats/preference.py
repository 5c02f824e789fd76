"""Preference answers as training pairs: ``prompt`` / ``chosen`` / ``rejected``.

The JSON Lines that preference-training libraries read (TRL's ``DPOTrainer`` and
``RewardTrainer`` take these three columns), and the same table as a DataFrame, which
``datasets.Dataset.from_pandas(pairs.table)`` turns into a Hugging Face dataset.

The rule, from an augmented manifest's labels (:meth:`nblabel.Job.to_dataframe`):

- a pairwise answer gives one pair, the chosen response against the other; a tie gives none;
- a ranking gives every pair of responses with different ranks on the dimension used (the first
  by default): ``k`` responses without ties give ``k (k - 1) / 2`` pairs, the better-ranked
  response chosen; tied responses give none;
- a rating gives every pair with different scores on the dimension, the higher score chosen;
- a corrected response (``correction=True`` tasks) is chosen over every response of its item,
  whatever the choice or scores (``chosen_rank`` 0 marks these pairs).

Ties are left out and counted (:attr:`PreferencePairs.ties`). Each row also keeps ``item`` (the
manifest row) and the ``chosen_rank`` / ``rejected_rank`` (or scores), so a trainer may weight
or filter pairs by margin.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from nblabel.io import open_writer
from nblabel.manifest import is_missing

__all__ = ["PreferencePairs", "preference_pairs", "to_preference_pairs"]

COLUMNS = ["prompt", "chosen", "rejected", "item", "chosen_rank", "rejected_rank"]


@dataclass(frozen=True)
class PreferencePairs:
    """What :func:`to_preference_pairs` made: the ``table`` (one row per pair), how many pairs
    were ``ties`` left out, and the ``path`` written (None when nothing was written)."""

    table: pd.DataFrame
    ties: int
    path: str | None = None

    def __repr__(self) -> str:
        where = f" written to {self.path}" if self.path else ""
        return f"PreferencePairs({len(self.table)} pairs, {self.ties} ties left out{where})"


def _orders(label: Any, dimension: str | None) -> list[int | float] | None:
    """Per response, a number where larger is better, from one label; None for an unknown shape."""
    if not isinstance(label, dict):
        return None
    if "choice" in label:
        # As ranks (negated: larger is better), so a pair's ranks read 1 (chosen) and 2.
        return {"A": [-1, -2], "B": [-2, -1], "tie": [-1, -1]}[label["choice"]]
    for field, entries, sign in (
        ("responseRankings", label.get("ordinalRankingDimensions"), -1),
        ("responseRatings", label.get("ratingDimensions"), 1),
    ):
        if entries:
            entry = (
                entries[0]
                if dimension is None
                else next((e for e in entries if e["name"] == dimension), None)
            )
            if entry is None:
                raise ValueError(f"no dimension {dimension!r} in {label!r}")
            return [sign * v for v in entry[field]]
    return None


def preference_pairs(
    df: pd.DataFrame,
    attribute: str,
    responses: Sequence[str],
    *,
    prompt: str = "source",
    dimension: str | None = None,
) -> PreferencePairs:
    """The pairs of a manifest DataFrame's preference labels (see the module docstring).

    Raises
    ------
    ValueError
        A column is missing, or a label names no such dimension.
    """
    missing = [c for c in (prompt, attribute, *responses) if c not in df.columns]
    if missing:
        raise ValueError(
            f"the manifest lacks the column(s) {missing}; its columns are {list(map(str, df.columns))}"
        )
    rows, ties = [], 0
    for position, (label, text) in enumerate(zip(df[attribute], df[prompt], strict=True)):
        if not isinstance(label, (dict, str)) or is_missing(label):
            continue
        if isinstance(label, str):
            label = json.loads(label)
        order = _orders(label, dimension)
        if order is None:
            continue
        if len(order) != len(responses):
            raise ValueError(
                f"row {position}: {len(order)} responses answered, {len(responses)} columns given"
            )
        texts = [df[c].iat[position] for c in responses]
        for i in range(len(order)):
            for j in range(i + 1, len(order)):
                if order[i] == order[j]:
                    ties += 1
                    continue
                better, worse = (i, j) if order[i] > order[j] else (j, i)
                rows.append(
                    (text, texts[better], texts[worse], position, abs(order[better]), abs(order[worse]))
                )
        correction = label.get("correction") if isinstance(label, dict) else None
        if correction:
            rows.extend((text, correction, t, position, 0, abs(o)) for t, o in zip(texts, order, strict=True))
    return PreferencePairs(pd.DataFrame(rows, columns=COLUMNS), ties)


def to_preference_pairs(
    df: pd.DataFrame,
    location: str | os.PathLike[str] | None,
    attribute: str,
    responses: Sequence[str],
    *,
    prompt: str = "source",
    dimension: str | None = None,
    **writer: Any,
) -> PreferencePairs:
    """Write the pairs as JSON Lines (``prompt``, ``chosen``, ``rejected`` per line) to a path
    or ``s3://`` URI, all or nothing (``writer`` options go to :func:`nblabel.io.open_writer`);
    ``location=None`` only builds the table."""
    pairs = preference_pairs(df, attribute, responses, prompt=prompt, dimension=dimension)
    if location is None:
        return pairs
    with open_writer(location, **writer) as out:
        for row in pairs.table[["prompt", "chosen", "rejected"]].itertuples(index=False):
            line = {"prompt": row.prompt, "chosen": row.chosen, "rejected": row.rejected}
            out.write((json.dumps(line, ensure_ascii=False) + "\n").encode("utf-8"))
    return PreferencePairs(pairs.table, pairs.ties, os.fspath(location))
