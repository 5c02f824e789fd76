"""The mask codec: class-index masks as palette PNGs, GT's colours, and GT masks read back.

A mask is a 2-D ``uint8`` array of class indices, 0 being ``BACKGROUND``. nblabel keeps it as an
indexed (palette) PNG whose pixel value is the class index and whose palette is Ground Truth's
colours (``#ffffff`` for index 0, then tab10 and further distinct colours), so the file reads
both as GT's colour mask and as an index array (gt-formats §2.6, §2.7). The widget receives the
indices zlib-compressed (:func:`encode_indices`). GT's own masks, and the PNGs in GT's worker
answers, are decoded by colour (:func:`indices_by_colour`), which is robust to GT's 2020 palette
index bug.
"""

from __future__ import annotations

import io
import json
import logging
import os
import re
import zlib
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from PIL import Image, UnidentifiedImageError

from nblabel.io.guard import CHECKED, MASK_BYTES, FileGuard, MediaError

__all__ = [
    "BACKGROUND",
    "MAX_CLASSES",
    "WHITE",
    "color_map",
    "decode_indices",
    "decode_mask",
    "encode_indices",
    "indices_by_colour",
    "indices_of_png",
    "mask_overlay",
    "mask_png",
    "palette_colors",
    "read_gt_mask",
]

log = logging.getLogger(__name__)

BACKGROUND = "BACKGROUND"
WHITE = "#ffffff"
# GT's default class colours are matplotlib's tab10 (gt-formats §2.7), in tab10's order.
TAB10 = [
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
]
MAX_CLASSES = 255  # a palette PNG holds 256 colours, one of them the background
_HEX = re.compile(r"^#?([0-9a-fA-F]{6})$")


def palette_colors(n_labels: int) -> list[str]:
    """The hex colour of index 0 (white) and of each of ``n_labels`` classes: tab10 first, then
    further distinct colours that are neither white nor an earlier colour."""
    colors = [WHITE, *TAB10[:n_labels]]
    step = 0
    while len(colors) < n_labels + 1:
        # Golden-ratio walk over hues, three lightness levels: distinct and never white.
        step += 1
        hue = (step * 0.618033988749895) % 1.0
        level = (0.45, 0.6, 0.3)[step % 3]
        rgb = _hsl(hue, 0.65, level)
        candidate = "#{:02x}{:02x}{:02x}".format(*rgb)
        if candidate not in colors:
            colors.append(candidate)
    return colors


def _hsl(h: float, s: float, lum: float) -> tuple[int, int, int]:
    def channel(n: float) -> int:
        k = (n + h * 12) % 12
        a = s * min(lum, 1 - lum)
        return round(255 * (lum - a * max(-1, min(k - 3, 9 - k, 1))))

    return channel(0), channel(8), channel(4)


def _rgb(hex_color: str) -> tuple[int, int, int]:
    match = _HEX.match(hex_color.strip()) if isinstance(hex_color, str) else None
    if not match:
        raise ValueError(f"{hex_color!r} is not a #rrggbb colour")
    value = int(match.group(1), 16)
    return value >> 16, (value >> 8) & 255, value & 255


def color_map(labels: Sequence[str], confidence: float = 0.0) -> dict[str, dict[str, Any]]:
    """GT's ``internal-color-map``: index (string) to ``class-name``, ``confidence``, ``hex-color``;
    index ``"0"`` is ``BACKGROUND`` ``#ffffff``. One confidence for every class, as GT writes it."""
    names = [BACKGROUND, *labels]
    return {
        str(i): {"class-name": name, "confidence": confidence, "hex-color": color}
        for i, (name, color) in enumerate(zip(names, palette_colors(len(labels)), strict=True))
    }


def mask_png(indices: np.ndarray, colors: Sequence[str]) -> bytes:
    """An indexed PNG of a 2-D array of class indices with ``colors`` (hex) as its palette."""
    img = Image.fromarray(np.ascontiguousarray(indices, dtype=np.uint8), mode="P")
    palette = [c for color in colors for c in _rgb(color)]
    img.putpalette(palette + [0, 0, 0] * (256 - len(colors)))
    buffer = io.BytesIO()
    img.save(buffer, format="PNG", optimize=False, compress_level=6)
    return buffer.getvalue()


def encode_indices(indices: np.ndarray) -> bytes:
    """A mask as the widget receives it: its bytes (row-major uint8), zlib-compressed."""
    return zlib.compress(np.ascontiguousarray(indices, dtype=np.uint8).tobytes(), 6)


