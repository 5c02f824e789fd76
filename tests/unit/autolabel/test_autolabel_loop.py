"""One round of the loop as a pure function: auto-labels, proposals and the people's queue."""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import make_blobs, make_classification
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.naive_bayes import GaussianNB
from threadpoolctl import threadpool_limits

from nblabel.autolabel.design_bound import lower_bound
from nblabel.autolabel.loop import (
    Round,
    RoundReport,
    WarmStart,
    compute_round,
    default_estimator,
    default_random_fraction,
)
from nblabel.autolabel.mean_bound import images_needed


@pytest.fixture(autouse=True)
def _one_thread() -> Iterator[None]:
    with threadpool_limits(limits=1):  # tiny fits: BLAS threads only add overhead
        yield


def blobs(n: int = 600, classes: int = 3, spread: float = 2.5) -> tuple[np.ndarray, np.ndarray]:
    X, y = make_blobs(n_samples=n, centers=classes, n_features=5, cluster_std=spread, random_state=0)
    return X, y


def answer(y: np.ndarray, count: int, seed: int = 0) -> tuple[dict[int, int], list[int]]:
    """People's answers to ``count`` random items, and the other (open) positions."""
    rng = np.random.default_rng(seed)
    chosen = rng.choice(len(y), count, replace=False)
    human = {int(p): int(y[p]) for p in chosen}
    return human, [p for p in range(len(y)) if p not in human]


def run(X: np.ndarray, k: int, human: dict, open_: list[int], **kw) -> Round:
    """A round over answers to random draws (unless ``random_draws`` says otherwise)."""
    kw.setdefault("estimator", default_estimator("image"))
    kw.setdefault("random_draws", frozenset(human))
    return compute_round(X, k, human, open_, **kw)


def check_queue(result: Round, open_: list[int]) -> None:
    """Every open item without an auto-label is queued once; random draws may add auto-labeled
    items, as checks of the region the threshold governs."""
    auto = {p for p, _, _ in result.auto}
    assert len(result.queue) == len(set(result.queue))
    assert set(open_) - auto <= set(result.queue) <= set(open_)
    assert result.report.queued == len(set(open_) - auto)


# -- auto-labels ------------------------------------------------------------------------------


def test_separable_data_auto_labels_at_target_accuracy() -> None:
    X, y = blobs()
    human, open_ = answer(y, 150)
    result = run(X, 3, human, open_, target=0.95)
    r = result.report
    assert (r.round, r.human_answers, r.held_out, r.target) == (1, 150, 150, 0.95)
    assert math.isfinite(r.threshold) and r.lower_bound >= 0.95 and r.held_out_above >= 60
    assert r.held_out_random == 150
    assert r.more_answers_needed is None
    assert r.auto_labeled == len(result.auto) > len(open_) // 2
    right = np.mean([y[p] == value for p, value, _ in result.auto])
    assert right >= 0.95
    assert all(c >= r.threshold for _, _, c in result.auto)
    auto = {p for p, _, _ in result.auto}
    # Every open item has a proposal; those left to people are below the threshold.
    assert set(result.proposals) == set(open_)
    assert all(result.proposals[p][1] < r.threshold for p in set(open_) - auto)
    assert all(result.proposals[p] == (v, c) for p, v, c in result.auto)
    assert all(isinstance(v, int) and 0 <= v < 3 for v, _ in result.proposals.values())
    check_queue(result, open_)
    assert "items auto-labeled" in str(r)


def test_higher_target_auto_labels_less() -> None:
    X, y = blobs()
    human, open_ = answer(y, 200)
    loose = run(X, 3, human, open_, target=0.9).report
    strict = run(X, 3, human, open_, target=0.98).report
    assert loose.threshold <= strict.threshold
    assert loose.auto_labeled >= strict.auto_labeled


