"""The preference benchmark (``python -m benchmarks.preference``) run tiny, without the browser,
on pairs in HH-RLHF's format."""

from __future__ import annotations

import gzip
import json
import time
from pathlib import Path

import numpy as np
import pytest

from benchmarks.preference import answer_strengths, length_judge, load_pairs, main, parse_args, render


def test_a_tiny_run_writes_its_section(tmp_path: Path) -> None:
    data = tmp_path / "test.jsonl.gz"
    with gzip.open(data, "wt", encoding="utf-8") as fh:
        for i in range(120):
            prompt = f"\n\nHuman: question {i}?"
            short, long = "No." + " " * (i % 7), "Here is how, step by step: " + "x" * (40 + 13 * i)
            chosen, rejected = (short, long) if i % 4 else (long, short)
            fh.write(
                json.dumps(
                    {
                        "chosen": f"{prompt}\n\nAssistant: {chosen}",
                        "rejected": f"{prompt}\n\nAssistant: {rejected}",
                    }
                )
                + "\n"
            )
    pairs = load_pairs(data)
    assert len(pairs) == 120 and pairs[0]["prompt"] == "Human: question 0?"
    assert length_judge("", ["ab", "abcd"])[0] == "A"
    out = tmp_path / "BENCHMARKS.md"
    argv = ["--data", str(data), "--presses", "0", "--seeds", "1", "--answered", "60", "--noise", "0.2"]
    argv += ["--recovery-seeds", "1", "--bootstrap", "20", "--targets", "0.6", "--sources", "3"]
    assert main([*argv, "--out", str(out)]) == 0
    text = out.read_text()
    assert "<!-- preference:start -->" in text and "## Preference tasks" in text
    assert "| 0.20 |" in text and "| 0.60 |" in text


def test_the_strengths_noisy_answers_carry() -> None:
    planted = np.linspace(1.0, -1.0, 4)
    assert answer_strengths(planted, 0.0) == pytest.approx(planted, abs=1e-6)
    shrunk = answer_strengths(planted, 0.2)
    assert (
        list(np.argsort(-shrunk)) == [0, 1, 2, 3]
        and abs(shrunk).max() < 0.7
        and shrunk.sum() == pytest.approx(0)
    )


def test_the_latency_table_puts_both_widgets_side_by_side() -> None:
    latency = {
        "sizes": [2000, 3000],
        "browser": "test",
        "pairwise": {"painted": [10.0, 20.0], "misses": 0, "matches": 2, "pressed": 2},
        "text": {"painted": [8.0, 10.0], "misses": 1, "matches": 2, "pressed": 2},
    }
    results = {"pairs": 2, "load": "1 / 1 / 1", "recovery": {}, "judge": {}, "judge_accuracy": 0.5}
    text = render({**results, "latency": latency}, parse_args([]), time.monotonic(), [])
    assert "| pairwise (a / b) | 2 | 15.0 | 19.5 | 20.0 | 1 of 2 | 0 | 2 of 2 |" in text
    assert "| text classifier (1 / 2), same texts | 2 | 9.0 | 9.9 | 10.0 | 2 of 2 | 1 | 2 of 2 |" in text
    assert "p95 pairwise / p95 text classifier: 1.97×." in text
    assert "No second real set of human preferences is reachable here" in text
