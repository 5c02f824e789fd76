"""Bad input never crashes or hangs nblabel: broken manifests and hostile widget messages.

Manifests: every broken line raises ``ManifestError`` naming the file and the line, whatever the
bytes; nothing else escapes. Widget messages: the Python half of the protocol
(:meth:`nblabel.labeling.feed.Feed.apply`) refuses anything that is not a valid answer with ``ValueError``,
``KeyError`` or ``TypeError`` (which the widget turns into a visible "rejected") and stores nothing.
"""

from __future__ import annotations

import io
import json
import sqlite3
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nblabel import ImageClassification, Job, ManifestError, TextClassification, read_manifest
from nblabel.labeling.feed import Feed

GOOD = b'{"source-ref": "s3://bucket/a.jpg"}\n'

# (name, the broken line, words the error must contain)
CORPUS: list[tuple[str, bytes, str]] = [
    ("truncated object", b'{"source-ref": "s3://b/a.jpg"', "invalid JSON"),
    ("truncated string", b'{"source-ref": "s3://b/a', "invalid JSON"),
    ("trailing comma", b'{"source-ref": "a",}', "invalid JSON"),
    ("single quotes", b"{'source-ref': 'a'}", "invalid JSON"),
    ("array", b'["a", "b"]', "expected a JSON object, found list"),
    ("string", b'"s3://b/a.jpg"', "expected a JSON object, found str"),
    ("number", b"42", "expected a JSON object, found int"),
    ("null", b"null", "expected a JSON object, found NoneType"),
    ("NaN", b'{"x": NaN}', "NaN is not valid JSON"),
    ("Infinity", b'{"x": Infinity}', "Infinity is not valid JSON"),
    ("-Infinity", b'{"x": -Infinity}', "-Infinity is not valid JSON"),
    ("invalid UTF-8", b'{"source": "caf\xe9"}', "not valid UTF-8"),
    ("lone surrogate bytes", b'{"source": "\xed\xa0\x80"}', "not valid UTF-8"),
    ("NUL byte", b'{"source": "a\x00b"}', "invalid JSON"),
    ("array depth bomb", b'{"a": ' + b"[" * 200_000 + b"]" * 200_000 + b"}", "nested too deeply"),
    ("object depth bomb", b'{"a": ' * 100_000 + b"1" + b"}" * 100_000, "nested too deeply"),
    ("huge unterminated line", b'{"source": "' + b"x" * 30_000_000, "invalid JSON"),
]


@pytest.mark.parametrize("where", ["first", "middle", "last"])
@pytest.mark.parametrize(("name", "line", "words"), CORPUS, ids=[c[0] for c in CORPUS])
def test_broken_line_names_its_line(name: str, line: bytes, words: str, where: str, tmp_path: Path) -> None:
    lines = {"first": [line, GOOD, GOOD], "middle": [GOOD, line, GOOD], "last": [GOOD, GOOD, line]}[where]
    number = lines.index(line) + 1
    path = tmp_path / "broken.manifest"
    path.write_bytes(b"\n".join(x.rstrip(b"\n") for x in lines) + b"\n")
    with pytest.raises(ManifestError) as info:
        read_manifest(path)
    assert info.value.line == number
    assert str(path) in str(info.value)
    assert words in str(info.value)


def test_huge_valid_line_is_read(tmp_path: Path) -> None:
    text = "word " * 4_000_000  # a 20 MB document on one line
    path = tmp_path / "huge.manifest"
    path.write_text(json.dumps({"source": text}) + "\n" + GOOD.decode())
    df = read_manifest(path)
    assert len(df) == 2
    assert df.loc[0, "source"] == text


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.binary(max_size=200), min_size=1, max_size=6))
def test_random_bytes_read_or_raise_manifest_error(lines: list[bytes]) -> None:
    data = b"\n".join(lines)
    try:
        df = read_manifest(io.BytesIO(data))
    except ManifestError as exc:
        assert 1 <= exc.line <= data.count(b"\n") + 1
    else:
        assert len(df) <= len(lines)


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.dictionaries(st.text(max_size=12), json_values, max_size=5), min_size=1, max_size=5))
def test_any_json_objects_round_trip_through_read(objects: list[dict[str, Any]]) -> None:
    data = "\n".join(json.dumps(o) for o in objects).encode()
    df = read_manifest(io.BytesIO(data))
    assert len(df) == len(objects)
    for i, obj in enumerate(objects):
        assert {k: df.loc[i, k] for k in obj} == obj


# -- hostile widget messages -------------------------------------------------------------------


def _count(feed: Feed) -> int:
    with sqlite3.connect(feed.log.store.path) as db:
        return int(db.execute("SELECT COUNT(*) FROM annotations").fetchone()[0])


@pytest.fixture(scope="module")
def feeds(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Feed]:
    folder = tmp_path_factory.mktemp("fuzz")
    single = Job(
        "fuzz-single",
        pd.DataFrame({"source": ["one", "two", "three"]}),
        TextClassification(["cat", "dog"]),
        store=folder / "single.sqlite",
    )
    multi = Job(
        "fuzz-multi",
        pd.DataFrame({"source-ref": ["a.jpg", "b.jpg"]}),
        ImageClassification(["cat", "dog"], multi_label=True),
        store=folder / "multi.sqlite",
    )
    return {"single": single.feed(), "multi": multi.feed()}


messages = st.fixed_dictionaries(
    {},
    optional={
        "type": st.sampled_from(["answer", "skip", "undo", "hello", "", "ANSWER"]) | json_values,
        "uid": st.text(max_size=12) | json_values,
        "key": st.sampled_from(["one", "a.jpg", "nope", "../../etc/passwd", "<img src=x onerror=alert(1)>"])
        | st.integers(-5, 10)
        | json_values,
        "value": st.sampled_from(["cat", "dog", "horse", ["cat"], ["cat", "cat"], [], "<b>cat</b>"])
        | json_values,
        "target": st.text(max_size=12) | json_values,
    },
)


@settings(
    max_examples=400,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(which=st.sampled_from(["single", "multi"]), message=messages)
def test_hostile_messages_are_refused_and_store_nothing(
    feeds: dict[str, Feed], which: str, message: dict[str, Any]
) -> None:
    feed = feeds[which]
    before = _count(feed)
    uid = message.get("uid")
    resent = isinstance(uid, str) and feed.log.has(uid)
    try:
        feed.apply(message)
    except (ValueError, KeyError, TypeError):
        assert _count(feed) == before, f"a refused message stored something: {message!r}"
        return
    if resent:  # a uid already stored is acknowledged as a re-send, whatever else it says
        assert _count(feed) == before, f"a re-sent uid stored something: {message!r}"
        return
    # accepted: then it was a well-formed answer, skip or undo for a real item
    assert message.get("type") in ("answer", "skip", "undo")
    assert isinstance(message.get("uid"), str)
    assert message["uid"]
    if message["type"] in ("answer", "skip"):
        assert feed.items.has(message["key"]) or isinstance(message["key"], int)


def test_stale_answer_after_undo_is_not_stored_again() -> None:
    job = Job("stale", pd.DataFrame({"source": ["one", "two"]}), TextClassification(["cat", "dog"]))
    feed = job.feed()
    answer = {"type": "answer", "uid": "stale-1", "key": job.keys[1], "value": "cat"}
    feed.apply(answer)
    feed.apply({"type": "undo", "uid": "stale-undo", "target": "stale-1"})
    count = _count(job)
    feed.apply(answer)  # the browser re-sends the answer it had before the undo
    assert _count(job) == count
    assert list(job.pending(5).index) == [0, 1]
    feed.close()
