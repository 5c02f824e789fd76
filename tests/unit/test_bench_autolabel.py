"""Smoke test of benchmarks/autolabel: a tiny run on scikit-learn's digits (no download), and the
Fashion-MNIST feature cache on made-up features."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

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
    # CPU time beside wall time (a paused run shows in the wall time only); none for a skipped baseline.
    assert run["cpu"]["nblabel"] > 0 and run["cpu"]["gt_style"] == run["cpu"]["uncertainty"] == 0
    # Every round records the bound at its best cut, auto-labeling or not.
    assert all("best_bound" in rec for rec in run["nblabel"])
    text = out.read_text()
    assert "| sklearn digits: the GT-style baseline fails the honesty bar | not run | — |" in text
    assert "One seed (nblabel alone)" in text
    # The baseline columns of the summary rows are empty; nblabel's are filled.
    rows = [line.split("|") for line in text.splitlines() if line.startswith(("| 20 |", "| 40 |"))]
    assert len(rows) == 2 and all(row[8].strip() == "— (—)" and row[2].strip() != "— (—)" for row in rows)


def test_fashion_features_featurize_each_image_once_across_subsets(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An EfficientNet pass over Fashion-MNIST takes most of an hour: a subset's rows are kept for
    # the whole set, and a killed run resumes from the chunks it stored.
    from benchmarks.autolabel import datasets

    seen: list[str] = []

    def fake(paths: list[str]) -> np.ndarray:
        seen.extend(paths)
        return np.array([[float(Path(p).stem), 1.0] for p in paths])

    datasets._fashion_featurizers()
    monkeypatch.setitem(datasets.FASHION_FEATURES, "fake", ("fake_features", fake))
    monkeypatch.setattr(datasets, "_CHUNK", 3)
    paths = [f"/images/{i}.png" for i in range(10)]
    X, info = datasets.fashion_features(paths, "fake", tmp_path, np.array([7, 2, 5, 9]))
    assert X[:, 0].tolist() == [7, 2, 5, 9] and info["images"] == 4
    assert (tmp_path / "fake_features.partial.npz").exists()
    X, info = datasets.fashion_features(paths, "fake", tmp_path)
    assert X[:, 0].tolist() == list(range(10)) and info["images"] == 10
    assert sorted(seen) == sorted(paths)  # every image featurized exactly once
    assert not (tmp_path / "fake_features.partial.npz").exists()
    X, _ = datasets.fashion_features(paths, "fake", tmp_path, np.array([3]))
    assert X.tolist() == [[3.0, 1.0]] and len(seen) == 10  # from the finished file


def test_the_features_probe_scores_a_given_estimator_on_the_rows_it_did_not_train_on() -> None:
    from sklearn.linear_model import LogisticRegression

    from benchmarks.autolabel.features_probe import score

    rng = np.random.default_rng(0)
    y = np.repeat(np.array([3, 7]), 50)  # labels that are not 0..n-1
    X = np.column_stack([y + rng.normal(0, 0.1, 100), rng.normal(0, 1, 100)])
    accuracy, coverage = score(X, y, 20, seed=1, estimator=LogisticRegression())
    assert (accuracy, coverage) == (1.0, 1.0)
    y_noisy = y.copy()
    y_noisy[::2] = 10 - y_noisy[::2]  # half the labels flipped: no model can be right on them
    accuracy, coverage = score(X, y_noisy, 20, seed=1, estimator=LogisticRegression())
    assert accuracy < 0.7 and coverage < 0.5