@pytest.mark.parametrize("case", ["seven answers", "one class"])
def test_too_little_evidence_random_queue(case: str) -> None:
    X, y = blobs(100)
    if case == "seven answers":
        human = {0: int(y[0]), 1: int(y[1]), 2: 0, 3: 1, 4: 2, 5: 0, 6: 1}
    else:
        human = {p: 0 for p in range(30)}
    open_ = [p for p in range(100) if p not in human]
    result = run(X, 3, human, open_, seed=7)
    assert result.auto == [] and result.proposals == {}
    assert result.report.threshold == math.inf and result.report.auto_labeled == 0
    assert "at least 8 answers" in result.report.message
    expected = np.asarray(open_)[np.random.default_rng(7).permutation(len(open_))]
    assert result.queue == [int(p) for p in expected]
    check_queue(result, open_)


def more_needed(right: int, target: float, random_share: float = 0.8) -> int:
    """The answers the loop forecasts after ``right`` random draws, all right and all above the
    best cut: the draws the bound needs at that accuracy, less those made, over the random share."""
    draws = images_needed(np.ones(right), target, 0.95, bound=lower_bound)
    return math.ceil((draws - right) / random_share)


def test_reports_how_many_more_answers_would_do() -> None:
    X, y = blobs(spread=0.5)  # perfectly separable: every held-out answer is right
    human, open_ = answer(y, 20)
    first = run(X, 3, human, open_)
    r = first.report
    assert r.threshold == math.inf and first.auto == []
    assert r.estimated_accuracy == 1.0
    more = more_needed(20, 0.95)
    assert r.more_answers_needed == more and 40 < more < 120
    assert f"about {more} more answers" in str(r)
    assert len(first.proposals) == len(open_)  # proposals even without auto-labels
    # With that many more answers, the bound is met.
    human, open_ = answer(y, 20 + r.more_answers_needed)
    assert math.isfinite(run(X, 3, human, open_).report.threshold)


def test_a_job_too_small_for_the_target_says_so_and_what_would_work() -> None:
    X, y = blobs(60, spread=0.5)  # every held-out answer right, but too few items for 95%
    human, open_ = answer(y, 20)
    r = run(X, 3, human, open_).report
    assert r.more_answers_needed == more_needed(20, 0.95) > 40 and r.queued == 40
    lower = more_needed(20, 0.9)  # 90% needs fewer right answers, which 40 items allow
    assert lower <= 40 and (r.lower_target, r.lower_target_needed) == (0.9, lower)
    text = str(r)
    assert "too small for 95% at the bound" in text
    assert f"about {r.more_answers_needed} more answers needed, only 40 items left" in text
    assert f"target_accuracy=0.9 needs about {lower} more answers" in text and "more items" in text
    assert RoundReport.from_dict(r.to_dict()) == r


def test_a_job_too_small_for_any_lower_target_suggests_more_items() -> None:
    X, y = blobs(15, classes=2, spread=0.5)
    human, open_ = answer(y, 12)  # 3 left: even 80% needs 16 right held-out answers, 4 more
    r = run(X, 2, human, open_).report
    assert r.estimated_accuracy == 1.0 and r.queued == 3
    assert r.lower_target is None
    assert "what would work: more items" in str(r)


def test_tiny_dataset_and_nothing_open() -> None:
    X, y = blobs(10, classes=2, spread=0.5)
    human = {p: int(y[p]) for p in range(8)}
    result = run(X, 2, human, [8, 9])
    assert set(result.proposals) == {8, 9} and result.auto == []
    check_queue(result, [8, 9])
    everything = run(X, 2, {p: int(y[p]) for p in range(10)}, [])
    assert everything.queue == [] and everything.proposals == {} and everything.report.queued == 0


def test_no_auto_positions_stay_with_people() -> None:
    X, y = blobs()
    human, open_ = answer(y, 150)
    first = run(X, 3, human, open_)
    blocked = frozenset(p for p, _, _ in first.auto[::2])
    assert blocked
    second = run(X, 3, human, open_, no_auto=blocked)
    assert not blocked & {p for p, _, _ in second.auto}
    assert blocked <= set(second.queue)
    assert blocked <= set(second.proposals)  # still proposed, for the person to confirm
    assert second.report.auto_labeled == len(first.auto) - len(blocked)
    check_queue(second, open_)


# -- the queue --------------------------------------------------------------------------------


