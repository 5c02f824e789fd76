"""Drive JupyterLab 4 / Notebook 7 in headless Debian chromium with Playwright.

Plain module (no pytest import) so benchmark scripts can use it too::

    sys.path.insert(0, str(REPO / "tests" / "e2e"))
    from playwright.sync_api import sync_playwright
    from harness import JupyterServer, NotebookPage, launch_browser

    with JupyterServer("lab", root) as server, sync_playwright() as pw:
        browser = launch_browser(pw)
        nb = NotebookPage(browser.new_page(), server)
        nb.open("demo.ipynb", ["print(6*7)"])
        nb.run_cell(0)
        ...
        nb.close()
        browser.close()

The G-numbers are the gotchas of the measured recipe, shared/reference/browser-testing.md.
Chromium: Debian's /usr/bin/chromium (override with NBLABEL_CHROMIUM); never `playwright install`.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import nbformat
import psutil

__all__ = [
    "CHROMIUM_ARGS",
    "CHROMIUM_PATH",
    "PAGE_ERROR_ALLOWLIST",
    "JupyterServer",
    "NotebookPage",
    "launch_browser",
]

# --------------------------------------------------------------------------- browser

CHROMIUM_PATH = os.environ.get("NBLABEL_CHROMIUM") or (
    "/usr/bin/chromium"
    if Path("/usr/bin/chromium").exists()
    else shutil.which("chromium") or "/usr/bin/chromium"
)
# G4 (--no-sandbox: we run as root), plus quiet/offline flags. Never `playwright install` (G8).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_launch_args() -> dict[str, Any]:
    """Keyword arguments for ``playwright.chromium.launch`` (also used by the pytest override)."""
    if not Path(CHROMIUM_PATH).exists():
        raise RuntimeError(
            f"{CHROMIUM_PATH} not found: install Debian's chromium (`make chromium`); "
            "never run `playwright install` here"
        )
    return {"executable_path": CHROMIUM_PATH, "args": list(CHROMIUM_ARGS)}


def launch_browser(playwright: Any, *, headless: bool = True) -> Any:
    """Launch Debian's chromium through Playwright (sync API). Caller closes it."""
    return playwright.chromium.launch(headless=headless, **chromium_launch_args())


# --------------------------------------------------------------------------- server

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
            except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
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


# --------------------------------------------------------------------------- page

# G6: Notebook 7.6.5 throws this on every page load (shortcuts-extension); harmless.
PAGE_ERROR_ALLOWLIST = [
    re.compile(r"Cannot read properties of undefined \(reading 'schema'\)"),
]

# JS helpers evaluated in the page. `path` = notebook path relative to the server root.
_JS_PANEL = """
(path) => {
  const app = window.jupyterapp;
  if (!app) return null;
  const shell = app.shell;
  const ok = (w) => w && w.context && w.context.path === path && w.content && w.sessionContext;
  if (ok(shell.currentWidget)) return shell.currentWidget;
  if (typeof shell.widgets === 'function') {
    for (const w of shell.widgets('main')) if (ok(w)) return w;
  }
  return null;
}
"""


def _js(body: str, *, wait: bool = False) -> str:
    """Wrap `body` (which sees `panel`, `args`) into a function of `args` with the panel lookup.

    With ``wait=True`` (for ``wait_for_function``) a missing panel means "not yet" (false);
    otherwise it is an error.
    """
    missing = "return false;" if wait else "throw new Error('notebook panel not found: ' + args.path);"
    head = "(args) => {" if wait else "async (args) => {"
    return (
        f"{head} const findPanel = {_JS_PANEL};\n"
        "const panel = findPanel(args.path);\n"
        f"if (!panel) {{ {missing} }}\n"
        f"{body}\n}}"
    )


