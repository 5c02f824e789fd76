"""COCO, YOLO and Pascal VOC exports of boxes; COCO -> nblabel -> COCO keeps every box."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pandas as pd
import pytest
from PIL import Image

import nblabel as nl
from nblabel.formats import box_labels, from_coco, to_coco, to_voc, to_yolo
from nblabel.tasks.boxes import read_boxes

COCO = {
    "images": [
        {"id": 1, "file_name": "a.jpg", "width": 640, "height": 480},
        {"id": 2, "file_name": "b.jpg", "width": 320, "height": 240},
        {"id": 3, "file_name": "empty.jpg", "width": 100, "height": 100},
    ],
    "annotations": [
        {"id": 1, "image_id": 1, "category_id": 1, "bbox": [10, 20, 30, 40], "area": 1200, "iscrowd": 0},
        {"id": 2, "image_id": 1, "category_id": 3, "bbox": [100, 100, 50, 60], "area": 3000, "iscrowd": 0},
        {"id": 3, "image_id": 2, "category_id": 2, "bbox": [0, 0, 320, 240], "area": 76800, "iscrowd": 0},
        {"id": 4, "image_id": 1, "category_id": 1, "bbox": [10, 20, 30, 40], "area": 1200, "iscrowd": 0},
    ],
    "categories": [
        {"id": 1, "name": "car", "supercategory": ""},
        {"id": 2, "name": "person", "supercategory": ""},
        {"id": 3, "name": "sign", "supercategory": ""},
    ],
}


def boxes_of(coco: dict) -> list[tuple]:
    names = {c["id"]: c["name"] for c in coco["categories"]}
    files = {i["id"]: i["file_name"] for i in coco["images"]}
    return sorted(
        (Path(files[a["image_id"]]).name, names[a["category_id"]], *a["bbox"]) for a in coco["annotations"]
    )


def test_coco_round_trip_through_an_adjustment_job_keeps_every_box(tmp_path: Path) -> None:
    (tmp_path / "imgs").mkdir()
    for img in COCO["images"]:
        Image.new("RGB", (img["width"], img["height"])).save(tmp_path / "imgs" / img["file_name"])
    df, labels = from_coco(COCO, "coco", image_root=tmp_path / "imgs")
    assert labels == ["car", "person", "sign"]
    job = nl.Job("roundtrip", df, nl.BoundingBox(labels, adjust="coco"), attribute="checked")
    for position in range(len(df)):  # a person accepts every image as it is
        job.label(position, read_boxes(df.at[position, "coco"], df.at[position, "coco-metadata"], labels))
    out = job.to_dataframe()
    assert set(m["adjustment-status"] for m in out["checked-metadata"]) == {"unadjusted"}
    back = to_coco(out, "checked", tmp_path / "back.json", labels=labels)
    assert boxes_of(back) == boxes_of(COCO)
    assert len(back["annotations"]) == 4, "duplicate boxes are kept too"
    assert [c["id"] for c in back["categories"]] == [1, 2, 3]
    assert [i["width"] for i in back["images"]] == [640, 320, 100]
    assert json.loads((tmp_path / "back.json").read_text()) == back
    assert back["annotations"][1]["area"] == 3000


def test_from_coco_renumbers_sparse_categories_and_checks_references(tmp_path: Path) -> None:
    sparse = json.loads(json.dumps(COCO))
    for c in sparse["categories"]:
        c["id"] *= 10
    for a in sparse["annotations"]:
        a["category_id"] *= 10
    path = tmp_path / "sparse.json"
    path.write_text(json.dumps(sparse))
    df, labels = from_coco(path, "coco")
    assert labels == ["car", "person", "sign"]
    assert boxes_of(to_coco(df, "coco")) == boxes_of(COCO)
    bad = json.loads(json.dumps(COCO))
    bad["annotations"][0]["image_id"] = 99
    with pytest.raises(ValueError, match="annotation 1: image_id 99"):
        from_coco(bad, "coco")
    bad = json.loads(json.dumps(COCO))
    bad["annotations"][2]["bbox"] = [1, 2]
    with pytest.raises(ValueError, match=r"annotation 3: bbox must be \[x, y, width, height\]"):
        from_coco(bad, "coco")


def test_yolo_files(tmp_path: Path) -> None:
    df, labels = from_coco(COCO, "coco")
    folder = to_yolo(df, "coco", tmp_path / "yolo", labels=labels)
    assert (folder / "classes.txt").read_text() == "car\nperson\nsign\n"
    lines = (folder / "a.txt").read_text().splitlines()
    assert lines[0] == f"0 {25 / 640:.6f} {40 / 480:.6f} {30 / 640:.6f} {40 / 480:.6f}"
    assert lines[1].startswith("2 ")
    assert (folder / "b.txt").read_text() == "1 0.500000 0.500000 1.000000 1.000000\n"
    assert (folder / "empty.txt").read_text() == ""
    with pytest.raises(FileExistsError):
        to_yolo(df, "coco", folder)
    to_yolo(df.iloc[:1], "coco", folder, labels=labels, overwrite=True)
    assert sorted(p.name for p in folder.iterdir()) == ["a.txt", "classes.txt"]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")], "no staging folder left"


def test_voc_files(tmp_path: Path) -> None:
    df, labels = from_coco(COCO, "coco")
    folder = to_voc(df, "coco", tmp_path / "voc", labels=labels)
    root = ET.parse(folder / "a.xml").getroot()
    assert root.findtext("filename") == "a.jpg"
    assert root.findtext("size/width") == "640" and root.findtext("size/depth") == "3"
    first = root.findall("object")[0]
    assert first.findtext("name") == "car"
    assert [first.findtext(f"bndbox/{t}") for t in ("xmin", "ymin", "xmax", "ymax")] == [
        "11",
        "21",
        "40",
        "60",
    ]
    assert len(root.findall("object")) == 3


def test_names_come_from_class_maps(tmp_path: Path) -> None:
    size = [{"width": 10, "height": 10, "depth": 3}]
    df = pd.DataFrame(
        {
            "source-ref": ["s3://b/x/img.jpg", "s3://b/y/img.jpg", "s3://b/z/none.jpg"],
            "l": [
                {
                    "image_size": size,
                    "annotations": [{"class_id": 2, "left": 0, "top": 0, "width": 1, "height": 1}],
                },
                json.dumps({"image_size": size, "annotations": []}),
                None,
            ],
            "l-metadata": [{"class-map": {"2": "sign"}}, {"class-map": {}}, None],
        }
    )
    assert box_labels(df, "l") == ["class_0", "class_1", "sign"]
    assert len(to_coco(df, "l")["images"]) == 2, "unlabeled rows are left out"
    with pytest.raises(ValueError, match="no label attribute 'nope'"):
        to_coco(df, "nope")
    df.at[1, "l-metadata"] = {"class-map": {"2": "car"}}
    with pytest.raises(ValueError, match="class id 2 is 'car' here but 'sign'"):
        box_labels(df, "l")


def test_accessor_writes_the_formats(tmp_path: Path) -> None:
    df, labels = from_coco(COCO, "coco")
    coco = df.nblabel.to_coco("coco", tmp_path / "c.json", labels=labels)
    assert boxes_of(coco) == boxes_of(COCO)
    assert (df.nblabel.to_yolo("coco", tmp_path / "y", labels=labels) / "a.txt").exists()
    assert (df.nblabel.to_voc("coco", tmp_path / "v") / "b.xml").exists()
