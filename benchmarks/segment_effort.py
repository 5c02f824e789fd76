"""Effort of outlining objects in the segmentation widget: actions per object to IoU 0.85 (NoC@85).

Usage::

    .venv/bin/python -m benchmarks.segment_effort [--photos 6] [--per-photo 8] [--answered 10]
        [--side 512] [--deep] [--out BENCHMARKS.md]

A simulated person outlines objects of ``--photos`` Dubai aerial photos (CC0,
/work/shared/data/dubai-aerial-seg) at full size with their gold masks; an object is a
4-connected component of one class (Building, Road, Vegetation or Water) of 1,000 px up to a
quarter of the image. Actions until the object's IoU reaches 0.85, capped at 20 (a miss counts 20),
three ways, on the same objects:

(i) **the brush alone** (:func:`brush_actions`): straight brush or eraser strokes across the
    largest error region;
(ii) **box → GrabCut** (:func:`grabcut_actions`): a box on the object, then corrective clicks at the
    largest error region's deepest pixel;
(iii) **from the model's proposal** (:func:`proposal_actions`): the mask auto-labeler's round
    (:func:`~nblabel.autolabel.mask_loop.compute_mask_round`, the worker's code, default
    features and forest) trained on ``--answered`` other Dubai photos answered with their gold
    masks proposes each photo's mask; the person starts from the proposal's pixels of the
    object's class that touch the object and corrects them with the brush strokes of (i). An
    object the proposal already outlines to 0.85 takes no action (Enter accepts the image).

The section between ``<!-- segment_effort:start -->`` and ``<!-- segment_effort:end -->`` in
``--out`` is replaced.
"""

from __future__ import annotations

import argparse
import random
import resource
import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from PIL import Image
from scipy import ndimage

from benchmarks._lib.machine import cores, load_average, machine_info
from benchmarks._lib.report import REPO, command_line, write_section
from benchmarks._lib.stats import median
from benchmarks.segment_autolabel import COLOURS, N_CLASSES, gold_mask
from nblabel.autolabel.mask_loop import UNKNOWN, Prediction, compute_mask_round
from nblabel.autolabel.pixels import WORK_SIDE, PixelFeatures, cached_pixel_features
from nblabel.tasks.segment_prompts import GrabCut

DUBAI = Path("/work/shared/data/dubai-aerial-seg")
#: The Dubai set's class colours (its README), for the objects of the effort measure.
OBJECT_CLASSES = {"Building": "#3C1098", "Road": "#6EC1E4", "Vegetation": "#FEDD3A", "Water": "#E2A929"}
CAP = 20  # NoC@85's usual cap: an object not reached within 20 actions counts 20
GOAL = 0.85
SEED = 20261206


def class_index(name: str) -> int:
    """The mask index of an object class, as the auto-labeler's benchmark numbers the Dubai colours."""
    hex_colour = OBJECT_CLASSES[name]
    return COLOURS[tuple(int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))]


def objects(mask_rgb: np.ndarray, rng: random.Random, most: int) -> list[tuple[str, np.ndarray]]:
    """Up to ``most`` objects of a gold colour mask, sampled: (class, bool mask) pairs."""
    found = []
    area = mask_rgb.shape[0] * mask_rgb.shape[1]
    for name, hex_colour in OBJECT_CLASSES.items():
        rgb = [int(hex_colour[i : i + 2], 16) for i in (1, 3, 5)]
        pieces, n = ndimage.label((mask_rgb == rgb).all(axis=2))
        sizes = np.bincount(pieces.ravel())
        found += [(name, pieces == i) for i in range(1, n + 1) if 1000 <= sizes[i] <= area // 4]
    rng.shuffle(found)
    return found[:most]


def iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum() / max(1, (a | b).sum()))


def largest_error(pred: np.ndarray, gold: np.ndarray) -> tuple[np.ndarray, tuple[int, int], float, bool]:
    """The largest 4-connected error region: its pixels, its deepest pixel (x, y), its inscribed
    radius there, and whether it is missed object (True) or extra (False)."""
    errors = pred ^ gold
    pieces, _ = ndimage.label(errors)
    sizes = np.bincount(pieces.ravel())
    sizes[0] = 0
    region = pieces == int(sizes.argmax())
    depth = ndimage.distance_transform_edt(np.pad(region, 1))[1:-1, 1:-1]
    y, x = np.unravel_index(int(depth.argmax()), depth.shape)
    return region, (int(x), int(y)), float(depth[y, x]), bool(gold[y, x])