class NotebookPage:
    """One notebook opened in a Playwright page (sync API) against a :class:`JupyterServer`."""

    CELLS = ".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell"

    def __init__(self, page: Any, server: JupyterServer, *, timeout: float = 60.0) -> None:
        self.page = page
        self.server = server
        self.timeout_ms = int(timeout * 1000)
        self.path: str | None = None
        self.all_page_errors: list[str] = []
        self.allowlist: list[re.Pattern[str]] = list(PAGE_ERROR_ALLOWLIST)
        self._closed = False
        page.on("pageerror", self._on_pageerror)

    # -- page errors -------------------------------------------------------------------
    def _on_pageerror(self, err: Any) -> None:
        msg = getattr(err, "message", None) or str(err)
        self.all_page_errors.append(msg)

    def allow_page_error(self, pattern: str) -> None:
        """Tolerate page errors matching the regex (for tests that provoke one on purpose)."""
        self.allowlist.append(re.compile(pattern))

    @property
    def page_errors(self) -> list[str]:
        """Uncaught page errors not on the allowlist."""
        return [e for e in self.all_page_errors if not any(p.search(e) for p in self.allowlist)]

    # -- open ----------------------------------------------------------------------------
    def open(self, name: str, cells: list[str] | None = None) -> NotebookPage:
        """Write NAME (.ipynb added if missing) with these code cells, open it, wait until the
        app is up and the kernel idle."""
        if not name.endswith(".ipynb"):
            name += ".ipynb"
        nb = nbformat.v4.new_notebook()
        nb.metadata["kernelspec"] = {
            "name": "python3",
            "display_name": "Python 3 (ipykernel)",
            "language": "python",
        }
        nb.metadata["language_info"] = {"name": "python"}
        nb.cells = [nbformat.v4.new_code_cell(src) for src in (cells or [])]
        target = self.server.root_dir / name
        target.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, target)
        self.path = name

        quoted = urllib.parse.quote(name)
        token = urllib.parse.quote(self.server.token)
        if self.server.app == "lab":
            ws = "t" + uuid.uuid4().hex[:12]  # G5: fresh workspace, no restored tabs
            url = f"{self.server.url}/lab/workspaces/{ws}/tree/{quoted}?token={token}"
        else:
            url = f"{self.server.url}/notebooks/{quoted}?token={token}"
        self.page.goto(url, timeout=self.timeout_ms)
        self.page.wait_for_function("() => !!window.jupyterapp", timeout=self.timeout_ms)
        self.page.wait_for_function(
            _js("return !!(panel.context.isReady && panel.sessionContext.isReady);", wait=True),
            arg={"path": name},
            timeout=self.timeout_ms,
            polling=100,
        )
        self.wait_kernel_idle()
        n = len(cells or [])
        if n:
            self.cells.nth(n - 1).wait_for(state="attached", timeout=self.timeout_ms)
        return self

    # -- waiting ---------------------------------------------------------------------------
    def wait_kernel_idle(self, timeout: float | None = None) -> None:
        """Kernel status 'idle' via the API and the toolbar indicator (if present)."""
        t = self.timeout_ms if timeout is None else int(timeout * 1000)
        self.page.wait_for_function(
            _js(
                """
                const k = panel.sessionContext.session && panel.sessionContext.session.kernel;
                if (!k || k.status !== 'idle') return false;
                const ind = panel.node.querySelector('.jp-Notebook-ExecutionIndicator');
                return !ind || ind.getAttribute('data-status') !== 'busy';
                """,
                wait=True,
            ),
            arg={"path": self.path},
            timeout=t,
            polling=50,
        )

    def kernel_id(self) -> str | None:
        return self.page.evaluate(
            _js("const s = panel.sessionContext.session;return s && s.kernel ? s.kernel.id : null;"),
            {"path": self.path},
        )

    # -- cells -----------------------------------------------------------------------------
    @property
    def cells(self) -> Any:
        return self.page.locator(self.CELLS)

    def cell(self, i: int) -> Any:
        return self.cells.nth(i)

    def cell_count(self) -> int:
        return self.page.evaluate(
            _js("return panel.content.model.sharedModel.cells.length;"), {"path": self.path}
        )

    def add_cell(self, code: str) -> int:
        """Append a code cell through the shared model (no typing, G11). Returns its index."""
        idx = self.page.evaluate(
            _js(
                """
                const sm = panel.content.model.sharedModel;
                const i = sm.cells.length;
                sm.insertCell(i, {cell_type: 'code', source: args.code});
                return i;
                """
            ),
            {"path": self.path, "code": code},
        )
        self.cell(idx).wait_for(state="attached", timeout=self.timeout_ms)
        return idx

    def run_cell(self, i: int, timeout: float | None = None) -> int:
        """Run cell i in place (click its prompt, Control+Enter, G10); wait for ``[N]:`` and
        kernel idle. Returns N."""
        t = self.timeout_ms if timeout is None else int(timeout * 1000)
        # Clear the execution count first so a stale `[N]:` (e.g. `[1]:` again after a kernel
        # restart) cannot satisfy the wait below.
        kind = self.page.evaluate(
            _js(
                """
                const c = panel.content.widgets[args.i];
                if (!c) return null;
                if (c.model.type === 'code') c.model.executionCount = null;
                return c.model.type;
                """
            ),
            {"path": self.path, "i": i},
        )
        if kind != "code":
            raise ValueError(f"cell {i} of {self.path} is {kind or 'missing'}, not a code cell")
        cell = self.cell(i)
        prompt = cell.locator(".jp-InputPrompt").first
        prompt.scroll_into_view_if_needed(timeout=t)
        prompt.click(timeout=t)
        self.page.keyboard.press("Control+Enter")
        self.page.wait_for_function(
            _js(
                """
                const c = panel.content.widgets[args.i];
                const p = c && c.node.querySelector('.jp-InputPrompt');
                return !!p && /^\\[\\d+\\]:$/.test(p.textContent.trim());
                """,
                wait=True,
            ),
            arg={"path": self.path, "i": i},
            timeout=t,
            polling=50,
        )
        self.wait_kernel_idle(timeout)
        text = prompt.text_content() or ""
        m = re.search(r"\[(\d+)\]", text)
        return int(m.group(1)) if m else -1

    def run_all(self, timeout: float | None = None) -> None:
        for i in range(self.cell_count()):
            self.run_cell(i, timeout=timeout)

    def cell_output_text(self, i: int) -> str:
        """Text of all output areas of cell i (empty string if none)."""
        outs = self.cell(i).locator(".jp-OutputArea-output")
        return "\n".join(t for t in outs.all_inner_texts())

    # -- kernel ------------------------------------------------------------------------------
    def restart_kernel(self, timeout: float | None = None) -> None:
        """Restart without the confirmation dialog (sessionContext.restartKernel), wait idle."""
        before = self.kernel_id()
        saw_restart = self.page.evaluate(
            _js(
                """
                const kernel = panel.sessionContext.session.kernel;
                let saw = false;
                const onStatus = (_, status) => { if (status === 'restarting') saw = true; };
                kernel.statusChanged.connect(onStatus);
                try { await panel.sessionContext.restartKernel(); }
                finally { kernel.statusChanged.disconnect(onStatus); }
                return saw;
                """
            ),
            {"path": self.path},
        )
        assert saw_restart, "kernel never reported 'restarting'"
        self.wait_kernel_idle(timeout)
        after = self.kernel_id()
        assert after == before, f"restart replaced the kernel ({before} -> {after})"

    def kill_kernel(self, pid: int, timeout: float | None = None) -> None:
        """SIGKILL the kernel process ``pid``; wait until the server has restarted it and the page
        knows, then close the "kernel died" notice Lab and Notebook 7 show."""
        self.page.evaluate(
            _js(
                """
                window.__nblKernelRestarts = 0;
                const count = (_, status) => {
                  if (status === 'autorestarting' || status === 'restarting') window.__nblKernelRestarts++;
                };
                panel.sessionContext.statusChanged.connect(count);
                window.__nblStopCounting = () => panel.sessionContext.statusChanged.disconnect(count);
                """
            ),
            {"path": self.path},
        )
        os.kill(pid, signal.SIGKILL)
        t = self.timeout_ms if timeout is None else int(timeout * 1000)
        self.page.wait_for_function("() => window.__nblKernelRestarts > 0", timeout=t, polling=50)
        self.page.evaluate("() => window.__nblStopCounting()")
        self.wait_kernel_idle(timeout)
        dialog = self.page.locator(".jp-Dialog")
        if dialog.count():
            dialog.locator(".jp-Dialog-button").last.click(timeout=t)
            dialog.wait_for(state="detached", timeout=t)

    # -- teardown ----------------------------------------------------------------------------
    def close(self) -> None:
        """Delete this notebook's kernel session (G14); the page itself belongs to the caller."""
        if self._closed:
            return
        self._closed = True
        if self.path is not None:
            with contextlib.suppress(OSError, urllib.error.URLError):
                self.server.delete_sessions(path=self.path)
