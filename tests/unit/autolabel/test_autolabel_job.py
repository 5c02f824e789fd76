"""Auto-labeling through a Job: rounds in the kernel, auto-labels in the manifest, review,
precedence of people's answers, restart, featurizers and their cache."""

from __future__ import annotations

import functools
import math
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import pytest
from autolabel_helpers import LABELS, answer_drawn, synthetic_texts
from sklearn.feature_extraction.text import HashingVectorizer
from sklearn.naive_bayes import MultinomialNB
from sklearn.svm import LinearSVC
from threadpoolctl import threadpool_info, threadpool_limits

from nblabel import ImageClassification, Job, TextClassification, datasets
from nblabel.autolabel.features import cached_features
from nblabel.store import Annotation


def text_job(n: int = 300, answered: int = 120, name: str = "topics", **kw) -> tuple[Job, pd.DataFrame]:
    df = synthetic_texts(n, **kw)
    multi = kw.get("multi", False)
    job = Job(name, df, TextClassification(LABELS, multi_label=multi))
    answer_drawn(job, df.gold, range(answered))
    return job, df


def autos(job: Job) -> dict[str, tuple]:
    return {row.key: (row.value, row.confidence) for row in job.auto_labeled().itertuples()}


# -- a round in the kernel --------------------------------------------------------------------


def test_round_auto_labels_into_the_manifest() -> None:
    job, df = text_job()
    report = job.autolabel(background=False)
    assert report is not None
    assert (report.round, report.human_answers, report.held_out, report.target) == (1, 120, 120, 0.95)
    assert math.isfinite(report.threshold) and report.lower_bound >= 0.95
    assert report.auto_labeled > 0 and report.auto_labeled + report.queued == 180
    assert "items auto-labeled" in str(report)

    p = job.progress
    assert (p.auto, p.labeled, p.remaining) == (report.auto_labeled, 120 + p.auto, 180 - p.auto)
    out = job.to_dataframe()
    meta = out["topics-metadata"]
    auto_rows = [i for i in range(300) if isinstance(meta[i], dict) and meta[i]["human-annotated"] == "no"]
    assert len(auto_rows) == report.auto_labeled
    assert sum(pd.isna(m) for m in meta) == report.queued  # left for people: no label yet
    assert all(meta[i]["human-annotated"] == "yes" for i in range(120))
    for i in auto_rows:
        assert 0 < meta[i]["confidence"] <= 1
        assert out["topics"][i] == LABELS.index(meta[i]["class-name"])
        assert meta[i]["type"] == "groundtruth/text-classification"
    assert np.mean([meta[i]["class-name"] == df.gold[i] for i in auto_rows]) >= 0.95
    assert all(job.current(i).annotator.startswith("auto:") for i in auto_rows)

    reviewed = job.auto_labeled()
    assert list(reviewed.columns) == ["position", "key", "value", "confidence", "uid"]
    assert sorted(reviewed.position) == auto_rows
    assert reviewed.confidence.is_monotonic_increasing
    assert reviewed.confidence.min() >= round(report.threshold, 4) - 1e-9

    status = job.autolabel_status
    assert (status["round"], status["state"], status["running"]) == (1, "idle", False)  # a round ran
    assert status["threshold"] == pytest.approx(report.threshold)


def test_proposals_and_queue_follow_the_round() -> None:
    job, _ = text_job()
    report = job.autolabel(background=False)
    queue = job.store.queue(job.attribute)
    unlabeled = [k for k in queue if job.current(k) is None]
    assert len(unlabeled) == report.queued  # the rest are random checks of auto-labels
    assert all(job.current(k).kind == "auto" for k in queue if job.current(k) is not None)
    for key in queue:
        value, confidence = job.proposal(key)
        assert value in LABELS and 0 < confidence <= 1
    assert job.proposal(0) is None  # a person answered it: nothing to propose
    assert list(job.pending(15).index) == [job.position(k) for k in queue[:15]]
    job.label(queue[0], job.proposal(queue[0])[0])
    assert list(job.pending(15).index) == [job.position(k) for k in queue[1:16]]


def test_a_later_human_answer_wins() -> None:
    job, _ = text_job()
    job.autolabel(background=False)
    key, (value, _) = next(iter(autos(job).items()))
    before = job.progress
    other = next(label for label in LABELS if label != value)
    job.label(key, other)
    assert job.current(key).kind == "human" and job.current(key).value == other
    assert key not in autos(job)
    assert (job.progress.auto, job.progress.labeled) == (before.auto - 1, before.labeled)
    meta = job.to_dataframe()["topics-metadata"][job.position(key)]
    assert (meta["class-name"], meta["human-annotated"]) == (other, "yes")
    # An auto-label logged after the person's answer does not displace it either.
    job.record(Annotation(key, job.attribute, "auto:test", "auto", value, 0.99))
    assert job.current(key).kind == "human" and job.current(key).value == other
    report = job.autolabel(background=False)
    assert report.human_answers == 121
    assert job.current(key).value == other


