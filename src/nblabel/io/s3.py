"""Amazon S3 and S3-compatible servers: streaming reads, all-or-nothing writes, a media cache.

Credentials, region and endpoint come from the standard AWS chain (environment, shared config
and credentials files, instance or container roles; ``AWS_ENDPOINT_URL_S3`` for an
S3-compatible server), or from an explicit boto3 client passed as ``client=``. boto3 is imported
on first use, never when nblabel is imported.

Reads stream: :class:`S3Reader` reads an object in the order it arrives and, when the connection
is cut mid-body (which boto3 does not retry for a plain ``get_object()["Body"].read()``),
resumes with a ranged GET from the byte it had reached, pinned to the object's ETag so that an
object replaced in the meantime is an error, not a silent mix of two versions. Throttling
(503 SlowDown) and server errors on each request are retried by botocore's standard retry mode.

Writes are all-or-nothing: :class:`S3Writer` buffers one part (8 MiB), sends a single PutObject
for small objects and a multipart upload for large ones, completes the upload only when the
writer is closed without error and aborts it otherwise, so a failed write leaves neither a
partial object nor an open multipart upload. With ``overwrite=False`` the final PutObject or
CompleteMultipartUpload carries ``If-None-Match: *`` (S3 refuses it with 412 if the key exists);
servers that answer that header with 501 Not Implemented get the write without it, after a
HEAD check, and a warning. Servers that silently ignore the header (e.g. rclone) are covered by
the HEAD check done before any byte is sent, which cannot exclude a concurrent writer.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import io
import logging
import os
import random
import shutil
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from nblabel.io import AllOrNothing
from nblabel.io.progress import Progress

__all__ = [
    "MediaCache",
    "S3Error",
    "S3ObjectExists",
    "S3Reader",
    "S3Writer",
    "default_client",
    "default_media_cache",
    "delete_keys",
    "list_keys",
    "object_exists",
    "open_reader",
    "parse_s3_uri",
    "presigned_url",
    "put_bytes",
    "read_bytes",
    "read_range",
]

log = logging.getLogger(__name__)

#: Multipart part size (S3's minimum for all parts but the last is 5 MiB).
PART_SIZE = 8 * 1024 * 1024
#: How often a read resumes after a cut connection before giving up.
MAX_RESUMES = 5
#: Base of the exponential backoff (seconds) between resumed reads; full jitter, capped at 5 s.
RESUME_BACKOFF = 0.2
#: Total attempts per request (first try included) when the AWS settings do not say.
DEFAULT_MAX_ATTEMPTS = 6

_REASONS = {
    "NoSuchKey": "no such object",
    "404": "no such object",
    "NotFound": "no such object",
    "NoSuchBucket": "no such bucket",
    "AccessDenied": "access denied (check the credentials and the bucket's policy)",
    "403": "access denied (check the credentials and the bucket's policy)",
    "InvalidAccessKeyId": "the access key is not known to the server",
    "SignatureDoesNotMatch": "the secret key does not match the access key",
    "SlowDown": "the server kept throttling requests (503 SlowDown)",
    "503": "the server kept answering 503 Service Unavailable",
    "InternalError": "the server kept failing (500 InternalError)",
    "PreconditionFailed": "the object already exists",
    "412": "the object already exists",
    "NoSuchUpload": "the multipart upload no longer exists",
}


class S3Error(OSError):
    """An S3 operation that failed; the message names the URI, the operation and the cause.

    Attributes
    ----------
    uri
        The ``s3://`` URI concerned.
    operation
        What nblabel was doing (``read``, ``write``, ``upload part 3 of``, ...).
    reason
        The cause in words.
    code
        The S3 error code (``NoSuchKey``, ``SlowDown``, ...) when the server gave one.
    """

    def __init__(self, uri: str, operation: str, reason: str, code: str | None = None) -> None:
        self.uri = uri
        self.operation = operation
        self.reason = reason
        self.code = code
        super().__init__(f"cannot {operation} {uri}: {reason}")


class S3ObjectExists(S3Error, FileExistsError):
    """A write with ``overwrite=False`` found the object already there."""


# -- locations and clients ---------------------------------------------------------------------


def parse_s3_uri(uri: str) -> tuple[str, str]:
    """Split ``s3://bucket/key`` into ``(bucket, key)``; the key may be empty.

    Raises
    ------
    ValueError
        Not an ``s3://`` URI, or no bucket.
    """
    if not isinstance(uri, str) or uri[:5].lower() != "s3://":
        raise ValueError(f"not an s3:// URI: {uri!r}")
    bucket, _, key = uri[5:].partition("/")
    if not bucket:
        raise ValueError(f"{uri!r} names no bucket (expected s3://bucket/key)")
    return bucket, key


_clients: dict[tuple[tuple[str, str], ...], Any] = {}
_clients_lock = threading.Lock()
_loader: Any = None


def default_client() -> Any:
    """The boto3 S3 client nblabel uses when none is given, from the standard AWS settings.

    Its presigned URLs are SigV4. Unless ``AWS_MAX_ATTEMPTS`` or a config file says otherwise,
    each request is tried up to 6 times (botocore's standard retry mode: throttling, 5xx and
    cut connections). One client is shared per set of ``AWS_*`` environment variables.
    """
    key = tuple(sorted((k, v) for k, v in os.environ.items() if k.startswith("AWS_")))
    with _clients_lock:
        client = _clients.get(key)
        if client is None:
            import boto3
            import botocore.session
            from botocore.config import Config

            global _loader
            if _loader is None:
                import botocore.loaders

                _loader = botocore.loaders.create_loader()
            core = botocore.session.get_session()
            core.register_component("data_loader", _loader)  # parsed API models, shared by all clients
            retries = {}
            if core.get_config_variable("max_attempts") is None:
                retries["total_max_attempts"] = DEFAULT_MAX_ATTEMPTS
            config = Config(signature_version="s3v4", max_pool_connections=16, retries=retries or None)
            client = boto3.session.Session(botocore_session=core).client("s3", config=config)
            _clients[key] = client
    return client


def _client(client: Any) -> Any:
    return default_client() if client is None else client


def _describe(exc: BaseException) -> tuple[str | None, str]:
    """The S3 error code (if any) and a person's description of a boto3/botocore error."""
    from botocore.exceptions import (
        BotoCoreError,
        ClientError,
        EndpointConnectionError,
        NoCredentialsError,
    )

    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        meta = exc.response.get("ResponseMetadata", {})
        code = str(error.get("Code") or meta.get("HTTPStatusCode") or "")
        reason = _REASONS.get(code) or f"{code}: {error.get('Message') or 'no message'}"
        attempts = meta.get("RetryAttempts") or 0
        if attempts:
            reason += f", after {attempts + 1} attempts"
        return code, reason
    if isinstance(exc, NoCredentialsError):
        return None, (
            "no AWS credentials found (set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE, "
            "or pass client=)"
        )
    if isinstance(exc, EndpointConnectionError):
        return None, f"cannot connect to the S3 endpoint: {exc}"
    if isinstance(exc, BotoCoreError):
        return None, str(exc)
    return None, f"{type(exc).__name__}: {exc}"


