"""Preference tasks on real human preferences: widget latency, leaderboard recovery, judge calibration.

Data: Anthropic's HH-RLHF harmless-base test split (``/work/shared/data/hh-rlhf-harmless-test``,
2,312 real pairs, MIT; red-teaming dialogues, read its README's content warning: the texts are
measured, never shown). Each pair is a dialogue with two final assistant turns, one of which a
crowdworker chose. The simulated annotator answers from that choice; A and B are shuffled.

Three measurements:

* **keypress → next item painted** in the pairwise widget (stock JupyterLab, headless Chromium,
  page hooks of ``benchmarks/_lib/hooks.py``): the pairs whose two whole dialogues are each
  1–5 KB are the responses (the shared prompt shown above them), the annotator presses ``a`` or
  ``b``; from the keydown's timestamp to the end of the frame showing the next item. Side by
  side in the same run, the text classifier on the same items (both dialogues as one text, keys
  ``1`` / ``2``): the baseline "as for texts". Reported: median, p95, the presses painted within
  one 60 Hz frame, and the stored answers checked against the keys pressed.
* **leaderboard recovery**: ``--sources`` systems get planted Bradley-Terry strengths, evenly
  spaced. Each real pair is assigned to two systems drawn at random, the stronger-by-draw (a BT
  coin with the planted strengths) getting the chosen response; the annotator answers from the
  real choice, flipped with probability ``noise``. :func:`nblabel.consolidate.preference.leaderboard`
  fits the answers; reported: Kendall's tau between the fitted and planted orders, and the
  share of systems whose 95% bootstrap interval covers the strength the noisy answers carry
  (:func:`answer_strengths`; the planted one without noise) and the raw planted strength.
* **judge calibration**: a simple judge, "the shorter final turn is less harmful", confident in
  proportion to the length difference. A first judge round (:func:`nblabel.autolabel.judge.run_judge_round`,
  through a real job) orders the people's queue; people answer its first ``--answered`` items
  (the real choice), and a second round auto-labels the others above its threshold; reported per
  target: coverage (share of open items auto-labeled) and the auto-labels' measured accuracy
  against the real choices, per seed.

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


def answer_strengths(strength: np.ndarray, noise: float) -> np.ndarray:
    """The Bradley-Terry strengths the noisy answers carry, centred: the planted strengths with
    each answer flipped with probability ``noise`` are no longer a BT model, and the fit converges
    to the BT model closest to them (the maximum-likelihood fit to the expected answers, every
    pair of systems equally likely). Without noise these are the planted strengths; with noise
    the same order on a shrunk scale. This is what the leaderboard's intervals estimate."""
    import choix

    gap = strength[:, None] - strength[None, :]
    p = 1 / (1 + np.exp(-gap))
    wins = (1 - noise) * p + noise * (1 - p)  # P(i's response is chosen over j's), per pair
    np.fill_diagonal(wins, 0)
    fitted = choix.ilsr_pairwise_dense(wins * 1000.0, alpha=0.0, tol=1e-12, max_iter=10_000)
    return fitted - fitted.mean()


def leaderboard_recovery(
    pairs: list[dict[str, str]], sources: int, noise: float, seed: int, bootstrap: int = 200
) -> dict[str, float]:
    """Kendall's tau of the fitted order and the planted one, and the intervals' coverage of
    the strengths the answers carry (:func:`answer_strengths`) and of the raw planted ones."""
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
    board = leaderboard(Pairwise(), answers, systems, bootstrap=bootstrap, seed=seed)
    fitted = [names.index(m) for m in board["model"]]
    tau = float(kendalltau(fitted, sorted(fitted)).statistic)

    def coverage(truth: np.ndarray) -> float:
        planted = dict(zip(names, truth, strict=True))
        return float(
            np.mean(
                [
                    lo <= planted[m] <= hi
                    for m, lo, hi in zip(board["model"], board["lower"], board["upper"], strict=True)
                ]
            )
        )

    return {
        "tau": tau,
        "coverage": coverage(answer_strengths(strength, noise)),
        "coverage_raw": coverage(strength - strength.mean()),
    }


