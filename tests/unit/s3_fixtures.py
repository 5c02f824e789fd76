"""A real S3-compatible server for the S3 tests, with a fault-injecting proxy in front of it.

The server is moto's standalone server (``python -m moto.server``, from the ``test`` extra),
started once per session as a subprocess on 127.0.0.1 with an ephemeral port, and stopped at the
end (terminate, then kill after 10 s). Readiness is the server's own "Running on" line, not a
sleep. In front of it runs :class:`FaultProxy`, a small standard-library HTTP proxy in the test
process that forwards requests byte for byte (Host header unchanged, so signatures stay valid) and
injects the faults a real S3 user meets: 503 SlowDown and other error answers, a connection cut
in the middle of a response body, and a connection reset in the middle of a request body (an
upload part). nblabel code under test reaches the proxy through the standard AWS settings
(``AWS_ENDPOINT_URL_S3``); the tests' own set-up and inspection use a client that talks to the
server directly, so injected faults never hit them.

Test modules use this module with ``pytest_plugins = ["s3_fixtures"]``.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import re
import socket
import struct
import subprocess
import sys
import threading
import urllib.request
import uuid
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from s3_helpers import make_client

__all__ = ["Fault", "FaultProxy", "MotoServer"]

_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "expect", "proxy-connection", "te", "upgrade"}


# -- the server ----------------------------------------------------------------------------------


class MotoServer:
    """moto's S3 server in a subprocess on 127.0.0.1 (ephemeral port)."""

    def __init__(self) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_") and "proxy" not in k.lower()}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", "0"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            env=env,
            text=True,
        )
        self.lines: deque[str] = deque(maxlen=200)  # the server's recent log, for failures
        self.port = self._wait_ready()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        # Keep reading its log, or the pipe fills and the server blocks.
        self._drain = threading.Thread(target=self._read_log, daemon=True)
        self._drain.start()

    def _wait_ready(self) -> int:
        assert self.process.stderr is not None
        timer = threading.Timer(30, self.process.kill)  # a server that never starts fails the session
        timer.start()
        try:
            for line in self.process.stderr:
                self.lines.append(line)
                match = re.search(r"Running on http://127\.0\.0\.1:(\d+)", line)
                if match:
                    return int(match.group(1))
        finally:
            timer.cancel()
        raise RuntimeError("moto server did not start:\n" + "".join(self.lines))

    def _read_log(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.lines.append(line)

    def reset(self) -> None:
        """Forget every bucket and object (moto's reset API)."""
        request = urllib.request.Request(f"{self.endpoint}/moto-api/reset", data=b"", method="POST")
        with _no_proxy_opener().open(request, timeout=30) as response:
            response.read()

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)
        self._drain.join(5)


def _no_proxy_opener() -> urllib.request.OpenerDirector:
    return urllib.request.build_opener(urllib.request.ProxyHandler({}))


# -- the fault proxy -----------------------------------------------------------------------------


@dataclass
class Fault:
    """One injected fault: which requests it hits and what happens to them.

    A request matches when every given criterion holds: ``method``; ``path`` (regex searched in
    the path without the query); ``query`` (substring of the query, e.g. ``"partNumber=2"``);
    ``header`` (a request header that must be present, e.g. ``"If-None-Match"``). The first
    ``times`` matches are hit (``times=-1``: all of them).

    Exactly one action: ``status`` (answer with this status and an S3 error body of ``code``,
    without reaching the server), ``cut_response_after`` (forward, then send only that many
    body bytes and cut the connection), ``cut_request_after`` (read that many bytes of the
    request body, then reset the connection: the server never sees the request). ``cut`` is
    ``"rst"`` (TCP reset) or ``"fin"`` (orderly close with the body incomplete).
    """

    method: str | None = None
    path: str | None = None
    query: str | None = None
    header: str | None = None
    status: int | None = None
    code: str = "SlowDown"
    cut_response_after: int | None = None
    cut_request_after: int | None = None
    cut: str = "rst"
    times: int = 1
    hits: int = 0

    def matches(self, method: str, path: str, query: str, headers: Any) -> bool:
        if self.times >= 0 and self.hits >= self.times:
            return False
        if self.method and method != self.method:
            return False
        if self.path and not re.search(self.path, path):
            return False
        if self.query and self.query not in query:
            return False
        return not (self.header and self.header not in headers)