def _s3_error(uri: str, operation: str, exc: BaseException) -> S3Error:
    code, reason = _describe(exc)
    cls = S3ObjectExists if code in ("PreconditionFailed", "412") else S3Error
    return cls(uri, operation, reason, code)


def _stream_errors() -> tuple[type[BaseException], ...]:
    """Errors that mean "the connection broke", after which a read can resume."""
    import urllib3.exceptions
    from botocore.exceptions import (
        ConnectionClosedError,
        EndpointConnectionError,
        IncompleteReadError,
        ReadTimeoutError,
        ResponseStreamingError,
    )

    return (
        ResponseStreamingError,
        IncompleteReadError,
        ReadTimeoutError,
        ConnectionClosedError,
        EndpointConnectionError,
        urllib3.exceptions.HTTPError,
        http.client.HTTPException,
        ConnectionError,
    )


# -- reading -----------------------------------------------------------------------------------


class S3Reader(io.RawIOBase):
    """A readable binary stream over an S3 object that survives cut connections.

    Parameters
    ----------
    uri
        ``s3://bucket/key``.
    client
        A boto3 S3 client; default :func:`default_client`.
    max_resumes
        How many cuts to survive before raising :class:`S3Error`.
    progress
        Show a progress bar: None for objects of 16 MB and more, True always, False never.

    Attributes
    ----------
    size
        The object's length in bytes.
    resumes
        How many times the read resumed after a cut (useful for logs and tests).

    Raises
    ------
    S3Error
        On opening (no such object or bucket, access denied, throttled beyond the retries),
        when the connection was cut more than ``max_resumes`` times, or when the object was
        replaced while being read.
    """

    def __init__(
        self,
        uri: str,
        *,
        client: Any = None,
        max_resumes: int = MAX_RESUMES,
        progress: bool | None = None,
    ) -> None:
        super().__init__()
        self.uri = uri
        self.max_resumes = max_resumes
        self.resumes = 0
        self.size = 0
        self._progress: Progress | None = None
        self._pos = 0
        self._etag: str | None = None
        self._body: Any = None
        self._bucket, self._key = parse_s3_uri(uri)
        if not self._key:
            raise ValueError(f"{uri!r} names a bucket, not an object")
        self._client = _client(client)
        self._errors = _stream_errors()
        try:
            self._open()
        except self._errors as exc:  # botocore already retried the request itself
            raise _s3_error(uri, "read", exc) from exc
        self._progress = Progress(f"download {uri}", self.size, enabled=progress)

    def _open(self) -> None:
        kwargs: dict[str, Any] = {"Bucket": self._bucket, "Key": self._key}
        if self._pos:
            kwargs["Range"] = f"bytes={self._pos}-"
        if self._etag:
            kwargs["IfMatch"] = self._etag
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            response = self._client.get_object(**kwargs)
        except ClientError as exc:
            code, _ = _describe(exc)
            if self._etag and code in ("PreconditionFailed", "412"):
                raise S3Error(
                    self.uri, "read", "the object was replaced while it was being read", code
                ) from exc
            raise _s3_error(self.uri, "read", exc) from exc
        except BotoCoreError as exc:
            if isinstance(exc, self._errors):
                raise
            raise _s3_error(self.uri, "read", exc) from exc
        if self._etag is None:
            self._etag = response.get("ETag")
            self.size = int(response.get("ContentLength", 0))
        self._body = response["Body"]

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        """Read up to ``len(buffer)`` bytes into ``buffer``; 0 at the end of the object."""
        view = memoryview(buffer).cast("B")
        if not len(view) or self._pos >= self.size:
            return 0
        while True:
            try:
                if self._body is None:
                    self._open()
                n = self._body.readinto(view)
                if n == 0:  # the server ended the body early without an error
                    raise http.client.IncompleteRead(b"", self.size - self._pos)
            except self._errors as exc:
                self._cut(exc)
                continue
            self._pos += n
            if self._progress is not None:
                self._progress.update(n)
            return n

    def _cut(self, exc: BaseException) -> None:
        self.resumes += 1
        self._drop_body()
        if self.resumes > self.max_resumes:
            raise S3Error(
                self.uri,
                "read",
                f"the connection was cut {self.resumes} times at byte {self._pos} of {self.size} "
                f"(last: {type(exc).__name__}: {exc})",
            ) from exc
        log.info("%s: connection cut at byte %d (%s); resuming", self.uri, self._pos, exc)
        delay = min(RESUME_BACKOFF * 2 ** (self.resumes - 1), 5.0) * random.random()
        if delay > 0:
            time.sleep(delay)

    def _drop_body(self) -> None:
        body, self._body = self._body, None
        if body is not None:
            with contextlib.suppress(Exception):  # a broken connection may fail to close; dropped anyway
                body.close()

    def close(self) -> None:
        if not self.closed:
            self._drop_body()
            if self._progress is not None and self._pos >= self.size:
                self._progress.close()
        super().close()


