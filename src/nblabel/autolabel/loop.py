"""One round of the auto-labeling loop, as a pure function of features and people's answers.

A round:

1. fits the estimator on every answer people gave (auto-labels are never trained on);
2. cross-fits: splits the answers in ``folds`` parts and predicts each part with a model that
   did not see it, so every answer yields one held-out (confidence, correct) pair;
3. picks the confidence threshold with
   :func:`~nblabel.autolabel.design_bound.choose_design_threshold`: a lower confidence bound on
   the accuracy above the cut that knows how each answer's item was chosen. Random draws are
   weighted by the inverse of the probability they had of being drawn and every other answer
   counts as itself, so the uncertainty picks (harder than average) no longer drag the estimate
   down, and the queue can be mostly informative;
4. auto-labels the open items whose confidence reaches the threshold, proposes a label for every
   other item, and orders the people's queue: least certain first (smallest margin between the
   two likeliest answers), interleaved with randomly drawn items, each remembered with the
   probability it had of being drawn (:attr:`Round.random_draws`), so the held-out sample keeps
   covering the whole dataset.

Multi-label tasks use one binary model per class; an answer is correct when the whole set of
classes matches, and its confidence is the probability of the whole set under the per-class
probabilities.

Training is incremental where the estimator allows it: with a :class:`WarmStart` kept between
rounds, a linear scikit-learn model (``LogisticRegression``, ``SGDClassifier``, ... alone or last in
a pipeline) fitted on all the answers starts from the coefficients of the previous round's, not
from zero. These models solve a convex problem, so the start changes how many solver steps the
fit takes, not the model it converges to (to the solver's tolerance). Two kinds of fits always
start afresh:

* the cross-fitted models: a fold's model of the previous round may have trained on answers that
  are now in its held-out part, and a fit that stops at the solver's tolerance could carry a
  trace of them into the held-out estimate the threshold's bound rests on;
* other estimators (forests, boosting), for which ``warm_start`` means "add to the ensemble",
  not a retrain.
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable, Collection, Sequence
from dataclasses import asdict, dataclass, field, fields
from typing import Any

import numpy as np

from nblabel.autolabel.design_bound import DesignThreshold, choose_design_threshold, lower_bound
from nblabel.autolabel.mean_bound import images_needed
from nblabel.autolabel.zero_shot import zero_shot_proposals

__all__ = [
    "LARGE_JOB_ITEMS",
    "MIXED_RANKS",
    "Round",
    "RoundReport",
    "WarmStart",
    "compute_round",
    "default_estimator",
    "default_random_fraction",
]


def default_estimator(media: str) -> Any:
    """Logistic regression, tuned per kind of default features."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    if media == "text":
        return LogisticRegression(C=20.0, max_iter=2000)
    return make_pipeline(StandardScaler(), LogisticRegression(C=0.05, max_iter=2000))


MIXED_RANKS = 1000
"""The queue's first this many items mix random draws in; the ranking alone follows. Rounds come
every few dozen answers, so people rarely get further, and the round remembers each draw (the
store keeps one round's draws in its report: a bounded list)."""

LARGE_JOB_ITEMS = 5000
"""From this many items on, a job counts as large for :func:`default_random_fraction`."""


def default_random_fraction(n_items: int) -> float:
    """Share of the people's queue drawn at random, by default: 0.8 below 5,000 items, 0.5 above.

    The design-based bound (:mod:`nblabel.autolabel.design_bound`) is no longer dragged down by
    the uncertainty picks, but its evidence about the items above a threshold still comes from
    the random draws: it needs about 85 right draws above the threshold for 95%. With a few
    hundred answers every draw counts, so small jobs keep a high share; large jobs collect
    thousands of answers, enough draws at half the queue. BENCHMARKS.md (auto-labeling section)
    measures BBC news at two shares side by side.
    """
    return 0.8 if n_items < LARGE_JOB_ITEMS else 0.5


