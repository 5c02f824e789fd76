"""Box auto-labeling benchmark: the detector that learns, in the loop, on real blood-cell photos.

The simulation is the real loop (:func:`nblabel.autolabel.box_loop.compute_box_round` with the
package's default :class:`~nblabel.autolabel.detector.BoxDetector`). Per seed, 60 images are set
apart as a test set; the other 232 are the pool. A simulated person answers pool images in the
order of the latest round's queue (random before the first round), always with the gold boxes,
and a round runs at each budget of answered images. With proposals, the person:

* accepts a proposal matching a gold box of its class at IoU >= 0.7 (no action: Enter takes it),
* adjusts one at IoU 0.3-0.7, or of another class at IoU >= 0.7 (one action),
* deletes a proposal matching no gold box (one action),
* draws each gold box left unmatched (one action),

and presses Enter (one action). Without proposals the person draws every box and presses Enter.
Matching pairs proposals and gold boxes one to one by IoU (Hungarian).

At each budget: mAP@0.5 (VOC all-point AP, mean over the 3 classes) of the round's detector on
the test set, and the mean best IoU of each gold test box with a shown box of its class; the
actions per image for the next 10 pool images the person answers, with this round's proposals vs
drawing every box (the same images); the share of the open pool auto-labeled and the mIoU of
those auto-labels against gold (GT's matching); the round's time; the process's peak memory.

Data: ``/work/shared/data/bccd-blood-cells`` (292 images, 3,943 boxes; the two zero-size boxes
are skipped). Its labels are incomplete (some red cells carry no box), so precision, and with it
mIoU and mAP, measured against them look worse than they are.

Usage::

    python -m benchmarks.boxes_autolabel [--seeds 5] [--budgets 5,10,25,50,100]
        [--backbones efficientnet,pixels] [--data PATH] [--out BENCHMARKS.md] [--no-write]

Replaces the section between ``<!-- boxes-autolabel:start -->`` and ``<!-- boxes-autolabel:end -->``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import resource
import time
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

from benchmarks._lib.machine import cpu_name, load_average
from benchmarks._lib.report import REPO, command_line, write_section
from benchmarks._lib.run import log
from benchmarks._lib.stats import median, p95
from nblabel.autolabel.box_loop import MIN_ANSWERS, compute_box_round
from nblabel.autolabel.box_match import as_array, correction_actions, image_miou, iou_matrix
from nblabel.autolabel.detector import BoxDetector

DATA = Path("/work/shared/data/bccd-blood-cells")
LABELS = ["RBC", "WBC", "Platelets"]
EFFORT_IMAGES = 10
Image = tuple[str, dict[str, Any]]


def load(folder: Path) -> list[Image]:
    """Every image of the set with its gold boxes as GT's label object."""
    images = []
    for path in sorted((folder / "annotations").glob("*.xml")):
        root = ET.parse(path).getroot()
        size = root.find("size")
        width, height = int(size.find("width").text), int(size.find("height").text)
        boxes = []
        for obj in root.iter("object"):
            b = obj.find("bndbox")
            x0, y0, x1, y1 = (round(float(b.find(k).text)) for k in ("xmin", "ymin", "xmax", "ymax"))
            if x1 > x0 and y1 > y0:  # the README's two zero-size boxes
                boxes.append(
                    {
                        "class_id": LABELS.index(obj.find("name").text.strip()),
                        "left": x0,
                        "top": y0,
                        "width": x1 - x0,
                        "height": y1 - y0,
                    }
                )
        value = {"image_size": [{"width": width, "height": height, "depth": 3}], "annotations": boxes}
        images.append((str(folder / "images" / f"{path.stem}.jpg"), value))
    return images


def average_precision(
    predicted: list[list[dict[str, Any]]], gold: list[list[dict[str, Any]]], class_id: int
) -> float:
    """VOC all-point AP at IoU 0.5 of one class over images."""
    scored, total = [], 0
    for found, truth in zip(predicted, gold, strict=True):
        p = [b for b in found if b["class_id"] == class_id]
        g = [b for b in truth if b["class_id"] == class_id]
        total += len(g)
        used: set[int] = set()
        iou = iou_matrix(as_array(p), as_array(g)) if p and g else np.zeros((len(p), len(g)))
        for i in np.argsort([-b["score"] for b in p], kind="stable"):
            j = int(np.argmax(iou[i])) if g else -1
            hit = j >= 0 and iou[i, j] >= 0.5 and j not in used
            if hit:
                used.add(j)
            scored.append((p[i]["score"], hit))
    if not total:
        return float("nan")
    scored.sort(key=lambda s: -s[0])
    hits = np.cumsum([h for _, h in scored])
    precision = hits / np.arange(1, len(scored) + 1) if scored else np.zeros(0)
    recall = hits / total if scored else np.zeros(0)
    envelope = np.maximum.accumulate(precision[::-1])[::-1] if scored else np.zeros(0)
    steps = np.diff(np.r_[0.0, recall])
    return float((envelope * steps).sum())


