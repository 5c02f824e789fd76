"""The widget protocol's Python half, headless: which items go out, their payloads, answers coming in."""

from __future__ import annotations

import io
import sqlite3
from pathlib import Path

import pandas as pd
import pytest
from PIL import Image, JpegImagePlugin

from nblabel import ImageClassification, Job, TextClassification
from nblabel.labeling.feed import Feed
from nblabel.store import Annotation

LABELS = ["cat", "dog", "bird"]


def rows(job: Job) -> int:
    with sqlite3.connect(job.store.path) as db:
        return db.execute("SELECT COUNT(*) FROM annotations").fetchone()[0]


def text_feed(n: int = 5, multi_label: bool = False) -> tuple[Job, Feed]:
    df = pd.DataFrame({"source": [f"text {i}" for i in range(n)]})
    job = Job("texts", df, TextClassification(LABELS, multi_label=multi_label))
    return job, job.feed()


def image_feed(refs: list[str], **kwargs) -> tuple[Job, Feed]:
    job = Job("images", pd.DataFrame({"source-ref": refs}), ImageClassification(LABELS))
    return job, Feed(job.items, job.queue, job.log, **kwargs)


def make_image(path: Path, size: tuple[int, int], color=(200, 100, 50), fmt: str | None = None) -> str:
    Image.new("RGB", size, color).save(path, format=fmt)
    return str(path)


# -- which items ------------------------------------------------------------------------------


def test_next_positions_in_order_and_exhaustion() -> None:
    _job, feed = text_feed(5)
    assert feed.next_positions(2) == ([0, 1], False)
    assert feed.next_positions(5) == ([0, 1, 2, 3, 4], False)
    assert feed.next_positions(10) == ([0, 1, 2, 3, 4], True)
    feed.close()


def test_next_positions_excludes_answered_and_held_items() -> None:
    job, feed = text_feed(5)
    job.label(0, "cat")
    job.skip(3)
    held = [job.keys[1]]  # already in the browser's window
    assert feed.next_positions(2, exclude=held) == ([2, 4], False)
    assert feed.next_positions(3, exclude=held) == ([2, 4], True)
    assert feed.next_positions(3, exclude=[*held, job.keys[2], job.keys[4]]) == ([], True)
    feed.close()


def test_next_positions_sees_other_kernels() -> None:
    job, feed = text_feed(3)
    other = Job("texts", job.data, TextClassification(LABELS))
    other.label(0, "cat")
    other.label(1, "dog")
    assert feed.next_positions(5) == ([2], True)
    assert feed.progress() == {"total": 3, "labeled": 2, "skipped": 0, "remaining": 1, "auto": 0}


# -- payloads ---------------------------------------------------------------------------------


def test_text_payloads() -> None:
    job, feed = text_feed(3)
    job.label(1, "dog")
    items, buffers = feed.payloads([0, 1])
    assert buffers == []
    assert items == [
        {"key": job.keys[0], "position": 0, "total": 3, "kind": "text", "value": None, "text": "text 0"},
        {
            "key": job.keys[1],
            "position": 1,
            "total": 3,
            "kind": "text",
            "value": "dog",
            "text": "text 1",
        },
    ]
    feed.close()


def test_image_payloads_are_downscaled_and_keep_the_original_size(tmp_path: Path) -> None:
    refs = [
        make_image(tmp_path / "wide.jpg", (1600, 400)),
        make_image(tmp_path / "small.png", (120, 80), fmt="PNG"),
        make_image(tmp_path / "tall.jpg", (300, 900)),
    ]
    job, feed = image_feed(refs, max_width=400, max_height=300)
    job.label(1, "bird")
    items, buffers = feed.payloads([0, 1, 2])
    assert len(buffers) == 3
    expected = [((400, 100), (1600, 400)), ((120, 80), (120, 80)), ((100, 300), (300, 900))]
    for n, (item, (shown, original)) in enumerate(zip(items, expected, strict=True)):
        assert item["key"] == refs[n]
        assert item["position"] == n
        assert item["total"] == 3
        assert item["kind"] == "image"
        assert item["buffer"] == n
        assert item["mime"] == "image/jpeg"
        assert (item["width"], item["height"]) == shown
        assert item["width"] <= 400 and item["height"] <= 300
        assert (item["original_width"], item["original_height"]) == original
        assert "error" not in item
        img = Image.open(io.BytesIO(buffers[n]))
        assert (img.format, img.size) == ("JPEG", shown)
    assert [i["value"] for i in items] == [None, "bird", None]
    feed.close()


