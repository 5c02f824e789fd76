"""Modified Dawid-Skene: Ground Truth's consolidation of classification answers.

Each annotator gets a confusion matrix (how often they answer class ``l`` when the truth is
``t``); each item gets a posterior over the classes. Expectation-maximisation alternates:

- E-step: ``p_i[t] ∝ prior[t] · Π_j C_j[t, l_ij]`` over the item's answers, the prior being the
  normalised sum of the previous posteriors;
- M-step: ``C_j[t, l] = Σ p_i[t]`` over j's answers ``l``; the annotator's accuracy
  ``acc_j = trace / n_j``; then GT's smoothing ``C_j += M(acc_j)·n_j + M(a_all)·n_j/2`` where
  ``M(a)`` has ``a`` on the diagonal and ``(1-a)/(K-1)`` elsewhere and ``a_all`` is the mean
  accuracy of the previous epoch (0.7 at the start); rows normalised;
- at most 20 epochs, or until the log-likelihood changes by less than 1e-8 (relative).

This is the algorithm of GT's published reference (``MulticlassDawidSkeneEM``, gt-formats.md
§5.1), with the log-likelihood computed from the unnormalised posteriors (the reference
normalises them in place first, so its stopping test never fires), and vectorised over all
answers so a million items take seconds. The smoothing keeps annotators with few answers close
to the crowd's average, which is what makes it work on crowds where most people answer a handful
of items. Confidences are capped at 0.95, as in GT's production output (gt-formats §5.1, §9).

Multi-label answers are consolidated class by class: for each class a two-class model of
"selected / not selected", so each annotator has a reliability per class. The answer holds the
classes whose posterior reaches 0.5, each with its posterior (GT's ``confidence-map``). GT writes
the union of every class anyone selected instead; a class one careless person ticked lowers the
label's accuracy, so nblabel leaves it out.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from itertools import repeat
from typing import Any

import numpy as np
import pandas as pd

from nblabel.consolidate.flat import class_codes, flatten, not_a_class
from nblabel.consolidate.result import Answers, Consolidated, Consolidation

__all__ = ["GT_CONFIDENCE_CAP", "dawid_skene", "dawid_skene_multilabel"]

#: The highest confidence GT's consolidation writes (297 of the 302 lines of a real GT job).
GT_CONFIDENCE_CAP = 0.95


def _prior_matrix(k: int, accuracy: np.ndarray | float) -> np.ndarray:
    """``M(a)``: ``a`` on the diagonal, ``(1 - a) / (k - 1)`` elsewhere; batched over ``a``."""
    a = np.asarray(accuracy, dtype=float)
    eye = np.eye(k)
    off = (1.0 - a) / (k - 1)
    return a[..., None, None] * eye + off[..., None, None] * (1.0 - eye)


def fit(
    item: np.ndarray,
    annotator: np.ndarray,
    answer: np.ndarray,
    n_items: int,
    n_annotators: int,
    k: int,
    *,
    max_epochs: int = 20,
    tol: float = 1e-8,
    prior_accuracy: float = 0.7,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Run modified Dawid-Skene on answers given as parallel index arrays.

    Parameters
    ----------
    item, annotator, answer
        For each answer: the item's index (< ``n_items``), the annotator's index
        (< ``n_annotators``) and the answered class (< ``k``).

    Returns
    -------
    posterior
        ``(n_items, k)``: each item's probability of each true class.
    accuracy
        ``(n_annotators,)``: each annotator's estimated share of right answers (GT's worker
        accuracy: the expected right answers of the last M-step over their answers; with few
        answers it says little: one answer gives about 0 or 1).
    confusion
        ``(n_annotators, k, k)``: each annotator's smoothed confusion matrix (rows: true class).
    """
    if k < 2:
        return np.ones((n_items, 1)), np.ones(n_annotators), np.ones((n_annotators, 1, 1))
    confusion = np.broadcast_to(_prior_matrix(k, prior_accuracy), (n_annotators, k, k)).copy()
    posterior = np.full((n_items, k), 1.0 / k)
    accuracy = np.full(n_annotators, prior_accuracy)
    crowd_accuracy = prior_accuracy
    previous = None
    flat = annotator * k + answer
    tiny = np.finfo(float).tiny
    # Items given the same answers by the same people in the same order have the same posterior:
    # the E-step runs once per such "signature" (at a million items of three answers by ten
    # people, about a tenth of the items), on the answers of one item of each, in their order.
    signature, first = _signatures(item, flat, n_items, n_annotators * k)
    chosen = np.zeros(n_items, dtype=bool)
    chosen[first] = True
    picked = chosen[item]
    sig_item, sig_flat = signature[item[picked]], flat[picked]
    answer_signature = signature[item]
    for _ in range(max_epochs):
        # E-step, in logs so that items with many answers do not underflow.
        prior = posterior.sum(axis=0)
        prior /= prior.sum()
        log_confusion = np.log(np.maximum(confusion, tiny))
        # log C_j[t, l] for every t, one contiguous row per t.
        contribution = log_confusion.transpose(1, 0, 2).reshape(k, n_annotators * k)[:, sig_flat]
        log_p = np.empty((len(first), k))
        log_prior = np.log(np.maximum(prior, tiny))
        for t in range(k):
            log_p[:, t] = log_prior[t] + np.bincount(sig_item, weights=contribution[t], minlength=len(first))
        top = log_p.max(axis=1, keepdims=True)
        weights = np.exp(log_p - top)
        total = weights.sum(axis=1, keepdims=True)
        log_likelihood = float((np.log(total[:, 0]) + top[:, 0])[signature].sum())
        by_signature = weights / total
        posterior = by_signature[signature]
        # M-step: expected counts, then GT's smoothing towards the annotator's and the crowd's accuracy.
        per_signature = np.ascontiguousarray(by_signature.T)  # (k, signatures): a row per class
        counts = np.empty((n_annotators, k, k))
        for t in range(k):
            weights_t = per_signature[t][answer_signature]  # each answer's item posterior, in order
            counts[:, t, :] = np.bincount(flat, weights=weights_t, minlength=n_annotators * k).reshape(
                n_annotators, k
            )
        given = counts.sum(axis=(1, 2))
        accuracy = np.trace(counts, axis1=1, axis2=2) / given
        confusion = (
            counts
            + _prior_matrix(k, accuracy) * given[:, None, None]
            + _prior_matrix(k, crowd_accuracy) * (given[:, None, None] / 2)
        )
        confusion /= confusion.sum(axis=2, keepdims=True)
        crowd_accuracy = float(accuracy.mean())
        if previous is not None and abs(log_likelihood - previous) <= tol * abs(previous):
            break
        previous = log_likelihood
    return posterior, accuracy, confusion