def test_reject_sends_items_back_for_good() -> None:
    job, _ = text_job()
    job.autolabel(background=False)
    rejected = list(autos(job))[:3]
    before = job.progress
    assert job.reject(rejected) == 3
    assert job.reject(rejected) == 0  # nothing left to reject
    assert (job.progress.auto, job.progress.labeled) == (before.auto - 3, before.labeled - 3)
    pending = set(job.pending(300).index)
    assert {job.position(k) for k in rejected} <= pending
    report = job.autolabel(background=False)
    assert report.human_answers == 120  # a rejection is not an answer
    queue = job.store.queue(job.attribute)
    for key in rejected:
        assert job.current(key) is None and key in queue
        assert job.proposal(key) is not None  # still proposed, for the person to confirm
    assert job.progress.auto == before.auto - 3


def test_accept_records_verified_answers() -> None:
    job, _ = text_job()
    job.autolabel(background=False)
    current = autos(job)
    first = list(current)[:2]
    before = job.progress
    assert job.accept([*first, 0]) == 2  # item 0 has a person's answer: left alone
    for key in first:
        a = job.current(key)
        assert (a.kind, a.annotator, a.value) == ("verified", "ana", current[key][0])
        meta = job.to_dataframe()["topics-metadata"][job.position(key)]
        assert meta["human-annotated"] == "yes"
    assert (job.progress.auto, job.progress.labeled) == (before.auto - 2, before.labeled)
    cut = sorted(c for _, c in current.values())[-10]
    expected = sum(c >= cut for k, (_, c) in current.items() if k not in first)
    assert job.accept_above(cut) == expected
    assert job.progress.auto == before.auto - 2 - expected
    assert job.autolabel(background=False).human_answers == 120 + 2 + expected


def test_skipped_items_are_not_auto_labeled() -> None:
    job, _ = text_job()
    skipped = [job.keys[i] for i in range(120, 130)]
    for key in skipped:
        job.skip(key)
    report = job.autolabel(background=False)
    assert report.auto_labeled + report.queued == 170
    queue = set(job.store.queue(job.attribute))
    for key in skipped:
        assert job.current(key) is None and key not in queue and job.proposal(key) is None
    assert job.progress.skipped == 10


def test_restart_sees_auto_labels_proposals_and_queue() -> None:
    job, df = text_job()
    job.autolabel(background=False)
    job.reject(list(autos(job))[:1])
    again = Job("topics", df, TextClassification(LABELS))
    assert again.progress == job.progress
    pd.testing.assert_frame_equal(again.auto_labeled(), job.auto_labeled())
    assert all(again.proposal(k) == job.proposal(k) for k in job.keys)
    assert list(again.pending(50).index) == list(job.pending(50).index)
    assert again.autolabel_status["round"] == 1
    pd.testing.assert_frame_equal(again.to_dataframe(), job.to_dataframe())
    assert again.autolabel(background=False).round == 2


# -- estimators and featurizers ---------------------------------------------------------------

CALLS: list[int] = []


def hashed_words(texts: list[str]) -> object:
    CALLS.append(len(texts))
    return HashingVectorizer(n_features=2**10, alternate_sign=False).transform(texts)


def test_custom_estimator_and_featurizer_cached_next_to_the_store() -> None:
    CALLS.clear()
    job, _ = text_job()
    report = job.autolabel(estimator=MultinomialNB(), featurizer=hashed_words, background=False)
    assert CALLS == [300]
    assert report.auto_labeled > 0
    assert job.current(job.auto_labeled().key[0]).annotator == "auto:MultinomialNB"
    cache = Path(".nblabel") / "features"
    assert len(list(cache.glob("features-*.npz"))) == 1
    job.label(200, "food")
    job.autolabel(estimator=MultinomialNB(), featurizer=hashed_words, background=False)
    restarted = Job("topics", job.data, TextClassification(LABELS))
    assert restarted.autolabel(featurizer=hashed_words, background=False).round == 3
    assert CALLS == [300]  # computed once, then read from the cache
    job.autolabel(background=False)  # the default featurizer has its own cache file
    assert len(list(cache.glob("features-*.npz"))) == 2
    assert not list(cache.glob("*.tmp*"))


def _blas_threads() -> int:
    return max(info["num_threads"] for info in threadpool_info() if info["user_api"] == "blas")


class ThreadsSeen(MultinomialNB):
    """Notes the BLAS threads it is fitted with."""

    seen: ClassVar[list[int]] = []

    def fit(self, X: Any, y: Any) -> ThreadsSeen:
        ThreadsSeen.seen.append(_blas_threads())
        return super().fit(X, y)


