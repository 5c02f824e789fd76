"""read_manifest / write_manifest with s3:// URIs: GT's bytes, streaming with bounded memory,
errors naming the URI and line, jobs built from S3 manifests, cut connections survived."""

from __future__ import annotations

import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from s3_helpers import keys, make_client, open_uploads

import nblabel
from nblabel.io.s3 import PART_SIZE, S3Error
from nblabel.manifest import ManifestError, iter_manifest

pytest_plugins = ["s3_fixtures"]

BIRD_JOB = Path(__file__).resolve().parents[2] / "data" / "gt-bird-job" / "output.manifest"
MB = 1_000_000


def test_gt_manifest_round_trips_through_s3_byte_for_byte(s3_env, bucket: str, s3_direct) -> None:
    df = nblabel.read_manifest(BIRD_JOB)
    uri = f"s3://{bucket}/birds/output.manifest"
    nblabel.write_manifest(df, uri)
    assert (
        s3_direct.get_object(Bucket=bucket, Key="birds/output.manifest")["Body"].read()
        == BIRD_JOB.read_bytes()
    )
    back = nblabel.read_manifest(uri)
    assert back.equals(df) and list(back.columns) == list(df.columns)


def test_reading_survives_a_cut_and_throttling(s3_env, bucket: str, s3_direct) -> None:
    body = BIRD_JOB.read_bytes() * 40  # ~1.5 MB, several reads
    s3_direct.put_object(Bucket=bucket, Key="in.manifest", Body=body)
    s3_env.inject(method="GET", path="in.manifest", status=503, code="SlowDown", times=2)
    s3_env.inject(method="GET", path="in.manifest", cut_response_after=1_100_000)
    df = nblabel.read_manifest(f"s3://{bucket}/in.manifest")
    assert len(df) == 302 * 40
    outcomes = [s.outcome for s in s3_env.requests("GET", "in.manifest")]
    assert outcomes[:2] == ["injected SlowDown"] * 2 and outcomes[2].startswith("response cut")
    assert outcomes[3] == "forwarded" and len(outcomes) == 4


def test_a_bad_line_is_named_with_the_uri(s3_env, bucket: str, s3_direct) -> None:
    s3_direct.put_object(Bucket=bucket, Key="bad.manifest", Body=b'{"source":"a"}\n{"source": oops}\n')
    with pytest.raises(ManifestError) as info:
        nblabel.read_manifest(f"s3://{bucket}/bad.manifest")
    assert info.value.source == f"s3://{bucket}/bad.manifest" and info.value.line == 2
    assert str(info.value).startswith(f"s3://{bucket}/bad.manifest, line 2: invalid JSON")


def test_missing_manifest_is_an_s3_error(s3_env, bucket: str) -> None:
    with pytest.raises(S3Error, match=rf"cannot read s3://{bucket}/nope.manifest: no such object"):
        nblabel.read_manifest(f"s3://{bucket}/nope.manifest")


def test_a_row_that_cannot_be_written_leaves_no_object(s3_env, bucket: str, s3_direct) -> None:
    rows = [{"source": "fine"}, {"source": "bad", "value": float("nan")}]
    with pytest.raises(ValueError, match="row 1"):
        nblabel.write_manifest(rows, f"s3://{bucket}/out.manifest")
    assert keys(s3_direct, bucket) == [] and open_uploads(s3_direct, bucket) == []


def test_a_job_reads_its_manifest_from_s3(s3_env, bucket: str, s3_direct, tmp_path: Path) -> None:
    s3_direct.put_object(
        Bucket=bucket, Key="texts.manifest", Body=b'{"source":"good film"}\n{"source":"dull film"}\n'
    )
    job = nblabel.Job(
        "films",
        f"s3://{bucket}/texts.manifest",
        nblabel.TextClassification(["pos", "neg"]),
        store=tmp_path / "films.sqlite",
    )
    job.label(0, "pos")
    assert job.progress.labeled == 1 and job.to_dataframe()["films"].tolist()[0] == 0


# -- memory: a 50 MB manifest never needs twice its size ---------------------------------------------


def _text_lines(n: int) -> Iterator[dict[str, Any]]:
    for i in range(n):
        yield {
            "source": f"review {i}: " + "a long customer review about the product " * 100,
            "id": i,
            "sentiment": i % 3,
            "sentiment-metadata": {"class-name": ("pos", "neg", "neutral")[i % 3], "confidence": 0.95},
        }


def _peak(run: Any) -> tuple[Any, int, int]:
    """Run ``run()`` under tracemalloc: its result, the memory it kept, and its peak."""
    tracemalloc.start()
    try:
        result = run()
        current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return result, current, peak


def test_a_50_mb_manifest_streams_with_bounded_memory(s3_server, s3_env, bucket: str, s3_direct) -> None:
    client = make_client(s3_server.endpoint)  # straight to the server: the proxy buffers bodies
    uri = f"s3://{bucket}/big.manifest"
    lines = 12_000

    # Writing from a generator: memory stays near two 8 MiB parts, whatever the size.
    _, _, write_peak = _peak(lambda: nblabel.write_manifest(_text_lines(lines), uri, client=client))
    size = s3_direct.head_object(Bucket=bucket, Key="big.manifest")["ContentLength"]
    assert size > 50 * MB
    assert write_peak < 2.5 * PART_SIZE < size / 2, (write_peak, size)

    # Iterating the lines: memory is one read buffer and one line.
    count, _, iter_peak = _peak(lambda: sum(1 for _ in iter_manifest(uri, client=client)))
    assert count == lines
    assert iter_peak < 4 * MB, iter_peak

    # Into a DataFrame: the peak is the DataFrame itself plus a small transport overhead;
    # the manifest's bytes are never held whole next to the parsed rows.
    df, kept, read_peak = _peak(lambda: nblabel.read_manifest(uri, client=client))
    assert len(df) == lines
    assert read_peak < 1.5 * size, (read_peak, size)
    assert read_peak - kept < 4 * MB, (read_peak, kept)
    print(
        f"\n{size / MB:.1f} MB manifest: write peak {write_peak / MB:.1f} MB, iterate peak "
        f"{iter_peak / MB:.1f} MB, read_manifest peak {read_peak / MB:.1f} MB (DataFrame {kept / MB:.1f} MB)"
    )
