"""The portal latency benchmark (``python -m benchmarks.portal_latency``) run tiny: one
annotator, a few presses, JupyterLab beside it; it writes its section."""

from __future__ import annotations

from pathlib import Path

from benchmarks.portal_latency import main


def test_a_tiny_run_writes_its_section(tmp_path: Path) -> None:
    out = tmp_path / "BENCHMARKS.md"
    assert (
        main(["--presses", "4", "--warmup", "1", "--gap-ms", "150", "--annotators", "1", "--out", str(out)])
        == 0
    )
    text = out.read_text()
    assert "<!-- portal_latency:start -->" in text and "| JupyterLab 4 | 1 | 3 |" in text
    assert "| portal (Voilà) | 1 | 3 |" in text
