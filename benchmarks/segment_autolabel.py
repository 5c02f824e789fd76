"""Mask auto-labeler quality on real aerial images: proposal mIoU by answered images, auto-labels.

Data: ``shared/data/dubai-aerial-seg`` (72 aerial tiles of Dubai, 6 land-cover classes, CC0; black
mask pixels are unlabelled and left out of every score). A simulated person answers, from the gold
masks, the images the loop puts first in its queue (the first image at random). At each budget of
answered images a round runs (:func:`nblabel.autolabel.mask_loop.compute_mask_round`, the
worker's code), and its proposals for the images still open are scored against gold: per-image
mIoU over the classes present in either mask, averaged over images. Side by side, on the same
answered images, the issue's baseline: scikit-image multiscale features only and a 100-tree random
forest on 20,000 sampled pixels per image. Auto-labels are scored against gold as well: every
run that auto-labels must stay at or above the target (0.7).

With ``--round-size 1024x768`` the section also times the real round (``job.autolabel``, as the
worker runs it) on 10 answered images and ``--round-open`` open ones, copies of the tiles resized
to that size: once with the pixel features still to compute, once with them cached.

    python -m benchmarks.segment_autolabel [--images 72] [--seeds 5] [--budgets 1,2,5,10,20,50]
"""

from __future__ import annotations

import argparse
import logging
import resource
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from benchmarks._lib.machine import cores, load_average
from benchmarks._lib.report import REPO, command_line, write_section
from nblabel.autolabel.mask_loop import UNKNOWN, Prediction, compute_mask_round, image_miou, predict_image
from nblabel.autolabel.pixels import WORK_SIDE, PixelFeatures, cached_pixel_features

DATA = REPO.parent / "shared" / "data" / "dubai-aerial-seg"
COLOURS = {
    (60, 16, 152): 1,  # Building
    (132, 41, 246): 2,  # Land
    (110, 193, 228): 3,  # Road
    (254, 221, 58): 4,  # Vegetation
    (226, 169, 41): 5,  # Water
    (155, 155, 155): 6,  # Unlabeled (a class of the source)
}
N_CLASSES = 7  # BACKGROUND + 6

log = logging.getLogger("segment_autolabel")


def gold_mask(path: Path) -> np.ndarray:
    """Class indices of a Dubai mask; black (nobody annotated) is UNKNOWN."""
    rgb = np.asarray(Image.open(path).convert("RGB"))
    out = np.full(rgb.shape[:2], UNKNOWN, dtype=np.uint8)
    for colour, index in COLOURS.items():
        out[(rgb == colour).all(axis=-1)] = index
    return out


def load(data: Path, n: int) -> tuple[list[str], list[np.ndarray]]:
    images = sorted((data / "images").glob("*.jpg"))[:n] if n else sorted((data / "images").glob("*.jpg"))
    return [str(p) for p in images], [gold_mask(data / "masks" / f"{p.stem}.png") for p in images]


def baseline_estimator() -> Any:
    from sklearn.ensemble import RandomForestClassifier

    return RandomForestClassifier(n_estimators=100, n_jobs=1, random_state=0)


