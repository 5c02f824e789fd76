"""Job.export: Ground Truth's output layout, locally and on S3 (a real server, injected faults).

The bird job reproduces a real GT job (tests/data/gt-bird-job: 302 images, consolidated labels):
exported, its output manifest is GT's file byte for byte. Worker responses follow GT's files
(gt-formats.md §5.5); a failed export leaves no object and no open multipart upload behind.
"""

from __future__ import annotations

import io
import json
import os
import re
from pathlib import Path
from typing import Any

import pytest
from s3_helpers import keys, open_uploads

import nblabel
from nblabel.formats.gt import MANIFEST
from nblabel.io import s3 as s3io
from nblabel.io.folders import ExportError, _Local
from nblabel.io.s3 import S3ObjectExists
from nblabel.store import Annotation

pytest_plugins = ["s3_fixtures"]

BIRD_JOB = Path(__file__).resolve().parents[2] / "data" / "gt-bird-job" / "output.manifest"
ATTR = "birds-open-images-clone"
WORKERS = "annotations/worker-response/iteration-1"
CONSOLIDATION = "annotations/consolidated-annotation/consolidation-response/iteration-1"


def _bird_job(tmp_path: Path) -> nblabel.Job:
    """GT's bird job rebuilt in nblabel: its consolidated labels, plus a few people's answers."""
    gt = nblabel.read_manifest(BIRD_JOB)
    names = {m["class-name"]: v for v, m in zip(gt[ATTR], gt[f"{ATTR}-metadata"], strict=True)}
    labels = [name for name, _ in sorted(names.items(), key=lambda item: item[1])]
    job = nblabel.Job(
        ATTR, gt[["source-ref"]], nblabel.ImageClassification(labels), store=tmp_path / "birds.sqlite"
    )
    key = job.key(0)
    for who, label, second in [("alice", "Canary", 11), ("bob", "Canary", 12), ("carol", "Falcon", 13)]:
        job.record(Annotation(key, ATTR, who, "human", label, created=f"2019-04-18T16:11:{second}.500000"))
    changed = job.record(
        Annotation(key, ATTR, "carol", "human", "Canary", created="2019-04-18T16:11:20.250000")
    )
    undone = job.record(
        Annotation(key, ATTR, "dave", "human", "Sparrow", created="2019-04-18T16:11:30.000000")
    )
    job.retract(undone.uid, annotator="dave")
    job.record(Annotation(job.key(1), ATTR, "alice", "human", "Falcon", created="2019-04-18T16:20:00.000001"))
    for position, meta in enumerate(gt[f"{ATTR}-metadata"]):  # GT's consolidated answers come last
        job.record(
            Annotation(
                job.key(position),
                ATTR,
                "gt-consolidation",
                "consolidated",
                meta["class-name"],
                meta["confidence"],
                created=meta["creation-date"],
            )
        )
    assert changed.value == "Canary"
    return job


def _check_layout(read: Any, manifest_bytes: bytes) -> None:
    """The files of the bird job's export, read by ``read(relative path)``."""
    assert manifest_bytes == BIRD_JOB.read_bytes()  # GT's output manifest, byte for byte
    item0 = read(f"{WORKERS}/0/2019-04-18_16:11:20.json")
    assert item0 == (
        b'{"answers":['
        b'{"answerContent":{"crowd-image-classifier":{"label":"Canary"}},'
        b'"submissionTime":"2019-04-18T16:11:11.500Z","workerId":"alice"},'
        b'{"answerContent":{"crowd-image-classifier":{"label":"Canary"}},'
        b'"submissionTime":"2019-04-18T16:11:12.500Z","workerId":"bob"},'
        b'{"answerContent":{"crowd-image-classifier":{"label":"Canary"}},'
        b'"submissionTime":"2019-04-18T16:11:20.250Z","workerId":"carol"}]}'
    )
    item1 = json.loads(read(f"{WORKERS}/1/2019-04-18_16:20:00.json"))
    assert item1["answers"][0]["answerContent"] == {"crowd-image-classifier": {"label": "Falcon"}}
    gt_lines = [json.loads(line) for line in BIRD_JOB.read_text().splitlines()]
    latest = max(line[f"{ATTR}-metadata"]["creation-date"] for line in gt_lines)
    stamp = latest[:10] + "_" + latest[11:19]
    consolidation = json.loads(read(f"{CONSOLIDATION}/{stamp}.json"))
    assert len(consolidation) == 302
    assert consolidation[5] == {
        "datasetObjectId": "5",
        "consolidatedAnnotation": {
            "content": {ATTR: gt_lines[5][ATTR], f"{ATTR}-metadata": gt_lines[5][f"{ATTR}-metadata"]}
        },
    }


