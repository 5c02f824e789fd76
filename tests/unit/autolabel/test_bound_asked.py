"""Why each item was asked, from the round to the stored answer: the round's random draws reach
the queue, the queue remembers how it handed each item out, ``Feed.apply`` stores it in the
answer's meta, and the next round's bound counts exactly the random draws."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from autolabel_helpers import LABELS, answer_drawn, synthetic_texts
from threadpoolctl import threadpool_limits

from nblabel import Job, TextClassification
from nblabel.autolabel.asked import ASKED, asked, queue_draws, report_draws, was_drawn


@pytest.fixture(autouse=True)
def _one_blas_thread() -> Iterator[None]:
    with threadpool_limits(limits=1):
        yield


def stored_asked(job: Job, key: str) -> dict:
    meta = job.current(key).meta
    assert meta is not None
    return meta[ASKED]


def test_a_queue_draw_reaches_the_stored_answer_and_the_next_round() -> None:
    df = synthetic_texts(90)
    job = Job("topics", df, TextClassification(LABELS))
    feed = job.feed()
    # Before any round the queue is the row order.
    first, _ = feed.next_positions(1)
    feed.apply({"type": "answer", "uid": "u-first", "key": job.keys[first[0]], "value": "food"})
    assert stored_asked(job, job.keys[first[0]]) == {"how": "order"}

    answer_drawn(job, df.gold, range(1, 30))
    report = job.autolabel(background=False, random_fraction=0.5)
    assert report.held_out_random == 29  # the row-order answer is not a draw
    latest = job.store.latest_round(job.attribute)
    assert latest is not None
    draws = report_draws(latest[1], job.store.queue(job.attribute))
    assert draws and all(0 < p <= 1 for p in draws.values())

    positions, _ = feed.next_positions(12)
    hows = []
    for n, position in enumerate(positions):
        key = job.keys[position]
        feed.apply({"type": "answer", "uid": f"u{n}", "key": key, "value": df.gold[position]})
        record = stored_asked(job, key)
        expected = asked("random", draws[key]) if key in draws else asked("uncertainty")
        assert record == expected
        hows.append(record["how"])
    assert {"random", "uncertainty"} <= set(hows)  # half the queue drawn at random

    # An item the queue did not hand out: the person went to it (back, or by key).
    other = next(p for p in range(90) if p not in positions and job.current(p) is None)
    feed.apply({"type": "skip", "uid": "u-skip", "key": job.keys[other]})
    skipped = [a for a in job.log.ledger.items[job.keys[other]].live if a.kind == "skip"]
    assert [a.meta for a in skipped] == [{ASKED: {"how": "person"}}]

    # Labeled in code: as the queue offered it (job.pending), else the person's own choice.
    offered = job.pending(1).index[0]
    job.label(offered, df.gold[offered])
    key = job.keys[offered]
    assert stored_asked(job, key) == (asked("random", draws[key]) if key in draws else asked("uncertainty"))
    hows.append(stored_asked(job, key)["how"])
    chosen = next(p for p in range(89, 0, -1) if job.current(p) is None and p != other)
    job.label(chosen, df.gold[chosen])
    assert stored_asked(job, job.keys[chosen]) == {"how": "person"}

    # The next round counts the answers to random draws, no others.
    again = job.autolabel(background=False, random_fraction=0.5)
    assert again.held_out_random == 29 + hows.count("random")
    feed.close()


def test_the_asked_record_and_the_report_protocol() -> None:
    assert asked("random", 0.25) == {"how": "random", "p": 0.25}
    assert asked("person") == {"how": "person"}
    with pytest.raises(ValueError, match="how must be one of"):
        asked("guess")
    with pytest.raises(ValueError, match="carries its probability"):
        asked("uncertainty", 0.5)
    with pytest.raises(ValueError, match="carries its probability"):
        asked("random")
    # Answers stored before answers had meta count as non-random.
    assert not was_drawn(None) and not was_drawn({}) and not was_drawn({ASKED: {"how": "uncertainty"}})
    assert was_drawn({ASKED: asked("random", 0.1), "timing": {}})
    # A round's queue by position and its draws, as the report carries them and the queue reads them.
    queue, random_draws = [7, 3, 9, 4], {3: 1 / 40, 4: 1 / 38}
    report = queue_draws(queue, random_draws)
    assert report == {"random_draws": [[1, 40], [3, 38]]}
    assert report_draws(report, ["g", "c", "i", "d"]) == {"c": 1 / 40, "d": 1 / 38}
    assert report_draws({}, ["g"]) == {}  # a round of an older release
