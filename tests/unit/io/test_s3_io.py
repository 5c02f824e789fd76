"""nblabel.io.s3 against a real S3 server (moto, in a subprocess) with injected faults.

Reads: streaming, resumed after a connection cut mid-body (reset or early close), throttling
retried, an object replaced mid-read refused. Writes: single PUT and multipart, all-or-nothing
(a failing part aborts the upload: no object, no open upload), conditional (If-None-Match) with
the 501 fallback. Errors name the URI and the cause. See s3_fixtures.py for the server and proxy.
"""

from __future__ import annotations

import gc
import hashlib
import io
import os
import urllib.parse
import urllib.request

import pytest
from s3_helpers import keys, make_client, open_uploads

from nblabel.io import AtomicFile, is_s3_uri, open_writer
from nblabel.io import s3 as s3io
from nblabel.io.s3 import S3Error, S3ObjectExists, S3Reader, S3Writer

pytest_plugins = ["s3_fixtures"]

MiB = 1024 * 1024


def _blob(size: int) -> bytes:
    return hashlib.sha256(b"seed").digest() * (size // 32) + b"x" * (size % 32)


# -- locations and clients ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("uri", "parsed"),
    [
        ("s3://b/k.manifest", ("b", "k.manifest")),
        ("s3://b/a/b/c.jpg", ("b", "a/b/c.jpg")),
        ("S3://b/x", ("b", "x")),
        ("s3://b", ("b", "")),
        ("s3://b/", ("b", "")),
    ],
)
def test_parse_s3_uri(uri: str, parsed: tuple[str, str]) -> None:
    assert s3io.parse_s3_uri(uri) == parsed
    assert is_s3_uri(uri)


@pytest.mark.parametrize("uri", ["s3://", "s3:///key", "/local/path", "https://b.s3.amazonaws.com/k"])
def test_parse_s3_uri_rejects(uri: str) -> None:
    with pytest.raises(ValueError, match="s3://"):
        s3io.parse_s3_uri(uri)


def test_default_client_follows_the_standard_aws_settings(s3_env, bucket: str, s3_direct) -> None:
    # AWS_ENDPOINT_URL_S3 (set by the fixture to the proxy) is all it takes.
    s3io.put_bytes(f"s3://{bucket}/hello.txt", b"hello")
    assert s3_direct.get_object(Bucket=bucket, Key="hello.txt")["Body"].read() == b"hello"
    assert [s.method for s in s3_env.requests(path="hello.txt")] == ["PUT"]
    client = s3io.default_client()
    assert client is s3io.default_client()  # shared while the settings do not change
    assert client.meta.config.retries["total_max_attempts"] == s3io.DEFAULT_MAX_ATTEMPTS


def test_presigned_urls_are_sigv4_and_work(s3_env, bucket: str, s3_direct) -> None:
    s3_direct.put_object(Bucket=bucket, Key="img.jpg", Body=b"jpeg bytes")
    url = s3io.presigned_url(f"s3://{bucket}/img.jpg", expires=60)
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
    assert query["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"]
    assert "Signature" not in query and "AWSAccessKeyId" not in query  # not SigV2
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(url, timeout=10) as response:
        assert response.read() == b"jpeg bytes"


# -- reading --------------------------------------------------------------------------------------


def test_reader_streams_and_resumes_after_a_reset_mid_body(s3_env, bucket: str, s3_direct) -> None:
    data = _blob(4 * MiB + 123)
    s3_direct.put_object(Bucket=bucket, Key="big.bin", Body=data)
    fault = s3_env.inject(method="GET", path="big.bin", cut_response_after=2_500_000, cut="rst")
    reader = S3Reader(f"s3://{bucket}/big.bin")
    with io.BufferedReader(reader, buffer_size=MiB) as fh:
        assert fh.read() == data
    assert fault.hits == 1 and reader.resumes == 1
    first, second = s3_env.requests("GET", "big.bin")
    assert first.range is None and first.outcome.startswith("response cut")
    # The resumed request continues where the data stopped and is pinned to the same object.
    # (A reset may discard bytes the kernel had not yet handed over, so the exact byte varies;
    # the early-close test below pins it exactly.)
    assert second.if_match == first_etag(s3_direct, bucket, "big.bin")
    assert second.range is None or 0 < int(second.range[len("bytes=") : -1]) <= 2_500_000


