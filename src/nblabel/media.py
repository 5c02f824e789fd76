"""Loading the things people label: images from paths, ``file://`` or ``s3://`` URIs, texts inline.

``s3://`` images are fetched into a size-bounded local cache (:class:`nblabel.io.s3.MediaCache`)
by the caller's thread: the widget's feed prepares images in worker threads ahead of the
item on screen, so fetching never blocks the kernel. Fetches resume after cut connections and
botocore retries throttling.

Images are downscaled to the size they are shown at before they reach the browser; the original
width and height travel with them so coordinates can stay in original pixels. JPEG decoding
uses Pillow's draft mode, which decodes straight to a smaller scale: an 8000x6000 photo is
previewed without decoding 48 million pixels. Pillow decodes other formats (PNG, TIFF, ...) in
one piece, so an image of more than :data:`PIXEL_BUDGET` pixels in them is previewed by
libvips instead, which shrinks while it decodes, a few rows at a time: a 9000x9000 PNG costs
tens of megabytes rather than the 243 MB of its pixels. Smaller ones are reduced right after
decoding, before any copy. Every file is opened through the job's
:class:`nblabel.io.guard.FileGuard`.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import pyvips
from PIL import Image, ImageOps, UnidentifiedImageError

from nblabel.io.guard import IMAGE_BYTES, FileGuard, MediaError

__all__ = ["PIXEL_BUDGET", "MediaError", "Preview", "crop_image", "image_size", "preview_image", "read_rgb"]

#: The most pixels a preview decodes in one piece (16 MP: 48 MB of RGB); larger non-JPEG images
#: are shrunk while they are decoded (JPEGs always are, by draft mode).
PIXEL_BUDGET = 4096 * 4096

_ORIENTATION = 0x0112  # EXIF
_TURNED = (5, 6, 7, 8)  # EXIF orientations that swap width and height
# Pillow's modes of more than 8 bits per sample, which its thumbnail() cannot reduce.
_WIDE_MODES = frozenset({"I;16", "I;16B", "I;16L", "I;16N", "I", "F"})
_ANYWHERE = FileGuard()


@dataclass(frozen=True)
class Preview:
    """An image ready for the browser."""

    data: bytes
    mime: str
    width: int
    height: int
    original_width: int
    original_height: int
    depth: int = 3  # channels of the original (GT's image_size depth)


@contextmanager
def _opened(ref: str, guard: FileGuard | None) -> Iterator[Image.Image]:
    """The image a reference names, opened through the guard (header read, pixels not yet);
    Pillow's errors become :class:`MediaError` with the reason."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with (guard or _ANYWHERE).open(ref, IMAGE_BYTES) as fh, Image.open(fh) as img:
                yield img
    except UnidentifiedImageError:
        raise MediaError(ref, "not an image Pillow can read (unknown or corrupt format)") from None
    except (Image.DecompressionBombWarning, Image.DecompressionBombError) as exc:
        raise MediaError(ref, f"image too large to open safely: {exc}") from None
    except MediaError:
        raise
    except (OSError, SyntaxError, ValueError) as exc:
        raise MediaError(ref, f"corrupt or truncated image: {exc}") from None


def _turned(img: Image.Image) -> bool:
    """True when the image's EXIF orientation swaps its width and height (as browsers show it)."""
    if img.format == "PNG" and "exif" not in img.info:
        # No eXIf chunk before the pixels: Pillow would decode every pixel looking for one after.
        return False
    return img.getexif().get(_ORIENTATION) in _TURNED


def image_size(ref: str, guard: FileGuard | None = None) -> tuple[int, int]:
    """The width and height of an image as it is shown (EXIF-oriented), from its header only.

    ``guard`` is the job's file rule (default: no ``media_root``).

    Raises
    ------
    MediaError
        The guard refuses the file, or it is not an image; the reason says which.
    """
    with _opened(ref, guard) as img:
        width, height = img.size
        return (height, width) if _turned(img) else (width, height)