@dataclass(frozen=True)
class RoundReport:
    """What a round of the loop found. ``threshold`` is ``inf`` when nothing may be auto-labeled."""

    round: int
    human_answers: int
    held_out: int
    threshold: float
    held_out_above: int
    estimated_accuracy: float
    lower_bound: float
    target: float
    auto_labeled: int
    queued: int  # items without a label left for people (the queue adds random checks of auto-labels)
    more_answers_needed: int | None
    seconds: float
    message: str = ""
    # Entity rounds: proposals only (nothing is auto-labeled); estimated_accuracy is the share of
    # held-out texts whose proposal was exactly the person's answer.
    proposes_only: bool = False
    # Box and mask rounds: held-out mIoU (a mean over images), not the share of right answers.
    measure: str = "accuracy"
    # When more answers are needed than items are left: the highest lower target that the items
    # left could reach, and about how many more answers it needs (0: it would auto-label now).
    lower_target: float | None = None
    lower_target_needed: int | None = None
    # Items the featurizer could not read or failed on: key -> the reason, the first 1,000, and
    # how many in all. They stay with people: the model neither trains on them, nor proposes or
    # auto-labels for them.
    unfeaturized: dict[str, str] = field(default_factory=dict)
    unfeaturized_count: int = 0
    # Classification rounds: how many held-out answers were random draws (the ones that carry
    # the design-based bound; ``held_out_above`` counts those above the threshold).
    held_out_random: int | None = None

    @classmethod
    def maker(
        cls, round_number: int, human_answers: int, target: float, queued: int, **shared: Any
    ) -> Callable[..., RoundReport]:
        """The report maker of a round started now: each call gives a :meth:`base` report with
        these fields, the seconds since, and its own keyword fields on top."""
        started = time.perf_counter()

        def report(**fields: Any) -> RoundReport:
            return cls.base(
                **{
                    "round": round_number,
                    "human_answers": human_answers,
                    "target": target,
                    "queued": queued,
                    "seconds": time.perf_counter() - started,
                    **shared,
                    **fields,
                }
            )

        return report

    @classmethod
    def base(cls, **fields: Any) -> RoundReport:
        """A report with no held-out figures, no threshold and nothing auto-labeled yet, except
        for ``fields`` (which must name ``round``, ``human_answers``, ``target``, ``queued`` and
        ``seconds``): where each round's report starts."""
        empty: dict[str, Any] = dict(
            held_out=0,
            threshold=math.inf,
            held_out_above=0,
            estimated_accuracy=math.nan,
            lower_bound=0.0,
            auto_labeled=0,
            more_answers_needed=None,
        )
        return cls(**{**empty, **fields})

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form (``inf`` threshold as None)."""
        d = asdict(self)
        if not math.isfinite(self.threshold):
            d["threshold"] = None
        for key in ("estimated_accuracy", "lower_bound"):
            if isinstance(d[key], float) and not math.isfinite(d[key]):
                d[key] = None
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> RoundReport:
        """Inverse of :meth:`to_dict`; other keys of a stored report (the round's random draws,
        see :mod:`nblabel.autolabel.asked`) are left out."""
        names = {f.name for f in fields(cls)}
        d = {k: v for k, v in d.items() if k in names}
        d["threshold"] = math.inf if d.get("threshold") is None else d["threshold"]
        d["estimated_accuracy"] = math.nan if d.get("estimated_accuracy") is None else d["estimated_accuracy"]
        d["lower_bound"] = 0.0 if d.get("lower_bound") is None else d["lower_bound"]
        d.setdefault("unfeaturized_count", len(d.get("unfeaturized") or {}))  # rounds stored before it
        return cls(**d)

    def __str__(self) -> str:
        if self.proposes_only:
            claim = "proposals only, entities are never auto-labeled"
            if self.held_out:
                claim += f"; {self.estimated_accuracy:.1%} of held-out texts proposed exactly"
        elif self.measure == "mIoU" and math.isfinite(self.threshold):
            claim = (
                f"threshold {self.threshold:.3f}: {self.held_out_above} held-out images above it, "
                f"mIoU {self.estimated_accuracy:.3f} (lower bound {self.lower_bound:.3f} >= "
                f"{self.target:.2f}); {self.auto_labeled} images auto-labeled"
            )
        elif self.measure == "mIoU":
            need = (
                f"about {self.more_answers_needed} more answered images"
                if self.more_answers_needed
                else "more answers"
            )
            claim = f"no auto-labels yet: the evidence cannot support mIoU {self.target:.2f} ({need} needed)"
        elif math.isfinite(self.threshold):
            claim = (
                f"threshold {self.threshold:.3f}: {self.held_out_above} random held-out answers above it, "
                f"{self.estimated_accuracy:.1%} right (lower bound {self.lower_bound:.1%} >= "
                f"{self.target:.0%}); {self.auto_labeled} items auto-labeled"
            )
        elif self.more_answers_needed is not None and self.more_answers_needed > self.queued:
            claim = (
                f"no auto-labels: this job is too small for {self.target:.0%} at the bound (about "
                f"{self.more_answers_needed} more answers needed, only {self.queued} items left); "
                + self._what_would_work()
            )
        else:
            need = (
                f"about {self.more_answers_needed} more answers"
                if self.more_answers_needed
                else "more answers"
            )
            claim = f"no auto-labels yet: the evidence cannot support {self.target:.0%} ({need} needed)"
        return (
            f"round {self.round}: {self.human_answers} human answers, {self.held_out} held out; "
            f"{claim}; {self.queued} queued for people ({self.seconds:.1f} s)"
            + (f". {self.message}" if self.message else "")
            + self._unreadable()
        )

    def _unreadable(self) -> str:
        """The items left out as unreadable, with the first one's reason."""
        if not (self.unfeaturized_count and self.unfeaturized):
            return ""
        key, why = next(iter(self.unfeaturized.items()))
        return f". {self.unfeaturized_count} unreadable items left for people (first: {key}: {why})"

    def _what_would_work(self) -> str:
        more_items = "more items (the same accuracy needs that many answers in all)"
        if self.lower_target is None:
            return f"what would work: {more_items}"
        now = (
            "would auto-label now"
            if not self.lower_target_needed
            else f"needs about {self.lower_target_needed} more answers"
        )
        return (
            f"what would work: a lower target (target_accuracy={self.lower_target:g} {now}) or {more_items}"
        )