def _files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def test_local_export_is_gt_layout(tmp_path: Path) -> None:
    job = _bird_job(tmp_path)
    result = job.export(tmp_path / "out")
    root = tmp_path / "out" / ATTR
    assert result.destination == f"{root}{os.sep}" and result.manifest == str(root / MANIFEST)
    assert (result.items, result.labeled, result.worker_responses, result.files) == (302, 302, 2, 4)
    assert _files(root) == sorted(
        [
            MANIFEST,
            f"{WORKERS}/0/2019-04-18_16:11:20.json",
            f"{WORKERS}/1/2019-04-18_16:20:00.json",
            f"{CONSOLIDATION}/2019-04-18_16:43:48.json",
        ]
    )
    _check_layout(lambda rel: (root / rel).read_bytes(), (root / MANIFEST).read_bytes())
    assert sorted(os.listdir(tmp_path / "out")) == [ATTR]  # no staging folder left


def test_s3_export_is_gt_layout_and_gt_bytes(s3_env, bucket: str, s3_direct, tmp_path: Path) -> None:
    job = _bird_job(tmp_path)
    result = job.export(f"s3://{bucket}/labeling/")
    prefix = f"labeling/{ATTR}/"
    assert result.destination == f"s3://{bucket}/{prefix}"
    assert result.manifest == f"s3://{bucket}/{prefix}{MANIFEST}"

    def read(rel: str) -> bytes:
        return s3_direct.get_object(Bucket=bucket, Key=prefix + rel)["Body"].read()

    assert keys(s3_direct, bucket) == sorted(prefix + rel for rel in _files_of_local_export(job, tmp_path))
    _check_layout(read, read(MANIFEST))
    # The manifest is written last, and conditionally (no overwrite was asked for).
    puts = [s for s in s3_env.requests("PUT") if s.path.startswith(f"/{bucket}/")]
    assert puts[-1].path.endswith(MANIFEST) and puts[-1].if_none_match == "*"


def _files_of_local_export(job: nblabel.Job, tmp_path: Path) -> list[str]:
    job.export(tmp_path / "local")
    return _files(tmp_path / "local" / job.name)


def _small_job(tmp_path: Path, name: str = "pets", n: int = 4, multi: bool = False, media: str = "image"):
    if media == "image":
        df = nblabel.read_manifest(
            io.StringIO("".join(f'{{"source-ref":"s3://in/{i}.jpg"}}\n' for i in range(n)))
        )
        task = nblabel.ImageClassification(["cat", "dog"], multi_label=multi)
    else:
        df = nblabel.read_manifest(io.StringIO("".join(f'{{"source":"text {i}"}}\n' for i in range(n))))
        task = nblabel.TextClassification(["cat", "dog"], multi_label=multi)
    return nblabel.Job(name, df, task, store=tmp_path / f"{name}.sqlite", annotator="ann")


@pytest.mark.parametrize(
    ("media", "multi", "element", "answer"),
    [
        ("image", False, "crowd-image-classifier", {"label": "dog"}),
        ("text", False, "crowd-classifier", {"label": "dog"}),
        ("image", True, "crowd-image-classifier-multi-select", {"labels": ["cat", "dog"]}),
        ("text", True, "crowd-classifier-multi-select", {"labels": ["cat", "dog"]}),
    ],
)
def test_worker_responses_use_gt_elements(tmp_path: Path, media, multi, element, answer) -> None:
    job = _small_job(tmp_path, media=media, multi=multi)
    job.label(2, ["dog", "cat"] if multi else "dog")
    job.export(tmp_path / "out")
    (path,) = (tmp_path / "out" / "pets" / WORKERS / "2").iterdir()
    assert re.fullmatch(r"\d{4}-\d\d-\d\d_\d\d:\d\d:\d\d\.json", path.name)
    (entry,) = json.loads(path.read_bytes())["answers"]
    assert entry["answerContent"] == {element: answer} and entry["workerId"] == "ann"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", entry["submissionTime"])


def test_labeled_only_gives_a_sagemaker_ready_manifest(
    s3_env, bucket: str, s3_direct, tmp_path: Path
) -> None:
    job = _small_job(tmp_path, n=5)
    job.label(0, "cat")
    job.label(3, "dog")
    job.skip(1)
    result = job.export(f"s3://{bucket}/out", labeled_only=True)
    body = s3_direct.get_object(Bucket=bucket, Key=f"out/pets/{MANIFEST}")["Body"].read().decode()
    lines = [json.loads(line) for line in body.splitlines()]
    # AugmentedManifestFile with AttributeNames ["source-ref", "pets"]: every line has both.
    assert [(line["source-ref"], line["pets"]) for line in lines] == [
        ("s3://in/0.jpg", 0),
        ("s3://in/3.jpg", 1),
    ]
    assert all(line["pets-metadata"]["type"] == "groundtruth/image-classification" for line in lines)
    assert (result.items, result.labeled) == (2, 2)


# -- refusing and replacing ---------------------------------------------------------------------------


