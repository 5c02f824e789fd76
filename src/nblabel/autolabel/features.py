"""Featurizers: turn items into vectors a classifier can learn from.

A featurizer is any callable taking a list of sources (texts, or image paths/URIs) and returning
a 2-D array (dense or scipy sparse), one row per source. Defaults (:func:`default_featurizer`):

- texts: TF-IDF over words and word pairs (sublinear tf), fitted on all of the job's texts;
- images: gradient-orientation histograms (HOG-like, 8x8 cells on a 64x64 grey image) plus
  coarse colour histograms, which do much better than raw pixels for a linear model and cost
  a few milliseconds per image.

Features are computed once per job and cached next to the store (see :func:`cached_features`).
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import types
import zipfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageOps
from scipy import sparse

from nblabel.io.guard import CHECKED

__all__ = [
    "Featurizer",
    "cached_features",
    "checked_features",
    "default_featurizer",
    "image_features",
    "text_features",
]

log = logging.getLogger(__name__)

Featurizer = Callable[[Sequence[Any]], Any]


def text_features(texts: Sequence[Any]) -> Any:
    """TF-IDF of words and word pairs, fitted on these texts (a scipy sparse matrix)."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    docs = [t if isinstance(t, str) else "" for t in texts]
    min_df = 2 if len(docs) >= 50 else 1
    vectorizer = TfidfVectorizer(
        sublinear_tf=True, min_df=min_df, max_df=0.7, ngram_range=(1, 2), max_features=200_000
    )
    try:
        return vectorizer.fit_transform(docs)
    except ValueError:  # every text empty or a stop word: nothing to learn from
        return np.zeros((len(docs), 1))


