"""SemanticSegmentation: masks written as exact indexed PNGs, GT's metadata, adjust, verify, exports."""

from __future__ import annotations

import base64
import io
import json
import logging
import zlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

import nblabel as nl
from nblabel.formats import WorkerResponseError
from nblabel.formats.gt import MANIFEST
from nblabel.masks import color_map, palette_colors, read_gt_mask

pytest_plugins = ["s3_fixtures"]

LABELS = ["road", "car", "sky"]
W, H = 40, 30


@pytest.fixture
def images(tmp_path: Path) -> list[str]:
    refs = []
    for i in range(3):
        path = tmp_path / f"img{i}.jpg"
        Image.new("RGB", (W, H), (10 * i, 20, 30)).save(path)
        refs.append(str(path))
    return refs


def make_job(tmp_path: Path, refs: list[str], **task: object) -> nl.Job:
    df = pd.DataFrame({"source-ref": refs})
    return nl.Job("streets", df, nl.SemanticSegmentation(LABELS, **task), store=tmp_path / "s.sqlite")


def sample_mask() -> np.ndarray:
    mask = np.zeros((H, W), np.uint8)
    mask[2:9, 3:20] = 2
    mask[20:, :] = 1
    mask[0, 0] = 3
    return mask


def gt_png(path: Path, indices: np.ndarray, colors: list[str]) -> Path:
    img = Image.fromarray(indices.astype(np.uint8), mode="P")
    palette = [int(c[i : i + 2], 16) for c in colors for i in (1, 3, 5)]
    img.putpalette(palette + [0] * (768 - len(palette)))
    img.save(path)
    return path


# -- the task and its PNGs ----------------------------------------------------------------------------


def test_the_attribute_ends_in_ref_and_a_mask_is_an_exact_indexed_png(tmp_path: Path, images) -> None:
    job = make_job(tmp_path, images)
    assert job.attribute == "streets-ref"
    mask = sample_mask()
    a = job.label(0, mask)
    path = Path(a.value["mask"])
    assert path.is_relative_to(tmp_path / "streets" / "masks" / "streets-ref")
    assert a.value["labels_present"] == ["road", "car", "sky"]
    assert a.value["sha1"] == __import__("hashlib").sha1(path.read_bytes()).hexdigest()
    with Image.open(path) as img:
        assert img.format == "PNG" and img.mode == "P"
        assert np.array_equal(np.array(img), mask)
        palette = img.getpalette()[: 3 * 4]
    assert palette == [255, 255, 255, 0x1F, 0x77, 0xB4, 0xFF, 0x7F, 0x0E, 0x2C, 0xA0, 0x2C]
    # An explicit attribute gets the suffix too; one that has it is kept.
    df = pd.DataFrame({"source-ref": images})
    task = nl.SemanticSegmentation(LABELS)
    assert nl.Job("a", df, task, attribute="city", store=tmp_path / "a.sqlite").attribute == "city-ref"
    assert nl.Job("b", df, task, attribute="city-ref", store=tmp_path / "b.sqlite").attribute == "city-ref"


def test_gt_metadata_is_written_as_gt_writes_it(tmp_path: Path, images) -> None:
    job = make_job(tmp_path, images)
    a = job.label(1, sample_mask())
    out = job.to_dataframe()
    assert out.at[1, "streets-ref"] == a.value["mask"]
    meta = out.at[1, "streets-ref-metadata"]
    assert list(meta) == ["internal-color-map", "type", "human-annotated", "creation-date", "job-name"]
    assert meta["internal-color-map"] == {
        "0": {"class-name": "BACKGROUND", "confidence": 0.0, "hex-color": "#ffffff"},
        "1": {"class-name": "road", "confidence": 0.0, "hex-color": "#1f77b4"},
        "2": {"class-name": "car", "confidence": 0.0, "hex-color": "#ff7f0e"},
        "3": {"class-name": "sky", "confidence": 0.0, "hex-color": "#2ca02c"},
    }
    assert meta["type"] == "groundtruth/semantic-segmentation"
    assert meta["human-annotated"] == "yes"
    assert meta["job-name"] == "labeling-job/streets"
    assert len(meta["creation-date"]) == 26 and meta["creation-date"][10] == "T"
    assert pd.isna(out.at[0, "streets-ref"])
    _, auto = job.task.to_gt(a.value, confidence=0.876, human=False, job_name="j", created="c")
    assert {e["confidence"] for e in auto["internal-color-map"].values()} == {0.88}
    assert auto["human-annotated"] == "no"