#: Lower targets a too-small job's report tries, best first.
LOWER_TARGETS = (0.9, 0.85, 0.8)


def _more_answers_needed(
    cut: DesignThreshold, target: float, level: float, random_share: float
) -> int | None:
    """About how many more answers the bound needs to reach ``target``: the random draws the
    bound needs above the best cut if they looked like those so far (a forecast, not a claim),
    over the share of draws landing there, less the draws made, over the share of the queue
    drawn at random. None when no number would do."""
    count = images_needed(cut.values, target, level, bound=lower_bound) if cut.n_above else None
    if count is None or not cut.n_random:
        return None
    share_above = cut.n_above / cut.n_random  # draws that land above the best cut
    more_draws = max(1, math.ceil(count / max(share_above, 1e-9)) - cut.n_random)
    return math.ceil(more_draws / max(random_share, 1e-9))


@dataclass(frozen=True)
class _Evidence:
    """A round's held-out answers (in answer order) and open items' confidences."""

    confidence: np.ndarray
    correct: np.ndarray
    random: np.ndarray
    open_confidence: np.ndarray

    def threshold(self, target: float, level: float) -> DesignThreshold:
        return choose_design_threshold(
            self.confidence, self.correct, self.random, self.open_confidence, target, level
        )


def _lower_target(
    evidence: _Evidence, target: float, level: float, random_share: float, left: int
) -> tuple[float | None, int | None]:
    """The highest of :data:`LOWER_TARGETS` under ``target`` that the items left could reach,
    with about how many more answers it needs (0 when its bound is met already)."""
    for lower in LOWER_TARGETS:
        if lower >= target:
            continue
        cut = evidence.threshold(lower, level)
        if math.isfinite(cut.threshold):
            return lower, 0
        needed = _more_answers_needed(cut, lower, level, random_share)
        if needed is not None and needed <= left:
            return lower, needed
    return None, None


@dataclass
class Round:
    """A round's report and its results, by row position. ``random_draws`` names the queued
    items that were drawn at random, each with the probability it had of being drawn (one over
    the number of open items it was drawn from); every other queued item is an uncertainty pick."""

    report: RoundReport
    auto: list[tuple[int, Any, float]] = field(default_factory=list)
    proposals: dict[int, tuple[Any, float]] = field(default_factory=dict)
    queue: list[int] = field(default_factory=list)
    random_draws: dict[int, float] = field(default_factory=dict)


def _rows(X: Any, index: Sequence[int]) -> Any:
    return X[np.asarray(index, dtype=int)]


