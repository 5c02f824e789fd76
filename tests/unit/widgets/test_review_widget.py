"""The review widget's Python side, driven without a browser.

As in test_widget_python.py, ``send`` is replaced by a recorder and messages are fed to the
handler the comm would call. Image pages come from a worker thread; the tests wait on the
recorder's event, never on time.
"""

from __future__ import annotations

import io
import logging
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from PIL import Image
from recorder import Recorder

from nblabel import BoundingBox, ImageClassification, Job, TextClassification
from nblabel.store import Annotation
from nblabel.widgets import review_widget

LABELS = ["cat", "dog", "bird"]


def text_job(n: int = 10, **kwargs: Any) -> Job:
    df = pd.DataFrame({"source": [f"sentence {i}" for i in range(n)]})
    return Job("texts", df, TextClassification(LABELS, **kwargs))


def propose(job: Job, proposals: dict[int, tuple[Any, float | None]]) -> dict[int, str]:
    """Record auto-labels (row -> (value, confidence)); returns row -> annotation uid."""
    uids = {}
    for row, (value, confidence) in proposals.items():
        a = job.record(
            Annotation(job.keys[row], job.attribute, "auto:test", "auto", value, confidence=confidence)
        )
        uids[row] = a.uid
    return uids


PROPOSALS = {
    1: ("cat", 0.9),
    2: ("dog", 0.4),
    4: ("dog", 0.97),
    5: ("bird", None),
    7: ("cat", 0.55),
    8: ("dog", 0.55),
}


def ask(w: Any, rec: Recorder, message: dict[str, Any], seq: int) -> tuple[dict[str, Any], list[bytes]]:
    """Send one message from a pretend view ``v1``; return the page the kernel sent back."""
    w._on_custom(w, {"view": "v1", "seq": seq, **message}, [])
    count = 1
    while True:
        pages = rec.wait_for("page", count)
        for page, buffers in pages:
            if page["seq"] == seq:
                return page, buffers
        count = len(pages) + 1


def page_of(w: Any, rec: Recorder, seq: int = 1, **message: Any) -> tuple[dict[str, Any], list[bytes]]:
    return ask(w, rec, {"type": "page", "offset": 0, "filter": "", **message}, seq)


def rows(job: Job, page: dict[str, Any]) -> list[int]:
    return [job.position(item["key"]) for item in page["items"]]


def floats(buffer: bytes) -> list[float]:
    return np.frombuffer(buffer, dtype="<f8").tolist()


# -- construction -------------------------------------------------------------------------------


def test_widget_state_describes_the_job(make_widget) -> None:
    job = text_job(multi_label=True)
    w, rec = make_widget(job, page_size=12, thumb=96)
    assert type(w).__name__ == "ReviewWidget"
    assert w.labels == LABELS
    assert w.multi_label is True
    assert w.relabel is True  # class keys relabel classifications
    assert w.media == "text"
    assert w.title == "texts · review"  # the attribute is the job's name: said once
    assert (w.page_size, w.thumb) == (12, 96)
    assert w.feed.max_width == 192  # sharp on high-density screens
    assert rec.sent == []  # nothing is sent before the browser asks


@pytest.mark.parametrize(("option", "value"), [("page_size", 0), ("page_size", 201), ("thumb", 20)])
def test_bad_sizes_are_refused(option: str, value: int) -> None:
    with pytest.raises(ValueError, match=option):
        review_widget(text_job().feed(), **{option: value})


# -- pages --------------------------------------------------------------------------------------


def test_page_is_least_confident_first_with_counts_and_sorted_confidences(make_widget) -> None:
    job = text_job()
    uids = propose(job, PROPOSALS)
    job.label(3, "cat")  # a person's label is not up for review
    w, rec = make_widget(job)
    page, buffers = page_of(w, rec)
    assert page["view"] == "v1"
    assert page["offset"] == 0
    assert page["filter"] == ""
    assert page["total"] == 6
    assert rows(job, page) == [2, 7, 8, 1, 4, 5]  # ties by row; no confidence last
    first = page["items"][0]
    assert first == {
        "key": job.keys[2],
        "position": 2,
        "value": "dog",
        "confidence": 0.4,
        "uid": uids[2],
        "kind": "text",
        "text": "sentence 2",
    }
    assert page["items"][-1]["confidence"] is None
    stats = page["stats"]
    assert stats["auto"] == 6
    assert stats["counts"] == {"cat": 2, "dog": 3, "bird": 1}
    assert stats["progress"] == {"total": 10, "labeled": 7, "skipped": 0, "remaining": 3, "auto": 6}
    conf = page["confidences"]
    assert floats(buffers[conf["all"]]) == [0.4, 0.55, 0.55, 0.9, 0.97]  # None left out
    assert floats(buffers[conf["by_class"]["dog"]]) == [0.4, 0.55, 0.97]
    assert floats(buffers[conf["by_class"]["bird"]]) == []


