"""Dawid-Skene and majority vote on simulated crowds with known error rates, and their edges."""

from __future__ import annotations

import numpy as np
import pytest

from nblabel.consolidate import (
    GT_CONFIDENCE_CAP,
    dawid_skene,
    dawid_skene_multilabel,
    majority_vote,
    majority_vote_multilabel,
)
from nblabel.datasets.crowd import simulate_crowd

# Well-separated accuracies: one good, graded careless ones, one adversary (who answers the
# "next" class when wrong: a consistent error).
CROWD = {"a95": 0.95, "b85": 0.85, "c70": 0.70, "d55": 0.55, "e40": 0.40, "adversary": 0.10}


def labels(result) -> dict:
    return {k: c.value for k, c in result.items.items()}


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_dawid_skene_beats_majority_vote_and_ranks_annotators(seed: int) -> None:
    crowd = simulate_crowd(2000, 4, CROWD, 3, adversarial=["adversary"], seed=seed)
    ds = dawid_skene(crowd.answers, crowd.classes)
    mv = majority_vote(crowd.answers, crowd.classes)
    ds_acc, mv_acc = crowd.accuracy(labels(ds)), crowd.accuracy(labels(mv))
    assert ds_acc >= mv_acc + 0.05, (ds_acc, mv_acc)
    assert ds_acc > 0.8
    ranking = sorted(ds.quality, key=ds.quality.get, reverse=True)
    assert ranking == list(CROWD)
    assert ds.quality["adversary"] < 0.3 and ds.quality["a95"] > 0.8
    # GT's smoothing pulls every matrix towards the crowd's average, but the adversary's still
    # shows its shift: of the wrong answers, the "next" class is the likeliest.
    adversary = ds.confusion["adversary"]
    assert adversary.shape == (4, 4)
    assert np.allclose(adversary.sum(axis=1), 1.0)
    for t in range(4):
        wrong = [c for c in range(4) if c != t]
        assert max(wrong, key=lambda c: adversary[t, c]) == (t + 1) % 4


def test_majority_vote_quality_is_agreement_not_accuracy() -> None:
    crowd = simulate_crowd(2000, 4, CROWD, 3, adversarial=["adversary"], seed=5)
    mv = majority_vote(crowd.answers, crowd.classes)
    assert max(mv.quality, key=mv.quality.get) == "a95"
    assert min(mv.quality, key=mv.quality.get) == "adversary"


def multilabel_crowd(seed: int, n: int = 1500, k: int = 5):
    rng = np.random.default_rng(seed)
    accuracy = {"good": 0.95, "ok": 0.85, "careless": 0.65, "adversary": 0.2}
    names, classes = list(accuracy), [f"c{i}" for i in range(k)]
    truth = rng.random((n, k)) < 0.3
    answers = {}
    for i in range(n):
        answers[i] = []
        for j in rng.permutation(len(names))[:3]:
            kept = rng.random(k) < accuracy[names[j]]  # each class decided right with the accuracy
            chosen = np.where(kept, truth[i], ~truth[i])
            answers[i].append((names[j], [classes[c] for c in range(k) if chosen[c]]))
    return (
        answers,
        {i: [classes[c] for c in range(k) if truth[i, c]] for i in range(n)},
        classes,
        list(accuracy),
    )


@pytest.mark.parametrize("seed", [0, 1])
def test_multilabel_dawid_skene_beats_majority_vote(seed: int) -> None:
    answers, truth, classes, order = multilabel_crowd(seed)
    ds = dawid_skene_multilabel(answers, classes)
    mv = majority_vote_multilabel(answers, classes)
    exact = lambda r: sum(r.items[i].value == truth[i] for i in truth) / len(truth)  # noqa: E731
    assert exact(ds) >= exact(mv) + 0.2
    assert sorted(ds.quality, key=ds.quality.get, reverse=True) == order
    item = ds.items[0]
    assert item.value == [c for c in classes if c in item.value]  # class order
    assert set(item.parts) == set(item.value)
    assert all(0.5 <= p <= GT_CONFIDENCE_CAP for p in item.parts.values())
    assert 0 < item.confidence <= GT_CONFIDENCE_CAP