def brush_actions(gold: np.ndarray, start: np.ndarray | None = None) -> int:
    """Strokes of the brush (and eraser) until IoU 0.85, from ``start`` (default: nothing painted;
    0 when ``start`` is there already): each stroke is straight, along the largest error
    region's long axis through its deepest pixel and across its extent (its round ends a radius
    short of the region's ends), with the brush as wide as the region is there (radius: its
    inscribed radius, 2 to 20 px); the brush paints (or erases) wherever it passes, in the
    region or not, as a real one does."""
    pred = np.zeros_like(gold) if start is None else start.copy()
    if start is not None and iou(pred, gold) >= GOAL:
        return 0
    for action in range(1, CAP + 1):
        region, (x, y), depth, missed = largest_error(pred, gold)
        r = int(min(20, max(2, depth)))
        ys, xs = np.nonzero(region)
        coords = np.stack([xs - xs.mean(), ys - ys.mean()])
        axis = np.linalg.eigh(np.cov(coords) if len(xs) > 1 else np.eye(2))[1][:, -1]
        along = axis @ coords  # each pixel's place along the axis; the deepest pixel's:
        here = axis @ np.array([x - xs.mean(), y - ys.mean()])
        # The brush's round ends stop a radius short of the region's ends.
        lo, hi = along.min() - here + r, along.max() - here - r
        lo, hi = (lo, hi) if lo < hi else (0.0, 0.0)
        a = (round(x + axis[0] * lo), round(y + axis[1] * lo))
        b = (round(x + axis[0] * hi), round(y + axis[1] * hi))
        swept = np.zeros(gold.shape, np.uint8)
        cv2.line(swept, a, b, 1, 2 * r - 1)
        pred = pred | swept.astype(bool) if missed else pred & ~swept.astype(bool)
        if iou(pred, gold) >= GOAL:
            return action
    return CAP


def grabcut_actions(image: np.ndarray, gold: np.ndarray, model: GrabCut) -> tuple[int, float]:
    """A box around the object, then one click at the deepest pixel of the largest error region
    (on the object: add; off it: remove) until IoU 0.85. Returns the actions and the box's IoU."""
    ys, xs = np.nonzero(gold)
    box = (int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1)
    points: list[tuple[int, int]] = []
    labels: list[int] = []
    pred = model(image, points, labels, box)
    first = iou(pred, gold)
    for action in range(1, CAP + 1):
        if iou(pred, gold) >= GOAL:
            return action, first
        _, point, _, missed = largest_error(pred, gold)
        points.append(point)
        labels.append(1 if missed else 0)
        pred = model(image, points, labels, box)
    return CAP, first


def proposal_start(proposal: np.ndarray, index: int, gold: np.ndarray) -> np.ndarray:
    """What the person starts from for an object: the proposal's 4-connected pieces of the
    object's class that touch it (the rest of the proposal belongs to other objects)."""
    pieces, _ = ndimage.label(proposal == index)
    touched = np.unique(pieces[gold])
    return np.isin(pieces, touched[touched > 0])


def proposal_actions(proposal: np.ndarray, index: int, gold: np.ndarray) -> tuple[int, float]:
    """Brush strokes from the proposal to IoU 0.85 (:func:`brush_actions`), and the IoU it starts at."""
    start = proposal_start(proposal, index, gold)
    return brush_actions(gold, start), iou(start, gold)