def split_picks(result: Round, open_: list[int], seed: int) -> tuple[list[bool], list[float]]:
    """For each queue entry: was it the random draw (the first not yet queued item of the
    seeded random order), and its confidence."""
    random_order = np.asarray(open_)[np.random.default_rng(seed).permutation(len(open_))]
    auto = {p for p, _, _ in result.auto}
    randoms = [int(p) for p in random_order if p not in auto]
    queued: set[int] = set()
    j = 0
    is_random = []
    for pick in result.queue:
        while randoms[j] in queued:
            j += 1
        is_random.append(pick == randoms[j])
        queued.add(pick)
    return is_random, [result.proposals[p][1] for p in result.queue]


@pytest.mark.parametrize("fraction", [0.25, 0.5, None])
def test_queue_interleaves_random_draws_with_least_certain_first(fraction: float | None) -> None:
    # Two overlapping classes: the margin is 2 * confidence - 1, so least certain = least confident.
    X, y = make_classification(600, n_features=6, n_informative=3, class_sep=0.8, random_state=1)
    human, open_ = answer(y, 100)
    result = run(X, 2, human, open_, random_fraction=fraction, seed=3)
    check_queue(result, open_)
    is_random, confidence = split_picks(result, open_, seed=3)
    head = 80
    share = np.mean(is_random[:head])
    expected = default_random_fraction(len(X)) if fraction is None else fraction
    assert expected - 0.1 <= share <= expected + 0.1
    ranked = [c for c, r in zip(confidence, is_random, strict=True) if not r]
    assert np.all(np.diff(ranked) >= -1e-12)  # ranked picks in increasing margin order
    # Each ranked pick is the least certain item not queued yet.
    for i, (c, r) in enumerate(zip(confidence, is_random, strict=True)):
        if not r:
            assert c <= min(confidence[i:]) + 1e-12


def test_queue_extremes() -> None:
    X, y = make_classification(300, n_features=6, n_informative=3, class_sep=0.8, random_state=1)
    human, open_ = answer(y, 60)
    ranked = run(X, 2, human, open_, random_fraction=0.0)
    check_queue(ranked, open_)
    confidence = [ranked.proposals[p][1] for p in ranked.queue]
    assert np.all(np.diff(confidence) >= -1e-12)
    random = run(X, 2, human, open_, random_fraction=1.0, seed=5)
    check_queue(random, open_)
    is_random, _ = split_picks(random, open_, seed=5)
    assert all(is_random)


def test_reproducible_with_a_seed() -> None:
    X, y = make_classification(400, n_features=6, n_informative=3, class_sep=1.5, random_state=2)
    human, open_ = answer(y, 120)
    a, b = run(X, 2, human, open_, seed=11), run(X, 2, human, open_, seed=11)
    assert (a.auto, a.proposals, a.queue) == (b.auto, b.proposals, b.queue)
    assert dataclass_without_time(a.report) == dataclass_without_time(b.report)
    c = run(X, 2, human, open_, seed=12)
    assert c.queue != a.queue  # other folds and other random draws


def dataclass_without_time(report: RoundReport) -> dict:
    d = report.to_dict()
    d.pop("seconds")
    return d


# -- multi-label ------------------------------------------------------------------------------


def multi_label_data(n: int = 500, k: int = 3, seed: int = 0) -> tuple[np.ndarray, list[tuple[int, ...]]]:
    rng = np.random.default_rng(seed)
    Y = rng.random((n, k)) < 0.4
    X = np.hstack([Y * 3.0 + rng.normal(0, 0.7, (n, k)), rng.normal(0, 1, (n, 2))])
    return X, [tuple(int(j) for j in np.flatnonzero(row)) for row in Y]


