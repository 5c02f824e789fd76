"""The auto-labeler: Ground Truth's active-learning loop, with an honest accuracy bound.

See :mod:`nblabel.autolabel.loop` for one round, :mod:`nblabel.autolabel.calibrate` for the
threshold, :mod:`nblabel.autolabel.features` for featurizers and
:mod:`nblabel.autolabel.worker` for running rounds in the background.
"""

from __future__ import annotations

from nblabel.autolabel.calibrate import answers_needed, choose_threshold, wilson_lower
from nblabel.autolabel.features import image_features, text_features
from nblabel.autolabel.loop import RoundReport, compute_round, default_estimator

__all__ = [
    "RoundReport",
    "answers_needed",
    "choose_threshold",
    "compute_round",
    "default_estimator",
    "image_features",
    "text_features",
    "wilson_lower",
]
