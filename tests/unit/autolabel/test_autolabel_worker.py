"""The background auto-labeler: rounds as answers arrive, stop, errors, SIGKILL mid-round (only
whole rounds in the store, and a new worker picks up every answer), and death with its parent."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import psutil
import pytest
from autolabel_helpers import LABELS, FailingEstimator, GatedLogistic, answer_drawn, synthetic_texts, wait_for

from nblabel import Job, TextClassification
from nblabel.store import SQLiteStore
from nblabel.store.ledger import ItemState, Ledger

HERE = Path(__file__).resolve().parents[1]  # tests/unit: autolabel_helpers, for the worker process


@pytest.fixture(autouse=True)
def _worker_finds_helpers(monkeypatch: pytest.MonkeyPatch) -> None:
    # The worker is a fresh interpreter: it must find the estimators in autolabel_helpers.
    path = os.environ.get("PYTHONPATH")
    monkeypatch.setenv("PYTHONPATH", str(HERE) + (os.pathsep + path if path else ""))


@pytest.fixture
def jobs() -> Iterator[list[Job]]:
    """Jobs whose workers are stopped after the test, whatever happened."""
    started: list[Job] = []
    yield started
    for job in started:
        job.stop_autolabel()


def make_job(jobs: list[Job], n: int = 200, name: str = "topics") -> tuple[Job, pd.DataFrame]:
    df = synthetic_texts(n)
    job = Job(name, df, TextClassification(LABELS))
    jobs.append(job)
    return job, df


def gone(pid: int) -> bool:
    """True when the process has exited (a zombie nobody reaped yet counts as exited)."""
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def latest(job: Job) -> dict[str, Any]:
    found = job.store.latest_round(job.attribute)
    return {} if found is None else found[1]


def worker_meta(job: Job) -> dict[str, Any]:
    raw = job.store.get_meta(f"autolabel:{job.attribute}:status")
    return json.loads(raw) if raw else {}


def assert_whole_rounds(store_path: str | Path, attribute: str, total: int) -> int:
    """The store holds only whole rounds: numbered 1..n, and the latest one's proposals, queue
    and auto-labels agree with its report. Returns the latest round's number."""
    with sqlite3.connect(store_path) as db:
        numbers = [r[0] for r in db.execute("SELECT round FROM rounds WHERE attribute = ?", (attribute,))]
    store = SQLiteStore(store_path)  # a connection of its own, as a new kernel would open
    try:
        number, report = store.latest_round(attribute)
        assert sorted(numbers) == list(range(1, number + 1))
        proposals, queue = store.proposals(attribute), store.queue(attribute)
        assert len(proposals) == total - report["human_answers"]  # one for every open item
        assert len(queue) == len(set(queue))
        assert set(queue) <= set(proposals)
        ledger = Ledger()
        ledger.apply(store.annotations(attribute))
        live_auto = {
            key: a.value
            for key in proposals
            for a in ledger.items.get(key, ItemState()).live
            if a.kind == "auto"
        }
        # Items left for people are queued; the queue may add random checks of auto-labels.
        assert set(proposals) - set(live_auto) <= set(queue)
        assert len(set(queue) - set(live_auto)) == report["queued"]
        assert len(live_auto) == report["auto_labeled"]
        assert all(value == proposals[key][0] for key, value in live_auto.items())
        return number
    finally:
        store.close()


# -- rounds in the background ---------------------------------------------------------------


def test_rounds_follow_answers_then_stop(jobs: list[Job]) -> None:
    job, df = make_job(jobs)
    assert job.autolabel(every=5, interval=1) is None
    answer_drawn(job, df.gold, range(12))
    wait_for(lambda: job.autolabel_status.get("round", 0) >= 1, "a first round")
    status = job.autolabel_status
    assert status["running"] and status["state"] in ("waiting for answers", "training")
    # Another kernel answers: the worker reads the store, not this kernel.
    other = Job("topics", df, TextClassification(LABELS))
    answer_drawn(other, df.gold, range(12, 150))
    wait_for(lambda: latest(job).get("human_answers") == 150, "a round with every answer")
    assert job.autolabel_status["round"] >= 2
    report = latest(job)
    assert report["auto_labeled"] > 0 and job.progress.auto == report["auto_labeled"]
    queue = job.store.queue(job.attribute)
    assert list(job.pending(10).index) == [job.position(k) for k in queue[:10]]
    assert_whole_rounds(job.store.path, job.attribute, len(df))

    pid = job.autolabel_status["pid"]
    job.stop_autolabel()
    status = job.autolabel_status
    assert (status["state"], status["running"]) == ("stopped", False)
    assert worker_meta(job)["state"] == "stopped"  # it stopped itself, not killed
    assert gone(pid)


def test_estimator_error_is_reported(jobs: list[Job]) -> None:
    job, df = make_job(jobs, n=40)
    answer_drawn(job, df.gold, range(12))
    job.autolabel(estimator=FailingEstimator(), every=1, interval=1)
    status = wait_for(
        lambda: (s := job.autolabel_status)["state"] == "error" and not s["running"] and s,
        "the worker to report its error and exit",
    )
    assert status["error"] == "RuntimeError: fit failed on purpose"
    assert "Traceback" in status["traceback"]
    assert job.store.latest_round(job.attribute) is None  # no round, not half of one
    assert job.progress.auto == 0