def _signatures(
    item: np.ndarray, flat: np.ndarray, n_items: int, codes: int
) -> tuple[np.ndarray, np.ndarray]:
    """Each item's signature number (items with the same answer codes in the same order share
    one), and the first item of each signature.

    Signatures are packed into one integer per item (a digit per answer, base ``codes + 1``);
    when they do not fit 63 bits, every item is its own signature.
    """
    sizes = np.bincount(item, minlength=n_items)
    longest = int(sizes.max(initial=0))
    if longest == 0 or longest * np.log2(codes + 1) >= 63:
        return np.arange(n_items), np.arange(n_items)
    order = np.argsort(item, kind="stable")  # each item's answers together, in their order
    starts = np.cumsum(sizes) - sizes
    place = np.arange(len(item)) - starts[item[order]]  # the answer's place among its item's
    packed = np.zeros(n_items, dtype=np.int64)
    np.add.at(packed, item[order], (flat[order] + 1) * (codes + 1) ** place)
    signature, _ = pd.factorize(packed)
    return signature, np.flatnonzero(~pd.Index(packed).duplicated())


def _class_index(classes: Sequence[str]) -> dict[str, int]:
    index = {name: i for i, name in enumerate(classes)}
    if len(index) != len(classes):
        raise ValueError(f"classes must be unique, got {list(classes)}")
    return index


