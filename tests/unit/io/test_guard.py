"""The file guard: every local file named by data or a message is a regular file under the
job's rule, read with a bound; grant_read_access embeds media only (issue 17, findings 3 and 4)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from blocking import finishes
from PIL import Image

import nblabel as nl
from nblabel.io.guard import FileGuard, MediaError, sniff
from nblabel.media import image_size, preview_image
from nblabel.tasks.templating import TemplateError, WorkerTemplate

EMBED = WorkerTemplate('<img src="{{ task.input.ref | grant_read_access }}">')


@pytest.fixture
def fifo(tmp_path: Path) -> str:
    path = tmp_path / "pipe.jpg"
    os.mkfifo(path)
    return str(path)


def png(path: Path, size: tuple[int, int] = (40, 30)) -> Path:
    Image.new("RGB", size, (200, 10, 10)).save(path, format="PNG")
    return path


# -- the rule and the file itself ---------------------------------------------------------------


def test_regular_files_under_the_rule_are_read(tmp_path: Path) -> None:
    picture = png(tmp_path / "a.png")
    assert FileGuard().read(str(picture)) == picture.read_bytes()
    assert FileGuard(tmp_path).read(str(tmp_path / "sub" / ".." / "a.png")) == picture.read_bytes()
    with pytest.raises(MediaError, match=r"climbs out of its folder with '\.\.'"):
        FileGuard().read(str(tmp_path / "sub" / ".." / "a.png"))
    with pytest.raises(MediaError, match="is outside media_root"):
        FileGuard(tmp_path / "sub").read(str(picture))


def test_a_symlink_is_judged_by_where_it_leads(tmp_path: Path) -> None:
    (tmp_path / "root").mkdir()
    outside = png(tmp_path / "outside.png")
    (tmp_path / "root" / "link.png").symlink_to(outside)
    with pytest.raises(MediaError, match="is outside media_root"):
        FileGuard(tmp_path / "root").read(str(tmp_path / "root" / "link.png"))
    (tmp_path / "root" / "env").symlink_to("/proc/self/environ")
    with pytest.raises(MediaError, match=r"/proc/.*environ is a system file, not data"):
        FileGuard().read(str(tmp_path / "root" / "env"))


@pytest.mark.parametrize("ref", ["/dev/zero", "/dev/stdin", "/proc/self/environ", "/sys/kernel/notes"])
def test_system_files_are_never_read(ref: str) -> None:
    with pytest.raises(MediaError, match="is a system file, not data"):
        finishes(lambda: FileGuard().read(ref))


def test_a_fifo_is_refused_without_blocking(fifo: str) -> None:
    with pytest.raises(MediaError, match=r"pipe\.jpg is a FIFO, not a regular file"):
        finishes(lambda: FileGuard().open(fifo))


def test_folders_and_missing_files_say_so(tmp_path: Path) -> None:
    with pytest.raises(MediaError, match="is a folder, not a regular file"):
        FileGuard().read(str(tmp_path))
    with pytest.raises(MediaError, match="file not found"):
        FileGuard().read(str(tmp_path / "nope.png"))


def test_reads_are_bounded(tmp_path: Path) -> None:
    big = tmp_path / "big.png"
    big.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(1000))
    with pytest.raises(MediaError, match=r"is 1,008 bytes, more than the 100 nblabel reads of one file"):
        FileGuard().read(str(big), limit=100)


# -- the places that read: previews, the box answer's size check --------------------------------


def test_previews_of_fifos_and_devices_are_media_errors_not_hangs(fifo: str) -> None:
    for ref in (fifo, "/dev/zero", "/dev/stdin"):
        with pytest.raises(MediaError):
            finishes(lambda ref=ref: preview_image(ref))


def test_a_box_answer_on_a_fifo_image_is_rejected_without_blocking_the_kernel(
    tmp_path: Path, fifo: str
) -> None:
    job = nl.Job(
        "fifo-boxes",
        pd.DataFrame({"source-ref": [fifo]}),
        nl.BoundingBox(["car"]),
        store=tmp_path / "s.sqlite",
    )
    feed = job.feed()
    answer = {"image_size": [{"width": 40, "height": 30, "depth": 3}], "annotations": []}
    message = {"type": "answer", "uid": "u1", "key": job.keys[0], "value": answer}
    try:
        with pytest.raises(ValueError, match=r"cannot be checked against its image: .*FIFO"):
            finishes(lambda: feed.apply(message))
    finally:
        feed.close()
    assert job.progress.labeled == 0


def test_image_size_reads_the_header_and_follows_exif_orientation(tmp_path: Path) -> None:
    path = tmp_path / "turned.jpg"
    exif = Image.Exif()
    exif[0x0112] = 6
    Image.new("RGB", (400, 300)).save(path, exif=exif)
    assert image_size(str(path)) == (300, 400)
    assert image_size(str(png(tmp_path / "flat.png", (400, 300)))) == (400, 300)


def test_a_huge_image_is_reduced_before_it_is_turned_or_flattened(tmp_path: Path, monkeypatch) -> None:
    # Transposing or flattening the full image copied every pixel (a 9000 x 9000 PNG cost
    # ~640 MB per preview); now only the reduced image is copied.
    path = tmp_path / "huge.png"
    Image.fromarray(np.zeros((3000, 4000, 4), np.uint8), "RGBA").save(path)
    from nblabel import media

    seen = []
    transpose = media.ImageOps.exif_transpose
    monkeypatch.setattr(media.ImageOps, "exif_transpose", lambda img: seen.append(img.size) or transpose(img))
    preview = preview_image(str(path), 400, 300)
    assert seen == [(400, 300)] and (preview.width, preview.height) == (400, 300)
    assert (preview.original_width, preview.original_height) == (4000, 3000)


# -- grant_read_access: media only ------------------------------------------------------------


def test_grant_read_access_never_embeds_system_files() -> None:
    with pytest.raises(TemplateError, match=r"'/proc/self/environ': .*is a system file"):
        EMBED.render({"ref": "/proc/self/environ"})
    with pytest.raises(TemplateError, match="file:// URIs are not embedded"):
        EMBED.render({"ref": "file:///proc/self/environ"})


def test_grant_read_access_embeds_media_typed_by_their_bytes(tmp_path: Path) -> None:
    disguised = png(tmp_path / "photo.jpg")  # a PNG named .jpg: the bytes decide
    assert 'src="data:image/png;base64,' in EMBED.render({"ref": str(disguised)})
    (tmp_path / "doc.pdf").write_bytes(b"%PDF-1.7\n...")
    assert 'src="data:application/pdf;base64,' in EMBED.render({"ref": str(tmp_path / "doc.pdf")})
    (tmp_path / "notes.txt").write_text("a plain note\n")
    assert 'src="data:text/plain;charset=utf-8;base64,' in EMBED.render({"ref": str(tmp_path / "notes.txt")})


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("credentials", b"[default]\naws_secret_access_key = x\n"),  # text, but not named as text
        ("id_rsa.png", b"-----BEGIN OPENSSH PRIVATE KEY-----\n"),  # a lying name
        (".env/keys.txt", b"TOKEN=x\n"),  # text in a hidden folder
        ("page.svg", b"<svg onload='alert(1)'/>"),  # markup with scripts
        ("blob.txt", b"\x00\x01\x02binary"),
    ],
)
def test_grant_read_access_refuses_what_is_not_media(tmp_path: Path, name: str, content: bytes) -> None:
    path = tmp_path / name
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(content)
    with pytest.raises(TemplateError, match="is not an image, audio, video or PDF file by its bytes"):
        EMBED.render({"ref": str(path)})


def test_grant_read_access_of_a_fifo_does_not_block(fifo: str) -> None:
    with pytest.raises(TemplateError, match="FIFO"):
        finishes(lambda: EMBED.render({"ref": fifo}))


@pytest.mark.parametrize(
    ("data", "mime"),
    [
        (b"\xff\xd8\xff\xe0", "image/jpeg"),
        (b"GIF89a", "image/gif"),
        (b"RIFF\0\0\0\0WEBPVP8 ", "image/webp"),
        (b"RIFF\0\0\0\0WAVEfmt ", "audio/wav"),
        (b"\0\0\0\x18ftypmp42", "video/mp4"),
        (b"\x1aE\xdf\xa3", "video/webm"),
        (b"ID3\x04\0", "audio/mpeg"),
        (b"OggS\0", "audio/ogg"),
        (b"BMW makes cars", None),
        (b"plain words", None),
    ],
)
def test_sniffing(data: bytes, mime: str | None) -> None:
    assert sniff(data) == mime