def preview_image(
    ref: str,
    max_width: int = 1024,
    max_height: int = 768,
    quality: int = 85,
    *,
    guard: FileGuard | None = None,
) -> Preview:
    """Load an image and downscale it to fit ``max_width`` x ``max_height`` as JPEG.

    Images with transparency are flattened onto white. EXIF orientation is applied, as browsers
    do. The image is reduced before anything else is done with it, so only the decoded original
    and the small preview are ever held (JPEGs decode straight to the small scale).
    ``guard`` is the job's file rule (default: no ``media_root``).

    Raises
    ------
    MediaError
        The guard refuses the file (missing, not a regular file, too large, outside
        ``media_root``), or its bytes are corrupt or an unsupported format; the reason says which.
    """
    with _opened(ref, guard) as img:
        original = img.size
        depth = len(img.getbands())
        if _too_wide(img):  # before anything reads EXIF: for a PNG, Pillow decodes every pixel to find it
            return _shrunk_while_decoded(ref, img, max_width, max_height, quality, depth)
        turned = _turned(img)
        oriented = (original[1], original[0]) if turned else original
        bound = (max_height, max_width) if turned else (max_width, max_height)
        if img.format == "JPEG":
            img.draft("RGB", bound)
        # Reduce first: transposing or flattening the full image would copy all its pixels.
        img.thumbnail(bound, Image.Resampling.BILINEAR, reducing_gap=2.0)
        img = _flatten(ImageOps.exif_transpose(img))
        buffer = io.BytesIO()
        img.save(buffer, format="JPEG", quality=quality)
    return Preview(buffer.getvalue(), "image/jpeg", img.width, img.height, *oriented, depth=depth)


def _too_wide(img: Image.Image) -> bool:
    """True for an image Pillow would decode in one piece that is over the pixel budget, or has
    samples of more than 8 bits (which Pillow's reducing cannot take): libvips reads those."""
    return img.format != "JPEG" and (img.width * img.height > PIXEL_BUDGET or img.mode in _WIDE_MODES)


@contextmanager
def _vips(ref: str, img: Image.Image) -> Iterator[pyvips.Image]:
    """The image Pillow has opened (header only) opened again by libvips from the same file, for
    reading top to bottom; libvips's errors become :class:`MediaError`."""
    fh = img.fp
    if fh is None:  # pragma: no cover - Pillow keeps the file of an image it has not loaded
        raise MediaError(ref, "the image file was closed before it was read")
    fh.seek(0)
    try:
        yield pyvips.Image.new_from_source(
            pyvips.Source.new_from_descriptor(fh.fileno()), "", access="sequential", fail_on="truncated"
        )
    except pyvips.Error as exc:
        lines = [line for line in str(exc).splitlines() if line.strip()]
        raise MediaError(ref, f"corrupt or truncated image: {lines[-1] if lines else exc}") from None


def _orientation(full: pyvips.Image) -> int:
    """The image's EXIF orientation (1 when it has none)."""
    return int(full.get("orientation")) if full.get_typeof("orientation") != 0 else 1


def _jpeg(small: pyvips.Image, quality: int) -> bytes:
    """A small libvips image as the browser's JPEG: transparency flattened onto white as
    :func:`_flatten` does, grey, 16-bit, float or CMYK samples made 8-bit RGB."""
    if small.hasalpha():
        small = small.flatten(background=[255] * (small.bands - 1))
    return small.colourspace("srgb").write_to_buffer(".jpg", Q=quality, strip=True)


def _stored_box(
    box: tuple[int, int, int, int], orientation: int, width: int, height: int
) -> tuple[int, int, int, int]:
    """A ``(left, top, right, bottom)`` box in the displayed (EXIF-oriented) image as a box in the
    stored pixels of a ``width`` x ``height`` image."""
    left, top, right, bottom = box
    w, h = width, height
    return {
        1: (left, top, right, bottom),
        2: (w - right, top, w - left, bottom),  # mirrored left-right
        3: (w - right, h - bottom, w - left, h - top),  # turned 180°
        4: (left, h - bottom, right, h - top),  # mirrored top-bottom
        5: (top, left, bottom, right),  # transposed
        6: (top, h - right, bottom, h - left),  # shown turned 90° clockwise
        7: (w - bottom, h - right, w - top, h - left),  # transversed
        8: (w - bottom, left, w - top, right),  # shown turned 90° anticlockwise
    }.get(orientation, box)


