"""df.nblabel: the augmented manifest and flat labels (Parquet, CSV) to S3 or local paths."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pandas as pd
import pytest
from s3_helpers import keys, open_uploads

import nblabel
from nblabel.io.s3 import S3ObjectExists

pytest_plugins = ["s3_fixtures"]

BIRD_JOB = Path(__file__).resolve().parents[2] / "data" / "gt-bird-job" / "output.manifest"
ATTR = "birds-open-images-clone"
_META = {
    "job-name": "labeling-job/tags",
    "human-annotated": "yes",
    "creation-date": "2020-02-27T21:36:25.000201",
}
_TYPE = {"type": "groundtruth/image-classification-multilabel"}
MULTI = [  # two multi-label answers (one of them "none of these") and an unlabeled line
    {
        "source-ref": "s3://b/0.jpg",
        "tags": [1, 0],
        "tags-metadata": {
            **_META,
            "class-map": {"1": "dog", "0": "cat"},
            "confidence-map": {"1": 0.9, "0": 0.8},
            **_TYPE,
        },
    },
    {
        "source-ref": "s3://b/1.jpg",
        "tags": [],
        "tags-metadata": {**_META, "class-map": {}, "confidence-map": {}, **_TYPE},
    },
    {"source-ref": "s3://b/2.jpg"},
]


def _multi() -> pd.DataFrame:
    return nblabel.read_manifest(io.StringIO("".join(json.dumps(line) + "\n" for line in MULTI)))


def _get(client, bucket: str, key: str) -> bytes:
    return client.get_object(Bucket=bucket, Key=key)["Body"].read()


def test_accessor_is_registered_on_import() -> None:
    assert hasattr(pd.DataFrame({"a": [1]}), "nblabel")


def test_to_s3_writes_the_augmented_manifest(s3_env, bucket: str, s3_direct) -> None:
    df = nblabel.read_manifest(BIRD_JOB)
    df.nblabel.to_s3(f"s3://{bucket}/out/output.manifest")
    assert _get(s3_direct, bucket, "out/output.manifest") == BIRD_JOB.read_bytes()
    with pytest.raises(S3ObjectExists):
        df.nblabel.to_s3(f"s3://{bucket}/out/output.manifest", overwrite=False)
    df.nblabel.to_s3(f"s3://{bucket}/out/again.manifest", overwrite=False)
    assert _get(s3_direct, bucket, "out/again.manifest") == BIRD_JOB.read_bytes()


def test_flat_labels_single_label() -> None:
    df = nblabel.read_manifest(BIRD_JOB)
    flat = df.nblabel.flat_labels()
    assert list(flat.columns) == [
        "source-ref",
        ATTR,
        f"{ATTR}-confidence",
        f"{ATTR}-human-annotated",
        f"{ATTR}-creation-date",
        f"{ATTR}-job-name",
        f"{ATTR}-type",
    ]
    first = flat.iloc[0]
    assert (first[ATTR], first[f"{ATTR}-confidence"], first[f"{ATTR}-human-annotated"]) == (
        "Canary",
        0.95,
        True,
    )
    assert flat[f"{ATTR}-confidence"].dtype == "float64" and len(flat) == 302


def test_flat_labels_multi_label_and_unlabeled_rows() -> None:
    flat = _multi().nblabel.flat_labels()
    assert flat["tags"].tolist() == [["dog", "cat"], [], None]
    assert flat["tags-confidence"].tolist()[:2] == [[0.9, 0.8], []]
    assert flat["tags-human-annotated"].tolist()[:2] == [True, True] and pd.isna(
        flat["tags-human-annotated"][2]
    )
    with pytest.raises(ValueError, match="not a label attribute"):
        _multi().nblabel.flat_labels("source-ref")


def test_flat_labels_need_a_label_attribute() -> None:
    with pytest.raises(ValueError, match="no label attribute"):
        pd.DataFrame({"source": ["a"]}).nblabel.flat_labels()


def test_parquet_and_csv_to_s3(s3_env, bucket: str, s3_direct) -> None:
    pytest.importorskip("pyarrow")
    df = nblabel.read_manifest(BIRD_JOB)
    df.nblabel.to_s3(f"s3://{bucket}/flat/labels.parquet")
    df.nblabel.to_s3(f"s3://{bucket}/flat/labels.csv")
    expected = df.nblabel.flat_labels()
    parquet = pd.read_parquet(io.BytesIO(_get(s3_direct, bucket, "flat/labels.parquet")))
    assert parquet[ATTR].tolist() == expected[ATTR].tolist()
    assert parquet[f"{ATTR}-confidence"].tolist() == expected[f"{ATTR}-confidence"].tolist()
    csv = pd.read_csv(io.BytesIO(_get(s3_direct, bucket, "flat/labels.csv")))
    assert csv[ATTR].tolist() == expected[ATTR].tolist() and len(csv) == 302
    assert keys(s3_direct, bucket) == ["flat/labels.csv", "flat/labels.parquet"]


def test_multi_label_lists_in_parquet_and_csv(s3_env, bucket: str, s3_direct) -> None:
    pytest.importorskip("pyarrow")
    df = _multi()
    df.nblabel.to_parquet(f"s3://{bucket}/m.parquet")
    df.nblabel.to_csv(f"s3://{bucket}/m.csv")
    parquet = pd.read_parquet(io.BytesIO(_get(s3_direct, bucket, "m.parquet")))
    assert [None if v is None else list(v) for v in parquet["tags"]] == [["dog", "cat"], [], None]
    csv = pd.read_csv(io.BytesIO(_get(s3_direct, bucket, "m.csv")))
    assert [json.loads(v) for v in csv["tags"][:2]] == [["dog", "cat"], []] and pd.isna(csv["tags"][2])


def test_local_paths_work_the_same(tmp_path: Path) -> None:
    df = nblabel.read_manifest(BIRD_JOB)
    df.nblabel.to_manifest(tmp_path / "out.manifest")
    df.nblabel.to_csv(tmp_path / "labels.csv")
    assert (tmp_path / "out.manifest").read_bytes() == BIRD_JOB.read_bytes()
    assert pd.read_csv(tmp_path / "labels.csv")[ATTR].iloc[0] == "Canary"
    with pytest.raises(FileExistsError):
        df.nblabel.to_csv(tmp_path / "labels.csv", overwrite=False)


def test_a_failed_write_leaves_no_object(s3_env, bucket: str, s3_direct) -> None:
    df = nblabel.read_manifest(BIRD_JOB)
    s3_env.inject(method="PUT", path="labels.csv", status=500, code="InternalError", times=-1)
    with pytest.raises(OSError, match="InternalError"):
        df.nblabel.to_s3(f"s3://{bucket}/labels.csv")
    assert keys(s3_direct, bucket) == [] and open_uploads(s3_direct, bucket) == []


def test_to_s3_checks_its_arguments(tmp_path: Path) -> None:
    df = nblabel.read_manifest(BIRD_JOB)
    with pytest.raises(ValueError, match="s3://bucket/key"):
        df.nblabel.to_s3(str(tmp_path / "x.manifest"))
    with pytest.raises(ValueError, match="format must be one of"):
        df.nblabel.to_s3("s3://b/x", format="xlsx")
