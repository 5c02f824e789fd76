"""Worker timing and identity: checked by the feed, stored in the answer's meta, written into GT's
worker-response files; job.stats() per annotator."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import pytest

import nblabel as nl
from nblabel.labeling.timing import _same, check_timing

TIMING = {
    "acceptanceTime": "2026-12-06T21:00:00.000Z",
    "submissionTime": "2026-12-06T21:00:40.500Z",
    "timeSpentInSeconds": 12.3456,
}


@pytest.mark.parametrize(
    ("timing", "message"),
    [
        ("soon", r"timing is an object"),
        ({**TIMING, "acceptanceTime": "yesterday"}, r"timing acceptanceTime must be an ISO time"),
        ({**TIMING, "submissionTime": "2026-12-06T21:00:40"}, r"submissionTime must say its time zone"),
        ({**TIMING, "submissionTime": "2026-12-06T20:00:00Z"}, r"submissionTime .* is before acceptanceTime"),
        ({**TIMING, "timeSpentInSeconds": "12"}, r"timeSpentInSeconds must be a number"),
        ({**TIMING, "timeSpentInSeconds": math.inf}, r"timeSpentInSeconds must be a number"),
        ({**TIMING, "timeSpentInSeconds": -1}, r"between 0 and the 40.500 s between acceptance"),
        ({**TIMING, "timeSpentInSeconds": 60}, r"between 0 and the 40.500 s"),
    ],
)
def test_bad_timing_is_refused_naming_the_field(timing: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        check_timing(timing)


def test_timing_from_the_widget_is_stored_and_written_as_gt_does(tmp_path: Path) -> None:
    job = nl.Job("timed", pd.DataFrame({"source": ["a", "b", "c"]}), nl.TextClassification(["x", "y"]))
    feed = job.feed()
    feed.apply({"type": "answer", "uid": "u1", "key": job.keys[0], "value": "x", "timing": TIMING})
    feed.apply({"type": "skip", "uid": "u2", "key": job.keys[1], "timing": TIMING})
    feed.apply({"type": "answer", "uid": "u3", "key": job.keys[2], "value": "y"})  # no timing
    with pytest.raises(ValueError, match="timeSpentInSeconds must be a number"):
        feed.apply(
            {
                "type": "answer",
                "uid": "u4",
                "key": job.keys[2],
                "value": "y",
                "timing": {**TIMING, "timeSpentInSeconds": None},
            }
        )
    first = job.answers(0)[0]
    assert first.meta == {
        "asked": {"how": "person"},  # the test applied it without the queue handing it out
        "timing": {**TIMING, "timeSpentInSeconds": 12.346},
        "worker": {
            "workerId": job.log.annotator,
            "workerMetadata": {"identityData": {"identityProviderType": "nblabel", "sub": job.log.annotator}},
        },
    }
    assert job.answers(2)[0].meta == {"asked": {"how": "person"}}  # no timing: why it was asked only
    job.export(tmp_path)
    (response,) = (tmp_path / "timed" / "annotations" / "worker-response" / "iteration-1" / "0").glob(
        "*.json"
    )
    (answer,) = json.loads(response.read_text())["answers"]
    assert answer["acceptanceTime"] == TIMING["acceptanceTime"]
    assert answer["timeSpentInSeconds"] == 12.346
    assert answer["workerId"] == job.log.annotator
    assert answer["workerMetadata"]["identityData"]["sub"] == job.log.annotator
    assert answer["submissionTime"].endswith("Z")
    (plain,) = (tmp_path / "timed" / "annotations" / "worker-response" / "iteration-1" / "2").glob("*.json")
    assert "acceptanceTime" not in json.loads(plain.read_text())["answers"][0]


def test_stats_per_annotator(tmp_path: Path) -> None:
    df = pd.DataFrame({"source": ["a", "b", "c"]})
    store = str(tmp_path / "team.db")
    seconds = {"ana": [4.0, 6.0, 20.0], "bo": [10.0, 10.0]}
    labels = {"ana": ["x", "x", "y"], "bo": ["x", "y"]}
    for who, given in labels.items():
        job = nl.Job(
            "team", df, nl.TextClassification(["x", "y"]), store=store, annotator=who, answers_per_item=2
        )
        feed = job.feed()
        for n, (label, spent) in enumerate(zip(given, seconds[who], strict=True)):
            timing = {**TIMING, "timeSpentInSeconds": spent}
            feed.apply(
                {"type": "answer", "uid": f"{who}{n}", "key": job.keys[n], "value": label, "timing": timing}
            )
    job.label(2, "y", annotator="cy")  # from code: no timing
    # bo answers item 0 again after 5 more seconds: that item took bo 15 s in all.
    again = {**TIMING, "timeSpentInSeconds": 5.0}
    feed.apply({"type": "answer", "uid": "bo-again", "key": job.keys[0], "value": "x", "timing": again})
    job.consolidate()
    out = job.stats()
    assert out.loc["bo", "median_seconds"] == 12.5  # per item: 15 and 10
    assert list(out.index) == ["ana", "bo", "cy"]
    assert out.loc["ana", "items"] == 3 and out.loc["bo", "answers"] == 3 and out.loc["bo", "items"] == 2
    assert out.loc["ana", "median_seconds"] == 6.0
    assert out.loc["ana", "p90_seconds"] == pytest.approx(17.2)
    assert math.isnan(out.loc["cy", "median_seconds"])
    # consolidated: item 0 "x" (both), item 1 split (ana "x", bo "y"), item 2 "y" (ana, cy)
    assert out.loc["cy", "agreement"] == 1.0
    assert 0 < out.loc["bo", "agreement"] <= 1.0
    assert math.isnan(out.loc["ana", "accepted_unchanged"])


def test_a_class_given_with_frame_attributes_agrees_with_the_same_class() -> None:
    assert _same({"label": "dog", "frame-attributes": {"weather": "rain"}}, {"label": "dog"})
    assert _same({"labels": ["a"], "frame-attributes": {}}, ["a"])
    assert not _same({"label": "dog", "frame-attributes": {}}, "cat")


def test_accepted_unchanged_counts_answers_that_took_the_proposal_as_it_was(tmp_path: Path) -> None:
    from nblabel.tasks.preannotate import from_dictionary

    texts = ["Ada met Bob.", "Bob left.", "Cy stayed.", "Ada and Cy."]
    task = nl.NamedEntities(["Person"], pre_annotate=from_dictionary({"Person": ["Ada", "Bob"]}))
    job = nl.Job("took", pd.DataFrame({"source": texts}), task, store=tmp_path / "took.db", annotator="ana")
    feed = job.feed()
    ada, bob = (
        {"label": "Person", "startOffset": 0, "endOffset": 3},
        {"label": "Person", "startOffset": 8, "endOffset": 11},
    )
    given = [
        [ada, bob],  # the proposal as it was
        [{"label": "Person", "startOffset": 0, "endOffset": 8}],  # "Bob left" instead of "Bob"
        [{"label": "Person", "startOffset": 0, "endOffset": 2}],  # no proposal for this text
        [ada],  # the proposal: Ada (confidences aside)
    ]
    for n, value in enumerate(given):
        feed.apply({"type": "answer", "uid": f"u{n}", "key": job.keys[n], "value": value, "timing": TIMING})
    metas = [job.answers(n)[0].meta.get("proposal") for n in range(4)]
    assert metas == [{"unchanged": True}, {"unchanged": False}, None, {"unchanged": True}]
    assert job.stats().loc["ana", "accepted_unchanged"] == pytest.approx(2 / 3)


def test_took_proposal_per_task() -> None:
    cls = nl.TextClassification(["x", "y"], multi_label=True)
    assert cls.took_proposal({"labels": ["y", "x"], "frame-attributes": {"tone": "dry"}}, ["x", "y"])
    assert not cls.took_proposal(["x"], ["x", "y"])
    assert nl.ImageClassification(["x", "y"]).took_proposal("x", "x")
    boxes = nl.BoundingBox(["car"])
    assert boxes.took_proposal({"annotations": [], "actions": {"accepted": 2}}, None)
    assert not boxes.took_proposal({"annotations": [], "actions": {"accepted": 2, "adjusted": 1}}, None)
    assert boxes.took_proposal({"annotations": []}, None) is None  # drawn from scratch: not counted
    assert nl.SemanticSegmentation(["road"]).took_proposal({"mask": "m.png"}, {"mask": "m.png"}) is None