def open_reader(
    uri: str, *, client: Any = None, progress: bool | None = None, buffer_size: int = 1024 * 1024
) -> io.BufferedReader:
    """A buffered binary reader over an S3 object (iterating it yields lines), see :class:`S3Reader`."""
    return io.BufferedReader(S3Reader(uri, client=client, progress=progress), buffer_size=buffer_size)


def read_bytes(uri: str, *, client: Any = None) -> bytes:
    """The whole content of an S3 object (resuming after cut connections)."""
    with S3Reader(uri, client=client, progress=False) as reader:
        out = bytearray(reader.size)
        view = memoryview(out)
        done = 0
        while done < len(out):
            n = reader.readinto(view[done:])
            if n == 0:
                break
            done += n
        return bytes(out)


def read_range(uri: str, start: int, stop: int, *, client: Any = None) -> bytes:
    """Bytes ``start:stop`` of an S3 object (one ranged GET; a lazily opened manifest's rows).

    Raises
    ------
    S3Error
        The object cannot be read; the message names the URI and the cause.
    """
    if stop <= start:
        return b""
    from botocore.exceptions import BotoCoreError, ClientError

    bucket, key = parse_s3_uri(uri)
    try:
        response = _client(client).get_object(Bucket=bucket, Key=key, Range=f"bytes={start}-{stop - 1}")
        return response["Body"].read()
    except (ClientError, BotoCoreError, *_stream_errors()) as exc:
        raise _s3_error(uri, "read", exc) from exc