def test_an_existing_export_is_refused_unless_overwrite(s3_env, bucket, s3_direct, tmp_path: Path) -> None:
    job = _small_job(tmp_path)
    job.label(0, "cat")
    job.label(3, "dog")
    destination = f"s3://{bucket}/exports/"
    job.export(destination)
    s3_direct.put_object(Bucket=bucket, Key="exports/pets/activelearning/notes.txt", Body=b"not ours")
    before = keys(s3_direct, bucket)
    with pytest.raises(S3ObjectExists, match="already there"):
        job.export(destination)
    assert keys(s3_direct, bucket) == before
    job.undo()  # the answer to item 3 is taken back: its worker response must go
    result = job.export(destination, overwrite=True)
    after = keys(s3_direct, bucket)
    assert not [k for k in after if "/worker-response/iteration-1/3/" in k]
    assert [k for k in after if "/worker-response/iteration-1/0/" in k]
    assert "exports/pets/activelearning/notes.txt" in after  # not the export's: left alone
    assert result.worker_responses == 1


def test_an_existing_local_export_is_refused_unless_overwrite(tmp_path: Path) -> None:
    job = _small_job(tmp_path)
    job.label(0, "cat")
    job.label(3, "dog")
    job.export(tmp_path / "out")
    root = tmp_path / "out" / "pets"
    (root / "activelearning").mkdir()
    (root / "activelearning" / "notes.txt").write_text("not ours")
    with pytest.raises(FileExistsError, match="already holds an export"):
        job.export(tmp_path / "out")
    job.undo()
    job.export(tmp_path / "out", overwrite=True)
    files = _files(root)
    assert not [f for f in files if "/iteration-1/3/" in f] and [f for f in files if "/iteration-1/0/" in f]
    assert "activelearning/notes.txt" in files
    assert sorted(os.listdir(tmp_path / "out")) == ["pets"]


def test_a_concurrent_export_that_won_is_not_replaced(s3_env, bucket: str, s3_direct, tmp_path: Path) -> None:
    # The server refuses the conditional manifest write (412): another export got there first.
    job = _small_job(tmp_path)
    job.label(0, "cat")
    s3_env.inject(
        method="PUT", path="output.manifest", header="If-None-Match", status=412, code="PreconditionFailed"
    )
    with pytest.raises(FileExistsError, match="another export was written meanwhile"):
        job.export(f"s3://{bucket}/x/")


# -- failures leave nothing behind ---------------------------------------------------------------------


def test_a_failing_object_rolls_the_export_back(s3_env, bucket: str, s3_direct, tmp_path: Path) -> None:
    job = _small_job(tmp_path, n=40)
    for i in range(40):
        job.label(i, "cat" if i % 2 else "dog")
    s3_env.inject(method="PUT", path="/iteration-1/17/", status=500, code="InternalError", times=-1)
    with pytest.raises(ExportError) as info:
        job.export(f"s3://{bucket}/out/")
    error = info.value
    assert error.destination == f"s3://{bucket}/out/pets/" and error.key.startswith(f"{WORKERS}/17/")
    assert "InternalError" in error.reason and "already written were removed" in error.reason
    assert keys(s3_direct, bucket) == [] and open_uploads(s3_direct, bucket) == []


def test_a_failing_manifest_part_aborts_and_rolls_back(
    s3_env, bucket, s3_direct, tmp_path, monkeypatch
) -> None:
    monkeypatch.setattr(s3io, "PART_SIZE", 5 * 1024 * 1024)  # S3's smallest part
    long = "x" * 400
    df = nblabel.read_manifest(
        io.StringIO("".join(f'{{"source-ref":"s3://in/{long}/{i}.jpg"}}\n' for i in range(14_000)))
    )
    job = nblabel.Job("big", df, nblabel.ImageClassification(["a", "b"]), store=tmp_path / "big.sqlite")
    job.label(0, "a")
    s3_env.inject(
        method="PUT", path="output.manifest", query="partNumber=2", status=500, code="InternalError", times=-1
    )
    with pytest.raises(ExportError) as info:
        job.export(f"s3://{bucket}/out/")
    assert info.value.key == MANIFEST and "upload part 2 of" in str(info.value)
    assert keys(s3_direct, bucket) == [] and open_uploads(s3_direct, bucket) == []
    assert len(s3_env.requests("DELETE", "output.manifest")) == 1  # AbortMultipartUpload


def test_a_failing_local_export_leaves_nothing(tmp_path: Path, monkeypatch) -> None:
    job = _small_job(tmp_path)
    job.label(0, "cat")
    job.label(1, "dog")
    original = _Local.put

    def failing(self, key: str, data: bytes) -> None:
        if "/iteration-1/1/" in key:
            raise OSError(28, "No space left on device")
        original(self, key, data)

    monkeypatch.setattr(_Local, "put", failing)
    (tmp_path / "out").mkdir()
    with pytest.raises(ExportError, match="No space left on device") as info:
        job.export(tmp_path / "out")
    assert info.value.key.startswith(f"{WORKERS}/1/")
    assert os.listdir(tmp_path / "out") == []


def test_export_progress_in_a_terminal_stream(s3_env, bucket: str, tmp_path: Path, capsys) -> None:
    job = _small_job(tmp_path)
    job.label(0, "cat")
    job.export(f"s3://{bucket}/p/", progress=True)
    err = capsys.readouterr().err
    assert f"\rexport to s3://{bucket}/p/pets/: 100% [" in err and "3/3 files" in err and err.endswith("\n")
