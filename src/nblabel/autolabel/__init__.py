"""The auto-labeler: Ground Truth's active-learning loop, with an honest accuracy bound.

See :mod:`nblabel.autolabel.loop` for one round, :mod:`nblabel.autolabel.design_bound` for the
threshold (:mod:`nblabel.autolabel.calibrate` keeps Ground Truth's own point-estimate rule, which
the benchmarks compare against), :mod:`nblabel.autolabel.features` for featurizers and
:mod:`nblabel.autolabel.worker` for running rounds in the background. Named-entity jobs get
proposals only, from :mod:`nblabel.autolabel.tagger` (a CRF) in :mod:`nblabel.autolabel.entity_loop`.
"""

from __future__ import annotations

from nblabel.autolabel.calibrate import answers_needed, choose_threshold, wilson_lower
from nblabel.autolabel.features import UnreadableError, image_features, text_features
from nblabel.autolabel.loop import RoundReport, compute_round, default_estimator
from nblabel.autolabel.tagger import EntityTagger

__all__ = [
    "EntityTagger",
    "RoundReport",
    "UnreadableError",
    "answers_needed",
    "choose_threshold",
    "compute_round",
    "default_estimator",
    "image_features",
    "text_features",
    "wilson_lower",
]
