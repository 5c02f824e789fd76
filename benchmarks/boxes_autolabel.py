"""Box auto-labeling benchmark: the detector that learns, in the loop, on real blood-cell photos
(BCCD) or tree crowns seen from the air (DeepForest's example data).

The simulation is the real loop (:func:`nblabel.autolabel.box_loop.compute_box_round` with the
package's default :class:`~nblabel.autolabel.detector.BoxDetector`). Per seed, a test set is set
apart (BCCD: 60 images at random; DeepForest: the tiles of one whole photo); the rest is the pool. A simulated person answers pool images in the
order of the latest round's queue (random before the first round), always with the gold boxes,
and a round runs at each budget of answered images. With proposals, the person:

* accepts a proposal matching a gold box of its class at IoU >= 0.7 (no action: Enter takes it),
* adjusts one at IoU 0.3-0.7, or of another class at IoU >= 0.7 (one action),
* deletes a proposal matching no gold box (one action),
* draws each gold box left unmatched (one action),

and presses Enter (one action). Without proposals the person draws every box and presses Enter.
Matching pairs proposals and gold boxes one to one by IoU (Hungarian).

At each budget: mAP@0.5 (VOC all-point AP, mean over the classes) of the round's detector on
the test set, and the mean best IoU of each gold test box with a shown box of its class; the
actions per image for the next 10 pool images the person answers, with this round's proposals vs
drawing every box (the same images); the share of the open pool auto-labeled and the mIoU of
those auto-labels against gold (GT's matching); the round's time; the process's peak memory.

Data: ``--dataset bccd`` (the default), ``/work/shared/data/bccd-blood-cells`` (292 images, 3,943
boxes; the two zero-size boxes are skipped). Its labels are incomplete (some red cells carry no
box), so precision, and with it mIoU and mAP, measured against them look worse than they are.
``--dataset deepforest``: the four annotated photos that ``deepforest==2.1.0`` ships (installed
with ``--no-deps`` for its data, never imported), 951 tree crowns, cut into tiles of at most 400 px
(:func:`tile_voc`, written once as PNG under ``--cache``; ``--tile`` sets another size).

Usage::

    python -m benchmarks.boxes_autolabel [--dataset bccd|deepforest] [--seeds 5]
        [--budgets 5,10,25,50,100] [--backbones efficientnet,pixels] [--data PATH]
        [--out BENCHMARKS.md] [--no-write]

Replaces the section between ``<!-- boxes-autolabel:start -->`` and ``<!-- boxes-autolabel:end -->``
(DeepForest: ``boxes-autolabel-deepforest``).
"""

from __future__ import annotations

import argparse
import bisect
import datetime as dt
import importlib.util
import os
import platform
import resource
import time
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image as PILImage
from threadpoolctl import threadpool_limits

from benchmarks._lib.machine import cpu_name, load_average
from benchmarks._lib.report import REPO, command_line, write_section
from benchmarks._lib.run import ensure_pip, log
from benchmarks._lib.stats import median, p95
from nblabel.autolabel.box_loop import MIN_ANSWERS, compute_box_round
from nblabel.autolabel.box_match import as_array, correction_actions, image_miou, iou_matrix
from nblabel.autolabel.detector import BoxDetector

DATA = Path("/work/shared/data/bccd-blood-cells")
LABELS = ["RBC", "WBC", "Platelets"]
EFFORT_IMAGES = 10
TILE = 400
MIN_SIDE = 4
# DeepForest's second Yellowstone photo (12 tiles): the test set, whole, so that no test tile has a
# neighbour from the same photo in the pool.
TEST_PHOTO = "2019_YELL_2_541000_4977000_image_crop"
Image = tuple[str, dict[str, Any]]


@dataclass(frozen=True)
class Dataset:
    """Images with their gold boxes, the class names, and how each seed sets its test set apart."""

    labels: list[str]
    images: list[Image]
    section: str
    """Its section of BENCHMARKS.md (the name in the markers)."""
    title: str
    """The section's heading, its ``#`` included."""
    about: str
    """The section's sentences on the data and the split."""
    test_photo: str = ""
    """Tiles whose file name starts with this are the test set of every seed; empty: ``--test``
    images drawn at random per seed."""