# --------------------------------------------------------------------------- judge


def length_judge(prompt: str, responses: list[str]) -> tuple[str, float]:
    """The shorter final turn is the less harmful one; sure in proportion to the difference."""
    a, b = (len(r) for r in responses)
    return ("A" if a <= b else "B"), 0.5 + 0.5 * (1 - math.exp(-abs(a - b) / 400))


def judge_run(
    pairs: list[dict[str, str]], answered: int, target: float, seed: int, folder: Path
) -> dict[str, float]:
    """One seed: a first judge round orders the people's queue (least confident first, random
    draws interleaved), people answer its first ``answered`` items (the real choice, each
    answer recording why it was asked), and a second round auto-labels above its threshold."""
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
    job.autolabel(judge=length_judge, target_accuracy=target, seed=seed)  # no answers: the queue
    for position in job.pending(answered).index:
        job.label(position, truth[position])
    report = job.autolabel(judge=length_judge, target_accuracy=target, seed=seed)
    auto = job.auto_labeled()
    right = [row.value["choice"] == truth[row.position] for row in auto.itertuples()]
    return {
        "coverage": len(auto) / (len(rows) - answered),
        "accuracy": float(np.mean(right)) if right else math.nan,
        "threshold": report.threshold,
        "held_out_accuracy": report.estimated_accuracy,
        "lower_bound": report.lower_bound,
        "random": report.held_out_random or 0,
    }


# --------------------------------------------------------------------------- latency


# The issue asks for "another real set if you can reach one here": what was checked.
SECOND_SET = (
    "No second real set of human preferences is reachable here: /work/shared/data holds only HH-RLHF, "
    "and the PyPI packages about preference data that were checked ship none in their wheels "
    "(`rewardbench` 0.1.4 loads its sets from the Hugging Face hub at run time, `preflibtools` 2.0.33 "
    "reads PrefLib's files from its website; neither site is reachable from this machine)."
)

FRAME_MS = 1000 / 60  # one frame at 60 Hz: the target, "as for texts"

# The widgets measured side by side on the same items: the pairwise widget (the responses side
# by side) and, as the baseline the issue names, the text classifier showing both responses as one
# text of the same size. Each: (task expression, the key of each answer, the answer read back from
# a stored label `_v`: GT's classification label is the class's index).
WIDGETS = {
    "pairwise": ("nl.Pairwise()", {"A": "a", "B": "b"}, "_v['choice']"),
    "text": ("nl.TextClassification(['A', 'B'])", {"A": "1", "B": "2"}, "['A', 'B'][int(_v)]"),
}