def download(
    uri: str, path: str | os.PathLike[str], *, client: Any = None, progress: bool | None = None
) -> int:
    """Copy an S3 object to a local file, atomically; returns the number of bytes."""
    from nblabel.io import AtomicFile

    with S3Reader(uri, client=client, progress=progress) as reader, AtomicFile(path) as out:
        shutil.copyfileobj(reader, out, 1024 * 1024)
        return reader.size


# -- writing -----------------------------------------------------------------------------------


class S3Writer(AllOrNothing):
    """A writable binary stream that becomes one S3 object, whole or not at all.

    Bytes are buffered up to ``part_size``; the first full part starts a multipart upload. The
    object appears when the writer is closed (or its ``with`` block ends) without error; on an
    error, or when the writer is dropped unclosed, the upload is aborted and nothing appears.
    Memory stays below about two parts, whatever the object's size.

    Parameters
    ----------
    uri
        ``s3://bucket/key``.
    overwrite
        When False: refuse (:class:`S3ObjectExists`) if the key exists, checked with a HEAD
        before any byte is sent and again by the server with ``If-None-Match: *`` on the final
        request.
    client
        A boto3 S3 client; default :func:`default_client`.
    part_size
        Bytes per multipart part (at least 5 MiB); default :data:`PART_SIZE`.
    content_type
        The object's Content-Type.
    progress
        Show a progress bar: None once 16 MB have been written, True always, False never.
    """

    def __init__(
        self,
        uri: str,
        *,
        overwrite: bool = True,
        client: Any = None,
        part_size: int | None = None,
        content_type: str | None = None,
        progress: bool | None = None,
    ) -> None:
        super().__init__()
        part_size = PART_SIZE if part_size is None else part_size
        if part_size < 5 * 1024 * 1024:
            raise ValueError(f"part_size must be at least 5 MiB (S3's minimum), got {part_size}")
        self.uri = uri
        self._bucket, self._key = parse_s3_uri(uri)
        if not self._key or self._key.endswith("/"):
            raise ValueError(f"{uri!r} names a folder, not an object")
        self._client = _client(client)
        self.overwrite = overwrite
        self.part_size = part_size
        self._extra = {"ContentType": content_type} if content_type else {}
        self._buffer = bytearray()
        self._parts: list[dict[str, Any]] = []
        self._upload_id: str | None = None
        self._written = 0
        self._finished = False
        if not overwrite and object_exists(uri, client=self._client):
            raise S3ObjectExists(
                uri, "write", "the object already exists (pass overwrite=True to replace it)"
            )
        self._progress = Progress(f"upload {uri}", enabled=progress)

    def writable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._written

    def write(self, data: Any) -> int:
        """Buffer ``data``, uploading each full part; returns the number of bytes taken."""
        if self.closed or self._finished:
            raise ValueError(f"write to a closed S3 writer ({self.uri})")
        with memoryview(data) as view:
            n = view.nbytes
            self._buffer += view.cast("B")
        self._written += n
        try:
            while len(self._buffer) >= self.part_size:
                with memoryview(self._buffer) as view:
                    part = bytes(view[: self.part_size])
                del self._buffer[: self.part_size]
                self._upload_part(part)
        except BaseException:
            self.abort()
            raise
        return n

    def _upload_part(self, part: bytes) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        number = len(self._parts) + 1
        try:
            if self._upload_id is None:
                created = self._client.create_multipart_upload(
                    Bucket=self._bucket, Key=self._key, **self._extra
                )
                self._upload_id = created["UploadId"]
            response = self._client.upload_part(
                Bucket=self._bucket, Key=self._key, UploadId=self._upload_id, PartNumber=number, Body=part
            )
        except (ClientError, BotoCoreError) as exc:
            raise _s3_error(self.uri, f"upload part {number} of", exc) from exc
        self._parts.append({"PartNumber": number, "ETag": response["ETag"]})
        self._progress.update(len(part))

    def close(self) -> None:
        """Send what is buffered and make the object appear (complete the upload)."""
        if self.closed:
            return
        if self._finished:
            super().close()
            return
        try:
            if self._upload_id is None:
                self._finish(self._put)
            else:
                if self._buffer:
                    self._upload_part(bytes(self._buffer))
                self._buffer = bytearray()
                self._finish(self._complete)
            self._finished = True
            self._progress.close()
        except BaseException:
            self.abort()
            raise
        finally:
            super().close()

    def _put(self, condition: dict[str, str]) -> None:
        body = bytes(self._buffer)
        self._client.put_object(Bucket=self._bucket, Key=self._key, Body=body, **self._extra, **condition)
        self._buffer = bytearray()
        self._progress.update(len(body))

    def _complete(self, condition: dict[str, str]) -> None:
        self._client.complete_multipart_upload(
            Bucket=self._bucket,
            Key=self._key,
            UploadId=self._upload_id,
            MultipartUpload={"Parts": self._parts},
            **condition,
        )

    def _finish(self, send: Any) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        condition = {} if self.overwrite else {"IfNoneMatch": "*"}
        try:
            send(condition)
        except ClientError as exc:
            code, _ = _describe(exc)
            if condition and code in ("NotImplemented", "501"):
                # The server does not do conditional writes: fall back to the HEAD check.
                log.warning(
                    "%s: the S3 server does not support If-None-Match; checked with HEAD instead, "
                    "which cannot exclude a concurrent writer",
                    self.uri,
                )
                if object_exists(self.uri, client=self._client):
                    raise S3ObjectExists(self.uri, "write", "the object already exists") from exc
                try:
                    send({})
                except (ClientError, BotoCoreError) as again:
                    raise _s3_error(self.uri, "write", again) from again
                return
            raise _s3_error(self.uri, "write", exc) from exc
        except BotoCoreError as exc:
            raise _s3_error(self.uri, "write", exc) from exc

    def abort(self) -> None:
        """Drop everything written: abort the multipart upload; the key is left as it was."""
        if self._finished:
            return
        self._finished = True
        self._buffer = bytearray()
        upload_id, self._upload_id = self._upload_id, None
        if upload_id is not None:
            try:
                self._client.abort_multipart_upload(Bucket=self._bucket, Key=self._key, UploadId=upload_id)
            except Exception as exc:  # report, but the original error is the one to raise
                log.error(
                    "%s: could not abort multipart upload %s (%s); it keeps its parts until "
                    "aborted or a lifecycle rule removes it",
                    self.uri,
                    upload_id,
                    _describe(exc)[1],
                )
        if not self.closed:
            super().close()