def read_voc(path: Path) -> tuple[int, int, list[tuple[str, float, float, float, float]]]:
    """A Pascal-VOC file's image width, height and boxes (class name, xmin, ymin, xmax, ymax)."""
    root = ET.parse(path).getroot()
    size = root.find("size")
    boxes = []
    for obj in root.iter("object"):
        b = obj.find("bndbox")
        x0, y0, x1, y1 = (float(b.find(k).text) for k in ("xmin", "ymin", "xmax", "ymax"))
        boxes.append((obj.find("name").text.strip(), x0, y0, x1, y1))
    return int(size.find("width").text), int(size.find("height").text), boxes


def _value(width: int, height: int, boxes: list[dict[str, Any]]) -> dict[str, Any]:
    return {"image_size": [{"width": width, "height": height, "depth": 3}], "annotations": boxes}


def _box(class_id: int, x0: int, y0: int, x1: int, y1: int) -> dict[str, Any]:
    return {"class_id": class_id, "left": x0, "top": y0, "width": x1 - x0, "height": y1 - y0}


def load(folder: Path) -> list[Image]:
    """Every BCCD image with its gold boxes as GT's label object."""
    images = []
    for path in sorted((folder / "annotations").glob("*.xml")):
        width, height, found = read_voc(path)
        boxes = []
        for name, *corners in found:
            x0, y0, x1, y1 = (round(c) for c in corners)
            if x1 > x0 and y1 > y0:  # the README's two zero-size boxes
                boxes.append(_box(LABELS.index(name), x0, y0, x1, y1))
        images.append((str(folder / "images" / f"{path.stem}.jpg"), _value(width, height, boxes)))
    return images


