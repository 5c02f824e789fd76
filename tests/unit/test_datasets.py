"""The sample data shipped in ``nblabel.datasets``: columns, files, labels, sizes, order."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pandas as pd
import pytest
from PIL import Image

from nblabel import datasets

DATA = Path(datasets.__file__).resolve().parent / "data"


@pytest.fixture(scope="module")
def images() -> pd.DataFrame:
    return datasets.images()


@pytest.fixture(scope="module")
def texts() -> pd.DataFrame:
    return datasets.texts()


# --------------------------------------------------------------------------- shape and columns


def test_images_columns_and_index(images: pd.DataFrame) -> None:
    assert list(images.columns) == ["source-ref", "gold", "origin", "license"]
    assert isinstance(images.index, pd.RangeIndex)
    assert len(images) == 60
    assert all(images[c].dtype == object for c in images.columns)
    assert images.notna().all().all()


def test_texts_columns_and_index(texts: pd.DataFrame) -> None:
    assert list(texts.columns) == ["source", "gold", "origin", "license"]
    assert isinstance(texts.index, pd.RangeIndex)
    assert len(texts) == 150
    assert all(texts[c].dtype == object for c in texts.columns)
    assert texts.notna().all().all()


def test_label_lists_are_fixed_and_fresh() -> None:
    assert datasets.image_labels() == ["bird", "flower", "fruit", "insect", "vehicle"]
    assert datasets.text_labels() == ["animal", "food", "person", "place", "plant"]
    labels = datasets.image_labels()
    labels.append("mutated")
    assert "mutated" not in datasets.image_labels()


# --------------------------------------------------------------------------- files


def test_every_source_ref_is_an_absolute_file_that_pillow_opens(images: pd.DataFrame) -> None:
    sizes = set()
    for ref in images["source-ref"]:
        path = Path(ref)
        assert isinstance(ref, str)
        assert path.is_absolute(), ref
        assert path.is_file(), ref
        assert path.resolve().is_relative_to(DATA), ref
        with Image.open(path) as im:
            im.verify()
        with Image.open(path) as im:
            assert im.format in {"JPEG", "PNG"}
            assert im.mode == "RGB"
            assert max(im.size) <= 400, (ref, im.size)
            assert min(im.size) >= 64, (ref, im.size)
            sizes.add(im.size)
    assert len(sizes) > 20, "images should come in varied sizes"


def test_image_file_names_do_not_leak_the_class(images: pd.DataFrame) -> None:
    for ref, gold in zip(images["source-ref"], images["gold"], strict=True):
        assert gold not in Path(ref).name


def test_source_refs_are_unique(images: pd.DataFrame) -> None:
    assert images["source-ref"].is_unique


def test_texts_are_unique_nonempty_and_short(texts: pd.DataFrame) -> None:
    assert texts["source"].is_unique
    for text in texts["source"]:
        assert isinstance(text, str)
        assert 10 <= len(text) <= 240, text
        assert text == text.strip()


def test_total_size_is_bounded() -> None:
    total = sum(p.stat().st_size for p in DATA.rglob("*") if p.is_file())
    assert total < 4_000_000
    assert (DATA / "texts.jsonl").stat().st_size < 300_000
    for path in (DATA / "images").iterdir():
        assert path.stat().st_size < 100_000, path


def test_no_stray_files_in_the_image_folder(images: pd.DataFrame) -> None:
    on_disk = {str(p) for p in (DATA / "images").iterdir()}
    assert on_disk == set(images["source-ref"])


# --------------------------------------------------------------------------- labels and licenses


@pytest.mark.parametrize(
    ("loader", "labels", "per_class"),
    [
        (datasets.images, datasets.image_labels, 12),
        (datasets.texts, datasets.text_labels, 30),
    ],
)
def test_gold_labels_are_in_the_label_list_and_balanced(loader, labels, per_class) -> None:
    df = loader()
    assert set(df["gold"]) == set(labels())
    assert df["gold"].value_counts().to_dict() == dict.fromkeys(labels(), per_class)


def test_license_and_origin_columns(images: pd.DataFrame, texts: pd.DataFrame) -> None:
    assert set(images["license"]) == {"Public Domain Dedication"}
    assert set(texts["license"]) == {"WordNet 3.0 license"}
    assert images["origin"].str.startswith("openclipart-png ").all()
    assert images["origin"].str.endswith(".png").all()
    assert images["origin"].is_unique
    assert texts["origin"].str.startswith("wordnet-base ").all()


def test_licenses_file_states_each_source() -> None:
    text = (DATA / "LICENSES.md").read_text(encoding="utf-8")
    for needle in (
        "openclipart-png",
        "Public Domain Dedication",
        "wordnet-base",
        "WordNet 3.0 Copyright 2006 by Princeton University",
        "downscaled",
    ):
        assert needle in text


# --------------------------------------------------------------------------- order


@pytest.mark.parametrize("loader", [datasets.images, datasets.texts])
def test_order_is_deterministic(loader) -> None:
    pd.testing.assert_frame_equal(loader(), loader())


@pytest.mark.parametrize("loader", [datasets.images, datasets.texts])
def test_first_rows_show_several_classes(loader) -> None:
    df = loader()
    assert df["gold"].head(20).nunique() >= 3
    assert df["gold"].head(5).nunique() == 5  # every class within the first 5 rows


@pytest.mark.parametrize("loader", [datasets.images, datasets.texts])
def test_classes_are_interleaved_not_sorted(loader) -> None:
    gold = list(loader()["gold"])
    assert gold != sorted(gold)
    run = longest_run = 1
    for prev, cur in itertools.pairwise(gold):
        run = run + 1 if cur == prev else 1
        longest_run = max(longest_run, run)
    assert longest_run <= 2


def test_loaders_return_fresh_frames() -> None:
    df = datasets.texts()
    df.loc[0, "gold"] = "changed"
    assert datasets.texts().loc[0, "gold"] != "changed"


def test_jsonl_files_are_valid_utf8_json_lines() -> None:
    for name in ("images.jsonl", "texts.jsonl"):
        raw = (DATA / name).read_bytes()
        assert raw.endswith(b"\n")
        for line in raw.decode("utf-8").splitlines():
            assert isinstance(json.loads(line), dict)


def test_manifest_round_trip(tmp_path: Path, images: pd.DataFrame, texts: pd.DataFrame) -> None:
    manifest = pytest.importorskip("nblabel.manifest")
    for df in (images, texts):
        path = tmp_path / "m.jsonl"
        manifest.write_manifest(df, path)
        back = manifest.read_manifest(path)
        pd.testing.assert_frame_equal(back, df)


# --------------------------------------------------------------------------- samples big enough to auto-label


def test_fashion_is_written_once_into_the_data_folder(tmp_path: Path) -> None:
    df = datasets.fashion(tmp_path)
    assert list(df.columns) == ["source-ref", "gold", "origin", "license"]
    assert len(df) == 1500
    assert df["gold"].value_counts().to_dict() == dict.fromkeys(datasets.fashion_labels(), 150)
    assert set(df["license"]) == {"MIT (Zalando SE)"}
    assert df["gold"].head(10).nunique() == 10  # every class within the first 10 rows
    (folder,) = tmp_path.iterdir()  # one folder named after the data's hash, no scratch left
    assert folder.name.startswith("fashion-")
    assert sorted(str(p) for p in folder.iterdir()) == sorted(df["source-ref"])
    with Image.open(df.loc[0, "source-ref"]) as im:
        assert (im.size, im.mode) == ((28, 28), "L")
    first = folder.stat().st_mtime_ns
    pd.testing.assert_frame_equal(datasets.fashion(tmp_path), df)  # reused, not rewritten
    assert folder.stat().st_mtime_ns == first


def test_fashion_default_folder_is_the_user_data_dir(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("NBLABEL_DATA_DIR", str(tmp_path / "data"))
    df = datasets.fashion()
    assert Path(df.loc[0, "source-ref"]).parent.parent == tmp_path / "data"
    assert not any(DATA.glob("fashion-*"))  # never into the package


def test_definitions_are_balanced_unique_and_share_the_text_classes() -> None:
    df = datasets.definitions()
    assert len(df) == 1000
    assert df["gold"].value_counts().to_dict() == dict.fromkeys(datasets.text_labels(), 200)
    assert df["source"].is_unique
    assert df["source"].str.len().between(10, 240).all()
    assert set(df["license"]) == {"WordNet 3.0 license"}


def test_the_larger_samples_keep_the_wheel_small() -> None:
    assert (DATA / "fashion.npz").stat().st_size < 1_000_000
    assert (DATA / "definitions.jsonl").stat().st_size < 300_000
    text = (DATA / "LICENSES.md").read_text(encoding="utf-8")
    assert "dataset-fashion-mnist" in text and "Copyright © 2017 Zalando SE" in text
    assert "`definitions.jsonl`" in text
