"""Simulated crowds with known error rates, to check and compare consolidation methods.

Each annotator answers right with their accuracy; a wrong answer is any other class at random
(a careless annotator), or, for an adversarial annotator, always the "next" class (true class
``c<t>`` answered as ``c<t+1>``), a consistent error that Dawid-Skene can learn and majority
vote cannot.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass

import numpy as np

__all__ = ["SimulatedCrowd", "simulate_crowd"]


@dataclass(frozen=True)
class SimulatedCrowd:
    """A simulated job: the answers, the truth, and the classes.

    Attributes
    ----------
    answers
        Item number to its ``(annotator, class name)`` pairs: the input of the consolidations.
    truth
        Item number to its true class.
    classes
        The class names, ``c0``, ``c1``, ...
    """

    answers: dict[int, list[tuple[str, str]]]
    truth: dict[int, str]
    classes: list[str]

    def accuracy(self, labels: Mapping[int, str]) -> float:
        """The share of items whose label in ``labels`` is the true class."""
        return sum(labels.get(i) == t for i, t in self.truth.items()) / len(self.truth)


def simulate_crowd(
    n_items: int,
    n_classes: int,
    accuracies: Mapping[str, float],
    answers_per_item: int = 3,
    *,
    adversarial: Collection[str] = (),
    seed: int = 0,
) -> SimulatedCrowd:
    """Simulate a crowd labeling ``n_items`` items of ``n_classes`` equally likely classes.

    Parameters
    ----------
    accuracies
        Annotator name to the probability that their answer is right.
    answers_per_item
        How many different annotators, drawn at random, answer each item.
    adversarial
        Annotators whose wrong answers are always the next class rather than random.
    seed
        The random generator's seed: the same arguments give the same crowd.
    """
    names = list(accuracies)
    if not 1 <= answers_per_item <= len(names):
        raise ValueError(f"answers_per_item must be between 1 and the {len(names)} annotators")
    if n_classes < 2:
        raise ValueError("a crowd needs at least 2 classes")
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, n_classes, n_items)
    who = rng.random((n_items, len(names))).argsort(axis=1)[:, :answers_per_item]
    accuracy = np.array([accuracies[n] for n in names])[who]
    adverse = np.array([n in set(adversarial) for n in names])[who]
    right = rng.random(who.shape) < accuracy
    offset = np.where(adverse, 1, rng.integers(1, n_classes, who.shape))  # a wrong class: t + offset
    given = np.where(right, truth[:, None], (truth[:, None] + offset) % n_classes)
    classes = [f"c{c}" for c in range(n_classes)]
    answers = {
        i: [(names[j], classes[c]) for j, c in zip(who[i].tolist(), given[i].tolist(), strict=True)]
        for i in range(n_items)
    }
    return SimulatedCrowd(answers, {i: classes[t] for i, t in enumerate(truth.tolist())}, classes)
