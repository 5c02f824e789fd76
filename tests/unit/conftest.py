"""Every unit test runs in its own empty working directory, as annotator "ana"."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Default stores (``.nblabel/<job>.sqlite``) land in the test's temporary folder."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NBLABEL_ANNOTATOR", "ana")