def test_sigkill_mid_round_leaves_whole_rounds_and_loses_no_answers(jobs: list[Job], tmp_path: Path) -> None:
    job, df = make_job(jobs)
    gate = tmp_path / "gate"
    gate.mkdir()
    answer_drawn(job, df.gold, range(150))
    job.autolabel(estimator=GatedLogistic(str(gate)), every=5, interval=1)
    wait_for(lambda: latest(job).get("human_answers") == 150, "round 1")
    assert assert_whole_rounds(job.store.path, job.attribute, len(df)) == 1
    assert latest(job)["auto_labeled"] > 0

    # Hold the next round inside the estimator's fit, and kill the worker there.
    (gate / "hold").touch()
    answer_drawn(job, df.gold, range(150, 160))
    wait_for((gate / "held").exists, "the worker to be held mid-round")
    pid = job.autolabel_status["pid"]
    os.kill(pid, signal.SIGKILL)
    wait_for(lambda: not job.autolabel_status["running"], "the worker to die")
    assert job.autolabel_status["state"] == "stopped"
    assert assert_whole_rounds(job.store.path, job.attribute, len(df)) == 1

    # A new worker gets every answer from the store; kill it again as soon as it trains.
    (gate / "hold").unlink()
    job.autolabel(estimator=GatedLogistic(str(gate)), every=5, interval=1)
    wait_for(lambda: latest(job).get("human_answers") == 160, "a round with the answers given meanwhile")
    answer_drawn(job, df.gold, range(160, 170))
    wait_for(
        lambda: worker_meta(job).get("answers") == 170 or latest(job).get("human_answers") == 170,
        "the worker to train on the new answers",
    )
    os.kill(job.autolabel_status["pid"], signal.SIGKILL)
    wait_for(lambda: not job.autolabel_status["running"], "the worker to die")
    number = assert_whole_rounds(job.store.path, job.attribute, len(df))
    assert number in (2, 3)

    # The kernel's view after a restart agrees with the store.
    again = Job("topics", df, TextClassification(LABELS))
    assert again.progress.auto == job.progress.auto
    assert again.autolabel_status["round"] == number


PARENT = """
import sys, threading
from autolabel_helpers import LABELS, answer_drawn, synthetic_texts
from nblabel import Job, TextClassification
df = synthetic_texts(60)
job = Job("orphan", df, TextClassification(LABELS))
answer_drawn(job, df.gold, range(12))
job.autolabel(every=5, interval=1)
print("started", flush=True)
threading.Event().wait()  # until killed
"""


def test_worker_exits_when_its_parent_dies(tmp_path: Path) -> None:
    parent = subprocess.Popen([sys.executable, "-c", PARENT], stdout=subprocess.PIPE, text=True)
    try:
        assert parent.stdout is not None and parent.stdout.readline() == "started\n"
        watcher = Job("orphan", synthetic_texts(60), TextClassification(LABELS))
        wait_for(lambda: watcher.store.latest_round("orphan"), "the worker's first round")
        worker = worker_meta(watcher)["pid"]
        assert psutil.Process(worker).ppid() == parent.pid
        assert not gone(worker)
    finally:
        parent.kill()
        parent.wait()
    wait_for(lambda: gone(worker), "the orphaned worker to exit", timeout=30)
    assert worker_meta(watcher)["state"] == "stopped"  # it noticed and stopped cleanly


def test_the_worker_does_not_inherit_what_a_local_dask_cluster_left_behind() -> None:
    # A real LocalCluster in a fresh interpreter (so this test process keeps its environment):
    # its nanny leaves its workers' settings in os.environ; nblabel's worker must not get them,
    # while the user's own variables still pass.
    script = """
import json, os
from distributed import LocalCluster
from nblabel.autolabel.worker import worker_environment
os.environ["NBLABEL_TEST_OWN"] = "kept"
with LocalCluster(processes=True, n_workers=1, threads_per_worker=1, dashboard_address=None):
    pass
env = worker_environment()
print(json.dumps({"left": os.environ.get("MALLOC_TRIM_THRESHOLD_"), "env": env}))
"""
    env = {k: v for k, v in os.environ.items() if k != "MALLOC_TRIM_THRESHOLD_"}
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True, env=env
    )
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["left"] == "65536"  # what Dask does: if it stops, the guard is no longer needed
    assert "MALLOC_TRIM_THRESHOLD_" not in out["env"]
    assert "__DASK_PARENT_PID" not in out["env"]
    assert out["env"]["NBLABEL_TEST_OWN"] == "kept"


def test_a_dask_marker_of_another_process_changes_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    from nblabel.autolabel.worker import worker_environment

    monkeypatch.setenv("__DASK_PARENT_PID", str(os.getpid() + 1))  # a parent's nanny, not ours
    monkeypatch.setenv("MALLOC_TRIM_THRESHOLD_", "65536")
    assert worker_environment() == dict(os.environ)


def test_the_worker_says_how_far_its_features_got(jobs: list[Job], tmp_path: Path) -> None:
    from autolabel_helpers import GatedFeaturizer

    from nblabel.autolabel.features import PROGRESS_CHUNK

    job, _ = make_job(jobs, n=200)
    gate = tmp_path / "gate"
    gate.mkdir()
    job.autolabel(featurizer=GatedFeaturizer(str(gate)), every=1)
    held = wait_for(
        lambda: (s := job.autolabel_status)["state"] == "computing features" and "done" in s and s,
        "the worker to report the first part of its features",
    )
    assert (held["done"], held["total"]) == (PROGRESS_CHUNK, 200)
    (gate / "release").touch()
    wait_for(lambda: job.autolabel_status["state"] == "waiting for answers", "the features to be done")
    assert "done" not in job.autolabel_status  # a new state says nothing of the features
