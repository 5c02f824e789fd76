"""The Dask scheduler gone: a round fails with a clear error and writes nothing, the background
auto-labeler goes on and, once a scheduler answers at the address again, its next round runs.

Its own module: the test starts (and stops) its own ``LocalCluster``.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path

import distributed as distributed_lib  # the dask extra is part of the test extra: never skipped
import pytest
from autolabel_helpers import LABELS, synthetic_texts, wait_for
from sklearn.feature_extraction.text import HashingVectorizer

from nblabel import Job, TextClassification
from nblabel.autolabel import distributed
from nblabel.autolabel.distributed import ClusterError

HERE = Path(__file__).resolve().parents[1]  # tests/unit: autolabel_helpers, for the worker process


#: A small per-item featurizer (hashed words) that plain pickle sends to the worker process.
words = HashingVectorizer(n_features=2**10, alternate_sign=False).transform


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def job(monkeypatch: pytest.MonkeyPatch) -> Iterator[Job]:
    path = os.environ.get("PYTHONPATH")  # the worker process needs the helpers
    monkeypatch.setenv("PYTHONPATH", str(HERE) + (os.pathsep + path if path else ""))
    df = synthetic_texts(200)
    job = Job("far", df, TextClassification(LABELS))
    for i in range(100):
        job.label(i, df.gold[i])
    yield job
    job.stop_autolabel()


def test_rounds_wait_for_the_scheduler_and_never_write_half(job: Job) -> None:
    address = f"tcp://127.0.0.1:{_free_port()}"
    with pytest.raises(ClusterError, match=f"cannot reach the Dask scheduler at {address}"):
        job.autolabel(featurizer=words, background=False, cluster=address)
    assert job.store.latest_round(job.attribute) is None

    job.autolabel(featurizer=words, cluster=address, every=1, interval=1)
    status = wait_for(
        lambda: (s := job.autolabel_status)["state"] in ("cluster unavailable", "error") and s, "a failed try"
    )
    assert status["state"] == "cluster unavailable", status
    assert address in status["error"] and status["running"]
    assert job.store.latest_round(job.attribute) is None

    port = int(address.rsplit(":", 1)[1])
    with distributed_lib.LocalCluster(
        processes=True, n_workers=2, threads_per_worker=1, dashboard_address=None, scheduler_port=port
    ):
        wait_for(
            lambda: (
                job.store.latest_round(job.attribute) is not None or job.autolabel_status["state"] == "error"
            ),
            "a round once the cluster is up",
            180,
        )
        assert job.store.latest_round(job.attribute) is not None, job.autolabel_status
    # The scheduler is gone again: more answers, no round, the worker keeps going.
    for i in range(100, 110):
        job.label(i, synthetic_texts(200).gold[i])
    wait_for(lambda: job.autolabel_status["state"] == "cluster unavailable", "the next round to fail", 120)
    assert job.autolabel_status["running"]
    assert job.store.latest_round(job.attribute)[1]["human_answers"] == 100


def test_a_cluster_without_workers_fails_the_round_instead_of_hanging(
    job: Job, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A scheduler whose workers all died (or never started): Dask would hold the round's tasks
    # until a worker joins. The round waits NO_WORKERS_GRACE seconds, then fails and writes nothing.
    monkeypatch.setattr(distributed, "NO_WORKERS_GRACE", 1.0)
    monkeypatch.setattr(distributed, "_POLL", 0.2)
    with (
        distributed_lib.LocalCluster(n_workers=0, processes=False, dashboard_address=None) as cluster,
        distributed_lib.Client(cluster) as client,
        pytest.raises(ClusterError, match="has had no workers for 1 s while it would featurize the items"),
    ):
        job.autolabel(featurizer=words, background=False, cluster=client)
    assert job.store.latest_round(job.attribute) is None