def test_a_round_in_the_kernel_fits_with_one_blas_thread() -> None:
    job, _ = text_job()
    ThreadsSeen.seen.clear()
    with threadpool_limits(limits=2, user_api="blas"):
        assert _blas_threads() == 2
        job.autolabel(estimator=ThreadsSeen(), featurizer=hashed_words, background=False)
        assert _blas_threads() == 2  # the kernel's own setting is back after the round
    assert ThreadsSeen.seen and set(ThreadsSeen.seen) == {1}  # cross-fitting and the final fit


def test_cache_tells_featurizers_apart(tmp_path: Path) -> None:
    sources = ["a", "b", "c"]
    assert cached_features(sources, lambda s: np.zeros((len(s), 1)), tmp_path).sum() == 0
    assert cached_features(sources, lambda s: np.ones((len(s), 1)), tmp_path).sum() == 3

    def scaled(s: list[str], factor: float) -> np.ndarray:
        return np.full((len(s), 1), factor)

    assert cached_features(sources, functools.partial(scaled, factor=2.0), tmp_path).sum() == 6
    assert cached_features(sources, functools.partial(scaled, factor=5.0), tmp_path).sum() == 15
    assert cached_features(sources[:2], functools.partial(scaled, factor=5.0), tmp_path).sum() == 10


class LocalEstimator(MultinomialNB):
    pass


def test_background_refuses_what_a_worker_cannot_load(monkeypatch: pytest.MonkeyPatch) -> None:
    job, _ = text_job(n=30, answered=0)
    with pytest.raises(TypeError, match=r"lambda.*background=False"):
        job.autolabel(featurizer=lambda texts: hashed_words(texts))
    monkeypatch.setattr(LocalEstimator, "__module__", "__main__")  # as if defined in the notebook
    with pytest.raises(TypeError, match="defined in the notebook"):
        job.autolabel(estimator=LocalEstimator())
    assert job.autolabel_status["running"] is False and job.autolabel_status["state"] == "not started"
    with pytest.raises(TypeError, match="predict_proba"):
        job.autolabel(estimator=LinearSVC(), background=False)
    with pytest.raises(ValueError, match="target_accuracy"):
        job.autolabel(target_accuracy=1.0, background=False)
    # In the kernel a lambda is fine.
    report = job.autolabel(featurizer=lambda texts: hashed_words(texts), background=False)
    assert report.human_answers == 0 and report.queued == 30


# -- other tasks ------------------------------------------------------------------------------


def test_multi_label_text_job() -> None:
    job, df = text_job(answered=150, multi=True, name="tags")
    report = job.autolabel(background=False)
    assert report.human_answers == 150 and report.auto_labeled + report.queued == 150
    assert report.auto_labeled > 0 and report.queued > 0
    out = job.to_dataframe()
    right = []
    for i in range(150, 300):
        value, confidence = job.proposal(i)  # every open item gets a proposal: a list of classes
        assert isinstance(value, list) and set(value) <= set(LABELS) and 0 < confidence <= 1
        current = job.current(i)
        if current is None:
            continue
        assert current.kind == "auto" and current.value == value
        right.append(value == df.gold[i])
        meta = out["tags-metadata"][i]
        assert meta["human-annotated"] == "no"
        assert meta["type"] == "groundtruth/text-classification-multilabel"
        assert out["tags"][i] == [LABELS.index(c) for c in value]
        assert all(0 < c <= 1 for c in meta["confidence-map"].values())
    assert len(right) == report.auto_labeled and np.mean(right) >= 0.95


def test_image_job_round() -> None:
    df = datasets.images()
    job = Job("clipart", df, ImageClassification(datasets.image_labels()))
    answer_drawn(job, df.gold, range(40))
    report = job.autolabel(background=False)
    assert (report.human_answers, report.held_out) == (40, 40)
    assert report.auto_labeled + report.queued == 20
    assert len(job.pending(60)) == report.queued
    for i in range(40, 60):
        value, confidence = job.proposal(i)
        assert value in datasets.image_labels() and 0 < confidence <= 1
    assert report.auto_labeled == 0 or report.lower_bound >= 0.95
    if report.auto_labeled == 0:  # 40 answers cannot clear the bound, and 20 items left cannot
        assert "this job is too small for 95% at the bound" in str(report)
    assert list((Path(".nblabel") / "features").glob("features-*.npz"))


def test_status_after_a_stopped_worker_and_a_foreground_round_says_the_loop_ran() -> None:
    job, _ = text_job(n=40, answered=12)
    assert job.autolabel_status["state"] == "not started"
    job.autolabel()
    job.stop_autolabel()  # at once: the worker may not have said anything yet
    job.autolabel(background=False)
    status = job.autolabel_status
    assert status["running"] is False
    assert status["state"] in ("stopped", "idle")  # "stopped" when the worker got to say so
    assert status["round"] >= 1 and status["report"].startswith(f"round {status['round']}:")
