"""Masks are pixels checked against their image, and mask files named by data pass the job's
file rule (issue 17, findings 5, 6 and 7)."""

from __future__ import annotations

import base64
import io
import json
import os
import zlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from blocking import finishes
from PIL import Image

import nblabel as nl
from nblabel.formats import WorkerResponseError
from nblabel.masks import color_map, mask_png, palette_colors
from nblabel.store import Annotation

LABELS = ["road", "car"]
W, H = 400, 300


@pytest.fixture
def image(tmp_path: Path) -> str:
    path = tmp_path / "images" / "street.jpg"
    path.parent.mkdir()
    Image.new("RGB", (W, H), (20, 30, 40)).save(path)
    return str(path)


def seg_job(tmp_path: Path, df: pd.DataFrame, **kwargs: object) -> nl.Job:
    adjust = kwargs.pop("adjust", None)
    return nl.Job(
        "streets", df, nl.SemanticSegmentation(LABELS, adjust=adjust), store=tmp_path / "s.sqlite", **kwargs
    )


def gt_mask(path: Path, size: tuple[int, int] = (W, H)) -> str:
    path.write_bytes(mask_png(np.zeros((size[1], size[0]), np.uint8), palette_colors(len(LABELS))))
    return str(path)


META = {"internal-color-map": color_map(LABELS), "type": "groundtruth/semantic-segmentation"}


# -- finding 5: a widget answer carries pixels, never a path -------------------------------------


@pytest.mark.parametrize("value", [{"mask": "/etc/passwd"}, {"mask": "/dev/zero", "sha1": None}])
def test_a_widget_answer_naming_a_file_is_rejected(tmp_path: Path, image: str, value: dict) -> None:
    job = seg_job(tmp_path, pd.DataFrame({"source-ref": [image]}))
    feed = job.feed()
    try:
        with pytest.raises(ValueError, match=r"a mask from the widget is its pixels .* never a file path"):
            feed.apply({"type": "answer", "uid": "u1", "key": job.keys[0], "value": value})
        # The widget's own answer, pixels in a buffer, is stored.
        pixels = zlib.compress(np.ones((H, W), np.uint8).tobytes())
        feed.apply(
            {"type": "answer", "uid": "u2", "key": job.keys[0], "value": {"width": W, "height": H}}, [pixels]
        )
    finally:
        feed.close()
    assert [a.uid for a in job.store.annotations(job.attribute)] == ["u2"]


def test_a_stored_mask_must_be_an_indexed_png(tmp_path: Path, image: str) -> None:
    job = seg_job(tmp_path, pd.DataFrame({"source-ref": [image]}))
    text = tmp_path / "not-a-mask.png"
    text.write_text("root:x:0:0:root:/root:/bin/bash\n")
    rgb = tmp_path / "rgb.png"
    Image.new("RGB", (W, H)).save(rgb)
    for path, why in ((text, "is not a PNG image"), (rgb, "is a PNG RGB image, not an indexed")):
        value = {"mask": str(path), "sha1": None, "labels_present": []}
        with pytest.raises(ValueError, match=why):
            job.record(Annotation(job.keys[0], job.attribute, "ana", "human", value))
    with pytest.raises(ValueError, match="is a system file"):
        job.record(Annotation(job.keys[0], job.attribute, "ana", "human", {"mask": "/dev/zero"}))
    assert job.progress.labeled == 0


# -- finding 6: a mask has its image's size --------------------------------------------------------


def test_a_mask_of_another_size_than_its_image_is_refused(tmp_path: Path, image: str) -> None:
    job = seg_job(tmp_path, pd.DataFrame({"source-ref": [image]}))
    with pytest.raises(ValueError, match=r"the mask is 2 x 2 pixels, its image 400 x 300"):
        job.label(0, np.ones((2, 2), np.uint8))
    job.label(0, np.ones((H, W), np.uint8))
    assert job.progress.labeled == 1


def test_a_mask_follows_the_images_exif_orientation(tmp_path: Path) -> None:
    path = tmp_path / "turned.jpg"
    exif = Image.Exif()
    exif[0x0112] = 6  # shown turned: 300 wide, 400 high
    Image.new("RGB", (W, H)).save(path, exif=exif)
    job = seg_job(tmp_path, pd.DataFrame({"source-ref": [str(path)]}))
    with pytest.raises(ValueError, match=r"the mask is 400 x 300 pixels, its image 300 x 400"):
        job.label(0, np.ones((H, W), np.uint8))
    job.label(0, np.ones((W, H), np.uint8))


