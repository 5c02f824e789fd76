"""Generated items: photo-like JPEGs, review-like texts, one big grid image."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

__all__ = ["BIG_IMAGE", "make_big_image", "make_extra_images", "make_images", "make_texts"]

BIG_IMAGE = (4000, 3000)


def make_images(folder: Path, n: int, seed: int = 20261127) -> list[Path]:
    """n distinct photo-like 1024×768 JPEGs (q85): smooth colour fields, mid-frequency
    structure and sensor-like grain, which compress like real photos (~140 kB each)."""
    folder.mkdir(parents=True, exist_ok=True)
    width, height = 1024, 768
    paths = []
    for i in range(n):
        rng = np.random.default_rng(seed + i)
        low = Image.fromarray(rng.integers(0, 256, (6, 8, 3), dtype=np.uint8))
        mid = Image.fromarray(rng.integers(0, 256, (48, 64, 3), dtype=np.uint8))
        a = np.asarray(low.resize((width, height), Image.Resampling.BICUBIC), dtype=np.float32) * 0.7
        a += np.asarray(mid.resize((width, height), Image.Resampling.BICUBIC), dtype=np.float32) * 0.3
        a += rng.normal(0.0, 4.0, (height, width, 1)).astype(np.float32)
        img = Image.fromarray(np.clip(a, 0, 255).astype(np.uint8))
        draw = ImageDraw.Draw(img)
        draw.text((32, 32), f"bench image {i}", fill=(255, 255, 255), font_size=64)
        path = folder / f"bench{i:04d}.jpg"
        img.save(path, format="JPEG", quality=85)
        paths.append(path)
    return paths


def make_extra_images(folder: Path, start: int, n: int, bases: int = 8, seed: int = 20261127) -> list[Path]:
    """n more distinct 1024×768 JPEGs, cheaply: small variations (tint, offset, number) of a few
    photo-like bases made by ``make_images``; they compress like those (same size class)."""
    base_paths = make_images(folder / "bases", min(bases, n)) if n else []
    arrays = [np.asarray(Image.open(b), dtype=np.int16) for b in base_paths]
    rng = np.random.default_rng(seed)
    paths = []
    for k in range(n):
        i = start + k
        a = arrays[k % len(arrays)] + rng.integers(-12, 13, 3, dtype=np.int16)
        a = np.roll(a, int(rng.integers(0, 64)), axis=1)
        img = Image.fromarray(np.clip(a, 0, 255).astype(np.uint8))
        ImageDraw.Draw(img).text((32, 32), f"bench image {i}", fill=(255, 255, 255), font_size=64)
        path = folder / f"bench{i:04d}.jpg"
        img.save(path, format="JPEG", quality=85)
        paths.append(path)
    return paths


_WORDS_TEXT = (
    "the a delivery order customer package arrived late early damaged fine support team refund "
    "replaced quickly slowly service product quality price box label store online courier "
    "weekend morning tracking number email phone never always again happy unhappy friendly "
    "rude helpful manager return policy warranty battery screen colour size fit material"
)
_WORDS = _WORDS_TEXT.split()


def make_texts(n: int, seed: int = 20261127) -> list[str]:
    """n distinct review-like texts of a few sentences (~300-600 characters)."""
    rng = random.Random(seed)
    texts = []
    for i in range(n):
        sentences = [f"Review {i}."]
        for _ in range(rng.randint(4, 7)):
            words = [rng.choice(_WORDS) for _ in range(rng.randint(8, 16))]
            sentences.append(" ".join(words).capitalize() + ".")
        texts.append(" ".join(sentences))
    return texts


def make_big_image(folder: Path) -> Path:
    """A BIG_IMAGE-sized JPEG with a grid, to drag and paint on."""
    path = folder / "big_4000x3000.jpg"
    img = Image.new("RGB", BIG_IMAGE, (60, 100, 140))
    draw = ImageDraw.Draw(img)
    for x in range(0, BIG_IMAGE[0], 200):
        draw.line([(x, 0), (x, BIG_IMAGE[1])], fill=(220, 220, 220), width=3)
    for y in range(0, BIG_IMAGE[1], 200):
        draw.line([(0, y), (BIG_IMAGE[0], y)], fill=(220, 220, 220), width=3)
    img.save(path, quality=90)
    return path