def decode_indices(data: bytes, width: int, height: int, where: str = "") -> np.ndarray:
    """The inverse of :func:`encode_indices`, refusing data that is not ``width * height`` bytes.

    Raises
    ------
    ValueError
        Not zlib data, or the wrong number of pixels (a bomb is stopped at one byte too many).
    """
    expected = width * height
    try:
        inflater = zlib.decompressobj()
        raw = inflater.decompress(bytes(data), expected + 1)
    except zlib.error as exc:
        raise ValueError(f"{where}the mask data is not zlib-compressed bytes: {exc}") from None
    if len(raw) != expected or inflater.unconsumed_tail:
        held = f"more than {expected}" if len(raw) > expected or inflater.unconsumed_tail else str(len(raw))
        raise ValueError(f"{where}the mask data holds {held} pixels, not {width} x {height} = {expected}")
    return np.frombuffer(raw, dtype=np.uint8).reshape(height, width)


def decode_mask(path: str | os.PathLike[str], where: str = "") -> np.ndarray:
    """The class indices of one of nblabel's own mask PNGs (palette mode, pixel = index).

    The file is read through the guard (a regular file, at most ``MASK_BYTES``): a stored
    answer names a file nblabel wrote, but the store may be shared.

    Raises
    ------
    ValueError
        The file is missing, refused by the guard, unreadable or not a palette PNG.
    """
    try:
        with CHECKED.open(os.fspath(path), MASK_BYTES) as fh, Image.open(fh) as img:
            if img.format != "PNG" or img.mode != "P":
                raise ValueError(
                    f"{where}{path} is a {img.format} {img.mode} image, not an indexed (palette) PNG mask"
                )
            return np.array(img, dtype=np.uint8)
    except MediaError as exc:
        raise ValueError(f"{where}cannot read the mask: {exc}") from None
    except (UnidentifiedImageError, OSError) as exc:
        raise ValueError(f"{where}cannot read the mask {path}: {exc}") from None


def indices_by_colour(rgb: np.ndarray, colors: Mapping[int, str], what: str, mapping: str) -> np.ndarray:
    """Class indices of an ``H x W x 3`` image whose pixels are class colours (index → hex).

    Raises
    ------
    ValueError
        A pixel has a colour no class has: ``what`` has pixels of colour ... which ``mapping``
        does not name (with the first such pixel).
    """
    packed = (rgb[..., 0].astype(np.uint32) << 16) | (rgb[..., 1].astype(np.uint32) << 8) | rgb[..., 2]
    out = np.full(packed.shape, 255, dtype=np.uint8)
    for i, color in colors.items():
        r, g, b = _rgb(color)
        out[packed == ((r << 16) | (g << 8) | b)] = i
    unknown = out == 255
    if unknown.any():
        y, x = np.argwhere(unknown)[0]
        raise ValueError(
            f"{what} has pixels of colour #{int(packed[y, x]):06x} (first at x={x}, y={y}), which {mapping} "
            "does not name"
        )
    return out


def indices_of_png(data: bytes, colors: Mapping[int, str], what: str, mapping: str) -> np.ndarray:
    """Class indices of a colour PNG (GT's worker answer, ``labeledImage.pngImageData``) by the
    class colours ``colors`` (index to hex); transparent pixels are unpainted, so background.

    Raises
    ------
    ValueError
        ``data`` is not an image, or a pixel has a colour no class has (see
        :func:`indices_by_colour`).
    """
    try:
        with Image.open(io.BytesIO(data)) as img:
            rgba = np.array(img.convert("RGBA"), dtype=np.uint8)
    except (UnidentifiedImageError, OSError) as exc:
        raise ValueError(f"{what} is not a PNG image: {exc}") from None
    rgba[rgba[..., 3] == 0, :3] = 255  # transparent: not painted
    return indices_by_colour(rgba[..., :3], colors, what, mapping)