def first_etag(client, bucket: str, key: str) -> str:
    return client.head_object(Bucket=bucket, Key=key)["ETag"]


def test_reader_resumes_exactly_at_the_byte_reached_after_an_early_close(s3_env, bucket, s3_direct) -> None:
    data = _blob(3 * MiB)
    s3_direct.put_object(Bucket=bucket, Key="big.bin", Body=data)
    s3_env.inject(method="GET", path="big.bin", cut_response_after=1_000_000, cut="fin", times=2)
    assert s3io.read_bytes(f"s3://{bucket}/big.bin") == data
    ranges = [s.range for s in s3_env.requests("GET", "big.bin")]
    assert ranges == [None, "bytes=1000000-", "bytes=2000000-"]


def test_reader_gives_up_after_max_resumes_with_a_clear_error(s3_env, bucket: str, s3_direct) -> None:
    s3_direct.put_object(Bucket=bucket, Key="flaky.bin", Body=_blob(MiB))
    s3_env.inject(method="GET", path="flaky.bin", cut_response_after=1000, times=-1)
    with pytest.raises(S3Error) as info:
        s3io.read_bytes(f"s3://{bucket}/flaky.bin")
    assert info.value.uri == f"s3://{bucket}/flaky.bin"
    assert "connection was cut 6 times" in str(info.value)
    assert len(s3_env.requests("GET", "flaky.bin")) == 1 + s3io.MAX_RESUMES


def test_reader_refuses_an_object_replaced_while_being_read(s3_env, bucket: str, s3_direct) -> None:
    s3_direct.put_object(Bucket=bucket, Key="moving.bin", Body=_blob(3 * MiB))
    s3_env.inject(method="GET", path="moving.bin", cut_response_after=1_500_000, cut="fin")
    reader = S3Reader(f"s3://{bucket}/moving.bin")
    with io.BufferedReader(reader, buffer_size=MiB) as fh:
        fh.read(MiB)
        s3_direct.put_object(Bucket=bucket, Key="moving.bin", Body=b"another version")
        with pytest.raises(S3Error, match="replaced while it was being read"):
            fh.read()


def test_throttling_is_retried_and_counted(s3_env, bucket: str, s3_direct) -> None:
    s3_direct.put_object(Bucket=bucket, Key="hot.txt", Body=b"payload")
    fault = s3_env.inject(method="GET", path="hot.txt", status=503, code="SlowDown", times=3)
    assert s3io.read_bytes(f"s3://{bucket}/hot.txt") == b"payload"
    assert fault.hits == 3
    assert [s.outcome for s in s3_env.requests("GET", "hot.txt")] == ["injected SlowDown"] * 3 + ["forwarded"]


def test_endless_throttling_ends_in_an_error_naming_uri_and_cause(s3_env, bucket: str, s3_direct) -> None:
    s3_direct.put_object(Bucket=bucket, Key="hot.txt", Body=b"payload")
    s3_env.inject(method="GET", path="hot.txt", status=503, code="SlowDown", times=-1)
    with pytest.raises(S3Error) as info:
        s3io.read_bytes(f"s3://{bucket}/hot.txt")
    message = str(info.value)
    assert f"s3://{bucket}/hot.txt" in message and "SlowDown" in message
    assert f"after {s3io.DEFAULT_MAX_ATTEMPTS} attempts" in message
    assert len(s3_env.requests("GET", "hot.txt")) == s3io.DEFAULT_MAX_ATTEMPTS


