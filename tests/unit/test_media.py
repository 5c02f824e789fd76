"""Image previews: downscaling, EXIF orientation, transparency, and readable errors."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from nblabel import ImageClassification, Job, media
from nblabel.io.guard import local_path
from nblabel.media import MediaError, crop_image, preview_image

ORIENTATION = 0x0112


@pytest.fixture(params=["pillow", "libvips"])
def decoder(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Runs a PNG test through both ways a preview is made: Pillow's decode-then-reduce, and the
    libvips shrink-while-decoding that images over the pixel budget take (budget set to 0)."""
    if request.param == "libvips":
        monkeypatch.setattr(media, "PIXEL_BUDGET", 0)
    return request.param


def _decode(data: bytes) -> Image.Image:
    img = Image.open(io.BytesIO(data))
    img.load()
    return img


def test_small_jpeg_is_kept_at_its_size(tmp_path: Path) -> None:
    path = tmp_path / "small.jpg"
    Image.new("RGB", (300, 200), (10, 120, 200)).save(path)
    p = preview_image(str(path))
    assert (p.width, p.height, p.original_width, p.original_height) == (300, 200, 300, 200)
    assert p.mime == "image/jpeg"
    img = _decode(p.data)
    assert (img.format, img.mode, img.size) == ("JPEG", "RGB", (300, 200))


def test_large_png_is_downscaled_keeping_aspect(tmp_path: Path, decoder: str) -> None:
    path = tmp_path / "wide.png"
    Image.new("RGB", (2000, 500), (0, 255, 0)).save(path)
    p = preview_image(str(path), max_width=400, max_height=400)
    assert (p.width, p.height) == (400, 100)
    assert (p.original_width, p.original_height) == (2000, 500)
    assert _decode(p.data).size == (400, 100)


@pytest.mark.parametrize(("orientation", "rotated"), [(1, False), (3, False), (6, True), (8, True)])
def test_exif_orientation_gives_the_oriented_original_size(
    tmp_path: Path, orientation: int, rotated: bool
) -> None:
    path = tmp_path / f"exif{orientation}.jpg"
    img = Image.new("RGB", (1600, 1200), (200, 30, 30))
    exif = Image.Exif()
    exif[ORIENTATION] = orientation
    img.save(path, exif=exif)
    p = preview_image(str(path), max_width=400, max_height=400)
    if rotated:
        assert (p.original_width, p.original_height) == (1200, 1600)
        assert (p.width, p.height) == (300, 400)
    else:
        assert (p.original_width, p.original_height) == (1600, 1200)
        assert (p.width, p.height) == (400, 300)
    assert _decode(p.data).size == (p.width, p.height)


def test_exif_rotation_is_applied_to_the_pixels(tmp_path: Path) -> None:
    # left half red, right half blue; orientation 6 means "rotate 90° clockwise to display"
    img = Image.new("RGB", (200, 100), (255, 0, 0))
    img.paste((0, 0, 255), (100, 0, 200, 100))
    exif = Image.Exif()
    exif[ORIENTATION] = 6
    path = tmp_path / "rot.jpg"
    img.save(path, exif=exif, quality=95)
    shown = _decode(preview_image(str(path)).data)
    assert shown.size == (100, 200)
    top, bottom = shown.getpixel((50, 20)), shown.getpixel((50, 180))
    assert top[0] > 200 and top[2] < 60  # red on top
    assert bottom[2] > 200 and bottom[0] < 60  # blue at the bottom


def test_rgba_png_flattens_onto_white_rgb_jpeg(tmp_path: Path, decoder: str) -> None:
    img = Image.new("RGBA", (100, 100), (0, 0, 0, 0))  # fully transparent black
    img.paste((255, 0, 0, 255), (50, 0, 100, 100))  # opaque red right half
    path = tmp_path / "alpha.png"
    img.save(path)
    p = preview_image(str(path))
    assert p.mime == "image/jpeg"
    out = _decode(p.data)
    assert (out.format, out.mode) == ("JPEG", "RGB")
    left, right = out.getpixel((10, 50)), out.getpixel((90, 50))
    assert min(left) > 240  # transparent became white, not black
    assert right[0] > 230 and right[1] < 30 and right[2] < 30


