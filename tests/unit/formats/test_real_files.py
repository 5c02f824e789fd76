"""What trying real GT output and public datasets showed (#21), one test per finding.

- COCO -> nblabel -> COCO renumbered image ids and dropped segmentation polygons;
- VOC corners carried GT's fractional boxes with float noise (``165.60000000000002``);
- YOLO and VOC refused images sharing a file name across folders or extensions;
- LabelVerification failed with ``KeyError: 'left'`` on video/point-cloud labels;
- ``flat_labels()`` took ``source-ref`` for a label attribute beside ``source-ref-metadata``.
"""

from __future__ import annotations

import csv
import xml.etree.ElementTree as ET
from pathlib import Path

import pandas as pd
import pytest

import nblabel as nl
from nblabel.accessor import flat_labels, label_attributes
from nblabel.formats import from_coco, to_coco, to_voc, to_yolo
from nblabel.formats.boxes import voc_corners

POLYGON = [[10.5, 20.0, 40.0, 20.0, 40.0, 60.0, 10.5, 60.0]]
COCO = {
    "images": [
        {"id": 0, "file_name": "first.jpg", "width": 64, "height": 48},
        {"id": 42, "file_name": "answer.jpg", "width": 32, "height": 24},
        {"id": 7, "file_name": "none.jpg", "width": 10, "height": 10},
    ],
    "annotations": [
        {"id": 1, "image_id": 42, "category_id": 1, "bbox": [10.5, 20, 29.5, 40], "segmentation": POLYGON},
        {"id": 2, "image_id": 0, "category_id": 1, "bbox": [1, 2, 3, 4], "segmentation": []},
    ],
    "categories": [{"id": 1, "name": "thing"}],
}


def test_coco_round_trip_keeps_image_ids_and_segmentation_polygons() -> None:
    df, labels = from_coco(COCO, "coco")
    back = to_coco(df, "coco", labels=labels)
    assert [(i["id"], i["file_name"]) for i in back["images"]] == [
        (0, "first.jpg"),
        (42, "answer.jpg"),
        (7, "none.jpg"),
    ]
    by_image = {a["image_id"]: a for a in back["annotations"]}
    assert by_image[42]["segmentation"] == POLYGON
    assert "segmentation" not in by_image[0], "an empty segmentation stays out"
    assert by_image[42]["bbox"] == [10.5, 20, 29.5, 40]
    # Rows without a kept id (new images) are numbered after the largest kept one.
    df.loc[1, "coco-image-id"] = None
    assert [i["id"] for i in to_coco(df, "coco", labels=labels)["images"]] == [0, 8, 7]
    df.loc[1, "coco-image-id"] = 0
    with pytest.raises(ValueError, match=r"row 1 \(answer.jpg\): coco-image-id 0 is another row's too"):
        to_coco(df, "coco", labels=labels)


def box_frame(refs: list[str], boxes: list[list[dict]]) -> pd.DataFrame:
    size = [{"width": 400, "height": 300, "depth": 3}]
    return pd.DataFrame(
        {
            "source-ref": refs,
            "b": [{"image_size": size, "annotations": a} for a in boxes],
            "b-metadata": [{"class-map": {"0": "car"}, "type": "groundtruth/object-detection"} for _ in refs],
        }
    )


def test_voc_writes_whole_pixel_corners_by_the_documented_rule(tmp_path: Path) -> None:
    # A GT box with fractional edges, as GT's own output has them.
    box = {"class_id": 0, "left": 165.60000000000002, "top": 20.4, "width": 10.5, "height": 0.2}
    assert voc_corners(box) == (167, 21, 176, 21)  # edges 166|176 and 20|21 (one pixel high at least)
    assert voc_corners({"left": 10, "top": 20, "width": 30, "height": 40}) == (11, 21, 40, 60)
    folder = to_voc(box_frame(["s3://b/img.jpg"], [[box]]), "b", tmp_path / "voc")
    corners = [
        ET.parse(folder / "img.xml").getroot().findtext(f"object/bndbox/{t}")
        for t in ("xmin", "ymin", "xmax", "ymax")
    ]
    assert corners == ["167", "21", "176", "21"]


def test_colliding_image_names_are_numbered_with_a_mapping_file(tmp_path: Path) -> None:
    refs = ["s3://b/a/x.jpg", "s3://b/b/x.jpg", "s3://b/X.png", "s3://b/other.jpg"]
    box = {"class_id": 0, "left": 1, "top": 2, "width": 3, "height": 4}
    df = box_frame(refs, [[box]] * 4)
    yolo = to_yolo(df, "b", tmp_path / "yolo")
    voc = to_voc(df, "b", tmp_path / "voc")
    assert sorted(p.name for p in yolo.iterdir()) == [
        "X__3.txt",
        "classes.txt",
        "image-names.csv",
        "other.txt",
        "x__1.txt",
        "x__2.txt",
    ]
    assert sorted(p.name for p in voc.iterdir()) == [
        "X__3.xml",
        "image-names.csv",
        "other.xml",
        "x__1.xml",
        "x__2.xml",
    ]
    for folder in (yolo, voc):
        with open(folder / "image-names.csv", newline="") as fh:
            rows = list(csv.DictReader(fh))
        assert [(r["file"], r["source-ref"]) for r in rows] == [
            ("x__1", refs[0]),
            ("x__2", refs[1]),
            ("X__3", refs[2]),
            ("other", refs[3]),
        ]
    assert ET.parse(voc / "x__2.xml").getroot().findtext("path") == refs[1]
    # Without a collision nothing is renamed and no mapping is written.
    plain = to_yolo(df.iloc[[0, 3]], "b", tmp_path / "plain")
    assert sorted(p.name for p in plain.iterdir()) == ["classes.txt", "other.txt", "x.txt"]


@pytest.mark.parametrize(
    "kind",
    ["groundtruth/video-object-tracking", "groundtruth/point_cloud_object_detection"],
)
def test_label_verification_refuses_video_and_point_cloud_labels_naming_the_type(kind: str) -> None:
    task = nl.LabelVerification("tracks")
    row = {
        "source-ref": "s3://b/seq.json",
        "tracks": {"annotations": [{"object-id": "1", "frame": 0}]},  # no "left": GT's per-frame file
        "tracks-metadata": {"type": kind, "class-map": {"0": "car"}},
    }
    with pytest.raises(ValueError, match=rf"'tracks' holds a {kind} label: LabelVerification shows image"):
        task.item_extras(row, "s3://b/seq.json", {})
    row["tracks"] = "s3://b/output/SeqLabel.json"  # the other shape: a URI, not a class
    with pytest.raises(ValueError, match=kind):
        task.item_extras(row, "s3://b/seq.json", {})


def test_flat_labels_never_take_gt_input_keys_for_label_attributes() -> None:
    # A 3D point-cloud input manifest line carries source-ref-metadata beside source-ref.
    df = pd.DataFrame(
        {
            "source-ref": ["s3://b/frames/0.txt"],
            "source-ref-metadata": [{"format": "text/xyzi", "unix-timestamp": 1566861644.759115}],
            "cls": ["car"],
            "cls-metadata": [
                {"class-name": "car", "confidence": 0.9, "type": "groundtruth/image-classification"}
            ],
        }
    )
    assert label_attributes(df) == ["cls"]
    flat = flat_labels(df)
    assert list(flat.columns) == [
        "source-ref",
        "cls",
        "cls-confidence",
        "cls-human-annotated",
        "cls-creation-date",
        "cls-job-name",
        "cls-type",
    ]
    assert list(df.nblabel.flat_labels()["cls"]) == ["car"]
