"""Progress bars for long transfers: a bar in the notebook, a text bar in a terminal.

The headless core never imports IPython: a notebook bar is used only when IPython is already
imported *and* a kernel is running (``IPython.get_ipython()`` has a ``kernel``); the bar is then an
updated HTML display (no widget, so it also shows in nbconvert output). Elsewhere the bar is a
line of text on stderr redrawn with ``\\r``, shown when stderr is a terminal.

``NBLABEL_PROGRESS=0`` turns every bar off, ``NBLABEL_PROGRESS=1`` turns them on even when
stderr is not a terminal.
"""

from __future__ import annotations

import html
import os
import sys
import threading
import time
from types import TracebackType
from typing import IO, Any

__all__ = ["Progress", "in_kernel"]

#: Transfers below this many bytes (or items, for counts) show no bar unless asked.
DEFAULT_THRESHOLD = 16 * 1024 * 1024
_REDRAW_EVERY = 0.1  # seconds between redraws; the final state is always drawn
_WIDTH = 30


def in_kernel() -> bool:
    """True when running inside a Jupyter kernel (without importing IPython)."""
    ipython = sys.modules.get("IPython")
    if ipython is None:
        return False
    try:
        shell = ipython.get_ipython()
    except Exception:  # an IPython too broken to answer is no kernel we can draw in
        return False
    return shell is not None and getattr(shell, "kernel", None) is not None


def _size(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if abs(n) < 1000 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    raise AssertionError("unreachable")


def _duration(seconds: float) -> str:
    if seconds < 90:  # "1 min" would hide a half
        return f"{max(seconds, 1):.0f} s"
    minutes = round(seconds / 60)
    return f"{minutes} min" if minutes < 60 else f"{minutes // 60} h {minutes % 60} min"


class Progress:
    """A progress bar that appears only for long transfers.

    Parameters
    ----------
    description
        What is being done, e.g. ``"upload s3://bucket/key"``.
    total
        The total count, if known.
    unit
        ``"B"`` for bytes (shown as KB/MB/GB), else a noun for counts, e.g. ``"objects"``.
    enabled
        None: show the bar once ``total`` (or, when unknown, the count so far) reaches
        ``threshold``, in a notebook or when ``stream`` is a terminal. True: always show it.
        False: never.
    threshold
        See ``enabled``.
    stream
        Where the text bar goes; default ``sys.stderr`` (looked up when drawing).

    Examples
    --------
    >>> with Progress("copy", total=3, unit="files", enabled=False) as bar:
    ...     bar.update(3)
    """

    def __init__(
        self,
        description: str,
        total: int | None = None,
        *,
        unit: str = "B",
        enabled: bool | None = None,
        threshold: int = DEFAULT_THRESHOLD,
        stream: IO[str] | None = None,
    ) -> None:
        self.description = description
        self.total = total
        self.unit = unit
        self.count = 0
        self._threshold = threshold
        self._stream = stream
        self._lock = threading.Lock()
        self._start = time.monotonic()
        self._last_draw = 0.0
        self._view: _TextView | _NotebookView | None = None
        self._closed = False
        setting = os.environ.get("NBLABEL_PROGRESS", "").strip()
        if setting in ("0", "1"):
            enabled = setting == "1"
        self._enabled = enabled
        if enabled is not False and (enabled or (total is not None and total >= threshold)):
            self._open_view()

    def _open_view(self) -> None:
        if self._view is not None or self._enabled is False:
            return
        if in_kernel():
            self._view = _NotebookView()
            return
        stream = self._stream or sys.stderr
        if self._enabled or _isatty(stream):
            self._view = _TextView(stream)

    def update(self, n: int) -> None:
        """Add ``n`` to the count and redraw if it is time."""
        with self._lock:
            self.count += n
            if self._view is None and self._enabled is not False and self.count >= self._threshold:
                self._open_view()
            now = time.monotonic()
            if self._view is not None and now - self._last_draw >= _REDRAW_EVERY:
                self._last_draw = now
                self._view.draw(self._state(now), final=False)

    def report(self, done: int, total: int) -> None:
        """Set the count to ``done`` of ``total`` (and redraw if it is time): a callback for work
        that tells how far it got (:data:`nblabel.autolabel.features.Progress`)."""
        self.total = total
        self.update(done - self.count)

    def close(self) -> None:
        """Draw the final state and end the bar's line."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            if self._view is not None:
                self._view.draw(self._state(time.monotonic()), final=True)

    def _state(self, now: float) -> dict[str, Any]:
        elapsed = max(now - self._start, 1e-9)
        done = self.count
        if self.unit == "B":
            amount = _size(done) if self.total is None else f"{_size(done)}/{_size(self.total)}"
            rate = f"{_size(done / elapsed)}/s"
        else:
            amount = f"{done:,}" if self.total is None else f"{done:,}/{self.total:,}"
            amount += f" {self.unit}"
            rate = f"{done / elapsed:,.1f} {self.unit}/s"
        fraction = None if not self.total else min(done / self.total, 1.0)
        if fraction is not None and 0 < fraction < 1:  # at the pace so far
            rate += f", about {_duration(elapsed / fraction - elapsed)} left"
        return {"description": self.description, "fraction": fraction, "amount": amount, "rate": rate}

    def __enter__(self) -> Progress:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def _isatty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError, OSError):
        return False


class _TextView:
    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream

    def draw(self, state: dict[str, Any], *, final: bool) -> None:
        fraction = state["fraction"]
        if fraction is None:
            bar = ""
        else:
            filled = round(fraction * _WIDTH)
            bar = f" {fraction * 100:3.0f}% [{'#' * filled}{'.' * (_WIDTH - filled)}]"
        line = f"\r{state['description']}:{bar} {state['amount']} {state['rate']}"
        try:
            self.stream.write(line + ("\n" if final else ""))
            self.stream.flush()
        except (OSError, ValueError):  # a closed or broken stderr must not break the transfer
            pass


class _NotebookView:
    def __init__(self) -> None:
        from IPython.display import HTML, display  # only reached inside a kernel

        self._html = HTML
        self._handle = display(HTML(""), display_id=True)

    def draw(self, state: dict[str, Any], *, final: bool) -> None:
        fraction = state["fraction"]
        bar = "<progress></progress>" if fraction is None else f'<progress value="{fraction:.4f}"></progress>'
        if final and fraction is None:
            bar = '<progress value="1"></progress>'
        percent = "" if fraction is None else f" {fraction * 100:.0f}%"
        text = html.escape(f"{state['description']}:{percent} {state['amount']} {state['rate']}")
        if self._handle is not None:
            self._handle.update(self._html(f'<div class="nblabel-progress">{bar} <code>{text}</code></div>'))