def test_many_classes_get_distinct_colours_never_white() -> None:
    colors = palette_colors(255)
    assert len(colors) == 256 and len(set(colors)) == 256
    assert colors[0] == "#ffffff" and "#ffffff" not in colors[1:]
    assert list(color_map(["a"]).keys()) == ["0", "1"]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (np.zeros((H, W, 3), np.uint8), "2-D array of integer class indices"),
        (np.full((H, W), 0.5), "2-D array of integer class indices"),
        (np.full((H, W), 4), r"pixel x=0, y=0 has class index 4, past the 3 labels"),
        (np.full((H, W), -1), "negative class index"),
        ({"width": W, "height": H, "data": b"not zlib"}, "not zlib-compressed"),
        ({"width": W, "height": H + 1, "data": zlib.compress(bytes(W * H))}, f"not {W} x {H + 1}"),
        ({"width": W, "height": H, "data": zlib.compress(bytes(W * H + 5))}, "holds more than 1200 pixels"),
        ({"width": 0, "height": H, "data": b""}, "width must be a positive integer"),
        ({"mask": "/nowhere/mask.png", "sha1": "0"}, "cannot read the mask file /nowhere/mask.png"),
        ("cat", r"a segmentation answer is \{'mask'"),
    ],
)
def test_bad_answers_are_refused_naming_the_item_and_nothing_is_stored(
    tmp_path: Path, images, value, message
):
    job = make_job(tmp_path, images)
    with pytest.raises(ValueError, match=message) as err:
        job.label(0, value)
    assert images[0] in str(err.value)
    assert job.progress.labeled == 0
    assert not list((tmp_path / "streets").rglob("*.png")) or (isinstance(value, dict) and "mask" in value)


def test_a_changed_mask_file_is_noticed(tmp_path: Path, images) -> None:
    job = make_job(tmp_path, images)
    a = job.label(0, sample_mask())
    Path(a.value["mask"]).write_bytes(b"changed")
    with pytest.raises(ValueError, match="changed: its sha1 is"):
        job.task.validate(a.value, "x")


def test_consolidation_votes_pixels_writes_the_mask_and_reruns_append_nothing(tmp_path: Path, images) -> None:
    job = make_job(tmp_path, images)
    truth = sample_mask()
    careless = truth.copy()
    careless[20:, :] = 0  # forgot the road
    shifted = truth.copy()
    shifted[2:9, 3:20] = 0
    shifted[3:10, 3:20] = 2  # the car one pixel lower
    for who, mask in (("ana", truth), ("bo", careless), ("cy", shifted)):
        job.label(0, mask, annotator=who)
    job.label(1, truth, annotator="ana")
    job.label(1, truth, annotator="bo")
    agreement = job.agreement()
    result = job.consolidate()
    assert result.method == "pixel-vote"
    current = job.current(0)
    assert (current.kind, current.annotator) == ("consolidated", "consolidate:pixel-vote")
    voted = nl.SemanticSegmentation(LABELS).indices(current.value)
    # Two of three drew the road and the car's rows 3-8; its row 9 has one vote of three. (Edges
    # move with the 3-pixel smoothing, so the checks keep away from them.)
    assert (voted[22:, :] == 1).all()
    assert (voted[3:8, 5:18] == 2).all() and (voted[10:18, 5:18] == 0).all()
    assert 0.5 < current.confidence < 1.0
    assert job.current(1).confidence > 0.99  # two identical masks (smoothing drops the lone sky pixel)
    # Identical pixels are one category, whoever drew them: item 1's two answers agree.
    assert set(job.disagreements()["key"]) == {job.keys[0]}
    assert result.quality["ana"] > result.quality["bo"]
    assert len(agreement) > 0
    out = job.to_dataframe()
    assert out.loc[0, "streets-ref"] == current.value["mask"]
    assert out.loc[0, "streets-ref-metadata"]["internal-color-map"]["1"]["confidence"] == round(
        current.confidence, 2
    )
    count = lambda: sum(a.kind == "consolidated" for a in job.store.annotations("streets-ref"))  # noqa: E731
    assert count() == 2
    job.consolidate()
    assert count() == 2  # the same pixels again: the same file, nothing appended


