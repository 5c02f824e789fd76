"""The auto-labeler on a real Dask cluster (``job.autolabel(cluster=...)``): the same round as in
the kernel (texts, and images in S3 on the moto server the S3 tests use), a Dask worker killed
mid-round, a featurizer failing on a few items, and workers without the S3 settings.

One ``LocalCluster`` with two worker processes serves the whole module (starting one is slow).
The featurizers here are pickled by value, so the Dask workers need not import this module.
"""

from __future__ import annotations

import functools
import os
import signal
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cloudpickle
import distributed as distributed_lib  # the dask extra is part of the test extra: never skipped
import numpy as np
import pandas as pd
import pytest
from autolabel_helpers import LABELS, answer_drawn, synthetic_texts, wait_for

from nblabel import ImageClassification, Job, TextClassification, datasets
from nblabel.autolabel import distributed
from nblabel.autolabel.features import UnreadableError

cloudpickle.register_pickle_by_value(sys.modules[__name__])

pytest_plugins = ["s3_fixtures"]


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    with (
        distributed_lib.LocalCluster(
            processes=True, n_workers=2, threads_per_worker=1, dashboard_address=None
        ) as cluster,
        distributed_lib.Client(cluster) as client,
    ):
        yield client


@pytest.fixture(autouse=True)
def _small_partitions(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(distributed, "PARTITION_SIZE", 64)  # several partitions per worker


def words(texts: list[Any]) -> Any:
    """A small per-item featurizer: hashed words, so fits stay quick on a loaded machine."""
    from sklearn.feature_extraction.text import HashingVectorizer

    return HashingVectorizer(n_features=2**10, alternate_sign=False).transform(texts)


def picky(texts: list[Any]) -> Any:
    """``words``, except that texts numbered 7, 17, 27, ... cannot be featurized."""
    for text in texts:
        if text.split(":")[0].endswith("7"):
            raise ValueError(f"cannot read text {text.split(':')[0]}")
    return words(texts)


def gated(texts: list[Any], gate: str) -> Any:
    """``words``, but the first call to take ``<gate>/hold`` writes ``<gate>/held-<pid>`` and
    waits for ``<gate>/go``: a Dask worker held mid-round, for the test to kill."""
    folder = Path(gate)
    try:
        (folder / "hold").rename(folder / "taken")
    except FileNotFoundError:
        return words(texts)
    (folder / f"held-{os.getpid()}").touch()
    wait_for((folder / "go").exists, "the test to let the featurizer go", timeout=120)
    return words(texts)


def _jobs(n: int = 300, answers: int = 150) -> tuple[Job, Job]:
    """Two jobs with the same texts and the same answers, in two stores."""
    df = synthetic_texts(n)
    here, there = Job("here", df, TextClassification(LABELS)), Job("there", df, TextClassification(LABELS))
    for job in (here, there):
        answer_drawn(job, df.gold, range(answers))
    return here, there


def _same_round(here: Job, there: Job) -> None:
    """Both jobs' latest rounds made the same decisions."""
    ours, theirs = here.store.latest_round(here.attribute)[1], there.store.latest_round(there.attribute)[1]
    for field in ("human_answers", "threshold", "auto_labeled", "queued", "estimated_accuracy"):
        assert ours[field] == theirs[field], field
    mine, other = here.store.proposals(here.attribute), there.store.proposals(there.attribute)
    assert mine.keys() == other.keys()
    for key, (value, confidence) in mine.items():
        assert other[key][0] == value
        assert other[key][1] == pytest.approx(confidence, abs=1e-3)  # stored to 4 decimals
    assert list(here.auto_labeled().key) == list(there.auto_labeled().key)
    assert here.store.queue(here.attribute) == there.store.queue(there.attribute)


def test_a_cluster_round_equals_the_kernels(client: Any) -> None:
    here, there = _jobs()
    report = here.autolabel(0.9, featurizer=words, background=False)
    assert report.auto_labeled > 0  # a round with something to compare
    assert (
        there.autolabel(0.9, featurizer=words, background=False, cluster=client).auto_labeled
        == report.auto_labeled
    )
    _same_round(here, there)
    files = sorted((there.store.local_dir / "features" / "partitions").glob("part-*.npz"))
    assert len(files) == 5  # 300 items in partitions of 64
    with np.load(files[0], allow_pickle=False) as archive:  # numbers only: no pickle inside
        assert archive["rows"].tolist() == list(range(64))
    # a second round through the scheduler's address reuses every partition file
    stamps = [f.stat().st_mtime_ns for f in files]
    there.autolabel(0.9, featurizer=words, background=False, cluster=client.scheduler.address)
    assert [f.stat().st_mtime_ns for f in files] == stamps


def test_a_worker_killed_mid_round_changes_nothing(client: Any, tmp_path: Path) -> None:
    here, there = _jobs()
    gate = tmp_path / "gate"
    gate.mkdir()
    featurizer = functools.partial(gated, gate=str(gate))
    here.autolabel(0.9, featurizer=featurizer, background=False)  # no gate yet: plain features
    (gate / "hold").touch()
    outcome: list[Any] = []
    thread = threading.Thread(
        target=lambda: outcome.append(
            there.autolabel(0.9, featurizer=featurizer, background=False, cluster=client)
        )
    )
    thread.start()
    held = wait_for(lambda: list(gate.glob("held-*")), "a Dask worker to be held mid-round")
    os.kill(int(held[0].name.split("-")[1]), signal.SIGKILL)
    (gate / "go").touch()
    thread.join(timeout=240)
    assert not thread.is_alive() and outcome, "the round did not complete after its worker died"
    _same_round(here, there)


def test_items_the_featurizer_fails_on_stay_with_people(client: Any) -> None:
    _, job = _jobs(n=200)
    report = job.autolabel(0.9, featurizer=picky, background=False, cluster=client)
    failed = {k for k, t in zip(job.keys, job.data.source, strict=True) if t.split(":")[0].endswith("7")}
    assert len(failed) == 20
    assert set(report.unfeaturized) == failed
    assert set(report.unfeaturized.values()) >= {"ValueError: cannot read text 107"}
    stored = job.store.latest_round(job.attribute)[1]
    assert set(stored["unfeaturized"]) == failed
    proposals = job.store.proposals(job.attribute)
    assert not failed & set(proposals)
    assert len(proposals) == 200 - 150 - len([k for k in failed if job.position(k) >= 150])
    assert failed - {job.key(i) for i in range(150)} <= {job.key(p) for p in job.pending(200).index}


def test_images_in_s3_are_read_by_the_workers(
    client: Any, bucket: str, s3_env: Any, s3_direct: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The workers read S3 as the kernel does: nblabel's reader, boto's chain of AWS settings in
    # their own environment, here the kernel's (the moto server's endpoint and keys), as a
    # LocalCluster started in a configured kernel has (set in place: a restart is slow).
    client.run(_configure_s3, _s3_settings())
    monkeypatch.setattr(distributed, "PARTITION_SIZE", 16)  # 8 partitions: both workers read
    images = datasets.images()
    refs = []
    for path in images["source-ref"]:
        s3_direct.put_object(Bucket=bucket, Key=Path(path).name, Body=Path(path).read_bytes())
        refs.append(f"s3://{bucket}/{Path(path).name}")
    # 60 drawings are too few for the bound: each is in the job twice
    df = pd.DataFrame({"source-ref": refs * 2, "gold": list(images.gold) * 2})
    task = ImageClassification(datasets.image_labels())
    here, there = Job("here", df, task), Job("there", df, task)
    for job in (here, there):
        answer_drawn(job, df.gold, range(80))
    there.autolabel(0.6, background=False, cluster=client)  # first: the workers fetch the images
    fetched = {seen.path for seen in s3_env.requests("GET", rf"^/{bucket}/")}
    assert fetched == {ref.replace("s3:/", "") for ref in refs}
    files = sorted((there.store.local_dir / "features" / "partitions").glob("part-*.npz"))
    assert len(files) == 8
    for file in files:  # every image read: no row carries the "unreadable" flag
        with np.load(file, allow_pickle=False) as archive:
            assert not archive["dense"][:, -1].any()
    report = here.autolabel(0.6, background=False)
    assert report.auto_labeled > 0  # a round with something to compare
    _same_round(here, there)


def _s3_settings() -> dict[str, str | None]:
    """The test process's S3 settings (``s3_env``'s), as environment variables."""
    return {
        name: value
        for name, value in os.environ.items()
        if name.startswith("AWS_") or name in ("NO_PROXY", "NBLABEL_CACHE_DIR")
    }


def _configure_s3(values: dict[str, str | None]) -> None:
    """Set (or, for None, remove) environment variables in a Dask worker, its media cache
    following ``NBLABEL_CACHE_DIR`` again (as the test process's does, see ``s3_env``)."""
    import nblabel.io.s3

    for name, value in values.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    nblabel.io.s3._media_cache = None


def test_partition_files_under_an_s3_prefix_the_user_names(
    client: Any, bucket: str, s3_env: Any, s3_direct: Any
) -> None:
    client.run(_configure_s3, _s3_settings())
    here, there = _jobs()
    here.autolabel(0.9, featurizer=words, background=False)
    prefix = f"s3://{bucket}/features/texts/"
    there.autolabel(0.9, featurizer=words, background=False, cluster=client, cluster_cache=prefix)
    _same_round(here, there)
    listed = s3_direct.list_objects_v2(Bucket=bucket, Prefix="features/texts/")["Contents"]
    assert sorted(o["Key"].rsplit("-", 1)[0] for o in listed) == ["features/texts/part"] * 5
    assert not (there.store.local_dir / "features" / "partitions").exists()
    # the next round (through the scheduler's address) reads the objects and writes none
    puts = len(s3_env.requests("PUT", rf"^/{bucket}/features/"))
    there.autolabel(
        0.9, featurizer=words, background=False, cluster=client.scheduler.address, cluster_cache=prefix
    )
    assert puts == 5 and len(s3_env.requests("PUT", rf"^/{bucket}/features/")) == puts
    with pytest.raises(ValueError, match="pass cluster= too"):
        there.autolabel(featurizer=words, background=False, cluster_cache=prefix)


def test_workers_without_the_s3_settings_fail_the_round_and_say_why(
    client: Any, bucket: str, s3_env: Any, s3_direct: Any
) -> None:
    # The workers get the moto server's settings but no credentials (set in place: a restart is
    # slow); the round fails and says so, instead of learning from zero rows.
    images = datasets.images()["source-ref"][:8]
    refs = []
    for path in images:
        s3_direct.put_object(Bucket=bucket, Key=Path(path).name, Body=Path(path).read_bytes())
        refs.append(f"s3://{bucket}/{Path(path).name}")
    settings = _s3_settings()
    credentials = {name: settings.pop(name) for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")}
    client.run(_configure_s3, {**settings, **dict.fromkeys(credentials)})
    job = Job("lost", pd.DataFrame({"source-ref": refs}), ImageClassification(datasets.image_labels()))
    with pytest.raises(UnreadableError) as caught:
        job.autolabel(background=False, cluster=client)
    assert str(caught.value).startswith(f"{refs[0]}: MediaError: cannot fetch from S3: no AWS credentials")
    assert str(caught.value).endswith(
        "; 8 of 8 images unreadable; do the Dask workers have the S3 settings (AWS_* variables, a "
        "config file or a role)?"
    )
    assert job.store.latest_round(job.attribute) is None
    # Given the credentials, the next round reads them: the partition file kept no verdict.
    client.run(_configure_s3, credentials)
    report = job.autolabel(background=False, cluster=client)
    assert report is not None and report.unfeaturized_count == 0


# -- entity, box and mask rounds: fitted here, their open items predicted on the workers --------


def _same_proposals(here: Job, there: Job) -> None:
    """Both jobs' latest rounds: the same report, queue and auto-labels, and the same proposals
    (confidences within float tolerance)."""
    ours, theirs = here.store.latest_round(here.attribute)[1], there.store.latest_round(there.attribute)[1]
    for field in ("human_answers", "held_out", "threshold", "auto_labeled", "queued", "unfeaturized"):
        assert ours.get(field) == theirs.get(field), field
    assert ours["estimated_accuracy"] == pytest.approx(theirs["estimated_accuracy"], nan_ok=True)
    assert here.store.queue(here.attribute) == there.store.queue(there.attribute)
    assert list(here.auto_labeled().key) == list(there.auto_labeled().key)
    mine, other = here.store.proposals(here.attribute), there.store.proposals(there.attribute)
    assert mine.keys() == other.keys() and mine
    for key, (value, confidence) in mine.items():
        assert other[key][1] == pytest.approx(confidence, abs=1e-4), key
        if isinstance(value, dict) and "confidence_map" in value:  # a mask: compare the pixels
            from nblabel.autolabel.mask_worker import read_proposal

            for a, b in zip(read_proposal(value), read_proposal(other[key][0]), strict=True):
                np.testing.assert_array_equal(a, b)
            assert value["sha1"] == other[key][0]["sha1"]
        else:
            assert other[key][0] == value, key


def test_an_entity_round_on_the_cluster_in_the_background_equals_the_kernels(client: Any) -> None:
    from entity_helpers import LABELS as ENTITY_LABELS
    from entity_helpers import synthetic_docs

    from nblabel import NamedEntities

    df = synthetic_docs(150, seed=5)
    here, there = (Job(name, df, NamedEntities(ENTITY_LABELS), attribute="ner") for name in ("here", "there"))
    for job in (here, there):
        for i in range(20):
            job.label(i, df.gold[i])
    assert here.autolabel(background=False).held_out == 20
    # The background worker (its own process) reaches the cluster by the scheduler's address;
    # 130 open texts in partitions of 64: three partitions.
    there.autolabel(cluster=client.scheduler.address, every=1, interval=0.5)
    try:
        wait_for(
            lambda: there.store.latest_round("ner") is not None or there.autolabel_status["state"] == "error",
            "the worker's round on the cluster",
            120,
        )
    finally:
        there.stop_autolabel()
    assert there.store.latest_round("ner") is not None, there.autolabel_status
    _same_proposals(here, there)


def _box_images(folder: Path, n: int) -> tuple[list[str], list[dict[str, Any]]]:
    """Images with a bright box (and every third a small dark one) where their answers say."""
    from PIL import Image, ImageDraw

    folder.mkdir()
    refs, answers = [], []
    for i in range(n):
        boxes = [{"class_id": 0, "left": 8 + i % 7 * 3, "top": 6 + i % 5 * 2, "width": 24, "height": 18}]
        if i % 3 == 0:
            boxes.append({"class_id": 1, "left": 44, "top": 30, "width": 8, "height": 8})
        image = Image.new("RGB", (64, 48), (60, 80, 60))
        draw = ImageDraw.Draw(image)
        for b, colour in zip(boxes, [(240, 220, 40), (10, 10, 90)], strict=False):
            draw.rectangle([b["left"], b["top"], b["left"] + b["width"], b["top"] + b["height"]], fill=colour)
        path = folder / f"box{i:02d}.png"
        image.save(path)
        refs.append(str(path))
        answers.append({"image_size": [{"width": 64, "height": 48, "depth": 3}], "annotations": boxes})
    return refs, answers


def test_a_box_round_on_the_cluster_equals_the_kernels(
    client: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from nblabel import BoundingBox
    from nblabel.autolabel.detector import BoxDetector

    monkeypatch.setattr(distributed, "IMAGE_PARTITION_SIZE", 4)  # 5 partitions of waiting images
    refs, answers = _box_images(tmp_path / "img", 32)
    df = pd.DataFrame({"source-ref": refs})
    jobs = [
        Job(name, df, BoundingBox(["box", "dot"]), store=tmp_path / f"{name}.db")
        for name in ("here", "there")
    ]
    for job in jobs:
        for i in range(12):
            job.label(i, answers[i])
    here, there = jobs
    report = here.autolabel(
        detector=BoxDetector("pixels", cache_dir=str(tmp_path / "here-maps")), background=False
    )
    assert report.held_out == 12 and any(
        value["annotations"] for value, _ in here.store.proposals(here.attribute).values()
    )
    maps = tmp_path / "there-maps"
    there.autolabel(detector=BoxDetector("pixels", cache_dir=str(maps)), background=False, cluster=client)
    _same_proposals(here, there)
    # The workers wrote the 20 waiting images' maps into the detector's cache (the kernel had
    # the answered ones' in memory from the first job's round)
    assert len(list(maps.glob("boxmaps-*/*.npz"))) == 20


def test_a_mask_round_on_the_cluster_equals_the_kernels(
    client: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    bucket: str,
    s3_env: Any,
    s3_direct: Any,
) -> None:
    # The pixel features go under the s3:// prefix cluster_cache= names: the workers write the
    # open images', the kernel the answered images' (with the settings of their own environment).
    client.run(_configure_s3, _s3_settings())
    from PIL import Image
    from sklearn.ensemble import RandomForestClassifier

    from nblabel import SemanticSegmentation
    from nblabel.autolabel.mask_loop import UNKNOWN
    from nblabel.autolabel.pixels import PixelFeatures

    monkeypatch.setattr(distributed, "IMAGE_PARTITION_SIZE", 2)
    tiny = Path(__file__).resolve().parents[2] / "data" / "dubai-tiny"
    tiles = sorted(str(p) for p in tiny.glob("*.png") if not p.name.endswith(".mask.png"))
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"not a PNG")  # unreadable: no proposal, left to people, in the report
    refs = [*tiles, *tiles[:4], str(broken), *tiles[4:]]
    fast = PixelFeatures(side=64, deep=False, sigma_max=4.0)
    task = SemanticSegmentation(["Building", "Land", "Road", "Vegetation", "Water", "Unlabeled"])
    jobs, reports = [], []
    prefix = f"s3://{bucket}/cache/"
    for name, cluster, cache in (("here", None, None), ("there", client, prefix)):
        (tmp_path / name).mkdir()
        job = Job(name, pd.DataFrame({"source-ref": refs}), task, store=tmp_path / name / "s.db")
        for p in range(5):
            mask = np.asarray(Image.open(Path(refs[p]).with_suffix(".mask.png")))
            job.label(p, np.where(mask == UNKNOWN, 0, mask))
        forest = RandomForestClassifier(n_estimators=5, max_depth=6, random_state=0)
        jobs.append(job)
        reports.append(
            job.autolabel(
                featurizer=fast,
                estimator=forest,
                background=False,
                cluster=cluster,
                cluster_cache=cache,
                target_miou=0.3,
            )
        )
    here, there = jobs
    assert reports[0].held_out == 5 and reports[0].queued + reports[0].auto_labeled == len(refs) - 5
    assert set(reports[1].unfeaturized) == {here.key(10)}  # the broken file
    _same_proposals(here, there)
    assert here.key(10) not in there.store.proposals(there.attribute)
    listed = s3_direct.list_objects_v2(Bucket=bucket, Prefix="cache/")["Contents"]
    assert len({o["Key"] for o in listed if o["Key"].startswith("cache/pixels-")}) == 6  # the tiles
    assert list((here.store.local_dir / "features").glob("pixels-*"))
    assert not list((there.store.local_dir / "features").glob("pixels-*"))