def test_unanimous_answers_are_capped_like_gt() -> None:
    answers = {i: [("a", "cat"), ("b", "cat"), ("c", "cat")] for i in range(5)}
    answers[5] = [("a", "dog"), ("b", "dog"), ("c", "dog")]
    result = dawid_skene(answers, ["cat", "dog"])
    assert result.items[0].value == "cat" and result.items[5].value == "dog"
    assert result.items[0].confidence == GT_CONFIDENCE_CAP
    assert dawid_skene(answers, ["cat", "dog"], cap=1.0).items[0].confidence > 0.99
    assert result.items[0].answers == 3


def test_an_annotators_last_answer_counts_once() -> None:
    answers = {"x": [("a", "dog"), ("a", "cat"), ("b", "cat")]}
    assert majority_vote(answers).items["x"].value == "cat"
    assert majority_vote(answers).items["x"].confidence == 1.0
    assert dawid_skene(answers).items["x"].answers == 2


def test_majority_vote_ties_go_to_the_first_answer_and_share_is_confidence() -> None:
    result = majority_vote({"x": [("a", "owl"), ("b", "falcon"), ("c", "falcon"), ("d", "owl")]})
    assert result.items["x"].value == "owl"
    result = majority_vote({"y": [("a", "owl"), ("b", "owl"), ("c", "falcon")]})
    assert round(result.items["y"].confidence, 2) == 0.67  # GT's own example


def test_majority_vote_multilabel_shares() -> None:
    result = majority_vote_multilabel(
        {"x": [("a", ["cat", "dog"]), ("b", ["cat"]), ("c", ["cat", "dog"])]}, ["cat", "dog"]
    )
    c = result.items["x"]
    assert c.value == ["cat", "dog"]
    assert c.parts == {"cat": 1.0, "dog": pytest.approx(2 / 3)}
    assert c.confidence == pytest.approx(2 / 3)


def test_answers_outside_the_classes_name_the_item() -> None:
    with pytest.raises(ValueError, match="item 7: answer 'emu' is not one of the classes"):
        dawid_skene({7: [("a", "emu")]}, ["cat", "dog"])
    with pytest.raises(ValueError, match="item 7: answer 'emu'"):
        majority_vote({7: [("a", "emu")]}, ["cat", "dog"])
    with pytest.raises(ValueError, match="item 3: a multi-label answer is a list"):
        dawid_skene_multilabel({3: [("a", "cat")]}, ["cat"])
    with pytest.raises(ValueError, match="classes must be unique"):
        dawid_skene({}, ["cat", "cat"])


def test_no_answers_and_one_class() -> None:
    assert dawid_skene({}, ["cat"]).items == {}
    assert dawid_skene({"x": []}, ["cat", "dog"]).items == {}
    one = dawid_skene({"x": [("a", "cat")]}, ["cat"])
    assert one.items["x"].value == "cat"


def test_simulated_crowd_is_reproducible_and_honest() -> None:
    first = simulate_crowd(3000, 3, {"a": 0.9, "b": 0.6, "c": 0.2}, 3, adversarial=["c"], seed=4)
    again = simulate_crowd(3000, 3, {"a": 0.9, "b": 0.6, "c": 0.2}, 3, adversarial=["c"], seed=4)
    assert first == again
    for who, expected in (("a", 0.9), ("b", 0.6), ("c", 0.2)):
        mine = [(i, v) for i, pairs in first.answers.items() for w, v in pairs if w == who]
        assert abs(sum(first.truth[i] == v for i, v in mine) / len(mine) - expected) < 0.03
    wrong_c = [
        (first.truth[i], v)
        for i, pairs in first.answers.items()
        for w, v in pairs
        if w == "c" and v != first.truth[i]
    ]
    assert all(int(v[1]) == (int(t[1]) + 1) % 3 for t, v in wrong_c)