def _shrunk_while_decoded(
    ref: str, img: Image.Image, max_width: int, max_height: int, quality: int, depth: int
) -> Preview:
    """The preview of an image Pillow has opened (header only), made by libvips: decoded a few
    rows at a time and shrunk as it goes, EXIF-oriented."""
    with _vips(ref, img) as full:
        turned = _orientation(full) in _TURNED
        small = full.thumbnail_image(max_width, height=max_height, size="down")
        data = _jpeg(small, quality)
    oriented = (full.height, full.width) if turned else (full.width, full.height)
    return Preview(data, "image/jpeg", small.width, small.height, *oriented, depth=depth)


def _cropped_while_decoded(
    ref: str, img: Image.Image, box: tuple[int, int, int, int], width: int, height: int, quality: int
) -> Preview:
    """:func:`crop_image` of an image Pillow has opened (header only), made by libvips: the rows
    above the region are decoded and dropped, the region cut, oriented and scaled."""
    with _vips(ref, img) as full:
        orientation = _orientation(full)
        oriented = (full.height, full.width) if orientation in _TURNED else (full.width, full.height)
        if box[0] < 0 or box[1] < 0 or box[2] > oriented[0] or box[3] > oriented[1]:
            raise MediaError(ref, f"crop {box} lies outside the {oriented[0]} x {oriented[1]} image")
        left, top, right, bottom = _stored_box(box, orientation, full.width, full.height)
        region = full.crop(left, top, right - left, bottom - top).autorot()
        region = region.thumbnail_image(width, height=height, size="force")
        data = _jpeg(region, quality)
    return Preview(data, "image/jpeg", region.width, region.height, *oriented)


def crop_image(
    ref: str,
    box: tuple[int, int, int, int],
    width: int,
    height: int,
    quality: int = 85,
    *,
    guard: FileGuard | None = None,
) -> Preview:
    """A region of an image, in original (EXIF-oriented) pixels, scaled to ``width`` x ``height``.

    ``box`` is ``(left, top, right, bottom)``. This is the sharper view a zoomed-in widget asks
    for; JPEGs are decoded at the smallest scale that still gives the requested detail.

    Raises
    ------
    MediaError
        As :func:`preview_image`, or the region lies outside the image.
    """
    left, top, right, bottom = box
    if right <= left or bottom <= top or width < 1 or height < 1:
        raise MediaError(ref, f"empty crop {box} at {width} x {height}")
    with _opened(ref, guard) as img:
        original = img.size
        if _too_wide(img):
            return _cropped_while_decoded(ref, img, box, width, height, quality)
        oriented = (original[1], original[0]) if _turned(img) else original
        if img.format == "JPEG":
            # draft() keeps a scale at least the requested one: decode just enough pixels.
            factor = min(width / (right - left), height / (bottom - top), 1.0)
            img.draft("RGB", (max(1, int(original[0] * factor)), max(1, int(original[1] * factor))))
        img = ImageOps.exif_transpose(img)
        sx, sy = img.width / oriented[0], img.height / oriented[1]
        img = img.resize(
            (width, height),
            Image.Resampling.BILINEAR,
            box=(left * sx, top * sy, right * sx, bottom * sy),
        )
        img = _flatten(img)
        buffer = io.BytesIO()
        img.save(buffer, format="JPEG", quality=quality)
    return Preview(buffer.getvalue(), "image/jpeg", width, height, *oriented)


def read_rgb(ref: str, guard: FileGuard | None = None) -> np.ndarray:
    """An image's pixels at its original resolution, EXIF-oriented, as an ``(H, W, 3)`` uint8 array.

    For the kernel-side tools that work on the image itself (click-to-mask, superpixels); images
    with transparency are flattened onto white, as in the browser's preview. ``guard`` is the
    job's file rule (default: no ``media_root``).

    Raises
    ------
    MediaError
        As :func:`preview_image`.
    """
    with _opened(ref, guard) as img:
        return np.asarray(_flatten(ImageOps.exif_transpose(img)))


def _flatten(img: Image.Image) -> Image.Image:
    if img.mode in ("RGBA", "LA") or (img.mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return img.convert("RGB") if img.mode != "RGB" else img
