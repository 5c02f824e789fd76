"""Click-to-mask for semantic segmentation: prompts (a box, clicks) in, an object's mask out.

Headless functions over arrays, used by the segmentation widget's tools and by the benchmarks.
An image is an ``(H, W, 3)`` uint8 RGB array at its original resolution; points are ``(x, y)``
original pixels; a box is ``(x0, y0, x1, y1)`` with exclusive ends; a mask is an ``(H, W)``
bool array. A *prompt model* is any callable ``(image, points, point_labels, box) -> mask``
(point label 1: on the object, 0: not on it; ``box`` may be None):

- :class:`GrabCut` (OpenCV) is the one nblabel uses by default: no model file, a few hundred
  milliseconds a prompt;
- :class:`SamOnnx` runs Segment-Anything-style ONNX files the user provides (the image encoder
  once per image, the small decoder per prompt), with ``onnxruntime`` from ``nblabel[sam]``.

:func:`extreme_points_prompt` turns the 4 extreme points of an object (Ground Truth's
auto-segment gesture) into a box and sure-object points for either model, and
:func:`superpixels` computes the SLIC regions the superpixel brush snaps to.

OpenCV and scikit-image are imported inside the functions that use them: ``import nblabel``
stays quick, and only a segmentation widget's first tool request pays for them.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "GrabCut",
    "PromptModel",
    "SamOnnx",
    "Stroke",
    "extreme_points_prompt",
    "stroke_points",
    "superpixels",
]

#: ``(image, points, point_labels, box) -> mask``: see the module docstring.
PromptModel = Callable[[np.ndarray, np.ndarray, np.ndarray, "tuple[int, int, int, int] | None"], np.ndarray]


def _points(points: Any, labels: Any) -> tuple[np.ndarray, np.ndarray]:
    """Points as an ``(N, 2)`` int array and their labels as an ``(N,)`` int array, checked."""
    pts = np.asarray(points if points is not None else [], dtype=float).reshape(-1, 2)
    lab = np.asarray(labels if labels is not None else [], dtype=int).reshape(-1)
    if len(pts) != len(lab):
        raise ValueError(f"{len(pts)} points but {len(lab)} point labels")
    if np.any((lab != 0) & (lab != 1)):
        raise ValueError("a point label is 1 (on the object) or 0 (not on it)")
    return np.floor(pts).astype(int), lab


def _clip_box(box: Sequence[float], width: int, height: int) -> tuple[int, int, int, int]:
    x0, y0, x1, y1 = (round(float(v)) for v in box)
    x0, x1 = sorted((x0, x1))
    y0, y1 = sorted((y0, y1))
    x0, y0 = max(0, x0), max(0, y0)
    x1, y1 = min(width, x1), min(height, y1)
    if x1 - x0 < 2 or y1 - y0 < 2:
        raise ValueError(f"the box {tuple(box)} holds less than 2 x 2 pixels of the {width} x {height} image")
    return x0, y0, x1, y1


def extreme_points_prompt(
    points: Any, width: int, height: int, pad: float = 0.05
) -> tuple[tuple[int, int, int, int], np.ndarray, np.ndarray]:
    """The prompt for an object given by its 4 extreme points (left, top, right, bottom in any order).

    The box is the points' bounding box grown by ``pad`` of its size (at least 3 pixels) on each
    side, so the points, which lie on the object's edge, are inside it with a little background
    around; the points are sure object pixels.

    Returns
    -------
    box, points, point_labels
        To pass to a prompt model.

    Raises
    ------
    ValueError
        Not 4 points, or they span less than 2 x 2 pixels.
    """
    pts = np.asarray(points, dtype=float).reshape(-1, 2)
    if len(pts) != 4:
        raise ValueError(f"the extreme-points prompt takes 4 points, got {len(pts)}")
    x0, y0 = np.floor(pts.min(axis=0)).astype(int)
    x1, y1 = np.floor(pts.max(axis=0)).astype(int) + 1
    mx = max(3, round(pad * (x1 - x0)))
    my = max(3, round(pad * (y1 - y0)))
    box = _clip_box((x0 - mx, y0 - my, x1 + mx, y1 + my), width, height)
    return box, np.floor(pts).astype(int), np.ones(4, dtype=int)


class GrabCut:
    """GrabCut (OpenCV) as a prompt model: a box and/or clicks in, the object's mask out.

    Outside the box is background; inside it GrabCut separates object from background by colour;
    points (clicks, or the pixels of a corrective stroke) are sure object (label 1) or sure
    background (label 0) around a small disc, and a sure-object point outside the box grows the
    box to hold it. A background point also drops the whole connected piece of the result it
    falls on (GrabCut alone would keep the rest of a piece coloured like the object). Strokes
    refine a result in GrabCut's mask mode (:meth:`refine`). With no box, the box is the positive points' bounding box grown by its size (at least
    48 pixels) on each side. For speed
    GrabCut runs on the box's neighbourhood scaled to at most ``work_size`` pixels a side and the
    result is scaled back (nearest neighbour: one answer per original pixel). OpenCV's random
    generator is seeded on every call, so a prompt always gives the same mask.

    Parameters
    ----------
    iterations
        GrabCut's iterations (5 is OpenCV's usual).
    work_size
        The longest side, in pixels, of the region GrabCut works on.
    point_radius
        The radius of a point's disc, in working pixels.
    """

    def __init__(self, iterations: int = 5, work_size: int = 160, point_radius: int = 3) -> None:
        self.iterations = iterations
        self.work_size = work_size
        self.point_radius = point_radius

    def __repr__(self) -> str:
        return f"GrabCut(iterations={self.iterations}, work_size={self.work_size})"

    def __call__(
        self,
        image: np.ndarray,
        points: Any = None,
        point_labels: Any = None,
        box: Sequence[float] | None = None,
    ) -> np.ndarray:
        """The object's mask, an ``(H, W)`` bool array (see the class docstring)."""
        return self._segment(image, points, point_labels, box, ())

    def refine(
        self,
        image: np.ndarray,
        points: Any,
        point_labels: Any,
        box: Sequence[float] | None,
        strokes: Sequence[Stroke],
    ) -> np.ndarray:
        """The prompt's mask refined by strokes, in GrabCut's mask mode.

        GrabCut first answers the prompt as :meth:`__call__` does; its result (sure and probable
        object and background) is then the starting mask of a second run
        (``cv2.GC_INIT_WITH_MASK``) in which every stroke's pixels are sure object (label 1) or
        sure background (label 0), so the colour models are learnt again from the corrected
        state, not from the box alone. A stroke is ``{"points": [[x, y], ...], "size": d,
        "label": 1 or 0}``: a brush of diameter ``d`` original pixels along the points. A
        sure-object stroke outside the box grows the box to hold it, as a click does.
        """
        return self._segment(image, points, point_labels, box, _strokes(strokes))

    def _segment(
        self,
        image: np.ndarray,
        points: Any,
        point_labels: Any,
        box: Sequence[float] | None,
        strokes: Sequence[tuple[np.ndarray, float, int]],
    ) -> np.ndarray:
        import cv2

        height, width = image.shape[:2]
        pts, lab = _points(points, point_labels)
        inside = (pts[:, 0] >= 0) & (pts[:, 1] >= 0) & (pts[:, 0] < width) & (pts[:, 1] < height)
        pts, lab = pts[inside], lab[inside]
        positive = np.concatenate([pts[lab == 1], *(line for line, _, label in strokes if label == 1)])
        positive = positive.reshape(-1, 2)
        if box is None:
            if not len(positive):
                raise ValueError("GrabCut needs a box or at least one point on the object")
            # Clicks lie inside the object, which reaches beyond them: a generous box around them.
            lo, hi = positive.min(axis=0), positive.max(axis=0) + 1
            pad = np.maximum(48, hi - lo)
            box = (*(lo - pad), *(hi + pad))
        x0, y0, x1, y1 = _clip_box(box, width, height)
        positive = positive[
            (positive[:, 0] >= 0)
            & (positive[:, 1] >= 0)
            & (positive[:, 0] < width)
            & (positive[:, 1] < height)
        ]
        if len(positive):  # a click (or stroke) on the object outside the box widens the box
            x0, y0 = min(x0, int(positive[:, 0].min())), min(y0, int(positive[:, 1].min()))
            x1, y1 = max(x1, int(positive[:, 0].max()) + 1), max(y1, int(positive[:, 1].max()) + 1)
        # The region GrabCut sees: the box and a margin of background to learn its colours from.
        margin = max(8, round(0.1 * max(x1 - x0, y1 - y0)))
        rx0, ry0 = max(0, x0 - margin), max(0, y0 - margin)
        rx1, ry1 = min(width, x1 + margin), min(height, y1 + margin)
        scale = min(1.0, self.work_size / max(rx1 - rx0, ry1 - ry0))
        crop = np.ascontiguousarray(image[ry0:ry1, rx0:rx1, :3], dtype=np.uint8)
        ww, wh = max(1, round((rx1 - rx0) * scale)), max(1, round((ry1 - ry0) * scale))
        if scale < 1:
            crop = cv2.resize(crop, (ww, wh), interpolation=cv2.INTER_AREA)

        def work(x: float, y: float) -> tuple[int, int]:
            return min(ww - 1, int((x - rx0) * scale)), min(wh - 1, int((y - ry0) * scale))

        init = np.full((wh, ww), cv2.GC_BGD, np.uint8)
        bx0, by0 = work(x0, y0)
        bx1, by1 = work(x1 - 1, y1 - 1)
        init[by0 : by1 + 1, bx0 : bx1 + 1] = cv2.GC_PR_FGD
        if not (init == cv2.GC_BGD).any():  # the box is the whole image: its rim may be background
            init[[0, -1], :] = cv2.GC_PR_BGD
            init[:, [0, -1]] = cv2.GC_PR_BGD
        for (x, y), label in zip(pts, lab, strict=True):
            cv2.circle(init, work(x, y), self.point_radius, cv2.GC_FGD if label else cv2.GC_BGD, -1)
        result = _grabcut(crop, init, self.iterations)
        painted = np.full((wh, ww), 255, np.uint8)  # the strokes' labels at working size
        for line, size, label in strokes:
            at = np.array([work(x, y) for x, y in line], np.int32)
            thick = max(1, round(size * scale))
            cv2.polylines(painted, [at.reshape(-1, 1, 2)], False, label, thick)
            cv2.circle(painted, (int(at[0][0]), int(at[0][1])), (thick + 1) // 2, label, -1)
        if strokes:
            # Mask mode from the previous state: GrabCut's own answer, with the strokes sure.
            result[painted == 1] = cv2.GC_FGD
            result[painted == 0] = cv2.GC_BGD
            result = _grabcut(crop, result, self.iterations)
        fg = np.isin(result, (cv2.GC_FGD, cv2.GC_PR_FGD)).astype(np.uint8)
        if (lab == 0).any():
            # GrabCut models colours, so "not this" on a blob coloured like the object leaves the
            # rest of the blob in; a click means the whole blob: drop the pieces it falls on.
            # The click's own disc is background already: join it to the pieces it touches.
            joined = fg.copy()
            for x, y in pts[lab == 0]:
                cv2.circle(joined, work(x, y), self.point_radius + 1, 1, -1)
            _, pieces = cv2.connectedComponents(joined, connectivity=4)
            hit = {int(pieces[work(x, y)[::-1]]) for x, y in pts[lab == 0]}
            fg[np.isin(pieces, list(hit))] = 0
            fg[painted == 1] = 1  # a later stroke on the object is sure, whatever a click dropped
        if scale < 1:
            fg = cv2.resize(fg, (rx1 - rx0, ry1 - ry0), interpolation=cv2.INTER_NEAREST)
        mask = np.zeros((height, width), bool)
        mask[ry0:ry1, rx0:rx1] = fg.astype(bool)
        return mask


#: A corrective stroke as the widget sends it: ``{"points": [[x, y], ...], "size": d, "label": 1 or 0}``.
Stroke = Mapping[str, Any]


def _strokes(strokes: Sequence[Stroke]) -> list[tuple[np.ndarray, float, int]]:
    """Strokes as ``(points (N, 2) int, diameter, label)``, checked."""
    out = []
    for stroke in strokes:
        if not isinstance(stroke, Mapping):
            raise ValueError(f"a stroke is a mapping with points, size and label, not {stroke!r}")
        label = stroke.get("label")
        if label not in (0, 1):
            raise ValueError("a stroke's label is 1 (on the object) or 0 (not on it)")
        line = np.floor(np.asarray(stroke.get("points") or [], dtype=float).reshape(-1, 2)).astype(int)
        if not len(line):
            raise ValueError("a stroke needs at least one point")
        size = float(stroke.get("size") or 1)
        if not 1 <= size <= 1024:
            raise ValueError(f"a stroke is 1 to 1024 pixels wide, not {size}")
        out.append((line, size, int(label)))
    return out


def stroke_points(strokes: Sequence[Stroke]) -> tuple[np.ndarray, np.ndarray]:
    """The strokes' points and their labels, for a prompt model that takes clicks but no strokes.

    Raises
    ------
    ValueError
        A stroke without points, with a label other than 0 or 1, or wider than 1024 pixels.
    """
    checked = _strokes(strokes)
    if not checked:
        return np.zeros((0, 2), int), np.zeros(0, int)
    points = np.concatenate([line for line, _, _ in checked])
    labels = np.concatenate([np.full(len(line), label) for line, _, label in checked])
    return points, labels


def _grabcut(crop: np.ndarray, init: np.ndarray, iterations: int) -> np.ndarray:
    """GrabCut in mask mode from ``init`` (OpenCV's GC_* values); ``init`` itself when it has no
    object or no background to learn colours from."""
    import cv2

    result = init.copy()
    has_fg = np.isin(init, (cv2.GC_FGD, cv2.GC_PR_FGD)).any()
    if has_fg and np.isin(init, (cv2.GC_BGD, cv2.GC_PR_BGD)).any():
        cv2.setRNGSeed(0)  # GrabCut's k-means starts from OpenCV's (per-thread) random state
        cv2.grabCut(
            crop,
            result,
            None,
            np.zeros((1, 65), np.float64),
            np.zeros((1, 65), np.float64),
            iterations,
            cv2.GC_INIT_WITH_MASK,
        )
    return result


def superpixels(
    image: np.ndarray, n_segments: int = 1200, compactness: float = 10.0, work_size: int = 1024
) -> np.ndarray:
    """SLIC superpixels of an image: an ``(H, W)`` uint16 label image, labels 0, 1, 2, ...

    Computed on the image scaled to at most ``work_size`` pixels a side (SLIC's time grows with
    the pixels; a region's outline needs no finer grid) and scaled back by nearest neighbour, so
    every original pixel has one label.
    """
    import cv2
    from skimage.segmentation import slic

    height, width = image.shape[:2]
    scale = min(1.0, work_size / max(height, width))
    small = image[:, :, :3]
    if scale < 1:
        small = cv2.resize(small, (round(width * scale), round(height * scale)), interpolation=cv2.INTER_AREA)
    labels = slic(small, n_segments=n_segments, compactness=compactness, start_label=0)
    if scale < 1:
        labels = cv2.resize(labels.astype(np.int32), (width, height), interpolation=cv2.INTER_NEAREST)
    # Renumber densely: SLIC may leave gaps, and the browser sizes its tables by the top label.
    _, dense = np.unique(labels, return_inverse=True)
    return dense.reshape(height, width).astype(np.uint16)


#: SAM's image normalisation (ImageNet mean and std, in 0-255 units).
SAM_MEAN = np.array([123.675, 116.28, 103.53], np.float32)
SAM_STD = np.array([58.395, 57.12, 57.375], np.float32)


class SamOnnx:
    """A Segment-Anything-style prompt model from two ONNX files the user provides.

    No SAM weights come with nblabel (none are published anywhere it installs from): export
    them from the model's own repository. The files are those of Segment Anything's ONNX export:

    - ``encoder``: one input ``(1, 3, S, S)`` float32, the image with its longest side resized to
      ``S`` (1024 for SAM), padded at the right and bottom, normalised by SAM's mean and std; its
      first output is the image embedding (``(1, 256, 64, 64)`` for SAM);
    - ``decoder``: ``segment_anything.utils.onnx.SamOnnxModel`` exported with
      ``return_single_mask=True``: inputs ``image_embeddings``, ``point_coords`` ``(1, N, 2)``,
      ``point_labels`` ``(1, N)``, ``mask_input`` ``(1, 1, 4E, 4E)``, ``has_mask_input`` ``(1,)``,
      ``orig_im_size`` ``(2,)``; first output ``masks`` ``(1, 1, H, W)`` logits.

    The encoder runs once per image (the last few embeddings are kept, keyed by the pixels'
    digest); each prompt runs only the decoder. A box goes in as SAM's corner points (labels 2
    and 3); without one, SAM's padding point is added.

    Parameters
    ----------
    encoder, decoder
        Paths of the ONNX files.
    providers
        onnxruntime execution providers (CPU by default).
    cache
        How many images' embeddings are kept.

    Examples
    --------
    >>> model = SamOnnx("sam_vit_b.encoder.onnx", "sam_vit_b.decoder.onnx")   # doctest: +SKIP
    >>> task = SemanticSegmentation(["building", "road"], prompt_model=model)  # doctest: +SKIP
    """

    def __init__(
        self,
        encoder: str | Path,
        decoder: str | Path,
        providers: Sequence[str] = ("CPUExecutionProvider",),
        cache: int = 4,
    ) -> None:
        try:
            import onnxruntime
        except ImportError as exc:  # the optional extra
            raise ImportError("SamOnnx needs onnxruntime: pip install 'nblabel[sam]'") from exc
        self.encoder_path, self.decoder_path = Path(encoder), Path(decoder)
        self._encoder = onnxruntime.InferenceSession(str(encoder), providers=list(providers))
        self._decoder = onnxruntime.InferenceSession(str(decoder), providers=list(providers))
        enc_input = self._encoder.get_inputs()[0]
        self._encoder_input = enc_input.name
        self.input_size = int(enc_input.shape[-1])
        mask_shape = next(i.shape for i in self._decoder.get_inputs() if i.name == "mask_input")
        self._mask_input = np.zeros([int(s) for s in mask_shape], np.float32)
        self._cache: dict[str, np.ndarray] = {}
        self._cache_size = cache
        self._lock = threading.Lock()  # the widget's worker threads may ask at once

    def __repr__(self) -> str:
        return f"SamOnnx({str(self.encoder_path)!r}, {str(self.decoder_path)!r})"

    def embedding(self, image: np.ndarray) -> np.ndarray:
        """The encoder's embedding of an image, computed once per image (kept for the next prompts)."""
        digest = hashlib.blake2b(np.ascontiguousarray(image).data, digest_size=16).hexdigest()
        digest += str(image.shape)
        with self._lock:
            if digest in self._cache:
                return self._cache[digest]
        height, width = image.shape[:2]
        scale = self.input_size / max(height, width)
        from PIL import Image

        resized = Image.fromarray(np.ascontiguousarray(image[:, :, :3], dtype=np.uint8)).resize(
            (round(width * scale), round(height * scale)), Image.BILINEAR
        )
        x = np.zeros((self.input_size, self.input_size, 3), np.float32)
        arr = (np.asarray(resized, np.float32) - SAM_MEAN) / SAM_STD
        x[: arr.shape[0], : arr.shape[1]] = arr
        out = self._encoder.run(None, {self._encoder_input: x.transpose(2, 0, 1)[None]})[0]
        with self._lock:
            self._cache[digest] = out
            while len(self._cache) > self._cache_size:
                self._cache.pop(next(iter(self._cache)))
        return out

    def __call__(
        self,
        image: np.ndarray,
        points: Any = None,
        point_labels: Any = None,
        box: Sequence[float] | None = None,
    ) -> np.ndarray:
        """The object's mask, an ``(H, W)`` bool array: the decoder's logits above 0."""
        height, width = image.shape[:2]
        pts, lab = _points(points, point_labels)
        coords = [(x + 0.5, y + 0.5) for x, y in pts]
        labels = [float(v) for v in lab]
        if box is not None:
            x0, y0, x1, y1 = _clip_box(box, width, height)
            coords += [(x0, y0), (x1, y1)]
            labels += [2.0, 3.0]
        else:
            coords.append((0.0, 0.0))
            labels.append(-1.0)
        if not len(pts) and box is None:
            raise ValueError("SAM needs a box or at least one point")
        scale = self.input_size / max(height, width)
        feeds = {
            "image_embeddings": self.embedding(image),
            "point_coords": (np.asarray(coords, np.float32) * scale)[None],
            "point_labels": np.asarray(labels, np.float32)[None],
            "mask_input": self._mask_input,
            "has_mask_input": np.zeros(1, np.float32),
            "orig_im_size": np.asarray([height, width], np.float32),
        }
        masks = self._decoder.run(None, feeds)[0]
        return np.asarray(masks[0, 0] > 0.0)