def test_exported_worker_responses_import_back_as_the_same_masks(tmp_path: Path, images) -> None:
    job = make_job(tmp_path, images)
    truth = sample_mask()
    other = truth.copy()
    other[20:, :] = 0
    job.label(0, truth, annotator="ana")
    job.label(0, other, annotator="bo")
    job.export(tmp_path / "out")
    fresh = nl.Job("again", job.data, nl.SemanticSegmentation(LABELS), store=tmp_path / "again.sqlite")
    assert fresh.import_answers(tmp_path / "out" / "streets") == 2
    back = {a.annotator: fresh.task.indices(a.value) for a in fresh.answers(0)}
    assert np.array_equal(back["ana"], truth) and np.array_equal(back["bo"], other)
    assert fresh.import_answers(tmp_path / "out" / "streets") == 0  # nothing stored twice
    # A colour the answer's labelMappings lacks is refused, naming the file and the pixel.
    file = next((tmp_path / "out" / "streets" / "annotations" / "worker-response").rglob("*.json"))
    doc = json.loads(file.read_text())
    mappings = doc["answers"][0]["answerContent"]["crowd-semantic-segmentation"]["labelMappings"]
    del mappings["sky"]
    file.write_text(json.dumps(doc))
    with pytest.raises(
        WorkerResponseError,
        match=r"\.json, answer 0: the mask has pixels of colour #[0-9a-f]{6} \(first at x=0, y=0\)",
    ):
        nl.Job(
            "third", job.data, nl.SemanticSegmentation(LABELS), store=tmp_path / "3.sqlite"
        ).import_answers(tmp_path / "out" / "streets")


def test_bad_tasks_are_refused() -> None:
    with pytest.raises(ValueError, match="at most 255 classes"):
        nl.SemanticSegmentation([f"c{i}" for i in range(256)])
    with pytest.raises(ValueError, match="BACKGROUND"):
        nl.SemanticSegmentation(["BACKGROUND", "car"])
    with pytest.raises(ValueError, match="adjust names"):
        nl.SemanticSegmentation(["car"], adjust="")


# -- the widget protocol -------------------------------------------------------------------------------


def test_widget_answers_arrive_as_a_binary_buffer_and_are_stored_once(tmp_path: Path, images) -> None:
    job = make_job(tmp_path, images)
    feed = job.feed()
    mask = sample_mask()
    message = {"type": "answer", "uid": "u1", "key": job.key(0), "value": {"width": W, "height": H}}
    feed.apply(message, [memoryview(zlib.compress(mask.tobytes()))])
    feed.apply(message, [zlib.compress(mask.tobytes())])  # re-sent: stored once, no second file
    assert len(list((tmp_path / "streets").rglob("*.png"))) == 1
    stored = job.current(0).value
    assert Path(stored["mask"]).name.endswith("-u1.png")
    with Image.open(stored["mask"]) as img:
        assert np.array_equal(np.array(img), mask)
    # Shown again, the answer comes with its pixels as a buffer, never inside the JSON.
    items, buffers = feed.payloads([0])
    value = items[0]["value"]
    assert value["width"] == W and value["height"] == H and set(value["data"]) == {"buffer"}
    pixels = zlib.decompress(buffers[value["data"]["buffer"]])
    assert np.array_equal(np.frombuffer(pixels, np.uint8).reshape(H, W), mask)
    json.dumps(items)  # the JSON part holds no bytes
    feed.close()


