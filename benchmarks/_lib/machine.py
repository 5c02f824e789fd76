"""The machine a benchmark ran on, and the CPU time of the processes it started and of the others.

The machine is shared with other work, so every section says how loaded it was: load averages
at the start and end, and over a series the share of all cores that other processes used.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import os
import platform
import subprocess
import time
from collections.abc import Iterable, Sequence
from importlib import metadata
from pathlib import Path

import psutil

from benchmarks._lib.report import REPO, command_line
from tests.harness import JupyterServer

__all__ = [
    "OtherLoad",
    "bundle_digest",
    "chromium_procs",
    "cores",
    "cpu_name",
    "kernel_procs",
    "load_average",
    "machine_info",
    "reap",
    "run_header",
    "tree_cpu",
    "versions",
]

CLASSIFY_JS = REPO / "src" / "nblabel" / "static" / "classify.js"
# The front end and kernel packages a latency depends on, with nblabel itself.
UI_PACKAGES = (
    "jupyterlab",
    "jupyter_server",
    "ipykernel",
    "ipywidgets",
    "anywidget",
    "playwright",
    "nblabel",
)


def cpu_name() -> str:
    """The CPU's model name (from /proc/cpuinfo where there is one)."""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine() or "unknown"


def cores() -> int:
    """The cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def machine_info() -> dict[str, str]:
    """CPU, cores, memory, OS and Python, as text for a section's "Machine" paragraph."""
    return {
        "cpu": cpu_name(),
        "cores": str(cores()),
        "mem": f"{psutil.virtual_memory().total / 2**30:.0f} GiB",
        "os": platform.platform(),
        "python": platform.python_version(),
    }


def load_average(values: Iterable[float] | None = None) -> str:
    """The 1/5/15-minute load averages (now, or the given ones) as ``"a / b / c"``."""
    return " / ".join(f"{x:.2f}" for x in (os.getloadavg() if values is None else values))


def bundle_digest(esm: Path | None = None) -> str:
    """First 12 hex digits of the sha256 of the widget's JavaScript that the kernel will load."""
    try:
        return hashlib.sha256((esm or CLASSIFY_JS).read_bytes()).hexdigest()[:12]
    except OSError:
        return "n/a"


def versions(browser_version: str, esm: Path | None = None) -> dict[str, str]:
    """Versions of the UI packages, the browser, nblabel's git revision and its widget bundle."""
    out = {}
    for pkg in UI_PACKAGES:
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = "n/a"
    out["chromium"] = browser_version
    with contextlib.suppress(OSError, subprocess.CalledProcessError):
        rev = subprocess.run(
            ["git", "-C", str(REPO), "describe", "--always", "--dirty"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        out["nblabel"] += f" (git {rev})"
    name = str(esm) if esm else "src/nblabel/static/classify.js"
    out["widget JS"] = f"{name} (sha256 {bundle_digest(esm)} at the start; per series in the table above)"
    return out


# --------------------------------------------------------------------------- processes


def tree_cpu(procs: Iterable[psutil.Process]) -> float:
    """User + system CPU seconds of these processes (those that are gone count 0)."""
    total = 0.0
    for p in procs:
        with contextlib.suppress(psutil.Error):
            t = p.cpu_times()
            total += t.user + t.system
    return total


def _busy_cpu_s() -> float:
    """CPU seconds the whole machine spent busy (all cores)."""
    t = psutil.cpu_times()
    return sum(t) - t.idle - getattr(t, "iowait", 0.0)


def _own_cpu_s() -> float:
    """CPU seconds of this process and everything it started (driver, browser, servers, kernels)."""
    me = psutil.Process()
    return tree_cpu([me, *me.children(recursive=True)])


def chromium_procs() -> list[psutil.Process]:
    """The browser processes this benchmark started."""
    procs = []
    for p in psutil.Process().children(recursive=True):
        with contextlib.suppress(psutil.Error):
            if "chrom" in p.name():
                procs.append(p)
    return procs


def kernel_procs(server: JupyterServer) -> list[psutil.Process]:
    """Every descendant of a Jupyter server's process: its kernels and what they started."""
    if server.proc is None:
        return []
    with contextlib.suppress(psutil.Error):
        return psutil.Process(server.proc.pid).children(recursive=True)
    return []


def reap(procs: list[psutil.Process], timeout: float = 60) -> None:
    """Wait for processes told to stop (an auto-labeler's worker ends its round on SIGTERM);
    kill those still running after ``timeout`` seconds."""
    if not procs:
        return
    _, alive = psutil.wait_procs(procs, timeout=timeout)
    for p in alive:
        with contextlib.suppress(psutil.Error):
            p.kill()


def run_header(module: str, argv: Sequence[str] | None, started: float) -> str:
    """A section's first words: when, by which command (``python -m benchmarks.<module> ...``),
    how long since ``started`` (``time.monotonic()``) and on which CPU."""
    when = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return (
        f"Measured {when} by `{command_line(module, argv)}` (run time "
        f"{(time.monotonic() - started) / 60:.1f} min) on {cpu_name()}, {cores()} cores"
    )


class OtherLoad:
    """The share of all cores that processes other than this benchmark's used since it was made:
    the machine's busy CPU time minus this process tree's, over the wall time. What other jobs
    got, not what they wanted."""

    def __init__(self) -> None:
        self.busy, self.own, self.wall = _busy_cpu_s(), _own_cpu_s(), time.monotonic()

    def percent(self) -> float:
        """Percent of all cores since the start (0 to 100)."""
        foreign = (_busy_cpu_s() - self.busy) - (_own_cpu_s() - self.own)
        elapsed = max(time.monotonic() - self.wall, 1e-9)
        return 100 * max(0.0, foreign) / (elapsed * (os.cpu_count() or 1))
