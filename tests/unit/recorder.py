"""A stand-in for ``widget.send`` that tests can wait on."""

from __future__ import annotations

import threading
from typing import Any

WAIT = 20  # seconds: a ceiling for a hung worker, not a pause


class Recorder:
    """Stands in for ``widget.send``; thread-safe; sets an event on every message."""

    def __init__(self) -> None:
        self.sent: list[tuple[dict[str, Any], list[bytes]]] = []
        self._lock = threading.Lock()
        self._event = threading.Event()

    def __call__(self, content: dict[str, Any], buffers: list[bytes] | None = None) -> None:
        with self._lock:
            self.sent.append((content, list(buffers or [])))
        self._event.set()

    def of(self, kind: str) -> list[tuple[dict[str, Any], list[bytes]]]:
        with self._lock:
            return [(m, b) for m, b in self.sent if m.get("type") == kind]

    def wait_for(self, kind: str, count: int = 1) -> list[tuple[dict[str, Any], list[bytes]]]:
        """Block until at least ``count`` messages of ``kind`` were sent; return them all."""
        while True:
            found = self.of(kind)
            if len(found) >= count:
                return found
            assert self._event.wait(WAIT), f"no {kind!r} message within {WAIT}s; sent: {self.sent}"
            self._event.clear()

    def clear(self) -> None:
        with self._lock:
            self.sent.clear()
