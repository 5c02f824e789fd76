"""The review widget's disagreements mode (``job.review(disagreements=True)``), Python side.

Messages are fed to the handler the comm would call and ``send`` is a recorder, as in
test_review_widget.py (whose helpers this reuses). Three annotators answer some texts; the
person deciding is the job's annotator, "ana".
"""

from __future__ import annotations

import logging
from typing import Any

import pandas as pd
import pytest
from recorder import Recorder
from test_review_widget import LABELS, acts, ask, page_of, rows, text_job

from nblabel import BoundingBox, Job, LabelVerification
from nblabel.consolidate.for_task import AUTOMATIC

# row -> answers by bo, cy, dee (None: no answer)
ANSWERS = {
    0: ("cat", "dog", "bird"),  # everyone differs: share 1/3
    1: ("cat", "cat", "dog"),  # 2/3
    2: ("cat", "cat", "cat"),  # unanimous: not a disagreement
    3: ("dog", "bird", None),  # 1/2
    4: ("bird", "bird", "cat"),  # 2/3
    5: ("dog", None, None),  # one answer: not a disagreement
}
PEOPLE = ("bo", "cy", "dee")


def disputed_job(answers: dict[int, tuple[Any, ...]] = ANSWERS, **kwargs: Any) -> Job:
    job = text_job(8, **kwargs)
    for row, given in answers.items():
        for who, value in zip(PEOPLE, given, strict=True):
            if value is not None:
                job.label(row, value, annotator=who)
    job.consolidate()
    return job


def tile_of(page: dict[str, Any], job: Job, row: int) -> dict[str, Any]:
    [item] = [item for item in page["items"] if item["key"] == job.keys[row]]
    return item


def decide(w: Any, rec: Recorder, page: dict[str, Any], job: Job, rows_: list[int], value: Any, seq: int):
    items = [{"key": job.keys[r], "version": tile_of(page, job, r)["version"]} for r in rows_]
    return ask(w, rec, {"type": "decide", "items": items, "value": value, "offset": 0, "filter": ""}, seq)


def test_the_mode_and_its_title(make_widget) -> None:
    w, _ = make_widget(disputed_job(), disagreements=True)
    assert w.mode == "disagreements"
    assert w.title == "texts · disagreements"  # the attribute is the job's name: said once
    plain, _ = make_widget(text_job())
    assert plain.mode == "auto"


def test_pages_show_every_answer_most_disputed_first(make_widget) -> None:
    job = disputed_job()
    w, rec = make_widget(job, disagreements=True)
    page, buffers = page_of(w, rec)
    assert rows(job, page)[:2] == [0, 3]
    assert rows(job, page) == job.disagreements()["position"].tolist()
    assert sorted(rows(job, page)) == [0, 1, 3, 4]
    assert page["total"] == 4
    assert page["stats"] == {
        "version": "",
        "total": 4,
        "decided": 0,
        "counts": {"cat": 3, "dog": 3, "bird": 3},
    }
    assert "confidences" not in page and buffers == []
    first = page["items"][0]
    assert first["answers"] == [
        {"annotator": "bo", "value": "cat"},
        {"annotator": "cy", "value": "dog"},
        {"annotator": "dee", "value": "bird"},
    ]
    assert first["share"] == pytest.approx(1 / 3)
    assert first["text"] == "sentence 0"
    assert first["decided_by"] is None
    current = job.current(0)
    assert current.annotator.startswith(AUTOMATIC)
    assert (first["value"], first["confidence"]) == (current.value, pytest.approx(current.confidence))
    four = tile_of(page, job, 4)
    assert four["value"] == "bird"
    assert [a["annotator"] for a in tile_of(page, job, 3)["answers"]] == ["bo", "cy"]


def test_the_class_filter_shows_the_items_someone_gave_that_class(make_widget) -> None:
    job = disputed_job()
    w, rec = make_widget(job, disagreements=True)
    page, _ = page_of(w, rec, filter="bird")
    assert sorted(rows(job, page)) == [0, 3, 4]
    assert page["total"] == 3
    page, _ = page_of(w, rec, seq=2, filter="cat", offset=0)
    assert sorted(rows(job, page)) == [0, 1, 4]