def test_an_imported_mask_without_image_properties_is_checked_too(tmp_path: Path, image: str) -> None:
    job = seg_job(tmp_path, pd.DataFrame({"source-ref": [image]}))
    small = mask_png(np.ones((2, 2), np.uint8), palette_colors(len(LABELS)))
    answer = {
        "crowd-semantic-segmentation": {
            "labelMappings": {"road": {"color": palette_colors(len(LABELS))[1]}},
            "labeledImage": {"pngImageData": base64.b64encode(small).decode()},
        }
    }
    folder = tmp_path / "responses" / "iteration-1" / "0"
    folder.mkdir(parents=True)
    doc = {"answers": [{"answerContent": answer, "submissionTime": "2024-01-02T03:04:05Z", "workerId": "w"}]}
    (folder / "a.json").write_text(json.dumps(doc))
    with pytest.raises(
        WorkerResponseError, match=r"a\.json: .*the mask is 2 x 2 pixels, its image 400 x 300"
    ):
        job.import_answers(tmp_path / "responses")
    assert job.progress.labeled == 0


# -- finding 7: masks named by the manifest follow the media_root rule ----------------------------------


def test_a_mask_to_adjust_must_follow_the_media_root_rule(tmp_path: Path, image: str) -> None:
    (tmp_path / "images" / "sub").mkdir()
    secret = gt_mask(tmp_path / "secret.png")
    climbing = str(tmp_path / "images" / "sub" / ".." / ".." / "secret.png")
    df = pd.DataFrame({"source-ref": [image], "old-ref": [climbing], "old-ref-metadata": [META]})
    with pytest.raises(ValueError, match=r"row 0: old-ref '.*secret\.png' climbs out of its folder"):
        seg_job(tmp_path, df, adjust="old-ref")
    df["old-ref"] = [secret]
    with pytest.raises(ValueError, match=r"row 0: old-ref '.*secret\.png' is outside media_root"):
        seg_job(tmp_path, df, adjust="old-ref", media_root=tmp_path / "images")
    inside = gt_mask(tmp_path / "images" / "old.png")
    df["old-ref"] = [str(tmp_path / "images" / "sub" / ".." / "old.png")]
    job = seg_job(tmp_path, df, adjust="old-ref", media_root=tmp_path / "images")
    extras = job.task.item_extras(job.items.row_inputs(0), image, {"width": W, "height": H})
    assert extras["initial"]["width"] == W and Path(inside).exists()


def test_a_mask_to_verify_must_follow_the_media_root_rule(tmp_path: Path, image: str) -> None:
    secret = gt_mask(tmp_path / "secret.png")
    df = pd.DataFrame({"source-ref": [image], "seg-ref": [secret], "seg-ref-metadata": [json.dumps(META)]})
    with pytest.raises(ValueError, match=r"row 0: seg-ref '.*secret\.png' is outside media_root"):
        nl.Job(
            "verify",
            df,
            nl.LabelVerification("seg-ref"),
            store=tmp_path / "v.sqlite",
            media_root=tmp_path / "images",
        )
    # A class label in the same column is not a file: nothing to check.
    labels = pd.DataFrame({"source-ref": [image], "cls": ["cat"], "cls-metadata": [{"class-name": "cat"}]})
    job = nl.Job(
        "verify2",
        labels,
        nl.LabelVerification("cls"),
        store=tmp_path / "v2.sqlite",
        media_root=tmp_path / "images",
    )
    assert job.progress.total == 1


def test_a_mask_file_to_verify_that_is_a_fifo_does_not_hang_the_widget(tmp_path: Path, image: str) -> None:
    fifo = tmp_path / "images" / "mask.png"
    os.mkfifo(fifo)
    df = pd.DataFrame({"source-ref": [image], "seg-ref": [str(fifo)], "seg-ref-metadata": [META]})
    job = nl.Job("verify", df, nl.LabelVerification("seg-ref"), store=tmp_path / "v.sqlite")
    with pytest.raises(ValueError, match="is a FIFO, not a regular file"):
        finishes(lambda: job.task.item_extras(job.items.row_inputs(0), image, {"width": W, "height": H}))


def test_exported_masks_round_trip_at_the_images_size(tmp_path: Path, image: str) -> None:
    job = seg_job(tmp_path, pd.DataFrame({"source-ref": [image]}))
    job.label(0, np.ones((H, W), np.uint8))
    result = job.export(tmp_path / "out")
    line = json.loads(Path(result.manifest).read_text().splitlines()[0])
    with Image.open(io.BytesIO(Path(line["streets-ref"]).read_bytes())) as img:
        assert img.size == (W, H)


@pytest.mark.parametrize("attribute", ["../../outside", "a/../../b", "../"])
def test_an_attribute_cannot_place_masks_outside_the_job_folder(
    tmp_path: Path, image: str, attribute: str
) -> None:
    df = pd.DataFrame({"source-ref": [image]})
    # Refused by the name rule (GT's LabelAttributeName) and, behind it, by the answer log.
    with pytest.raises(ValueError, match=r"would place answer files outside|LabelAttributeName"):
        nl.Job(
            "streets",
            df,
            nl.SemanticSegmentation(LABELS),
            attribute=attribute + "-ref",
            store=tmp_path / "s.sqlite",
        )
