"""Auto-labeling a NamedEntities job: proposals with per-span confidences after enough answers,
no auto-labels, the queue, pre-annotations kept, the widget's Enter path, the background worker."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pandas as pd
import pytest
from entity_helpers import LABELS, synthetic_docs

from nblabel import Job, NamedEntities
from nblabel.autolabel.entity_loop import MIN_ANSWERS
from nblabel.tasks.preannotate import from_dictionary


def entity_job(
    n: int = 60, answered: int = 20, task: NamedEntities | None = None
) -> tuple[Job, pd.DataFrame]:
    df = synthetic_docs(n, seed=5)
    job = Job("ner", df, task or NamedEntities(LABELS), attribute="ner")
    for i in range(answered):
        job.label(i, df.gold[i])
    return job, df


def spans(entities: list[dict]) -> list[tuple]:
    return [(e["label"], e["startOffset"], e["endOffset"]) for e in entities]


def test_a_round_proposes_spans_with_confidences_for_every_waiting_text() -> None:
    job, df = entity_job()
    report = job.autolabel(background=False)
    assert report is not None and report.proposes_only
    assert (report.round, report.human_answers, report.held_out, report.auto_labeled) == (1, 20, 20, 0)
    assert report.queued == 40 and 0 <= report.estimated_accuracy <= 1
    assert "proposals only, entities are never auto-labeled" in str(report)
    assert "held-out span precision" in str(report)

    right = 0
    for i in range(20, 60):
        value, confidence = job.proposal(i)
        assert all(0 < e["confidence"] <= 1 for e in value)
        if value:
            assert confidence == min(e["confidence"] for e in value)
        right += spans(value) == spans(df.gold[i])
    assert right >= 34  # of 40 texts, proposed exactly as the gold
    # Nothing is auto-labeled: the texts still wait for people.
    assert job.auto_labeled().empty and job.progress.auto == 0 and job.progress.remaining == 40
    assert not [a for a in job.store.annotations("ner") if a.kind == "auto"]
    # The people's queue holds every waiting text once, least confident ones early.
    queue = job.store.queue("ner")
    assert sorted(queue) == sorted(job.keys[20:])
    assert [job.position(k) for k in list(job.queue.open_positions())[:5]] == [
        job.position(k) for k in queue[:5]
    ]


def test_before_enough_answers_the_round_waits_and_pre_annotations_still_show() -> None:
    task = NamedEntities(LABELS, pre_annotate=from_dictionary({"Place": ["Zürich", "Oslo"]}))
    job, df = entity_job(answered=MIN_ANSWERS - 1, task=task)
    report = job.autolabel(background=False)
    assert report.held_out == 0 and "waiting for at least 5 answered texts" in report.message
    assert job.store.proposals("ner") == {}
    text = next(i for i in range(MIN_ANSWERS, 60) if "Zürich" in df.source[i])
    value, confidence = job.proposal(text)
    assert [df.source[text][e["startOffset"] : e["endOffset"]] for e in value] == ["Zürich"]
    assert confidence == 1.0


def test_pre_annotations_keep_their_spans_and_the_model_fills_in_the_rest() -> None:
    # The dictionary calls "Oslo" a Person: the person's rule wins where it overlaps the model.
    task = NamedEntities(LABELS, pre_annotate=from_dictionary({"Person": ["Oslo"]}))
    job, df = entity_job(task=task)
    job.autolabel(background=False)
    i = next(i for i in range(20, 60) if "Oslo" in df.source[i] and len(df.gold[i]) > 1)
    value, confidence = job.proposal(i)
    text = df.source[i]
    shown = {(e["label"], text[e["startOffset"] : e["endOffset"]]) for e in value}
    assert ("Person", "Oslo") in shown and ("Place", "Oslo") not in shown
    assert len(value) == len(df.gold[i])  # the model's other spans are there too
    assert confidence == min(e["confidence"] for e in value)
    assert [e["startOffset"] for e in value] == sorted(e["startOffset"] for e in value)


def test_the_widgets_enter_stores_exactly_the_proposal_as_a_persons_answer() -> None:
    job, _ = entity_job()
    job.autolabel(background=False)
    feed = job.feed()
    try:
        positions, _ = feed.next_positions(3)
        items, _ = feed.payloads(positions)
        item = next(it for it in items if it["proposal"]["value"])
        proposal = item["proposal"]
        assert all("confidence" in e for e in proposal["value"])
        # What the browser sends on Enter: the proposal's entities, as the widget holds them.
        feed.apply({"type": "answer", "key": item["key"], "value": proposal["value"], "uid": "enter-1"})
    finally:
        feed.close()
    stored = job.current(item["key"])
    assert (stored.kind, stored.annotator) == ("human", job.annotator)
    assert stored.value == [
        {"label": e["label"], "startOffset": e["startOffset"], "endOffset": e["endOffset"]}
        for e in proposal["value"]
    ]


@pytest.fixture
def jobs() -> Iterator[list[Job]]:
    started: list[Job] = []
    yield started
    for job in started:
        job.stop_autolabel()


def test_the_background_worker_proposes_entities_as_answers_arrive(jobs: list[Job]) -> None:
    job, df = entity_job(n=60, answered=0)
    jobs.append(job)
    job.autolabel(every=4, interval=0.5)
    for i in range(12):
        job.label(i, df.gold[i])
    deadline = time.monotonic() + 60
    while (job.autolabel_status.get("round") or 0) < 1 or not job.store.proposals("ner"):
        assert time.monotonic() < deadline, job.autolabel_status
        time.sleep(0.1)
    status = job.autolabel_status
    assert status["running"] and "proposals only" in status["report"]
    proposal = job.proposal(30)  # a text no one answered
    assert proposal is not None and all(0 < e["confidence"] <= 1 for e in proposal[0])
    answered = job.store.latest_round("ner")[1]["human_answers"]
    assert len(job.store.proposals("ner")) == 60 - answered
    job.stop_autolabel()
    assert job.autolabel_status["state"] == "stopped"


def test_entity_jobs_refuse_a_classifier_as_estimator() -> None:
    job, _ = entity_job(answered=0)
    with pytest.raises(TypeError, match=r"entity jobs take an sklearn_crfsuite\.CRF"):
        job.autolabel(estimator=object(), background=False)
