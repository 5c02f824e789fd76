"""Shared by the benchmark scripts: each owns one section of BENCHMARKS.md and rewrites only it."""

from __future__ import annotations

import re
from pathlib import Path

__all__ = ["write_section"]


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
