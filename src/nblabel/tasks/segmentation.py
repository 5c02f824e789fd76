"""Semantic segmentation: Ground Truth's ``groundtruth/semantic-segmentation`` (gt-formats §2.6, §2.7).

An answer is a mask: one class index per pixel of the original image, 0 being ``BACKGROUND``.
It is kept as an indexed (palette) PNG under the job's folder, written atomically before the
answer is stored, and the stored value names it::

    {"mask": "/…/.nblabel/<job>/masks/<attribute>/<item>-<id>.png", "sha1": "<hex of the PNG>",
     "labels_present": ["road", "car"]}

The PNG's pixel value is the class index and its palette GT's colours (``#ffffff`` for index 0,
then one colour per class), so it reads both as GT's colour mask and as an index array. GT writes
the mask's location at ``<attribute>`` (which must end in ``-ref``) and the classes and colours in
``<attribute>-metadata``'s ``internal-color-map``. Existing GT masks are decoded by colour and
cross-checked against the palette index, as GT's own index-correction script does.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import re
import secrets
import zlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from PIL import Image, UnidentifiedImageError

from nblabel.io import AtomicFile
from nblabel.manifest import is_missing
from nblabel.tasks.base import Task, gt_job_name
from nblabel.tasks.classification import check_labels

__all__ = [
    "BACKGROUND",
    "SemanticSegmentation",
    "color_map",
    "decode_mask",
    "encode_indices",
    "mask_png",
    "palette_colors",
    "read_gt_mask",
]

log = logging.getLogger(__name__)

GT_TYPE = "groundtruth/semantic-segmentation"
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

    Raises
    ------
    ValueError
        The file is missing, unreadable or not a palette PNG.
    """
    try:
        with Image.open(path) as img:
            if img.mode != "P":
                raise ValueError(f"{where}{path} is a {img.mode} image, not an indexed (palette) PNG mask")
            return np.array(img, dtype=np.uint8)
    except FileNotFoundError:
        raise ValueError(f"{where}the mask file {path} does not exist") from None
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


