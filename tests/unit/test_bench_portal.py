"""The portal latency benchmark (``python -m benchmarks.portal_latency``) run tiny: one
annotator, a few presses, JupyterLab beside it; it writes its section. A queue that runs dry
fails the run."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks._lib.run import run_module
from benchmarks.portal_latency import dry, items_needed
from benchmarks.ui_latency.series import Series
from nblabel.portal.app import WINDOW


def test_every_annotator_has_a_next_item_and_a_dry_queue_fails_the_run() -> None:
    assert items_needed(60, 4) == 4 * (60 + 1 + WINDOW)
    dry(Series("portal", "texts", 0), "item")
    with pytest.raises(RuntimeError, match="ran dry"):
        dry(Series("portal", "texts", 0), "done")


@pytest.mark.browser
def test_a_tiny_run_writes_its_section(tmp_path: Path) -> None:
    out = tmp_path / "BENCHMARKS.md"
    argv = ["--presses", "4", "--warmup", "1", "--gap-ms", "150", "--annotators", "1", "--lab-series", "1"]
    argv += ["--out", str(out)]
    run = run_module("portal_latency", argv)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-4000:]
    text = out.read_text()
    assert "<!-- portal_latency:start -->" in text and "| JupyterLab 4 | 1 | 3 |" in text
    assert "| portal (Voilà) | 1 | 3 |" in text