def tile_edges(size: int, tile: int) -> list[int]:
    """Edges of the fewest near-equal parts of ``0..size`` none longer than ``tile`` (no thin strip
    left at the border, as fixed 400 px steps would leave: 2472 = 6 x 400 + 72)."""
    parts = -(-size // tile)
    return [round(i * size / parts) for i in range(parts + 1)]


def tile_voc(folder: Path, out: Path, tile: int = TILE, min_side: int = MIN_SIDE) -> tuple[list[Image], int]:
    """Cut every ``<stem>.png`` of ``folder`` with a ``<stem>.xml`` into tiles of at most ``tile`` px,
    one class. A box goes to the tile holding its centre, clipped to it (its part in a neighbour
    tile stays unboxed there); a clipped box under ``min_side`` px a side is dropped. The tiles are
    written once as PNG to ``out/<stem>-r<row>c<col>.png``. Returns the tiles with their gold and
    the number of boxes dropped."""
    out.mkdir(parents=True, exist_ok=True)
    images, dropped = [], 0
    for path in sorted(folder.glob("*.xml")):
        width, height, found = read_voc(path)
        xs, ys = tile_edges(width, tile), tile_edges(height, tile)
        per_tile: dict[tuple[int, int], list[dict[str, Any]]] = {}
        for _, x0, y0, x1, y1 in found:
            # The tile holding the centre; a centre on the image's far edge counts in the last tile.
            col = min(bisect.bisect_right(xs, (x0 + x1) / 2) - 1, len(xs) - 2)
            row = min(bisect.bisect_right(ys, (y0 + y1) / 2) - 1, len(ys) - 2)
            left, top = xs[col], ys[row]
            cx0, cy0 = round(max(x0, left)) - left, round(max(y0, top)) - top
            cx1, cy1 = round(min(x1, xs[col + 1])) - left, round(min(y1, ys[row + 1])) - top
            if cx1 - cx0 < min_side or cy1 - cy0 < min_side:
                dropped += 1
                continue
            per_tile.setdefault((row, col), []).append(_box(0, cx0, cy0, cx1, cy1))
        photo = None
        for row in range(len(ys) - 1):
            for col in range(len(xs) - 1):
                target = out / f"{path.stem}-r{row}c{col}.png"
                if not target.exists():
                    photo = photo or PILImage.open(folder / f"{path.stem}.png").convert("RGB")
                    photo.crop((xs[col], ys[row], xs[col + 1], ys[row + 1])).save(target)
                size = (xs[col + 1] - xs[col], ys[row + 1] - ys[row])
                images.append((str(target), _value(*size, per_tile.get((row, col), []))))
    return images, dropped


def bccd(folder: Path, test_images: int) -> Dataset:
    """BCCD blood cells, a random ``test_images`` per seed set apart."""
    images = load(folder)
    about = (
        f"BCCD: {len(images)} photos, {sum(len(v['annotations']) for _, v in images):,} boxes "
        f"({', '.join(LABELS)}); per seed {test_images} test images set apart, the rest in the pool. The "
        "gold is incomplete (some red cells carry no box), which lowers every figure measured against it."
    )
    title = "## Box auto-labeling: the detector that learns, on BCCD blood cells"
    return Dataset(LABELS, images, "boxes-autolabel", title, about)


def deepforest(folder: Path, cache: Path, tile: int = TILE) -> Dataset:
    """DeepForest's tree crowns, cut into tiles of at most ``tile`` px (:func:`tile_voc`); the
    tiles of ``TEST_PHOTO`` are the test set."""
    images, dropped = tile_voc(folder, cache / f"deepforest-tiles-{tile}", tile)
    photos = sorted({Path(ref).name.rsplit("-r", 1)[0] for ref, _ in images})
    test = [v for ref, v in images if Path(ref).name.startswith(TEST_PHOTO)]
    count = sum(len(v["annotations"]) for _, v in images)
    test_count = sum(len(v["annotations"]) for v in test)
    largest = max(sum(Path(ref).name.startswith(f"{photo}-r") for ref, _ in images) for photo in photos)
    log(f"deepforest: {len(photos)} photos, {len(images)} tiles, {count} boxes ({dropped} dropped)")
    about = (
        f"DeepForest 2.1.0's example data (MIT, `pip install --no-deps deepforest==2.1.0`): {len(photos)} "
        f"airborne RGB photos with hand-drawn tree crowns (Alive and Dead taken as one class, Tree), cut "
        f"into {len(images)} tiles of at most {tile} px a side; a box goes to the tile holding its centre, "
        f"clipped to it; {count} boxes kept, {dropped} dropped as under {MIN_SIDE} px once clipped. Test "
        f"set, the same for every seed: the {len(test)} tiles ({test_count} boxes) of one whole photo "
        f"(`{TEST_PHOTO}`), so that no test tile has a neighbour from its photo in the pool; the pool: "
        f"the other {len(images) - len(test)} tiles ({count - test_count} boxes), of which {largest} from one photo. "
        "Tiles of one photo are not independent (same flight, light and stand), and seeds differ only "
        "in the pool's order and the detector's seed. Part of a crown cut by a tile's edge stays "
        "unboxed in the neighbour tile."
    )
    title = "### The same loop on a second set: DeepForest's tree crowns"
    return Dataset(["Tree"], images, "boxes-autolabel-deepforest", title, about, TEST_PHOTO)


def deepforest_data() -> Path:
    """The folder of ``deepforest==2.1.0``'s example data, installed (data only) if missing. The
    package is never imported: its ``__init__`` imports torch and lightning."""
    ensure_pip("deepforest", "deepforest==2.1.0", "--no-deps")
    return Path(importlib.util.find_spec("deepforest").origin).parent / "data"


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
    data: Dataset, budgets: list[int], seed: int, backbone: str, cache: Path, test_images: int = 60
) -> list[dict[str, Any]]:
    """One seed: the loop over the budgets; a record per budget (see the module)."""
    images, labels = data.images, data.labels
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(images))
    if data.test_photo:
        held_out = [Path(images[i][0]).name.startswith(data.test_photo) for i in order]
        test = [images[i] for i, out in zip(order, held_out, strict=True) if out]
        pool = [images[i] for i, out in zip(order, held_out, strict=True) if not out]
    else:
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
            detector, refs, labels, human, open_positions, seed=seed + number, round_number=number
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
            "map50": float(np.nanmean([average_precision(found, gold_test, c) for c in range(len(labels))])),
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
    data: Dataset,
    results: dict[str, list[list[dict[str, Any]]]],
    args: argparse.Namespace,
    seconds: float,
    load: str,
) -> str:
    """The benchmark's section of BENCHMARKS.md: a paragraph on the set and the run, a table per backbone."""
    argv = ["--seeds", str(args.seeds), "--budgets", args.budgets, "--backbones", args.backbones]
    argv += [] if args.dataset == "bccd" else ["--dataset", args.dataset]
    argv += [] if args.tile == TILE else ["--tile", str(args.tile)]
    classes = f", mean of the {len(data.labels)} classes" if len(data.labels) > 1 else ""
    lines = [
        data.title,
        "",
        f"`{command_line('boxes_autolabel', argv)}` ({dt.date.today()}, {cpu_name()}, one process, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}; {seconds / 60:.1f} min; load "
        f"average {load}). {data.about} A simulated person answers pool images with the gold "
        "boxes in the order of the latest round's queue; a round of the real loop "
        "(`compute_box_round`, default `BoxDetector` with its edge refiner, proposals at score >= 0.5 once the loop has "
        "moved each class's score cut that saves the most correction actions on cross-fitted "
        "held-out images to 0.5, auto-labels where the lower 95% betting bound of cross-fitted "
        "held-out mIoU reaches 0.6) runs at each budget. "
        f"Mean ± standard deviation over seeds. *mAP@0.5*: VOC all-point AP on the test set{classes}; "
        "*best IoU*: mean over gold test boxes of the best IoU with a shown box "
        "(score >= 0.5) of its class; *actions/image*: the person's actions on the next 10 images answered after that "
        "round, with its proposals vs drawing every box (the same images; accept = 0, adjust, "
        "delete and draw = 1 each, Enter = 1); *auto*: share of the open pool auto-labeled, and the "
        "mIoU of those auto-labels against gold (GT's matching).",
        "",
    ]
    for backbone, runs in results.items():
        title = (
            "EfficientNet-Lite0 feature maps (`nblabel[embeddings]`)"
            if backbone == "efficientnet"
            else 'fallback without the extra: colour and gradient maps (`backbone="pixels"`)'
        )
        lines += [
            f"{data.title.split()[0]}# {title}, {len(runs)} seed{'s' if len(runs) > 1 else ''}",
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
    parser.add_argument("--dataset", choices=["bccd", "deepforest"], default="bccd")
    parser.add_argument("--tile", type=int, default=TILE, help="deepforest: the tiles' longest side (px)")
    parser.add_argument("--data", type=Path, help=f"the set's folder (bccd: {DATA}; deepforest: installed)")
    parser.add_argument("--test", type=int, default=60, help="images set apart as the test set")
    parser.add_argument("--cache", type=Path, default=REPO / ".nblabel" / "bench-boxes")
    parser.add_argument("--out", type=Path, default=REPO / "BENCHMARKS.md")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args(argv)
    budgets = [int(b) for b in args.budgets.split(",")]
    if args.dataset == "bccd":
        data = bccd(args.data or DATA, args.test)
    else:
        data = deepforest(args.data or deepforest_data(), args.cache, args.tile)
    started = time.perf_counter()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    # One thread per pool, as the background worker runs its rounds (worker._quiet_process).
    with threadpool_limits(limits=1):
        results = {
            backbone: [
                run(data, budgets, seed, backbone, args.cache, args.test) for seed in range(args.seeds)
            ]
            for backbone in args.backbones.split(",")
        }
    section = render(data, results, args, time.perf_counter() - started, load_average())
    print(section)
    if not args.no_write:
        write_section(args.out, data.section, section)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
