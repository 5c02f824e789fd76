"""Bounding boxes in the formats detection tools train on: COCO JSON, YOLO text files, Pascal VOC XML.

They read an augmented manifest DataFrame (``job.to_dataframe()`` or any Ground Truth
``groundtruth/object-detection`` output) and write:

- :func:`to_coco`: one COCO ``instances`` JSON (``images``, ``annotations`` with
  ``bbox: [x, y, width, height]``, ``categories``), to a local path or ``s3://`` URI;
- :func:`to_yolo`: a folder (local or ``s3://``) with one ``<image stem>.txt`` per image
  (``class cx cy w h``, normalised to the image size) and ``classes.txt``;
- :func:`to_voc`: a folder (local or ``s3://``) with one ``<image stem>.xml`` per image (1-based,
  inclusive whole-pixel corners, as the Pascal VOC devkit counts; see :func:`voc_corners`).

Exported files are named after their image. Images whose names collide (``a/x.jpg``,
``b/x.jpg``, ``x.png``: the same stem in other folders or with another extension, compared
without case, as a case-insensitive file system would) are all named ``<stem>__<n>`` instead,
``n`` counting them from 1 in row order, and the folder gets ``image-names.csv`` mapping each
renamed file to its ``source-ref``.

:func:`from_coco` reads COCO JSON into a manifest DataFrame with the boxes as a GT label
attribute, so COCO data can be adjusted (``BoundingBox(labels, adjust=attribute)``) or verified,
and written back with :func:`to_coco` without losing a box. Category ids are kept when they are
``1..n`` (COCO's usual numbering); other ids are renumbered in id order, names kept. Image ids are
kept (in the ``coco-image-id`` column, which :func:`to_coco` reads back), and so are the boxes'
``segmentation`` polygons (or RLE) and ``attributes`` (as the box's ``label-category-attributes``),
on each box of the label.

Folders are written whole or not at all (:func:`nblabel.io.folders.write_folder`). Images without
a label are left out; images labeled "nothing here" get an empty file.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Sequence
from pathlib import Path, PurePosixPath
from typing import Any

import pandas as pd

from nblabel.io import open_writer
from nblabel.io.folders import write_folder
from nblabel.manifest import is_missing
from nblabel.tasks.attributes import OBJECT_KEY

__all__ = ["COCO_IMAGE_ID", "box_labels", "from_coco", "to_coco", "to_voc", "to_yolo", "voc_corners"]

_TYPE = "groundtruth/object-detection"

#: The column :func:`from_coco` keeps COCO's image ids in, and :func:`to_coco` writes them from.
COCO_IMAGE_ID = "coco-image-id"
#: The file a box export writes when image names collide: ``file,source-ref`` per renamed image.
NAME_MAP = "image-names.csv"


def _parse(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def _rows(df: pd.DataFrame, attribute: str) -> Iterator[tuple[int, str, dict[str, Any]]]:
    """(row, source-ref, GT box label) for each row with a box label."""
    if attribute not in df.columns:
        raise ValueError(f"the DataFrame has no label attribute {attribute!r}; columns: {list(df.columns)}")
    if "source-ref" not in df.columns:
        raise ValueError("box exports need a 'source-ref' column naming each image")
    for row, (ref, label) in enumerate(zip(df["source-ref"], df[attribute], strict=True)):
        if label is None or is_missing(label):
            continue
        label = _parse(label)
        if not isinstance(label, dict) or "annotations" not in label or "image_size" not in label:
            raise ValueError(f"row {row} ({ref}): {attribute!r} is not a Ground Truth bounding-box label")
        yield row, str(ref), label


def box_labels(df: pd.DataFrame, attribute: str) -> list[str]:
    """Class names by class id, from the rows' ``class-map`` metadata.

    Ids no row names get ``class_<id>``, so the list always covers every id used.

    Raises
    ------
    ValueError
        Two rows give one class id different names.
    """
    names: dict[int, str] = {}
    meta_col = f"{attribute}-metadata"
    top = -1
    for row, _ref, label in _rows(df, attribute):
        meta = _parse(df[meta_col].iloc[row]) if meta_col in df.columns else None
        class_map = meta.get("class-map") if isinstance(meta, dict) else None
        for key, name in (class_map or {}).items():
            class_id = int(key)
            if names.setdefault(class_id, str(name)) != str(name):
                raise ValueError(
                    f"row {row}: class id {class_id} is {name!r} here but {names[class_id]!r} in an earlier row"
                )
        for box in label["annotations"]:
            top = max(top, int(box["class_id"]))
    top = max([top, *names])
    return [names.get(i, f"class_{i}") for i in range(top + 1)]


def _size(label: dict[str, Any]) -> tuple[int, int, int]:
    size = label["image_size"][0]
    return int(size["width"]), int(size["height"]), int(size.get("depth", 3))


def to_coco(
    df: pd.DataFrame,
    attribute: str,
    location: str | os.PathLike[str] | None = None,
    *,
    labels: Sequence[str] | None = None,
    client: Any = None,
) -> dict[str, Any]:
    """COCO ``instances`` JSON of the boxes; written to ``location`` (local or ``s3://``) if given.

    ``file_name`` is the image's ``source-ref``; category ``k`` is class id ``k - 1``. An image's
    id is its ``coco-image-id`` (kept by :func:`from_coco`), else a number after the largest of
    those, in row order; a box's ``segmentation`` is written as it is. Returns the COCO dict.

    Raises
    ------
    ValueError
        Two rows carry the same ``coco-image-id``.
    """
    names = list(labels) if labels is not None else box_labels(df, attribute)
    rows = list(_rows(df, attribute))
    kept: dict[int, int] = {}
    if COCO_IMAGE_ID in df.columns:
        for row, ref, _label in rows:
            value = df[COCO_IMAGE_ID].iloc[row]
            if value is None or is_missing(value):
                continue
            if int(value) in kept.values():
                raise ValueError(f"row {row} ({ref}): {COCO_IMAGE_ID} {int(value)} is another row's too")
            kept[row] = int(value)
    fresh = iter(range(max(kept.values(), default=0) + 1, 1 << 62))
    images, annotations = [], []
    for row, ref, label in rows:
        width, height, _depth = _size(label)
        image_id = kept[row] if row in kept else next(fresh)
        images.append({"id": image_id, "file_name": ref, "width": width, "height": height})
        for box in label["annotations"]:
            w, h = box["width"], box["height"]
            annotation = {
                "id": len(annotations) + 1,
                "image_id": image_id,
                "category_id": int(box["class_id"]) + 1,
                "bbox": [box["left"], box["top"], w, h],
                "area": w * h,
                "iscrowd": 0,
                **({"segmentation": box["segmentation"]} if box.get("segmentation") else {}),
            }
            if box.get(OBJECT_KEY):  # CVAT's and FiftyOne's COCO spelling for per-object attributes
                annotation["attributes"] = dict(box[OBJECT_KEY])
            annotations.append(annotation)
    coco = {
        "images": images,
        "annotations": annotations,
        "categories": [{"id": i + 1, "name": name, "supercategory": ""} for i, name in enumerate(names)],
    }
    if location is not None:
        with open_writer(location, client=client) as out:
            out.write(json.dumps(coco, ensure_ascii=False, indent=1).encode("utf-8"))
    return coco


def from_coco(
    coco: dict[str, Any] | str | os.PathLike[str],
    attribute: str,
    *,
    image_root: str | os.PathLike[str] | None = None,
) -> tuple[pd.DataFrame, list[str]]:
    """A manifest DataFrame with COCO's boxes as the GT label attribute ``attribute``.

    Parameters
    ----------
    coco
        The COCO dict, or the path of its JSON file.
    attribute
        The label attribute the boxes go under (with ``<attribute>-metadata``).
    image_root
        Joined to each ``file_name`` to make the ``source-ref`` (COCO names are usually
        relative); default: the file names as they are.

    Returns
    -------
    (DataFrame, labels)
        One row per COCO image (``source-ref``, ``coco-image-id``, ``attribute``, its
        metadata), and the class names by class id, ready for ``BoundingBox(labels, adjust=attribute)``.

    Raises
    ------
    ValueError
        A box refers to an unknown image or category, or has a malformed ``bbox``.
    """
    if not isinstance(coco, dict):
        with open(coco, encoding="utf-8") as fh:
            coco = json.load(fh)
    categories = sorted(coco.get("categories", []), key=lambda c: int(c["id"]))
    class_of = {int(c["id"]): i for i, c in enumerate(categories)}
    labels = [str(c["name"]) for c in categories]
    boxes: dict[int, list[dict[str, Any]]] = {int(img["id"]): [] for img in coco.get("images", [])}
    for n, ann in enumerate(coco.get("annotations", [])):
        where = f"annotation {ann.get('id', n)}"
        image_id, category = int(ann["image_id"]), int(ann["category_id"])
        if image_id not in boxes:
            raise ValueError(f"{where}: image_id {image_id} is not among the images")
        if category not in class_of:
            raise ValueError(f"{where}: category_id {category} is not among the categories")
        bbox = ann.get("bbox")
        if not isinstance(bbox, list) or len(bbox) != 4:
            raise ValueError(f"{where}: bbox must be [x, y, width, height], got {bbox!r}")
        x, y, w, h = bbox
        box = {
            "class_id": class_of[category],
            "left": _num(x),
            "top": _num(y),
            "width": _num(w),
            "height": _num(h),
        }
        if ann.get("segmentation"):
            box["segmentation"] = ann["segmentation"]
        if isinstance(ann.get("attributes"), dict) and ann["attributes"]:  # as to_coco writes them
            box[OBJECT_KEY] = dict(ann["attributes"])
        boxes[image_id].append(box)
    refs, values, metas = [], [], []
    for img in coco.get("images", []):
        name = str(img["file_name"])
        refs.append(str(Path(image_root) / name) if image_root is not None else name)
        anns = boxes[int(img["id"])]
        values.append(
            {
                "image_size": [{"width": int(img["width"]), "height": int(img["height"]), "depth": 3}],
                "annotations": anns,
            }
        )
        present = sorted({a["class_id"] for a in anns})
        metas.append(
            {
                "objects": [{"confidence": 0.0} for _ in anns],
                "class-map": {str(i): labels[i] for i in present},
                "type": _TYPE,
            }
        )
    df = pd.DataFrame(
        {
            "source-ref": pd.Series(refs, dtype=object),
            COCO_IMAGE_ID: pd.Series([int(img["id"]) for img in coco.get("images", [])], dtype=object),
            attribute: pd.Series(values, dtype=object),
            f"{attribute}-metadata": pd.Series(metas, dtype=object),
        }
    )
    return df, labels


def _num(v: Any) -> int | float:
    v = float(v)
    return int(v) if v.is_integer() else v


def _stems(
    df: pd.DataFrame, attribute: str
) -> tuple[list[tuple[str, str, dict[str, Any]]], dict[str, bytes]]:
    """(file stem, source-ref, label) per labeled row, and the name map file when names collided.

    A stem shared by several images (compared without case) becomes ``<stem>__<n>`` for each of
    them, ``n`` from 1 in row order; ``image-names.csv`` then maps every file to its image.
    """
    rows = list(_rows(df, attribute))
    plain = [PurePosixPath(ref.split("?")[0]).stem or f"row{row}" for row, ref, _ in rows]
    count: dict[str, int] = {}
    for stem in plain:
        count[stem.casefold()] = count.get(stem.casefold(), 0) + 1
    seen: dict[str, int] = {}
    out = []
    for stem, (_row, ref, label) in zip(plain, rows, strict=True):
        key = stem.casefold()
        if count[key] > 1:
            seen[key] = seen.get(key, 0) + 1
            stem = f"{stem}__{seen[key]}"
        out.append((stem, ref, label))
    if not seen:
        return out, {}
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(["file", "source-ref"])
    writer.writerows((stem, ref) for stem, ref, _ in out)
    return out, {NAME_MAP: text.getvalue().encode("utf-8")}


def voc_corners(box: dict[str, Any]) -> tuple[int, int, int, int]:
    """A GT box's Pascal VOC corners ``(xmin, ymin, xmax, ymax)``: whole pixels, 1-based, inclusive.

    GT boxes may have fractional edges. Each edge is rounded to the nearest pixel boundary
    (halves up): ``L = floor(left + 0.5)``, ``R = floor(left + width + 0.5)``, likewise ``T``/``B``;
    the box covers pixels ``L .. R-1`` (0-based), so ``xmin = L + 1`` and ``xmax = R``, as the VOC
    devkit counts. A box thinner than half a pixel still covers one pixel (``xmax >= xmin``).
    """
    left = math.floor(box["left"] + 0.5)
    top = math.floor(box["top"] + 0.5)
    right = max(math.floor(box["left"] + box["width"] + 0.5), left + 1)
    bottom = max(math.floor(box["top"] + box["height"] + 0.5), top + 1)
    return left + 1, top + 1, right, bottom


def to_yolo(
    df: pd.DataFrame,
    attribute: str,
    folder: str | os.PathLike[str],
    *,
    labels: Sequence[str] | None = None,
    overwrite: bool = False,
    client: Any = None,
) -> Path | str:
    """YOLO labels: ``<folder>/<image stem>.txt`` with ``class cx cy w h`` lines (normalised to
    0-1, six decimals) and ``classes.txt`` (one name per class id); colliding image names are
    numbered, with ``image-names.csv`` (see the module docstring). Returns the folder (a Path, or
    the ``s3://`` URI); ``client`` is the boto3 S3 client for an ``s3://`` folder.

    Raises
    ------
    FileExistsError
        The folder holds files and ``overwrite`` is False.
    nblabel.ExportError
        A file could not be written; nothing was left behind.
    """
    names = list(labels) if labels is not None else box_labels(df, attribute)
    stems, name_map = _stems(df, attribute)
    files = {"classes.txt": "".join(f"{n}\n" for n in names).encode("utf-8"), **name_map}
    for stem, _ref, label in stems:
        width, height, _ = _size(label)
        lines = []
        for b in label["annotations"]:
            cx = (b["left"] + b["width"] / 2) / width
            cy = (b["top"] + b["height"] / 2) / height
            lines.append(
                f"{int(b['class_id'])} {cx:.6f} {cy:.6f} {b['width'] / width:.6f} {b['height'] / height:.6f}\n"
            )
        files[f"{stem}.txt"] = "".join(lines).encode("utf-8")
    return write_folder(folder, files, overwrite=overwrite, client=client)


def to_voc(
    df: pd.DataFrame,
    attribute: str,
    folder: str | os.PathLike[str],
    *,
    labels: Sequence[str] | None = None,
    overwrite: bool = False,
    client: Any = None,
) -> Path | str:
    """Pascal VOC XML: ``<folder>/<image stem>.xml`` per image. Corners are whole pixels, 1-based
    and inclusive (``xmin = left + 1``, ``xmax = left + width`` for whole-pixel boxes; fractional
    GT boxes by the rule of :func:`voc_corners`), as the VOC devkit counts. Colliding image names
    are numbered, with ``image-names.csv`` (see the module docstring). Returns the folder (a Path,
    or the ``s3://`` URI); ``client`` is the boto3 S3 client for an ``s3://`` folder.

    Raises
    ------
    FileExistsError
        The folder holds files and ``overwrite`` is False.
    nblabel.ExportError
        A file could not be written; nothing was left behind.
    """
    names = list(labels) if labels is not None else box_labels(df, attribute)
    stems, files = _stems(df, attribute)
    for stem, ref, label in stems:
        width, height, depth = _size(label)
        root = ET.Element("annotation")
        ET.SubElement(root, "filename").text = PurePosixPath(ref.split("?")[0]).name
        ET.SubElement(root, "path").text = ref
        size = ET.SubElement(root, "size")
        for tag, v in (("width", width), ("height", height), ("depth", depth)):
            ET.SubElement(size, tag).text = str(v)
        ET.SubElement(root, "segmented").text = "0"
        for b in label["annotations"]:
            obj = ET.SubElement(root, "object")
            ET.SubElement(obj, "name").text = names[int(b["class_id"])]
            ET.SubElement(obj, "pose").text = "Unspecified"
            ET.SubElement(obj, "truncated").text = "0"
            ET.SubElement(obj, "difficult").text = "0"
            box = ET.SubElement(obj, "bndbox")
            for tag, v in zip(("xmin", "ymin", "xmax", "ymax"), voc_corners(b), strict=True):
                ET.SubElement(box, tag).text = str(v)
        ET.indent(root)
        files[f"{stem}.xml"] = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return write_folder(folder, files, overwrite=overwrite, client=client)