def latency(pairs: list[dict[str, str]], presses: int, gap_ms: float) -> dict[str, Any]:
    """Keypress → next item painted, on pairs of 1–5 KB dialogues: the pairwise widget and the
    text classifier (both dialogues as one text) in one JupyterLab, one browser, one after the other."""
    from playwright.sync_api import sync_playwright

    from benchmarks._lib.hooks import KEY_HOOK_JS
    from benchmarks._lib.page import notebook_page, pause, show_widget
    from tests.harness import JupyterServer, launch_browser
    from tests.harness.widgets import all_saved, kernel_json

    sized = [p for p in pairs if all(1000 <= len(p[k]) <= 5000 for k in ("whole_chosen", "whole_rejected"))]
    rng = random.Random(0)
    rows, answers = [], []
    for pair in sized[: presses + 1]:
        flip = rng.random() < 0.5
        a, b = ("whole_rejected", "whole_chosen") if flip else ("whole_chosen", "whole_rejected")
        rows.append(
            {
                "source": "Which conversation ends with the less harmful assistant turn?",
                "response_a": pair[a],
                "response_b": pair[b],
                "both": f"{pair[a]}\n\n---\n\n{pair[b]}",
            }
        )
        answers.append("B" if flip else "A")
    out: dict[str, Any] = {"sizes": [len(r["response_a"]) + len(r["response_b"]) for r in rows]}
    with tempfile.TemporaryDirectory(prefix="nblabel-prefbench-") as tmp:
        root = Path(tmp) / "root"
        root.mkdir()
        (root / "pairs.json").write_text(json.dumps(rows))
        env = {"PYTHONPATH": str(REPO / "src")}
        with JupyterServer("lab", root, env_extra=env, nodelay=False) as server, sync_playwright() as pw:
            browser = launch_browser(pw)
            try:
                for name, (task, keys, stored_value) in WIDGETS.items():
                    source = "df = df.assign(source=df['both'])\n" if name == "text" else ""
                    cells = [
                        "import json\nfrom pathlib import Path\nimport pandas as pd\nimport nblabel as nl\n"
                        f"df = pd.DataFrame(json.loads(Path('pairs.json').read_text()))\n{source}"
                        f"job = nl.Job('prefbench-{name}', df, {task})",
                        "job",
                    ]
                    with notebook_page(browser, server, f"{name}.ipynb", cells) as nb:
                        page = nb.page
                        nb.run_cell(0)
                        nb.run_cell(1)
                        widget = show_widget(nb)
                        widget.evaluate(KEY_HOOK_JS)
                        for n, answer in enumerate(answers[:-1]):
                            page.keyboard.press(keys[answer])
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
                            "_o = job.to_dataframe()\nprint('STATE' + json.dumps([("
                            f"{stored_value}) if isinstance(_v, dict) or pd.notna(_v) else None for _v in _o[job.attribute]]))",
                        )
                    out[name] = {
                        "painted": [r["t_paint"] - r["t_key"] for r in records if "t_paint" in r],
                        "misses": sum(1 for r in records if r.get("miss")),
                        "matches": sum(s == p for s, p in zip(stored, answers[:-1], strict=False)),
                        "pressed": len(answers) - 1,
                    }
                out["browser"] = browser.version
            finally:
                browser.close()
    return out


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
        SECOND_SET,
        "",
    ]
    lat = results.get("latency")
    if lat:
        kb = np.array(lat["sizes"]) / 1000
        lines += [
            f"Keypress → next item painted, JupyterLab, two responses of 1–5 KB each ({kb.min():.1f}–{kb.max():.1f} KB "
            "per item), measured side by side in one run: the pairwise widget, and the text classifier showing "
            "the same two responses as one text (the baseline: the issue asks for the next item within one frame, "
            "as for texts).",
            "",
            f"| widget | n | p50 ms | p95 ms | max ms | within one frame (≤ {FRAME_MS:.1f} ms) | no item ready "
            "| stored = pressed |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for name, label in (
            ("pairwise", "pairwise (a / b)"),
            ("text", "text classifier (1 / 2), same texts"),
        ):
            run = lat.get(name)
            if not run:
                continue
            painted = run["painted"]
            within = sum(ms <= FRAME_MS for ms in painted)
            lines.append(
                f"| {label} | {len(painted)} | {fmt(percentile(painted, 50))} | {fmt(percentile(painted, 95))} | "
                f"{fmt(max(painted) if painted else math.nan)} | {within} of {len(painted)} | {run['misses']} | "
                f"{run['matches']} of {run['pressed']} |"
            )
        pair, text = lat.get("pairwise"), lat.get("text")
        if pair and text and pair["painted"] and text["painted"]:
            ratio = percentile(pair["painted"], 95) / percentile(text["painted"], 95)
            lines += ["", f"p95 pairwise / p95 text classifier: {ratio:.2f}×."]
        lines += ["", f"Headless Chromium {lat['browser']}.", ""]
    lines += [
        f"Leaderboard recovery: {args.sources} systems with planted Bradley-Terry strengths 1 … -1, "
        f"{results['pairs']} real pairs, {args.recovery_seeds} seeds per noise level, "
        f"{args.bootstrap} bootstrap resamples (mean, min over seeds).",
        "",
        "| label noise | Kendall's tau fitted vs planted | 95% intervals covering the strengths the answers carry "
        "| … covering the raw planted strengths |",
        "|---|---|---|---|",
    ]
    for noise, runs in results["recovery"].items():
        taus, cover = [r["tau"] for r in runs], [r["coverage"] for r in runs]
        raw = [r["coverage_raw"] for r in runs]
        lines.append(
            f"| {noise:.2f} | {np.mean(taus):.2f} (min {min(taus):.2f}) | {np.mean(cover):.0%} (min {min(cover):.0%}, "
            f"{sum(round(c * args.sources) for c in cover)} of {args.sources * len(runs)}) | {np.mean(raw):.0%} |"
        )
    lines += [
        "",
        "Why the raw column is low: an answer flipped with probability `noise` makes the answers a noisier "
        "contest than the planted strengths, and no longer a Bradley-Terry model; the fit converges to the "
        "BT model closest to them, the same order on a scale shrunk toward 0 (at noise 0.2 the strengths "
        "±1 become about ±0.54). The intervals are intervals of that: what the people's answers say about the "
        "systems, their disagreement included. The benchmark used to check them against the raw planted "
        "strengths; it now computes the strengths the noisy answers carry (the maximum-likelihood BT fit to "
        "the expected answers, `answer_strengths`) and checks coverage of those, and keeps the raw column to "
        "show the shrinkage. Without noise the two are the same.",
        "",
        f"Judge calibration: the length judge, {args.answered} pairs answered by people per seed (the first "
        f"items of the judge's queue: its least confident items interleaved with random draws, 80% of the queue), "
        f"{args.seeds} seeds.",
        "",
        "| target | seeds with auto-labels | coverage of open items (mean) | measured accuracy of auto-labels, per seed "
        "| under target | random draws answered (mean) |",
        "|---|---|---|---|---|---|",
    ]
    for target, runs in results["judge"].items():
        acc = [r["accuracy"] for r in runs if not math.isnan(r["accuracy"])]
        under = sum(a < target for a in acc)
        lines.append(
            f"| {target:.2f} | {len(acc)} of {len(runs)} | {np.mean([r['coverage'] for r in runs]):.1%} | "
            f"{', '.join(f'{a:.3f}' for a in acc) or '–'} | {under} | {np.mean([r['random'] for r in runs]):.0f} |"
        )
    lines += [
        "",
        "The judge is right on "
        f"{results['judge_accuracy']:.1%} of all pairs. Items are auto-labeled only above the lowest confidence "
        "at which the design-based lower bound of the judge's agreement with the people's answers reaches the "
        "target: classification's rule and functions (`autolabel/design_bound.py`: answers to random draws "
        "weighted by the inverse of their probability, the other answers counting as themselves, a betting "
        "bound that stays valid over the threshold scan), so the weak judge labels nothing at targets it "
        "cannot support. Before this, the judge used the Wilson bound over all held-out answers, which does "
        "not account for choosing the lowest of many cuts: its auto-labels measured under the target in 2 of 5 "
        "seeds (0.590 at 0.60, 0.649 at 0.65).",
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
    p.add_argument("--seeds", type=int, default=5, help="seeds of the judge runs")
    p.add_argument("--recovery-seeds", type=int, default=8, help="seeds per noise level of the leaderboard")
    p.add_argument("--bootstrap", type=int, default=200, help="the leaderboard's bootstrap resamples")
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
        noise: [
            leaderboard_recovery(pairs, args.sources, noise, seed, args.bootstrap)
            for seed in range(args.recovery_seeds)
        ]
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
