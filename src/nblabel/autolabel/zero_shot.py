"""Proposals before the first answer: each text's nearest label in a sentence-embedding space.

With no answer there is nothing to train on, but the labels themselves carry meaning: a text about
"shares, profits and markets" sits closer to "business: companies, markets and the economy" than
to "sport" in the all-MiniLM-L6-v2 space (:func:`nblabel.autolabel.embeddings.minilm_features`).
Each open text gets the label whose prompt (its name, and its description when the task has one:
``TextClassification(labels, descriptions=...)``) is most similar by cosine, as a *proposal* the
person confirms or corrects, never as an auto-label: no answer backs it, so there is no evidence
to bound its accuracy. Once the loop has answers to train on, the model's proposals replace these.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from nblabel.tasks.classification import TextClassification

__all__ = ["TEMPERATURE", "label_prompts", "task_prompts", "zero_shot_proposals"]

TEMPERATURE = 0.05
"""Softmax temperature over cosine similarities: turns them into the proposal's confidence (the
cosines of MiniLM prompts to texts spread over a few hundredths, so a plain softmax would be flat)."""


def label_prompts(labels: Sequence[str], descriptions: Sequence[str | None] | None = None) -> list[str]:
    """The text each label is embedded as: ``"name: description"``, or the name alone."""
    described = list(descriptions) if descriptions is not None else [None] * len(labels)
    return [f"{name}: {text}" if text else name for name, text in zip(labels, described, strict=True)]


def task_prompts(task: Any, featurizer: Any = None) -> list[str] | None:
    """The label prompts a job's auto-labeler proposes from before the first answers, or None.

    Single-label text jobs only, and only when asked for: the task has ``descriptions``, or the
    featurizer is MiniLM's already (embedding every text just for the first proposals takes a
    while on a CPU: about a minute per 1,000 texts).
    """
    from nblabel.autolabel.embeddings import minilm_features

    if not isinstance(task, TextClassification) or task.multi_label:
        return None
    if task.descriptions is None and featurizer is not minilm_features:
        return None
    return label_prompts(task.labels, task.descriptions)


def zero_shot_proposals(
    X: np.ndarray, label_vectors: np.ndarray, temperature: float = TEMPERATURE
) -> tuple[np.ndarray, np.ndarray]:
    """The nearest label of each row of ``X`` and its confidence (a softmax of the cosines).

    ``X`` and ``label_vectors`` are embeddings in the same space (rows of any norm: they are
    normalised here). Returns the label index and confidence of each row.
    """
    items = np.asarray(X, dtype=float)
    prompts = np.asarray(label_vectors, dtype=float)
    items = items / np.maximum(np.linalg.norm(items, axis=1, keepdims=True), 1e-12)
    prompts = prompts / np.maximum(np.linalg.norm(prompts, axis=1, keepdims=True), 1e-12)
    logits = items @ prompts.T / temperature
    logits -= logits.max(axis=1, keepdims=True)
    proba = np.exp(logits)
    proba /= proba.sum(axis=1, keepdims=True)
    return proba.argmax(axis=1), proba.max(axis=1)
