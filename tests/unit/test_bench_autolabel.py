"""Smoke test of benchmarks/autolabel: a tiny run on scikit-learn's digits (no download)."""

from __future__ import annotations

import json
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


def test_only_nblabel_skips_the_baselines(tmp_path: Path) -> None:
    out = tmp_path / "BENCHMARKS.md"
    out.write_text("# Benchmarks\n")
    runs = tmp_path / "runs.json"
    args = ["--datasets", "digits", "--seeds", "0-0", "--budgets", "digits=20,40", "--zero-shot", "0"]
    args += ["--cache", str(tmp_path / "cache"), "--img", str(tmp_path / "img"), "--out", str(out)]
    assert main([*args, "--only-nblabel", "--json", str(runs)]) == 0
    (run,) = [json.loads(line) for line in runs.with_suffix(".runs.jsonl").read_text().splitlines()]
    assert run["gt_style"] == [] and run["uncertainty"] == [] and run["nblabel"]
    assert run["wall"]["gt_style"] == run["wall"]["uncertainty"] == 0
    # Every round records the bound at its best cut, auto-labeling or not.
    assert all("best_bound" in rec for rec in run["nblabel"])
    text = out.read_text()
    assert "| sklearn digits: the GT-style baseline fails the honesty bar | not run | — |" in text
    assert "One seed (nblabel alone)" in text
    # The baseline columns of the summary rows are empty; nblabel's are filled.
    rows = [line.split("|") for line in text.splitlines() if line.startswith(("| 20 |", "| 40 |"))]
    assert len(rows) == 2 and all(row[8].strip() == "— (—)" and row[2].strip() != "— (—)" for row in rows)
