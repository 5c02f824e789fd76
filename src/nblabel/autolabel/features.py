"""Featurizers: turn items into vectors a classifier can learn from.

A featurizer is any callable taking a list of sources (texts, or image paths/URIs) and returning
a 2-D array (dense or scipy sparse), one row per source. Defaults (:func:`default_featurizer`):

- texts: TF-IDF over words and word pairs (sublinear tf), fitted on all of the job's texts;
- images: gradient-orientation histograms (HOG-like, 8x8 cells on a 64x64 grey image) plus
  coarse colour histograms, which do much better than raw pixels for a linear model and cost
  a few milliseconds per image; with the ``embeddings`` extra installed, those beside
  EfficientNet-Lite0 embeddings
  (:func:`~nblabel.autolabel.embeddings.efficientnet_histogram_features`).

Features are computed once per job and cached next to the store (see :func:`cached_features`).
A featurizer marked :func:`row_wise` (each row made from its own item: every default but TF-IDF)
is given the items a part at a time when someone waits for progress (:data:`Progress`), so a
long first pass (an hour of EfficientNet on 70,000 images) says how far it got.

An image the default featurizers cannot read (missing, corrupt, S3 refusing the request) still
gets a row, all zeros but a last "unreadable" flag column, so the output keeps one row per
source; the featurizer also tells the auto-labeler why through :func:`report_unreadable`, a side
channel that :func:`featurize` collects. A round leaves such items to people (no training, no
proposal, no auto-label) and lists them in its report; a round whose items, or answered items,
are all unreadable fails with :class:`UnreadableError` instead of learning from zero rows.
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import logging
import types
import zipfile
from collections.abc import Callable, Sequence
from contextvars import ContextVar
from pathlib import Path
from typing import Any, BinaryIO, TypeVar

import numpy as np
from PIL import Image, ImageOps
from scipy import sparse

from nblabel.autolabel.cache_files import write_cache
from nblabel.io.guard import CHECKED

__all__ = [
    "Features",
    "Featurizer",
    "Progress",
    "UnreadableError",
    "cached_features",
    "checked_features",
    "default_featurizer",
    "failure_arrays",
    "failures_of",
    "featurize",
    "image_features",
    "in_parts",
    "item_features",
    "load_feature_file",
    "report_unreadable",
    "row_wise",
    "save_feature_file",
    "stack_rows",
    "text_features",
    "unreadable_reason",
    "write_features",
]

log = logging.getLogger(__name__)

Featurizer = Callable[[Sequence[Any]], Any]

_F = TypeVar("_F", bound=Callable[..., Any])
_R = TypeVar("_R")

#: Told ``(done, total)`` as long work goes on: items featurized so far, and of how many.
Progress = Callable[[int, int], None]

#: Items a row-wise featurizer is given at a time while progress is reported: about 3 s of
#: EfficientNet-Lite0 at 224 px on a core, a fraction of a second of the histograms.
PROGRESS_CHUNK = 64

#: Characters of an unreadable item's reason that are kept (a stack of S3 errors can be long).
REASON_CHARS = 300

# The reasons of the featurizer call :func:`featurize` is running, by source. A context variable,
# not a return value: the featurizer contract (sources in, one row each out) stays what user
# featurizers implement, and nothing but plain dicts ever crosses a process (Dask) boundary.
_reported: ContextVar[dict[str, str] | None] = ContextVar("nblabel_unreadable", default=None)


class UnreadableError(RuntimeError):
    """A round found nothing to learn from: every item, or every answered item, is unreadable.

    The message names one of them and why it could not be read; no round was written.
    """


def unreadable_reason(exc: BaseException, source: Any = None) -> str:
    """An exception as an unreadable item's reason: its type and message (without the
    ``source: `` it may start with, as the item is named anyway), cut to a few lines."""
    message = str(exc)
    if source is not None:
        message = message.removeprefix(f"{source}: ")
    return f"{type(exc).__name__}: {message}"[:REASON_CHARS]


def report_unreadable(source: Any, exc: BaseException) -> None:
    """Tell the auto-labeler that a featurizer could not read ``source``, and why.

    Call it from a featurizer that still returns a row for the source (the default image
    featurizers return zeros and a flag): the round then leaves the item to people and lists
    ``exc`` in its report. A featurizer calling it must make each item's row from that item
    alone (it reads media per item): the unreadable items are tried again, by themselves, the
    next time the features are loaded. Outside :func:`featurize` it only logs.
    """
    log.info("no features for %s: %s", source, exc)
    reported = _reported.get()
    if reported is not None:
        reported[str(source)] = unreadable_reason(exc, source)


def row_wise(featurizer: _F) -> _F:
    """Mark ``featurizer`` as making each item's row from that item alone (it reads images one by
    one, embeds texts one by one): :func:`featurize` may then give it the items a part at a time,
    to report progress between the parts. TF-IDF, fitted on all the texts together, is not.
    Returns the featurizer itself (use it as a decorator)."""
    featurizer.nblabel_row_wise = True  # type: ignore[attr-defined]
    return featurizer


def _is_row_wise(featurizer: Any) -> bool:
    while isinstance(featurizer, functools.partial):  # partial(efficientnet_features, side=128)
        featurizer = featurizer.func
    return bool(getattr(featurizer, "nblabel_row_wise", False))


def in_parts(items: Sequence[Any], work: Callable[[Sequence[Any]], _R], progress: Progress) -> list[_R]:
    """``work`` done on :data:`PROGRESS_CHUNK` of ``items`` at a time, ``progress(done, total)``
    told after each part: the parts' results, in order."""
    results = []
    for start in range(0, len(items), PROGRESS_CHUNK):
        part = items[start : start + PROGRESS_CHUNK]
        results.append(work(part))
        progress(start + len(part), len(items))
    return results


