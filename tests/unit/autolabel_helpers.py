"""Shared by the auto-labeler tests: synthetic texts, and estimators a worker process can load.

The worker runs as ``python -m nblabel.autolabel.worker``, a fresh interpreter that unpickles its
estimator, so the estimators live in this importable module (the tests put ``tests/unit`` on the
child's ``PYTHONPATH``), not in a test file.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression

LABELS = ["animal", "food", "vehicle"]
VOCABULARY = {
    "animal": [
        "otter",
        "heron",
        "badger",
        "falcon",
        "lizard",
        "beetle",
        "salmon",
        "moose",
        "weasel",
        "gecko",
    ],
    "food": [
        "bread",
        "cheese",
        "noodle",
        "pepper",
        "butter",
        "yogurt",
        "lentil",
        "waffle",
        "almond",
        "ginger",
    ],
    "vehicle": [
        "tractor",
        "scooter",
        "ferry",
        "tram",
        "glider",
        "kayak",
        "wagon",
        "trolley",
        "sedan",
        "rocket",
    ],
}
FILLER = ["the", "a", "with", "and", "of", "in", "on", "big", "small", "old", "new", "my"]


def synthetic_texts(n: int = 300, seed: int = 0, multi: bool = False) -> pd.DataFrame:
    """Texts from three clearly different vocabularies; ``gold`` is the class (or the classes).

    Every fifth text is hard: two words of its class and two of another (single-label), or a
    single word of each of its classes (multi-label).
    """
    rng = np.random.default_rng(seed)
    sources, gold = [], []
    for i in range(n):
        if multi:
            chosen = sorted(rng.choice(LABELS, int(rng.integers(1, 3)), replace=False).tolist())
        else:
            chosen = [LABELS[i % 3]]
        words = [w for c in chosen for w in rng.choice(VOCABULARY[c], 5).tolist()]
        if i % 5 == 4 and multi:
            words = words[::5]
        elif i % 5 == 4:
            other = LABELS[(LABELS.index(chosen[0]) + 1) % 3]
            words = [*words[:2], *rng.choice(VOCABULARY[other], 2).tolist()]
        words += rng.choice(FILLER, 4).tolist()
        rng.shuffle(words)
        sources.append(f"{i}: " + " ".join(words))
        gold.append(chosen if multi else chosen[0])
    return pd.DataFrame({"source": sources, "gold": gold})


def answer_drawn(job: Any, gold: Any, rows: range) -> None:
    """Answer ``rows`` with their ``gold`` labels as a person answering the queue's random draws
    would: each answer's meta says so, with the probability the draw had (one over the items
    still open, the rows before having been answered). The rows of :func:`synthetic_texts` cycle through the classes and the hard texts
    with no other order, so its first rows stand for a random sample; the auto-labeler's bound
    counts only answers to random draws (:mod:`nblabel.autolabel.design_bound`)."""
    from nblabel.autolabel.asked import ASKED, asked

    for i in rows:
        draw = asked("random", 1 / (len(job.keys) - i))
        job.log.label(job.key(i), gold[i], meta={ASKED: draw})


class FailingEstimator(ClassifierMixin, BaseEstimator):
    """A classifier whose fit always fails."""

    def fit(self, X: Any, y: Any) -> FailingEstimator:
        raise RuntimeError("fit failed on purpose")

    def predict_proba(self, X: Any) -> np.ndarray:
        raise AssertionError("never fitted")


class GatedLogistic(ClassifierMixin, BaseEstimator):
    """Logistic regression that, while the file ``<gate>/hold`` exists, stops inside ``fit``
    (after touching ``<gate>/held``) until ``<gate>/release`` appears: a worker held mid-round,
    for a test to kill."""

    def __init__(self, gate: str = "") -> None:
        self.gate = gate

    def fit(self, X: Any, y: Any) -> GatedLogistic:
        gate = Path(self.gate)
        if (gate / "hold").exists():
            (gate / "held").touch()
            while not (gate / "release").exists():
                time.sleep(0.05)
        self.model_ = LogisticRegression(C=20.0, max_iter=2000).fit(X, y)
        self.classes_ = self.model_.classes_
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        return self.model_.predict_proba(X)


def wait_for(condition: Callable[[], Any], what: str, timeout: float = 180.0) -> Any:
    """Poll ``condition`` until it is truthy; fail after ``timeout`` seconds (a watchdog for a hang,
    generous because CI shares 2 cores among 3 test processes)."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)


class GatedFeaturizer:
    """A row-wise featurizer (word counts over :data:`VOCABULARY`) that, from its second call on,
    waits inside the call until the file ``<gate>/release`` appears: a worker held after the first
    part of its features, for a test to read the progress it reported."""

    nblabel_row_wise = True  # what nblabel.autolabel.features.row_wise marks

    def __init__(self, gate: str) -> None:
        self.gate = gate
        self.calls = 0

    def __call__(self, texts: list[str]) -> np.ndarray:
        self.calls += 1
        while self.calls > 1 and not (Path(self.gate) / "release").exists():
            time.sleep(0.05)
        words = [w for vocabulary in VOCABULARY.values() for w in vocabulary]
        return np.array([[text.split().count(w) for w in words] for text in texts], dtype=float)