def test_palette_png_with_transparency_and_grayscale(tmp_path: Path, decoder: str) -> None:
    pal = Image.new("P", (40, 40), 0)
    pal.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    pal.info["transparency"] = 0
    pal_path = tmp_path / "pal.png"
    pal.save(pal_path, transparency=0)
    out = _decode(preview_image(str(pal_path)).data)
    assert out.mode == "RGB"
    assert min(out.getpixel((5, 5))) > 240

    gray_path = tmp_path / "gray.jpg"
    Image.new("L", (50, 30), 128).save(gray_path)
    out = _decode(preview_image(str(gray_path)).data)
    assert (out.mode, out.size) == ("RGB", (50, 30))


@pytest.mark.parametrize(("mode", "white"), [("L", 255), ("I;16", 65535)])
def test_png_exif_orientation_in_8_and_16_bits(tmp_path: Path, decoder: str, mode: str, white: int) -> None:
    img = Image.new(mode, (200, 100), 0)
    img.paste(white, (0, 0, 100, 100))  # left half white, right half black
    exif = Image.Exif()
    exif[ORIENTATION] = 6  # "rotate 90° clockwise to display": white on top
    path = tmp_path / "rot16.png"
    img.save(path, exif=exif)
    p = preview_image(str(path), max_width=50, max_height=50)
    assert (p.original_width, p.original_height, p.width, p.height) == (100, 200, 25, 50)
    shown = _decode(p.data)
    assert (shown.mode, shown.size) == ("RGB", (25, 50))
    assert min(shown.getpixel((12, 5))) > 230 and max(shown.getpixel((12, 45))) < 25


def test_a_png_over_the_pixel_budget_is_shrunk_while_decoded(tmp_path: Path) -> None:
    side = 4097  # just over 4096 x 4096
    assert side * side > media.PIXEL_BUDGET
    img = Image.new("RGB", (side, side), (0, 0, 255))
    img.paste((255, 255, 0), (0, 0, side, side // 2))
    path = tmp_path / "huge.png"
    img.save(path, compress_level=1)
    p = preview_image(str(path), max_width=256, max_height=256)
    assert (p.original_width, p.original_height) == (side, side)
    shown = _decode(p.data)
    assert shown.size == (p.width, p.height) == (256, 256)
    top, bottom = shown.getpixel((128, 20)), shown.getpixel((128, 236))
    assert top[0] > 230 and top[2] < 30 and bottom[2] > 230 and bottom[0] < 30
    truncated = tmp_path / "cut.png"
    truncated.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(MediaError, match="corrupt or truncated") as info:
        preview_image(str(truncated))
    assert info.value.ref == str(truncated)


@pytest.mark.parametrize("orientation", range(1, 9))
def test_a_crop_through_libvips_matches_pillows_in_every_orientation(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, orientation: int
) -> None:
    rng = np.random.default_rng(orientation)
    img = Image.fromarray(rng.integers(0, 256, (6, 8, 3), dtype=np.uint8)).resize(
        (160, 120), Image.Resampling.NEAREST
    )
    exif = Image.Exif()
    exif[ORIENTATION] = orientation
    path = tmp_path / "o.png"
    img.save(path, exif=exif)
    box = (20, 40, 100, 100)  # in the displayed image: 80 x 60
    by_pillow = crop_image(str(path), box, 80, 60, quality=95)
    monkeypatch.setattr(media, "PIXEL_BUDGET", 0)
    by_libvips = crop_image(str(path), box, 80, 60, quality=95)
    assert (by_libvips.width, by_libvips.height) == (by_pillow.width, by_pillow.height) == (80, 60)
    assert (by_libvips.original_width, by_libvips.original_height) == (
        by_pillow.original_width,
        by_pillow.original_height,
    )
    a = np.asarray(_decode(by_pillow.data), dtype=float)
    b = np.asarray(_decode(by_libvips.data), dtype=float)
    assert np.abs(a - b).mean() < 12  # the same region the same way up: only JPEG noise differs
    with pytest.raises(MediaError, match="lies outside"):
        crop_image(str(path), (0, 0, 500, 10), 50, 10)


def test_file_uri_is_read(tmp_path: Path, decoder: str) -> None:
    path = tmp_path / "with space.png"
    Image.new("RGB", (10, 20)).save(path)
    assert local_path(path.as_uri()) == path
    p = preview_image(path.as_uri())
    assert (p.original_width, p.original_height) == (10, 20)


def test_remote_schemes_are_a_media_error() -> None:
    # s3:// is read through the media cache (tests/unit/test_s3_media.py); others are not.
    with pytest.raises(MediaError, match=r"cannot read gs:// sources yet") as info:
        preview_image("gs://bucket/a.jpg")
    assert info.value.ref == "gs://bucket/a.jpg"
    assert info.value.reason == "cannot read gs:// sources yet"


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda p: None, "file not found"),
        (lambda p: p.mkdir(), "is a folder"),
        (lambda p: p.write_text("definitely not a JPEG"), "not an image Pillow can read"),
        (lambda p: p.write_bytes(b"\xff\xd8\xff\xe0" + b"\x00" * 10 + b"garbage" * 50), "corrupt"),
    ],
    ids=["missing", "folder", "text", "corrupt"],
)
def test_unreadable_images_raise_media_error_with_a_reason(tmp_path: Path, make, reason: str) -> None:
    path = tmp_path / "bad.jpg"
    make(path)
    with pytest.raises(MediaError) as info:
        preview_image(str(path))
    assert reason in info.value.reason
    assert info.value.ref == str(path)


