"""Smoke test of benchmarks/autolabel: a tiny run on scikit-learn's digits (no download)."""

from __future__ import annotations

from pathlib import Path

from benchmarks.autolabel.cli import main


def test_tiny_run_writes_its_section(tmp_path: Path) -> None:
    out = tmp_path / "BENCHMARKS.md"
    out.write_text("# Benchmarks\n\n<!-- other:start -->\nkept\n<!-- other:end -->\n")
    args = ["--datasets", "digits", "--seeds", "0-0", "--budgets", "digits=20,40", "--zero-shot", "0"]
    args += ["--cache", str(tmp_path / "cache"), "--img", str(tmp_path / "img"), "--out", str(out)]
    assert main(args) == 0
    text = out.read_text()
    assert "kept" in text and "<!-- autolabel:start -->" in text and "<!-- autolabel:end -->" in text
    assert "### sklearn digits (1,797 items, 10 classes, 1 seeds)" in text
    # One summary row per budget, its coverage a percentage; one per-seed row per budget.
    rows = [line for line in text.splitlines() if line.startswith(("| 20 |", "| 40 |"))]
    assert len(rows) == 2 and all(row.split("|")[2].strip().endswith(")") for row in rows)
    per_seed = [line for line in text.splitlines() if line.startswith(("| 0 | 20 |", "| 0 | 40 |"))]
    assert len(per_seed) == 2
    assert (tmp_path / "img" / "autolabel-digits.png").stat().st_size > 0