@pytest.mark.parametrize(
    ("setup", "uri", "reason"),
    [
        (None, "s3://{bucket}/missing.manifest", "no such object"),
        (None, "s3://no-such-bucket-here/x.manifest", "no such bucket"),
        ("403", "s3://{bucket}/secret.txt", "access denied"),
    ],
    ids=["no-such-key", "no-such-bucket", "access-denied"],
)
def test_read_errors_say_why(s3_env, bucket: str, s3_direct, setup, uri: str, reason: str) -> None:
    if setup == "403":
        s3_direct.put_object(Bucket=bucket, Key="secret.txt", Body=b"x")
        s3_env.inject(method="GET", path="secret.txt", status=403, code="AccessDenied", times=-1)
    uri = uri.format(bucket=bucket)
    with pytest.raises(S3Error) as info:
        s3io.read_bytes(uri)
    assert info.value.uri == uri and reason in info.value.reason
    if setup == "403":  # not retried
        assert len(s3_env.requests("GET", "secret.txt")) == 1


def test_missing_credentials_are_named(s3_env, bucket: str, monkeypatch) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    with pytest.raises(S3Error, match="no AWS credentials found"):
        s3io.read_bytes(f"s3://{bucket}/x")


# -- writing --------------------------------------------------------------------------------------


def test_small_write_is_one_put(s3_env, bucket: str, s3_direct) -> None:
    with S3Writer(f"s3://{bucket}/small.json", content_type="application/json") as out:
        out.write(b'{"a":1}\n')
        out.write(memoryview(b'{"b":2}\n'))
    got = s3_direct.get_object(Bucket=bucket, Key="small.json")
    assert got["Body"].read() == b'{"a":1}\n{"b":2}\n' and got["ContentType"] == "application/json"
    assert [s.method for s in s3_env.requests(path="small.json")] == ["PUT"]


def test_large_write_is_a_multipart_upload(s3_env, bucket: str, s3_direct) -> None:
    data = _blob(13 * MiB + 5)
    with S3Writer(f"s3://{bucket}/big.bin", part_size=5 * MiB) as out:
        for start in range(0, len(data), 1_000_003):
            out.write(data[start : start + 1_000_003])
        assert out.tell() == len(data)
    assert s3_direct.get_object(Bucket=bucket, Key="big.bin")["Body"].read() == data
    parts = [s for s in s3_env.requests("PUT", "big.bin") if "partNumber" in s.query]
    assert len(parts) == 3
    assert open_uploads(s3_direct, bucket) == []


def test_a_part_cut_once_is_resent_and_the_upload_completes(s3_env, bucket: str, s3_direct) -> None:
    data = _blob(11 * MiB)
    fault = s3_env.inject(method="PUT", path="big.bin", query="partNumber=2", cut_request_after=MiB)
    with S3Writer(f"s3://{bucket}/big.bin", part_size=5 * MiB) as out:
        out.write(data)
    assert fault.hits == 1
    assert s3_direct.get_object(Bucket=bucket, Key="big.bin")["Body"].read() == data
    assert len([s for s in s3_env.requests("PUT", "big.bin") if "partNumber=2" in s.query]) == 2


@pytest.mark.parametrize("how", ["reset", "error"])
def test_a_failing_part_aborts_the_upload_and_leaves_nothing(
    s3_env, bucket: str, s3_direct, how: str
) -> None:
    if how == "reset":
        s3_env.inject(
            method="PUT", path="big.bin", query="partNumber=2", cut_request_after=64 * 1024, times=-1
        )
    else:
        s3_env.inject(
            method="PUT", path="big.bin", query="partNumber=2", status=500, code="InternalError", times=-1
        )
    with pytest.raises(S3Error) as info, S3Writer(f"s3://{bucket}/big.bin", part_size=5 * MiB) as out:
        out.write(_blob(12 * MiB))
    assert "upload part 2 of" in str(info.value) and f"s3://{bucket}/big.bin" in str(info.value)
    assert keys(s3_direct, bucket) == []
    assert open_uploads(s3_direct, bucket) == []
    assert [s.method for s in s3_env.requests("DELETE", "big.bin")] == ["DELETE"]  # AbortMultipartUpload