def read_gt_mask(
    ref: str, metadata: Any, labels: Sequence[str] | None = None, attribute: str = ""
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
    from nblabel.media import MediaError, local_path

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
        path = local_path(ref)
        with Image.open(path) as img:
            img.load()
            index = np.array(img, dtype=np.uint8) if img.mode == "P" else None
            rgb = np.array(img.convert("RGB"), dtype=np.uint8)
    except MediaError as exc:
        raise ValueError(f"{where}cannot read the mask {ref}: {exc.reason}") from None
    except FileNotFoundError:
        raise ValueError(f"{where}the mask {ref} does not exist") from None
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


class SemanticSegmentation(Task):
    """Paint each pixel of an image with a class: a mask at the original resolution.

    Index 0 is ``BACKGROUND`` (every unpainted pixel); the labels take indices 1, 2, ... in order
    and keys 1-9, 0 in the widget. The mask is written as an indexed PNG under the job's folder
    (``.nblabel/<job>/masks/``) with GT's colours as its palette. The job's label attribute ends
    in ``-ref``, as GT requires for this task (``Job`` adds it).

    Parameters
    ----------
    labels
        Class names (at most 255), in key order.
    adjust
        A label attribute of the input manifest holding GT masks (``<attr>-ref`` with its
        ``-metadata``). Each image starts from that mask, classes matched by name; the output
        gets GT's ``adjustment-status`` (``adjusted`` when any pixel changed).

    Examples
    --------
    >>> task = SemanticSegmentation(["road", "car", "person"])              # doctest: +SKIP
    >>> task = SemanticSegmentation(["road", "car"], adjust="streets-ref")  # doctest: +SKIP
    """

    media: ClassVar[str] = "image"
    family: ClassVar[str] = "segment"
    #: GT's rule: a semantic-segmentation label attribute ends in ``-ref``.
    attribute_suffix: ClassVar[str] = "-ref"

    def __init__(self, labels: Sequence[str], adjust: str | None = None) -> None:
        self.labels = check_labels(labels)
        if len(self.labels) > MAX_CLASSES:
            raise ValueError(
                f"an indexed PNG mask holds at most {MAX_CLASSES} classes, got {len(self.labels)}"
            )
        if BACKGROUND in self.labels:
            raise ValueError(f"{BACKGROUND!r} is index 0 of every mask; it cannot be one of the labels")
        if adjust is not None and (not isinstance(adjust, str) or not adjust):
            raise ValueError(f"adjust names a manifest attribute with masks, got {adjust!r}")
        self.adjust = adjust
        self.colors = palette_colors(len(self.labels))

    def __repr__(self) -> str:
        extra = f", adjust={self.adjust!r}" if self.adjust else ""
        return f"SemanticSegmentation({self.labels!r}{extra})"

    @property
    def gt_type(self) -> str:
        return GT_TYPE

    @property
    def columns(self) -> tuple[str, ...]:
        return (self.adjust,) if self.adjust else ()

    def spec(self) -> dict[str, Any]:
        spec: dict[str, Any] = {"type": GT_TYPE, "labels": self.labels}
        if self.adjust:
            spec["adjust"] = self.adjust
        return spec

    # -- answers ----------------------------------------------------------------------------

    def prepare(self, value: Any, item: str, folder: Path, name: str | None = None) -> Any:
        """Write a mask given as data and return the stored answer; other values pass through.

        ``value`` is a 2-D integer array of class indices, or the widget's
        ``{"width", "height", "data": zlib bytes}``. The PNG goes to ``folder`` as
        ``<item digest>-<name or a random id>.png``, written whole before this returns.

        Raises
        ------
        ValueError
            Not a 2-D array, wrong size, or an index past the labels; names the item.
        """
        where = f"item {item}: " if item else ""
        if isinstance(value, Mapping) and "data" in value:
            width, height = value.get("width"), value.get("height")
            for v, what in ((width, "width"), (height, "height")):
                if isinstance(v, bool) or not isinstance(v, int) or not 0 < v <= 100_000:
                    raise ValueError(f"{where}the mask's {what} must be a positive integer, got {v!r}")
            data = value["data"]
            if not isinstance(data, (bytes, bytearray, memoryview)):
                raise ValueError(f"{where}the mask data must be bytes, got {type(data).__name__}")
            indices = decode_indices(data, width, height, where)
        elif isinstance(value, np.ndarray) or (
            isinstance(value, list) and value and isinstance(value[0], list)
        ):
            indices = np.asarray(value)
            if indices.ndim != 2 or indices.size == 0 or not np.issubdtype(indices.dtype, np.integer):
                raise ValueError(
                    f"{where}a mask is a 2-D array of integer class indices, got {indices.dtype} of shape "
                    f"{indices.shape}"
                )
            if indices.min() < 0:
                raise ValueError(f"{where}the mask has a negative class index {int(indices.min())}")
        else:
            return value
        top = int(indices.max())
        if top > len(self.labels):
            y, x = np.argwhere(indices == top)[0]
            raise ValueError(
                f"{where}pixel x={x}, y={y} has class index {top}, past the {len(self.labels)} labels "
                "(0 is BACKGROUND)"
            )
        png = mask_png(indices.astype(np.uint8), self.colors)
        folder.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha1(item.encode("utf-8")).hexdigest()[:16]
        token = re.sub(r"[^A-Za-z0-9_-]", "", name or "")[:40] or secrets.token_hex(8)
        path = (folder / f"{digest}-{token}.png").resolve()
        with AtomicFile(path) as out:
            out.write(png)
        present = [self.labels[i - 1] for i in np.unique(indices) if i > 0]
        return {"mask": str(path), "sha1": hashlib.sha1(png).hexdigest(), "labels_present": present}

    def validate(self, value: Any, item: str = "", *, source: Any = None) -> dict[str, Any]:
        """The stored answer, checked: the mask file exists and has the recorded sha1.

        Raises
        ------
        ValueError
            Not ``{"mask", "sha1", "labels_present"}``, the file is missing or changed, or a
            class is not among the labels; names the item.
        """
        where = f"item {item}: " if item else ""
        if isinstance(value, str) and value.lstrip().startswith("{"):
            value = json.loads(value)
        if not isinstance(value, Mapping) or not isinstance(value.get("mask"), str):
            raise ValueError(
                f"{where}a segmentation answer is {{'mask': path, 'sha1': hex, 'labels_present': [...]}} "
                f"or a 2-D array of class indices, got {str(value)[:80]!r}"
            )
        path = value["mask"]
        try:
            data = Path(path).read_bytes()
        except OSError as exc:
            raise ValueError(f"{where}cannot read the mask file {path}: {exc.strerror or exc}") from None
        sha1 = hashlib.sha1(data).hexdigest()
        if value.get("sha1") not in (None, sha1):
            raise ValueError(f"{where}the mask file {path} changed: its sha1 is {sha1}, not {value['sha1']}")
        present = value.get("labels_present")
        if present is None:
            present = [
                self.labels[i - 1] for i in np.unique(decode_mask(path, where)) if 0 < i <= len(self.labels)
            ]
        if not isinstance(present, list) or any(name not in self.labels for name in present):
            raise ValueError(f"{where}labels_present {present!r} must list class names among {self.labels}")
        return {"mask": path, "sha1": sha1, "labels_present": list(present)}

    def to_gt(
        self,
        value: Any,
        *,
        confidence: float | None,
        human: bool,
        job_name: str,
        created: str,
    ) -> tuple[Any, dict[str, Any]]:
        # GT: one confidence per image, the same for every class; one person's answer has 0.00.
        conf = round(float(confidence), 2) if confidence is not None else 0.0
        return value["mask"], {
            "internal-color-map": color_map(self.labels, conf),
            "type": GT_TYPE,
            "human-annotated": "yes" if human else "no",
            "creation-date": created,
            "job-name": gt_job_name(job_name),
        }

    # -- what the widget shows ----------------------------------------------------------------

    def indices(self, value: Mapping[str, Any]) -> np.ndarray:
        """The class indices of a stored answer."""
        return decode_mask(value["mask"])

    def widget_value(self, value: Any) -> Any:
        """A stored answer with its pixels, for the widget to show again: adds ``width``,
        ``height`` and ``data`` (the indices, zlib-compressed)."""
        if not isinstance(value, Mapping) or "mask" not in value:
            return value
        indices = decode_mask(value["mask"])
        return {
            **value,
            "width": indices.shape[1],
            "height": indices.shape[0],
            "data": encode_indices(indices),
        }

    def item_extras(
        self, row: Mapping[str, Any], source: Any, image_size: Mapping[str, int]
    ) -> dict[str, Any]:
        """With ``adjust``: the mask to start from, ``{"initial": {"width", "height", "data"}}``.

        Raises
        ------
        ValueError
            The manifest's mask cannot be read, has another size than the image, or a class
            the labels lack.
        """
        if not self.adjust:
            return {}
        indices = self._before(row)
        if indices is None:
            return {}
        height, width = indices.shape
        if image_size and (image_size.get("width"), image_size.get("height")) != (width, height):
            raise ValueError(
                f"the mask in {self.adjust!r} is {width} x {height}, the image "
                f"{image_size.get('width')} x {image_size.get('height')}"
            )
        return {"initial": {"width": width, "height": height, "data": encode_indices(indices)}}

    def _before(self, row: Mapping[str, Any]) -> np.ndarray | None:
        assert self.adjust
        ref = row.get(self.adjust)
        if ref is None or is_missing(ref):
            return None
        indices, _ = read_gt_mask(str(ref), row.get(f"{self.adjust}-metadata"), self.labels, self.adjust)
        return indices

    def row_metadata(self, value: Any, row: Mapping[str, Any]) -> dict[str, Any]:
        """``adjustment-status`` for an adjustment job: did any pixel change?"""
        if not self.adjust:
            return {}
        before = self._before(row)
        after = self.indices(value)
        same = (before is None and not after.any()) or (before is not None and np.array_equal(before, after))
        return {"adjustment-status": "unadjusted" if same else "adjusted"}