def proposals(
    names: list[str], answered: list[str], featurizer: PixelFeatures, cache: Path, data: Path = DUBAI
) -> tuple[dict[str, np.ndarray], float]:
    """The auto-labeler's proposed masks for ``names`` after a person answered ``answered`` with
    their gold masks (one round of the worker's code), and the round's seconds."""
    refs = [str(data / "images" / f"{n}.jpg") for n in [*answered, *names]]
    # The person paints the unlabelled (black) pixels as BACKGROUND, as in segment_autolabel.
    human = {}
    for p, name in enumerate(answered):
        gold = gold_mask(data / "masks" / f"{name}.png")
        human[p] = np.where(gold == UNKNOWN, 0, gold)
    found: dict[str, np.ndarray] = {}

    def keep(position: int, prediction: Prediction) -> None:
        found[names[position - len(answered)]] = prediction.labels

    started = time.perf_counter()
    compute_mask_round(
        lambda p: cached_pixel_features(refs[p], featurizer, cache),
        featurizer,
        N_CLASSES,
        human,
        list(range(len(answered), len(refs))),
        keep,
        seed=SEED,
        # The proposals come from the model fitted on every answered image; the folds only feed
        # the auto-labels' bound, which this measure does not use: the fewest the loop allows.
        folds=2,
    )
    return found, time.perf_counter() - started


def effort(
    n_images: int,
    per_image: int = 8,
    answered: int = 10,
    featurizer: PixelFeatures | None = None,
    cache: Path = Path(".nblabel") / "bench-pixels",
    seed: int = SEED,
    data: Path = DUBAI,
) -> dict[str, Any]:
    """NoC@85 per object on ``n_images`` Dubai photos (sampled, seeded): brush alone, box →
    GrabCut, and from the proposal of a model trained on ``answered`` other photos (0: no model)."""
    rng = random.Random(seed)
    names = sorted(p.stem for p in (data / "images").glob("*.jpg"))
    chosen = rng.sample(names, min(n_images, len(names)))
    rest = [n for n in names if n not in chosen]
    train = random.Random(seed + 1).sample(rest, min(answered, len(rest)))
    model = GrabCut()
    out: dict[str, Any] = {
        **{
            k: []
            for k in ("brush", "grabcut", "first_iou", "classes", "grabcut_s", "proposal", "proposal_iou")
        },
        "answered": len(train),
        "round_s": None,
    }
    if train:
        featurizer = featurizer or PixelFeatures()
        proposed, out["round_s"] = proposals(chosen, train, featurizer, cache, data)
        out["deep"] = featurizer.use_deep()
    for name in chosen:
        image = np.asarray(Image.open(data / "images" / f"{name}.jpg").convert("RGB"))
        gold_rgb = np.asarray(Image.open(data / "masks" / f"{name}.png").convert("RGB"))
        for cls, gold in objects(gold_rgb, rng, per_image):
            started = time.perf_counter()
            actions, first = grabcut_actions(image, gold, model)
            out["grabcut_s"].append((time.perf_counter() - started) / actions)
            out["grabcut"].append(actions)
            out["first_iou"].append(first)
            out["brush"].append(brush_actions(gold))
            out["classes"].append(cls)
            if train:
                actions, start = proposal_actions(proposed[name], class_index(cls), gold)
                out["proposal"].append(actions)
                out["proposal_iou"].append(start)
    return out


