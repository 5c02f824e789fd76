"""The autolabel section of BENCHMARKS.md and its plots (docs/img/autolabel-<dataset>.png)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from benchmarks._lib.run import ensure_pip
from benchmarks.autolabel.datasets import NAMES
from benchmarks.autolabel.simulate import TARGET, at_budget, fmt_accuracy, fmt_share, parse_budgets

HONESTY_SHARE = 0.95
# The issue's coverage targets, per dataset: (budget, minimum share of the remaining items
# auto-labeled, "mean" over seeds or "every" seed).
COVERAGE_TARGETS = {
    "bbc": [("100", 0.60, "mean"), ("200", 0.85, "every")],
    "bbc-tfidf": [("100", 0.60, "mean"), ("200", 0.85, "every")],
    "bbc-minilm": [("100", 0.60, "mean"), ("200", 0.85, "every")],
    "fashion": [("2%", 0.60, "mean"), ("10%", 0.80, "mean")],
}


def summarise(runs: list[dict[str, Any]], budgets: list[int]) -> list[dict[str, Any]]:
    rows = []
    for b in budgets:
        nb = [at_budget(r["nblabel"], b) for r in runs]
        # Runs with --only-nblabel have no baseline records: their figures are then None.
        gt = [at_budget(r["gt_style"], b) for r in runs if r["gt_style"]]
        un = [at_budget(r["uncertainty"], b) for r in runs if r["uncertainty"]]
        labelled = [x for x in nb if x["auto"]]
        gt_labelled = [x for x in gt if x["auto"]]
        secs = [rec["seconds"] for r in runs for rec in r["nblabel"] if rec["answers"] <= b]
        last = [x["seconds"] for x in nb]
        rows.append(
            {
                "budget": b,
                "runs": len(runs),
                "answers": float(np.mean([x["answers"] for x in nb])),
                "cov_mean": float(np.mean([x["coverage"] for x in nb])),
                "cov_min": float(np.min([x["coverage"] for x in nb])),
                "labelled_runs": len(labelled),
                "honest_runs": sum(x["auto_acc"] >= TARGET for x in labelled),
                "acc_mean": float(np.mean([x["auto_acc"] for x in labelled])) if labelled else None,
                "acc_worst": float(np.min([x["auto_acc"] for x in labelled])) if labelled else None,
                "lb_mean": float(np.mean([x["lower_bound"] for x in labelled])) if labelled else None,
                "model_acc": float(np.mean([x.get("model_acc", 0) for x in nb])),
                "oracle": float(np.mean([x.get("oracle_coverage", 0) for x in nb])),
                "sec_mean": float(np.mean(secs)) if secs else 0.0,
                "sec_last": float(np.mean(last)) if last else 0.0,
                "gt_runs": len(gt),
                "gt_cov_mean": float(np.mean([x["coverage"] for x in gt])) if gt else None,
                "gt_cov_min": float(np.min([x["coverage"] for x in gt])) if gt else None,
                "gt_labelled": len(gt_labelled),
                "gt_honest": sum(x["auto_acc"] >= TARGET for x in gt_labelled),
                "gt_acc_mean": float(np.mean([x["auto_acc"] for x in gt_labelled])) if gt_labelled else None,
                "gt_acc_worst": float(np.min([x["auto_acc"] for x in gt_labelled])) if gt_labelled else None,
                "unc_model_acc": float(np.mean([x["model_acc"] for x in un])) if un else None,
                "unc_model_acc_min": float(np.min([x["model_acc"] for x in un])) if un else None,
                "unc_oracle": float(np.mean([x["oracle_coverage"] for x in un])) if un else None,
            }
        )
    return rows


def _series(runs: list[dict[str, Any]], method: str, field: str) -> tuple[np.ndarray, np.ndarray]:
    """Answers grid and a (runs x grid) matrix of ``field`` (forward-filled; nan where undefined)."""
    xs = sorted({rec["answers"] for r in runs for rec in r[method]})
    out = np.full((len(runs), len(xs)), np.nan)
    for i, r in enumerate(runs):
        for j, x in enumerate(xs):
            v = at_budget(r[method], x).get(field)
            out[i, j] = np.nan if v is None else v
    return np.asarray(xs), out


def plot(key: str, runs: list[dict[str, Any]], budgets: list[int], n: int, path: Path) -> None:
    ensure_pip("matplotlib", "matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    import warnings

    import matplotlib.pyplot as plt

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 5.4), constrained_layout=True)
    styles = {
        "nblabel": ("C0", "nblabel (design-based bound, margin + random queue)"),
        "gt_style": ("C3", "GT-style (random order, point estimate)"),
    }
    for method, (colour, label) in styles.items():
        if not all(r[method] for r in runs):  # a baseline skipped (--only-nblabel)
            continue
        xs, cov = _series(runs, method, "coverage")
        ax1.plot(xs, np.nanmean(cov, 0), color=colour, label=f"{label}: mean")
        ax1.fill_between(xs, np.nanmin(cov, 0), np.nanmax(cov, 0), color=colour, alpha=0.15, lw=0)
        xs, acc = _series(runs, method, "auto_acc")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # all-nan columns before the first auto-label
            mean, low = np.nanmean(acc, 0), np.nanmin(acc, 0)
        ax2.plot(xs, mean, color=colour, label=f"{label}: mean of auto-label accuracy")
        ax2.plot(xs, low, color=colour, ls=":", label=f"{label}: worst seed")
    xs, ora = _series(runs, "nblabel", "oracle_coverage")
    ax1.plot(
        xs, np.nanmean(ora, 0), color="C0", ls="--", lw=1, label="nblabel model, perfect threshold (ceiling)"
    )
    if all(r["uncertainty"] for r in runs):
        xs, acc = _series(runs, "uncertainty", "model_acc")
        ax2.plot(
            xs, np.nanmean(acc, 0), color="C2", label="uncertainty only (superintendent): model on the rest"
        )
    ax2.axhline(TARGET, color="k", lw=0.8, ls="--")
    for ax in (ax1, ax2):
        for b in budgets:
            ax.axvline(b, color="0.85", lw=0.8, zorder=0)
        ax.set_xlabel("human answers")
        ax.set_xlim(0, max(budgets) * 1.02)
        ax.grid(alpha=0.3)
    ax1.set_ylabel("share of the remaining items auto-labeled")
    ax1.set_ylim(0, 1.02)
    ax2.set_ylabel("accuracy against gold")
    ax2.set_ylim(0.7, 1.0)
    for ax in (ax1, ax2):
        ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.16), frameon=False)
    fig.suptitle(
        f"{NAMES.get(key, key)} ({n:,} items), {len(runs)} seeds: band = min–max over seeds", fontsize=10
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def render(results: dict[str, Any]) -> str:
    lines: list[str] = []
    add = lines.append
    add("## Auto-labeling: simulated annotator (`python -m benchmarks.autolabel`)")
    add("")
    d = results["loop_defaults"]
    add(
        "A simulated person answers nblabel's queue from gold labels; every round is the package's "
        f"`compute_round` with its defaults (margin ranking interleaved with random draws, "
        f"random_fraction {d['random_fraction']}; {d['folds']}-fold cross-fitted held-out answers; "
        f"design-based betting lower bound at one-sided level {d['level']} over the answers to random draws, "
        f"see `nblabel.autolabel.design_bound`; target {d['target']}), one seed per run for every round as the "
        "worker does, the default featurizer and `default_estimator(media)` "
        f"(texts: `{d['text_estimator']}`; images: `{d['image_estimator']}`). Batches between rounds: 10 answers while there are "
        f"fewer than 200, then {results['growth']:.0%} of the answers so far, cut to land on each budget. The result at a budget "
        "is the round run right after its last answer. *Coverage* = auto-labeled / items without a human "
        "answer; *accuracy* = auto-labels that match gold. A run counts as honest when that accuracy is "
        "≥ 0.95 (runs that auto-label nothing make no claim and are not counted)."
    )
    add("")
    add(
        "Baselines in the same run, same features and estimator: **GT-style** = random order, a random 20% "
        "of the answers held out for validation (never trained on), threshold = lowest confidence whose "
        "validation accuracy (point estimate) is ≥ 0.95; **uncertainty only** = superintendent's way, margin "
        "order, no auto-labels (coverage 0): shown is the model's accuracy on all the items people did not "
        "answer. *Ceiling* = the share a perfect threshold would auto-label at ≥ 0.95 with nblabel's model."
    )
    add("")
    # Targets
    add("### Targets")
    add("")
    add("| target | measured | met |")
    add("|---|---|---|")
    for key, ds in results["datasets"].items():
        rows = ds["summary"]
        lab = sum(r["labelled_runs"] for r in rows)
        hon = sum(r["honest_runs"] for r in rows)
        share = hon / lab if lab else None
        worst = min((r["acc_worst"] for r in rows if r["acc_worst"] is not None), default=None)
        ok = share is not None and share >= HONESTY_SHARE
        per_seed = [
            all(x["auto_acc"] >= TARGET for b in ds["budgets"] if (x := at_budget(run["nblabel"], b))["auto"])
            for run in ds["runs"]
        ]
        add(
            f"| {NAMES[key]} honesty: auto-label accuracy ≥ {TARGET} in ≥ {HONESTY_SHARE:.0%} of runs "
            f"(run = seed × budget, among runs that auto-labeled anything) | {hon}/{lab} runs "
            f"({fmt_share(share)}), worst {fmt_accuracy(worst)}; seeds honest at every budget: "
            f"{sum(per_seed)}/{len(per_seed)} | {'**met**' if ok else '**not met**'} |"
        )
        glab = sum(r["gt_labelled"] for r in rows)
        ghon = sum(r["gt_honest"] for r in rows)
        gworst = min((r["gt_acc_worst"] for r in rows if r["gt_acc_worst"] is not None), default=None)
        gfail = glab and ghon / glab < HONESTY_SHARE
        if not any(r["gt_runs"] for r in rows):
            add(f"| {NAMES[key]}: the GT-style baseline fails the honesty bar | not run | — |")
        else:
            add(
                f"| {NAMES[key]}: the GT-style baseline fails the honesty bar | {ghon}/{glab} runs "
                f"({fmt_share(ghon / glab if glab else None)}), worst {fmt_accuracy(gworst)} | "
                f"{'**yes, it fails**' if gfail else '**no, it passes**'} |"
            )
        for spec, need, how in COVERAGE_TARGETS.get(key, []):
            b = parse_budgets([spec], ds["n"])[0]
            row = next((r for r in rows if r["budget"] == b), None)
            if row is None:
                add(f"| {NAMES[key]}: ≥ {need:.0%} auto-labeled with ≤ {b:,} answers | not run | — |")
                continue
            covs = [at_budget(run["nblabel"], b)["coverage"] for run in ds["runs"]]
            reached = sum(c >= need for c in covs)
            ok = row["cov_mean"] >= need if how == "mean" else reached == len(covs)
            add(
                f"| {NAMES[key]}: ≥ {need:.0%} of the rest auto-labeled with ≤ {b:,} answers "
                f"({'mean over seeds' if how == 'mean' else 'every seed'}) | mean {fmt_share(row['cov_mean'])}, "
                f"min {fmt_share(row['cov_min'])}, seeds reaching it {reached}/{len(covs)}, ceiling "
                f"{fmt_share(row['oracle'])} | {'**met**' if ok else '**not met**'} |"
            )
        if zs := ds.get("zero_shot"):
            add(
                f"| {NAMES[key]}: zero-shot proposal accuracy before the first answer (reported) | names only "
                f"{fmt_share(zs['names']['accuracy'])}, names + descriptions {fmt_share(zs['descriptions']['accuracy'])} "
                f"({zs['texts']:,} of {zs['of']:,} texts) | reported |"
            )
    add("")
    for key, ds in results["datasets"].items():
        add(f"### {NAMES[key]} ({ds['n']:,} items, {len(ds['classes'])} classes, {len(ds['seeds'])} seeds)")
        add("")
        per_seed = float(np.mean([sum(r["wall"].values()) for r in ds["runs"]]))
        what = "nblabel and both baselines" if any(r["gt_runs"] for r in ds["summary"]) else "nblabel alone"
        add(
            f"Features: {ds['note']}. Seeds: {', '.join(str(s) for s in ds['seeds'])}. One seed ({what}) takes {per_seed / 60:.1f} min of one process on average, so 10 seeds "
            f"take ~{10 * per_seed / 60:.0f} process-minutes."
        )
        add("")
        add(
            "| answers | nblabel coverage mean (min) | accuracy mean (worst) | runs ≥ 0.95 | lower bound "
            "mean | ceiling | s/round mean (at budget) | GT-style coverage mean (min) | GT-style accuracy "
            "mean (worst) | GT-style runs ≥ 0.95 | uncertainty only: model acc mean (min) |"
        )
        add("|---|---|---|---|---|---|---|---|---|---|---|")
        for r in ds["summary"]:
            add(
                f"| {r['budget']:,} | {fmt_share(r['cov_mean'])} ({fmt_share(r['cov_min'])}) | "
                f"{fmt_accuracy(r['acc_mean'])} ({fmt_accuracy(r['acc_worst'])}) | {r['honest_runs']}/{r['labelled_runs']} | "
                f"{fmt_accuracy(r['lb_mean'])} | {fmt_share(r['oracle'])} | {r['sec_mean']:.2f} ({r['sec_last']:.2f}) | "
                f"{fmt_share(r['gt_cov_mean'])} ({fmt_share(r['gt_cov_min'])}) | {fmt_accuracy(r['gt_acc_mean'])} "
                f"({fmt_accuracy(r['gt_acc_worst'])}) | {r['gt_honest']}/{r['gt_labelled'] if r['gt_runs'] else '—'} | "
                f"{fmt_accuracy(r['unc_model_acc'])} ({fmt_accuracy(r['unc_model_acc_min'])}) |"
            )
        add("")
        add(f"![{NAMES[key]}: coverage and accuracy against human answers](docs/img/autolabel-{key}.png)")
        add("")
        if zs := ds.get("zero_shot"):
            add(
                f"Zero-shot first proposals (no answer yet; `nblabel.autolabel.zero_shot`, MiniLM embeddings of "
                f"{zs['texts']:,} randomly chosen texts of {zs['of']:,} in {zs['seconds']:.0f} s): each text's nearest "
                "label prompt. Proposals only, never auto-labels."
            )
            add("")
            add("| prompts | accuracy | mean confidence | per class |")
            add("|---|---|---|---|")
            for name in ("names", "descriptions"):
                z = zs[name]
                per = ", ".join(f"{c} {fmt_share(a)}" for c, a in z["per_class"].items())
                prompts = "; ".join(f"`{p}`" for p in z["prompts"])
                add(f"| {prompts} | {fmt_share(z['accuracy'])} | {z['confidence_mean']:.2f} | {per} |")
            add("")
        add("<details><summary>Per seed (nblabel)</summary>")
        add("")
        add(
            "| seed | budget | answers used | auto-labeled | coverage | true accuracy | lower bound | threshold | s/round at budget | wall s |"
        )
        add("|---|---|---|---|---|---|---|---|---|---|")
        for run in ds["runs"]:
            for b in ds["budgets"]:
                x = at_budget(run["nblabel"], b)
                add(
                    f"| {run['seed']} | {b:,} | {x['answers']:,} | {x['auto']:,} | {fmt_share(x['coverage'])} | "
                    f"{fmt_accuracy(x['auto_acc'])} | {fmt_accuracy(x['lower_bound'])} | {fmt_accuracy(x['threshold'])} | "
                    f"{x['seconds']:.2f} | {run['wall']['nblabel']:.0f} |"
                )
        add("")
        add("</details>")
        add("")
    m = results["machine"]
    add(
        f"Run {results['date']} on {m['cpus']} CPU(s) ({m['cpu']}), {m['python']}, numpy {m['numpy']}, "
        f"scikit-learn {m['sklearn']}; {results['threads']} BLAS thread(s) per process, {results['jobs']} "
        f"process(es), `nice`d beside other work; load average {results.get('load', '—')} at the end "
        f"(1 / 5 / 15 min). Total {results['wall'] / 60:.1f} min. Command: "
        f"`{results['command']}`."
    )
    for key, ds in results["datasets"].items():
        if ds.get("reused"):
            add(
                f"\n{NAMES[key]}: seeds {', '.join(map(str, ds['reused']))} were taken from an earlier run "
                "with the same budgets (`--reuse`); their times are that run's."
            )
    return "\n".join(lines)
