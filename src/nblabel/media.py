"""Loading the things people label: images from paths, ``file://`` or ``s3://`` URIs, texts inline.

``s3://`` images are fetched into a size-bounded local cache (:class:`nblabel.io.s3.MediaCache`)
by the caller's thread: the widget's feed prepares images in worker threads ahead of the
item on screen, so fetching never blocks the kernel. Fetches resume after cut connections and
botocore retries throttling.

Images are downscaled to the size they are shown at before they reach the browser; the original
width and height travel with them so coordinates can stay in original pixels. JPEG decoding
uses Pillow's draft mode, which decodes straight to a smaller scale: an 8000x6000 photo is
previewed without decoding 48 million pixels.
"""

from __future__ import annotations

import io
import os
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

__all__ = [
    "MediaError",
    "Preview",
    "check_local_refs",
    "crop_image",
    "local_path",
    "preview_image",
    "read_rgb",
    "refused_local_ref",
]


class MediaError(Exception):
    """An item whose media cannot be shown; ``reason`` says why in a person's words."""

    def __init__(self, ref: str, reason: str) -> None:
        self.ref = ref
        self.reason = reason
        super().__init__(f"{ref}: {reason}")


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


def local_path(ref: str) -> Path:
    """The local file a ``source-ref`` names (a path, a ``file://`` or an ``s3://`` URI).

    An ``s3://`` object is fetched into the media cache first (network I/O on a miss).

    Raises
    ------
    MediaError
        The reference is a scheme nblabel cannot read, or the S3 object cannot be fetched (the
        reason says why: no such object, access denied, throttled, connection cut, ...).
    """
    parsed = urlparse(ref)
    if parsed.scheme in ("", "file") or (len(parsed.scheme) == 1 and os.name == "nt"):
        return Path(unquote(parsed.path) if parsed.scheme == "file" else ref)
    if parsed.scheme.lower() == "s3":
        from nblabel.io.s3 import S3Error, default_media_cache

        try:
            return default_media_cache().path(ref)
        except (S3Error, ValueError) as exc:
            raise MediaError(ref, f"cannot fetch from S3: {getattr(exc, 'reason', exc)}") from exc
        except OSError as exc:  # the cache folder: disk full, permissions
            raise MediaError(ref, f"cannot store the image in the media cache: {exc}") from exc
    raise MediaError(ref, f"cannot read {parsed.scheme}:// sources yet")


def check_local_refs(refs: Sequence[Any], media_root: str | os.PathLike[str] | None = None) -> None:
    """Refuse ``source-ref`` paths that climb out of where the user allowed images to come from.

    A manifest from someone else could name ``../../home/you/.ssh/id_rsa`` and have the widget
    show it. Without ``media_root``, a local path with a ``..`` part is refused. With
    ``media_root``, every local path (relative ones taken from the working folder, symlinks
    followed) must lie inside that folder, ``..`` or not. ``s3://`` and other URIs are not paths
    and pass.

    Raises
    ------
    ValueError
        Naming the first offending row, its reference and how to allow it.
    """
    root = None if media_root is None else os.path.realpath(os.fspath(media_root))
    if root is None and not _may_climb(refs):
        return
    for row, ref in enumerate(refs):
        if not isinstance(ref, str):
            continue  # the job's own type check names these
        refusal = _refusal(ref, media_root, root)
        if refusal:
            raise ValueError(f"row {row}: source-ref {refusal}")


def refused_local_ref(ref: str, media_root: str | os.PathLike[str] | None = None) -> str | None:
    """Why :func:`check_local_refs`'s rule refuses one reference (a sentence starting with the
    reference), or None when it may be read: the same rule for files a custom task's template
    reads (``grant_read_access``) as for ``source-ref`` columns."""
    root = None if media_root is None else os.path.realpath(os.fspath(media_root))
    return _refusal(ref, media_root, root)


def _refusal(ref: str, media_root: str | os.PathLike[str] | None, root: str | None) -> str | None:
    # Cheap tests first (urlparse costs microseconds, a million refs take seconds): without a
    # root only a ".." can fail, and "%" is how a file:// URI could spell one; S3 always passes.
    if (root is None and ".." not in ref and "%" not in ref) or ref.startswith("s3://"):
        return None
    parsed = urlparse(ref)
    if parsed.scheme not in ("", "file"):
        return None
    path = unquote(parsed.path) if parsed.scheme == "file" else ref
    if root is None:
        if ".." in Path(path).parts:
            return (
                f"{ref!r} climbs out of its folder with '..'; nblabel refuses such paths unless you "
                "name the folder images may come from: Job(..., media_root=FOLDER)"
            )
    elif os.path.commonpath([root, os.path.realpath(path)]) != root:
        return f"{ref!r} is outside media_root {os.fspath(media_root)!r}"
    return None


