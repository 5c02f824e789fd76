"""Teams: annotators, several answers per item, and the claims that keep queues within them.

The store contract for claims runs against SQLite and a real PostgreSQL server (``backend``).
Jobs here are separate ``Job`` objects on one store, as separate kernels would be; the load test
with real processes is test_team_load.py.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from autolabel_helpers import LABELS as TOPICS
from autolabel_helpers import answer_drawn, synthetic_texts, wait_for
from store_helpers import Backend

from nblabel import ImageClassification, Job, TextClassification
from nblabel.store import Annotation, Claim
from nblabel.store.claims import choose

pytest_plugins = ["pg_fixtures"]

LABELS = ["cat", "dog", "bird"]


def _df(n: int) -> pd.DataFrame:
    return pd.DataFrame({"source-ref": [f"img{i}.jpg" for i in range(n)]})


def _job(backend: Backend, who: str, n: int = 10, **kwargs: object) -> Job:
    return Job("job", _df(n), ImageClassification(LABELS), store=backend.spec, annotator=who, **kwargs)


# -- the rule ---------------------------------------------------------------------------------


def test_choose_counts_answers_skips_and_other_peoples_claims() -> None:
    claims = [
        Claim("a", "bo", "s-bo", 0.0),
        Claim("b", "bo", "s-bo", 0.0),
        Claim("b", "cy", "s-cy", 0.0),
        Claim("c", "ana", "s-ana", 0.0),  # ana's own session: a renewal
        Claim("d", "ana", "s-old", 0.0),  # ana's kernel before a restart: hers all the same
    ]
    answers = [("e", "ana", "human"), ("f", "bo", "skip"), ("f", "cy", "human"), ("g", "dd", "consolidated")]
    kwargs = {"annotator": "ana", "session": "s-ana", "claims": claims, "answers": answers}
    everything = list("abcdefgh")
    assert choose(everything, want=10, slots=1, **kwargs) == ["c", "d", "h"]
    assert choose(everything, want=10, slots=2, **kwargs) == ["a", "c", "d", "h"]
    assert choose(everything, want=10, slots=3, **kwargs) == ["a", "b", "c", "d", "f", "h"]
    assert choose(everything, want=2, slots=3, **kwargs) == ["a", "b"]
    assert choose(["h", "h", "c"], want=10, slots=1, **kwargs) == ["h", "c"]
    # claims by bo and cy fill b's two slots; ana's claim on c does not count against her
    crowded = [*claims, Claim("c", "bo", "s-bo", 0.0)]
    assert choose(["b", "c"], want=2, slots=2, **{**kwargs, "claims": crowded}) == ["c"]


# -- the store contract -----------------------------------------------------------------------


def test_claimed_items_go_to_one_person_per_slot(backend: Backend) -> None:
    store = backend.open()
    items = [f"i{k}" for k in range(6)]
    ana = store.claim("x", "ana", "s1", items, want=2, slots=1, ttl=60)
    bo = store.claim("x", "bo", "s2", items, want=2, slots=1, ttl=60)
    assert ana == ["i0", "i1"]
    assert bo == ["i2", "i3"]
    # asking again renews what the session holds, in candidate order
    assert store.claim("x", "ana", "s1", items, want=2, slots=1, ttl=60) == ["i0", "i1"]
    # the same person in a new kernel (a restart) gets their items back, not bo's
    assert store.claim("x", "ana", "s3", items, want=3, slots=1, ttl=60) == ["i0", "i1", "i4"]
    assert sorted((c.item, c.annotator, c.session) for c in store.claims("x")) == [
        ("i0", "ana", "s1"),
        ("i0", "ana", "s3"),
        ("i1", "ana", "s1"),
        ("i1", "ana", "s3"),
        ("i2", "bo", "s2"),
        ("i3", "bo", "s2"),
        ("i4", "ana", "s3"),
    ]
    # attributes keep apart
    assert store.claim("y", "bo", "s2", items, want=1, slots=1, ttl=60) == ["i0"]
    store.close()


def test_two_slots_go_to_two_people_and_no_third(backend: Backend) -> None:
    store = backend.open()
    items = ["a", "b"]
    assert store.claim("x", "ana", "s1", items, want=1, slots=2, ttl=60) == ["a"]
    assert store.claim("x", "bo", "s2", items, want=1, slots=2, ttl=60) == ["a"]
    assert store.claim("x", "cy", "s3", items, want=2, slots=2, ttl=60) == ["b"]


def test_answers_take_slots_and_retractions_free_them(backend: Backend) -> None:
    store = backend.open()
    answer = store.append([Annotation("a", "x", "bo", "human", "cat")])[0]
    store.append([Annotation("b", "x", "cy", "skip"), Annotation("c", "x", "auto:m", "auto", "cat", 0.99)])
    # bo's answer and cy's skip take the only slot; an auto-label does not
    assert store.claim("x", "ana", "s1", ["a", "b", "c"], want=3, slots=1, ttl=60) == ["c"]
    # the one who answered never gets the item again, however many slots are free
    assert store.claim("x", "bo", "s2", ["a"], want=1, slots=5, ttl=60) == []
    store.append([Annotation("a", "x", "bo", "retract", target=answer.uid)])
    assert store.claim("x", "ana", "s1", ["a", "b"], want=3, slots=1, ttl=60) == ["a"]
    # a consolidated label closes the item for everyone
    store.append([Annotation("d", "x", "team", "consolidated", "dog")])
    assert store.claim("x", "ana", "s1", ["d"], want=1, slots=3, ttl=60) == []


def test_expired_claims_free_their_items(backend: Backend) -> None:
    store = backend.open()
    # a kernel that died: its claims last 0 s, so they have expired by the next request
    assert store.claim("x", "bo", "dead", ["a", "b"], want=2, slots=1, ttl=0) == ["a", "b"]
    assert store.claim("x", "ana", "s1", ["a", "b", "c"], want=2, slots=1, ttl=60) == ["a", "b"]
    assert {c.session for c in store.claims("x")} == {"s1"}


def test_renewing_keeps_held_items_and_reclaims_expired_ones(backend: Backend) -> None:
    store = backend.open()
    assert store.claim("x", "ana", "s1", ["a", "b"], want=2, slots=1, ttl=0) == ["a", "b"]
    # a renewal holds "a" and "b" again (their claims had expired, nobody took them) ...
    assert store.claim("x", "ana", "s1", ["c"], want=1, slots=1, ttl=60, renew=["a", "b"]) == ["c"]
    assert sorted(c.item for c in store.claims("x")) == ["a", "b", "c"]
    # ... so nobody else gets them; an item someone else took meanwhile is not renewed
    assert store.claim("x", "bo", "s2", ["a", "b", "c", "d"], want=4, slots=1, ttl=60) == ["d"]
    assert store.claim("x", "ana", "s1", [], want=0, slots=1, ttl=60, renew=["d"]) == []
    assert {c.item for c in store.claims("x") if c.session == "s1"} == {"a", "b", "c"}


# -- jobs -------------------------------------------------------------------------------------


def test_answers_per_item_is_the_jobs_and_checked(backend: Backend) -> None:
    first = _job(backend, "ana", answers_per_item=3)
    assert first.answers_per_item == 3
    assert _job(backend, "bo").answers_per_item == 3  # a teammate need not repeat it
    assert _job(backend, "bo", answers_per_item=3).answers_per_item == 3
    with pytest.raises(ValueError, match=r"wants 3 answers per item.*not 2"):
        _job(backend, "bo", answers_per_item=2)
    for bad in (0, -1, 1.5, True, "2"):
        with pytest.raises(ValueError, match="answers_per_item must be a whole number"):
            Job("other", _df(2), ImageClassification(LABELS), answers_per_item=bad)  # type: ignore[arg-type]
    assert Job("plain", _df(2), ImageClassification(LABELS)).answers_per_item == 1


def test_answers_carry_the_annotator(backend: Backend, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NBLABEL_ANNOTATOR", "from-env")
    job = Job("job", _df(3), ImageClassification(LABELS), store=backend.spec)
    assert job.label(0, "cat").annotator == "from-env"
    assert job.label(1, "dog", annotator="bo").annotator == "bo"
    named = _job(backend, "cy", n=3)
    assert named.skip(2).annotator == "cy"
    assert [a.annotator for a in named.store.annotations("job")] == ["from-env", "bo", "cy"]


def test_an_item_is_complete_with_its_answers(backend: Backend) -> None:
    ana, bo, cy = (_job(backend, who, n=4, answers_per_item=2) for who in ("ana", "bo", "cy"))
    ana.label(0, "cat")
    ana.refresh()
    assert ana.progress == (4, 0, 0, 4, 0)  # one answer of two: not labeled yet
    assert list(ana.pending().index) == [1, 2, 3]  # ana answered item 0
    bo.refresh()
    assert list(bo.pending().index) == [0, 1, 2, 3]
    bo.label(0, "dog")
    for job in (ana, bo, cy):
        job.refresh()
        assert job.progress == (4, 1, 0, 3, 0)
    assert list(cy.pending().index) == [1, 2, 3]  # item 0 has its two answers
    # a skip takes the skipper's slot; an item left with fewer answers counts as skipped
    cy.skip(1)
    bo.label(1, "cat")
    cy.refresh()
    assert cy.progress == (4, 1, 1, 2, 0)
    # answering again changes a person's answer, not the count
    ana.label(0, "bird")
    ana.refresh()
    assert ana.progress.labeled == 1
    assert {a.annotator: a.value for a in ana.store.annotations("job") if a.item == "img0.jpg"} == {
        "ana": "bird",
        "bo": "dog",
    }


def test_undo_is_per_person_and_reopens_the_item(backend: Backend) -> None:
    ana, bo = (_job(backend, who, n=3, answers_per_item=2) for who in ("ana", "bo"))
    ana.label(0, "cat")
    bo.label(0, "dog")
    bo.label(1, "dog")
    ana.refresh()
    assert ana.progress.labeled == 1
    undone = ana.undo()  # takes back ana's answer to item 0, not bo's later ones
    assert undone is not None and (undone.item, undone.annotator) == ("img0.jpg", "ana")
    assert ana.progress.labeled == 0
    assert list(ana.pending().index) == [0, 1, 2]
    bo.refresh()
    assert list(bo.pending().index) == [2]  # bo still holds item 0: his answer stands


def test_pending_and_feeds_leave_out_what_other_kernels_claimed(backend: Backend) -> None:
    ana, bo = (_job(backend, who, n=6) for who in ("ana", "bo"))
    ana_feed, bo_feed = ana.feed(), bo.feed()
    positions, dry = ana_feed.next_positions(3)
    assert (positions, dry) == ([0, 1, 2], False)
    assert list(bo.pending().index) == [3, 4, 5]
    assert list(ana.pending().index) == [0, 1, 2, 3, 4, 5]  # her own claims stay in her view
    assert bo_feed.next_positions(2) == ([3, 4], False)
    # ana answers item 0 and asks for more while holding 1 and 2: she gets 5, the last free one
    ana.label(0, "cat")
    assert ana_feed.next_positions(2, exclude=["img1.jpg", "img2.jpg"]) == ([5], True)
    assert bo_feed.next_positions(1, exclude=["img3.jpg", "img4.jpg"]) == ([], True)
    # ana's kernel dies; once its claims expire, bo gets her items, but not her answered one
    for claim in ana.store.claims("job"):
        assert claim.session == ana.queue.session or claim.annotator == "bo"
    ana.queue.claim(0, held=["img1.jpg", "img2.jpg", "img5.jpg"], ttl=0)
    bo.refresh()
    assert bo_feed.next_positions(3, exclude=["img3.jpg", "img4.jpg"]) == ([1, 2, 5], False)
    ana_feed.close()
    bo_feed.close()


def test_two_slots_hand_each_item_to_two_people(backend: Backend) -> None:
    jobs = [_job(backend, who, n=4, answers_per_item=2) for who in ("ana", "bo", "cy")]
    got = {job.annotator: job.queue.claim(2) for job in jobs}
    assert got == {"ana": [0, 1], "bo": [0, 1], "cy": [2, 3]}
    counts: dict[str, int] = {}
    for claim in jobs[0].store.claims("job"):
        counts[claim.item] = counts.get(claim.item, 0) + 1
    assert max(counts.values()) == 2


# -- the auto-labeler on the team store ---------------------------------------------------------


def test_the_auto_labeler_works_on_the_team_store(pg_database: str) -> None:
    df = synthetic_texts(200)
    job = Job("topics", df, TextClassification(TOPICS), store=pg_database)
    answer_drawn(job, df.gold, range(150))
    report = job.autolabel(background=False)  # a round in the kernel, saved in one transaction
    assert report is not None and report.round == 1 and report.auto_labeled > 0
    queue = job.store.queue("topics")
    assert len(queue) >= report.queued
    # another kernel sees the round: auto-labels, proposals and the people's queue
    other = Job("topics", df, TextClassification(TOPICS), store=pg_database, annotator="bo")
    assert other.progress == job.progress
    assert other.proposal(queue[0]) == job.proposal(queue[0])
    assert list(other.pending(5).index) == [job.position(k) for k in queue[:5]]
    # the background worker opens the store from its URL in its own process
    try:
        assert job.autolabel(every=1, interval=1) is None
        job.label(150, df.gold[150])
        wait_for(lambda: job.autolabel_status.get("round", 0) >= 2, "a round by the worker")
        assert job.autolabel_status["running"]
        assert job.store.latest_round("topics")[1]["human_answers"] == 151  # type: ignore[index]
        assert (Path(".nblabel") / "topics" / "topics.autolabel.log").is_file()
    finally:
        job.stop_autolabel()


def test_a_rerun_notebook_gets_its_items_back(backend: Backend) -> None:
    first = _job(backend, "ana", n=20)
    assert first.feed().next_positions(10) == (list(range(10)), False)
    again = _job(backend, "ana", n=20)  # the cell re-run, or the kernel restarted
    assert again.feed().next_positions(10) == (list(range(10)), False)
    assert list(again.pending(3).index) == [0, 1, 2]
    assert _job(backend, "bo", n=20).feed().next_positions(10) == (list(range(10, 20)), False)