def best_iou(predicted: list[list[dict[str, Any]]], gold: list[list[dict[str, Any]]]) -> float:
    """Mean over gold boxes of the best IoU with a proposed box of the same class."""
    best = []
    for p, g in zip(predicted, gold, strict=True):
        if not g:
            continue
        iou = iou_matrix(as_array(g), as_array(p)) if p else np.zeros((len(g), 1))
        best += list(iou.max(axis=1))
    return float(np.mean(best))


def run(
    images: list[Image], budgets: list[int], seed: int, backbone: str, cache: Path, test_images: int = 60
) -> list[dict[str, Any]]:
    """One seed: the loop over the budgets; a record per budget (see the module)."""
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(images))
    test = [images[i] for i in order[:test_images]]
    pool = [images[i] for i in order[test_images:]]
    refs = [ref for ref, _ in pool]
    detector = BoxDetector(backbone, cache_dir=str(cache), seed=seed)
    human: dict[int, dict[str, Any]] = {}
    queue = [int(p) for p in rng.permutation(len(pool))]
    proposals: dict[int, Any] = {}
    records = []
    effort_pending: dict[str, Any] | None = None
    for number, budget in enumerate(budgets, 1):
        for p in [q for q in queue if q not in human]:
            if len(human) >= budget:
                break
            gold = pool[p][1]["annotations"]
            if effort_pending is not None and len(effort_pending["with"]) < EFFORT_IMAGES and p in proposals:
                effort_pending["with"].append(correction_actions(proposals[p]["annotations"], gold))
                effort_pending["without"].append(len(gold) + 1)
            human[p] = pool[p][1]
        open_positions = [p for p in range(len(pool)) if p not in human]
        started = time.perf_counter()
        result = compute_box_round(
            detector, refs, LABELS, human, open_positions, seed=seed + number, round_number=number
        )
        seconds = time.perf_counter() - started
        queue = result.queue
        proposals = {p: value for p, (value, _) in result.proposals.items()}
        # Before its first fit (fewer than MIN_ANSWERS answers) the detector proposes nothing.
        fitted = len(human) >= MIN_ANSWERS
        found = detector.predict([r for r, _ in test]) if fitted else [[] for _ in test]
        gold_test = [v["annotations"] for _, v in test]
        shown = [[b for b in boxes if b["score"] >= 0.5] for boxes in found]
        auto_miou = [
            image_miou(value["annotations"], pool[p][1]["annotations"]) for p, value, _ in result.auto
        ]
        record = {
            "budget": budget,
            "map50": float(np.nanmean([average_precision(found, gold_test, c) for c in range(len(LABELS))])),
            "best_iou": best_iou(shown, gold_test),
            "auto_share": len(result.auto) / max(len(open_positions), 1),
            "auto_miou": float(np.mean(auto_miou)) if auto_miou else None,
            "held_out_miou": result.report.estimated_accuracy,
            "lower_bound": result.report.lower_bound,
            "more": result.report.more_answers_needed,
            "seconds": seconds,
            "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        }
        if effort_pending is not None:
            records[-1]["effort"] = effort_pending
        effort_pending = {"with": [], "without": []}
        records.append(record)
        log(f"{backbone} seed {seed} budget {budget}: {record}")
    # The effort after the last budget: the next images with its proposals.
    for p in [q for q in queue if q not in human][:EFFORT_IMAGES]:
        gold = pool[p][1]["annotations"]
        effort_pending["with"].append(
            correction_actions(proposals.get(p, {"annotations": []})["annotations"], gold)
        )
        effort_pending["without"].append(len(gold) + 1)
    records[-1]["effort"] = effort_pending
    return records


def _cell(values: list[float], digits: int = 3) -> str:
    values = [v for v in values if v is not None and np.isfinite(v)]
    if not values:
        return "–"
    return (
        f"{np.mean(values):.{digits}f} ± {np.std(values):.{digits}f}"
        if len(values) > 1
        else f"{values[0]:.{digits}f}"
    )


def render(
    results: dict[str, list[list[dict[str, Any]]]], args: argparse.Namespace, seconds: float, load: str
) -> str:
    argv = ["--seeds", str(args.seeds), "--budgets", args.budgets, "--backbones", args.backbones]
    lines = [
        "## Box auto-labeling: the detector that learns, on BCCD blood cells",
        "",
        f"`{command_line('boxes_autolabel', argv)}` ({dt.date.today()}, {cpu_name()}, one process, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}; {seconds / 60:.1f} min; load "
        f"average {load}). BCCD: 292 photos, 3,943 boxes (RBC, WBC, Platelets); per seed {args.test} test "
        f"images set apart, the rest in the pool. A simulated person answers pool images with the gold "
        "boxes in the order of the latest round's queue; a round of the real loop "
        "(`compute_box_round`, default `BoxDetector` with its edge refiner, proposals at score >= 0.5 once the loop has "
        "moved each class's score cut that saves the most correction actions on cross-fitted "
        "held-out images to 0.5, auto-labels where the lower 95% betting bound of cross-fitted "
        "held-out mIoU reaches 0.6) runs at each budget. "
        "Mean ± standard deviation over seeds. *mAP@0.5*: VOC all-point AP on the test set, mean of "
        "the 3 classes; *best IoU*: mean over gold test boxes of the best IoU with a shown box "
        "(score >= 0.5) of its class; *actions/image*: the person's actions on the next 10 images answered after that "
        "round, with its proposals vs drawing every box (the same images; accept = 0, adjust, "
        "delete and draw = 1 each, Enter = 1); *auto*: share of the open pool auto-labeled, and the "
        "mIoU of those auto-labels against gold (GT's matching). The gold is incomplete (some red "
        "cells carry no box), which lowers every figure measured against it.",
        "",
    ]
    for backbone, runs in results.items():
        title = (
            "EfficientNet-Lite0 feature maps (`nblabel[embeddings]`)"
            if backbone == "efficientnet"
            else 'fallback without the extra: colour and gradient maps (`backbone="pixels"`)'
        )
        lines += [
            f"### {title}, {len(runs)} seed{'s' if len(runs) > 1 else ''}",
            "",
            "| answered | mAP@0.5 | best IoU | held-out mIoU | its lower bound | actions/image with proposals | drawing every box | fewer | auto-labeled | its mIoU vs gold | round (s) |",
            "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        ]
        budgets = [r["budget"] for r in runs[0]]
        for i, b in enumerate(budgets):
            rows = [run[i] for run in runs]
            with_ = [float(np.mean(r["effort"]["with"])) for r in rows if r["effort"]["with"]]
            without = [float(np.mean(r["effort"]["without"])) for r in rows if r["effort"]["without"]]
            fewer = [1 - w / wo for w, wo in zip(with_, without, strict=True)]
            autos = [r["auto_miou"] for r in rows if r["auto_miou"] is not None]
            lines.append(
                f"| {b} | {_cell([r['map50'] for r in rows])} | {_cell([r['best_iou'] for r in rows])} | "
                f"{_cell([r['held_out_miou'] for r in rows])} | {_cell([r['lower_bound'] for r in rows])} | "
                f"{_cell(with_, 1)} | {_cell(without, 1)} | {_cell([100 * f for f in fewer], 0)} % | "
                f"{_cell([100 * r['auto_share'] for r in rows], 1)} % | "
                f"{_cell(autos)} ({len(autos)} of {len(rows)} runs) | {median([r['seconds'] for r in rows]):.1f} (p95 {p95([r['seconds'] for r in rows]):.1f}) |"
            )
        every = [r["auto_miou"] for run in runs for r in run if r["auto_miou"] is not None]
        lines += [
            "",
            f"Runs that auto-labeled: {len(every)} rounds; lowest auto-label mIoU against gold "
            f"{min(every):.3f}."
            if every
            else "No round auto-labeled anything: the bound never reached 0.6.",
            f"Peak memory of the process (max RSS, whole run): {max(r['peak_mb'] for run in runs for r in run):.0f} MB.",
            "",
        ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--budgets", default="5,10,25,50,100")
    parser.add_argument("--backbones", default="efficientnet,pixels")
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--test", type=int, default=60, help="images set apart as the test set")
    parser.add_argument("--cache", type=Path, default=REPO / ".nblabel" / "bench-boxes")
    parser.add_argument("--out", type=Path, default=REPO / "BENCHMARKS.md")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args(argv)
    budgets = [int(b) for b in args.budgets.split(",")]
    images = load(args.data)
    started = time.perf_counter()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    # One thread per pool, as the background worker runs its rounds (worker._quiet_process).
    with threadpool_limits(limits=1):
        results = {
            backbone: [
                run(images, budgets, seed, backbone, args.cache, args.test) for seed in range(args.seeds)
            ]
            for backbone in args.backbones.split(",")
        }
    section = render(results, args, time.perf_counter() - started, load_average())
    print(section)
    if not args.no_write:
        write_section(args.out, "boxes-autolabel", section)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
