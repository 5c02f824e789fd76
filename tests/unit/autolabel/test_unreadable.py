"""Images the featurizer cannot read (missing, corrupt): the round leaves them to people and says
so, and a round with nothing readable to learn from fails naming an item and the cause (issue 24
finding: they used to become zero rows, trained on and proposed like any other)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from autolabel_helpers import wait_for

from nblabel import ImageClassification, Job, datasets
from nblabel.autolabel.asked import ASKED, asked
from nblabel.autolabel.features import UnreadableError

LABELS = datasets.image_labels()


@pytest.fixture
def drawings(tmp_path: Path) -> pd.DataFrame:
    """The 60 sample drawings, copied to a folder of the test's own."""
    images = datasets.images()
    folder = tmp_path / "drawings"
    folder.mkdir()
    return pd.DataFrame(
        {"source-ref": [str(shutil.copy(path, folder)) for path in images["source-ref"]], "gold": images.gold}
    )


def answer(job: Job, gold: Any, rows: range, n: int) -> None:
    """Answer ``rows`` as random draws of an ``n``-item queue (the same weights in every job)."""
    for i in rows:
        job.log.label(job.key(i), gold[i], meta={ASKED: asked("random", 1 / (n - i))})


def test_unreadable_images_are_left_to_people(drawings: pd.DataFrame, tmp_path: Path) -> None:
    (tmp_path / "corrupt.jpg").write_text("not a picture")
    bad = [str(tmp_path / "missing-1.jpg"), str(tmp_path / "corrupt.jpg"), str(tmp_path / "missing-2.jpg")]
    extra = pd.DataFrame({"source-ref": bad, "gold": LABELS[:3]})
    task = ImageClassification(LABELS)
    clean, job = (
        Job("clean", drawings, task),
        Job("broken", pd.concat([drawings, extra], ignore_index=True), task),
    )
    n = len(drawings)
    for each in (clean, job):
        answer(each, drawings.gold, range(50), n)
    job.log.label(job.key(n), LABELS[0])  # a person answered it before its file went missing

    expected = clean.autolabel(0.6, background=False)
    report = job.autolabel(0.6, background=False)
    assert expected is not None and report is not None and expected.auto_labeled > 0
    bad_keys = [job.key(n + i) for i in range(3)]
    # The rest auto-label as if the unreadable images were not there.
    for field in ("human_answers", "threshold", "auto_labeled", "queued", "estimated_accuracy"):
        assert getattr(report, field) == getattr(expected, field), field
    assert job.store.proposals(job.attribute) == clean.store.proposals(clean.attribute)
    assert list(job.auto_labeled().key) == list(clean.auto_labeled().key)
    assert job.store.queue(job.attribute) == clean.store.queue(clean.attribute)
    # ... and are reported, with why, not lost: the unanswered ones still wait for people.
    assert report.unfeaturized_count == 3 and list(report.unfeaturized) == bad_keys
    assert "file not found" in report.unfeaturized[bad_keys[0]]
    assert "cannot identify image file" in report.unfeaturized[bad_keys[1]]
    assert f"3 unreadable items left for people (first: {bad_keys[0]}: MediaError" in str(report)
    assert {job.position(bad_keys[1]), job.position(bad_keys[2])} <= set(job.pending(len(job.keys)).index)
    status = job.autolabel_status
    assert status["unreadable"]["count"] == 3
    assert list(status["unreadable"]["first"]) == bad_keys
    assert "3 unreadable items" in status["report"]


def test_a_round_with_nothing_readable_fails_and_says_why(drawings: pd.DataFrame, tmp_path: Path) -> None:
    missing = [str(tmp_path / f"gone-{i}.jpg") for i in range(4)]
    task = ImageClassification(LABELS)
    job = Job("gone", pd.DataFrame({"source-ref": missing}), task)
    with pytest.raises(UnreadableError) as caught:
        job.autolabel(background=False)
    assert str(caught.value).startswith(f"{missing[0]}: MediaError: ")
    assert "file not found" in str(caught.value)
    assert str(caught.value).endswith(
        "; 4 of 4 images unreadable; can the auto-labeler's process read these files?"
    )
    assert job.store.latest_round(job.attribute) is None  # no round, not half of one

    # Every answered image unreadable: nothing to train on, however many others can be read.
    df = pd.concat([pd.DataFrame({"source-ref": missing, "gold": LABELS[:4]}), drawings], ignore_index=True)
    job = Job("answered", df, task)
    answer(job, df.gold, range(4), len(df))
    with pytest.raises(UnreadableError, match=r"gone-0\.jpg: .*; all 4 answered images unreadable \(4 of 64"):
        job.autolabel(background=False)

    # The files appear: the next round reads them (unreadable items are not cached as such).
    for path in missing:
        shutil.copy(drawings["source-ref"][0], path)
    report = job.autolabel(background=False)
    assert report is not None and report.human_answers == 4 and report.unfeaturized_count == 0


def test_the_background_worker_reports_a_round_with_nothing_readable(tmp_path: Path) -> None:
    missing = [str(tmp_path / f"gone-{i}.jpg") for i in range(3)]
    job = Job("gone", pd.DataFrame({"source-ref": missing}), ImageClassification(LABELS))
    try:
        job.autolabel(every=1, interval=1)
        status = wait_for(
            lambda: (s := job.autolabel_status)["state"] == "error" and not s["running"] and s,
            "the worker to report the unreadable images and exit",
        )
    finally:
        job.stop_autolabel()
    assert status["error"].startswith(f"UnreadableError: {missing[0]}: MediaError: ")
    assert "3 of 3 images unreadable" in status["error"]
    assert job.store.latest_round(job.attribute) is None
