"""The pretrained featurizers of ``nblabel[embeddings]``, with the real packaged models (no mocks).

The models load once per process, so the first test of each model pays for loading it
(a few seconds); the module-scoped fixtures make that cost visible and shared.
"""

from __future__ import annotations

import pickle
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from autolabel_helpers import answer_drawn
from PIL import Image

from nblabel import Job, TextClassification, datasets
from nblabel.autolabel.embeddings import (
    IMAGE_DIM,
    TEXT_DIM,
    efficientnet_features,
    efficientnet_histogram_features,
    minilm_features,
)
from nblabel.autolabel.features import featurize, image_features
from nblabel.autolabel.worker import check_picklable

pytest.importorskip("torch", reason="needs the embeddings extra: pip install 'nblabel[embeddings]'")


@pytest.fixture(scope="module")
def texts() -> Callable:
    minilm_features(["warm up"])  # loads the model once for the module
    return minilm_features


@pytest.fixture(scope="module")
def images() -> Callable:
    efficientnet_features([])  # loads the model once for the module
    return efficientnet_features


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def test_importing_nblabel_imports_no_torch() -> None:
    code = (
        "import sys, nblabel, nblabel.autolabel.embeddings, nblabel.autolabel.worker; "
        "print(sorted(m for m in ('torch', 'sentence_transformers', 'transformers') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_featurizers_are_module_level_so_a_worker_can_load_them() -> None:
    check_picklable(minilm_features, efficientnet_features)
    assert pickle.loads(pickle.dumps(minilm_features)) is minilm_features
    assert pickle.loads(pickle.dumps(efficientnet_features)) is efficientnet_features


def test_the_callers_torch_threads_are_restored(texts: Callable) -> None:
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        texts(["one thread while featurizing"])
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)


# -- texts ------------------------------------------------------------------------------------


def test_text_embeddings_are_unit_rows(texts: Callable) -> None:
    out = texts(["The cat sat on the mat.", "", None, 42])
    assert out.shape == (4, TEXT_DIM) and out.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(out[2], out[1], atol=1e-6)  # not a string: embedded as ""
    assert texts([]).shape == (0, TEXT_DIM)


def test_text_embeddings_know_synonyms(texts: Callable) -> None:
    cat, feline, stocks = texts(
        ["The cat sat on the mat.", "A feline rested on a rug.", "Stock markets fell sharply."]
    )
    assert cosine(cat, feline) > cosine(cat, stocks) + 0.3  # measured: 0.55 against 0.04


def test_text_embeddings_in_an_auto_labeling_round(texts: Callable) -> None:
    df = datasets.texts()
    job = Job("topics", df, TextClassification(datasets.text_labels()))
    answer_drawn(job, df.gold, range(90))
    # 90 random draws of 150 weigh from 1/150 to 1/61: enough evidence for 0.9, not for 0.95
    report = job.autolabel(0.9, featurizer=texts, background=False)
    assert report is not None and report.human_answers == 90
    assert report.auto_labeled > 0
    auto = job.auto_labeled()
    accuracy = np.mean([row.value == df.gold[row.position] for row in auto.itertuples()])
    assert accuracy >= 0.9
    cached = list((Path(job.store.path).parent / "features").glob("features-*.npz"))
    assert len(cached) == 1  # computed once, next to the store


# -- images -----------------------------------------------------------------------------------


def test_image_embeddings_are_unit_rows_with_a_flag_and_a_reason(images: Callable, tmp_path: Path) -> None:
    refs = list(datasets.images()["source-ref"][:3])
    (tmp_path / "not-an-image.jpg").write_text("hello")
    out, unreadable = featurize(
        [*refs, str(tmp_path / "missing.jpg"), str(tmp_path / "not-an-image.jpg")], images
    )
    assert out.shape == (5, IMAGE_DIM + 1) and out.dtype == np.float32
    assert list(unreadable) == [3, 4]  # and why, for the round's report
    assert unreadable[3].startswith("MediaError: file not found")
    assert unreadable[4].startswith("UnidentifiedImageError: cannot identify image file")
    np.testing.assert_allclose(np.linalg.norm(out[:3, :IMAGE_DIM], axis=1), 1.0, atol=1e-5)
    assert (out[:3, -1] == 0).all()
    assert (out[3:, :IMAGE_DIM] == 0).all() and (out[3:, -1] == 1).all()  # unreadable: zeros + flag
    assert images([]).shape == (0, IMAGE_DIM + 1)


def test_the_default_image_featurizer_puts_histograms_beside_embeddings(
    images: Callable, tmp_path: Path
) -> None:
    refs = [*datasets.images()["source-ref"][:2], str(tmp_path / "missing.jpg")]
    out, unreadable = featurize(refs, efficientnet_histogram_features)
    hist = image_features(refs)
    assert out.shape == (3, hist.shape[1] + IMAGE_DIM + 1)
    np.testing.assert_allclose(out[:, : hist.shape[1]], hist)
    np.testing.assert_allclose(out[:, hist.shape[1] :], images(refs), atol=1e-6)
    assert list(unreadable) == [2]  # both halves flag it, and the round hears it once
    assert out[2, hist.shape[1] - 1] == 1 and out[2, -1] == 1


def test_same_picture_at_other_sizes_is_closer_than_other_pictures(images: Callable, tmp_path: Path) -> None:
    refs = list(datasets.images()["source-ref"][:5])  # one of each class
    with Image.open(refs[0]) as img:
        small = tmp_path / "small.png"
        large = tmp_path / "large.png"
        img.resize((img.width // 3, img.height // 3)).save(small)
        img.resize((img.width * 2, img.height * 2)).save(large)
    out = images([*refs, small, large])[:, :IMAGE_DIM]
    others = max(cosine(out[0], out[j]) for j in range(1, 5))
    assert min(cosine(out[0], out[5]), cosine(out[0], out[6]), cosine(out[5], out[6])) > others


def test_transparency_is_flattened_onto_white(images: Callable, tmp_path: Path) -> None:
    ref = datasets.images()["source-ref"][0]
    with Image.open(ref) as img:
        rgba = img.convert("RGBA")
    # Pixels that are fully transparent but black: a plain convert("RGB") would show them.
    pixels = np.asarray(rgba).copy()
    white = (pixels[..., :3] > 240).all(axis=2)
    pixels[white] = (0, 0, 0, 0)
    Image.fromarray(pixels, "RGBA").save(tmp_path / "transparent.png")
    out = images([ref, tmp_path / "transparent.png"])
    assert cosine(out[0, :IMAGE_DIM], out[1, :IMAGE_DIM]) > 0.98