def test_multi_label_round() -> None:
    X, sets = multi_label_data()
    rng = np.random.default_rng(1)
    chosen = rng.choice(len(sets), 200, replace=False)
    human = {int(p): sets[p] for p in chosen}
    open_ = [p for p in range(len(sets)) if p not in human]
    estimator = LogisticRegression(max_iter=1000)
    result = run(X, 3, human, open_, multi_label=True, estimator=estimator)
    r = result.report
    assert math.isfinite(r.threshold) and r.auto_labeled == len(result.auto) > 0
    assert all(isinstance(v, tuple) and list(v) == sorted(set(v)) for v, _ in result.proposals.values())
    assert any(v == () for v, _ in result.proposals.values())  # "none of these" is an answer too
    assert np.mean([sets[p] == v for p, v, _ in result.auto]) >= 0.95
    check_queue(result, open_)
    # The proposal is the set of classes with p >= 0.5; its confidence, the joint probability.
    y = np.zeros((len(chosen), 3), dtype=int)
    for row, p in enumerate(human):
        y[row, list(human[p])] = 1
    X_human = X[list(human)]
    p = np.column_stack(
        [clone(estimator).fit(X_human, y[:, j]).predict_proba(X[open_])[:, 1] for j in range(3)]
    )
    for i, position in enumerate(open_):
        value, confidence = result.proposals[position]
        assert value == tuple(int(j) for j in np.flatnonzero(p[i] >= 0.5))
        assert confidence == pytest.approx(np.prod(np.where(p[i] >= 0.5, p[i], 1 - p[i])))


def test_multi_label_class_nobody_chose() -> None:
    X, sets = multi_label_data(200)
    sets = [tuple(j for j in s if j != 2) for s in sets]  # nobody ever picks class 2
    human = {p: sets[p] for p in range(100)}
    open_ = list(range(100, 200))
    result = compute_round(X, 3, human, open_, multi_label=True, estimator=LogisticRegression())
    assert all(2 not in v and c <= 0.99 for v, c in result.proposals.values())
    check_queue(result, open_)


# -- any classifier with predict_proba ----------------------------------------------------------


@pytest.mark.parametrize(
    "estimator",
    [GaussianNB(), RandomForestClassifier(n_estimators=30, random_state=0)],
    ids=["GaussianNB", "RandomForest"],
)
def test_custom_estimator(estimator) -> None:
    X, y = blobs(spread=1.5)
    human, open_ = answer(y, 150)
    result = run(X, 3, human, open_, estimator=estimator)
    assert not hasattr(estimator, "classes_")  # cloned, never fitted in place
    assert set(result.proposals) == set(open_)
    assert result.auto and np.mean([y[p] == v for p, v, _ in result.auto]) >= 0.95
    check_queue(result, open_)


def test_class_missing_from_a_training_fold() -> None:
    X, y = blobs(300)
    human, open_ = answer(y, 60)
    rare = next(p for p in open_ if y[p] == 2)
    human = {p: v for p, v in human.items() if v != 2} | {rare: 2}  # one answer of class 2
    open_ = [p for p in range(300) if p not in human]
    result = run(X, 3, human, open_)
    assert set(result.proposals) == set(open_)
    assert all(0 <= v < 3 and 0 < c <= 1 for v, c in result.proposals.values())


def test_report_round_trip() -> None:
    X, y = blobs(100)
    result = run(X, 3, {p: int(y[p]) for p in range(7)}, list(range(7, 100)), round_number=4)
    d = result.report.to_dict()
    assert d["round"] == 4 and d["threshold"] is None
    back = RoundReport.from_dict(d)
    assert back.threshold == math.inf and math.isnan(back.estimated_accuracy)
    assert back.to_dict() == d
    assert "no auto-labels yet" in str(result.report)
    X, y = blobs()
    human, open_ = answer(y, 150)
    report = run(X, 3, human, open_).report
    assert math.isfinite(report.threshold)
    assert RoundReport.from_dict(report.to_dict()) == report


