"""Jupyter Server extension: TCP_NODELAY on kernel websockets, so widget messages are not held back.

Jupyter Server writes each kernel message to the browser as its own small websocket frame and never
turns off Nagle's algorithm on that socket. After the first frame of a burst (``status: busy``, the
widget's message, ``status: idle``) the rest wait for the browser's delayed ACK, about 40 ms on
Linux, so every acknowledgement and every proposal nblabel sends arrives ~40 ms late. Setting
``TCP_NODELAY`` sends each frame at once; the saving is measured in ``BENCHMARKS.md``.

The extension is enabled when nblabel is installed (``etc/jupyter/jupyter_server_config.d/
nblabel.json``). Turn it off with ``NBLABEL_TCP_NODELAY=0`` in the server's environment, or with
``jupyter server extension disable nblabel.server_extension``. It touches only kernel websockets
and loads nothing else of nblabel.
"""

from __future__ import annotations

import os
import socket
from typing import Any

__all__ = ["enabled"]

_ENV = "NBLABEL_TCP_NODELAY"
_PATCHED = "_nblabel_nodelay"


def enabled() -> bool:
    """Whether the server's environment leaves the extension on (anything but ``0``/``false``/``off``)."""
    return os.environ.get(_ENV, "1").strip().lower() not in {"0", "false", "off", "no"}


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    return [{"module": "nblabel.server_extension"}]


def _load_jupyter_server_extension(serverapp: Any) -> None:
    if not enabled():
        serverapp.log.info("nblabel: TCP_NODELAY on kernel websockets is off (%s=0)", _ENV)
        return
    from jupyter_server.services.kernels.websocket import KernelWebsocketHandler

    # Jupyter Server offers no hook for socket options on the kernel websocket, so wrap the
    # handler's open(); the marker keeps a second load from wrapping it twice.
    if getattr(KernelWebsocketHandler.open, _PATCHED, False):
        return
    original = KernelWebsocketHandler.open

    async def open_without_delay(self: Any, *args: Any, **kwargs: Any) -> Any:
        self.set_nodelay(True)
        stream = getattr(self.ws_connection, "stream", None)
        sock = getattr(stream, "socket", None)
        if sock is not None:
            self.log.info(
                "nblabel: kernel websocket TCP_NODELAY=%d",
                sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY),
            )
        return await original(self, *args, **kwargs)

    setattr(open_without_delay, _PATCHED, True)
    KernelWebsocketHandler.open = open_without_delay  # type: ignore[method-assign]
    serverapp.log.info("nblabel: TCP_NODELAY on kernel websockets (%s=0 turns it off)", _ENV)
