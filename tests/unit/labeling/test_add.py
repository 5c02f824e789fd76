"""Rows added to an open job (``Job.add``): deduplication, other kernels' view through the store
(SQLite and a real PostgreSQL server), a Job re-created over its original DataFrame, the widget
feed's watcher, and adding while the background auto-labeler is in the middle of a round."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from autolabel_helpers import LABELS as TOPICS
from autolabel_helpers import GatedLogistic, synthetic_texts, wait_for
from store_helpers import Backend

from nblabel import ImageClassification, Job, TextClassification

pytest_plugins = ["pg_fixtures"]

LABELS = ["cat", "dog"]
HERE = Path(__file__).resolve().parents[1]  # tests/unit: autolabel_helpers, for the worker process


def _df(names: list[str], **columns: list[object]) -> pd.DataFrame:
    return pd.DataFrame({"source-ref": [f"/data/{n}.jpg" for n in names], **columns})


def _job(spec: str, who: str = "ana", data: pd.DataFrame | None = None) -> Job:
    data = _df(["a", "b", "c"]) if data is None else data
    return Job("job", data, ImageClassification(LABELS), store=spec, annotator=who)


def test_add_deduplicates_on_the_item_key(tmp_path: Path) -> None:
    job = _job(str(tmp_path / "s.sqlite"))
    # b is in the manifest; d comes twice in one call: both count as added already
    assert job.add(_df(["b", "d", "e", "d"])) == 2
    assert job.keys == [f"/data/{n}.jpg" for n in "abcde"]
    assert job.add(_df(["d", "e", "a"])) == 0
    assert len(job.data) == 5 and job.progress.total == 5
    assert list(job.pending(10).index) == [0, 1, 2, 3, 4]
    job.label("/data/e.jpg", "dog")
    assert job.current(4).value == "dog"


def test_add_deduplicates_on_a_named_column(tmp_path: Path) -> None:
    job = _job(str(tmp_path / "s.sqlite"), data=_df(["a", "b"], id=[1, 2]))
    # the same image under a new id is a new item, keyed like a repeat in a manifest
    assert job.add(_df(["a", "c", "c"], id=[3, 2, 4]), key="id") == 2
    assert job.keys == ["/data/a.jpg", "/data/b.jpg", "/data/a.jpg#2", "/data/c.jpg"]
    assert list(job.data["id"]) == [1, 2, 3, 4]
    assert job.add(_df(["z"], id=[4]), key="id") == 0
    with pytest.raises(KeyError, match="no column 'ref'"):
        job.add(_df(["q"], id=[5]), key="ref")
    with pytest.raises(ValueError, match="row 0: the deduplication column 'id' is empty"):
        job.add(_df(["q"], id=[None]), key="id")


def test_invalid_rows_add_nothing(tmp_path: Path) -> None:
    job = _job(str(tmp_path / "s.sqlite"))
    with pytest.raises(ValueError, match="source-ref"):
        job.add(pd.DataFrame({"source": ["a text"]}))
    with pytest.raises(ValueError, match=r"\.\."):  # the job's file rule: no '..' without media_root
        job.add(pd.DataFrame({"source-ref": ["/data/ok.jpg", "../secret.jpg"]}))
    assert job.store.added_items(job.attribute) == [] and len(job.keys) == 3


def test_another_kernel_sees_added_rows_through_the_store(backend: Backend) -> None:
    ana, bo = _job(backend.spec, "ana"), _job(backend.spec, "bo")
    assert ana.add(_df(["d", "e"])) == 2
    assert len(bo.keys) == 3  # not yet looked
    bo.refresh()
    assert bo.keys[3:] == ["/data/d.jpg", "/data/e.jpg"]
    assert list(bo.data["source-ref"])[3:] == ["/data/d.jpg", "/data/e.jpg"]
    bo.label("/data/d.jpg", "cat")
    ana.refresh()
    assert ana.current("/data/d.jpg").annotator == "bo"
    assert bo.add(_df(["e"])) == 0  # ana's row counts for bo too

    # Two kernels adding one image under different ids, neither having seen the other's row:
    # the store gives the second its own key.
    cy = _job(backend.spec, "cy", data=_df(["a", "b", "c"], id=[1, 2, 3]))
    dee = _job(backend.spec, "dee", data=_df(["a", "b", "c"], id=[1, 2, 3]))
    assert cy.add(_df(["f"], id=[10]), key="id") == 1
    assert dee.add(_df(["f"], id=[11]), key="id") == 1
    assert dee.keys[-2:] == ["/data/f.jpg", "/data/f.jpg#2"]

    # A Job made again over the original DataFrame gets every added row back, in order.
    again = _job(backend.spec, "ana")
    assert again.keys[3:] == ["/data/d.jpg", "/data/e.jpg", "/data/f.jpg", "/data/f.jpg#2"]
    assert again.current("/data/d.jpg").value == "cat"
    assert again.progress.total == 7


def test_the_widget_feed_hears_of_added_rows(tmp_path: Path) -> None:
    spec = str(tmp_path / "s.sqlite")
    watcher, adder = _job(spec, "ana"), _job(spec, "bo")
    feed = watcher.feed()
    closed, grew = threading.Event(), threading.Event()
    feed.watch_rounds(closed, grew.set, "test-added", on_answers=lambda: None)
    try:
        assert feed.next_positions(10) == ([0, 1, 2], True)
        adder.add(_df(["d"]))
        assert grew.wait(30), "the feed's watcher never said the queue grew"
        assert feed.round_news([], 10)["order"] == [
            "/data/a.jpg",
            "/data/b.jpg",
            "/data/c.jpg",
            "/data/d.jpg",
        ]
        assert feed.next_positions(10, exclude=["/data/a.jpg", "/data/b.jpg", "/data/c.jpg"]) == ([3], True)
    finally:
        closed.set()
        feed.close()


@pytest.fixture
def jobs() -> Iterator[list[Job]]:
    """Jobs whose workers are stopped after the test, whatever happened."""
    started: list[Job] = []
    yield started
    for job in started:
        job.stop_autolabel()


def test_rows_added_during_a_round_join_the_next(
    jobs: list[Job], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = os.environ.get("PYTHONPATH")  # the worker is a fresh interpreter: it needs the helpers
    monkeypatch.setenv("PYTHONPATH", str(HERE) + (os.pathsep + path if path else ""))
    texts = synthetic_texts(160)
    first, later = texts.iloc[:120], texts.iloc[120:]
    job = Job("topics", first, TextClassification(TOPICS))
    jobs.append(job)
    for i in range(60):
        job.label(i, first.gold[i])
    gate = tmp_path / "gate"
    gate.mkdir()
    (gate / "hold").touch()
    job.autolabel(estimator=GatedLogistic(str(gate)), every=5, interval=1)
    wait_for((gate / "held").exists, "the worker to be held mid-round")

    assert job.add(later[["source"]]) == 40  # while the round is being computed
    (gate / "hold").unlink()
    (gate / "release").touch()
    wait_for(lambda: job.store.latest_round(job.attribute) is not None, "round 1")
    added = set(job.keys[120:])
    assert not added & set(job.store.proposals(job.attribute))  # round 1 began before them

    for i in range(60, 70):
        job.label(i, first.gold[i])
    wait_for(lambda: job.store.latest_round(job.attribute)[1]["human_answers"] == 70, "round 2")
    proposals = job.store.proposals(job.attribute)
    assert added <= set(proposals)
    right = sum(proposals[k][0] == gold for k, gold in zip(job.keys[120:], later.gold, strict=True))
    assert right >= 36  # the added texts were featurized with the others, not as blanks