def _may_climb(refs: Sequence[Any]) -> bool:
    """False when no ref can hold a ".." part: one substring search over all of them at once."""
    try:
        joined = "\n".join(refs)
    except TypeError:  # some ref is not a string: look at each
        return True
    return ".." in joined or "%" in joined


def preview_image(ref: str, max_width: int = 1024, max_height: int = 768, quality: int = 85) -> Preview:
    """Load an image and downscale it to fit ``max_width`` x ``max_height`` as JPEG.

    Images with transparency are flattened onto white. EXIF orientation is applied, as browsers do.

    Raises
    ------
    MediaError
        Missing file, unreadable or corrupt bytes, unsupported format; the reason says which.
    """
    path = local_path(ref)
    with _reading(ref, path), Image.open(path) as img:
        original = img.size
        depth = len(img.getbands())
        if img.format == "JPEG":
            img.draft("RGB", (max_width, max_height))
        img = ImageOps.exif_transpose(img)
        oriented = _oriented_size(img, original)
        img.thumbnail((max_width, max_height), Image.Resampling.BILINEAR, reducing_gap=2.0)
        img = _flatten(img)
        buffer = io.BytesIO()
        img.save(buffer, format="JPEG", quality=quality)
    return Preview(buffer.getvalue(), "image/jpeg", img.width, img.height, *oriented, depth=depth)


def crop_image(
    ref: str, box: tuple[int, int, int, int], width: int, height: int, quality: int = 85
) -> Preview:
    """A region of an image, in original (EXIF-oriented) pixels, scaled to ``width`` x ``height``.

    ``box`` is ``(left, top, right, bottom)``. This is the sharper view a zoomed-in widget asks
    for; JPEGs are decoded at the smallest scale that still gives the requested detail.

    Raises
    ------
    MediaError
        As :func:`preview_image`, or the region lies outside the image.
    """
    path = local_path(ref)
    left, top, right, bottom = box
    if right <= left or bottom <= top or width < 1 or height < 1:
        raise MediaError(ref, f"empty crop {box} at {width} x {height}")
    with _reading(ref, path), Image.open(path) as img:
        original = img.size
        if img.format == "JPEG":
            # draft() keeps a scale at least the requested one: decode just enough pixels.
            factor = min(width / (right - left), height / (bottom - top), 1.0)
            img.draft("RGB", (max(1, int(original[0] * factor)), max(1, int(original[1] * factor))))
        img = ImageOps.exif_transpose(img)
        oriented = _oriented_size(img, original)
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


def read_rgb(ref: str) -> np.ndarray:
    """An image's pixels at its original resolution, EXIF-oriented, as an ``(H, W, 3)`` uint8 array.

    For the kernel-side tools that work on the image itself (click-to-mask, superpixels); images
    with transparency are flattened onto white, as in the browser's preview.

    Raises
    ------
    MediaError
        As :func:`preview_image`.
    """
    path = local_path(ref)
    with _reading(ref, path), Image.open(path) as img:
        return np.asarray(_flatten(ImageOps.exif_transpose(img)))


@contextmanager
def _reading(ref: str, path: Path) -> Iterator[None]:
    """Open an image under Pillow's decompression-bomb guard; failures become a :class:`MediaError`."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            yield
    except FileNotFoundError:
        raise MediaError(ref, f"file not found: {path}") from None
    except IsADirectoryError:
        raise MediaError(ref, f"is a folder, not an image: {path}") from None
    except PermissionError:
        raise MediaError(ref, f"permission denied: {path}") from None
    except UnidentifiedImageError:
        raise MediaError(ref, "not an image Pillow can read (unknown or corrupt format)") from None
    except (Image.DecompressionBombWarning, Image.DecompressionBombError) as exc:
        raise MediaError(ref, f"image too large to open safely: {exc}") from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise MediaError(ref, f"corrupt or truncated image: {exc}") from None


def _oriented_size(img: Image.Image, original: tuple[int, int]) -> tuple[int, int]:
    # exif_transpose swaps width and height for rotated photos; draft() may have shrunk the
    # decoded image, so scale the original size rather than reading img.size.
    if (img.width > img.height) == (original[0] > original[1]) or original[0] == original[1]:
        return original
    return original[1], original[0]


def _flatten(img: Image.Image) -> Image.Image:
    if img.mode in ("RGBA", "LA") or (img.mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return img.convert("RGB") if img.mode != "RGB" else img