def test_confidences_are_sent_only_when_the_browser_lacks_them(make_widget) -> None:
    job = text_job()
    propose(job, PROPOSALS)
    w, rec = make_widget(job)
    page, _ = page_of(w, rec)
    version = page["stats"]["version"]
    again, buffers = page_of(w, rec, seq=2, have=version)
    assert "confidences" not in again
    assert buffers == []
    propose(job, {0: ("bird", 0.3)})  # the auto-labeler proposed one more
    changed, buffers = page_of(w, rec, seq=3, have=version)
    assert changed["stats"]["version"] != version
    assert floats(buffers[changed["confidences"]["all"]])[0] == 0.3


def test_pages_and_filters(make_widget) -> None:
    job = text_job()
    propose(job, PROPOSALS)
    w, rec = make_widget(job, page_size=2)
    second, _ = page_of(w, rec, offset=2)
    assert second["offset"] == 2
    assert rows(job, second) == [8, 1]
    dogs, _ = page_of(w, rec, seq=2, filter="dog")
    assert dogs["filter"] == "dog"
    assert dogs["total"] == 3
    assert rows(job, dogs) == [2, 8]
    past, _ = page_of(w, rec, seq=3, filter="dog", offset=40)  # past the end: the last page
    assert past["offset"] == 2
    assert rows(job, past) == [4]
    nothing, _ = page_of(w, rec, seq=4, filter="bird", offset=2)
    assert nothing["offset"] == 0
    assert rows(job, nothing) == [5]


def test_long_texts_travel_as_snippets(make_widget) -> None:
    job = Job("long", pd.DataFrame({"source": ["x" * 1000, "short"]}), TextClassification(LABELS))
    propose(job, {0: ("cat", 0.5), 1: ("dog", 0.6)})
    w, rec = make_widget(job)
    page, _ = page_of(w, rec)
    assert page["items"][0]["text"] == "x" * 300 + "…"
    assert page["items"][1]["text"] == "short"


def test_multi_label_filter_matches_items_that_include_the_class(make_widget) -> None:
    job = text_job(multi_label=True)
    propose(job, {0: (["cat", "bird"], 0.8), 1: (["dog"], 0.6), 2: ([], 0.7)})
    w, rec = make_widget(job)
    page, buffers = page_of(w, rec, filter="bird")
    assert rows(job, page) == [0]
    assert page["items"][0]["value"] == ["cat", "bird"]
    assert page["stats"]["counts"] == {"cat": 1, "dog": 1, "bird": 1}
    assert floats(buffers[page["confidences"]["by_class"]["cat"]]) == [0.8]


def test_image_pages_carry_thumbnails_from_a_worker(make_widget, tmp_path: Path) -> None:
    refs = []
    for i in range(3):
        path = tmp_path / f"img{i}.jpg"
        Image.new("RGB", (600, 300 + 100 * i), (40 * i, 90, 200)).save(path)
        refs.append(str(path))
    refs.append(str(tmp_path / "missing.jpg"))
    job = Job("imgs", pd.DataFrame({"source-ref": refs}), ImageClassification(LABELS))
    propose(job, {0: ("cat", 0.2), 1: ("dog", 0.5), 3: ("bird", 0.1)})
    w, rec = make_widget(job, thumb=64)
    page, buffers = page_of(w, rec)
    assert rows(job, page) == [3, 0, 1]
    assert "file not found" in page["items"][0]["error"]
    assert "buffer" not in page["items"][0]
    confidence_buffers = {page["confidences"]["all"], *page["confidences"]["by_class"].values()}
    for item in page["items"][1:]:
        assert item["kind"] == "image"
        assert item["mime"] == "image/jpeg"
        assert item["buffer"] not in confidence_buffers
        data = buffers[item["buffer"]]
        assert bytes(data[:2]) == b"\xff\xd8"
        with Image.open(io.BytesIO(data)) as img:
            assert max(img.size) <= 128


# -- actions ------------------------------------------------------------------------------------


def acts(rec: Recorder, kind: str) -> list[dict[str, Any]]:
    return [m for m, _ in rec.of(kind)]