def featurize(
    sources: Sequence[Any], featurizer: Featurizer, progress: Progress | None = None
) -> tuple[Any, dict[int, str]]:
    """A featurizer's checked output for ``sources`` (see :func:`checked_features`), and the
    items it reported unreadable (:func:`report_unreadable`): position -> the reason.

    With ``progress``, a :func:`row_wise` featurizer is called on :data:`PROGRESS_CHUNK` items at
    a time and ``progress(done, total)`` told after each part; any other featurizer is called
    once (so are a few items), and ``progress`` told when it returns.
    """
    sources = list(sources)
    reported: dict[str, str] = {}
    token = _reported.set(reported)
    parted = _is_row_wise(featurizer) and len(sources) > PROGRESS_CHUNK
    try:
        if progress is None or not parted:
            features = checked_features(featurizer(sources), len(sources))
        else:
            features = stack_rows(
                in_parts(sources, lambda part: checked_features(featurizer(part), len(part)), progress)
            )
    finally:
        _reported.reset(token)
    if progress is not None and not parted:  # else told with the last part
        progress(len(sources), len(sources))
    if not reported:
        return features, {}
    return features, {i: reported[str(s)] for i, s in enumerate(sources) if str(s) in reported}


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
    except Exception as exc:  # unreadable: a zero vector plus a flag, and the reason told
        report_unreadable(ref, exc)
        out = np.zeros(_LENGTH)
        out[-1] = 1.0
        return out
    rgb = np.asarray(small, dtype=float) / 255.0
    grey = rgb @ np.array([0.299, 0.587, 0.114])
    colour = np.concatenate([np.histogram(rgb[..., c], bins=8, range=(0, 1))[0] for c in range(3)])
    colour = colour / colour.sum() * 3
    return np.concatenate([_hog(grey), colour, [0.0]])


@row_wise
def image_features(refs: Sequence[Any]) -> np.ndarray:
    """HOG-like gradient histograms plus colour histograms of each image (dense array)."""
    return np.vstack([_one_image(ref) for ref in refs]) if len(refs) else np.zeros((0, 1))