def read_gt_mask(
    ref: str,
    metadata: Any,
    labels: Sequence[str] | None = None,
    attribute: str = "",
    *,
    guard: FileGuard | None = None,
) -> tuple[np.ndarray, list[str]]:
    """An existing GT semantic-segmentation label as class indices.

    The PNG is decoded by colour through the metadata's ``internal-color-map`` (robust to GT's
    2020 index bug) and the palette index is cross-checked: a mismatch is logged and the colour
    wins. Masks from GT versions without ``hex-color`` are read by index. With ``labels``, the
    indices are renumbered to them by class name (``BACKGROUND`` stays 0).

    Parameters
    ----------
    ref
        The mask's location (a path, ``file://`` or ``s3://`` URI): the ``<attr>`` value.
    metadata
        The ``<attr>-metadata`` dict (or its JSON).
    labels
        Class names to renumber to; None keeps GT's indices.
    attribute
        Named in errors.
    guard
        The file rule the mask is read under (default: no ``media_root``, so a path with ``..``
        is refused); a job passes its own.

    Returns
    -------
    indices, names
        A ``uint8`` array of class indices, and the class names by index (``names[0]`` is
        ``BACKGROUND``).

    Raises
    ------
    ValueError
        The file cannot be read, has a colour the colour map lacks, or a class is not among
        ``labels``; the message names the attribute, the file and the cause.
    """
    where = f"attribute {attribute!r}: " if attribute else ""
    if isinstance(metadata, str):
        metadata = json.loads(metadata)
    cmap = metadata.get("internal-color-map") if isinstance(metadata, Mapping) else None
    if not isinstance(cmap, Mapping) or not cmap:
        raise ValueError(f"{where}the metadata has no internal-color-map to read the mask {ref} with")
    entries = {}
    for key, entry in cmap.items():
        if not str(key).isdigit() or not isinstance(entry, Mapping):
            raise ValueError(f"{where}internal-color-map entry {key!r} is not an index with a class")
        entries[int(key)] = entry
    size = max(entries) + 1
    names = [
        str(entries[i].get("class-name", f"class_{i}")) if i in entries else f"class_{i}" for i in range(size)
    ]
    try:
        with (guard or FileGuard()).open(ref, MASK_BYTES) as fh, Image.open(fh) as img:
            img.load()
            index = np.array(img, dtype=np.uint8) if img.mode == "P" else None
            rgb = np.array(img.convert("RGB"), dtype=np.uint8)
    except MediaError as exc:
        raise ValueError(f"{where}cannot read the mask {ref}: {exc.reason}") from None
    except (UnidentifiedImageError, OSError) as exc:
        raise ValueError(f"{where}cannot read the mask {ref}: {exc}") from None
    colored = {i: e["hex-color"] for i, e in entries.items() if e.get("hex-color")}
    if colored:
        out = indices_by_colour(rgb, colored, f"{where}the mask {ref}", "the internal-color-map")
        if index is not None and not np.array_equal(index, out):
            log.warning(
                "%sthe mask %s: %d pixels' palette index differs from their colour's class; the colour wins",
                where,
                ref,
                int((index != out).sum()),
            )
    elif index is not None:
        out = index
    else:
        raise ValueError(f"{where}the mask {ref} has no palette and the internal-color-map no hex-color")
    if labels is None:
        return out, names
    target = {name: i + 1 for i, name in enumerate(labels)}
    target[BACKGROUND] = 0
    lookup = np.zeros(256, dtype=np.uint8)
    for i in np.unique(out):
        name = names[i] if i < len(names) else f"class_{i}"
        if name not in target:
            raise ValueError(
                f"{where}the mask {ref} has class {name!r}, which is not among the labels {list(labels)}"
            )
        lookup[i] = target[name]
    return lookup[out], [BACKGROUND, *labels]


def mask_overlay(
    image: bytes, mask: str | os.PathLike[str], colors: Sequence[str], alpha: float = 0.45
) -> bytes:
    """A PNG of an image (encoded bytes, any size) with a mask file's class colours over it
    (BACKGROUND left clear), the mask scaled to the image: the review grid's mask thumbnail."""
    indices = decode_mask(mask)
    with Image.open(io.BytesIO(image)) as img:
        base = img.convert("RGB")
    small = Image.fromarray(indices).resize(base.size, Image.Resampling.NEAREST)
    table = np.asarray([_rgb(c) for c in colors] + [(0, 0, 0)] * (256 - len(colors)), dtype=np.uint8)
    index = np.asarray(small)
    painted = table[index]
    blend = np.asarray(base, dtype=np.float32)
    shown = index > 0
    blend[shown] = (1 - alpha) * blend[shown] + alpha * painted[shown]
    out = io.BytesIO()
    Image.fromarray(blend.astype(np.uint8)).save(out, format="PNG")
    return out.getvalue()