# -- adjusting GT's masks ---------------------------------------------------------------------------------

GT_COLORS = ["#ffffff", "#2ca02c", "#1f77b4"]
GT_MAP = {
    "0": {"class-name": "BACKGROUND", "confidence": 0.9, "hex-color": "#ffffff"},
    "1": {"class-name": "car", "confidence": 0.9, "hex-color": "#2ca02c"},
    "2": {"class-name": "road", "confidence": 0.9, "hex-color": "#1f77b4"},
}


def gt_rows(tmp_path: Path, images: list[str]) -> tuple[pd.DataFrame, np.ndarray]:
    old = np.zeros((H, W), np.uint8)
    old[10:20, 5:15] = 1  # car
    old[25:, :] = 2  # road
    refs = [str(gt_png(tmp_path / f"gt{i}.png", old, GT_COLORS)) for i in range(len(images))]
    meta = {"internal-color-map": GT_MAP, "type": "groundtruth/semantic-segmentation"}
    df = pd.DataFrame({"source-ref": images, "old-ref": refs, "old-ref-metadata": [meta] * len(images)})
    return df, old


def test_gt_masks_are_read_by_colour_and_renumbered_by_name(tmp_path: Path, images, caplog) -> None:
    df, old = gt_rows(tmp_path, images)
    indices, names = read_gt_mask(df.at[0, "old-ref"], df.at[0, "old-ref-metadata"], LABELS, "old-ref")
    assert names == ["BACKGROUND", *LABELS]
    assert np.array_equal(indices == 2, old == 1) and np.array_equal(indices == 1, old == 2)
    # GT's 2020 bug: right colours, wrong palette indices. The colour wins, and it is logged.
    wrong = tmp_path / "bug.png"
    img = Image.fromarray(np.where(old == 1, 2, np.where(old == 2, 1, 0)).astype(np.uint8), mode="P")
    img.putpalette([255, 255, 255, 0x1F, 0x77, 0xB4, 0x2C, 0xA0, 0x2C] + [0] * 759)  # colours swapped too
    img.save(wrong)
    with caplog.at_level(logging.WARNING):
        fixed, _ = read_gt_mask(str(wrong), {"internal-color-map": GT_MAP}, None)
    assert np.array_equal(fixed, old)
    assert "palette index differs" in caplog.text
    # An RGB mask (no palette) decodes by colour as well.
    rgb = tmp_path / "rgb.png"
    Image.open(df.at[0, "old-ref"]).convert("RGB").save(rgb)
    assert np.array_equal(read_gt_mask(str(rgb), {"internal-color-map": GT_MAP})[0], old)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            "colour",
            r"pixels of colour #0a0b0c \(first at x=0, y=0\), which the internal-color-map does not name",
        ),
        ("class", r"has class 'car', which is not among the labels \['road'\]"),
        ("map", "no internal-color-map"),
        ("file", "file not found"),
    ],
)
def test_unreadable_gt_masks_say_why(tmp_path: Path, images, change, message) -> None:
    df, _ = gt_rows(tmp_path, images)
    ref, meta, labels = df.at[0, "old-ref"], df.at[0, "old-ref-metadata"], LABELS
    if change == "colour":
        img = Image.open(ref).convert("RGB")
        img.putpixel((0, 0), (10, 11, 12))
        img.save(ref)
    elif change == "class":
        labels = ["road"]
    elif change == "map":
        meta = {"type": "groundtruth/semantic-segmentation"}
    else:
        ref = str(tmp_path / "missing.png")
    with pytest.raises(ValueError, match=message) as err:
        read_gt_mask(ref, meta, labels, "old-ref")
    assert "attribute 'old-ref'" in str(err.value)