def test_accept_acks_and_resends_the_page_without_the_items(make_widget) -> None:
    job = text_job()
    uids = propose(job, PROPOSALS)
    w, rec = make_widget(job)
    items = [{"key": job.keys[r], "uid": uids[r]} for r in (2, 7)]
    page, _ = ask(w, rec, {"type": "accept", "items": items, "offset": 0, "filter": ""}, 5)
    [ack] = acts(rec, "ack")
    assert ack == {"type": "ack", "seq": 5, "view": "v1", "notice": "Accepted 2 items"}
    assert [m["type"] for m, _ in rec.sent] == ["ack", "page"]  # the ack comes first
    assert rows(job, page) == [8, 1, 4, 5]
    assert page["stats"]["progress"]["auto"] == 4
    assert job.current(2).kind == "verified"
    assert job.current(2).value == "dog"
    meta = job.to_dataframe()["texts-metadata"]
    assert meta[2]["human-annotated"] == "yes"
    assert meta[8]["human-annotated"] == "no"


def test_changed_proposals_are_left_alone(make_widget) -> None:
    job = text_job()
    uids = propose(job, PROPOSALS)
    propose(job, {1: ("bird", 0.8)})  # the auto-labeler ran again after the page was drawn
    job.label(4, "cat")  # and a person labeled another item elsewhere
    w, rec = make_widget(job)
    items = [{"key": job.keys[r], "uid": uids[r]} for r in (1, 4, 8)]
    ask(w, rec, {"type": "accept", "items": items}, 1)
    [ack] = acts(rec, "ack")
    assert ack["notice"].startswith("Accepted 1 item; 2 items changed since shown")
    assert job.current(1).kind == "auto"
    assert job.current(4).kind == "human"
    assert job.current(8).kind == "verified"


def test_reject_sends_items_back_to_the_people(make_widget) -> None:
    job = text_job()
    uids = propose(job, PROPOSALS)
    w, rec = make_widget(job)
    page, _ = ask(w, rec, {"type": "reject", "items": [{"key": job.keys[4], "uid": uids[4]}]}, 1)
    [ack] = acts(rec, "ack")
    assert ack["notice"] == "Rejected 1 item: back in the people's queue"
    assert 4 not in rows(job, page)
    assert job.current(4) is None
    assert 4 in job.queue.open_positions()
    assert job.log.ledger.human_rejected(job.keys[4])  # the auto-labeler will not label it again


def test_relabel_is_a_persons_answer(make_widget) -> None:
    job = text_job()
    propose(job, PROPOSALS)
    w, rec = make_widget(job)
    keys = [job.keys[2], job.keys[8]]
    page, _ = ask(w, rec, {"type": "relabel", "keys": keys, "value": "bird"}, 1)
    assert acts(rec, "ack")[0]["notice"] == "Relabeled 2 items as bird"
    assert rows(job, page) == [7, 1, 4, 5]
    assert [(job.current(r).kind, job.current(r).value) for r in (2, 8)] == [("human", "bird")] * 2
    assert job.current(2).annotator == "ana"


def test_relabel_multi_label_stores_classes_in_label_order(make_widget) -> None:
    job = text_job(multi_label=True)
    propose(job, {0: (["cat"], 0.5), 1: (["dog"], 0.6)})
    w, rec = make_widget(job)
    ask(w, rec, {"type": "relabel", "keys": [job.keys[0]], "value": ["bird", "cat"]}, 1)
    ask(w, rec, {"type": "relabel", "keys": [job.keys[1]], "value": []}, 2)
    notices = [m["notice"] for m in acts(rec, "ack")]
    assert notices == ["Relabeled 1 item as cat, bird", "Relabeled 1 item as (none)"]
    assert job.current(0).value == ["cat", "bird"]
    assert job.current(1).value == []


@pytest.mark.parametrize(
    ("message", "reason"),
    [
        ({"type": "relabel", "keys": [0], "value": "cow"}, "'cow' is not one of the labels"),
        ({"type": "relabel", "keys": [0, "__nope__"], "value": "cat"}, "__nope__"),
        ({"type": "accept_above", "confidence": 1.5}, "between 0 and 1"),
        ({"type": "accept_above", "confidence": 0.5, "scope": "cow"}, "'cow' is not one of the labels"),
        ({"type": "accept", "items": [{"uid": "u"}]}, "key"),
    ],
)
def test_bad_actions_store_nothing_and_say_why(make_widget, message: dict[str, Any], reason: str) -> None:
    job = text_job()
    propose(job, PROPOSALS)
    if "keys" in message:  # row numbers stand for the job's keys
        message = {**message, "keys": [job.keys[k] if isinstance(k, int) else k for k in message["keys"]]}
    before = len(list(job.store.annotations()))
    w, rec = make_widget(job)
    page, _ = ask(w, rec, message, 1)  # the page is re-sent all the same
    [error] = acts(rec, "error")
    assert error["seq"] == 1
    assert reason in error["reason"]
    assert acts(rec, "ack") == []
    assert len(list(job.store.annotations())) == before
    assert page["total"] == 6