def _warm_parameter(estimator: Any) -> str | None:
    """The ``warm_start`` parameter to switch on for incremental fits, or None when a warm start
    would not be the same fit from a better start (only linear models qualify, see the module)."""
    final, prefix = estimator, ""
    steps = getattr(estimator, "steps", None)
    if steps:  # a Pipeline: its last step is the classifier
        name, final = steps[-1]
        prefix = f"{name}__"
    if not type(final).__module__.startswith("sklearn.linear_model"):
        return None
    if "warm_start" not in final.get_params(deep=False):
        return None
    return prefix + "warm_start"


class WarmStart:
    """The model fitted on all the answers in the last round, for the next round to start from.

    Keep one per job and pass it to every :func:`compute_round`; a fresh one (after a restart)
    just means the next round fits from zero. ``fits`` and ``warm_fits`` count the fits done and
    those that started from a previous model.
    """

    def __init__(self) -> None:
        self.models: dict[tuple[str, int], tuple[Any, _Columns, int]] = {}
        self.fits = 0
        self.warm_fits = 0

    def fitted(
        self, estimator: Any, slot: tuple[str, int], X: Any, y: np.ndarray, columns: _Columns = None
    ) -> Any:
        """``estimator`` fitted on ``X, y``, from the slot's previous model when that is sound.

        ``columns`` are the feature columns ``X`` holds, when it holds only some of them (see
        :func:`_used_columns`); the previous model's coefficients are carried over column by column.
        """
        from sklearn.base import clone

        parameter = _warm_parameter(estimator)
        previous, before, width = self.models.get(slot, (None, None, -1))
        self.fits += 1
        if parameter is None:
            return clone(estimator).fit(X, y)
        full = X.shape[1] if columns is None else columns.width  # the features' width
        if previous is not None and width == full and np.array_equal(previous.classes_, np.unique(y)):
            self.warm_fits += 1
            model = previous  # its coefficients are the start; the same classes, so the same rows
            if not np.array_equal(_indices(before), _indices(columns)):
                model.coef_ = _carry_over(model.coef_, before, columns)
        else:
            model = clone(estimator).set_params(**{parameter: True})
        self.models[slot] = (model.fit(X, y), columns, full)
        return model


class _UsedColumns:
    """The feature columns a fit used (``indices``) out of ``width``."""

    def __init__(self, indices: np.ndarray, width: int) -> None:
        self.indices = indices
        self.width = width


_Columns = _UsedColumns | None


def _indices(columns: _Columns) -> np.ndarray | None:
    return None if columns is None else columns.indices


def _carry_over(coef: np.ndarray, before: _Columns, after: _Columns) -> np.ndarray:
    """Coefficients over the columns ``before`` laid onto the columns ``after`` (zero where new:
    a column no earlier answer used had a zero coefficient)."""
    width = (before or after).width  # type: ignore[union-attr]  # the caller passes one at least
    full = np.zeros((coef.shape[0], width))
    full[:, slice(None) if before is None else before.indices] = coef
    return full if after is None else full[:, after.indices]


def _used_columns(estimator: Any, X: Any) -> _Columns:
    """The columns of sparse ``X`` that some training row uses, when fitting on them alone is the
    same fit; None otherwise.

    Why: hashed text features have 2**16 columns and TF-IDF up to 200,000, of which a few hundred
    answers use a few thousand, and the solver's every step costs the full width (measured: a
    logistic regression on 300 answers over 2**16 hashed columns, 27 ms a step). For a logistic
    regression a column that is zero in every training row has a zero coefficient at the
    optimum whatever the penalty, and L-BFGS started from zero never moves it (its gradient stays
    zero), so leaving it out changes nothing but the time. Other estimators (a k-nearest-neighbour
    distance, a kernel) would see a difference, so they get every column.
    """
    from scipy import sparse
    from sklearn.linear_model import LogisticRegression

    if not (sparse.issparse(X) and isinstance(estimator, LogisticRegression)):
        return None
    used = np.flatnonzero(X.getnnz(axis=0))
    return _UsedColumns(used, X.shape[1]) if len(used) < X.shape[1] else None


class _OnColumns:
    """A fitted estimator that was trained on some columns of the features: it reads those."""

    def __init__(self, model: Any, columns: _UsedColumns) -> None:
        self.model = model
        self.columns = columns.indices

    @property
    def classes_(self) -> np.ndarray:
        """The classes of the fitted estimator."""
        return self.model.classes_

    def predict_proba(self, X: Any) -> np.ndarray:
        """The fitted estimator's probabilities from its columns of ``X``."""
        return self.model.predict_proba(X[:, self.columns])


