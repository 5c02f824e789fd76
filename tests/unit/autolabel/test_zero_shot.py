"""Zero-shot proposals before the first answers: nearest label prompt in MiniLM space, shown as
proposals and never auto-labels, replaced by the trained model's once answers arrive."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from nblabel import Job, TextClassification
from nblabel.autolabel.embeddings import minilm_features
from nblabel.autolabel.loop import compute_round, default_estimator
from nblabel.autolabel.zero_shot import label_prompts, task_prompts, zero_shot_proposals


def test_nearest_prompt_with_a_softmax_confidence() -> None:
    prompts = np.eye(3)
    X = np.array([[0.9, 0.1, 0.0], [0.0, 0.2, 0.1], [0.1, 0.1, 3.0]])
    nearest, confidence = zero_shot_proposals(X, prompts)
    assert nearest.tolist() == [0, 1, 2]
    assert np.all((confidence > 1 / 3) & (confidence <= 1))
    assert confidence[2] > confidence[1]  # nearer the prompt, more confident


def test_the_loop_proposes_zero_shot_until_it_can_train_and_never_auto_labels() -> None:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 300)
    X = np.eye(3)[y] + rng.normal(0, 0.2, (300, 3))
    empty = compute_round(X, 3, {}, range(300), estimator=default_estimator("text"), zero_shot=(X, np.eye(3)))
    assert empty.auto == [] and len(empty.proposals) == 300
    assert np.mean([empty.proposals[p][0] == y[p] for p in range(300)]) > 0.9
    assert "zero-shot" in empty.report.message
    human = {p: int(y[p]) for p in range(60)}
    trained = compute_round(
        X, 3, human, range(60, 300), estimator=default_estimator("text"), zero_shot=(X, np.eye(3))
    )
    assert "zero-shot" not in trained.report.message and set(trained.proposals) == set(range(60, 300))
    without = compute_round(X, 3, {}, range(300), estimator=default_estimator("text"))
    assert without.proposals == {}


def test_descriptions_and_prompts() -> None:
    task = TextClassification(["sport", "tech"], descriptions={"tech": "computers and phones"})
    assert task.descriptions == ["", "computers and phones"]
    assert label_prompts(task.labels, task.descriptions) == ["sport", "tech: computers and phones"]
    assert task_prompts(task) == ["sport", "tech: computers and phones"]
    assert task_prompts(TextClassification(["a", "b"])) is None  # not asked for
    assert task_prompts(TextClassification(["a", "b"]), minilm_features) == ["a", "b"]
    assert task_prompts(TextClassification(["a", "b"], multi_label=True, descriptions=["x", "y"])) is None
    with pytest.raises(ValueError, match="not labels"):
        TextClassification(["a"], descriptions={"b": "x"})
    with pytest.raises(ValueError, match="one per label"):
        TextClassification(["a", "b"], descriptions=["x"])


def test_a_text_job_gets_minilm_proposals_before_any_answer(tmp_path) -> None:
    texts = [
        "The striker scored twice and the team won the league match.",
        "The tennis champion lost the final in three sets.",
        "The new phone has a faster chip and a better camera.",
        "The software update fixes a security flaw in the browser.",
        "The bank raised interest rates as inflation climbed.",
        "Shares fell after the company reported lower profits.",
    ]
    gold = ["sport", "sport", "tech", "tech", "business", "business"]
    task = TextClassification(
        ["sport", "tech", "business"],
        descriptions=[
            "football, tennis, athletes",
            "computers, phones, software",
            "companies, markets, money",
        ],
    )
    job = Job("news", pd.DataFrame({"source": texts}), task, store=str(tmp_path / "news.db"))
    report = job.autolabel(background=False)
    assert report is not None and report.auto_labeled == 0 and job.progress.auto == 0
    proposed = [job.proposal(i) for i in range(len(texts))]
    assert all(p is not None and 0 < p[1] <= 1 for p in proposed)
    assert sum(p[0] == g for p, g in zip(proposed, gold, strict=True)) >= 5
