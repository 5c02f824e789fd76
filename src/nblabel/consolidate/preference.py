"""Preferences over responses as scores and agreement: leaderboards and ordinal measures.

A *leaderboard* ranks the systems behind the responses (or the response columns) from people's
pairwise choices or rankings, with `choix <https://github.com/lucasmaystre/choix>`_'s
maximum-likelihood fits (iterative Luce spectral ranking):

- pairwise answers, and rankings on dimensions that allow ties: Bradley-Terry over the pairs.
  A tie counts as one win each way (choix has no tie parameter; this is the usual reading of a
  tie as half a win for each);
- rankings without ties: Plackett-Luce over each full ranking.

Scores are log-strengths centred on 0 (a difference of 1 means ``e`` times the odds of being
preferred). The 95% intervals come from a bootstrap over items (an item's answers stay
together), so they widen where few items compare two systems. A small ridge (``alpha``) keeps
a system that never lost finite. The intervals are of the strengths the people's answers carry:
label noise (answers that go against the better system) shrinks every score toward 0 and keeps
the order, so with noisy answers they do not cover the strengths noise-free judgements would
give (BENCHMARKS.md, preference section, measures both).

*Ordinal agreement* adds to :func:`nblabel.consolidate.agreement_table`: Kendall's tau-b per
pair of annotators, Krippendorff's alpha at the ordinal level, and each annotator's tie rate.
Answers are coded as ordinals: a pairwise choice as +1 (A), 0 (tie), -1 (B); a ranking as each
response's rank per dimension; a rating as each response's score per dimension.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Hashable, Mapping, Sequence
from typing import Any

import krippendorff
import numpy as np
import pandas as pd

from nblabel.consolidate.result import Answers
from nblabel.tasks.preference import Pairwise, PreferenceTask, Ranking, Rating

__all__ = [
    "answer_pairs",
    "fit_scores",
    "has_tie",
    "leaderboard",
    "ordinal_agreement",
    "ordinal_codes",
]

CHOICE_CODE = {"A": 1, "B": -1, "tie": 0}


def _dimension(task: PreferenceTask, dimension: str | None) -> str | None:
    """The ranking or rating dimension meant (the first by default); None for pairwise."""
    if isinstance(task, Pairwise):
        if dimension is not None:
            raise ValueError("a pairwise task has no dimensions")
        return None
    names = [d["name"] for d in task.dimensions] if isinstance(task, Ranking) else list(task.dimensions)
    if dimension is None:
        return names[0]
    if dimension not in names:
        raise ValueError(f"dimension {dimension!r} is not one of {names}")
    return dimension


def _ranks(value: Mapping[str, Any], dimension: str) -> list[int]:
    for entry in value["ordinalRankingDimensions"]:
        if entry["name"] == dimension:
            return list(entry["responseRankings"])
    raise KeyError(dimension)


def answer_pairs(
    task: PreferenceTask, value: Any, dimension: str | None = None
) -> list[tuple[int, int, bool]]:
    """One answer as pairwise outcomes over response positions: ``(better, worse, tie)``
    (for a tie the order means nothing). Rankings expand to every pair of responses;
    ratings compare scores."""
    if isinstance(task, Pairwise):
        choice = value["choice"]
        return [(0, 1, True)] if choice == "tie" else [(0, 1, False) if choice == "A" else (1, 0, False)]
    dim = _dimension(task, dimension)
    if isinstance(task, Ranking):
        order = [-r for r in _ranks(value, dim)]  # a smaller rank is better
    else:
        order = next(d["responseRatings"] for d in value["ratingDimensions"] if d["name"] == dim)
    out = []
    for i, j in itertools.combinations(range(len(order)), 2):
        if order[i] == order[j]:
            out.append((i, j, True))
        else:
            out.append((i, j, False) if order[i] > order[j] else (j, i, False))
    return out


def _item_data(
    task: PreferenceTask,
    values: Sequence[Any],
    names: Sequence[str],
    index: Mapping[str, int],
    dimension: str | None,
) -> tuple[list[tuple[int, int]], list[tuple[int, ...]]]:
    """An item's answers as choix data: pairs (winner, loser) and full rankings (best first)."""
    pairs: list[tuple[int, int]] = []
    rankings: list[tuple[int, ...]] = []
    plackett = isinstance(task, Ranking) and not next(
        d["allowTie"] for d in task.dimensions if d["name"] == _dimension(task, dimension)
    )
    for value in values:
        if plackett:
            ranks = _ranks(value, _dimension(task, dimension))
            order = sorted(range(len(ranks)), key=ranks.__getitem__)
            ranked = tuple(index[names[i]] for i in order)
            if len(set(ranked)) == len(ranked):
                rankings.append(ranked)
                continue
            # The same system twice in one ranking: its responses are compared pairwise instead.
        for better, worse, tie in answer_pairs(task, value, dimension):
            a, b = index[names[better]], index[names[worse]]
            if a == b:
                continue  # a system against itself says nothing about it
            pairs.append((a, b))
            if tie:
                pairs.append((b, a))
    return pairs, rankings