def test_adjust_starts_from_the_gt_mask_and_writes_adjustment_status(tmp_path: Path, images) -> None:
    df, old = gt_rows(tmp_path, images)
    job = nl.Job("fix", df, nl.SemanticSegmentation(LABELS, adjust="old-ref"), store=tmp_path / "f.sqlite")
    extras = job.task.item_extras(job.items.row_inputs(0), images[0], {"width": W, "height": H, "depth": 3})
    start = np.frombuffer(zlib.decompress(extras["initial"]["data"]), np.uint8).reshape(H, W)
    renumbered = np.select([old == 1, old == 2], [2, 1], 0).astype(np.uint8)
    assert np.array_equal(start, renumbered)
    with pytest.raises(ValueError, match="is 40 x 30, the image 41 x 30"):
        job.task.item_extras(job.items.row_inputs(0), images[0], {"width": 41, "height": H})
    job.label(0, renumbered)
    changed = renumbered.copy()
    changed[0, 0] = 3
    job.label(1, changed)
    out = job.to_dataframe()
    assert out.at[0, "fix-ref-metadata"]["adjustment-status"] == "unadjusted"
    assert out.at[1, "fix-ref-metadata"]["adjustment-status"] == "adjusted"
    assert out.at[0, "fix-ref-metadata"]["type"] == "groundtruth/semantic-segmentation"
    # The feed sends the starting mask as a buffer.
    feed = job.feed()
    items, buffers = feed.payloads([2])
    initial = items[0]["initial"]
    raw = zlib.decompress(buffers[initial["data"]["buffer"]])
    assert np.array_equal(np.frombuffer(raw, np.uint8).reshape(H, W), renumbered)
    feed.close()


def test_verification_shows_a_mask_overlay(tmp_path: Path, images) -> None:
    df, old = gt_rows(tmp_path, images)
    job = nl.Job("check", df, nl.LabelVerification("old-ref"), store=tmp_path / "v.sqlite")
    shown = job.task.item_extras(job.items.row_inputs(0), images[0], {})["shown"]
    assert shown["colors"] == GT_COLORS
    assert shown["classes"] == {"0": "BACKGROUND", "1": "car", "2": "road"}
    assert shown["present"] == ["car", "road"]
    pixels = zlib.decompress(shown["mask"]["data"])
    assert np.array_equal(np.frombuffer(pixels, np.uint8).reshape(H, W), old)
    job.label(0, {"verdict": "incorrect", "comment": "the car is larger"})
    meta = job.to_dataframe().at[0, "check-metadata"]
    assert meta["type"] == "groundtruth/label-verification"
    assert meta["worker-feedback"] == [{"comment": "the car is larger"}]


# -- exports ------------------------------------------------------------------------------------------------


