"""One round of the auto-labeler for named entities: proposals only, never auto-labels.

A round:

1. trains the :class:`~nblabel.autolabel.tagger.EntityTagger` on every text people answered
   (once at least 5 texts are answered and one of them holds an entity);
2. cross-fits, as the classification loop does: each answered text is tagged by a model trained
   without it, giving the share of texts whose proposal is exactly the person's answer (what
   Enter would accept unchanged) and the exact-span precision, recall and F1;
3. proposes spans, each with its confidence, for every open text;
4. orders the people's queue: least confident texts first, interleaved with random draws.

Step 3 is the part that grows with the job: on a Dask cluster (``job.autolabel(cluster=...)``)
the fitted tagger is sent to the workers, which tokenize and tag the open texts in partitions
and return only their spans and confidences (``predict``, see
:class:`~nblabel.autolabel.distributed.ClusterItems`); steps 1, 2 and 4 stay where the round runs.

Ground Truth does not auto-label entities, and neither does nblabel: an entity proposal becomes
a label only when a person accepts it (Enter stores it as that person's answer).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from nblabel.autolabel.loop import Round, RoundReport, _interleave
from nblabel.autolabel.tagger import DocumentFeatures, EntityTagger, span_scores

__all__ = ["MIN_ANSWERS", "compute_entity_round"]

MIN_ANSWERS = 5
"""Answered texts a round waits for (one of them with an entity) before training."""


def compute_entity_round(
    texts: Sequence[str],
    features: Sequence[DocumentFeatures] | Mapping[int, DocumentFeatures],
    human: dict[int, list[dict[str, Any]]],
    open_positions: Sequence[int],
    *,
    crf: Any = None,
    folds: int = 5,
    random_fraction: float = 0.5,
    seed: int = 0,
    round_number: int = 1,
    predict: Callable[[EntityTagger, list[int]], Sequence[tuple[list[dict[str, Any]], float]]] | None = None,
) -> Round:
    """Run one entity round.

    Parameters
    ----------
    texts, features
        Every text of the job and its :func:`~nblabel.autolabel.tagger.document_features`,
        by row position (with ``predict``, the answered texts' features are enough).
    human
        People's answers by position (lists of entities).
    open_positions
        Texts waiting for people (no answer, not skipped): they get proposals.
    crf
        An unfitted ``sklearn_crfsuite.CRF``; default :func:`~nblabel.autolabel.tagger.default_crf`.
    folds
        Cross-fitting folds for the held-out figures (none below 10 answers).
    random_fraction
        Share of the people's queue drawn at random rather than ranked by confidence.
    seed
        Seeds the folds and the random draws.
    predict
        ``predict(tagger, positions)``: the fitted tagger's proposals for the open texts at
        ``positions``, made elsewhere (on a Dask cluster); default ``tagger.predict`` here.
    """
    positions = sorted(human)
    open_arr = np.asarray(list(open_positions), dtype=int)
    rng = np.random.default_rng(seed)
    random_order = open_arr[rng.permutation(len(open_arr))]

    report = RoundReport.maker(round_number, len(positions), 1.0, len(open_arr), proposes_only=True)

    if len(positions) < MIN_ANSWERS or not any(human[p] for p in positions):
        return Round(
            report(
                message=f"waiting for at least {MIN_ANSWERS} answered texts, one with an entity, before training"
            ),
            queue=[int(p) for p in random_order],
        )

    def fit(train: Sequence[int]) -> EntityTagger:
        return EntityTagger(crf).fit(
            [texts[p] for p in train], [human[p] for p in train], [features[p] for p in train]
        )

    held: dict[str, Any] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if len(positions) >= 2 * MIN_ANSWERS:
            from sklearn.model_selection import KFold

            k = max(2, min(folds, len(positions)))
            order = np.asarray(positions)
            gold, guessed = [], []
            for train, test in KFold(n_splits=k, shuffle=True, random_state=seed).split(order):
                train_pos = [int(p) for p in order[train]]
                if not any(human[p] for p in train_pos):
                    continue
                test_pos = [int(p) for p in order[test]]
                tagged = fit(train_pos).predict([texts[p] for p in test_pos], [features[p] for p in test_pos])
                gold += [human[p] for p in test_pos]
                guessed += [entities for entities, _ in tagged]
            if gold:
                held = {"n": len(gold), **span_scores(gold, guessed)}
        tagger = fit(positions)
        if predict is None:
            tagged = tagger.predict([texts[p] for p in open_arr], [features[p] for p in open_arr])
        else:
            tagged = list(predict(tagger, [int(p) for p in open_arr]))
    proposals = {int(p): (entities, conf) for p, (entities, conf) in zip(open_arr, tagged, strict=True)}
    confidence = np.asarray([conf for _, conf in tagged], dtype=float)
    ranked = open_arr[np.argsort(confidence, kind="stable")]
    queue, _ = _interleave(
        ranked, random_order, random_fraction
    )  # draws: only classification's bound weights by them
    message = (
        f"held-out span precision {held['precision']:.1%}, recall {held['recall']:.1%}, F1 {held['f1']:.1%}"
        if held
        else f"no held-out figures below {2 * MIN_ANSWERS} answers"
    )
    return Round(
        report(
            held_out=held.get("n", 0),
            estimated_accuracy=held.get("exact", math.nan),
            message=message,
        ),
        proposals=proposals,
        queue=queue,
    )