@dataclass
class Seen:
    """A request the proxy saw: method, path, query, a few headers, and what it did."""

    method: str
    path: str
    query: str
    range: str | None
    if_none_match: str | None
    if_match: str | None
    outcome: str = "forwarded"
    status: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class FaultProxy:
    """A forwarding HTTP proxy to an S3 server that injects :class:`Fault` s."""

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.faults: list[Fault] = []
        self.seen: list[Seen] = []
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.server.daemon_threads = True
        self.server.proxy = self  # type: ignore[attr-defined]
        self.port = self.server.server_address[1]
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def inject(self, **kwargs: Any) -> Fault:
        """Add a fault (see :class:`Fault`) and return it (its ``hits`` count what it did)."""
        fault = Fault(**kwargs)
        with self._lock:
            self.faults.append(fault)
        return fault

    def clear(self) -> None:
        with self._lock:
            self.faults.clear()
            self.seen.clear()

    def requests(self, method: str | None = None, path: str | None = None) -> list[Seen]:
        """The requests seen so far, optionally filtered by method and path regex."""
        with self._lock:
            return [
                s
                for s in self.seen
                if (method is None or s.method == method) and (path is None or re.search(path, s.path))
            ]

    def _match(self, method: str, path: str, query: str, headers: Any) -> Fault | None:
        with self._lock:
            for fault in self.faults:
                if fault.matches(method, path, query, headers):
                    fault.hits += 1
                    return fault
        return None

    def _record(self, seen: Seen) -> None:
        with self._lock:
            self.seen.append(seen)

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(5)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def do_GET(self) -> None:
        self._handle()

    do_PUT = do_POST = do_DELETE = do_HEAD = do_GET

    def _handle(self) -> None:
        proxy: FaultProxy = self.server.proxy  # type: ignore[attr-defined]
        path, _, query = self.path.partition("?")
        seen = Seen(
            self.command,
            path,
            query,
            self.headers.get("Range"),
            self.headers.get("If-None-Match"),
            self.headers.get("If-Match"),
        )
        proxy._record(seen)
        fault = proxy._match(self.command, path, query, self.headers)
        length = int(self.headers.get("Content-Length") or 0)
        chunked = "chunked" in self.headers.get("Transfer-Encoding", "").lower()
        if fault is not None and fault.cut_request_after is not None:
            self.rfile.read(min(fault.cut_request_after, length) if length else fault.cut_request_after)
            seen.outcome = "request cut"
            self._cut("rst")
            return
        body = self._read_chunked() if chunked else self.rfile.read(length) if length else b""
        if fault is not None and fault.status is not None:
            seen.outcome, seen.status = f"injected {fault.code}", fault.status
            self._send_error(fault.status, fault.code)
            return
        headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
        if chunked:
            headers["Content-Length"] = str(len(body))
        upstream = http.client.HTTPConnection("127.0.0.1", proxy.upstream_port, timeout=60)
        try:
            upstream.request(self.command, self.path, body=body, headers=headers)
            response = upstream.getresponse()
            data = response.read()
            seen.status = response.status
            self.send_response_only(response.status, response.reason)
            for name, value in response.getheaders():
                if name.lower() not in _HOP_BY_HOP and name.lower() != "content-length":
                    self.send_header(name, value)
            declared = response.getheader("Content-Length")
            if self.command == "HEAD":
                self.send_header("Content-Length", declared or "0")
            else:
                self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if self.command == "HEAD":
                return
            if fault is not None and fault.cut_response_after is not None:
                self.wfile.write(data[: fault.cut_response_after])
                seen.outcome = f"response cut after {min(fault.cut_response_after, len(data))} bytes"
                self._cut(fault.cut)
                return
            self.wfile.write(data)
        finally:
            upstream.close()

    def _read_chunked(self) -> bytes:
        out = bytearray()
        while True:
            size = int(self.rfile.readline().split(b";")[0].strip(), 16)
            if size == 0:
                while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                return bytes(out)
            out += self.rfile.read(size)
            self.rfile.readline()

    def _send_error(self, status: int, code: str) -> None:
        body = (
            f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code>'
            f"<Message>injected by the test proxy</Message></Error>"
        ).encode()
        self.send_response_only(status)
        self.send_header("Content-Type", "application/xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _cut(self, how: str) -> None:
        self.close_connection = True
        with contextlib.suppress(OSError):
            if how == "rst":
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                self.connection.close()
            else:
                self.connection.shutdown(socket.SHUT_WR)


# -- fixtures ------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def s3_server() -> Iterator[MotoServer]:
    """moto's S3 server, for the whole session."""
    server = MotoServer()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def fault_proxy(s3_server: MotoServer) -> Iterator[FaultProxy]:
    """The fault-injecting proxy in front of the server, for the whole session."""
    proxy = FaultProxy(s3_server.port)
    try:
        yield proxy
    finally:
        proxy.stop()


@pytest.fixture
def s3_env(
    s3_server: MotoServer, fault_proxy: FaultProxy, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[FaultProxy]:
    """AWS settings that send nblabel's default client to the proxy; a clean server after.

    Retry backoff sleeps are zeroed (botocore's and nblabel's) so fault tests run fast; the
    retry *counts* are real. The media cache goes to a temporary folder.
    """
    import botocore.retries.standard

    import nblabel.io.s3 as s3mod

    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", fault_proxy.endpoint)
    monkeypatch.setenv("AWS_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("NBLABEL_CACHE_DIR", str(tmp_path / "media-cache"))
    monkeypatch.delenv("NBLABEL_PROGRESS", raising=False)
    monkeypatch.setattr(botocore.retries.standard.ExponentialBackoff, "delay_amount", lambda self, ctx: 0)
    monkeypatch.setattr(s3mod, "RESUME_BACKOFF", 0.0)
    monkeypatch.setattr(s3mod, "_media_cache", None)
    s3mod._clients.clear()  # fresh clients: standard retry mode keeps a per-client retry quota
    fault_proxy.clear()
    try:
        yield fault_proxy
    finally:
        fault_proxy.clear()
        s3mod._clients.clear()
        s3_server.reset()


@pytest.fixture(scope="session")
def s3_direct(s3_server: MotoServer) -> Any:
    """A client straight to the server (no faults): for set-up and inspection."""
    return make_client(s3_server.endpoint)


@pytest.fixture
def bucket(s3_env: FaultProxy, s3_direct: Any) -> str:
    """A fresh, empty bucket (removed with everything else when the test ends)."""
    name = f"nblabel-{uuid.uuid4().hex[:12]}"
    s3_direct.create_bucket(Bucket=name)
    return name