def test_to_masks_writes_index_pngs_and_a_colour_map(tmp_path: Path, images) -> None:
    job = make_job(tmp_path, images)
    mask = sample_mask()
    job.label(0, mask)
    job.label(2, np.zeros((H, W), np.uint8))
    out = job.to_dataframe()
    folder = out.nblabel.to_masks("streets-ref", tmp_path / "masks")
    assert sorted(p.name for p in folder.iterdir()) == ["color_map.json", "img0.png", "img2.png"]
    with Image.open(folder / "img0.png") as img:
        assert img.mode == "P" and np.array_equal(np.array(img), mask)
    table = json.loads((folder / "color_map.json").read_text())["classes"]
    assert table == [
        {"index": 0, "name": "BACKGROUND", "color": "#ffffff"},
        {"index": 1, "name": "road", "color": "#1f77b4"},
        {"index": 2, "name": "car", "color": "#ff7f0e"},
        {"index": 3, "name": "sky", "color": "#2ca02c"},
    ]
    with pytest.raises(FileExistsError):
        out.nblabel.to_masks("streets-ref", folder)
    # Renumbered to other labels on request; a class they lack is named.
    again = out.nblabel.to_masks("streets-ref", folder, labels=["sky", "car", "road"], overwrite=True)
    with Image.open(again / "img0.png") as img:
        assert np.array_equal(np.array(img), np.select([mask == 1, mask == 2, mask == 3], [3, 2, 1], 0))
    with pytest.raises(ValueError, match=r"row 0 \(.*img0.jpg\).*class 'sky', which is not among"):
        out.nblabel.to_masks("streets-ref", tmp_path / "other", labels=["road", "car"])
    assert not (tmp_path / "other").exists()


def test_gt_export_puts_masks_in_gt_layout_and_names_them_in_the_manifest(tmp_path: Path, images) -> None:
    job = make_job(tmp_path, images)
    mask = sample_mask()
    a = job.label(1, mask)
    result = job.export(tmp_path / "out")
    root = tmp_path / "out" / "streets"
    files = sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())
    png = f"annotations/consolidated-annotation/output/1_{a.created}.png"
    assert png in files
    lines = [json.loads(line) for line in (root / MANIFEST).read_text().splitlines()]
    assert lines[1]["streets-ref"] == str(root / png)
    assert "streets-ref" not in lines[0]
    with Image.open(root / png) as img:
        assert np.array_equal(np.array(img), mask)
    response = json.loads(next((root / "annotations/worker-response/iteration-1/1").iterdir()).read_text())
    answer = response["answers"][0]["answerContent"]["crowd-semantic-segmentation"]
    assert answer["inputImageProperties"] == {"height": H, "width": W}
    assert answer["labelMappings"] == {
        "road": {"color": "#1f77b4"},
        "car": {"color": "#ff7f0e"},
        "sky": {"color": "#2ca02c"},
    }
    decoded = Image.open(io.BytesIO(base64.b64decode(answer["labeledImage"]["pngImageData"])))
    assert np.array_equal(np.array(decoded), mask)
    assert result.files == len(files)


def test_s3_export_names_the_masks_by_their_s3_uri(
    s3_env, bucket: str, s3_direct, tmp_path: Path, images
) -> None:
    job = make_job(tmp_path, images)
    a = job.label(0, sample_mask())
    job.export(f"s3://{bucket}/labeling/")
    key = f"labeling/streets/annotations/consolidated-annotation/output/0_{a.created}.png"
    obj = s3_direct.get_object(Bucket=bucket, Key=key)
    assert obj["ContentType"] == "image/png"
    assert obj["Body"].read() == Path(a.value["mask"]).read_bytes()
    manifest = s3_direct.get_object(Bucket=bucket, Key=f"labeling/streets/{MANIFEST}")["Body"].read().decode()
    assert json.loads(manifest.splitlines()[0])["streets-ref"] == f"s3://{bucket}/{key}"


# -- label category and frame attributes (#21) -----------------------------------------------------

ATTRS = {
    "labels": [
        {"label": "road", "categoryAttributes": [{"name": "wet", "enum": ["yes", "no"], "isRequired": True}]},
        {"label": "car"},
        {"label": "sky"},
    ],
    "categoryGlobalAttributes": [{"name": "occluded", "type": "number", "minimum": 0, "maximum": 1}],
    "frameAttributes": [{"name": "weather", "enum": ["sun", "rain"]}],
}