def test_truncated_jpeg_is_a_media_error(tmp_path: Path) -> None:
    buf = io.BytesIO()
    Image.effect_noise((400, 300), 64).convert("RGB").save(buf, format="JPEG")
    path = tmp_path / "truncated.jpg"
    path.write_bytes(buf.getvalue()[: len(buf.getvalue()) // 3])
    with pytest.raises(MediaError, match="corrupt or truncated"):
        preview_image(str(path))


# -- where local images may come from ---------------------------------------------------------


@pytest.mark.parametrize(
    "ref", ["../secret.jpg", "img/../../secret.jpg", "file:///data/../etc/passwd", "/data/../etc/passwd"]
)
def test_dot_dot_paths_are_refused_by_default(ref: str) -> None:
    df = pd.DataFrame({"source-ref": ["ok.jpg", ref]})
    with pytest.raises(ValueError, match=r"row 1: source-ref .* climbs out of its folder.*media_root"):
        Job("traversal", df, ImageClassification(["a", "b"]))


def test_plain_paths_and_uris_pass_by_default() -> None:
    refs = ["img/a.jpg", "/srv/images/b.jpg", "file:///srv/c.jpg", "s3://bucket/x/../y.jpg", "a..b.jpg"]
    job = Job("plain", pd.DataFrame({"source-ref": refs}), ImageClassification(["a", "b"]))
    assert job.progress.total == 5


def test_media_root_allows_paths_inside_and_refuses_the_rest(tmp_path: Path) -> None:
    root = tmp_path / "images"
    (root / "sub").mkdir(parents=True)
    outside = tmp_path / "outside"
    outside.mkdir()
    (root / "sub" / "link").symlink_to(outside)
    inside = [str(root / "a.jpg"), str(root / "sub" / ".." / "b.jpg"), f"file://{root}/c.jpg"]
    job = Job("rooted", pd.DataFrame({"source-ref": inside}), ImageClassification(["a"]), media_root=root)
    assert job.progress.total == 3
    for bad in [str(root / ".." / "outside" / "x.jpg"), str(outside / "x.jpg"), str(root / "sub/link/x.jpg")]:
        df = pd.DataFrame({"source-ref": [*inside, bad]})
        with pytest.raises(ValueError, match=r"row 3: source-ref .* is outside media_root"):
            Job("rooted2", df, ImageClassification(["a"]), media_root=root)


def test_relative_paths_are_checked_against_media_root_from_the_working_folder(tmp_path: Path) -> None:
    (tmp_path / "images").mkdir()
    df = pd.DataFrame({"source-ref": ["images/a.jpg", "images/../images/b.jpg"]})
    assert Job("rel", df, ImageClassification(["a"]), media_root=tmp_path / "images").progress.total == 2
    with pytest.raises(ValueError, match="row 0"):
        Job(
            "rel2",
            pd.DataFrame({"source-ref": ["other/a.jpg"]}),
            ImageClassification(["a"]),
            media_root="images",
        )