def put_bytes(
    uri: str, data: bytes, *, overwrite: bool = True, client: Any = None, content_type: str | None = None
) -> None:
    """Write a small object in one request (conditional when ``overwrite=False``)."""
    with S3Writer(uri, overwrite=overwrite, client=client, content_type=content_type, progress=False) as out:
        out.write(data)


def object_exists(uri: str, *, client: Any = None) -> bool:
    """True when the object exists (HEAD).

    Raises
    ------
    S3Error
        Any answer but found / not found (access denied, no such bucket, ...).
    """
    from botocore.exceptions import BotoCoreError, ClientError

    bucket, key = parse_s3_uri(uri)
    try:
        _client(client).head_object(Bucket=bucket, Key=key)
    except ClientError as exc:
        code, _ = _describe(exc)
        if code in ("404", "NoSuchKey", "NotFound"):
            return False
        raise _s3_error(uri, "check", exc) from exc
    except BotoCoreError as exc:
        raise _s3_error(uri, "check", exc) from exc
    return True


def list_keys(uri: str, *, client: Any = None, limit: int | None = None) -> Iterator[str]:
    """Keys under a prefix (``s3://bucket/prefix/``), in S3's order, following pagination."""
    from botocore.exceptions import BotoCoreError, ClientError

    bucket, prefix = parse_s3_uri(uri)
    kwargs: dict[str, Any] = {"Bucket": bucket, "Prefix": prefix}
    if limit is not None:
        kwargs["PaginationConfig"] = {"MaxItems": limit}
    try:
        for page in _client(client).get_paginator("list_objects_v2").paginate(**kwargs):
            for item in page.get("Contents", ()):
                yield item["Key"]
    except (ClientError, BotoCoreError) as exc:
        raise _s3_error(uri, "list", exc) from exc


