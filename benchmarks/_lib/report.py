"""Each benchmark owns one section of BENCHMARKS.md and rewrites only it."""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Sequence
from pathlib import Path

__all__ = ["REPO", "command_line", "write_section"]

REPO = Path(__file__).resolve().parents[2]


def write_section(out: Path, name: str, section: str) -> None:
    """Replace the text between ``<!-- name:start -->`` and ``<!-- name:end -->`` in ``out``.

    The section is appended when the marks are missing, and the file created when it is; the
    other scripts' sections are left as they are.
    """
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    block = f"{start}\n{section.rstrip()}\n{end}\n"
    if out.exists():
        text = out.read_text()
        pattern = re.compile(re.escape(start) + r".*?" + re.escape(end) + r"\n?", re.S)
        if pattern.search(text):
            text = pattern.sub(lambda _m: block, text, count=1)
        else:
            text = text.rstrip("\n") + "\n\n" + block
    else:
        text = "# Benchmarks\n\n" + block
    out.write_text(text)


def command_line(module: str, argv: Sequence[str] | None = None) -> str:
    """How this run was started, to quote in its section: ``python -m benchmarks.<module> ...``,
    with paths inside the repository made relative to it (``argv`` defaults to ``sys.argv``)."""
    args = list(sys.argv[1:] if argv is None else argv)
    inside = str(REPO) + os.sep
    shown = [os.path.relpath(a, REPO) if a.startswith(inside) else a for a in args]
    return " ".join(["python -m", f"benchmarks.{module}", *shown])