def test_payload_order_follows_the_positions_asked(tmp_path: Path) -> None:
    refs = [make_image(tmp_path / f"{i}.png", (10 + i, 10), fmt="PNG") for i in range(4)]
    _job, feed = image_feed(refs)
    items, buffers = feed.payloads([3, 0, 2])
    assert [i["position"] for i in items] == [3, 0, 2]
    assert [i["buffer"] for i in items] == [0, 1, 2]
    assert [Image.open(io.BytesIO(b)).size[0] for b in buffers] == [13, 10, 12]
    feed.close()


def test_unreadable_images_give_an_error_reason(tmp_path: Path) -> None:
    good0 = make_image(tmp_path / "good0.jpg", (64, 48))
    missing = str(tmp_path / "missing.jpg")
    corrupt = tmp_path / "corrupt.jpg"
    corrupt.write_bytes(b"\xff\xd8\xff\xe0" + bytes(range(256)) * 4)
    renamed = tmp_path / "notes.jpg"
    renamed.write_text("this is a text file, renamed to .jpg\n")
    folder = tmp_path / "folder.jpg"
    folder.mkdir()
    good1 = make_image(tmp_path / "good1.jpg", (32, 24))
    job, feed = image_feed([good0, missing, str(corrupt), str(renamed), str(folder), good1])
    items, buffers = feed.payloads(list(range(6)))

    assert len(buffers) == 2
    assert items[0]["buffer"] == 0
    assert items[5]["buffer"] == 1  # buffer indices skip the items that have none
    assert Image.open(io.BytesIO(buffers[1])).size == (32, 24)
    reasons = {n: items[n].get("error", "") for n in range(1, 5)}
    assert "file not found" in reasons[1]
    assert "corrupt" in reasons[2] or "not an image" in reasons[2]
    assert "not an image Pillow can read" in reasons[3]
    assert "is a folder" in reasons[4]
    for n in range(1, 5):
        assert "buffer" not in items[n]
        assert items[n]["key"] == job.keys[n]
        assert items[n]["kind"] == "image"
    # the broken items can still be answered or skipped
    feed.apply({"type": "skip", "uid": "s1", "key": job.keys[1]})
    assert job.progress.skipped == 1
    feed.close()


def test_remote_source_gives_an_error_reason() -> None:
    # s3:// is fetched through the media cache (test_s3_media.py); other schemes are not read.
    _job, feed = image_feed(["gs://bucket/a.jpg"])
    items, buffers = feed.payloads([0])
    assert buffers == []
    assert items[0]["error"] == "cannot read gs:// sources yet"
    feed.close()


