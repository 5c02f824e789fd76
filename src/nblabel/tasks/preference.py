"""Judging model outputs: pairwise preference, ranking and rating of responses to a prompt.

Each item is a prompt (the manifest's ``source``, as for every text task) and two or more
responses, in columns the user names (``responses=("response_a", "response_b")``). Optional
``models`` columns name the system that wrote each response; :meth:`nblabel.Job.leaderboard`
ranks them. The widget never shows them (people judge blind).

The answers (stored values, and the ``<attr>`` of GT's augmented manifest, whose metadata has
``type: groundtruth/custom`` as GT writes for its generative-AI templates):

- :class:`Ranking`: exactly the output of GT's ``crowd-text-ranking`` element,
  ``{"ordinalRankingDimensions": [{"name": "Clarity", "responseRankings": [2, 1, 2]}]}``:
  per dimension, the 1-based rank of each response in column order; equal ranks are ties,
  allowed on the dimensions whose ``allowTie`` is true. :func:`check_text_ranking` checks it.
- :class:`Pairwise`: ``{"choice": "A" | "B" | "tie", "reason": "..."}`` (``reason`` when given);
  GT's worker response is a ``crowd-classifier`` over ``A``, ``B``, ``tie``.
- :class:`Rating`: ``{"ratingDimensions": [{"name": "Helpfulness", "responseRatings": [4, 2]}],
  "comment": "..."}``: per dimension, each response's score on the Likert ``scale``, in the
  ranking element's layout.

A free-text answer: with ``correction=True`` (:class:`Pairwise` and :class:`Rating`) the person
may also write a corrected response, better than every response shown, stored as
``"correction": "..."`` beside the choice or the ratings (when given; in GT's output it sits in
the same answer object, as the reason and the comment do). Preference pairs take it as chosen
over every response of its item (:mod:`nblabel.formats.preference`).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from nblabel.manifest import is_missing
from nblabel.tasks.base import Task, gt_answer, gt_job_name
from nblabel.tasks.instructions import Instructions

__all__ = [
    "CHOICES",
    "Pairwise",
    "PreferenceTask",
    "Ranking",
    "Rating",
    "check_text_ranking",
    "ranking_dimensions",
    "response_text",
]

GT_TYPE = "groundtruth/custom"
CHOICES = ("A", "B", "tie")
MAX_TEXT = 10_000  # a reason, a comment: characters
MAX_CORRECTION = 100_000  # a corrected response: characters (responses run to a few KB)


def _where(item: str) -> str:
    return f"item {item}: " if item else ""


def _columns(names: Any, what: str, at_least: int) -> tuple[str, ...]:
    if isinstance(names, str) or not isinstance(names, Sequence):
        raise ValueError(f"{what} must be a list of column names, got {names!r}")
    names = tuple(names)
    if len(names) < at_least or not all(isinstance(n, str) and n for n in names):
        raise ValueError(f"{what} must name at least {at_least} columns, got {names!r}")
    if len(set(names)) != len(names):
        raise ValueError(f"{what} names a column twice: {names!r}")
    return names


def _free_text(value: Any, name: str, where: str, limit: int = MAX_TEXT) -> str:
    text = value if value is not None else ""
    if not isinstance(text, str):
        raise ValueError(f"{where}the {name} must be text, got {text!r}")
    if len(text) > limit:
        raise ValueError(f"{where}the {name} is {len(text)} characters; at most {limit}")
    return text.strip()


def _correction(value: Mapping[str, Any], offered: bool, where: str) -> dict[str, str]:
    """``{"correction": text}`` when the answer holds a non-empty one (and the task offers it)."""
    text = _free_text(value.get("correction"), "correction", where, MAX_CORRECTION)
    if text and not offered:
        raise ValueError(f"{where}this task takes no correction (correction=False)")
    return {"correction": text} if text else {}


def ranking_dimensions(dimensions: Any, allow_ties: Any = True) -> list[dict[str, Any]]:
    """Dimensions as GT's ``ordinal-ranking-dimensions`` attribute spells them:
    ``[{"name": ..., "allowTie": bool}]``.

    ``dimensions`` are names, or GT's dicts (their ``allowTie`` wins); ``allow_ties`` is one
    bool for all, or a bool per dimension.

    Raises
    ------
    ValueError
        No dimension, a name that is empty or repeated, or ``allow_ties`` of another length.
    """
    if isinstance(dimensions, str) or not isinstance(dimensions, Sequence) or not dimensions:
        raise ValueError(f"dimensions must be a non-empty list of names, got {dimensions!r}")
    ties = list(allow_ties) if isinstance(allow_ties, Sequence) else [allow_ties] * len(dimensions)
    if len(ties) != len(dimensions):
        raise ValueError(f"allow_ties has {len(ties)} values for {len(dimensions)} dimensions")
    out = []
    for dim, tie in zip(dimensions, ties, strict=True):
        if isinstance(dim, Mapping):
            dim, tie = dim.get("name"), dim.get("allowTie", tie)
        if not isinstance(dim, str) or not dim.strip():
            raise ValueError(f"a dimension's name must be non-empty text, got {dim!r}")
        out.append({"name": dim, "allowTie": bool(tie)})
    names = [d["name"] for d in out]
    if len(set(names)) != len(names):
        raise ValueError(f"dimension names must be unique, got {names}")
    return out


def check_text_ranking(
    value: Any, dimensions: Sequence[Mapping[str, Any]], responses: int, item: str = ""
) -> dict[str, list[dict[str, Any]]]:
    """A ``crowd-text-ranking`` answer, checked and in canonical form.

    Parameters
    ----------
    value
        ``{"ordinalRankingDimensions": [{"name", "responseRankings"}]}``: one entry per
        dimension (in any order), each a 1-based rank per response in column order.
    dimensions
        ``[{"name", "allowTie"}]`` (:func:`ranking_dimensions`): the canonical order.
    responses
        How many responses the item has.
    item
        Named in error messages.

    Without ties a dimension's ranks are a permutation of ``1..responses``; with ties each
    rank is in ``1..responses`` and the ranks that are used start at 1 with no gap larger than
    the tie before it (``[1, 1, 3]`` and ``[1, 1, 2]`` both read as "first two tied").

    Raises
    ------
    ValueError
        A missing, unknown or repeated dimension, a rank outside ``1..responses``, a tie where
        none is allowed; the message names the item and the dimension.
    """
    where = _where(item)
    if not isinstance(value, Mapping) or not isinstance(value.get("ordinalRankingDimensions"), list):
        raise ValueError(
            f"{where}a ranking is {{'ordinalRankingDimensions': [{{'name', 'responseRankings'}}]}}, got {value!r}"
        )
    given: dict[str, list[int]] = {}
    for entry in value["ordinalRankingDimensions"]:
        name = entry.get("name") if isinstance(entry, Mapping) else None
        ranks = entry.get("responseRankings") if isinstance(entry, Mapping) else None
        if not isinstance(name, str) or not isinstance(ranks, list):
            raise ValueError(f"{where}each dimension is {{'name', 'responseRankings'}}, got {entry!r}")
        if name in given:
            raise ValueError(f"{where}dimension {name!r} is ranked twice")
        given[name] = ranks
    wanted = {d["name"]: bool(d["allowTie"]) for d in dimensions}
    unknown = sorted(set(given) - set(wanted))
    missing = [n for n in wanted if n not in given]
    if unknown or missing:
        raise ValueError(f"{where}the dimensions are {list(wanted)}; unknown {unknown}, missing {missing}")
    out = []
    for name, tie in wanted.items():
        ranks = given[name]
        if len(ranks) != responses or not all(
            isinstance(r, int) and not isinstance(r, bool) and 1 <= r <= responses for r in ranks
        ):
            raise ValueError(
                f"{where}dimension {name!r}: responseRankings must be {responses} ranks in 1..{responses}, got {ranks!r}"
            )
        if not tie and sorted(ranks) != list(range(1, responses + 1)):
            raise ValueError(
                f"{where}dimension {name!r} allows no ties: {ranks!r} is not an order of 1..{responses}"
            )
        used = sorted(set(ranks))
        if used[0] != 1 or any(b - a > ranks.count(a) for a, b in itertools.pairwise(used)):
            raise ValueError(f"{where}dimension {name!r}: ranks {ranks!r} skip a place no tie accounts for")
        out.append({"name": name, "responseRankings": list(ranks)})
    return {"ordinalRankingDimensions": out}


class PreferenceTask(Task):
    """Base of the tasks that judge responses to a prompt (see the module docstring).

    Parameters
    ----------
    responses
        The columns holding the responses, in the order they are shown (A, B, ...).
    models
        Optional columns naming the system behind each response (parallel to ``responses``),
        for :meth:`nblabel.Job.leaderboard`; never shown to people.
    criteria
        What to judge by, shown over the responses (e.g. "Which answer is more helpful?").
    instructions
        What the people judging are told (:class:`~nblabel.tasks.instructions.Instructions`):
        Markdown, its first paragraph shown beside the item, all of it behind ``i``.
    """

    media: ClassVar[str] = "text"
    family: ClassVar[str] = "preference"
    kind: ClassVar[str]
    min_responses: ClassVar[int] = 2
    correction: bool = False  # whether a corrected response is offered (Pairwise, Rating)

    def __init__(
        self,
        responses: Sequence[str],
        models: Sequence[str] | None = None,
        criteria: str | None = None,
        instructions: Any = None,
    ) -> None:
        self.responses = _columns(responses, "responses", self.min_responses)
        self.instructions = Instructions.of(instructions)
        self.models = None if models is None else _columns(models, "models", len(self.responses))
        if self.models is not None and len(self.models) != len(self.responses):
            raise ValueError(f"models names {len(self.models)} columns for {len(self.responses)} responses")
        if criteria is not None and not isinstance(criteria, str):
            raise ValueError(f"criteria is text shown over the responses, got {criteria!r}")
        self.criteria = criteria or ""

    @property
    def gt_type(self) -> str:
        return GT_TYPE

    @property
    def columns(self) -> tuple[str, ...]:
        return self.responses + (self.models or ())

    def item_extras(
        self, row: Mapping[str, Any], source: Any, image_size: Mapping[str, int]
    ) -> dict[str, Any]:
        """The responses as text, in column order: ``{"responses": [...]}`` (models left out)."""
        return {"responses": [response_text(row.get(c)) for c in self.responses]}

    def _offers(self) -> dict[str, Any]:
        """``{"correction": True}`` when the task offers a correction (absent otherwise, so the
        spec of a job made before corrections existed is unchanged)."""
        return {"correction": True} if self.correction else {}

    def _spec(self, **more: Any) -> dict[str, Any]:
        return {"type": GT_TYPE, "kind": self.kind, "responses": list(self.responses), **more}

    def to_gt(
        self,
        value: Any,
        *,
        confidence: float | None,
        human: bool,
        job_name: str,
        created: str,
    ) -> tuple[Any, dict[str, Any]]:
        """The answer itself as the label, with a custom job's metadata (GT's generative-AI
        templates are custom jobs) and the confidence of an auto-label."""
        meta: dict[str, Any] = {
            "type": GT_TYPE,
            "job-name": gt_job_name(job_name),
            "human-annotated": "yes" if human else "no",
            "creation-date": created,
        }
        if confidence is not None:
            meta["confidence"] = round(float(confidence), 2)
        return value, meta


def response_text(value: Any) -> str:
    """A response cell as the text shown: a missing cell is empty."""
    return "" if value is None or is_missing(value) else str(value)


class Pairwise(PreferenceTask):
    """Which of two responses to a prompt is better: ``A``, ``B`` or a tie.

    Keys: ``a``, ``b``, ``t`` (tie); with ``reason=True`` the reason box takes the keys while it
    has focus, and Enter there records the choice made; with ``correction=True``, ``e`` opens the
    correction box on the chosen response's text (Escape leaves it, Enter submits).

    Parameters
    ----------
    criteria
        What to judge by, shown over the responses.
    allow_tie
        Whether "tie" is an answer.
    reason
        Ask for a free-text reason (optional for the person).
    correction
        Offer a corrected response (optional for the person): better than both, stored as
        ``correction``.
    responses, models, instructions
        See :class:`PreferenceTask`; default ``("response_a", "response_b")``.
    """

    kind: ClassVar[str] = "pairwise"

    def __init__(
        self,
        criteria: str | None = None,
        allow_tie: bool = True,
        reason: bool = False,
        correction: bool = False,
        *,
        responses: Sequence[str] = ("response_a", "response_b"),
        models: Sequence[str] | None = None,
        instructions: Any = None,
    ) -> None:
        super().__init__(responses, models, criteria, instructions)
        if len(self.responses) != 2:
            raise ValueError(f"a pairwise task compares two responses, got {self.responses!r}")
        self.allow_tie = bool(allow_tie)
        self.reason = bool(reason)
        self.correction = bool(correction)

    def __repr__(self) -> str:
        return (
            f"Pairwise(criteria={self.criteria!r}, allow_tie={self.allow_tie}, reason={self.reason}, "
            f"correction={self.correction})"
        )

    @property
    def labels(self) -> list[str]:
        """The answers, in key order: ``A``, ``B`` and (when allowed) ``tie``."""
        return list(CHOICES if self.allow_tie else CHOICES[:2])

    @property
    def gt_element(self) -> str:
        """A GT template asks with ``crowd-classifier`` over ``A``, ``B``, ``tie``."""
        return "crowd-classifier"

    def spec(self) -> dict[str, Any]:
        return self._spec(allow_tie=self.allow_tie, **self._offers())

    def validate(self, value: Any, item: str = "", *, source: Any = None) -> dict[str, str]:
        """``{"choice": "A" | "B" | "tie", "reason": str, "correction": str}``; a bare choice is
        accepted, an empty reason or correction left out."""
        where = _where(item)
        if isinstance(value, str):
            value = {"choice": value}
        if not isinstance(value, Mapping):
            raise ValueError(f"{where}a pairwise answer is {{'choice': 'A'|'B'|'tie'}}, got {value!r}")
        choice = value.get("choice")
        if choice not in self.labels:
            raise ValueError(f"{where}choice {choice!r} is not one of {self.labels}")
        out = {"choice": choice}
        reason = _free_text(value.get("reason"), "reason", where)
        if reason:
            out["reason"] = reason
        return {**out, **_correction(value, self.correction, where)}

    def answer_content(self, value: Any) -> dict[str, Any]:
        """``{"crowd-classifier": {"label": choice}}``, the reason as ``reason`` and the
        correction as ``correction`` (a template's free-text fields of those names)."""
        content: dict[str, Any] = {self.gt_element: {"label": value["choice"]}}
        for name in ("reason", "correction"):
            if value.get(name):
                content[name] = value[name]
        return content

    def from_answer_content(self, content: Any) -> dict[str, str]:
        return self.validate(
            {
                "choice": gt_answer(content, "label")["label"],
                "reason": content.get("reason"),
                "correction": content.get("correction"),
            }
        )


class Ranking(PreferenceTask):
    """Rank two or more responses to a prompt on each of some dimensions (GT's
    ``crowd-text-ranking``; the answer has exactly its shape: see :func:`check_text_ranking`).

    Keys: ``1``-``k`` give the next rank on the current dimension to that response (with ties
    allowed, ``=`` makes the next response share the rank just given); Tab / Shift+Tab move
    between dimensions; Enter submits once every dimension is ranked.

    Parameters
    ----------
    dimensions
        The dimensions' names (GT's ``ordinal-ranking-dimensions``; its dicts work too).
    allow_ties
        Whether responses may share a rank: one bool, or one per dimension.
    responses, models, criteria, instructions
        See :class:`PreferenceTask`.
    """

    kind: ClassVar[str] = "ranking"

    def __init__(
        self,
        dimensions: Sequence[Any] = ("Overall",),
        allow_ties: bool | Sequence[bool] = False,
        *,
        responses: Sequence[str] = ("response_a", "response_b"),
        models: Sequence[str] | None = None,
        criteria: str | None = None,
        instructions: Any = None,
    ) -> None:
        super().__init__(responses, models, criteria, instructions)
        self.dimensions = ranking_dimensions(dimensions, allow_ties)

    def __repr__(self) -> str:
        return f"Ranking({self.dimensions!r}, responses={self.responses!r})"

    @property
    def gt_element(self) -> str:
        return "crowd-text-ranking"

    def spec(self) -> dict[str, Any]:
        return self._spec(dimensions=self.dimensions)

    def validate(self, value: Any, item: str = "", *, source: Any = None) -> dict[str, Any]:
        """See :func:`check_text_ranking`."""
        return check_text_ranking(value, self.dimensions, len(self.responses), item)

    def answer_content(self, value: Any) -> dict[str, Any]:
        """The ranking itself, at the top of ``answerContent``: GT's worker responses carry
        ``answerContent["ordinalRankingDimensions"]`` (the element bound to its form by
        ``crowd-form-element-id``, as AWS's text-ranking notebook reads it)."""
        return dict(value)

    def from_answer_content(self, content: Any) -> dict[str, Any]:
        """GT's ``answerContent``: the ranking at its top, or under the element's ``name`` (a
        template's ``<crowd-text-ranking name="textRanking">`` in a ``crowd-form``)."""
        if isinstance(content, Mapping) and "ordinalRankingDimensions" in content:
            return self.validate(content)
        return self.validate(gt_answer(content, "ordinalRankingDimensions"))


class Rating(PreferenceTask):
    """Rate each response on a Likert scale per dimension, with an optional comment.

    Keys: the scale's digits rate the current response on the current dimension and move to the
    next response; Tab / Shift+Tab move between dimensions; ``c`` types the comment, ``e`` the
    correction (opened on the response's text when there is one response); Escape leaves a text
    box; Enter submits once all are rated.

    Parameters
    ----------
    scale
        The lowest and highest score, e.g. ``(1, 5)``; at most ten points (one key each).
    dimensions
        The dimensions' names.
    comment
        Offer a comment box (free text: what is wrong).
    correction
        Offer a corrected response (optional for the person), stored as ``correction``.
    responses, models, criteria, instructions
        See :class:`PreferenceTask`; a rating may have a single response.
    """

    kind: ClassVar[str] = "rating"
    min_responses: ClassVar[int] = 1

    def __init__(
        self,
        scale: tuple[int, int] = (1, 5),
        dimensions: Sequence[str] = ("Overall",),
        comment: bool = True,
        correction: bool = False,
        *,
        responses: Sequence[str] = ("response",),
        models: Sequence[str] | None = None,
        criteria: str | None = None,
        instructions: Any = None,
    ) -> None:
        super().__init__(responses, models, criteria, instructions)
        lo, hi = scale if isinstance(scale, Sequence) and len(scale) == 2 else (None, None)
        if not (isinstance(lo, int) and isinstance(hi, int) and 0 <= lo < hi and hi - lo < 10):
            raise ValueError(
                f"scale is (lowest, highest) whole numbers, 0-9 and at most ten points, got {scale!r}"
            )
        self.scale = (lo, hi)
        self.dimensions = [d["name"] for d in ranking_dimensions(dimensions)]
        self.comment = bool(comment)
        self.correction = bool(correction)

    def __repr__(self) -> str:
        return f"Rating(scale={self.scale}, dimensions={self.dimensions!r}, correction={self.correction})"

    @property
    def gt_element(self) -> str:
        """A GT template rates with ``crowd-slider``s; the answer keeps their values by dimension."""
        return "ratings"

    def spec(self) -> dict[str, Any]:
        return self._spec(scale=list(self.scale), dimensions=self.dimensions, **self._offers())

    def validate(self, value: Any, item: str = "", *, source: Any = None) -> dict[str, Any]:
        """``{"ratingDimensions": [{"name", "responseRatings": [score per response]}],
        "comment": str, "correction": str}`` in the task's dimension order; an empty comment or
        correction left out."""
        where = _where(item)
        dims = value.get("ratingDimensions") if isinstance(value, Mapping) else None
        if not isinstance(dims, list):
            raise ValueError(
                f"{where}a rating is {{'ratingDimensions': [{{'name', 'responseRatings'}}]}}, got {value!r}"
            )
        given = {d.get("name"): d.get("responseRatings") for d in dims if isinstance(d, Mapping)}
        if len(given) != len(dims) or sorted(given, key=str) != sorted(self.dimensions):
            raise ValueError(f"{where}rate each of the dimensions {self.dimensions} once, got {dims!r}")
        lo, hi = self.scale
        out: dict[str, Any] = {"ratingDimensions": []}
        for name in self.dimensions:
            scores = given[name]
            if (
                not isinstance(scores, list)
                or len(scores) != len(self.responses)
                or not all(isinstance(s, int) and not isinstance(s, bool) and lo <= s <= hi for s in scores)
            ):
                raise ValueError(
                    f"{where}dimension {name!r}: responseRatings must be {len(self.responses)} scores in {lo}..{hi}, got {scores!r}"
                )
            out["ratingDimensions"].append({"name": name, "responseRatings": list(scores)})
        comment = _free_text(value.get("comment"), "comment", where)
        if comment:
            out["comment"] = comment
        return {**out, **_correction(value, self.correction, where)}

    def answer_content(self, value: Any) -> dict[str, Any]:
        return {self.gt_element: dict(value)}

    def from_answer_content(self, content: Any) -> dict[str, Any]:
        return self.validate(gt_answer(content, "ratingDimensions"))