class Fitted:
    """A round's fitted model: probabilities over all classes, whatever classes the training
    answers held, and the decision made from them. Small and picklable: a Dask round ships it to
    the workers (:mod:`nblabel.autolabel.distributed`), which return only the decisions.

    ``parts`` holds, single-label, one fitted estimator or the one class every answer gave;
    multi-label, per class a fitted 0/1 estimator or the constant probability to use.
    """

    def __init__(self, n_classes: int, multi_label: bool, parts: list[Any]) -> None:
        self.k = n_classes
        self.multi = multi_label
        self.parts = parts

    def predict_proba(self, X: Any) -> np.ndarray:
        """Probabilities over all classes, one row per row of ``X``."""
        n = X.shape[0]
        if self.multi:
            out = np.empty((n, self.k))
            for j, part in enumerate(self.parts):
                if isinstance(part, float):
                    out[:, j] = part
                else:
                    out[:, j] = part.predict_proba(X)[:, list(part.classes_).index(1)]
            return out
        out = np.zeros((n, self.k))
        (part,) = self.parts
        if isinstance(part, int):
            out[:, part] = 1.0
        else:
            out[:, np.asarray(part.classes_, dtype=int)] = part.predict_proba(X)
        return out

    def decide(self, X: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The predicted answer, its confidence and the margin of each row of ``X``."""
        return _decide(self.predict_proba(X), self.multi)


class _Model:
    """Fits an estimator on class indices (single-label) or a 0/1 matrix (multi-label) and
    returns probabilities over all classes, whatever classes the training part happened to hold."""

    def __init__(self, estimator: Any, n_classes: int, multi_label: bool, warm: WarmStart | None) -> None:
        self.estimator = estimator
        self.k = n_classes
        self.multi = multi_label
        self.warm = warm

    def _fit(self, slot: str | None, column: int, X: Any, y: np.ndarray) -> Any:
        from sklearn.base import clone

        columns = _used_columns(self.estimator, X)
        X_used = X if columns is None else X[:, columns.indices]
        if self.warm is None or slot is None:
            model = clone(self.estimator).fit(X_used, y)
        else:
            model = self.warm.fitted(self.estimator, (slot, column), X_used, y, columns)
        return model if columns is None else _OnColumns(model, columns)

    def fit(self, X_train: Any, y_train: np.ndarray, slot: str | None = None) -> Fitted:
        """The model fitted on the training answers; ``slot`` names a fit that may start from
        the previous round's (see :class:`WarmStart`), None fits from scratch."""
        parts: list[Any] = []
        if self.multi:
            for j in range(self.k):
                column = y_train[:, j]
                if column.min() == column.max():  # every training answer agrees on this class
                    parts.append(0.01 if column[0] == 0 else 0.99)
                else:
                    parts.append(self._fit(slot, j, X_train, column))
            return Fitted(self.k, True, parts)
        present = np.unique(y_train)
        if present.size == 1:
            return Fitted(self.k, False, [int(present[0])])
        return Fitted(self.k, False, [self._fit(slot, -1, X_train, y_train)])

    def fit_predict(
        self, X_train: Any, y_train: np.ndarray, X_test: Any, slot: str | None = None
    ) -> np.ndarray:
        """Probabilities for ``X_test`` of the model fitted on the training answers."""
        return self.fit(X_train, y_train, slot).predict_proba(X_test)


def _decide(proba: np.ndarray, multi: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Predicted answer, its confidence, and the margin used to rank uncertainty."""
    if multi:
        chosen = proba >= 0.5
        confidence = np.prod(np.where(chosen, proba, 1 - proba), axis=1)
        margin = np.min(np.abs(proba - 0.5), axis=1) * 2
        return chosen, confidence, margin
    top2 = np.sort(proba, axis=1)[:, -2:] if proba.shape[1] > 1 else np.c_[np.zeros(len(proba)), proba]
    return proba.argmax(axis=1), proba.max(axis=1), top2[:, 1] - top2[:, 0]


def _folds(y: np.ndarray, folds: int, seed: int, multi: bool) -> list[np.ndarray]:
    from sklearn.model_selection import KFold, StratifiedKFold

    n = len(y)
    k = max(2, min(folds, n))
    if not multi:
        counts = np.bincount(y)
        if counts[counts > 0].min() >= k:
            splitter = StratifiedKFold(n_splits=k, shuffle=True, random_state=seed)
            return [test for _, test in splitter.split(np.zeros(n), y)]
    return [test for _, test in KFold(n_splits=k, shuffle=True, random_state=seed).split(np.zeros(n))]


def compute_round(
    X: Any,
    n_classes: int,
    human: dict[int, Any],
    open_positions: Sequence[int],
    *,
    multi_label: bool = False,
    estimator: Any,
    target: float = 0.95,
    level: float = 0.95,
    folds: int = 5,
    random_fraction: float | None = None,
    random_draws: Collection[int] = frozenset(),
    no_auto: frozenset[int] = frozenset(),
    seed: int = 0,
    round_number: int = 1,
    warm: WarmStart | None = None,
    decide: Callable[[Fitted, np.ndarray], tuple[np.ndarray, np.ndarray, np.ndarray]] | None = None,
    zero_shot: tuple[np.ndarray, np.ndarray] | None = None,
) -> Round:
    """Run one round of the loop.

    Parameters
    ----------
    X
        Features, one row per item (row position).
    n_classes
        Number of classes.
    human
        People's answers by position: a class index, or for multi-label a tuple of indices,
        in the order they were given (the design-based bound follows it).
    open_positions
        Items that may be auto-labeled or queued (no human answer, not skipped).
    estimator
        An unfitted scikit-learn classifier with ``predict_proba``.
    target, level
        Required accuracy and the one-sided confidence level of its lower bound.
    folds
        Cross-fitting folds.
    random_fraction
        Share of the people's queue drawn at random rather than ranked by uncertainty; None for
        :func:`default_random_fraction` of the number of items.
    random_draws
        Positions in ``human`` whose items were random draws of the queue (uniform over the
        open items when drawn); every other answer counts as itself only.
    no_auto
        Positions that must stay with people (their auto-label was rejected).
    seed
        Seeds the folds and the random draws, so rounds are reproducible.
    warm
        The previous rounds' models, for incremental fits (see :class:`WarmStart`); None fits
        every model from scratch.
    decide
        How the open items are predicted: given the model fitted on every answer and the open
        positions, their answers, confidences and margins (a Dask cluster's, see
        :class:`nblabel.autolabel.distributed.ClusterFeatures`); None predicts ``X``'s rows here.
    zero_shot
        Sentence embeddings of the items (one row per item) and of the labels' prompts
        (:mod:`nblabel.autolabel.zero_shot`): before there is enough to train on, every open item
        gets its nearest label as a proposal (single-label tasks; never an auto-label).
    """
    positions = np.fromiter(human, dtype=int, count=len(human))
    open_arr = np.asarray(list(open_positions), dtype=int)
    rng = np.random.default_rng(seed)
    random_order = open_arr[rng.permutation(len(open_arr))]
    if multi_label:
        y = np.zeros((len(positions), n_classes), dtype=int)
        for row, p in enumerate(positions):
            y[row, list(human[int(p)])] = 1
        distinct = len({tuple(r) for r in y})
    else:
        y = np.asarray([human[int(p)] for p in positions], dtype=int)
        distinct = len(np.unique(y))

    report = RoundReport.maker(round_number, len(positions), target, len(open_arr))

    if len(positions) < 8 or distinct < 2:
        order = [int(p) for p in random_order[:MIXED_RANKS]]
        proposals: dict[int, tuple[Any, float]] = {}
        message = "waiting for at least 8 answers with 2 different classes before training"
        if zero_shot is not None and not multi_label and len(open_arr):
            nearest, closeness = zero_shot_proposals(_rows(zero_shot[0], open_arr), zero_shot[1])
            proposals = {
                int(p): (int(v), float(c)) for p, v, c in zip(open_arr, nearest, closeness, strict=True)
            }
            message += "; proposals are each text's nearest label (zero-shot)"
        return Round(
            report(message=message),
            proposals=proposals,
            queue=order,
            random_draws={p: 1 / (len(open_arr) - j) for j, p in enumerate(order)},
        )

    model = _Model(estimator, n_classes, multi_label, warm)
    X_human = _rows(X, positions)
    held_conf = np.empty(len(positions))
    held_correct = np.empty(len(positions), dtype=bool)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence chatter from tiny folds
        split = _folds(y if not multi_label else np.zeros(len(y), dtype=int), folds, seed, multi_label)
        for test in split:
            train = np.setdiff1d(np.arange(len(positions)), test)
            proba = model.fit_predict(X_human[train], y[train], X_human[test])  # never warm: see above
            answer, confidence, _ = _decide(proba, multi_label)
            held_conf[test] = confidence
            held_correct[test] = (answer == y[test]).all(axis=1) if multi_label else answer == y[test]
        fitted = model.fit(X_human, y, "all")
        if not len(open_arr):
            answer, confidence, margin = _decide(np.zeros((0, n_classes)), multi_label)
        elif decide is None:
            answer, confidence, margin = fitted.decide(_rows(X, open_arr))
        else:
            answer, confidence, margin = decide(fitted, open_arr)
    evidence = _Evidence(
        held_conf, held_correct, np.isin(positions, np.fromiter(random_draws, int)), confidence
    )
    cut = evidence.threshold(target, level)

    def value(i: int) -> Any:
        if multi_label:
            return tuple(int(j) for j in np.flatnonzero(answer[i]))
        return int(answer[i])

    proposals = {int(p): (value(i), float(confidence[i])) for i, p in enumerate(open_arr)}
    blocked = np.isin(open_arr, np.fromiter(no_auto, dtype=int, count=len(no_auto)))
    auto_mask = (confidence >= cut.threshold) & ~blocked
    auto = [(int(open_arr[i]), value(i), float(confidence[i])) for i in np.flatnonzero(auto_mask)]

    remaining = open_arr[~auto_mask]
    by_margin = remaining[np.argsort(margin[~auto_mask], kind="stable")]
    # Random draws come from every open item, auto-labeled ones included: a person's answer to a
    # random auto-labeled item is the unbiased check of the region the threshold governs (and
    # it then outranks the auto-label). Drawing only from the rest would starve the held-out
    # sample of exactly the confident items the bound needs.
    randoms = random_order[~np.isin(random_order, open_arr[blocked])]
    if random_fraction is None:
        random_fraction = default_random_fraction(X.shape[0])
    queue, drawn = _interleave(by_margin, randoms, random_fraction)

    needed = lower = lower_needed = None
    if not math.isfinite(cut.threshold):
        needed = _more_answers_needed(cut, target, level, random_fraction)
        if needed is not None and needed > len(remaining):
            lower, lower_needed = _lower_target(evidence, target, level, random_fraction, len(remaining))
    return Round(
        report(
            held_out=len(positions),
            threshold=cut.threshold,
            held_out_above=cut.n_above,
            estimated_accuracy=cut.accuracy,
            lower_bound=cut.lower_bound,
            auto_labeled=len(auto),
            queued=len(remaining),
            more_answers_needed=needed,
            lower_target=lower,
            lower_target_needed=lower_needed,
            held_out_random=cut.n_random,
        ),
        auto=auto,
        proposals=proposals,
        queue=queue,
        random_draws=drawn,
    )


def _interleave(
    ranked: np.ndarray, randoms: np.ndarray, random_fraction: float
) -> tuple[list[int], dict[int, float]]:
    """Merge the uncertainty ranking with random draws, ``random_fraction`` of picks random.

    Every ranked item appears once; random draws (which may include auto-labeled items) are
    interleaved until the ranking is used up. ``randoms`` is a uniform permutation of the items
    that may be drawn, so a draw, the next of it not queued yet, is uniform over the items not
    queued yet: the second result maps each drawn item to that probability (one over their
    number), the design the bound weights by. Past :data:`MIXED_RANKS` the ranking goes on alone.
    """
    out: list[int] = []
    seen: set[int] = set()
    drawn: dict[int, float] = {}
    drawable = set(randoms.tolist())
    i = j = 0
    credit = 0.0
    while i < len(ranked):
        credit += random_fraction
        while j < len(randoms) and int(randoms[j]) in seen:
            j += 1  # queued already: the next one of the permutation is uniform over the rest
        if credit >= 1 and j < len(randoms) and len(out) < MIXED_RANKS:
            credit -= 1
            pick = int(randoms[j])
            j += 1
            drawn[pick] = 1 / len(drawable)
        else:
            pick = int(ranked[i])
            i += 1
            if pick in seen:
                continue
        seen.add(pick)
        drawable.discard(pick)
        out.append(pick)
    return out, drawn
