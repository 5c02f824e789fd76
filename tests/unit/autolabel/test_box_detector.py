"""The default box detector on a tiny real sample: nine BCCD blood-cell photos (tests/data/bccd)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from benchmarks.boxes_autolabel import load
from nblabel.autolabel import detector as detector_module
from nblabel.autolabel.box_loop import score_cuts
from nblabel.autolabel.box_match import image_miou
from nblabel.autolabel.detector import (
    BoxDetector,
    FeatureMaps,
    _flip,
    _flip_boxes,
    _stack,
    _standardize,
    _targets,
    backbone_available,
)

BCCD = Path(__file__).parents[2] / "data" / "bccd"


@pytest.fixture(scope="module")
def cells() -> list[tuple[str, dict]]:
    return load(BCCD)


@pytest.mark.parametrize("backbone", ["pixels", "efficientnet"])
def test_the_head_learns_cells_from_a_few_images(cells, backbone: str, tmp_path: Path) -> None:
    if backbone == "efficientnet":
        assert backbone_available(), "the shared venv has the embeddings extra"
    train, test = cells[:7], cells[7:]
    detector = BoxDetector(backbone, cache_dir=str(tmp_path)).fit(
        [r for r, _ in train], [v for _, v in train]
    )
    found = detector.predict([r for r, _ in cells])
    assert all(0 <= b["score"] <= 1 for boxes in found for b in boxes)
    # Heats are no probabilities: as the loop does on held-out images, cuts that save the most
    # correction actions (here on the training photos) are moved to 0.5.
    cuts = score_cuts(found[:7], [v["annotations"] for _, v in train], 3, 0.5)
    raw = found
    found = detector.rescore(cuts, 0.5).predict([r for r, _ in cells])
    for before, after in zip(raw, found, strict=True):  # the same boxes, each class's cut at 0.5
        assert sorted((b["class_id"], b["left"], b["top"]) for b in before) == sorted(
            (b["class_id"], b["left"], b["top"]) for b in after
        )
        for c in range(3):
            shown_before = [b["left"] for b in before if b["class_id"] == c and b["score"] >= cuts[c]]
            assert shown_before == [b["left"] for b in after if b["class_id"] == c and b["score"] >= 0.5]
    shown = [[b for b in boxes if b["score"] >= 0.5] for boxes in found]
    fitted = np.mean([image_miou(s, v["annotations"]) for s, (_, v) in zip(shown[:7], train, strict=True)])
    held = np.mean([image_miou(s, v["annotations"]) for s, (_, v) in zip(shown[7:], test, strict=True)])
    # Two unseen photos of ~15 cells: boxes land on cells (an empty answer scores 0). The
    # colour-and-gradient fallback learns far less from seven photos (BENCHMARKS.md).
    floor = {"efficientnet": (0.45, 0.25), "pixels": (0.03, 0.0)}[backbone]
    assert fitted > floor[0] and held >= floor[1], (fitted, held)
    for boxes, (_, value) in zip(found, cells, strict=True):
        size = value["image_size"][0]
        assert all(
            b["left"] + b["width"] <= size["width"] and b["top"] + b["height"] <= size["height"]
            for b in boxes
        )


def test_feature_maps_are_cached_as_npz_and_read_back_the_same(cells, tmp_path: Path) -> None:
    ref = cells[0][0]
    detector_module._MEMORY.clear()  # maps another test computed stay in memory, unwritten here
    maps, size = FeatureMaps("pixels", tmp_path).get(ref)
    assert size == (640, 480) and maps.shape == (32, 32, 23)
    files = list(tmp_path.rglob("*.npz"))
    assert len(files) == 1
    with np.load(files[0], allow_pickle=False) as data:  # no pickles in the cache
        assert data["maps"].dtype == np.float16
    detector_module._MEMORY.clear()  # as in a new process
    again, size_again = FeatureMaps("pixels", tmp_path).get(ref)
    assert size_again == size and np.array_equal(again, maps)


def test_the_maps_kept_in_memory_are_bounded(cells, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A Dask worker predicts partition after partition of a large job: it keeps the most
    # recently used maps, not every image's (the cache files stay).
    monkeypatch.setattr(detector_module, "_MEMORY", {})
    monkeypatch.setattr(detector_module, "_MEMORY_LIMIT", 2)
    maps = FeatureMaps("pixels", tmp_path)
    refs = [ref for ref, _ in cells[:3]]
    first = maps.get(refs[0])[0]
    maps.get(refs[1])
    maps.get(refs[0])  # used again: now the most recent
    maps.get(refs[2])
    assert [slot[2] for slot in detector_module._MEMORY] == [refs[0], refs[2]]
    assert np.array_equal(maps.get(refs[1])[0], FeatureMaps("pixels", tmp_path).get(refs[1])[0])
    assert np.array_equal(maps.get(refs[0])[0], first)
    assert len(list(tmp_path.rglob("*.npz"))) == 3


@pytest.mark.parametrize("flip", [1, 2, 3])
def test_flipped_boxes_teach_the_flipped_heat(cells, flip: int) -> None:
    # The flipped views train the head: their boxes must land where the flipped image has them.
    boxes = cells[0][1]["annotations"]
    heat, _, owner = _targets(boxes, (640, 480), 32, 3)
    flipped_heat, _, flipped_owner = _targets(_flip_boxes(boxes, (640, 480), flip), (640, 480), 32, 3)
    assert np.allclose(flipped_heat.reshape(32, 32, 3), _flip(heat.reshape(32, 32, 3), flip))
    # The cells that learn each box's geometry too, but for cells exactly on a box's quarter line,
    # which rounding puts on either side.
    assert (flipped_owner.reshape(32, 32) != _flip(owner.reshape(32, 32), flip)).mean() < 0.01
    assert not np.allclose(flipped_heat, heat)
    assert _flip_boxes(_flip_boxes(boxes, (640, 480), flip), (640, 480), flip) == boxes


def test_the_head_trains_on_flipped_maps_of_each_image(cells, tmp_path: Path) -> None:
    detector_module._MEMORY.clear()
    ref = cells[0][0]
    BoxDetector("pixels", cache_dir=str(tmp_path), refine=False).fit([ref], [cells[0][1]])
    assert len(list(tmp_path.rglob("*.npz"))) == 4  # the image as it is, mirrored, upside down, both
    maps = FeatureMaps("pixels", tmp_path)
    plain = maps.get(ref)[0]
    for flip in (1, 2, 3):
        # The cells' mean colours (the first three channels) are the plain map's, flipped.
        assert np.allclose(maps.get(ref, flip)[0][..., :3], _flip(plain, flip)[..., :3], atol=2e-3)
    detector_module._MEMORY.clear()
    BoxDetector("pixels", cache_dir=str(tmp_path / "plain"), refine=False, flips=1).fit([ref], [cells[0][1]])
    assert len(list((tmp_path / "plain").rglob("*.npz"))) == 1


def test_the_cells_are_standardized_in_place_as_scikit_learn_would() -> None:
    from sklearn.preprocessing import StandardScaler

    rng = np.random.default_rng(0)
    parts = [rng.normal(5.0, 3.0, (n, 4)).astype(np.float32) for n in (7, 20_000, 3)]
    for part in parts:
        part[:, 2] = 1.5  # a constant column keeps scale 1, as in StandardScaler
    expected = StandardScaler().fit_transform(np.concatenate(parts).astype(np.float64))
    X = _stack(parts)
    assert parts == [] and X.dtype == np.float32
    mean, scale = _standardize(X, chunk=1000)
    assert np.allclose(X, expected, atol=1e-5)
    assert scale[2] == 1.0 and np.isclose(mean[2], 1.5)


def test_an_unreadable_image_gets_no_boxes(tmp_path: Path, cells) -> None:
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"not an image")
    detector = BoxDetector("pixels").fit([r for r, _ in cells[:5]], [v for _, v in cells[:5]])
    assert detector.predict([str(bad)]) == [[]]
    with pytest.raises(RuntimeError, match="not fitted"):
        BoxDetector("pixels").predict([cells[0][0]])


@pytest.mark.parametrize("flips", [0, 3, 5])
def test_flips_other_than_one_two_or_four_are_refused(flips: int) -> None:
    with pytest.raises(ValueError, match=f"1, 2 or 4 views of each image, got {flips}"):
        BoxDetector(flips=flips).fit([], [])
