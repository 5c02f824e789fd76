"""The box benchmarks run tiny on the nine BCCD photos in tests/data: auto-labeling
(``python -m benchmarks.boxes_autolabel``) and the simulated person's action count, and
Enter → next image with its proposals, idle and training (``benchmarks.boxes_latency --part next``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks._lib.run import run_module
from benchmarks.boxes_autolabel import main
from nblabel.autolabel.box_match import correction_actions


def box(c: int, left: int, top: int, width: int = 10, height: int = 10) -> dict:
    return {"class_id": c, "left": left, "top": top, "width": width, "height": height}


def test_the_simulated_person_accepts_adjusts_deletes_and_draws() -> None:
    gold = [box(0, 0, 0), box(1, 50, 50), box(0, 100, 100), box(0, 200, 200)]
    proposed = [
        box(0, 0, 0),  # accepted: IoU 1, same class
        box(0, 50, 50),  # same place, another class: adjusted (a class key)
        box(0, 104, 100),  # IoU 0.43: adjusted (a drag)
        box(2, 400, 400),  # nothing there: deleted
    ]  # the gold box at 200, 200 is missed: drawn
    assert correction_actions(proposed, gold) == 1 + 2 + 1 + 1  # Enter, two adjusts, a delete, a draw
    assert correction_actions([], gold) == len(gold) + 1  # drawing every box, then Enter
    assert correction_actions(gold, gold) == 1  # Enter accepts them all


def test_a_tiny_run_writes_its_section(tmp_path: Path) -> None:
    out = tmp_path / "BENCHMARKS.md"
    data = Path(__file__).parents[1] / "data" / "bccd"
    argv = ["--seeds", "1", "--budgets", "3,6", "--backbones", "pixels", "--test", "2"]
    assert main([*argv, "--data", str(data), "--cache", str(tmp_path / "cache"), "--out", str(out)]) == 0
    text = out.read_text()
    assert "<!-- boxes-autolabel:start -->" in text and "## Box auto-labeling" in text
    assert "| 3 |" in text and "| 6 |" in text


@pytest.mark.browser
def test_the_next_image_latency_runs_tiny_idle_and_training(tmp_path: Path) -> None:
    out = tmp_path / "BENCHMARKS.md"
    data = Path(__file__).parents[1] / "data" / "bccd"
    argv = ["--part", "next", "--data", str(data), "--answered", "5", "--presses", "1", "--warmup", "0"]
    argv += ["--runs", "1", "--backbone", "pixels", "--gap-ms", "100", "--out", str(out)]
    run = run_module("boxes_latency", argv)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-4000:]
    text = out.read_text()
    assert "<!-- boxes_next_latency:start -->" in text and "detector idle vs training" in text
    assert "| idle | 1 |" in text  # the idle press was measured
    rows = [line for line in text.splitlines() if line.startswith("| 0 | ")]
    assert [row.split(" | ")[1] for row in rows] == ["idle", "training"]  # both phases, in one page