def fit_scores(
    n: int, pairs: Sequence[tuple[int, int]], rankings: Sequence[tuple[int, ...]], alpha: float = 0.01
) -> np.ndarray:
    """Log-strengths of ``n`` systems, centred on 0: Bradley-Terry on ``pairs`` (winner,
    loser), Plackett-Luce on ``rankings`` (best first), both by choix's ILSR; the two kinds of
    data together are fitted as rankings (a pair is a ranking of two)."""
    import choix  # here, not at the top: with SciPy it takes seconds, in every widget's kernel

    if rankings:
        params = choix.ilsr_rankings(n, [*rankings, *pairs], alpha=alpha)
    else:
        params = choix.ilsr_pairwise(n, list(pairs), alpha=alpha)
    return params - params.mean()


def leaderboard(
    task: PreferenceTask,
    answers: Answers,
    names: Mapping[Hashable, Sequence[str]],
    *,
    dimension: str | None = None,
    bootstrap: int = 200,
    alpha: float = 0.01,
    seed: int = 0,
) -> pd.DataFrame:
    """Scores with 95% intervals for the systems behind the responses.

    Parameters
    ----------
    task
        The pairwise, ranking or rating task the answers are for.
    answers
        Per item, its ``(annotator, value)`` pairs.
    names
        Per item, the system behind each response (in the task's column order).
    dimension
        The ranking or rating dimension (default: the first).
    bootstrap
        Resamples of the items for the intervals (0: none, the bounds are NaN).
    alpha
        choix's ridge: keeps a system that never lost finite.
    seed
        Seeds the bootstrap.

    Returns
    -------
    pandas.DataFrame
        One row per system, best first: ``model``, ``score``, ``lower``, ``upper``, ``wins``,
        ``losses``, ``ties``, ``comparisons``, ``method`` (``bradley-terry`` or
        ``plackett-luce``). Empty when no answer compares two systems.
    """
    systems = sorted({str(n) for key in answers for n in names[key]})
    index = {s: i for i, s in enumerate(systems)}
    per_item = []
    wins = np.zeros(len(systems), int)
    losses = np.zeros(len(systems), int)
    ties = np.zeros(len(systems), int)
    for key, given in answers.items():
        item_names = [str(n) for n in names[key]]
        values = [v for _, v in given]
        data = _item_data(task, values, item_names, index, dimension)
        if data[0] or data[1]:
            per_item.append(data)
        for value in values:
            for better, worse, tie in answer_pairs(task, value, dimension):
                a, b = index[item_names[better]], index[item_names[worse]]
                if a == b:
                    continue
                if tie:
                    ties[[a, b]] += 1
                else:
                    wins[a] += 1
                    losses[b] += 1
    columns = ["model", "score", "lower", "upper", "wins", "losses", "ties", "comparisons", "method"]
    if not per_item:
        return pd.DataFrame(columns=columns)
    method = "plackett-luce" if any(r for _, r in per_item) else "bradley-terry"

    def fit(chosen: Sequence[tuple[list, list]]) -> np.ndarray:
        pairs = [p for item_pairs, _ in chosen for p in item_pairs]
        rankings = [r for _, item_rankings in chosen for r in item_rankings]
        return fit_scores(len(systems), pairs, rankings, alpha)

    scores = fit(per_item)
    lower = upper = np.full(len(systems), math.nan)
    if bootstrap:
        rng = np.random.default_rng(seed)
        draws = np.array(
            [
                fit([per_item[i] for i in rng.integers(0, len(per_item), len(per_item))])
                for _ in range(bootstrap)
            ]
        )
        lower, upper = np.percentile(draws, [2.5, 97.5], axis=0)
    table = pd.DataFrame(
        {
            "model": systems,
            "score": scores,
            "lower": lower,
            "upper": upper,
            "wins": wins,
            "losses": losses,
            "ties": ties,
            "comparisons": wins + losses + ties,
            "method": method,
        }
    )
    return table.sort_values("score", ascending=False, kind="stable").reset_index(drop=True)


