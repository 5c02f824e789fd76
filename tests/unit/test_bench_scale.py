"""The scale benchmark (``python -m benchmarks.scale_autolabel``) run tiny: both modes, every
stage, the per-item slopes, job.add's latency, the lazily opened manifest and the consolidation
land in its section."""

from __future__ import annotations

from pathlib import Path

import pytest

import nblabel
from benchmarks.scale_autolabel import dialogues, main


def test_the_items_are_the_real_texts_repeated() -> None:
    df = dialogues(5000)
    assert len(df) == 5000 and df.source.is_unique
    assert df.source[4624].endswith(" #1") and df.source[4624][:-3] == df.source[0][:-3]
    assert set(df.gold) == {"chosen", "rejected"}


def test_a_tiny_run_writes_its_section(tmp_path: Path) -> None:
    out = tmp_path / "BENCHMARKS.md"
    tiny = ["--manifest-lines", "3000", "--consolidation-items", "2000", "--add-rows", "300"]
    tiny += ["--open-repeats", "1", "--cache", str(tmp_path / "cache")]
    assert main(["--sizes", "400,800", "--answers", "100", "--out", str(out), *tiny]) == 0
    text = out.read_text()
    assert "<!-- scale-autolabel:start -->" in text and "## Auto-labeling at scale (Dask)" in text
    assert "| in-process | 800 |" in text and "| 2-worker LocalCluster | 800 |" in text
    assert "`job.add` of 300 rows to a 800-item job" in text
    assert "a 3,000-line manifest, 2,000 items x 3 answers" in text and "for 3,000 items" in text
    assert "the median of 1 fresh processes" in text
    assert "Exporting it (`job.export(folder)`" in text and ": 3,000 lines in" in text
    assert "| Dawid-Skene |" in text and "| majority vote |" in text


def test_the_open_alone_compares_two_checkouts_side_by_side(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "BENCHMARKS.md"
    src = Path(nblabel.__file__).parents[1]  # this checkout's src, standing in for another's
    args = ["--open-only", "--manifest-lines", "500", "--open-repeats", "1", "--compare-src", str(src)]
    assert main([*args, "--cache", str(tmp_path / "cache"), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "| this checkout | 500 |" in printed and f"| {src} | 500 |" in printed
    assert not out.exists()  # printed, not written