def test_huge_jpeg_previews_small_via_draft(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "huge.jpg"
    Image.new("RGB", (8000, 6000), (30, 60, 90)).save(path, quality=60)
    drafted: list[tuple[tuple[int, int], tuple[int, int]]] = []
    real_draft = JpegImagePlugin.JpegImageFile.draft

    def spy(self, mode, size):
        result = real_draft(self, mode, size)
        drafted.append((size, self.size))
        return result

    monkeypatch.setattr(JpegImagePlugin.JpegImageFile, "draft", spy)
    _job, feed = image_feed([str(path)])
    items, buffers = feed.payloads([0])
    item = items[0]
    assert (item["original_width"], item["original_height"]) == (8000, 6000)
    assert item["width"] <= 1024 and item["height"] <= 768
    assert (item["width"], item["height"]) == (1024, 768)
    assert Image.open(io.BytesIO(buffers[0])).size == (1024, 768)
    # the JPEG was decoded at a reduced scale, never at 8000x6000
    assert drafted[0][0] == (1024, 768)
    assert all(1024 <= size[0] < 8000 for _, size in drafted)
    feed.close()


# -- answers ----------------------------------------------------------------------------------


def test_apply_answer_and_skip() -> None:
    job, feed = text_feed(3)
    assert feed.apply({"type": "answer", "uid": "a1", "key": job.keys[0], "value": "dog"}) is None
    assert feed.apply({"type": "skip", "uid": "s1", "key": job.keys[1]}) is None
    a = job.current(0)
    assert (a.uid, a.value, a.kind, a.annotator) == ("a1", "dog", "human", "ana")
    assert job.log.has("s1")
    assert job.progress._asdict() == {"total": 3, "labeled": 1, "skipped": 1, "remaining": 1, "auto": 0}
    assert rows(job) == 2


def test_apply_answer_by_position_and_multi_label() -> None:
    job, feed = text_feed(2, multi_label=True)
    feed.apply({"type": "answer", "uid": "m1", "key": 1, "value": ["bird", "cat", "cat"]})
    assert job.current(1).value == ["cat", "bird"]
    assert [a.value for a in job.store.annotations()] == [["cat", "bird"]]


def test_resent_message_is_stored_once() -> None:
    job, feed = text_feed(3)
    message = {"type": "answer", "uid": "same", "key": job.keys[0], "value": "cat"}
    for _ in range(3):
        assert feed.apply(dict(message)) is None
    skip = {"type": "skip", "uid": "skip-1", "key": job.keys[1]}
    feed.apply(skip)
    feed.apply(skip)
    assert rows(job) == 2
    # a re-sent answer from another kernel's store view is recognised too
    other = Job("texts", job.data, TextClassification(LABELS)).feed()
    other.apply(dict(message))
    assert rows(job) == 2
    assert job.progress.labeled == 1
    other.close()
    feed.close()


def test_undo_with_target() -> None:
    job, feed = text_feed(3)
    feed.apply({"type": "answer", "uid": "a0", "key": job.keys[0], "value": "cat"})
    feed.apply({"type": "answer", "uid": "a1", "key": job.keys[1], "value": "dog"})
    assert feed.apply({"type": "undo", "uid": "u0", "target": "a0"}) is None
    assert job.current(0) is None
    assert job.current(1).uid == "a1"
    assert feed.next_positions(5) == ([0, 2], True)
    # re-sent undo: stored once
    feed.apply({"type": "undo", "uid": "u0", "target": "a0"})
    assert rows(job) == 3
    with sqlite3.connect(job.store.path) as db:
        assert db.execute("SELECT kind, target FROM annotations WHERE uid = 'u0'").fetchall() == [
            ("retract", "a0")
        ]


def test_undo_without_target_returns_what_it_took_back() -> None:
    job, feed = text_feed(3)
    feed.apply({"type": "answer", "uid": "a0", "key": job.keys[0], "value": "cat"})
    feed.apply({"type": "skip", "uid": "s1", "key": job.keys[1]})
    undone = feed.apply({"type": "undo", "uid": "u1"})
    assert undone is not None
    assert (undone.uid, undone.item, undone.kind) == ("s1", job.keys[1], "skip")
    assert job.progress.skipped == 0
    # the same undo re-sent must not take back a second answer
    assert feed.apply({"type": "undo", "uid": "u1"}) is None
    assert job.current(0).uid == "a0"
    assert rows(job) == 3
    undone = feed.apply({"type": "undo", "uid": "u2"})
    assert undone.uid == "a0"
    with pytest.raises(ValueError, match="nothing to undo: 'ana' has no answer left"):
        feed.apply({"type": "undo", "uid": "u3"})
    assert rows(job) == 4


def test_a_uid_naming_another_answer_is_refused_never_acknowledged() -> None:
    job, feed = text_feed(3)
    feed.apply({"type": "answer", "uid": "a0", "key": job.keys[0], "value": "cat"})
    for message in [
        {"type": "answer", "uid": "a0", "key": job.keys[1], "value": "cat"},  # another item
        {"type": "skip", "uid": "a0", "key": job.keys[0]},  # another kind
        {"type": "undo", "uid": "a0"},
    ]:
        with pytest.raises(ValueError, match="uid 'a0' already names another annotation"):
            feed.apply(message)
    # someone else's uid, re-used by a forged message
    bo = Job("texts", job.data, TextClassification(LABELS), annotator="bo")
    bo.log.label(job.keys[2], "dog", uid="b2")
    with pytest.raises(ValueError, match="uid 'b2' already names another annotation"):
        feed.apply({"type": "answer", "uid": "b2", "key": job.keys[2], "value": "dog"})
    assert rows(job) == 2
    feed.close()


def test_a_uid_taken_by_another_attribute_is_refused_never_acknowledged() -> None:
    """Two attributes share one store: the uid is stored once, for the first; the second's
    answer under that uid is refused (it was dropped but acknowledged)."""
    job, feed = text_feed(2)
    other = Job("texts", job.data, TextClassification(["yes", "no"]), attribute="other")
    other.log.label(job.keys[0], "yes", uid="shared")
    with pytest.raises(ValueError, match="uid 'shared' already names an annotation of another attribute"):
        feed.apply({"type": "answer", "uid": "shared", "key": job.keys[0], "value": "cat"})
    assert job.current(0) is None
    assert rows(job) == 1
    feed.close()


def test_undo_takes_back_only_your_own_answers() -> None:
    job, feed = text_feed(3)
    bo = Job("texts", job.data, TextClassification(LABELS), annotator="bo")
    theirs = bo.label(0, "dog")
    auto = job.log.record(Annotation(job.keys[1], "texts", "auto:m", "auto", "cat", confidence=0.9))
    for target in (theirs.uid, auto.uid):
        with pytest.raises(ValueError, match=f"cannot undo {target}: it is not an answer of 'ana'"):
            feed.apply({"type": "undo", "uid": f"undo-{target}", "target": target})
    job.refresh()
    assert job.current(0).uid == theirs.uid
    assert job.current(1).uid == auto.uid
    assert rows(job) == 2
    feed.close()


@pytest.mark.parametrize(
    ("message", "error", "match"),
    [
        (
            {"type": "answer", "uid": "x", "key": "K0", "value": "cow"},
            ValueError,
            r"'cow' is not one of the labels",
        ),
        ({"type": "answer", "uid": "x", "key": "K0", "value": ["cat"]}, ValueError, "not one of the labels"),
        ({"type": "answer", "uid": "x", "key": "K0"}, ValueError, "None is not one of the labels"),
        ({"type": "answer", "key": "K0", "value": "cat"}, ValueError, "no uid"),
        ({"type": "answer", "uid": "", "key": "K0", "value": "cat"}, ValueError, "no uid"),
        ({"type": "answer", "uid": "x", "key": "nope", "value": "cat"}, KeyError, "no item 'nope'"),
        ({"type": "skip", "uid": "x", "key": 99}, KeyError, "row 99 is outside"),
        ({"type": "undo", "uid": "x", "target": "never"}, ValueError, "cannot undo never"),
        ({"type": "frobnicate", "uid": "x"}, ValueError, "unknown message type 'frobnicate'"),
    ],
)
def test_invalid_messages_raise_and_store_nothing(message: dict, error: type, match: str) -> None:
    job, feed = text_feed(3)
    message = {k: (job.keys[0] if v == "K0" else v) for k, v in message.items()}
    with pytest.raises(error, match=match):
        feed.apply(message)
    assert rows(job) == 0
    assert job.progress.remaining == 3
    feed.close()


def test_invalid_value_names_the_item() -> None:
    job, feed = text_feed(1)
    key = job.keys[0]
    with pytest.raises(ValueError, match=f"item {key}: 'cow'"):
        feed.apply({"type": "answer", "uid": "x", "key": key, "value": "cow"})
    # the uid was not used up: a corrected answer with the same uid is stored
    feed.apply({"type": "answer", "uid": "x", "key": key, "value": "cat"})
    assert job.current(0).uid == "x"
