"""job.autolabel(judge=...) on preference jobs: calibrated like classification (the design-based
bound over the answers to random draws), nothing without that evidence, a failing judge names the
item and auto-labels nothing."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from autolabel_helpers import answer_drawn

import nblabel as nl
from nblabel.autolabel.asked import report_draws
from nblabel.autolabel.judge import JudgeError


def pairs_job(n: int = 400) -> tuple[nl.Job, list[str]]:
    rng = np.random.default_rng(0)
    truth = list(rng.choice(["A", "B"], n))
    df = pd.DataFrame(
        {
            "source": [f"prompt {i}" for i in range(n)],
            "response_a": [f"{i} {t}" for i, t in enumerate(truth)],  # the judge below reads the truth
            "response_b": ["hard" if i % 2 else "easy" for i in range(n)],
        }
    )
    return nl.Job("judged", df, nl.Pairwise()), truth


def judge(prompt: str, responses: list[str]) -> tuple[str, float]:
    """Right and sure on easy items; a coin on hard ones, unsure."""
    i, truth = responses[0].split()
    if responses[1] == "easy":
        return truth, 0.9
    return ("A" if int(i) % 3 else "B"), 0.55


def test_judge_auto_labels_only_above_the_bound_and_proposes_the_rest() -> None:
    job, truth = pairs_job()
    answer_drawn(job, truth, range(200))  # the rows alternate easy and hard: a random sample
    report = job.autolabel(judge=judge, target_accuracy=0.95)
    assert report.threshold == 0.9 and report.held_out == report.held_out_random == 200
    assert report.held_out_above == 100 and report.estimated_accuracy == 1.0
    assert report.lower_bound >= 0.95
    auto = job.auto_labeled()
    assert len(auto) == report.auto_labeled == 100  # the easy half of the open items
    assert all(row.value == {"choice": truth[row.position]} for row in auto.itertuples())
    assert (auto["confidence"] == 0.9).all()
    value, confidence = job.proposal(201)  # a hard open item: proposed, not labeled
    assert confidence == 0.55 and job.current(201) is None and value["choice"] in ("A", "B")
    assert job.to_dataframe().at[200, "judged-metadata"]["human-annotated"] == "no"


def test_without_evidence_nothing_is_auto_labeled() -> None:
    job, truth = pairs_job(60)
    answer_drawn(job, truth, range(10))
    report = job.autolabel(judge=judge)
    assert math.isinf(report.threshold) and report.auto_labeled == 0 and job.auto_labeled().empty
    assert report.more_answers_needed and "no auto-labels" in str(report)
    assert job.proposal(20) is not None  # proposals still show in the widget


def test_only_answers_to_random_draws_carry_the_bound_and_the_queue_makes_them() -> None:
    job, truth = pairs_job()
    for i in range(200):  # right on every easy item, but labeled in code: not drawn
        job.label(i, truth[i])
    report = job.autolabel(judge=judge, target_accuracy=0.95, random_fraction=0.5, seed=3)
    assert report.held_out == 200 and report.held_out_random == 0
    assert math.isinf(report.threshold) and job.auto_labeled().empty
    # The queue: the judge's least sure items first, every other one a random draw it remembers.
    queue = job.store.queue(job.attribute)
    draws = report_draws(job.store.latest_round(job.attribute)[1], queue)
    assert len(queue) == 200 and len(draws) >= 100  # a draw the ranking reaches later is not asked twice
    ranked = [job.proposal(k)[1] for k in queue if k not in draws]
    assert ranked == sorted(ranked) and ranked[0] == 0.55
    # each draw is uniform over the open items not queued before it
    assert all(draws[k] == pytest.approx(1 / (200 - rank)) for rank, k in enumerate(queue) if k in draws)
    # A person answering the queue answers random draws: their answers now carry the bound.
    handed = job.pending(190)
    assert list(handed["source"]) == [job.items.sources[job.keys.index(k)] for k in queue[:190]]
    for position in handed.index:
        job.label(position, truth[position])
    again = job.autolabel(judge=judge, target_accuracy=0.95, random_fraction=0.5, seed=3)
    assert again.held_out_random == sum(k in draws for k in queue[:190])


@pytest.mark.parametrize(
    ("bad", "error"),
    [
        (
            lambda p, r: 1 / 0 if p == "prompt 7" else ("A", 0.9),
            "item .*: the judge failed: ZeroDivisionError",
        ),
        (lambda p, r: ("C", 0.9), r"the judge's answer is malformed: .*'C' is not one of"),
        (lambda p, r: ("A", 1.5), r"confidence must be a number in \[0, 1\], got 1.5"),
        (lambda p, r: "A", r"returns \(answer, confidence\), got 'A'"),
    ],
)
def test_a_failing_judge_names_the_item_and_labels_nothing(bad, error) -> None:
    job, truth = pairs_job(80)
    answer_drawn(job, truth, range(40))
    with pytest.raises(JudgeError, match=error) as failed:
        job.autolabel(judge=bad)
    # The message names the item: its key (the raising judge fails on the row of "prompt 7").
    named = [k for k in job.keys if str(failed.value).startswith(f"item {k}: ")]
    assert len(named) == 1
    assert "ZeroDivisionError" not in str(failed.value) or named == [job.keys[7]]
    assert job.auto_labeled().empty and job.proposal(50) is None
    with pytest.raises(TypeError, match="judge= is for Pairwise"):
        nl.Job("cls", pd.DataFrame({"source": ["x"]}), nl.TextClassification(["a"])).autolabel(judge=judge)