def run_seed(
    refs: list[str],
    gold: list[np.ndarray],
    budgets: list[int],
    seed: int,
    ours: PixelFeatures,
    base: PixelFeatures,
    cache: Path,
    evaluate: int,
    baseline: bool,
) -> list[dict[str, Any]]:
    """One simulated person: at each budget, the round's proposals and auto-labels against gold."""
    rng = np.random.default_rng(seed)
    human: dict[int, np.ndarray] = {}
    queue = [int(p) for p in rng.permutation(len(refs))]
    rows = []

    def arrays_of(featurizer: PixelFeatures) -> Any:
        return lambda p: cached_pixel_features(refs[p], featurizer, cache)

    for budget in budgets:
        while len(human) < budget and queue:
            p = queue.pop(0)
            human[p] = np.where(gold[p] == UNKNOWN, 0, gold[p])  # the person paints black as BACKGROUND
        open_positions = [p for p in range(len(refs)) if p not in human]
        scored = set(rng.permutation(open_positions)[:evaluate].tolist()) if evaluate else set(open_positions)
        found: dict[int, Prediction] = {}
        auto_scores: list[float] = []

        def keep(p: int, prediction: Prediction, found=found, scored=scored, auto_scores=auto_scores) -> None:
            if prediction.auto:
                auto_scores.append(image_miou(prediction.labels, gold[p]))
            if p in scored:
                found[p] = prediction

        started = time.perf_counter()
        result = compute_mask_round(
            arrays_of(ours), ours, N_CLASSES, human, open_positions, keep, seed=seed, round_number=budget
        )
        seconds = time.perf_counter() - started
        row: dict[str, Any] = {
            "budget": budget,
            "miou": float(np.mean([image_miou(found[p].labels, gold[p]) for p in found])) if found else None,
            "auto": len(auto_scores),
            "auto_miou": float(np.mean(auto_scores)) if auto_scores else None,
            "bound": result.report.lower_bound,
            "needed": result.report.more_answers_needed,
            "seconds": seconds,
            "open": len(open_positions),
        }
        if baseline:
            from nblabel.autolabel.mask_loop import _Pixels

            pixels = _Pixels(base, arrays_of(base), human, 20_000, np.random.default_rng(seed))
            model = pixels.fit(baseline_estimator(), list(human))
            row["baseline"] = float(
                np.mean(
                    [
                        image_miou(predict_image(model, base, arrays_of(base)(p), N_CLASSES)[0], gold[p])
                        for p in found
                    ]
                )
            )
        queue = [p for p in result.queue if p not in human]
        log.info("seed %d, %d answered: %s", seed, budget, row)
        rows.append(row)
    return rows


def time_round(
    refs: list[str], gold: list[np.ndarray], size: tuple[int, int], n_open: int, featurizer: PixelFeatures
) -> dict[str, Any]:
    """Wall seconds of ``job.autolabel(background=False)`` on 10 answered and ``n_open`` open
    copies of the tiles resized to ``size``: first with no cached features, then with them."""
    import pandas as pd

    from nblabel import Job, SemanticSegmentation

    perm = np.random.default_rng(7).permutation(len(refs))
    order = [int(perm[k % len(refs)]) for k in range(10 + n_open)]  # a small set repeats
    labels = ["Building", "Land", "Road", "Vegetation", "Water", "Unlabeled"]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        copies, masks = [], []
        for k, i in enumerate(order):
            copy = folder / f"{k:03d}-{Path(refs[i]).stem}.jpg"
            Image.open(refs[i]).convert("RGB").resize(size, Image.Resampling.BILINEAR).save(copy, quality=92)
            copies.append(str(copy))
            masks.append(np.asarray(Image.fromarray(gold[i]).resize(size, Image.Resampling.NEAREST)))
        job = Job(
            "dubai",
            pd.DataFrame({"source-ref": copies}),
            SemanticSegmentation(labels),
            store=folder / "s.sqlite",
        )
        for p in range(10):
            job.label(p, np.where(masks[p] == UNKNOWN, 0, masks[p]))
        out: dict[str, Any] = {"load_before": load_average()}
        for name in ("first", "cached"):
            started, cpu = time.perf_counter(), time.process_time()
            job.autolabel(background=False, featurizer=featurizer)
            out[name] = time.perf_counter() - started
            out[f"{name}_cpu"] = time.process_time() - cpu  # the round runs in this process
        out["load_after"] = load_average()
        cache = [f.stat().st_size for f in folder.rglob("pixels-*/*.npz")]
        out["cache_mb"] = max(cache) / 1e6 if cache else 0.0
    log.info("round at %s: %s", size, out)
    return out


def describe(featurizer: PixelFeatures) -> str:
    """The features of a featurizer, for the table's row name."""
    deep = " + EfficientNet-Lite0" if featurizer.use_deep() else ""
    return f"scikit-image sigmas 1-{featurizer.sigma_max:g}{deep} at {featurizer.side} px"