_CELL = 8
_SIDE = 64
_BINS = 9
_LENGTH = (_SIDE // _CELL - 1) ** 2 * 4 * _BINS + 3 * 8 + 1  # HOG blocks, colour, "unreadable" flag


def _hog(grey: np.ndarray) -> np.ndarray:
    gy, gx = np.gradient(grey)
    magnitude = np.hypot(gx, gy)
    angle = (np.arctan2(gy, gx) % np.pi) / np.pi * _BINS  # unsigned orientation in [0, BINS)
    index = np.minimum(angle.astype(int), _BINS - 1)
    cells = _SIDE // _CELL
    hist = np.zeros((cells, cells, _BINS))
    rows = np.repeat(np.arange(_SIDE) // _CELL, _SIDE).reshape(_SIDE, _SIDE)
    cols = rows.T
    np.add.at(hist, (rows, cols, index), magnitude)
    # Normalise each 2x2 block of cells (L2-Hys, as in Dalal & Triggs).
    blocks = []
    for i in range(cells - 1):
        for j in range(cells - 1):
            block = hist[i : i + 2, j : j + 2].ravel()
            block = block / (np.linalg.norm(block) + 1e-6)
            block = np.minimum(block, 0.2)
            blocks.append(block / (np.linalg.norm(block) + 1e-6))
    return np.concatenate(blocks)


def _one_image(ref: Any) -> np.ndarray:
    try:
        with CHECKED.open(str(ref)) as fh, Image.open(fh) as img:
            img.draft("RGB", (_SIDE * 2, _SIDE * 2))
            img = ImageOps.exif_transpose(img).convert("RGB")
            small = img.resize((_SIDE, _SIDE), Image.Resampling.BILINEAR)
    except Exception as exc:  # unreadable images get a zero vector plus a flag, never an error
        log.info("no features for %s: %s", ref, exc)
        out = np.zeros(_LENGTH)
        out[-1] = 1.0
        return out
    rgb = np.asarray(small, dtype=float) / 255.0
    grey = rgb @ np.array([0.299, 0.587, 0.114])
    colour = np.concatenate([np.histogram(rgb[..., c], bins=8, range=(0, 1))[0] for c in range(3)])
    colour = colour / colour.sum() * 3
    return np.concatenate([_hog(grey), colour, [0.0]])


def image_features(refs: Sequence[Any]) -> np.ndarray:
    """HOG-like gradient histograms plus colour histograms of each image (dense array)."""
    return np.vstack([_one_image(ref) for ref in refs]) if len(refs) else np.zeros((0, 1))


def default_featurizer(media: str) -> Featurizer:
    """The featurizer a job uses when it names none: TF-IDF for texts, gradient and colour
    histograms for images.

    The same whether or not the ``embeddings`` extra is installed: MiniLM embeddings did not
    auto-label more of BBC news at the same answers (BENCHMARKS.md, auto-labeling, issue #22: at
    100 answers neither can, as the bound needs more random draws than 100 answers hold; at 200,
    over 10 seeds, MiniLM 76.3% of the rest on average and TF-IDF 71.0%, both 6 seeds of 10 at
    85% or more, TF-IDF ahead in 7 seeds of 10), though their model is more accurate,
    and they cost about 0.15 s of CPU per text where TF-IDF takes a second for all 2,225. Pass
    ``featurizer=minilm_features`` to use them.
    """
    return text_features if media == "text" else image_features


def _identify(featurizer: Any, digest: Any) -> None:
    # The name alone is not enough: every lambda of a module, every functools.partial, and a
    # function redefined in a notebook would share one cache entry and get stale features.
    if isinstance(featurizer, functools.partial):
        digest.update(b"partial:" + repr((featurizer.args, sorted(featurizer.keywords.items()))).encode())
        featurizer = featurizer.func
    name = getattr(featurizer, "__qualname__", type(featurizer).__name__)
    digest.update(f"{getattr(featurizer, '__module__', '')}.{name}".encode())
    code = getattr(featurizer, "__code__", None)
    if isinstance(code, types.CodeType):
        _code_digest(code, digest)


def _code_digest(code: types.CodeType, digest: Any) -> None:
    digest.update(code.co_code)
    digest.update(repr(code.co_names).encode())
    for const in code.co_consts:  # nested code objects by content: their repr holds an address
        if isinstance(const, types.CodeType):
            _code_digest(const, digest)
        else:
            digest.update(repr(const).encode())


def _fingerprint(sources: Sequence[Any], featurizer: Featurizer) -> str:
    digest = hashlib.sha1()
    _identify(featurizer, digest)
    for source in sources:
        digest.update(str(source).encode("utf-8", "surrogatepass"))
        digest.update(b"\0")
    return digest.hexdigest()[:16]


def cached_features(
    sources: Sequence[Any], featurizer: Featurizer, folder: Path, *, documents: bool = False
) -> Any:
    """Features of ``sources``, computed once and kept in ``folder``.

    The cache file is named by a fingerprint of the featurizer and the sources, so a changed
    dataset or featurizer computes afresh. It is written aside and renamed: a crash mid-write
    leaves no broken cache. It holds data only, never a pickle, so a file planted in a shared
    project folder cannot run code: numbers as ``.npz`` read with ``allow_pickle=False``
    (scipy's ``save_npz`` for sparse features); with ``documents``, each text's tokens and token
    features (:func:`nblabel.autolabel.tagger.document_features`, entity jobs) as JSON.

    Raises
    ------
    ValueError
        The featurizer's output does not have one row per source, or (without ``documents``)
        is not a 2-D numeric array.
    """
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"features-{_fingerprint(sources, featurizer)}.{'json' if documents else 'npz'}"
    if path.exists():
        try:
            return _load(path, len(sources))
        except (OSError, ValueError, KeyError, TypeError, zipfile.BadZipFile) as exc:
            log.warning("ignoring a broken feature cache %s: %s", path, exc)
    features = featurizer(list(sources))
    tmp = path.with_name(path.name + ".tmp")
    if documents:
        features = _checked_documents(features, len(sources))
        try:
            text = json.dumps(features, allow_nan=False)
        except (TypeError, ValueError) as exc:  # a custom featurizer's values JSON cannot hold
            log.warning("not caching features that are not JSON data: %s", exc)
            return features
        tmp.write_text(text, encoding="utf-8")
    else:
        features = checked_features(features, len(sources))
        with tmp.open("wb") as fh:
            if sparse.issparse(features):
                sparse.save_npz(fh, features.tocsr())
            else:
                np.savez(fh, dense=features)
    tmp.replace(path)
    return features


def checked_features(features: Any, count: int) -> Any:
    """A featurizer's output checked: a 2-D numeric array (dense or scipy sparse) with ``count``
    rows, one per item; dense output comes back as a NumPy array.

    Raises
    ------
    ValueError
        Another shape or a non-numeric type (the features would not line up with the items).
    """
    if not sparse.issparse(features):
        try:
            features = np.asarray(features)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"the featurizer returned something that is not an array: {exc}") from None
        if features.dtype.kind not in "biuf":
            raise ValueError(f"the featurizer returned {features.dtype} values; features are numbers")
    if features.ndim != 2 or features.shape[0] != count:
        raise ValueError(
            f"the featurizer returned an array of shape {features.shape} for {count} items; it must "
            f"return one row per item, shape ({count}, n_features)"
        )
    return features


def _checked_documents(features: Any, count: int) -> list[Any]:
    """Document features (``(spans, token features)`` per text), one per text, as stored."""
    features = list(features)
    if len(features) != count:
        raise ValueError(f"the featurizer returned {len(features)} documents for {count} texts")
    return [(list(map(tuple, spans)), tokens) for spans, tokens in features]


def _load(path: Path, count: int) -> Any:
    if path.suffix == ".json":
        return _checked_documents(json.loads(path.read_text(encoding="utf-8")), count)
    with np.load(path, allow_pickle=False) as archive:
        if "dense" in archive.files:
            return checked_features(archive["dense"], count)
    return checked_features(sparse.load_npz(path), count)