def dawid_skene(
    answers: Answers,
    classes: Sequence[str] | None = None,
    *,
    max_epochs: int = 20,
    tol: float = 1e-8,
    prior_accuracy: float = 0.7,
    cap: float = GT_CONFIDENCE_CAP,
) -> Consolidation:
    """Consolidate single-label answers with modified Dawid-Skene (see the module docstring).

    Parameters
    ----------
    answers
        Per item, its ``(annotator, class name)`` pairs.
    classes
        Every class, in the task's order; default: the classes answered, sorted.
    max_epochs, tol, prior_accuracy
        GT's settings: 20 epochs, relative log-likelihood change 1e-8, initial accuracy 0.7.
    cap
        The highest confidence written (GT: 0.95).

    Returns
    -------
    Consolidation
        Per item the likeliest class and its posterior as confidence; per annotator the
        estimated accuracy and confusion matrix.

    Raises
    ------
    ValueError
        An answer is not one of ``classes``; the message names the item and the annotator.
    """
    if classes is None:
        classes = sorted({v for pairs in answers.values() for _, v in pairs})
    classes = list(classes)
    _class_index(classes)
    flat = flatten(answers)
    items, annotators = flat.items, flat.annotators
    result = Consolidation("dawid-skene", classes=classes)
    if not items:
        return result
    ell = class_codes(flat, classes, not_a_class(classes))
    posterior, quality, confusion = fit(
        flat.item,
        flat.annotator,
        ell,
        len(items),
        len(annotators),
        len(classes),
        max_epochs=max_epochs,
        tol=tol,
        prior_accuracy=prior_accuracy,
    )
    best = posterior.argmax(axis=1)
    confidence = np.minimum(posterior[np.arange(len(items)), best], cap)
    names = np.array(classes, dtype=object)[best].tolist()
    result.items = dict(
        zip(
            items,
            map(Consolidated, names, confidence.tolist(), repeat(None), flat.given().tolist()),
            strict=True,
        )
    )
    result.quality = {who: float(quality[n]) for n, who in enumerate(annotators)}
    result.confusion = {who: confusion[n] for n, who in enumerate(annotators)}
    return result


def dawid_skene_multilabel(
    answers: Answers,
    classes: Sequence[str] | None = None,
    *,
    max_epochs: int = 20,
    tol: float = 1e-8,
    prior_accuracy: float = 0.7,
    cap: float = GT_CONFIDENCE_CAP,
) -> Consolidation:
    """Consolidate multi-label answers (lists of class names), one two-class model per class.

    The answer of an item is the list of classes (in ``classes`` order) whose posterior is at
    least 0.5; ``parts`` maps each of them to its posterior (capped), and ``confidence`` is the
    probability that the whole answer is right (the product over classes of the posterior of
    the decision taken), capped. ``quality`` is each annotator's accuracy averaged over the
    classes. ``confusion`` is not filled (one 2x2 matrix per class).

    Parameters and errors as :func:`dawid_skene`.
    """
    if classes is None:
        classes = sorted({c for pairs in answers.values() for _, v in pairs for c in v})
    classes = list(classes)
    index = _class_index(classes)

    def encode(key: Hashable, value: Any) -> frozenset[int]:
        if isinstance(value, str) or not isinstance(value, (list, tuple, set, frozenset)):
            raise ValueError(f"item {key}: a multi-label answer is a list of class names, got {value!r}")
        try:
            return frozenset(index[c] for c in value)
        except (KeyError, TypeError):
            raise ValueError(f"item {key}: answer {value!r} is not a list of the classes {classes}") from None

    flat = flatten(answers)
    items, annotators, i, j = flat.items, flat.annotators, flat.item, flat.annotator
    result = Consolidation("dawid-skene", classes=classes)
    if not items:
        return result
    encoded = [encode(items[n], v) for n, v in zip(i.tolist(), flat.values, strict=True)]
    present = np.empty((len(items), len(classes)))
    right = np.zeros(len(annotators))
    for c in range(len(classes)):
        chosen = np.fromiter((c in e for e in encoded), dtype=np.int64, count=len(encoded))
        posterior, quality, _ = fit(
            i,
            j,
            chosen,
            len(items),
            len(annotators),
            2,
            max_epochs=max_epochs,
            tol=tol,
            prior_accuracy=prior_accuracy,
        )
        present[:, c] = posterior[:, 1]
        right += quality
    decided = np.where(present >= 0.5, present, 1.0 - present)
    whole = np.minimum(decided.prod(axis=1), cap)
    given = flat.given()
    for n, key in enumerate(items):
        chosen_classes = [c for c in range(len(classes)) if present[n, c] >= 0.5]
        result.items[key] = Consolidated(
            [classes[c] for c in chosen_classes],
            float(whole[n]),
            {classes[c]: float(min(present[n, c], cap)) for c in chosen_classes},
            int(given[n]),
        )
    result.quality = {who: float(right[n] / len(classes)) for n, who in enumerate(annotators)}
    return result