def test_a_decision_is_stored_and_shown_in_place(make_widget) -> None:
    job = disputed_job()
    w, rec = make_widget(job, disagreements=True)
    page, _ = page_of(w, rec)
    order = rows(job, page)
    after, _ = decide(w, rec, page, job, [0], "dog", 2)
    [ack] = acts(rec, "ack")
    assert ack == {"type": "ack", "seq": 2, "view": "v1", "notice": "Decided 1 item: dog"}
    current = job.current(0)
    assert (current.kind, current.annotator, current.value) == ("consolidated", "ana", "dog")
    assert rows(job, after) == order  # the decided tile keeps its place
    decided = tile_of(after, job, 0)
    assert decided["decided_by"] == "ana"
    assert decided["value"] == "dog"
    assert decided["uid"] != tile_of(page, job, 0)["uid"]  # the browser redraws it
    assert decided["version"] == tile_of(page, job, 0)["version"]  # same answers
    assert after["stats"]["decided"] == 1
    out = job.to_dataframe()
    assert out["texts"][0] == LABELS.index("dog")
    assert out["texts-metadata"][0]["class-name"] == "dog"
    job.consolidate()  # a later consolidation leaves the person's decision alone
    assert job.current(0).uid == current.uid


def test_a_decision_on_several_tiles_and_undo_takes_back_the_last_action(make_widget) -> None:
    job = disputed_job()
    before = {r: job.current(r).uid for r in (0, 1, 3)}
    w, rec = make_widget(job, disagreements=True)
    page, _ = page_of(w, rec)
    page, _ = decide(w, rec, page, job, [1, 3], "bird", 2)
    page, _ = decide(w, rec, page, job, [0], "cat", 3)
    assert [job.current(r).value for r in (0, 1, 3)] == ["cat", "bird", "bird"]
    page, _ = ask(w, rec, {"type": "undo"}, 4)
    assert acts(rec, "ack")[-1]["notice"] == "Took back the decision on 1 item"
    assert job.current(0).uid == before[0]  # the consolidation is the label again
    assert tile_of(page, job, 0)["decided_by"] is None
    assert [job.current(r).value for r in (1, 3)] == ["bird", "bird"]
    ask(w, rec, {"type": "undo"}, 5)
    assert acts(rec, "ack")[-1]["notice"] == "Took back the decision on 2 items"
    assert {r: job.current(r).uid for r in (0, 1, 3)} == before
    page, _ = ask(w, rec, {"type": "undo"}, 6)
    assert acts(rec, "ack")[-1]["notice"] == "Nothing to undo: no decision made here still stands"
    assert page["stats"]["decided"] == 0


def test_undo_skips_decisions_taken_back_elsewhere(make_widget) -> None:
    job = disputed_job()
    w, rec = make_widget(job, disagreements=True)
    page, _ = page_of(w, rec)
    page, _ = decide(w, rec, page, job, [1], "dog", 2)
    page, _ = decide(w, rec, page, job, [4], "cat", 3)
    job.retract(job.current(4).uid)  # taken back in another view or cell
    ask(w, rec, {"type": "undo"}, 4)
    assert acts(rec, "ack")[-1]["notice"] == "Took back the decision on 1 item"
    assert job.current(1).annotator.startswith(AUTOMATIC)


def test_a_decision_on_answers_that_changed_is_left_alone(make_widget) -> None:
    job = disputed_job()
    w, rec = make_widget(job, disagreements=True)
    page, _ = page_of(w, rec)
    job.label(3, "dog", annotator="dee")  # a third answer arrived after the page was drawn
    decide(w, rec, page, job, [3, 4], "dog", 2)
    [ack] = acts(rec, "ack")
    assert ack["notice"] == (
        "Decided 1 item: dog; 1 item changed since shown (their answers changed) and was left alone"
    )
    assert job.current(3).annotator.startswith(AUTOMATIC)
    assert job.current(4).annotator == "ana"