def test_accept_above_accepts_what_the_count_showed(make_widget) -> None:
    job = text_job()
    propose(job, PROPOSALS)
    w, rec = make_widget(job)
    message = {"type": "accept_above", "confidence": 0.55, "scope": "dog", "expected": 2}
    page, _ = ask(w, rec, message, 1)
    assert acts(rec, "ack")[0]["notice"] == "Accepted 2 items of class dog with confidence ≥ 0.55"
    assert [job.current(r).kind for r in (4, 8, 7, 2)] == ["verified", "verified", "auto", "auto"]
    assert rows(job, page) == [2, 7, 1, 5]
    ask(w, rec, {"type": "accept_above", "confidence": 0.5, "scope": "", "expected": 2}, 2)
    assert [job.current(r).kind for r in (7, 1)] == ["verified", "verified"]
    assert job.progress.auto == 2  # row 2 (0.4) and row 5 (no confidence) are left


def test_accept_above_refuses_when_the_count_changed(make_widget) -> None:
    job = text_job()
    propose(job, PROPOSALS)
    w, rec = make_widget(job)
    ask(w, rec, {"type": "accept_above", "confidence": 0.5, "scope": "", "expected": 3}, 1)
    [error] = acts(rec, "error")
    assert error["reason"].startswith("4 items now have confidence ≥ 0.50, not the 3 shown")
    assert job.progress.auto == 6


def test_unknown_messages_are_logged_not_raised(make_widget, caplog: pytest.LogCaptureFixture) -> None:
    job = text_job()
    propose(job, PROPOSALS)
    w, rec = make_widget(job)
    with caplog.at_level(logging.WARNING, logger="nblabel.widgets.review"):
        w._on_custom(w, {"type": "teleport"}, [])
        w._on_custom(w, ["not", "a", "dict"], [])
        w._on_custom(w, {"type": "page", "filter": "cow"}, [])
    assert "unknown message 'teleport'" in caplog.text
    assert "unknown message None" in caplog.text
    assert "cannot handle 'page'" in caplog.text
    assert rec.sent == []
    page, _ = page_of(w, rec)  # still works
    assert page["total"] == 6


def test_box_auto_labels_are_accepted_or_rejected_never_relabeled_by_class(
    make_widget, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    refs = []
    for i in range(2):
        refs.append(str(tmp_path / f"img{i}.png"))
        Image.new("RGB", (40, 30), (i * 90, 80, 120)).save(refs[-1])
    job = Job(
        "cells", pd.DataFrame({"source-ref": refs}), BoundingBox(["cell", "dot"]), store=tmp_path / "s.db"
    )
    boxes = {"image_size": [{"width": 40, "height": 30, "depth": 3}], "annotations": []}
    propose(job, {0: (boxes, 0.8), 1: (boxes, 0.7)})
    w, rec = make_widget(job)
    assert w.relabel is False  # the browser offers accept and reject only
    with caplog.at_level(logging.WARNING, logger="nblabel.widgets.review"):
        w._on_custom(
            w, {"view": "v1", "seq": 1, "type": "relabel", "keys": [job.keys[0]], "value": ["cell"]}, []
        )
    assert "unknown message 'relabel'" in caplog.text
    assert rec.sent == [] and job.current(0).kind == "auto"
    ask(w, rec, {"type": "reject", "items": [{"key": job.keys[0], "uid": job.current(0).uid}]}, 2)
    assert acts(rec, "ack")[0]["notice"] == "Rejected 1 item: back in the people's queue"
    assert job.current(0) is None and job.current(1).kind == "auto"


def test_a_new_auto_labeling_round_tells_the_browser(make_widget) -> None:
    job = text_job()
    w, rec = make_widget(job)
    auto = Annotation(job.keys[0], job.attribute, "auto:test", "auto", "cat", confidence=0.9)
    job.store.save_round(job.attribute, {"auto_labeled": 1}, [], [], [auto])
    [(stale, _)] = rec.wait_for("stale")  # the watcher looks once a second
    assert stale == {"type": "stale"}
    page, _ = page_of(w, rec)
    assert rows(job, page) == [0]
