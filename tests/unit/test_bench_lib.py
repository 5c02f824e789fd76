"""benchmarks._lib without a browser: percentiles, the quoted command line, the page hooks' syntax."""

from __future__ import annotations

import math
import random
import subprocess
from pathlib import Path

import numpy as np
import pytest

from benchmarks._lib import hooks
from benchmarks._lib.report import REPO, command_line
from benchmarks._lib.stats import fmt, median, p95, percentile, summary


def test_percentiles_match_numpy_linear_interpolation() -> None:
    rng = random.Random(3)
    for n in (1, 2, 7, 100):
        values = [rng.uniform(0, 50) for _ in range(n)]
        for q in (0, 50, 95, 100):
            assert percentile(values, q) == pytest.approx(float(np.percentile(values, q)))
    assert median([3.0, 1.0, 2.0]) == 2.0
    assert p95([float(i) for i in range(101)]) == pytest.approx(95.0)


def test_summary_and_fmt_of_nothing_say_so() -> None:
    s = summary([])
    assert s["n"] == 0 and all(math.isnan(s[k]) for k in ("p50", "p95", "max", "mean"))
    assert fmt(s["p95"]) == "–"
    assert fmt(12.345) == "12.3"
    assert summary([4.0, 2.0])["mean"] == 3.0


def test_command_line_quotes_the_module_with_repository_paths_relative() -> None:
    argv = ["--out", str(REPO / "BENCHMARKS.md"), "--json", "/tmp/raw.json"]
    assert (
        command_line("scale", argv) == "python -m benchmarks.scale --out BENCHMARKS.md --json /tmp/raw.json"
    )


@pytest.mark.parametrize("name", [n for n in hooks.__all__ if n != "PAINTED_JS"])
def test_page_hooks_are_one_valid_javascript_function(name: str, tmp_path: Path) -> None:
    """Node (which `make jstest` needs anyway) parses each hook, with PAINTED_JS spliced in."""
    source = tmp_path / f"{name}.js"
    source.write_text(
        f"const hook = {getattr(hooks, name)};\nif (typeof hook !== 'function') process.exit(1);\n"
    )
    done = subprocess.run(["node", str(source)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
