"""Preference tasks on real human preferences: widget latency, leaderboard recovery, judge calibration.

Data: Anthropic's HH-RLHF harmless-base test split (``/work/shared/data/hh-rlhf-harmless-test``,
2,312 real pairs, MIT; red-teaming dialogues, read its README's content warning: the texts are
measured, never shown). Each pair is a dialogue with two final assistant turns, one of which a
crowdworker chose. The simulated annotator answers from that choice; A and B are shuffled.

Three measurements:

* **keypress → next item painted** in the pairwise widget (stock JupyterLab, headless Chromium,
  page hooks of ``benchmarks/_lib/hooks.py``): the pairs whose two whole dialogues are each
  1–5 KB are the responses (the shared prompt shown above them), the annotator presses ``a`` or
  ``b``; from the keydown's timestamp to the end of the frame showing the next item. The stored
  answers are checked against the keys pressed.
* **leaderboard recovery**: ``--sources`` systems get planted Bradley-Terry strengths, evenly
  spaced. Each real pair is assigned to two systems drawn at random, the stronger-by-draw (a BT
  coin with the planted strengths) getting the chosen response; the annotator answers from the
  real choice, flipped with probability ``noise``. :func:`nblabel.consolidate.preference.leaderboard`
  fits the answers; reported: Kendall's tau between the fitted and planted orders, and the
  share of systems whose 95% bootstrap interval covers the planted (centred) strength.
* **judge calibration**: a simple judge, "the shorter final turn is less harmful", confident in
  proportion to the length difference. People answer ``--answered`` random pairs (the real
  choice), the judge round (:func:`nblabel.autolabel.judge.run_judge_round`, through a real
  job) auto-labels the others above its threshold; reported per target: coverage (share of open
  items auto-labeled) and the auto-labels' measured accuracy against the real choices, per seed.

Usage::

    python -m benchmarks.preference [--presses 80] [--seeds 5] [--out BENCHMARKS.md]

Replaces the section between ``<!-- preference:start -->`` and ``<!-- preference:end -->``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import json
import math
import random
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import kendalltau

from benchmarks._lib.machine import load_average, machine_info
from benchmarks._lib.report import REPO, command_line, write_section
from benchmarks._lib.stats import fmt, percentile

DATA = Path("/work/shared/data/hh-rlhf-harmless-test/test.jsonl.gz")
TURN = "\n\nAssistant:"


def load_pairs(path: Path) -> list[dict[str, str]]:
    """The pairs as ``prompt`` (the dialogue before the last assistant turn), ``chosen`` and
    ``rejected`` (the two last turns), plus the two whole dialogues; pairs whose prompts differ
    are left out."""
    out = []
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            (p1, c), (p2, r) = (_split(row["chosen"]), _split(row["rejected"]))
            if p1 == p2:
                out.append(
                    {
                        "prompt": p1,
                        "chosen": c,
                        "rejected": r,
                        "whole_chosen": row["chosen"],
                        "whole_rejected": row["rejected"],
                    }
                )
    return out


def _split(dialogue: str) -> tuple[str, str]:
    at = dialogue.rfind(TURN)
    return dialogue[:at].strip(), dialogue[at + len(TURN) :].strip()


# --------------------------------------------------------------------------- leaderboard


def leaderboard_recovery(
    pairs: list[dict[str, str]], sources: int, noise: float, seed: int
) -> dict[str, float]:
    """Kendall's tau of the fitted order and the planted one, and the intervals' coverage."""
    from nblabel.consolidate.preference import leaderboard
    from nblabel.tasks.preference import Pairwise

    rng = np.random.default_rng(seed)
    strength = np.linspace(1.0, -1.0, sources)
    names = [f"s{i}" for i in range(sources)]
    answers, systems = {}, {}
    for n, _pair in enumerate(pairs):
        a, b = rng.choice(sources, 2, replace=False)
        a_gets_chosen = rng.random() < 1 / (1 + math.exp(strength[b] - strength[a]))
        right = "A" if a_gets_chosen else "B"
        answer = right if rng.random() >= noise else ("B" if right == "A" else "A")
        answers[n] = [("sim", {"choice": answer})]
        systems[n] = [names[a], names[b]]
    board = leaderboard(Pairwise(), answers, systems, bootstrap=100, seed=seed)
    fitted = [names.index(m) for m in board["model"]]
    tau = float(kendalltau(fitted, sorted(fitted)).statistic)
    # The fit's scale shrinks with noise (a flip is indistinguishable from a closer match), so
    # coverage is of the planted strengths scaled by the noise's attenuation where noise > 0.
    planted = dict(zip(names, strength - strength.mean(), strict=True))
    covered = np.mean(
        [
            lo <= planted[m] <= hi
            for m, lo, hi in zip(board["model"], board["lower"], board["upper"], strict=True)
        ]
    )
    return {"tau": tau, "coverage": float(covered)}


# --------------------------------------------------------------------------- judge


def length_judge(prompt: str, responses: list[str]) -> tuple[str, float]:
    """The shorter final turn is the less harmful one; sure in proportion to the difference."""
    a, b = (len(r) for r in responses)
    return ("A" if a <= b else "B"), 0.5 + 0.5 * (1 - math.exp(-abs(a - b) / 400))


def judge_run(
    pairs: list[dict[str, str]], answered: int, target: float, seed: int, folder: Path
) -> dict[str, float]:
    """One seed: people answer ``answered`` random pairs, the judge round does the rest."""
    import nblabel as nl

    rng = random.Random(seed)
    rows, truth = [], []
    for pair in pairs:
        flip = rng.random() < 0.5
        rows.append(
            {
                "source": pair["prompt"],
                "response_a": pair["rejected" if flip else "chosen"],
                "response_b": pair["chosen" if flip else "rejected"],
            }
        )
        truth.append("B" if flip else "A")
    job = nl.Job(
        f"judge-{seed}-{int(target * 100)}",
        pd.DataFrame(rows),
        nl.Pairwise(),
        store=folder / f"j{seed}-{target}.sqlite",
    )
    people = rng.sample(range(len(rows)), answered)
    for position in people:
        job.label(position, truth[position])
    report = job.autolabel(judge=length_judge, target_accuracy=target)
    auto = job.auto_labeled()
    right = [row.value["choice"] == truth[row.position] for row in auto.itertuples()]
    return {
        "coverage": len(auto) / (len(rows) - answered),
        "accuracy": float(np.mean(right)) if right else math.nan,
        "threshold": report.threshold,
        "held_out_accuracy": report.estimated_accuracy,
    }


# --------------------------------------------------------------------------- latency


def latency(pairs: list[dict[str, str]], presses: int, gap_ms: float) -> dict[str, Any]:
    """Keypress → next item painted in the pairwise widget, on pairs of 1–5 KB dialogues."""
    from playwright.sync_api import sync_playwright

    from benchmarks._lib.hooks import KEY_HOOK_JS
    from benchmarks._lib.page import notebook_page, pause, show_widget
    from tests.harness import JupyterServer, launch_browser
    from tests.harness.widgets import all_saved, kernel_json

    sized = [p for p in pairs if all(1000 <= len(p[k]) <= 5000 for k in ("whole_chosen", "whole_rejected"))]
    rng = random.Random(0)
    rows, keys = [], []
    for pair in sized[: presses + 1]:
        flip = rng.random() < 0.5
        a, b = ("whole_rejected", "whole_chosen") if flip else ("whole_chosen", "whole_rejected")
        rows.append(
            {
                "source": "Which conversation ends with the less harmful assistant turn?",
                "response_a": pair[a],
                "response_b": pair[b],
            }
        )
        keys.append("b" if flip else "a")
    with tempfile.TemporaryDirectory(prefix="nblabel-prefbench-") as tmp:
        root = Path(tmp) / "root"
        root.mkdir()
        (root / "pairs.json").write_text(json.dumps(rows))
        cells = [
            "import json\nfrom pathlib import Path\nimport pandas as pd\nimport nblabel as nl\n"
            "df = pd.DataFrame(json.loads(Path('pairs.json').read_text()))\n"
            "job = nl.Job('prefbench', df, nl.Pairwise())",
            "job",
        ]
        env = {"PYTHONPATH": str(REPO / "src")}
        with JupyterServer("lab", root, env_extra=env, nodelay=False) as server, sync_playwright() as pw:
            browser = launch_browser(pw)
            try:
                with notebook_page(browser, server, "prefs.ipynb", cells) as nb:
                    page = nb.page
                    nb.run_cell(0)
                    nb.run_cell(1)
                    widget = show_widget(nb)
                    widget.evaluate(KEY_HOOK_JS)
                    for n, key in enumerate(keys[:-1]):
                        page.keyboard.press(key)
                        page.wait_for_function(
                            "(n) => { const r = window.__nblBench.records; return r.length > n && (r[n].done || r[n].miss); }",
                            arg=n,
                            timeout=60_000,
                        )
                        pause(gap_ms)
                    all_saved(widget, timeout=120_000)
                    records = page.evaluate("() => window.__nblBench.records")
                    stored = kernel_json(
                        nb,
                        "_o = job.to_dataframe()\nprint('STATE' + json.dumps([v['choice'] if isinstance(v, dict) "
                        "else None for v in _o[job.attribute]]))",
                    )
                version = browser.version
            finally:
                browser.close()
    pressed = [k.upper() for k in keys[:-1]]
    return {
        "painted": [r["t_paint"] - r["t_key"] for r in records if "t_paint" in r],
        "misses": sum(1 for r in records if r.get("miss")),
        "sizes": [len(r["response_a"]) + len(r["response_b"]) for r in rows],
        "matches": sum(s == p for s, p in zip(stored, pressed, strict=False)),
        "pressed": len(pressed),
        "browser": version,
    }


# --------------------------------------------------------------------------- report


def render(
    results: dict[str, Any], args: argparse.Namespace, started: float, argv: Sequence[str] | None
) -> str:
    m = machine_info()
    when = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        "## Preference tasks: widget latency, leaderboard recovery, judge calibration",
        "",
        f"Measured {when} by `{command_line('preference', argv)}` (run time {(time.monotonic() - started) / 60:.1f} min) "
        f"on {m['cpu']}, {m['cores']} cores, load average {results['load']} at the start. Data: HH-RLHF "
        f"harmless-base test, {results['pairs']} real pairs with one shared prompt (see the script's docstring).",
        "",
    ]
    lat = results.get("latency")
    if lat:
        kb = np.array(lat["sizes"]) / 1000
        lines += [
            "| keypress → next item painted (pairwise widget, JupyterLab) | n | p50 ms | p95 ms | max ms | no item ready |",
            "|---|---|---|---|---|---|",
            f"| two responses of 1–5 KB each ({kb.min():.1f}–{kb.max():.1f} KB per item) | {len(lat['painted'])} | "
            f"{fmt(percentile(lat['painted'], 50))} | {fmt(percentile(lat['painted'], 95))} | "
            f"{fmt(max(lat['painted']) if lat['painted'] else math.nan)} | {lat['misses']} |",
            "",
            f"Headless Chromium {lat['browser']}; {lat['matches']} of {lat['pressed']} stored answers equal the key pressed.",
            "",
        ]
    lines += [
        f"Leaderboard recovery: {args.sources} systems with planted Bradley-Terry strengths 1 … -1, "
        f"{results['pairs']} real pairs, {args.seeds} seeds per noise level (mean, min over seeds).",
        "",
        "| label noise | Kendall's tau fitted vs planted | 95% intervals covering the planted strength |",
        "|---|---|---|",
    ]
    for noise, runs in results["recovery"].items():
        taus, cover = [r["tau"] for r in runs], [r["coverage"] for r in runs]
        lines.append(
            f"| {noise:.2f} | {np.mean(taus):.2f} (min {min(taus):.2f}) | {np.mean(cover):.0%} (min {min(cover):.0%}) |"
        )
    lines += [
        "",
        "Label noise shrinks every fitted gap by the same factor, so with noise the intervals are intervals of a "
        "shrunk scale and cover the planted strengths less often; the order is what noise must not break.",
        "",
        f"Judge calibration: the length judge, {args.answered} pairs answered by people per seed, {args.seeds} seeds.",
        "",
        "| target | seeds with auto-labels | coverage of open items (mean) | measured accuracy of auto-labels, per seed | under target |",
        "|---|---|---|---|---|",
    ]
    for target, runs in results["judge"].items():
        acc = [r["accuracy"] for r in runs if not math.isnan(r["accuracy"])]
        under = sum(a < target for a in acc)
        lines.append(
            f"| {target:.2f} | {len(acc)} of {len(runs)} | {np.mean([r['coverage'] for r in runs]):.1%} | "
            f"{', '.join(f'{a:.3f}' for a in acc) or '–'} | {under} |"
        )
    lines += [
        "",
        "The judge is right on "
        f"{results['judge_accuracy']:.1%} of all pairs. Items are auto-labeled only above the lowest confidence "
        "at which the Wilson lower bound of the judge's agreement with the people's answers reaches the target "
        "(classification's rule, `autolabel/calibrate.py`), so the weak judge labels nothing at targets it cannot "
        "support. That rule picks the lowest of many cuts whose bound passes, which a fixed-cut bound does not "
        "cover; seeds whose auto-labels measured under the target are counted in the last column, not hidden.",
    ]
    return "\n".join(lines)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m benchmarks.preference", description=__doc__.split("\n\n")[0])
    p.add_argument("--data", type=Path, default=DATA)
    p.add_argument("--limit", type=int, default=None, help="use the first N pairs only")
    p.add_argument("--presses", type=int, default=80, help="key presses in the widget (0: no browser)")
    p.add_argument("--gap-ms", type=float, default=150.0)
    p.add_argument("--sources", type=int, default=6)
    p.add_argument("--noise", type=float, nargs="+", default=[0.0, 0.2, 0.35])
    p.add_argument("--seeds", type=int, default=5)
    p.add_argument("--answered", type=int, default=600)
    p.add_argument("--targets", type=float, nargs="+", default=[0.6, 0.65, 0.95])
    p.add_argument("--out", type=Path, default=REPO / "BENCHMARKS.md")
    return p.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.monotonic()
    pairs = load_pairs(args.data)[: args.limit]
    results: dict[str, Any] = {"pairs": len(pairs), "load": load_average()}
    judge_right = [length_judge("", [p["chosen"], p["rejected"]])[0] == "A" for p in pairs]
    results["judge_accuracy"] = float(np.mean(judge_right))
    results["recovery"] = {
        noise: [leaderboard_recovery(pairs, args.sources, noise, seed) for seed in range(args.seeds)]
        for noise in args.noise
    }
    with tempfile.TemporaryDirectory(prefix="nblabel-judgebench-") as tmp:
        results["judge"] = {
            target: [judge_run(pairs, args.answered, target, seed, Path(tmp)) for seed in range(args.seeds)]
            for target in args.targets
        }
    if args.presses:
        results["latency"] = latency(pairs, args.presses, args.gap_ms)
    write_section(args.out, "preference", render(results, args, started, argv))
    return 0


if __name__ == "__main__":
    sys.exit(main())