def ordinal_codes(task: PreferenceTask, value: Any) -> dict[tuple[Any, ...], int]:
    """An answer as ordinal values by unit: ``()`` → +1/0/-1 for a pairwise choice;
    ``(dimension, response)`` → its rank (ranking) or score (rating)."""
    if isinstance(task, Pairwise):
        return {(): CHOICE_CODE[value["choice"]]}
    entries = value["ordinalRankingDimensions"] if isinstance(task, Ranking) else value["ratingDimensions"]
    field = "responseRankings" if isinstance(task, Ranking) else "responseRatings"
    return {(e["name"], i): int(v) for e in entries for i, v in enumerate(e[field])}


def has_tie(task: PreferenceTask, value: Any) -> bool:
    """Whether an answer holds a tie: the pairwise ``tie``, or equal ranks on any dimension
    (ratings: equal scores)."""
    if isinstance(task, Pairwise):
        return value["choice"] == "tie"
    return any(tie for _, _, tie in _all_pairs(task, value))


def _all_pairs(task: PreferenceTask, value: Any) -> list[tuple[int, int, bool]]:
    dims = [d["name"] for d in task.dimensions] if isinstance(task, Ranking) else list(task.dimensions)
    return [p for d in dims for p in answer_pairs(task, value, d)]


def ordinal_agreement(task: Any, answers: Answers) -> pd.DataFrame:
    """Ordinal agreement rows for a preference task's answers (empty for any other task).

    Rows as :func:`nblabel.consolidate.agreement_table`'s (``measure``, ``annotator``,
    ``other``, ``value``, ``items``): ``kendall_tau`` per pair of annotators (tau-b over the
    units both coded, on the items both answered; NaN when either gave one value only),
    ``krippendorff_alpha_ordinal`` (whole job; units with two codes or more), ``tie_rate`` per
    annotator (share of their answers holding a tie) and for the whole job.
    """
    columns = ["measure", "annotator", "other", "value", "items"]
    if not isinstance(task, (Pairwise, Ranking, Rating)):
        return pd.DataFrame(columns=columns)
    codes: dict[str, dict[tuple[Any, ...], int]] = {}
    items_of: dict[str, set[Hashable]] = {}
    ties: dict[str, list[bool]] = {}
    for key, given in answers.items():
        last = dict(given)
        for who, value in last.items():
            for unit, code in ordinal_codes(task, value).items():
                codes.setdefault(who, {})[(key, *unit)] = code
            items_of.setdefault(who, set()).add(key)
            ties.setdefault(who, []).append(has_tie(task, value))
    rows: list[tuple[str, str | None, str | None, float, int]] = []
    annotators = sorted(codes)
    units = sorted({u for c in codes.values() for u in c}, key=repr)
    if len(annotators) >= 2 and units:
        matrix = np.array([[codes[a].get(u, np.nan) for u in units] for a in annotators], dtype=float)
        coded = (~np.isnan(matrix)).sum(axis=0) >= 2
        values = np.unique(matrix[:, coded][~np.isnan(matrix[:, coded])])
        alpha = (
            float(krippendorff.alpha(reliability_data=matrix[:, coded], level_of_measurement="ordinal"))
            if coded.any() and len(values) >= 2
            else math.nan
        )
        shared_items = len({u[0] for u, ok in zip(units, coded, strict=True) if ok})
        rows.append(("krippendorff_alpha_ordinal", None, None, alpha, shared_items))
    from scipy.stats import kendalltau  # here: scipy.stats takes seconds to import

    for first, second in itertools.combinations(annotators, 2):
        common = sorted(codes[first].keys() & codes[second].keys(), key=repr)
        if not common:
            continue
        x = [codes[first][u] for u in common]
        y = [codes[second][u] for u in common]
        tau = math.nan if len(set(x)) < 2 or len(set(y)) < 2 else float(kendalltau(x, y).statistic)
        rows.append(("kendall_tau", first, second, tau, len(items_of[first] & items_of[second])))
    every = [t for who in annotators for t in ties[who]]
    if every:
        rows.append(("tie_rate", None, None, float(np.mean(every)), len(answers)))
    rows.extend(("tie_rate", who, None, float(np.mean(ties[who])), len(ties[who])) for who in annotators)
    return pd.DataFrame(rows, columns=columns)
