"""One notebook opened in a Playwright page (sync API) against a :class:`JupyterServer`.

The G-numbers are the gotchas of the measured recipe, shared/reference/browser-testing.md.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import urllib.error
import urllib.parse
import uuid
from typing import Any

import nbformat

from tests.harness.server import JupyterServer

__all__ = ["PAGE_ERROR_ALLOWLIST", "NotebookPage"]

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
