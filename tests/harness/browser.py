"""Debian's chromium for Playwright: the launch arguments every browser test and benchmark uses.

Chromium: Debian's /usr/bin/chromium (override with NBLABEL_CHROMIUM); never `playwright install`
(G8). The G-numbers are the gotchas of the measured recipe, shared/reference/browser-testing.md.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

__all__ = ["CHROMIUM_ARGS", "CHROMIUM_PATH", "chromium_launch_args", "launch_browser"]

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