def delete_keys(bucket: str, keys: Iterable[str], *, client: Any = None) -> list[str]:
    """Delete keys in batches of 1,000; returns the keys that could not be deleted."""
    from botocore.exceptions import BotoCoreError, ClientError

    s3 = _client(client)
    failed: list[str] = []
    batch: list[str] = []

    def flush() -> None:
        if not batch:
            return
        try:
            response = s3.delete_objects(
                Bucket=bucket, Delete={"Objects": [{"Key": k} for k in batch], "Quiet": True}
            )
            failed.extend(e["Key"] for e in response.get("Errors", ()))
        except (ClientError, BotoCoreError) as exc:
            log.error("cannot delete %d objects from s3://%s: %s", len(batch), bucket, _describe(exc)[1])
            failed.extend(batch)
        batch.clear()

    for key in keys:
        batch.append(key)
        if len(batch) == 1000:
            flush()
    flush()
    return failed


def presigned_url(uri: str, *, expires: int = 3600, client: Any = None) -> str:
    """A SigV4 presigned GET URL for an object, valid ``expires`` seconds.

    Without ``client``, the default client (SigV4) signs it; a client of your own signs with
    its own ``signature_version``: build it with ``Config(signature_version="s3v4")``.
    """
    bucket, key = parse_s3_uri(uri)
    return _client(client).generate_presigned_url(
        "get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=expires
    )


# -- media cache -------------------------------------------------------------------------------


def _default_cache_dir() -> Path:
    configured = os.environ.get("NBLABEL_CACHE_DIR")
    if configured:
        return Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "nblabel" / "media"


@dataclass
class _Entry:
    size: int
    used: int  # nanoseconds: the file's mtime, set explicitly on every use


def _touch(path: Path) -> int:
    # An explicit time keeps full precision; the file system's own clock ticks every few ms,
    # which would make files used in a quick succession look equally old.
    now = time.time_ns()
    os.utime(path, ns=(now, now))
    return now


