"""The classification widget's Python side, driven without a browser.

anywidget works without a front end (the comm is a dummy); ``send`` is replaced by a recorder and
messages are fed to the handler the comm would call. Image replies come from a worker thread, so
the tests wait on an event the recorder sets, never on time.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from PIL import Image
from recorder import Recorder

from nblabel import ImageClassification, Job, TextClassification

SRC = Path(__file__).resolve().parents[3] / "src"
BUNDLE = SRC / "nblabel" / "static" / "classify.js"
LABELS = ["cat", "dog", "bird"]


@pytest.fixture
def make_widget() -> Iterator[Callable[..., tuple[Any, Recorder]]]:
    assert BUNDLE.is_file(), f"{BUNDLE} is missing: build it with `npm run build` (or `make js`)"
    made = []

    def make(job: Job, window: int = 6) -> tuple[Any, Recorder]:
        w = job.annotate(window=window)
        recorder = Recorder()
        w.send = recorder
        made.append(w)
        return w, recorder

    yield make
    for w in made:
        w.feed.close()
        w.close()


def text_job(n: int = 4, **kwargs: Any) -> Job:
    df = pd.DataFrame({"source": [f"sentence {i}" for i in range(n)]})
    return Job("texts", df, TextClassification(LABELS, **kwargs))


def image_job(tmp_path: Path, n: int = 4) -> Job:
    refs = []
    for i in range(n):
        path = tmp_path / f"img{i}.jpg"
        Image.new("RGB", (400 + 100 * i, 300), (20 * i, 100, 200)).save(path)
        refs.append(str(path))
    return Job("images", pd.DataFrame({"source-ref": refs}), ImageClassification(LABELS))


def answer(uid: str, key: str, value: Any) -> dict[str, Any]:
    return {"type": "answer", "uid": uid, "key": key, "value": value}


# -- construction -------------------------------------------------------------------------------


def test_widget_state_describes_the_job(make_widget) -> None:
    job = text_job(multi_label=True)
    job.label(0, ["dog"])
    w, _ = make_widget(job)
    assert type(w).__name__ == "ClassifyWidget"
    assert w.labels == LABELS
    assert w.multi_label is True
    assert w.media == "text"
    assert w.title == "texts"  # the attribute is the job's name: said once
    assert w.job_id == f"{Path(job.store.path).resolve()}::texts"
    assert w.window == 6
    assert w.progress == {"total": 4, "labeled": 1, "skipped": 0, "remaining": 3, "auto": 0}
    assert w.comm is not None
    bundle = job._repr_mimebundle_()
    data = bundle[0] if isinstance(bundle, tuple) else bundle
    assert "application/vnd.jupyter.widget-view+json" in data


def test_title_names_an_attribute_other_than_the_job(make_widget) -> None:
    df = pd.DataFrame({"source": ["a", "b"]})
    w, _ = make_widget(Job("texts", df, TextClassification(LABELS), attribute="sentiment"))
    assert w.title == "texts · sentiment"


def test_answers_from_anywhere_reach_the_widget_with_the_store_counts(make_widget) -> None:
    job = text_job(8)
    w, rec = make_widget(job)
    w._on_custom(w, {"type": "hello", "width": 900}, [])
    [(items, _)] = rec.wait_for("items")
    held = [i["key"] for i in items["items"]]
    job.label(0, "cat")  # code in this kernel answers the item on screen
    [(news, _)] = rec.wait_for("answered")
    assert news["keys"] == [held[0]]
    assert news["progress"]["labeled"] == 1
    assert w.progress["labeled"] == 1
    # Another kernel (another annotator, the same store) answers a prefetched item.
    other = Job("texts", job.data, TextClassification(LABELS), annotator="bob")
    other.skip(3)
    news = rec.wait_for("answered", 2)[-1][0]
    assert set(news["keys"]) == {held[0], held[3]}
    assert news["progress"] == {"total": 8, "labeled": 1, "skipped": 1, "remaining": 6, "auto": 0}
    # The widget is not offered them again.
    w._on_custom(w, {"type": "more", "count": 6, "exclude": held[1:3] + held[4:]}, [])
    offered = [i["key"] for i in rec.wait_for("items", 2)[-1][0]["items"]]
    assert held[0] not in offered and held[3] not in offered


# -- text items (replies are sent synchronously) ----------------------------------------------


def test_hello_sends_the_first_window_as_a_reply(make_widget) -> None:
    job = text_job(8)
    job.label(1, "cat")
    w, rec = make_widget(job)
    w._on_custom(w, {"type": "hello", "width": 900}, [])
    [(message, buffers)] = rec.wait_for("items")
    assert message["reply"] is True
    assert message["exhausted"] is False
    assert [i["position"] for i in message["items"]] == [0, 2, 3, 4, 5, 6]  # window=6
    assert message["items"][0]["text"] == "sentence 0"
    assert message["progress"] == {"total": 8, "labeled": 1, "skipped": 0, "remaining": 7, "auto": 0}
    assert buffers == []


def test_more_excludes_what_the_browser_holds_and_reports_exhaustion(make_widget) -> None:
    job = text_job(5)
    w, rec = make_widget(job)
    w._on_custom(w, {"type": "more", "count": 2, "exclude": job.keys[:2]}, [])
    w._on_custom(w, {"type": "more", "count": 10, "exclude": job.keys[:2]}, [])
    first, second = (m for m, _ in rec.wait_for("items", 2))
    assert [i["position"] for i in first["items"]] == [2, 3]
    assert first["exhausted"] is False
    assert first["reply"] is True
    assert [i["position"] for i in second["items"]] == [2, 3, 4]
    assert second["exhausted"] is True


def test_more_never_sends_more_than_the_window(make_widget) -> None:
    job = text_job(30)
    w, rec = make_widget(job, window=4)
    w._on_custom(w, {"type": "more", "count": 50, "exclude": []}, [])
    [(message, _)] = rec.wait_for("items")
    assert [i["position"] for i in message["items"]] == [0, 1, 2, 3]
    assert message["exhausted"] is False


def test_answer_is_acked_with_progress(make_widget) -> None:
    job = text_job(4)
    w, rec = make_widget(job)
    w._on_custom(w, answer("u1", job.keys[0], "dog"), [])
    w._on_custom(w, {"type": "skip", "uid": "u2", "key": job.keys[1]}, [])
    acks = [m for m, _ in rec.wait_for("ack", 2)]
    assert acks[0] == {
        "type": "ack",
        "uids": ["u1"],
        "progress": {"total": 4, "labeled": 1, "skipped": 0, "remaining": 3, "auto": 0},
    }
    assert acks[1]["uids"] == ["u2"]
    assert acks[1]["progress"] == {"total": 4, "labeled": 1, "skipped": 1, "remaining": 2, "auto": 0}
    assert w.progress == acks[1]["progress"]
    assert job.current(0).uid == "u1"
    assert rec.of("rejected") == []


def test_resent_answer_is_acked_again_and_stored_once(make_widget) -> None:
    job = text_job(3)
    w, rec = make_widget(job)
    for _ in range(2):
        w._on_custom(w, answer("same", job.keys[0], "cat"), [])
    acks = rec.wait_for("ack", 2)
    assert [m["uids"] for m, _ in acks] == [["same"], ["same"]]  # the browser may drop it from its outbox
    assert len(list(job.store.annotations())) == 1


def test_bad_label_is_rejected_with_a_reason(make_widget) -> None:
    job = text_job(3)
    w, rec = make_widget(job)
    w._on_custom(w, answer("bad", job.keys[0], "cow"), [])
    w._on_custom(w, answer("bad2", "no-such-key", "cat"), [])
    w._on_custom(w, {"type": "answer", "key": job.keys[0], "value": "cat"}, [])  # no uid
    rejected = [m for m, _ in rec.wait_for("rejected", 3)]
    assert rejected[0]["uid"] == "bad"
    assert "'cow' is not one of the labels ['cat', 'dog', 'bird']" in rejected[0]["reason"]
    assert job.keys[0] in rejected[0]["reason"]
    assert rejected[1]["uid"] == "bad2"
    assert "no-such-key" in rejected[1]["reason"]
    assert "no uid" in rejected[2]["reason"]
    assert rec.of("ack") == []
    assert list(job.store.annotations()) == []


def test_undo_without_target_acks_and_sends_goto(make_widget) -> None:
    job = text_job(4)
    w, rec = make_widget(job)
    w._on_custom(w, answer("a0", job.keys[0], "cat"), [])
    w._on_custom(w, answer("a1", job.keys[1], "bird"), [])
    rec.clear()
    w._on_custom(w, {"type": "undo", "uid": "z1"}, [])
    [(ack, _)] = rec.wait_for("ack")
    assert ack["uids"] == ["z1"]
    assert ack["progress"]["labeled"] == 1
    [(goto, buffers)] = rec.wait_for("goto")
    assert goto["key"] == job.keys[1]
    assert [i["key"] for i in goto["items"]] == [job.keys[1]]
    assert goto["items"][0]["value"] is None  # the answer was taken back
    assert goto["items"][0]["text"] == "sentence 1"
    assert buffers == []
    assert [m["type"] for m, _ in rec.sent] == ["ack", "goto"]


def test_undo_with_target_acks_without_goto(make_widget) -> None:
    job = text_job(3)
    w, rec = make_widget(job)
    w._on_custom(w, answer("a0", job.keys[0], "cat"), [])
    w._on_custom(w, answer("a1", job.keys[1], "dog"), [])
    rec.clear()
    w._on_custom(w, {"type": "undo", "uid": "z0", "target": "a0"}, [])
    [(ack, _)] = rec.wait_for("ack")
    assert ack["uids"] == ["z0"]
    assert rec.of("goto") == []
    assert job.current(0) is None
    assert job.current(1).uid == "a1"
    w._on_custom(w, {"type": "undo", "uid": "z9", "target": "never-sent"}, [])
    [(rejected, _)] = rec.wait_for("rejected")
    assert rejected["uid"] == "z9"
    assert "never stored" in rejected["reason"]


def test_store_failure_is_reported_and_not_acked(make_widget) -> None:
    job = text_job(3)
    w, rec = make_widget(job)
    job.store._db.execute("PRAGMA query_only = ON")  # the disk refuses writes
    w._on_custom(w, answer("u1", job.keys[0], "cat"), [])
    [(error, _)] = rec.wait_for("store-error")
    assert error["uid"] == "u1"
    assert str(job.store.path) in error["reason"]
    assert rec.of("ack") == []
    job.store._db.execute("PRAGMA query_only = OFF")
    w._on_custom(w, answer("u1", job.keys[0], "cat"), [])  # the browser re-sends it
    assert rec.wait_for("ack")[0][0]["uids"] == ["u1"]
    assert job.current(0).uid == "u1"


def test_get_sends_known_items_without_reply_flag(make_widget) -> None:
    job = text_job(4)
    job.label(2, "dog")
    w, rec = make_widget(job)
    w._on_custom(w, {"type": "get", "keys": [job.keys[2], "unknown", job.keys[0]]}, [])
    [(message, _)] = rec.wait_for("items")
    assert message["reply"] is False
    assert message["exhausted"] is False
    assert [(i["position"], i["value"]) for i in message["items"]] == [(2, "dog"), (0, None)]


def test_hello_stores_resent_answers_before_sending_items(make_widget) -> None:
    job = text_job(4)
    w, rec = make_widget(job)
    resend = [answer("r0", job.keys[0], "cat"), {"type": "skip", "uid": "r1", "key": job.keys[1]}]
    w._on_custom(w, {"type": "hello", "width": 800, "resend": resend}, [])
    assert [m["uids"] for m, _ in rec.wait_for("ack", 2)] == [["r0"], ["r1"]]
    [(items, _)] = rec.wait_for("items")
    assert [i["position"] for i in items["items"]] == [2, 3]
    assert items["exhausted"] is True
    assert items["progress"] == {"total": 4, "labeled": 1, "skipped": 1, "remaining": 2, "auto": 0}


def test_bad_and_unknown_messages_are_refused_with_a_reply(
    make_widget, caplog: pytest.LogCaptureFixture
) -> None:
    job = text_job(2)
    w, rec = make_widget(job)
    with caplog.at_level(logging.WARNING, logger="nblabel.widgets.item_widget"):
        w._on_custom(w, {"type": "more", "count": "many"}, [])
        w._on_custom(w, {"type": "teleport"}, [])
        w._on_custom(w, ["not", "a", "dict"], [])
        w._on_custom(w, {"type": "more", "exclude": "abc"}, [])
    text = caplog.text
    assert "refused a 'more' message" in text
    assert "unknown message type 'teleport'" in text
    replies = [m for m, _ in rec.sent]
    assert [(m["type"], m["request"]) for m in replies] == [
        ("rejected", "more"),
        ("rejected", "teleport"),
        ("rejected", None),
        ("rejected", "more"),
    ]
    assert "invalid literal for int()" in replies[0]["reason"]
    assert "a message is a JSON object, got list" in replies[2]["reason"]
    assert "exclude must be a list of item keys" in replies[3]["reason"]
    # and the widget still works afterwards
    w._on_custom(w, answer("ok", job.keys[0], "cat"), [])
    assert rec.wait_for("ack")[0][0]["uids"] == ["ok"]


def test_an_unexpected_failure_still_gets_one_reply(make_widget, monkeypatch, caplog) -> None:
    """A handler raising an exception type nobody expected replies ``error`` (the browser stops
    re-sending it) instead of staying silent (the browser re-sent it forever)."""
    job = text_job(3)
    w, rec = make_widget(job)

    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(w.feed, "apply", broken)
    monkeypatch.setattr(w.feed, "next_positions", broken)
    with caplog.at_level(logging.ERROR, logger="nblabel.widgets.item_widget"):
        w._on_custom(w, answer("u1", job.keys[0], "cat"), [])
        w._on_custom(w, {"type": "more", "count": 2}, [])
    assert [m for m, _ in rec.sent] == [
        {"type": "error", "uid": "u1", "reason": "a bug"},
        {"type": "error", "request": "more", "reason": "a bug"},
    ]
    assert "RuntimeError: a bug" in caplog.text


# -- image items (replies come from a worker thread) -------------------------------------------


def test_image_hello_replies_from_a_worker_with_buffers(make_widget, tmp_path: Path) -> None:
    job = image_job(tmp_path, 3)
    w, rec = make_widget(job)
    w._on_custom(w, {"type": "hello", "width": 450}, [])
    [(message, buffers)] = rec.wait_for("items")
    assert w.feed.max_width == 450
    assert message["reply"] is True
    assert message["exhausted"] is True
    assert len(buffers) == 3
    for n, item in enumerate(message["items"]):
        assert item["buffer"] == n
        assert item["mime"] == "image/jpeg"
        assert item["width"] <= 450
        assert (item["original_width"], item["original_height"]) == (400 + 100 * n, 300)
        assert bytes(buffers[n][:2]) == b"\xff\xd8"  # JPEG


@pytest.mark.parametrize(("width", "clamped"), [(0, 1024), (100, 320), (5000, 1600)])
def test_hello_width_is_clamped(make_widget, tmp_path: Path, width: int, clamped: int) -> None:
    job = image_job(tmp_path, 1)
    w, rec = make_widget(job)
    w._on_custom(w, {"type": "hello", "width": width}, [])
    rec.wait_for("items")
    assert w.feed.max_width == clamped


def test_image_undo_goto_carries_the_image(make_widget, tmp_path: Path) -> None:
    job = image_job(tmp_path, 2)
    w, rec = make_widget(job)
    w._on_custom(w, answer("a0", job.keys[0], "bird"), [])
    w._on_custom(w, {"type": "undo", "uid": "z"}, [])
    [(goto, buffers)] = rec.wait_for("goto")
    assert goto["key"] == job.keys[0]
    assert goto["items"][0]["buffer"] == 0
    assert len(buffers) == 1
    assert [m["uids"] for m, _ in rec.of("ack")] == [["a0"], ["z"]]


def test_image_more_and_get(make_widget, tmp_path: Path) -> None:
    job = image_job(tmp_path, 4)
    missing = tmp_path / "img1.jpg"
    missing.unlink()
    w, rec = make_widget(job)
    w._on_custom(w, {"type": "more", "count": 3, "exclude": [job.keys[0]]}, [])
    [(more, buffers)] = rec.wait_for("items")
    assert [i["position"] for i in more["items"]] == [1, 2, 3]
    assert "file not found" in more["items"][0]["error"]
    assert [i.get("buffer") for i in more["items"]] == [None, 0, 1]
    assert len(buffers) == 2
    w._on_custom(w, {"type": "get", "keys": [job.keys[0]]}, [])
    got = rec.wait_for("items", 2)[1][0]
    assert got["reply"] is False
    assert [i["position"] for i in got["items"]] == [0]


# -- import hygiene -----------------------------------------------------------------------------


def test_import_nblabel_does_not_import_widget_libraries() -> None:
    code = (
        "import json, sys\n"
        "import nblabel\n"
        "from nblabel import Job, ImageClassification, read_manifest\n"
        "heavy = ('anywidget', 'ipywidgets', 'IPython', 'traitlets', 'comm', 'nblabel.widgets')\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in heavy or m in heavy)))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1]) == []


# -- values no store can keep (finding 1 of #17, the widget's path) --------------------------------


def test_an_answer_with_a_lone_surrogate_is_rejected_and_the_store_released() -> None:
    """A JavaScript string cut inside an emoji reaches the kernel as a lone surrogate. A custom
    task stores its form's answer as given, so the store itself refuses it: the widget replies
    ``rejected`` with the reason (not ``store-error``, which the browser would re-send forever),
    and the store is neither left locked nor at ``synchronous=NORMAL``."""
    import sqlite3

    from nblabel import CustomTask

    job = Job(
        "forms",
        pd.DataFrame({"source": ["a", "b"]}),
        CustomTask("<crowd-form>{{ task.input.source }}</crowd-form>"),
    )
    w = job.annotate()
    recorder = Recorder()
    w.send = recorder
    try:
        w._on_custom(w, {"type": "hello", "resend": []}, [])  # claims items: a NORMAL-sync write
        recorder.wait_for("items")
        cut = {"comment": "party \ud83c"}
        w._on_custom(w, {"type": "answer", "uid": "u1", "key": job.keys[0], "value": cut}, [])
        [(rejected, _)] = recorder.wait_for("rejected")
        assert rejected["uid"] == "u1"
        assert "lone UTF-16 surrogate" in rejected["reason"]
        assert recorder.of("store-error") == [] and recorder.of("ack") == []
        assert not job.store._db.in_transaction
        assert job.store._db.execute("PRAGMA synchronous").fetchone()[0] == 2
        other = sqlite3.connect(job.store.path, timeout=0)
        other.execute("BEGIN IMMEDIATE")  # another kernel can write at once
        other.execute("ROLLBACK")
        other.close()
        w._on_custom(
            w, {"type": "answer", "uid": "u2", "key": job.keys[0], "value": {"comment": "party"}}, []
        )
        assert recorder.wait_for("ack")[0][0]["uids"] == ["u2"]
    finally:
        w.close()
