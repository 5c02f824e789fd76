"""A private ``marimo run`` server for browser tests: one marimo notebook served as an app.

Each browser session gets its own marimo kernel, which runs the notebook's cells as the page
opens; nblabel's widgets show through ``mo.ui.anywidget``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from tests.harness.server import _die_with_parent, _free_port

__all__ = ["MarimoServer"]

STARTUP_TIMEOUT = 90.0  # seconds: a watchdog on the server answering, not a synchronisation


class MarimoServer:
    """``marimo run <notebook>`` on 127.0.0.1 (no token), in the notebook's folder; a context
    manager. ``env_extra`` reaches the kernels (e.g. ``PYTHONPATH``)."""

    def __init__(self, notebook: str | os.PathLike[str], env_extra: dict[str, str] | None = None) -> None:
        self.notebook = Path(notebook).resolve()
        self.env_extra = dict(env_extra or {})
        self.port = 0
        self.log_path = self.notebook.with_suffix(".marimo.log")
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """The app's URL."""
        return f"http://127.0.0.1:{self.port}/"

    def start(self) -> MarimoServer:
        """Start the server and wait until it answers its health check."""
        self.port = _free_port()
        cmd = [sys.executable, "-m", "marimo", "run", str(self.notebook), "--headless", "--no-token"]
        cmd += ["--host", "127.0.0.1", "--port", str(self.port)]
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                cmd,
                cwd=self.notebook.parent,
                env={**os.environ, **self.env_extra},
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                preexec_fn=_die_with_parent,  # nothing outlives the test process
            )
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while time.monotonic() < deadline and self.proc.poll() is None:
            try:
                with urllib.request.urlopen(f"{self.url}health", timeout=2):
                    return self
            except (urllib.error.URLError, OSError):
                time.sleep(0.1)  # the interval of a readiness poll
        self.stop()
        raise RuntimeError(
            f"marimo did not start; its log:\n{self.log_path.read_text(errors='replace')[-3000:]}"
        )

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL after 10 s)."""
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)

    def __enter__(self) -> MarimoServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