def render(
    results: list[list[dict[str, Any]]],
    args: argparse.Namespace,
    seconds: float,
    peak_mb: float,
    ours: PixelFeatures,
    timed: dict[str, Any] | None,
) -> str:
    budgets = [r["budget"] for r in results[0]]

    def cell(key: str, i: int) -> str:
        values = [seed[i][key] for seed in results if seed[i].get(key) is not None]
        return f"{np.mean(values):.3f}" if values else "–"

    lines = [
        "## Mask auto-labeler (Dubai aerial, `benchmarks/segment_autolabel.py`)",
        "",
        f"`{command_line('segment_autolabel')}`: {len(results)} seed(s), {args.images or 72} images at "
        f"{args.side} px on the longer side, proposals scored on "
        f"{args.evaluate or 'all'} open images per budget. Run {time.strftime('%Y-%m-%d')} on {cores()} "
        f"cores shared with other jobs (load {load_average()}); {seconds / 60:.1f} min in all; peak memory "
        f"(max RSS of the process) {peak_mb:.0f} MB.",
        "",
        "| answered images | " + " | ".join(str(b) for b in budgets) + " |",
        "|---|" + "---|" * len(budgets),
        f"| proposal mIoU, nblabel ({describe(ours)}, extra trees) | "
        + " | ".join(cell("miou", i) for i in range(len(budgets)))
        + " |",
    ]
    if not args.no_baseline:
        lines.append(
            "| proposal mIoU, baseline (hand features, 100-tree RF, 20k pixels/image) | "
            + " | ".join(cell("baseline", i) for i in range(len(budgets)))
            + " |"
        )
    lines += [
        "| round seconds (cross-fitting + every open image) | "
        + " | ".join(cell("seconds", i) for i in range(len(budgets)))
        + " |",
        "| images auto-labeled | " + " | ".join(cell("auto", i) for i in range(len(budgets))) + " |",
        "| their mIoU against gold | " + " | ".join(cell("auto_miou", i) for i in range(len(budgets))) + " |",
        "| lower bound of held-out mIoU (best cut) | "
        + " | ".join(cell("bound", i) for i in range(len(budgets)))
        + " |",
        "",
    ]
    if timed is not None:
        lines += [
            f"A real round (`job.autolabel(background=False)`) on 10 answered and {args.round_open} open images "
            f"of {args.round_size}: {timed['first']:.1f} s ({timed['first_cpu']:.1f} s of CPU) with every image's "
            f"features still to compute, {timed['cached']:.1f} s ({timed['cached_cpu']:.1f} s of CPU) with them "
            f"cached (load {timed['load_before']} before, "
            f"{timed['load_after']} after); the largest cache file {timed['cache_mb']:.1f} MB.",
            "",
        ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks.segment_autolabel", description=__doc__.split("\n\n")[0]
    )
    p.add_argument("--data", type=Path, default=DATA)
    p.add_argument("--images", type=int, default=0, help="use the first N images (0: all 72)")
    p.add_argument("--side", type=int, default=WORK_SIDE, help="working size: longer side in pixels")
    p.add_argument("--sigma-max", type=float, default=PixelFeatures.sigma_max, help="largest feature scale")
    p.add_argument("--seeds", type=int, default=5)
    p.add_argument("--budgets", default="1,2,5,10,20,50")
    p.add_argument("--evaluate", type=int, default=0, help="score N random open images per budget (0: all)")
    p.add_argument("--no-baseline", action="store_true")
    p.add_argument("--deep", action="store_true", help="add EfficientNet-Lite0's feature maps")
    p.add_argument("--round-size", default="", help="also time a real round at WIDTHxHEIGHT, e.g. 1024x768")
    p.add_argument("--round-open", type=int, default=10, help="open images of that round")
    p.add_argument("--cache", type=Path, default=Path(".nblabel") / "bench-pixels")
    p.add_argument("--out", type=Path, default=REPO / "BENCHMARKS.md")
    p.add_argument("--no-write", action="store_true")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    refs, gold = load(args.data, args.images)
    budgets = [b for b in (int(x) for x in args.budgets.split(",")) if b < len(refs)]
    ours = PixelFeatures(side=args.side, deep=args.deep, sigma_max=args.sigma_max)
    base = PixelFeatures(side=args.side, deep=False, sigma_max=16.0)  # the baseline features
    started = time.perf_counter()
    results = [
        run_seed(refs, gold, budgets, seed, ours, base, args.cache, args.evaluate, not args.no_baseline)
        for seed in range(args.seeds)
    ]
    timed = None
    if args.round_size:
        width, height = (int(v) for v in args.round_size.split("x"))
        timed = time_round(refs, gold, (width, height), args.round_open, ours)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    section = render(results, args, time.perf_counter() - started, peak, ours, timed)
    if args.no_write:
        print(section)
    else:
        write_section(args.out, "segment-autolabel", section)
    return 0


if __name__ == "__main__":
    sys.exit(main())
