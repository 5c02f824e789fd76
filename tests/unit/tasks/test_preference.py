"""Pairwise, ranking and rating tasks: answer shapes (GT's crowd-text-ranking), the augmented
manifest, worker responses, several answers per item on PostgreSQL, leaderboards and ordinal
agreement."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import nblabel as nl
from nblabel.consolidate.preference import answer_pairs, leaderboard, ordinal_agreement
from nblabel.store import new_uid
from nblabel.tasks.preference import check_text_ranking, ranking_dimensions

pytest_plugins = ["pg_fixtures"]

# The output of GT's text-ranking template (gt-templates/gen-ai/text-ranking.liquid.html: the
# dimensions Clarity with ties, Inclusivity without) for three responses.
GT_RANKING = {
    "ordinalRankingDimensions": [
        {"name": "Clarity", "responseRankings": [1, 1, 3]},
        {"name": "Inclusivity", "responseRankings": [2, 3, 1]},
    ]
}
GT_DIMENSIONS = [{"name": "Clarity", "allowTie": True}, {"name": "Inclusivity", "allowTie": False}]


def frame(n: int = 3, k: int = 2) -> pd.DataFrame:
    columns = {f"r{i}": [f"answer {i} to {row}" for row in range(n)] for i in range(k)}
    return pd.DataFrame({"source": [f"prompt {row}" for row in range(n)], **columns})


def test_ranking_has_exactly_gts_text_ranking_shape() -> None:
    task = nl.Ranking(GT_DIMENSIONS, responses=("r0", "r1", "r2"))
    assert task.dimensions == GT_DIMENSIONS
    assert task.gt_element == "crowd-text-ranking"
    # Dimensions may come in any order; the canonical answer follows the task's.
    reordered = {"ordinalRankingDimensions": GT_RANKING["ordinalRankingDimensions"][::-1]}
    assert task.validate(reordered) == GT_RANKING
    # A worker response's answerContent is the ranking itself, as GT's gen-AI element writes it
    # (AWS's text-ranking notebook reads answer["answerContent"]["ordinalRankingDimensions"]).
    content = json.loads(json.dumps(task.answer_content(GT_RANKING)))
    assert content == GT_RANKING
    gt_worker_answer = {"answerContent": GT_RANKING, "workerId": "w1"}
    assert task.from_answer_content(gt_worker_answer["answerContent"]) == GT_RANKING
    # A template in a crowd-form nests it under the element's name ("textRanking" in GT's sample).
    assert task.from_answer_content({"textRanking": GT_RANKING}) == GT_RANKING
    assert check_text_ranking(
        {"ordinalRankingDimensions": [{"name": "Clarity", "responseRankings": [1, 1, 2]}]},
        ranking_dimensions(["Clarity"], True),
        3,
    )


@pytest.mark.parametrize(
    ("ranks", "error"),
    [
        ([[1, 1, 3], [1, 1, 2]], "'Inclusivity' allows no ties"),
        ([[1, 2, 4], [1, 2, 3]], r"3 ranks in 1\.\.3"),
        ([[1, 3, 3], [1, 2, 3]], "skip a place"),
        ([[1, 2], [1, 2, 3]], r"3 ranks in 1\.\.3"),
        ([[True, 2, 3], [1, 2, 3]], r"3 ranks in 1\.\.3"),
    ],
)
def test_ranking_refusals_name_item_and_dimension(ranks, error) -> None:
    task = nl.Ranking(GT_DIMENSIONS, responses=("r0", "r1", "r2"))
    value = {
        "ordinalRankingDimensions": [
            {"name": d["name"], "responseRankings": r} for d, r in zip(GT_DIMENSIONS, ranks, strict=True)
        ]
    }
    with pytest.raises(ValueError, match=f"item k7: .*{error}"):
        task.validate(value, "k7")
    with pytest.raises(ValueError, match=r"missing \['Inclusivity'\]"):
        task.validate({"ordinalRankingDimensions": value["ordinalRankingDimensions"][:1]})


def test_pairwise_and_rating_answers() -> None:
    pair = nl.Pairwise("Which is more helpful?", reason=True, responses=("r0", "r1"))
    assert pair.validate("tie") == {"choice": "tie"}
    assert pair.validate({"choice": "B", "reason": " shorter "}) == {"choice": "B", "reason": "shorter"}
    assert pair.answer_content({"choice": "B", "reason": "x"}) == {
        "crowd-classifier": {"label": "B"},
        "reason": "x",
    }
    assert pair.from_answer_content({"preference": {"label": "A"}}) == {"choice": "A"}
    with pytest.raises(ValueError, match=r"item k: choice 'tie' is not one of \['A', 'B'\]"):
        nl.Pairwise(allow_tie=False).validate("tie", "k")
    rating = nl.Rating((1, 5), ["Helpfulness", "Harmlessness"], responses=("r0", "r1"))
    value = {
        "ratingDimensions": [
            {"name": "Harmlessness", "responseRatings": [5, 1]},
            {"name": "Helpfulness", "responseRatings": [2, 4]},
        ],
        "comment": "",
    }
    assert rating.validate(value) == {
        "ratingDimensions": [
            {"name": "Helpfulness", "responseRatings": [2, 4]},
            {"name": "Harmlessness", "responseRatings": [5, 1]},
        ]
    }
    assert rating.from_answer_content(
        json.loads(json.dumps(rating.answer_content(rating.validate(value))))
    ) == (rating.validate(value))
    value["ratingDimensions"][0]["responseRatings"] = [6, 1]
    with pytest.raises(ValueError, match=r"'Harmlessness': responseRatings must be 2 scores in 1\.\.5"):
        rating.validate(value)
    with pytest.raises(ValueError, match="two responses"):
        nl.Pairwise(responses=("a", "b", "c"))


def test_manifest_export_and_worker_responses(tmp_path: Path) -> None:
    job = nl.Job("rank", frame(3, 3), nl.Ranking(GT_DIMENSIONS, responses=("r0", "r1", "r2")))
    job.label(0, GT_RANKING)
    out = job.to_dataframe()
    assert out.at[0, "rank"] == GT_RANKING
    meta = out.at[0, "rank-metadata"]
    assert meta["type"] == "groundtruth/custom" and meta["human-annotated"] == "yes"
    assert pd.isna(out.at[1, "rank"])
    result = job.export(tmp_path / "out")
    first = json.loads(Path(result.manifest).read_text().splitlines()[0])
    assert first["rank"] == GT_RANKING
    # The worker-response file holds GT's answerContent shape: the ranking at its top.
    responses = [
        json.loads(p.read_text()) for p in Path(result.destination).rglob("worker-response/**/*.json")
    ]
    assert [a["answerContent"] for r in responses for a in r["answers"]] == [GT_RANKING]
    # The worker responses import back into a new job as the same answers.
    again = nl.Job("rank2", frame(3, 3), nl.Ranking(GT_DIMENSIONS, responses=("r0", "r1", "r2")))
    assert again.import_answers(result.destination) == 1
    assert again.answers(0)[0].value == GT_RANKING


def test_a_corrected_response_is_stored_exported_and_offered_to_the_widget(tmp_path: Path) -> None:
    rating = nl.Rating((1, 5), correction=True, responses=("r0",))
    fixed = "Paris is the capital of France. <b>not markup</b>"
    value = {"ratingDimensions": [{"name": "Overall", "responseRatings": [2]}], "correction": f" {fixed} "}
    assert rating.validate(value)["correction"] == fixed
    assert rating.spec()["correction"] is True and "correction" not in nl.Rating().spec()
    with pytest.raises(ValueError, match="item k: this task takes no correction"):
        nl.Rating().validate(value, "k")
    with pytest.raises(ValueError, match="the correction must be text"):
        rating.validate({**value, "correction": ["x"]})
    pair = nl.Pairwise(correction=True, responses=("r0", "r1"))
    assert pair.validate({"choice": "tie", "correction": ""}) == {"choice": "tie"}
    content = pair.answer_content({"choice": "B", "correction": fixed})
    assert content == {"crowd-classifier": {"label": "B"}, "correction": fixed}
    assert pair.from_answer_content(json.loads(json.dumps(content))) == {"choice": "B", "correction": fixed}
    # GT's manifest and worker responses carry it; it imports back as the same answer.
    job = nl.Job("rated", frame(2, 1), rating)
    job.label(0, value)
    out = job.to_dataframe()
    assert (
        out.at[0, "rated"]["correction"] == fixed
        and out.at[0, "rated-metadata"]["type"] == "groundtruth/custom"
    )
    result = job.export(tmp_path / "out")
    assert json.loads(Path(result.manifest).read_text().splitlines()[0])["rated"]["correction"] == fixed
    again = nl.Job("rated2", frame(2, 1), nl.Rating((1, 5), correction=True, responses=("r0",)))
    assert again.import_answers(result.destination) == 1 and again.answers(0)[0].value["correction"] == fixed
    # The widget offers the box (its text is a textarea's value in the browser, never HTML).
    from nblabel.widgets.preference import PreferenceWidget

    assert (
        PreferenceWidget(job.feed()).correction
        and not PreferenceWidget(nl.Job("p", frame(2), nl.Pairwise(responses=("r0", "r1"))).feed()).correction
    )


def test_items_carry_the_responses_and_never_the_models() -> None:
    df = frame(2).assign(m0=["model-p", "model-q"], m1=["model-q", "model-p"])
    job = nl.Job("pw", df, nl.Pairwise(responses=("r0", "r1"), models=("m0", "m1")))
    items, _ = job.feed().payloads([1])
    assert items[0]["text"] == "prompt 1"
    assert items[0]["responses"] == ["answer 0 to 1", "answer 1 to 1"]
    assert "model-" not in json.dumps(items[0])
    with pytest.raises(ValueError, match=r"lacks.*\['r9'\]|\['r9'\].*lacks"):
        nl.Job("bad", frame(2), nl.Pairwise(responses=("r0", "r9")))


def test_two_answers_per_item_on_postgresql(pg_url: str) -> None:
    name = f"pw-{new_uid()[:8]}"
    task = nl.Pairwise(responses=("r0", "r1"))
    job = nl.Job(name, frame(2), task, store=pg_url, answers_per_item=2, annotator="ann")
    job.label(0, "A")
    other = nl.Job(name, frame(2), task, store=pg_url, annotator="bob")
    other.label(0, {"choice": "tie", "reason": "both fine"})
    job.refresh()
    assert [a.value for a in job.answers(0)] == [{"choice": "A"}, {"choice": "tie", "reason": "both fine"}]
    assert job.progress.labeled == 1


def test_leaderboard_recovers_a_planted_order() -> None:
    rng = np.random.default_rng(3)
    strength = {"best": 1.5, "good": 0.5, "fair": -0.5, "poor": -1.5}
    systems = list(strength)
    pairwise, ranking = nl.Pairwise(responses=("r0", "r1")), nl.Ranking(responses=("r0", "r1", "r2"))
    pair_answers, pair_names, rank_answers, rank_names = {}, {}, {}, {}
    for item in range(400):
        a, b = rng.choice(systems, 2, replace=False)
        p = 1 / (1 + np.exp(strength[b] - strength[a]))
        pair_answers[item] = [("ann", {"choice": "A" if rng.random() < p else "B"})]
        pair_names[item] = [a, b]
        three = list(rng.choice(systems, 3, replace=False))
        noisy = [strength[s] + rng.gumbel() for s in three]  # Plackett-Luce's own noise
        ranks = [1 + sorted(noisy, reverse=True).index(x) for x in noisy]
        rank_answers[item] = [
            ("ann", {"ordinalRankingDimensions": [{"name": "Overall", "responseRankings": ranks}]})
        ]
        rank_names[item] = three
    for task, answers, names, method in (
        (pairwise, pair_answers, pair_names, "bradley-terry"),
        (ranking, rank_answers, rank_names, "plackett-luce"),
    ):
        board = leaderboard(task, answers, names, bootstrap=20)
        assert list(board["model"]) == systems
        assert set(board["method"]) == {method}
        assert (board["lower"] < board["score"]).all() and (board["score"] < board["upper"]).all()
        # The planted gaps are 1.0 apart; the fit lands near them.
        assert np.allclose(np.diff(board["score"]), -1.0, atol=0.35)


def test_ordinal_agreement_and_tie_rates() -> None:
    task = nl.Pairwise(responses=("r0", "r1"))
    answers = {
        0: [("u1", {"choice": "A"}), ("u2", {"choice": "A"})],
        1: [("u1", {"choice": "B"}), ("u2", {"choice": "tie"})],
        2: [("u1", {"choice": "tie"}), ("u2", {"choice": "tie"})],
        3: [("u1", {"choice": "B"}), ("u2", {"choice": "B"})],
    }
    rows = ordinal_agreement(task, answers).set_index(["measure", "annotator"], drop=False)
    assert rows.loc[("tie_rate", "u2"), "value"] == 0.5
    assert rows.loc[("tie_rate", "u1"), "value"] == 0.25
    tau = rows[rows["measure"] == "kendall_tau"].iloc[0]
    assert (tau["annotator"], tau["other"], tau["items"]) == ("u1", "u2", 4)
    assert 0.6 < tau["value"] < 1.0
    alpha = rows[rows["measure"] == "krippendorff_alpha_ordinal"]["value"].iloc[0]
    assert 0.5 < alpha < 1.0
    # Perfect agreement on rankings is 1 on both measures.
    ranking = nl.Ranking(responses=("r0", "r1", "r2"))
    same = {"ordinalRankingDimensions": [{"name": "Overall", "responseRankings": [2, 1, 3]}]}
    full = ordinal_agreement(ranking, {0: [("u1", same), ("u2", same)]})
    assert set(full.loc[full["measure"] != "tie_rate", "value"]) == {1.0}
    assert ordinal_agreement(nl.TextClassification(["x"]), {}).empty
    assert answer_pairs(ranking, same) == [(1, 0, False), (0, 2, False), (1, 2, False)]


def test_job_leaderboard_by_model_and_agreement() -> None:
    df = frame(4).assign(ma=["x", "y", "x", "z"], mb=["y", "z", "z", "x"])
    job = nl.Job("lb", df, nl.Pairwise(responses=("r0", "r1"), models=("ma", "mb")), annotator="u1")
    for position in range(4):
        job.label(position, "A")
    board = job.leaderboard(bootstrap=0)
    assert board.loc[0, "model"] == "x" and board["wins"].sum() == 4
    assert list(job.leaderboard("response", bootstrap=0)["model"]) == ["r0", "r1"]
    with pytest.raises(ValueError, match="models="):
        nl.Job("lb2", frame(2), nl.Pairwise(responses=("r0", "r1"))).leaderboard()
    assert "tie_rate" in set(job.agreement()["measure"])


def test_preference_tasks_take_instructions_and_the_widget_carries_them() -> None:
    guide = "Prefer the **harmless** answer.\n\nA refusal that explains itself beats a lecture."
    tasks = [
        nl.Pairwise(instructions=guide, responses=("r0", "r1")),
        nl.Ranking(["Clarity"], instructions=guide, responses=("r0", "r1")),
        nl.Rating((1, 5), instructions=guide, responses=("r0",)),
    ]
    assert all(t.instructions.short == "Prefer the **harmless** answer." for t in tasks)
    assert all(t.instructions.full == guide for t in tasks)
    assert nl.Pairwise().instructions is None
    from nblabel.widgets.preference import PreferenceWidget

    widget = PreferenceWidget(nl.Job("guided", frame(2, 2), tasks[1]).feed())
    try:
        assert widget.instructions == {
            "short": "Prefer the **harmless** answer.",
            "full": guide,
            "good": [],
            "bad": [],
        }
    finally:
        widget.close()