def default_featurizer(media: str) -> Featurizer:
    """The featurizer a job uses when it names none.

    - Texts: TF-IDF, whether or not the ``embeddings`` extra is installed. MiniLM embeddings did
      not auto-label more of BBC news at the same answers (BENCHMARKS.md, auto-labeling, issue
      #22: at 100 answers neither can, as the bound needs more random draws than 100 answers
      hold; at 200, over 10 seeds, MiniLM 76.3% of the rest on average and TF-IDF 71.0%, both 6
      seeds of 10 at 85% or more, TF-IDF ahead in 7 seeds of 10), though their model is more
      accurate, and they cost about 0.15 s of CPU per text where TF-IDF takes a second for all
      2,225. Pass ``featurizer=minilm_features`` to use them.
    - Images: with the extra installed, gradient and colour histograms beside EfficientNet-Lite0
      embeddings (:func:`~nblabel.autolabel.embeddings.efficientnet_histogram_features`); without
      it, the histograms alone (:func:`image_features`). On Fashion-MNIST (same section, branch
      h22g; 10 seeds, the network at 128 px) the pair auto-labeled 67.5% of the rest at 1,400
      answers where the histograms alone did 39.2%, more in every seed, every run at >= 0.95
      against gold; the embeddings alone barely beat the histograms' model (coverage at 0.95
      on 10,000 images, 74.8% against 73.1%). The price is the network's time: about 25 times
      the histograms' per image, cached once per job.
    """
    if media == "text":
        return text_features
    from nblabel.autolabel.embeddings import efficientnet_histogram_features, image_model_installed

    return efficientnet_histogram_features if image_model_installed() else image_features


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
    project folder cannot run code: numbers as ``.npz`` read with ``allow_pickle=False``, with
    the items the featurizer reported unreadable and why (:func:`report_unreadable`; they are
    featurized again at each load, see :func:`item_features`); with ``documents``, each text's
    tokens and token features (:func:`nblabel.autolabel.tagger.document_features`, entity
    jobs) as JSON.

    Raises
    ------
    ValueError
        The featurizer's output does not have one row per source, or (without ``documents``)
        is not a 2-D numeric array.
    """
    if not documents:
        return _cached(sources, featurizer, folder)[0]
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"features-{_fingerprint(sources, featurizer)}.json"
    if path.exists():
        try:
            return _checked_documents(json.loads(path.read_text(encoding="utf-8")), len(sources))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log.warning("ignoring a broken feature cache %s: %s", path, exc)
    features = _checked_documents(featurizer(list(sources)), len(sources))
    try:
        text = json.dumps(features, allow_nan=False)
    except (TypeError, ValueError) as exc:  # a custom featurizer's values JSON cannot hold
        log.warning("not caching features that are not JSON data: %s", exc)
        return features
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
    return features


class Features:
    """A job's feature matrix and the items the featurizer could not read.

    It stands where the matrix stands in a round (:func:`~nblabel.autolabel.loop.compute_round`):
    ``shape`` and rows by position (``X[positions]``). ``failures`` maps the positions of the
    unreadable items to the reason, as :class:`~nblabel.autolabel.distributed.ClusterFeatures`
    does for a Dask cluster's.
    """

    def __init__(self, matrix: Any, failures: dict[int, str]) -> None:
        self.matrix = matrix
        self.failures = failures
        self.shape = matrix.shape

    def __getitem__(self, positions: Any) -> Any:
        """The rows of the items at ``positions``."""
        return self.matrix[positions]


def item_features(
    sources: Sequence[Any], featurizer: Featurizer, folder: Path, progress: Progress | None = None
) -> Features:
    """The features of :func:`cached_features` with the items the featurizer reported
    unreadable (:func:`report_unreadable`), the reason of each.

    Unreadable items are not remembered as such: each call featurizes them again (a missing file
    may be back, a process may have its S3 settings now) and rewrites the cache when some of
    them could be read. ``progress`` hears how far the featurizer got when the features are not
    cached yet (see :func:`featurize`).
    """
    return Features(*_cached(sources, featurizer, folder, progress))


def _cached(
    sources: Sequence[Any], featurizer: Featurizer, folder: Path, progress: Progress | None = None
) -> tuple[Any, dict[int, str]]:
    """The cached features of ``sources`` and their unreadable items (see :func:`item_features`)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"features-{_fingerprint(sources, featurizer)}.npz"
    if path.exists():
        try:
            features, arrays = load_feature_file(path)
            features = checked_features(features, len(sources))
            failed = failures_of(arrays)
        except (OSError, ValueError, KeyError, TypeError, zipfile.BadZipFile) as exc:
            log.warning("ignoring a broken feature cache %s: %s", path, exc)
        else:
            return _read_again(sources, featurizer, path, features, failed) if failed else (features, {})
    features, failed = featurize(sources, featurizer, progress)
    save_feature_file(path, features, **failure_arrays(failed))
    return features, failed