@pytest.mark.parametrize(
    ("message", "reason"),
    [
        ({"type": "decide", "items": [{"key": 0, "version": "v"}], "value": "cow"}, "'cow' is not one"),
        (
            {"type": "decide", "items": [{"key": 0, "version": "v"}, {"key": "__nope__"}], "value": "cat"},
            "__nope__",
        ),
        ({"type": "decide", "items": [{"key": 0}], "value": "cat"}, "version"),
        ({"type": "decide", "value": "cat"}, "items"),
    ],
)
def test_bad_decisions_store_nothing_and_say_why(make_widget, message: dict[str, Any], reason: str) -> None:
    job = disputed_job()
    if "items" in message:  # row numbers stand for the job's keys
        message = {
            **message,
            "items": [
                {**i, "key": job.keys[i["key"]] if isinstance(i["key"], int) else i["key"]}
                for i in message["items"]
            ],
        }
    before = len(list(job.store.annotations()))
    w, rec = make_widget(job, disagreements=True)
    page, _ = ask(w, rec, message, 1)  # the page is re-sent all the same
    [error] = acts(rec, "error")
    assert error["seq"] == 1
    assert reason in error["reason"]
    assert len(list(job.store.annotations())) == before
    assert page["total"] == 4


def test_each_mode_refuses_the_others_actions(make_widget, caplog: pytest.LogCaptureFixture) -> None:
    job = disputed_job()
    before = len(list(job.store.annotations()))
    w, rec = make_widget(job, disagreements=True)
    plain, plain_rec = make_widget(job)
    with caplog.at_level(logging.WARNING, logger="nblabel.widgets.review"):
        w._on_custom(w, {"type": "relabel", "keys": [job.keys[0]], "value": "cat", "seq": 1}, [])
        w._on_custom(w, {"type": "accept_above", "confidence": 0.0, "seq": 2}, [])
        plain._on_custom(plain, {"type": "decide", "items": [], "value": "cat", "seq": 1}, [])
        plain._on_custom(plain, {"type": "undo", "seq": 2}, [])
    assert "(disagreements mode): unknown message 'relabel'" in caplog.text
    assert "(auto mode): unknown message 'undo'" in caplog.text
    assert rec.sent == [] and plain_rec.sent == []
    assert len(list(job.store.annotations())) == before


def test_multi_label_answers_are_sets_and_decisions_keep_label_order(make_widget) -> None:
    answers = {0: (["cat"], ["cat", "dog"], ["bird"]), 1: (["dog"], ["dog"], ["dog"])}
    job = disputed_job(answers, multi_label=True)
    w, rec = make_widget(job, disagreements=True)
    page, _ = page_of(w, rec)
    assert rows(job, page) == [0]
    assert [a["value"] for a in page["items"][0]["answers"]] == [["cat"], ["cat", "dog"], ["bird"]]
    page, _ = page_of(w, rec, seq=2, filter="dog")
    assert rows(job, page) == [0]
    page, _ = decide(w, rec, page, job, [0], ["bird", "cat"], 3)
    assert acts(rec, "ack")[-1]["notice"] == "Decided 1 item: cat, bird"
    assert job.current(0).value == ["cat", "bird"]
    assert job.to_dataframe()["texts"][0] == [0, 2]  # GT writes class indices


def test_no_disagreements_is_an_empty_grid(make_widget) -> None:
    job = disputed_job({0: ("cat", "cat", None)})
    w, rec = make_widget(job, disagreements=True)
    page, _ = page_of(w, rec)
    assert (page["items"], page["total"], page["stats"]["total"]) == ([], 0, 0)


@pytest.mark.parametrize(
    "task", [BoundingBox(["car"]), LabelVerification("vehicles")], ids=["boxes", "verification"]
)
def test_other_tasks_are_refused_by_name(task: Any) -> None:
    earlier = {"vehicles": [0], "vehicles-metadata": [{"class-name": "car"}]}  # what is verified
    job = Job("other", pd.DataFrame({"source-ref": ["a.jpg"], **earlier}), task)
    with pytest.raises(TypeError, match=r"disagreements=True.*" + type(task).__name__):
        job.review(disagreements=True)