class MediaCache:
    """Local copies of S3 objects (images to label), bounded in total size.

    Files are named by a digest of their URI and evicted least-recently-used first once the
    total passes ``max_bytes`` (the file just fetched is never evicted, so one object larger
    than the bound is still served). Several processes may share a folder: every fetch lands
    atomically (written aside, renamed), and eviction re-reads the folder before deleting.
    A URI is assumed to name immutable content; :meth:`clear` empties the cache.

    Parameters
    ----------
    directory
        The folder; default ``$NBLABEL_CACHE_DIR``, else ``$XDG_CACHE_HOME/nblabel/media`` or
        ``~/.cache/nblabel/media``.
    max_bytes
        The size bound; default ``$NBLABEL_CACHE_MAX_BYTES``, else 1 GiB.
    client
        A boto3 S3 client; default :func:`default_client`.
    """

    def __init__(
        self,
        directory: str | os.PathLike[str] | None = None,
        max_bytes: int | None = None,
        *,
        client: Any = None,
    ) -> None:
        self.directory = Path(directory) if directory is not None else _default_cache_dir()
        if max_bytes is None:
            max_bytes = int(os.environ.get("NBLABEL_CACHE_MAX_BYTES") or 1024**3)
        if max_bytes <= 0:
            raise ValueError(f"max_bytes must be positive, got {max_bytes}")
        self.max_bytes = max_bytes
        self.client = client
        self.fetches = 0  # downloads done by this instance (hits do not count)
        self._lock = threading.Lock()
        self._fetching: dict[str, threading.Lock] = {}
        self._entries: dict[str, _Entry] | None = None

    def _name(self, uri: str) -> str:
        digest = hashlib.sha256(uri.encode("utf-8")).hexdigest()[:40]
        suffix = PurePosixPath(parse_s3_uri(uri)[1]).suffix.lower()
        return digest + (suffix if suffix.isascii() and len(suffix) <= 8 and suffix[1:].isalnum() else "")

    def _scan(self) -> dict[str, _Entry]:
        entries = {}
        try:
            with os.scandir(self.directory) as it:
                for e in it:
                    if e.name.startswith(".") or not e.is_file():
                        continue
                    st = e.stat()
                    entries[e.name] = _Entry(st.st_size, st.st_mtime_ns)
        except FileNotFoundError:
            pass
        return entries

    @property
    def size(self) -> int:
        """Bytes held in the cache folder now."""
        return sum(e.size for e in self._scan().values())

    def path(self, uri: str) -> Path:
        """The local copy of ``uri``, fetched first if needed (resuming after cut connections).

        Raises
        ------
        S3Error
            The object cannot be fetched; the message says why.
        """
        name = self._name(uri)
        target = self.directory / name
        with self._lock:
            guard = self._fetching.setdefault(name, threading.Lock())
        try:
            return self._get(uri, name, target, guard)
        finally:
            with self._lock:
                self._fetching.pop(name, None)

    def _get(self, uri: str, name: str, target: Path, guard: threading.Lock) -> Path:
        with guard:  # one download per URI at a time; the others wait and then hit
            try:
                now = _touch(target)  # a hit: recently used, for every process sharing the folder
                with self._lock:
                    if self._entries is not None and name in self._entries:
                        self._entries[name].used = now
                return target
            except FileNotFoundError:
                pass
            self.directory.mkdir(parents=True, exist_ok=True)
            size = download(uri, target, client=self.client, progress=False)
            self.fetches += 1
            with self._lock:
                if self._entries is None:
                    self._entries = self._scan()
                self._entries[name] = _Entry(size, _touch(target))
                if sum(e.size for e in self._entries.values()) > self.max_bytes:
                    self._evict(keep=name)
        return target

    def _evict(self, keep: str) -> None:
        self._entries = self._scan()  # other processes may have added or removed files
        total = sum(e.size for e in self._entries.values())
        for name, entry in sorted(self._entries.items(), key=lambda item: item[1].used):
            if total <= self.max_bytes:
                break
            if name == keep:
                continue
            with contextlib.suppress(FileNotFoundError):
                (self.directory / name).unlink()
            total -= entry.size
            del self._entries[name]
            log.debug("media cache: evicted %s (%d bytes)", name, entry.size)

    def clear(self) -> None:
        """Delete every cached file."""
        with self._lock:
            for name in self._scan():
                (self.directory / name).unlink(missing_ok=True)
            self._entries = {}


_media_cache: MediaCache | None = None
_media_cache_lock = threading.Lock()


def default_media_cache() -> MediaCache:
    """The process-wide media cache used to show ``s3://`` images (see :class:`MediaCache`)."""
    global _media_cache
    with _media_cache_lock:
        if _media_cache is None:
            _media_cache = MediaCache()
        return _media_cache
