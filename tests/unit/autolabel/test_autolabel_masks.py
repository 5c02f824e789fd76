"""The mask auto-labeler: pixel features and their cache, the mIoU bound's coverage, a round on
six real (downsampled) Dubai tiles, the proposal files, auto-labels and learning from strokes."""

from __future__ import annotations

import json
import zlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from autolabel_helpers import wait_for
from PIL import Image
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.ensemble import RandomForestClassifier

from nblabel import Job, SemanticSegmentation
from nblabel.autolabel.mask_loop import UNKNOWN, image_miou, predict_image
from nblabel.autolabel.mask_worker import load_strokes, read_proposal
from nblabel.autolabel.pixels import PixelFeatures, _bilinear, cached_pixel_features
from nblabel.masks import decode_indices, decode_mask

TINY = Path(__file__).resolve().parents[2] / "data" / "dubai-tiny"
LABELS = ["Building", "Land", "Road", "Vegetation", "Water", "Unlabeled"]
FAST = PixelFeatures(side=96, deep=False, sigma_max=8.0)


def tiles() -> tuple[list[str], list[np.ndarray]]:
    images = sorted(p for p in TINY.glob("*.png") if not p.name.endswith(".mask.png"))
    masks = [np.asarray(Image.open(p.with_suffix(".mask.png"))) for p in images]
    return [str(p) for p in images], masks


def forest() -> RandomForestClassifier:
    # Shallow trees: the tests check the loop, not the model, and deep ones take a minute a round.
    return RandomForestClassifier(n_estimators=10, max_depth=8, min_samples_leaf=2, random_state=0)


@pytest.fixture
def job(tmp_path: Path) -> Job:
    refs, _ = tiles()
    return Job(
        "dubai", pd.DataFrame({"source-ref": refs}), SemanticSegmentation(LABELS), store=tmp_path / "s.sqlite"
    )


def answer(job: Job, positions: range) -> None:
    _, masks = tiles()
    for p in positions:
        job.label(p, np.where(masks[p] == UNKNOWN, 0, masks[p]))


# -- features ------------------------------------------------------------------------------------