def test_warm_starts_fit_linear_models_incrementally_to_the_same_decisions() -> None:
    X, y = make_blobs(n_samples=1500, centers=4, n_features=5, cluster_std=2.5, random_state=3)
    rng = np.random.default_rng(0)
    order = [int(p) for p in rng.permutation(len(y))]
    warm = WarmStart()
    seen_classes = []
    for count in (30, 60, 120, 240):
        # Only class 0 and 1 in the first round: a class that appears later forces a fresh fit.
        chosen = [p for p in order if count > 30 or y[p] < 2][:count]
        human = {p: int(y[p]) for p in chosen}
        open_ = [p for p in range(len(y)) if p not in human]
        hot = run(X, 4, human, open_, warm=warm, seed=1)
        cold = run(X, 4, human, open_, seed=1)
        seen_classes.append(len(set(human.values())))
        # The same convex optimum from another start: the same answers, probabilities to the
        # solver's tolerance, hence the same threshold and auto-labels.
        assert {p for p, *_ in hot.auto} == {p for p, *_ in cold.auto}
        assert hot.report.threshold == pytest.approx(cold.report.threshold, abs=0.02)
        same = [hot.proposals[p][0] == cold.proposals[p][0] for p in open_]
        assert np.mean(same) > 0.995
        assert max(abs(hot.proposals[p][1] - cold.proposals[p][1]) for p in open_) < 0.02
    assert seen_classes[0] == 2 and seen_classes[1] == 4
    assert len(hot.auto) > 100  # the last round auto-labeled: the comparison above had substance
    # Only the model on all the answers starts warm (the cross-fitted ones never do); round 2 met
    # new classes, so rounds 3 and 4 are the warm ones.
    assert warm.fits == 4 and warm.warm_fits == 2


def test_warm_starts_leave_other_estimators_alone() -> None:
    X, y = blobs()
    human, open_ = answer(y, 100)
    warm = WarmStart()
    forest = RandomForestClassifier(n_estimators=20, random_state=0)
    for _ in range(2):
        run(X, 3, human, open_, estimator=forest, warm=warm)
    # warm_start on a forest would grow the ensemble instead of refitting it: always fresh fits.
    assert warm.fits == 2 and warm.warm_fits == 0 and not warm.models


def sparse_texts(n: int = 240) -> tuple[object, np.ndarray]:
    """Hashed words of short texts, three topics: most of the 2**14 columns unused by any text."""
    from sklearn.feature_extraction.text import HashingVectorizer

    rng = np.random.default_rng(0)
    topics = [[f"{t}{w}" for w in range(40)] for t in ("sport", "food", "money")]
    y = rng.integers(0, 3, n)
    texts = [" ".join(rng.choice(topics[c], 6)) + f" extra{i}" for i, c in enumerate(y)]
    return HashingVectorizer(n_features=2**14, alternate_sign=False).transform(texts), y


def test_a_sparse_logistic_fit_on_the_used_columns_is_the_fit_on_all_of_them() -> None:
    X, y = sparse_texts()
    estimator = LogisticRegression(C=20.0, max_iter=2000)
    result = run(X, 3, dict(enumerate(y[:120])), list(range(120, 240)), estimator=estimator)
    whole = clone(estimator).fit(X[:120], y[:120])  # every one of the 2**14 columns
    proba = whole.predict_proba(X[120:])
    assert sorted(result.proposals) == list(range(120, 240))
    for position, (label, confidence) in result.proposals.items():
        assert label == proba[position - 120].argmax()
        assert confidence == pytest.approx(proba[position - 120].max(), abs=1e-6)


def test_warm_starts_carry_coefficients_onto_columns_new_answers_use() -> None:
    X, y = sparse_texts()
    estimator = LogisticRegression(C=20.0, max_iter=2000)
    warm = WarmStart()
    for answered in (60, 120, 180):  # each batch of answers brings words no earlier one had
        run(X, 3, dict(enumerate(y[:answered])), list(range(answered, 240)), estimator=estimator, warm=warm)
    assert warm.warm_fits == 2
    cold = clone(estimator).fit(X[:180], y[:180])
    carried = warm.models["all", -1][0]
    used = np.flatnonzero(X[:180].getnnz(axis=0))
    assert carried.coef_.shape == (3, len(used))  # the fit saw only the columns answers use
    # The same optimum, up to the solver's tolerance (the problem is flat near it at C=20).
    carried_proba = carried.predict_proba(X[180:][:, used])
    np.testing.assert_allclose(carried_proba, cold.predict_proba(X[180:]), atol=0.02)
    assert not np.any(np.delete(cold.coef_, used, axis=1))  # the others are zero in a full fit too