def test_an_error_in_the_with_block_aborts(s3_env, bucket: str, s3_direct) -> None:
    with (
        pytest.raises(RuntimeError, match="producer failed"),
        S3Writer(f"s3://{bucket}/x.bin", part_size=5 * MiB) as out,
    ):
        out.write(_blob(6 * MiB))  # one part already uploaded
        raise RuntimeError("producer failed")
    assert keys(s3_direct, bucket) == [] and open_uploads(s3_direct, bucket) == []


def test_a_writer_dropped_unclosed_publishes_nothing(s3_env, bucket: str, s3_direct) -> None:
    out = S3Writer(f"s3://{bucket}/dropped.bin", part_size=5 * MiB)
    out.write(_blob(6 * MiB))
    del out
    gc.collect()
    assert keys(s3_direct, bucket) == [] and open_uploads(s3_direct, bucket) == []


@pytest.mark.parametrize("size", [100, 6 * MiB], ids=["put", "multipart"])
def test_no_overwrite_is_refused_up_front_and_by_the_server(
    s3_env, bucket: str, s3_direct, size: int
) -> None:
    uri = f"s3://{bucket}/once.bin"
    with S3Writer(uri, overwrite=False, part_size=5 * MiB) as out:
        out.write(_blob(size))
    final = [  # PutObject, or CompleteMultipartUpload; not the parts, not CreateMultipartUpload
        s
        for s in s3_env.requests(path="once.bin")
        if s.method in ("PUT", "POST") and "partNumber" not in s.query
    ][-1]
    assert (final.method, final.if_none_match) == ("PUT" if size < 5 * MiB else "POST", "*")
    with pytest.raises(S3ObjectExists, match="already exists"):
        S3Writer(uri, overwrite=False)  # the HEAD check, before any byte is sent
    # A writer that started while the key was free is stopped by If-None-Match (412).
    late = S3Writer(f"s3://{bucket}/race.bin", overwrite=False, part_size=5 * MiB)
    s3_direct.put_object(Bucket=bucket, Key="race.bin", Body=b"the other writer")
    late.write(_blob(size))
    with pytest.raises(FileExistsError):
        late.close()
    assert s3_direct.get_object(Bucket=bucket, Key="race.bin")["Body"].read() == b"the other writer"
    assert open_uploads(s3_direct, bucket) == []


def test_servers_without_conditional_writes_fall_back_to_head(s3_env, bucket, s3_direct, caplog) -> None:
    s3_env.inject(header="If-None-Match", status=501, code="NotImplemented", times=-1)
    with S3Writer(f"s3://{bucket}/once.bin", overwrite=False) as out:
        out.write(b"first")
    assert s3_direct.get_object(Bucket=bucket, Key="once.bin")["Body"].read() == b"first"
    assert "does not support If-None-Match" in caplog.text


def test_open_writer_is_atomic_locally_too(tmp_path) -> None:
    path = tmp_path / "out.bin"
    with pytest.raises(RuntimeError), open_writer(path) as out:
        assert isinstance(out, AtomicFile)
        out.write(b"half")
        raise RuntimeError
    assert os.listdir(tmp_path) == []
    with open_writer(path) as out:
        out.write(b"whole")
    assert path.read_bytes() == b"whole"
    with pytest.raises(FileExistsError):
        open_writer(path, overwrite=False)


def test_explicit_client_is_used(s3_server, s3_env, bucket: str, s3_direct) -> None:
    client = make_client(s3_server.endpoint)  # straight to the server, not through the proxy
    s3io.put_bytes(f"s3://{bucket}/direct.txt", b"direct", client=client)
    assert s3io.read_bytes(f"s3://{bucket}/direct.txt", client=client) == b"direct"
    assert s3_env.requests(path="direct.txt") == []
