"""A bound on calls that used to block for ever (a FIFO without a writer blocks ``open()``)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any


def finishes(call: Callable[[], Any], seconds: float = 20.0) -> Any:
    """Run ``call`` in a thread and return its result or raise its error; fail the test if it is
    still blocked after ``seconds``."""
    out: dict[str, Any] = {}

    def run() -> None:
        try:
            out["value"] = call()
        except BaseException as exc:  # handed to the test's thread
            out["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"still blocked after {seconds} s"
    if "error" in out:
        raise out["error"]
    return out["value"]
