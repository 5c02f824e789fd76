"""nblabel's Jupyter Server extension sets TCP_NODELAY on kernel websockets, and can be turned off.

A real ``jupyter lab`` with nblabel installed, a real kernel, and a websocket client that
completes a kernel_info round trip: by then the handler's ``open()`` has run, so its log line
(the socket option read back from the kernel websocket's own socket) is in the server log.
"""

from __future__ import annotations

import asyncio
import json
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from tornado.httpclient import HTTPRequest
from tornado.websocket import websocket_connect

from tests.harness import JupyterServer


def _kernel_info_round_trip(server: JupyterServer) -> str:
    """Start a kernel over the REST API, connect its websocket, return the kernel_info reply's status."""
    request = urllib.request.Request(
        f"{server.url}/api/kernels",
        data=b"{}",
        method="POST",
        headers={"Authorization": f"token {server.token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        kernel_id = json.load(response)["id"]

    async def talk() -> str:
        ws_url = server.url.replace("http", "ws", 1) + f"/api/kernels/{kernel_id}/channels"
        conn = await websocket_connect(
            HTTPRequest(ws_url, headers={"Authorization": f"token {server.token}"})
        )
        msg_id = uuid.uuid4().hex
        header = {
            "msg_id": msg_id,
            "msg_type": "kernel_info_request",
            "session": uuid.uuid4().hex,
            "username": "test",
            "version": "5.3",
        }
        conn.write_message(
            json.dumps(
                {"header": header, "parent_header": {}, "metadata": {}, "content": {}, "channel": "shell"}
            )
        )
        while True:
            raw = await asyncio.wait_for(conn.read_message(), timeout=60)
            assert raw is not None, "the kernel websocket closed"
            msg = json.loads(raw)
            if msg.get("parent_header", {}).get("msg_id") == msg_id and msg["channel"] == "shell":
                conn.close()
                return str(msg["content"]["status"])

    # Playwright's sync API may already run an event loop in this thread: talk in a fresh one.
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, talk()).result()


@pytest.mark.parametrize("nodelay", [True, False], ids=["on", "off"])
def test_kernel_websocket_nodelay(nodelay: bool, tmp_path: Path) -> None:
    with JupyterServer("lab", tmp_path, nodelay=nodelay) as server:
        assert _kernel_info_round_trip(server) == "ok"
        assert server.log_path is not None
        log = server.log_path.read_text(errors="replace")
    if nodelay:
        assert "nblabel: TCP_NODELAY on kernel websockets" in log
        assert "nblabel: kernel websocket TCP_NODELAY=1" in log
    else:
        assert "TCP_NODELAY on kernel websockets is off" in log
        assert "kernel websocket TCP_NODELAY" not in log
