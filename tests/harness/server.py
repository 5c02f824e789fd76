"""A private ``jupyter lab`` / ``jupyter notebook`` server for browser tests and benchmarks.

The G-numbers are the gotchas of the measured recipe, shared/reference/browser-testing.md.
"""

from __future__ import annotations

import contextlib
import ctypes
import http.client
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import psutil

__all__ = ["JupyterServer"]

_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:  # runs in the child between fork and exec
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class JupyterServer:
    """``jupyter lab|notebook`` on 127.0.0.1 with isolated config/data/runtime dirs.

    Use as a context manager. Kernels run ``sys.executable`` (a kernelspec named ``python3`` is
    written to the private JUPYTER_DATA_DIR) and inherit the server's environment, so
    ``env_extra={"PYTHONPATH": ...}`` reaches them. ``python`` runs the server and its kernels
    from another interpreter instead (e.g. a separate virtual environment's ``bin/python``).
    """

    def __init__(
        self,
        app: str = "lab",
        root_dir: str | os.PathLike[str] | None = None,
        env_extra: dict[str, str] | None = None,
        nodelay: bool = True,
        *,
        extra_args: Sequence[str] = (),
        startup_timeout: float = 90.0,
        python: str | os.PathLike[str] | None = None,
    ) -> None:
        if app not in ("lab", "notebook"):
            raise ValueError(f"app must be 'lab' or 'notebook', not {app!r}")
        self.app = app
        self._root_arg = root_dir
        self.env_extra = dict(env_extra or {})
        self.nodelay = nodelay
        self.extra_args = list(extra_args)
        self.startup_timeout = startup_timeout
        self.python = str(python) if python is not None else sys.executable
        self.token = secrets.token_hex(24)
        self.port = 0
        self.proc: subprocess.Popen[bytes] | None = None
        self._state: Path | None = None
        self._own_root = False
        self.root_dir: Path = Path(root_dir) if root_dir is not None else Path()
        self.log_path: Path | None = None

    # -- properties -------------------------------------------------------------------
    @property
    def url(self) -> str:
        """Base URL, no trailing slash, no token."""
        return f"http://127.0.0.1:{self.port}"

    def log_tail(self, n: int = 60) -> str:
        if self.log_path is None or not self.log_path.exists():
            return ""
        lines = self.log_path.read_text(errors="replace").splitlines()
        # long lines (e.g. a minified JS stack from a failing `node yarn.js`) are cut
        return "\n".join(ln if len(ln) <= 400 else ln[:400] + " …" for ln in lines[-n:])

    # -- REST ---------------------------------------------------------------------------
    def api(self, method: str, path: str, body: Any = None, timeout: float = 10.0) -> Any:
        """Call the server REST API; returns parsed JSON (or None for empty bodies)."""
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(
            f"{self.url}{path}",
            data=data,
            method=method,
            headers={"Authorization": f"token {self.token}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            raw = resp.read()
        return json.loads(raw) if raw else None

    def sessions(self) -> list[dict[str, Any]]:
        return self.api("GET", "/api/sessions")

    def delete_session(self, session_id: str) -> None:
        with contextlib.suppress(urllib.error.HTTPError):  # already gone
            self.api("DELETE", f"/api/sessions/{session_id}")

    def delete_sessions(self, path: str | None = None) -> int:
        """Delete kernel sessions (all, or those for one notebook path). Returns the count (G14)."""
        n = 0
        for s in self.sessions():
            if path is None or s.get("path") == path:
                self.delete_session(s["id"])
                n += 1
        return n

    # -- lifecycle ----------------------------------------------------------------------
    def __enter__(self) -> JupyterServer:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _write_config(self, state: Path) -> dict[str, str]:
        cfg, data, runtime, ipy = (state / d for d in ("config", "data", "runtime", "ipython"))
        for d in (cfg, data, runtime, ipy):
            d.mkdir(parents=True, exist_ok=True)
        # G9: no /lab/api/build check (spawns node/yarn/npm on every Lab page load).
        (cfg / "labconfig").mkdir()
        (cfg / "labconfig" / "page_config.json").write_text(
            json.dumps({"buildCheck": False, "buildAvailable": False})
        )
        # No news / update toast over the UI.
        notif = cfg / "lab" / "user-settings" / "@jupyterlab" / "apputils-extension"
        notif.mkdir(parents=True)
        (notif / "notification.jupyterlab-settings").write_text(
            json.dumps({"fetchNews": "false", "checkForUpdates": False})
        )
        # Kernel = the server's interpreter, whatever is on PATH (same venv, same packages).
        ks = data / "kernels" / "python3"
        ks.mkdir(parents=True)
        (ks / "kernel.json").write_text(
            json.dumps(
                {
                    "argv": [self.python, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                    "display_name": "Python 3 (ipykernel)",
                    "language": "python",
                    "metadata": {"debugger": True},
                },
                indent=1,
            )
        )
        return {
            "JUPYTER_CONFIG_DIR": str(cfg),
            "JUPYTER_DATA_DIR": str(data),
            "JUPYTER_RUNTIME_DIR": str(runtime),
            "IPYTHONDIR": str(ipy),
        }

    def _jupyter_cmd(self) -> list[str]:
        exe = Path(self.python).with_name("jupyter")
        if exe.exists():
            return [str(exe), self.app]
        return [self.python, "-m", "jupyter", self.app]

    def start(self) -> None:
        self._state = Path(tempfile.mkdtemp(prefix=f"nblabel-jupyter-{self.app}-"))
        if self._root_arg is None:
            self.root_dir = self._state / "root"
            self.root_dir.mkdir()
        else:
            self.root_dir = Path(self._root_arg).resolve()
            self.root_dir.mkdir(parents=True, exist_ok=True)
        env = dict(os.environ)
        for var in ("JUPYTER_PATH", "JUPYTER_CONFIG_PATH", "JUPYTER_TOKEN", "JUPYTER_PREFER_ENV_PATH"):
            env.pop(var, None)
        env.update(self._write_config(self._state))
        # Inside a venv jupyter_core ranks sys.prefix paths above the user (here: temp) dirs, so
        # the venv's kernelspec `python3` (argv "python") would shadow ours. Temp dirs first.
        env["JUPYTER_PREFER_ENV_PATH"] = "0"
        env["PYTHONUNBUFFERED"] = "1"
        # nblabel's server extension (TCP_NODELAY on kernel websockets, G1) is on wherever nblabel
        # is installed; nodelay=False turns it off to measure what a stock server does.
        env["NBLABEL_TCP_NODELAY"] = "1" if self.nodelay else "0"
        env.update(self.env_extra)
        self.log_path = self._state / "server.log"

        last_err = ""
        for _attempt in range(3):  # the free port can be taken between probe and bind
            self.port = _free_port()
            cmd = [
                *self._jupyter_cmd(),
                "--no-browser",
                "--ip=127.0.0.1",
                f"--port={self.port}",
                "--port-retries=0",
                f"--IdentityProvider.token={self.token}",
                f"--ServerApp.root_dir={self.root_dir}",
                "--LabApp.expose_app_in_browser=True",  # G15: explicit traits for both apps
                "--JupyterNotebookApp.expose_app_in_browser=True",
                "--ServerApp.shutdown_no_activity_timeout=0",
                *self.extra_args,
            ]
            if os.geteuid() == 0:
                cmd.append("--allow-root")  # G4
            with open(self.log_path, "ab") as log:
                self.proc = subprocess.Popen(
                    cmd,
                    cwd=self.root_dir,
                    env=env,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,  # own process group for the killpg fallback
                    preexec_fn=_die_with_parent,  # nothing outlives the test process
                )
            if self._wait_ready():
                return
            last_err = self.log_tail()
            self._kill_tree()
        raise RuntimeError(f"jupyter {self.app} did not start; log tail:\n{last_err}")

    def _wait_ready(self) -> bool:
        assert self.proc is not None
        deadline = time.monotonic() + self.startup_timeout
        url = f"{self.url}/api/status?token={self.token}"
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False
            try:
                with urllib.request.urlopen(url, timeout=2) as resp:
                    if resp.status == 200:
                        return True
            except (urllib.error.URLError, http.client.HTTPException, ConnectionError, TimeoutError, OSError):
                # HTTPException: another test's server (a Dask worker, say) took the free port
                # first and answered in its own protocol; ours then exits and start() retries.
                pass
            time.sleep(0.1)  # polling interval of a real readiness check
        return False

    def _kill_tree(self) -> None:
        """SIGTERM then SIGKILL the server's process group and every descendant (kernels have
        their own sessions, so killpg alone misses them)."""
        proc, self.proc = self.proc, None
        if proc is None:
            return
        try:
            kids = psutil.Process(proc.pid).children(recursive=True)
        except psutil.Error:
            kids = []
        for sig in (signal.SIGTERM, signal.SIGKILL):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, sig)
            for k in kids:
                with contextlib.suppress(psutil.Error):
                    k.send_signal(sig)
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                continue
            _, alive = psutil.wait_procs(kids, timeout=5)
            if not alive:
                break
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=5)

    def stop(self) -> None:
        proc = self.proc
        if proc is not None:
            try:
                kids = psutil.Process(proc.pid).children(recursive=True)
            except psutil.Error:
                kids = []
            if proc.poll() is None:
                with contextlib.suppress(OSError, urllib.error.URLError):
                    self.api("POST", "/api/shutdown", timeout=5)  # stops kernels, then exits
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.wait(timeout=15)
            _, alive = psutil.wait_procs(kids, timeout=5)
            if proc.poll() is None or alive:
                self._kill_tree()
                for k in alive:
                    with contextlib.suppress(psutil.Error):
                        k.kill()
            self.proc = None
        if self._state is not None:
            shutil.rmtree(self._state, ignore_errors=True)
            self._state = None