def test_class_and_frame_attributes_go_to_gt_output_worker_responses_consolidation_and_back(
    tmp_path: Path, images
) -> None:
    task = nl.SemanticSegmentation.from_label_categories(ATTRS)
    job = nl.Job("streets", pd.DataFrame({"source-ref": images}), task, store=tmp_path / "s.sqlite")
    mask = sample_mask()
    mask[0, 0] = 0  # road and car (the vote smooths a lone pixel away)
    with pytest.raises(ValueError, match=r"road: the required attribute 'wet' is not given"):
        job.label(0, mask)
    with pytest.raises(ValueError, match=r"attributes of classes the mask does not have: \['road'\]"):
        job.label(
            0, {"indices": np.where(mask == 1, 0, mask), "label-category-attributes": {"road": {"wet": "no"}}}
        )
    for who, wet, weather in (("ana", "yes", "rain"), ("bo", "no", "sun"), ("cy", "yes", "rain")):
        job.label(
            0,
            {
                "indices": mask,
                "label-category-attributes": {"road": {"wet": wet}, "car": {"occluded": 1}},
                "frame-attributes": {"weather": weather},
            },
            annotator=who,
        )
    stored = job.current(0).value
    assert stored["label-category-attributes"] == {"road": {"wet": "yes"}, "car": {"occluded": 1}}
    assert stored["frame-attributes"] == {"weather": "rain"}
    meta = job.to_dataframe().at[0, "streets-ref-metadata"]
    assert meta["internal-color-map"]["1"]["label-category-attributes"] == {"wet": "yes"}
    assert "label-category-attributes" not in meta["internal-color-map"]["3"]
    assert meta["frame-attributes"] == {"weather": "rain"}
    content = task.answer_content(stored)
    answer = content["crowd-semantic-segmentation"]
    assert answer["labelMappings"]["road"] == {
        "color": "#1f77b4",
        "label-category-attributes": {"wet": "yes"},
    }
    back = task.from_answer_content(content)
    assert np.array_equal(back["indices"], mask)
    assert {k: v for k, v in back.items() if k != "indices"} == {
        "label-category-attributes": stored["label-category-attributes"],
        "frame-attributes": {"weather": "rain"},
    }
    job.consolidate()
    voted = job.current(0)
    assert voted.kind == "consolidated" and voted.value["labels_present"] == ["road", "car"]
    assert voted.value["label-category-attributes"] == {"road": {"wet": "yes"}, "car": {"occluded": 1}}
    assert voted.value["frame-attributes"] == {"weather": "rain"}
    # Written as GT's worker responses and read back: the same answers, attributes and all.
    job.export(tmp_path / "out")
    fresh = nl.Job(
        "again", job.data, nl.SemanticSegmentation.from_label_categories(ATTRS), store=tmp_path / "a.sqlite"
    )
    assert fresh.import_answers(tmp_path / "out" / "streets") == 3
    drop = ("mask", "sha1")
    mine = {a.annotator: {k: v for k, v in a.value.items() if k not in drop} for a in job.answers(0)}
    theirs = {a.annotator: {k: v for k, v in a.value.items() if k not in drop} for a in fresh.answers(0)}
    assert theirs == mine


def test_a_proposal_s_confidence_map_reaches_the_widget_shrunk_by_averaging(tmp_path: Path) -> None:
    from nblabel.masks import decode_indices
    from nblabel.tasks.segmentation import CONFIDENCE_SIDE, confidence_preview

    conf = np.zeros((300, 600), np.uint8)
    conf[:, 300:] = 255
    conf[:150, :300:2] = 100  # stripes one pixel wide: averaged, not sampled
    Image.fromarray(conf).save(tmp_path / "c.png")
    shown = confidence_preview(str(tmp_path / "c.png"))
    assert (shown["width"], shown["height"]) == (CONFIDENCE_SIDE, CONFIDENCE_SIDE // 2)
    small = decode_indices(shown["data"], shown["width"], shown["height"])
    assert (small[:, 140:] == 255).all() and (small[70:, :120] == 0).all()
    assert ((small[:60, :120] >= 33) & (small[:60, :120] <= 67)).all()  # 0 or 100 if sampled
