"""The vectorised consolidations (``consolidate/flat.py``) give what the per-item loops gave.

The references below are the loops as they were before the answers were flattened to arrays
(one dict per item, ``Counter`` votes, the per-epoch gathers of Dawid-Skene by strided column);
hypothesis makes answer sets with repeated answers by one annotator, empty items, ties and
answers outside the classes, and every figure must agree to the last bit.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nblabel.consolidate import dawid_skene, dawid_skene_multilabel, majority_vote
from nblabel.consolidate.dawid_skene import _prior_matrix

CLASSES = ["a", "b", "c"]


def _latest(pairs: Any) -> dict[str, Any]:
    last: dict[str, Any] = {}
    for who, value in pairs:
        last[who] = value
    return last


def reference_fit(
    item, annotator, answer, n_items, n_annotators, k, max_epochs=20, tol=1e-8, prior_accuracy=0.7
):
    confusion = np.broadcast_to(_prior_matrix(k, prior_accuracy), (n_annotators, k, k)).copy()
    posterior = np.full((n_items, k), 1.0 / k)
    accuracy = np.full(n_annotators, prior_accuracy)
    crowd_accuracy, previous = prior_accuracy, None
    flat = annotator * k + answer
    tiny = np.finfo(float).tiny
    for _ in range(max_epochs):
        prior = posterior.sum(axis=0)
        prior /= prior.sum()
        log_confusion = np.log(np.maximum(confusion, tiny))
        contribution = log_confusion[annotator, :, answer]
        log_p = np.empty((n_items, k))
        log_prior = np.log(np.maximum(prior, tiny))
        for t in range(k):
            log_p[:, t] = log_prior[t] + np.bincount(item, weights=contribution[:, t], minlength=n_items)
        top = log_p.max(axis=1, keepdims=True)
        weights = np.exp(log_p - top)
        total = weights.sum(axis=1, keepdims=True)
        log_likelihood = float((np.log(total[:, 0]) + top[:, 0]).sum())
        posterior = weights / total
        counts = np.empty((n_annotators, k, k))
        for t in range(k):
            counts[:, t, :] = np.bincount(
                flat, weights=posterior[item, t], minlength=n_annotators * k
            ).reshape(n_annotators, k)
        given_ = counts.sum(axis=(1, 2))
        accuracy = np.trace(counts, axis1=1, axis2=2) / given_
        confusion = (
            counts
            + _prior_matrix(k, accuracy) * given_[:, None, None]
            + _prior_matrix(k, crowd_accuracy) * (given_[:, None, None] / 2)
        )
        confusion /= confusion.sum(axis=2, keepdims=True)
        crowd_accuracy = float(accuracy.mean())
        if previous is not None and abs(log_likelihood - previous) <= tol * abs(previous):
            break
        previous = log_likelihood
    return posterior, accuracy, confusion


def reference_index(answers, encode):
    items, annotators, triples = [], {}, []
    for key, pairs in answers.items():
        last = _latest(pairs)
        if not last:
            continue
        i = len(items)
        items.append(key)
        for who, value in last.items():
            triples.append((i, annotators.setdefault(who, len(annotators)), encode(key, value)))
    return items, list(annotators), triples


def not_a_class(key, value, classes):
    raise ValueError(f"item {key}: answer {value!r} is not one of the classes {classes}")


def reference_dawid_skene(answers, classes):
    index = {c: n for n, c in enumerate(classes)}

    def encode(key, value):
        try:
            return index[value]
        except (KeyError, TypeError):
            not_a_class(key, value, classes)

    items, annotators, triples = reference_index(answers, encode)
    if not items:
        return {}, {}, {}
    i, j, ell = (np.array([t[n] for t in triples], dtype=np.int64) for n in range(3))
    posterior, quality, confusion = reference_fit(i, j, ell, len(items), len(annotators), len(classes))
    best = posterior.argmax(axis=1)
    confidence = np.minimum(posterior[np.arange(len(items)), best], 0.95)
    given_ = np.bincount(i, minlength=len(items))
    labels = {key: (classes[best[n]], float(confidence[n]), int(given_[n])) for n, key in enumerate(items)}
    return (
        labels,
        {w: float(quality[n]) for n, w in enumerate(annotators)},
        dict(zip(annotators, confusion, strict=True)),
    )


def reference_multilabel(answers, classes):
    index = {c: n for n, c in enumerate(classes)}
    items, annotators, triples = reference_index(answers, lambda key, v: frozenset(index[c] for c in v))
    if not items:
        return {}, {}
    i, j = (np.array([t[n] for t in triples], dtype=np.int64) for n in range(2))
    present, right = np.empty((len(items), len(classes))), np.zeros(len(annotators))
    for c in range(len(classes)):
        chosen = np.array([c in t[2] for t in triples], dtype=np.int64)
        posterior, quality, _ = reference_fit(i, j, chosen, len(items), len(annotators), 2)
        present[:, c] = posterior[:, 1]
        right += quality
    whole = np.minimum(np.where(present >= 0.5, present, 1.0 - present).prod(axis=1), 0.95)
    given_ = np.bincount(i, minlength=len(items))
    labels = {
        key: (
            [classes[c] for c in range(len(classes)) if present[n, c] >= 0.5],
            float(whole[n]),
            int(given_[n]),
        )
        for n, key in enumerate(items)
    }
    return labels, {w: float(right[n] / len(classes)) for n, w in enumerate(annotators)}


def reference_majority(answers, classes):
    labels, agree, total = {}, Counter(), Counter()
    for key, pairs in answers.items():
        votes = list(_latest(pairs).values())
        if not votes:
            continue
        for v in votes:
            if classes is not None and (not isinstance(v, str) or v not in classes):
                not_a_class(key, v, classes)
        value, n = max(Counter(votes).items(), key=lambda kv: kv[1])
        labels[key] = (value, n / len(votes), len(votes))
        for who, v in _latest(pairs).items():
            total[who] += 1
            agree[who] += int(v == value)
    return labels, {who: agree[who] / n for who, n in total.items()}


def got(result) -> dict:
    return {k: (c.value, c.confidence, c.answers) for k, c in result.items.items()}


annotators = st.sampled_from([f"w{n}" for n in range(6)])
answer_sets = st.dictionaries(
    st.one_of(st.integers(0, 10**6), st.text(max_size=4)),
    st.lists(st.tuples(annotators, st.sampled_from(CLASSES)), max_size=6),
    max_size=40,
)


@settings(max_examples=150, deadline=None)
@given(answer_sets)
def test_dawid_skene_and_the_vote_agree_with_the_loops(answers: dict) -> None:
    ds = dawid_skene(answers, CLASSES)
    labels, quality, confusion = reference_dawid_skene(answers, CLASSES)
    assert got(ds) == labels and ds.quality == quality
    assert ds.confusion.keys() == confusion.keys()
    assert all(np.array_equal(ds.confusion[w], confusion[w]) for w in confusion)
    for classes in (CLASSES, None):
        mv = majority_vote(answers, classes)
        assert (got(mv), mv.quality) == reference_majority(answers, classes)


@settings(max_examples=60, deadline=None)
@given(
    st.dictionaries(
        st.integers(0, 1000),
        st.lists(st.tuples(annotators, st.lists(st.sampled_from(CLASSES), unique=True)), max_size=5),
        max_size=25,
    )
)
def test_multilabel_dawid_skene_agrees_with_the_loop(answers: dict) -> None:
    result = dawid_skene_multilabel(answers, CLASSES)
    labels, quality = reference_multilabel(answers, CLASSES)
    assert got(result) == labels and result.quality == quality


@pytest.mark.parametrize("bad", ["z", ["a"], None])
def test_the_first_answer_outside_the_classes_is_named(bad: Any) -> None:
    # w1 answered item 2 twice: only their last answer counts, so "z" given first is no error.
    answers = {1: [("w0", "a")], 2: [("w1", bad), ("w2", "b"), ("w1", "a")], 3: [("w0", bad), ("w1", "c")]}
    message = f"item 3: answer {bad!r} is not one of the classes {CLASSES}"
    for method in (dawid_skene, majority_vote):
        with pytest.raises(ValueError) as raised:
            method(answers, CLASSES)
        assert str(raised.value) == message
