"""The Dask scheduler gone: a round fails with a clear error and writes nothing, the background
auto-labeler goes on and, once a scheduler answers at the address again, its next round runs; a
box round whose scheduler goes away while its workers predict writes nothing either.

Its own module: each test starts (and stops) its own ``LocalCluster``.
"""

from __future__ import annotations

import os
import socket
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cloudpickle
import distributed as distributed_lib  # the dask extra is part of the test extra: never skipped
import pandas as pd
import pytest
from autolabel_helpers import LABELS, synthetic_texts, wait_for
from PIL import Image
from sklearn.feature_extraction.text import HashingVectorizer

from nblabel import BoundingBox, Job, TextClassification
from nblabel.autolabel import distributed
from nblabel.autolabel.distributed import ClusterError

cloudpickle.register_pickle_by_value(sys.modules[__name__])  # the Dask workers need not import it

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


class Held:
    """A detector without fit that boxes every image's corner; on a Dask worker it first writes
    ``<gate>/held`` and waits for ``<gate>/go``: a round held while the workers predict."""

    def __init__(self, gate: str) -> None:
        self.gate = gate

    def predict(self, images: list[str]) -> list[list[dict[str, Any]]]:
        try:
            distributed_lib.get_worker()
        except ValueError:  # the job's own process: the held-out images
            pass
        else:
            (Path(self.gate) / "held").touch()
            wait_for((Path(self.gate) / "go").exists, "the test to let the detector go", timeout=120)
        return [[{"class_id": 0, "left": 1, "top": 1, "width": 5, "height": 5, "score": 0.9}] for _ in images]


def test_a_scheduler_gone_mid_box_round_fails_it_and_writes_nothing(tmp_path: Path) -> None:
    refs = []
    for i in range(12):
        refs.append(str(tmp_path / f"{i}.png"))
        Image.new("RGB", (16, 12), (i * 20, 90, 90)).save(refs[-1])
    job = Job("held", pd.DataFrame({"source-ref": refs}), BoundingBox(["box"]), store=tmp_path / "s.db")
    for i in range(6):
        job.label(i, {"image_size": [{"width": 16, "height": 12, "depth": 3}], "annotations": []})
    gate = tmp_path / "gate"
    gate.mkdir()
    outcome: list[BaseException] = []

    def run(client: Any) -> None:
        try:
            job.autolabel(detector=Held(str(gate)), background=False, cluster=client)
        except BaseException as exc:
            outcome.append(exc)

    cluster = distributed_lib.LocalCluster(
        processes=True, n_workers=1, threads_per_worker=1, dashboard_address=None
    )
    with distributed_lib.Client(cluster) as client:
        thread = threading.Thread(target=run, args=(client,))
        thread.start()
        wait_for((gate / "held").exists, "a Dask worker predicting the waiting images")
        cluster.close()  # the scheduler (and its worker) gone mid-round
        (gate / "go").touch()
        thread.join(timeout=120)
    assert not thread.is_alive()
    assert [type(exc) for exc in outcome] == [ClusterError], outcome
    assert "no round was written" in str(outcome[0]) or "was lost" in str(outcome[0])
    assert job.store.latest_round(job.attribute) is None
    assert job.store.proposals(job.attribute) == {} and job.store.queue(job.attribute) == []