def effort_lines(e: dict[str, Any], n_images: int, argv: list[str] | None = None) -> list[str]:
    """The report: actions per object by class, the three ways side by side."""
    brush, grab = np.array(e["brush"]), np.array(e["grabcut"])
    prop, prop_iou = np.array(e["proposal"]), np.array(e["proposal_iou"])
    with_model = len(prop) == len(brush) and len(brush) > 0
    features = (
        "scikit-image features plus EfficientNet-Lite0 maps" if e.get("deep") else "scikit-image features"
    )
    lines = [
        "## Effort: actions per object to IoU 0.85 (NoC@85), issue 19 (i) brush, (ii) box → GrabCut, (iii) from the proposal",
        "",
        f"`{command_line('segment_effort', argv)}`: {len(brush)} objects (4-connected components of Building, Road, "
        f"Vegetation or Water, 1,000 px up to a quarter of the image) from {n_images} Dubai photos at full "
        f"size, gold masks; a simulated person, capped at {CAP} actions (a miss counts {CAP}). (i) each "
        "brush or eraser stroke is one straight stroke along the largest error region's long axis through "
        "its deepest pixel, across its extent, with the brush as wide as the region there (radius 2-20 px; "
        "it paints wherever it passes). (ii) one box drag on the object's bounding box, then one click per "
        "action at the deepest pixel of the largest error region (add where it is object, Shift-click where "
        "not).",
    ]
    if with_model:
        lines[-1] += (
            f" (iii) the mask auto-labeler's round (the worker's code: {features}, its default forest) "
            f"after {e['answered']} other Dubai photos were answered with their gold masks proposes "
            "each photo's mask; the person starts from the proposal's pieces of the object's class that "
            "touch the object and corrects them with the strokes of (i); an object the proposal already "
            f"outlines to 0.85 takes 0 actions. The round took {e['round_s']:.0f} s."
        )
    head = "| class | objects | (i) brush: mean | median | reached | (ii) GrabCut: mean | median | reached | box alone IoU (median) |"
    if with_model:
        head += " (iii) proposal: mean | median | reached | proposal alone IoU (median) |"
    lines += ["", head, "|" + "---|" * (head.count("|") - 1)]
    classes = np.array(e["classes"])
    first = np.array(e["first_iou"])
    for cls in [*OBJECT_CLASSES, "all"]:
        sel = classes == cls if cls != "all" else np.ones(len(classes), bool)
        if not sel.any():
            continue
        b, g = brush[sel], grab[sel]
        row = (
            f"| {cls} | {int(sel.sum())} | {b.mean():.1f} | {np.median(b):.0f} | {(b < CAP).mean():.0%} | "
            f"{g.mean():.1f} | {np.median(g):.0f} | {(g < CAP).mean():.0%} | {np.median(first[sel]):.2f} |"
        )
        if with_model:
            q = prop[sel]
            row += f" {q.mean():.1f} | {np.median(q):.0f} | {(q < CAP).mean():.0%} | {np.median(prop_iou[sel]):.2f} |"
        lines.append(row)
    lines += [
        "",
        f"- (ii) / (i): {grab.mean() / brush.mean():.2f}x the actions on average (target ≤ 0.5x). GrabCut per "
        f"prompt in this loop: median {1000 * median(e['grabcut_s']):.0f} ms.",
    ]
    if with_model:
        lines.append(
            f"- (iii) / (i): {prop.mean() / brush.mean():.2f}x the actions on average (target ≤ 0.5x); "
            f"{(prop == 0).mean():.0%} of the objects needed no correction."
        )
    return lines


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks.segment_effort", description=__doc__.split("\n\n")[0]
    )
    p.add_argument(
        "--photos", type=int, default=6, help="Dubai photos whose objects are outlined (default 6)"
    )
    p.add_argument("--per-photo", type=int, default=8, help="objects sampled per photo (default 8)")
    p.add_argument(
        "--answered",
        type=int,
        default=10,
        help="photos answered before the model proposes (default 10; 0: no (iii))",
    )
    p.add_argument(
        "--side", type=int, default=WORK_SIDE, help=f"the auto-labeler's working size (default {WORK_SIDE})"
    )
    p.add_argument("--deep", action="store_true", help="add the EfficientNet-Lite0 maps (the extra's)")
    p.add_argument(
        "--cache", type=Path, default=Path(".nblabel") / "bench-pixels", help="pixel feature cache"
    )
    p.add_argument("--data", type=Path, default=DUBAI)
    p.add_argument("--out", type=Path, default=REPO / "BENCHMARKS.md", help="markdown file to update")
    args = p.parse_args(argv)
    started, load_before = time.perf_counter(), load_average()
    e = effort(
        args.photos,
        args.per_photo,
        args.answered,
        PixelFeatures(side=args.side, deep=args.deep),
        args.cache,
        data=args.data,
    )
    lines = effort_lines(e, args.photos, argv)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    m = machine_info()
    lines += [
        "",
        f"Machine: {m['cpu']}, {cores()} cores shared with other jobs, {m['mem']}, Python {m['python']}; "
        f"{(time.perf_counter() - started) / 60:.1f} min in all; peak memory (max RSS) {peak:.0f} MB; "
        f"load average {load_before} at the start, {load_average()} at the end.",
    ]
    text = "\n".join(lines)
    print(text)
    write_section(args.out, "segment_effort", text)


if __name__ == "__main__":
    main()
