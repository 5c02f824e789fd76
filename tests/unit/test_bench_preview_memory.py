"""Smoke test of benchmarks.preview_memory, tiny: one measuring process on a small PNG, and the
section built from made-up figures (the real ones come from `python -m benchmarks.preview_memory`)."""

from __future__ import annotations

from pathlib import Path

from benchmarks.preview_memory import CASES, make_png, measure, report


def test_one_fresh_process_measures_a_preview(tmp_path: Path) -> None:
    got = measure("nblabel", make_png(tmp_path, 600))
    assert got["seconds"] > 0 and got["mb"] >= 0


def test_the_section_gives_each_pair_side_by_side() -> None:
    results = {
        how: {"mb": [300.0 if how.startswith("pillow") else 60.0], "seconds": [1.0]}
        for pair in CASES
        for how in pair
    }
    text = report(results, 9000, 1, 240.0, "1.00", ["--runs", "1"])
    assert "| pillow-whole → nblabel | 300.0 / 300.0 | 60.0 / 60.0 | 5.0× |" in text
    assert "| pillow-exif → image_size |" in text and "9000×9000" in text
