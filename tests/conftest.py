"""Options for the whole test suite (registered here, at the tests' root, so that pytest knows them
whichever folder it is pointed at)."""

from __future__ import annotations

from pathlib import Path

import pytest

SCREENSHOTS = Path(__file__).resolve().parents[1] / "test-screenshots"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--screenshot-dir",
        type=Path,
        default=SCREENSHOTS,
        help="where browser tests save their screenshots (default test-screenshots/, ignored by git; "
        "`make screenshots` passes docs/img)",
    )