def _read_again(
    sources: Sequence[Any], featurizer: Featurizer, path: Path, features: Any, failed: dict[int, str]
) -> tuple[Any, dict[int, str]]:
    """The cached features with the unreadable items featurized again: the rows of those that
    can be read now replaced (and the cache rewritten), the reasons of the others renewed."""
    places = sorted(failed)
    again, still = featurize([sources[p] for p in places], featurizer)
    failed = {places[i]: why for i, why in still.items()}
    if len(still) < len(places):
        n = features.shape[0]
        order = np.arange(n)
        order[places] = n + np.arange(len(places))  # each re-read row from the stacked block
        features = stack_rows([features, again])[order]
        save_feature_file(path, features, **failure_arrays(failed))
    return features, failed


def stack_rows(blocks: Sequence[Any]) -> Any:
    """Feature blocks one above the other (sparse if any is); blocks without rows are left out,
    so an empty block of another width does not stand in the way."""
    blocks = [b for b in blocks if b.shape[0]] or list(blocks[:1])
    if any(sparse.issparse(b) for b in blocks):
        return sparse.vstack(blocks, format="csr")
    return np.vstack(blocks)


def failure_arrays(failed: dict[int, str]) -> dict[str, np.ndarray]:
    """Unreadable items (position -> reason) as the arrays a feature file keeps them in."""
    return {
        "failed": np.asarray(list(failed), dtype=np.int64),
        "reasons": np.asarray(list(failed.values()), dtype=str),
    }


def failures_of(arrays: dict[str, np.ndarray]) -> dict[int, str]:
    """Inverse of :func:`failure_arrays`; none in a file written before they were kept."""
    if "failed" not in arrays:
        return {}
    return dict(zip(arrays["failed"].tolist(), arrays["reasons"].tolist(), strict=True))


_MATRIX_KEYS = frozenset({"dense", "data", "indices", "indptr", "shape", "format"})


def write_features(fh: BinaryIO, features: Any, **arrays: np.ndarray) -> None:
    """Features (dense, or scipy sparse as CSR parts) and other ``arrays`` as one ``.npz``
    written to ``fh``."""
    if sparse.issparse(features):
        csr = features.tocsr()
        arrays.update(data=csr.data, indices=csr.indices, indptr=csr.indptr, shape=np.asarray(csr.shape))
    else:
        arrays["dense"] = np.asarray(features)
    np.savez(fh, **arrays)


def save_feature_file(path: Path, features: Any, **arrays: np.ndarray) -> None:
    """:func:`write_features` to a file, written aside and renamed, so a killed process never
    leaves a broken file."""
    buffer = io.BytesIO()
    write_features(buffer, features, **arrays)
    write_cache(str(path), buffer.getvalue())


def load_feature_file(path: Path | BinaryIO) -> tuple[Any, dict[str, np.ndarray]]:
    """A file (or open binary file) of :func:`save_feature_file` (or scipy's ``save_npz`` of a
    CSR matrix): the features and the other arrays. Read with ``allow_pickle=False``: numbers
    and strings only."""
    with np.load(path, allow_pickle=False) as archive:
        if "dense" in archive.files:
            features: Any = archive["dense"]
        else:
            shape = tuple(int(v) for v in archive["shape"])
            features = sparse.csr_matrix(
                (archive["data"], archive["indices"], archive["indptr"]), shape=shape
            )
        arrays = {name: archive[name] for name in archive.files if name not in _MATRIX_KEYS}
    return features, arrays


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
