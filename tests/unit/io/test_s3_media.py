"""s3:// images shown in the widgets: fetched through a size-bounded disk cache, by the feed's
worker threads, with throttling and cut connections retried and failures explained."""

from __future__ import annotations

import functools
import io
import threading
from pathlib import Path

import pytest
from PIL import Image

import nblabel
from nblabel.io import s3 as s3io
from nblabel.io.guard import local_path
from nblabel.io.s3 import MediaCache
from nblabel.labeling.feed import Feed
from nblabel.media import MediaError, preview_image

pytest_plugins = ["s3_fixtures"]


@functools.cache
def _jpeg(size: tuple[int, int], seed: int) -> bytes:
    gradient = Image.linear_gradient("L").resize(size)
    image = Image.merge("RGB", (gradient, gradient.transpose(Image.Transpose.FLIP_LEFT_RIGHT), gradient))
    if seed:  # different pictures of (nearly) the same byte size
        image = image.transpose(
            (Image.Transpose.FLIP_TOP_BOTTOM, Image.Transpose.ROTATE_180, Image.Transpose.FLIP_LEFT_RIGHT)[
                seed % 3
            ]
        )
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=95)
    return buffer.getvalue()


@pytest.fixture
def images(bucket: str, s3_direct) -> list[str]:
    """Four JPEGs in the bucket (1200x900, so previews are downscaled)."""
    uris = []
    for i in range(4):
        s3_direct.put_object(Bucket=bucket, Key=f"images/img_{i}.jpg", Body=_jpeg((1200, 900), i))
        uris.append(f"s3://{bucket}/images/img_{i}.jpg")
    return uris


def test_s3_images_are_previewed_through_the_cache(s3_env, images: list[str], tmp_path: Path) -> None:
    preview = preview_image(images[0], max_width=400, max_height=400)
    assert (preview.original_width, preview.original_height) == (1200, 900)
    assert (preview.width, preview.height) == (400, 300) and preview.mime == "image/jpeg"
    cached = local_path(images[0])
    assert cached.is_relative_to(tmp_path / "media-cache") and cached.suffix == ".jpg"
    preview_image(images[0])  # a hit: no second download
    assert len(s3_env.requests("GET", "img_0.jpg")) == 1
    assert s3io.default_media_cache().fetches == 1


def test_fetches_retry_throttling_and_resume_after_a_cut(s3_env, images: list[str]) -> None:
    s3_env.inject(method="GET", path="img_1.jpg", status=503, code="SlowDown", times=2)
    s3_env.inject(method="GET", path="img_1.jpg", cut_response_after=5_000)
    preview = preview_image(images[1])
    assert preview.original_width == 1200
    outcomes = [s.outcome for s in s3_env.requests("GET", "img_1.jpg")]
    assert outcomes == [
        "injected SlowDown",
        "injected SlowDown",
        "response cut after 5000 bytes",
        "forwarded",
    ]


@pytest.mark.parametrize(
    ("fault", "reason"),
    [
        (None, "cannot fetch from S3: no such object"),
        ({"status": 403, "code": "AccessDenied", "times": -1}, "cannot fetch from S3: access denied"),
        (
            {"status": 503, "code": "SlowDown", "times": -1},
            "cannot fetch from S3: the server kept throttling",
        ),
        ({"cut_response_after": 10, "times": -1}, "cannot fetch from S3: the connection was cut 6 times"),
    ],
    ids=["missing", "denied", "throttled", "cut"],
)
def test_unfetchable_images_are_a_media_error_with_the_reason(s3_env, images, fault, reason: str) -> None:
    uri = images[2] if fault else images[2].replace("img_2", "missing")
    if fault:
        s3_env.inject(method="GET", path="img_2.jpg", **fault)
    with pytest.raises(MediaError) as info:
        preview_image(uri)
    assert info.value.ref == uri and info.value.reason.startswith(reason)
    assert list((Path(s3io.default_media_cache().directory)).glob("*")) == []  # nothing half-written


def test_the_cache_is_bounded_and_evicts_least_recently_used(s3_env, images, tmp_path: Path) -> None:
    sizes = [len(s3io.read_bytes(uri)) for uri in images]
    bound = 2 * max(sizes) + min(sizes) // 2  # room for two images, not three
    assert 3 * min(sizes) > bound
    cache = MediaCache(tmp_path / "small", max_bytes=bound)
    a, b, c = (cache.path(uri) for uri in images[:3])
    assert not a.exists() and b.exists() and c.exists()  # a went when c arrived
    assert cache.size <= cache.max_bytes
    cache.path(images[1])  # b is used again: now c is the least recently used
    d = cache.path(images[3])
    assert b.exists() and d.exists() and not c.exists()
    assert cache.fetches == 4 and cache.size <= cache.max_bytes
    cache.path(images[0])  # evicted, so fetched again
    assert cache.fetches == 5
    cache.clear()
    assert cache.size == 0


def test_the_default_cache_takes_its_bound_from_the_environment(s3_env, images, monkeypatch) -> None:
    monkeypatch.setenv("NBLABEL_CACHE_MAX_BYTES", "1")
    for uri in images:
        preview_image(uri)
    cache = s3io.default_media_cache()
    assert cache.max_bytes == 1 and len(list(cache.directory.iterdir())) == 1  # only the newest stays


def test_the_feed_fetches_s3_images_in_its_worker_threads(
    s3_env, images, tmp_path: Path, monkeypatch
) -> None:
    df = nblabel.read_manifest(io.StringIO("".join(f'{{"source-ref":"{u}"}}\n' for u in images)))
    job = nblabel.Job("s3pics", df, nblabel.ImageClassification(["a", "b"]), store=tmp_path / "s.sqlite")
    cache = s3io.default_media_cache()
    fetched_by: list[str] = []
    original = cache.path

    def spy(uri: str) -> Path:
        fetched_by.append(threading.current_thread().name)
        return original(uri)

    monkeypatch.setattr(cache, "path", spy)
    feed = Feed(job.items, job.queue, job.log, max_width=300, max_height=300)
    try:
        positions, _ = feed.next_positions(4)
        items, buffers = feed.payloads(positions)
    finally:
        feed.close()
    assert [item["key"] for item in items] == images
    assert all("error" not in item for item in items) and len(buffers) == 4
    assert [(item["original_width"], item["width"]) for item in items] == [(1200, 300)] * 4
    assert fetched_by and all(name.startswith("nblabel-media") for name in fetched_by)


def test_a_missing_s3_image_shows_as_an_error_tile(s3_env, bucket: str, tmp_path: Path) -> None:
    df = nblabel.read_manifest(io.StringIO(f'{{"source-ref":"s3://{bucket}/gone.jpg"}}\n'))
    job = nblabel.Job("gone", df, nblabel.ImageClassification(["a"]), store=tmp_path / "g.sqlite")
    feed = job.feed()
    try:
        items, buffers = feed.payloads([0])
    finally:
        feed.close()
    assert items[0]["error"] == "cannot fetch from S3: no such object" and buffers == []