def test_features_are_per_pixel_and_cached_as_npz_without_pickles(tmp_path: Path) -> None:
    refs, _ = tiles()
    arrays = cached_pixel_features(refs[0], FAST, tmp_path)
    h, w, n = arrays["hand"].shape
    assert max(h, w) == 96 and n > 20
    assert tuple(arrays["size"]) == Image.open(refs[0]).size
    dense = FAST.dense(arrays)
    assert dense.shape == (h * w, n)
    rows, cols = np.array([0, h - 1, h // 2]), np.array([0, w - 1, 3])
    np.testing.assert_array_equal(FAST.at(arrays, rows, cols), dense[rows * w + cols])
    [cached] = list(tmp_path.glob("pixels-*/*.npz"))
    with np.load(cached, allow_pickle=False) as data:  # a pickle inside would raise here
        np.testing.assert_array_equal(data["hand"], arrays["hand"])
    cached.write_bytes(b"broken")  # a broken cache file is computed again
    np.testing.assert_array_equal(cached_pixel_features(refs[0], FAST, tmp_path)["hand"], arrays["hand"])


def test_the_default_features_are_scikit_image_s_at_512_px_kept_as_float16(tmp_path: Path) -> None:
    # The EfficientNet maps are opt-in (deep=True) even with the embeddings extra installed.
    refs, _ = tiles()
    default = PixelFeatures()
    assert (default.side, default.use_deep(), default.sigma_max) == (512, False, 16.0)
    assert PixelFeatures(deep=True).key() != default.key()  # never read from each other's cache
    small = PixelFeatures(side=64)
    arrays = cached_pixel_features(refs[0], small, tmp_path)
    assert sorted(arrays) == ["hand", "size"]
    # 3 colour channels x 5 scales (1-16) x (intensity, gradient, 2 Hessian eigenvalues).
    assert arrays["hand"].shape[2] == 60 and max(arrays["hand"].shape[:2]) == 64
    again = cached_pixel_features(refs[0], small, tmp_path)  # read back from the cache file
    assert again["hand"].dtype == np.float16
    np.testing.assert_array_equal(again["hand"], arrays["hand"])
    rows, cols = np.array([0, 5]), np.array([3, 7])
    features = small.at(again, rows, cols)
    assert features.dtype == np.float32
    np.testing.assert_array_equal(features, again["hand"][rows, cols].astype(np.float32))


def test_bilinear_upsampling_matches_pytorch() -> None:
    torch = pytest.importorskip("torch")  # the embeddings extra is part of the test environment
    maps = np.random.default_rng(0).normal(size=(3, 5, 7)).astype(np.float32)
    full = torch.nn.functional.interpolate(torch.from_numpy(maps)[None], size=(20, 28), mode="bilinear")
    rows, cols = np.divmod(np.arange(20 * 28), 28)
    np.testing.assert_allclose(
        _bilinear(maps, rows, cols, 4.0), full[0].permute(1, 2, 0).reshape(-1, 3).numpy(), atol=1e-5
    )


def test_cnn_feature_maps_cover_the_image(tmp_path: Path) -> None:
    refs, _ = tiles()
    deep = PixelFeatures(side=96, deep=True)
    arrays = deep.compute(refs[0])
    h, w = arrays["hand"].shape[:2]
    assert [arrays[f"deep{i}"].shape[0] for i in range(4)] == [24, 40, 112, 320]
    assert arrays["deep0"].shape[1:] == (-(-h // 4), -(-w // 4))
    assert deep.dense(arrays).shape == (h * w, arrays["hand"].shape[2] + 24 + 40 + 112 + 320)


def test_image_miou() -> None:
    truth = np.array([[1, 1, 2, UNKNOWN]])
    assert image_miou(np.array([[1, 1, 2, 0]]), truth) == 1.0  # the unknown pixel does not count
    assert image_miou(np.array([[1, 2, 2, 0]]), truth) == pytest.approx((0.5 + 0.5) / 2)
    assert image_miou(np.array([[3, 3, 3, 3]]), truth) == 0.0


class _ByFeature(ClassifierMixin, BaseEstimator):
    """Puts first class 2 where the pixel's one feature is 1, class 3 where it is 2, else class 1."""

    classes_ = np.array([1, 2, 3])

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        out = np.tile([0.8, 0.1, 0.1], (len(X), 1))
        for value, column in ((1, 1), (2, 2)):
            out[X[:, 0] == value] = np.roll([0.8, 0.1, 0.1], column)
        return out


def test_a_class_on_a_few_predicted_points_is_dropped_from_the_proposal() -> None:
    # 40 x 40 working pixels: the grid of every 4th pixel has 100 points (rows and columns 2, 6, ...).
    hand = np.zeros((40, 40, 1), np.float16)
    hand[20:, 20:] = 2  # class 3 on a quarter of the points
    hand[:4, :4] = 1  # class 2 on one point of 100: below the 2% share
    data = {"hand": hand, "size": np.array([40, 40])}
    labels, _, _ = predict_image(_ByFeature(), PixelFeatures(deep=False), data, 4)
    assert set(np.unique(labels)) == {1, 3}
    hand[:12, :4] = 1  # class 2 on three points: kept
    labels, _, _ = predict_image(_ByFeature(), PixelFeatures(deep=False), data, 4)
    assert set(np.unique(labels)) == {1, 2, 3} and labels[22:, 22:].min() == 3


# -- rounds on real tiles ------------------------------------------------------------------------


def test_a_round_proposes_a_mask_for_every_open_image(job: Job) -> None:
    answer(job, range(5))
    report = job.autolabel(background=False, featurizer=FAST, estimator=forest())
    assert report is not None and report.measure == "mIoU" and report.held_out == 5
    assert "mIoU" in str(report)
    value, confidence = job.proposal(5)
    labels, pixel_conf = read_proposal(value)
    assert labels.shape == tiles()[1][5].shape == pixel_conf.shape
    assert 0 < confidence <= 1
    assert labels.max() <= len(LABELS)
    assert value["labels_present"] == [LABELS[i - 1] for i in np.unique(labels) if i > 0]
    # Better than chance on a held-out tile: most land is land.
    assert image_miou(labels, tiles()[1][5]) > 0.2
    assert job.auto_labeled().empty  # five images cannot support mIoU 0.7 with 95% confidence
    # The widget gets the proposal with its per-pixel confidence (small images: at full size).
    [item], buffers = job.feed().payloads([5])
    shown = item["proposal"]["value"]["confidence"]
    assert (shown["width"], shown["height"]) == pixel_conf.shape[::-1]
    data = buffers[shown["data"]["buffer"]]  # a binary buffer of the message, not JSON
    np.testing.assert_array_equal(decode_indices(data, shown["width"], shown["height"]), pixel_conf)


def test_old_rounds_files_are_removed(job: Job) -> None:
    answer(job, range(3))
    for _ in range(3):
        job.autolabel(background=False, featurizer=FAST, estimator=forest())
    folder = Path(job.proposal(5)[0]["mask"]).parents[1]
    assert sorted(p.name for p in folder.iterdir()) == ["round-2", "round-3"]


def test_auto_labels_are_masks_with_gt_metadata(tmp_path: Path) -> None:
    # Three copies of the six tiles: 15 answers are enough for a (low) bound to pass.
    refs, masks = tiles()
    copies = []
    for i in range(18):
        copy = tmp_path / f"tile{i}.png"
        copy.write_bytes(Path(refs[i % 6]).read_bytes())
        copies.append(str(copy))
    job = Job(
        "dubai",
        pd.DataFrame({"source-ref": copies}),
        SemanticSegmentation(LABELS),
        store=tmp_path / "s.sqlite",
    )
    for p in range(17):
        job.label(p, np.where(masks[p % 6] == UNKNOWN, 0, masks[p % 6]))
    fast = {"featurizer": FAST, "estimator": forest(), "folds": 2}  # two folds: 3 fits a round, not 6
    report = job.autolabel(background=False, target_miou=0.05, **fast)
    assert report is not None and report.auto_labeled == 1 and report.lower_bound >= 0.05
    assert "images auto-labeled" in str(report)
    auto = job.auto_labeled()
    assert list(auto["position"]) == [17]
    out = job.to_dataframe()
    meta = out.loc[17, "dubai-ref-metadata"]
    assert meta["human-annotated"] == "no"
    assert meta["internal-color-map"]["0"]["confidence"] == round(auto["confidence"].iloc[0], 2)
    # The auto-label is the proposal's pixels, in a file of its own that outlives the round.
    np.testing.assert_array_equal(
        decode_mask(out.loc[17, "dubai-ref"]), decode_mask(job.proposal(17)[0]["mask"])
    )
    assert "/masks/" in out.loc[17, "dubai-ref"]
    job.reject([17])
    job.autolabel(background=False, target_miou=0.05, **fast)
    assert job.auto_labeled().empty  # a rejected auto-label stays with people


def test_learning_from_strokes(job: Job) -> None:
    _, masks = tiles()
    answer(job, range(1))
    strokes = np.full(masks[1].shape, UNKNOWN, dtype=np.uint8)
    strokes[:10] = masks[1][:10]  # a few painted rows; the rest is unknown, not background
    job.learn_from_strokes(1, strokes)
    stored = load_strokes(job.store, job.attribute)
    np.testing.assert_array_equal(stored[job.key(1)], strokes)
    report = job.autolabel(background=False, featurizer=FAST, estimator=forest())
    assert report is not None and report.human_answers == 1
    assert job.proposal(1) is not None  # the stroked image is still open, with a proposal
    assert json.loads(job.store.get_meta(f"strokes:{job.attribute}"))["saved"] == 1
    with pytest.raises(ValueError, match="class indices"):
        job.learn_from_strokes(1, np.zeros((3, 3), dtype=float))


class _Recording(ClassifierMixin, BaseEstimator):
    """A classifier that keeps the labels of every fit (in ``FITS``: clones fit, not the original)."""

    def fit(self, X: np.ndarray, y: np.ndarray) -> _Recording:
        FITS.append(np.asarray(y).copy())
        self.classes_ = np.unique(y)
        return self

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        return np.full((len(X), len(self.classes_)), 1 / len(self.classes_))


FITS: list[np.ndarray] = []


def test_the_widget_s_learn_key_trains_on_the_painted_pixels_alone(job: Job) -> None:
    from recorder import Recorder

    from nblabel.widgets import widget_for

    height, width = tiles()[1][1].shape
    strokes = np.full((height, width), UNKNOWN, np.uint8)
    strokes[2:6, 3:40] = 3  # a Road stroke
    strokes[20:24, 3:30] = 0  # a BACKGROUND stroke: painted, so known
    widget = widget_for(job.feed())
    widget.send = rec = Recorder()
    try:
        request = {"type": "learn", "key": job.key(1), "width": width, "height": height}
        widget._on_custom(widget, request, [zlib.compress(strokes.tobytes())])
        [(reply, _)] = rec.wait_for("learned")
        assert reply == {"type": "learned", "key": job.key(1), "painted": 4 * 37 + 4 * 27}
        widget._on_custom(widget, {**request, "width": width - 1}, [zlib.compress(strokes.tobytes())])
        [(refused, _)] = rec.wait_for("rejected")
        assert "the strokes: " in refused["reason"]
    finally:
        widget.close()
    np.testing.assert_array_equal(load_strokes(job.store, job.attribute)[job.key(1)], strokes)
    assert job.log.current(job.key(1)) is None  # not an answer: the image waits in the queue
    FITS.clear()
    whole = PixelFeatures(side=max(width, height), deep=False, sigma_max=8.0)  # no resizing: exact counts
    report = job.autolabel(background=False, featurizer=whole, estimator=_Recording())
    assert report is not None and report.human_answers == 0
    # The one fit saw the painted pixels and nothing else: unpainted pixels are unknown, not background.
    [y] = FITS
    assert dict(zip(*np.unique(y, return_counts=True), strict=True)) == {0: 4 * 27, 3: 4 * 37}


def test_segmentation_needs_a_valid_target(job: Job) -> None:
    with pytest.raises(ValueError, match="target_miou"):
        job.autolabel(background=False, target_miou=1.5)


def test_the_background_worker_runs_mask_rounds_and_counts_strokes(job: Job) -> None:
    answer(job, range(2))
    job.autolabel(featurizer=FAST, estimator=forest(), every=1, interval=0.5)
    try:
        wait_for(lambda: job.queue.latest_round() >= 1, "the first round", timeout=300)
        strokes = np.full(tiles()[1][3].shape, UNKNOWN, dtype=np.uint8)
        strokes[:5] = 2
        job.learn_from_strokes(3, strokes)  # strokes alone start a new round
        wait_for(lambda: job.queue.latest_round() >= 2, "a round after the strokes", timeout=300)
        status = job.autolabel_status
        assert status["running"] and "mIoU" in status["report"], status
        assert job.proposal(3) is not None
    finally:
        job.stop_autolabel()
