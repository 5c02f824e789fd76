"""Boxes (IoU matching and averaging), entity spans (clustering), masks (pixel vote)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nblabel.consolidate import consolidate_boxes, consolidate_spans, iou, jaccard, pixel_vote, vote_masks

SIZE = [{"width": 640, "height": 480, "depth": 3}]


def box(class_id: int, left: int, top: int, width: int, height: int) -> dict:
    return {"class_id": class_id, "left": left, "top": top, "width": width, "height": height}


def boxes(*annotations: dict) -> dict:
    return {"image_size": SIZE, "annotations": list(annotations)}


def test_iou() -> None:
    assert iou(box(0, 0, 0, 10, 10), box(0, 0, 0, 10, 10)) == 1.0
    assert iou(box(0, 0, 0, 10, 10), box(0, 5, 0, 10, 10)) == pytest.approx(50 / 150)
    assert iou(box(0, 0, 0, 10, 10), box(0, 20, 20, 5, 5)) == 0.0


def test_boxes_are_matched_averaged_and_outliers_dropped() -> None:
    answers = {
        "img": [
            ("ana", boxes(box(0, 100, 100, 50, 50), box(1, 300, 200, 40, 80))),
            ("bo", boxes(box(0, 104, 98, 50, 54), box(1, 302, 204, 40, 80), box(1, 10, 10, 20, 20))),
            ("cy", boxes(box(0, 102, 102, 50, 50))),  # missed the second object
        ]
    }
    result = consolidate_boxes(answers)
    c = result.items["img"]
    assert c.value["image_size"] == SIZE
    assert c.value["annotations"] == [box(0, 102, 100, 50, 51), box(1, 301, 202, 40, 80)]
    first, second = c.parts
    assert 0.9 < first <= 1.0  # all three drew it, closely
    assert second == pytest.approx(
        2
        / 3
        * np.mean(
            [
                iou(box(1, 300, 200, 40, 80), c.value["annotations"][1]),
                iou(box(1, 302, 204, 40, 80), c.value["annotations"][1]),
            ]
        )
    )
    assert c.confidence == pytest.approx((first + second) / 2)
    # ana found both boxes and drew nothing else; bo drew a spurious one; cy missed one.
    assert result.quality["ana"] == 1.0
    assert result.quality["bo"] == pytest.approx(2 * (2 / 3) * 1 / (2 / 3 + 1))
    assert result.quality["cy"] == pytest.approx(2 * 1 * 0.5 / 1.5)


def test_boxes_of_different_classes_never_merge_and_nothing_is_a_valid_answer() -> None:
    answers = {
        "a": [("ana", boxes(box(0, 10, 10, 30, 30))), ("bo", boxes(box(1, 10, 10, 30, 30)))],
        "b": [("ana", boxes()), ("bo", boxes()), ("cy", boxes(box(0, 1, 1, 5, 5)))],
    }
    result = consolidate_boxes(answers)
    assert result.items["a"].value["annotations"] == []  # one vote each: no majority
    assert result.items["b"].value["annotations"] == []
    assert result.items["b"].confidence == pytest.approx(2 / 3)
    kept = consolidate_boxes(answers, min_votes=1).items["a"].value["annotations"]
    assert sorted(b["class_id"] for b in kept) == [0, 1]


@settings(max_examples=50, deadline=None)
@given(
    st.integers(0, 500),
    st.integers(0, 400),
    st.integers(40, 200),
    st.integers(40, 120),
    st.lists(st.tuples(st.integers(-2, 2), st.integers(-2, 2)), min_size=3, max_size=6),
)
def test_jittered_copies_of_one_box_give_one_box_near_it(left, top, width, height, jitter) -> None:
    truth = box(0, left, top, width, height)
    answers = {
        "x": [
            (f"w{n}", boxes(box(0, left + dx, top + dy, width, height))) for n, (dx, dy) in enumerate(jitter)
        ]
    }
    (only,) = consolidate_boxes(answers).items["x"].value["annotations"]
    # The mean of edges jittered by at most 2 px is within 2 px of the true edges.
    assert abs(only["left"] - left) <= 2 and abs(only["top"] - top) <= 2
    assert abs(only["left"] + only["width"] - left - width) <= 2
    assert abs(only["top"] + only["height"] - top - height) <= 2
    assert iou(only, truth) > 0.8
    assert all(isinstance(only[k], int) for k in ("left", "top", "width", "height"))


def span(label: str, start: int, end: int) -> dict:
    return {"label": label, "startOffset": start, "endOffset": end}


def test_jaccard() -> None:
    assert jaccard(span("A", 0, 10), span("A", 5, 15)) == pytest.approx(5 / 15)
    assert jaccard(span("A", 0, 4), span("A", 4, 8)) == 0.0


def test_spans_cluster_with_mode_or_median_boundaries_and_the_most_given_label() -> None:
    answers = {
        "t": [
            ("ana", [span("PER", 0, 13), span("ORG", 20, 30)]),
            ("bo", [span("PER", 0, 13), span("LOC", 21, 30)]),
            ("cy", [span("PER", 0, 12), span("LOC", 19, 30), span("MISC", 40, 44)]),
            ("di", [span("ORG", 1, 13)]),
        ]
    }
    result = consolidate_spans(answers)
    value = result.items["t"].value
    # start: mode 0 (3 of 4); end: mode 13. Second cluster: starts 20, 21, 19 (no mode) -> median 20;
    # labels ORG 1, LOC 2 -> LOC. "MISC" has one vote of four: dropped.
    assert value == [span("PER", 0, 13), span("LOC", 20, 30)]
    first, second = result.items["t"].parts
    assert first == pytest.approx(4 / 4 * 3 / 4)
    assert second == pytest.approx(3 / 4 * 2 / 3)
    assert result.quality["ana"] == pytest.approx(2 * 0.5 * 0.5 / 1.0)


def test_overlapping_and_nested_entities_are_kept_and_ties_go_to_the_first_label() -> None:
    answers = {
        "t": [
            ("ana", [span("A", 0, 10), span("B", 8, 20), span("C", 0, 16), span("D", 4, 6)]),
            ("bo", [span("A", 0, 10), span("B", 8, 20), span("C", 0, 16), span("D", 4, 6)]),
            ("cy", [span("A", 0, 10)]),
        ]
    }
    # "C" holds "A" and "D"; "B" crosses "A": one annotator's spans never merge into one cluster.
    assert consolidate_spans(answers).items["t"].value == [
        span("A", 0, 10),
        span("C", 0, 16),
        span("D", 4, 6),
        span("B", 8, 20),
    ]
    tie = consolidate_spans({"t": [("ana", [span("X", 0, 5)]), ("bo", [span("Y", 0, 5)])]}, min_votes=2)
    assert tie.items["t"].value == [span("X", 0, 5)]
    assert consolidate_spans({"t": [("ana", []), ("bo", [])]}).items["t"].confidence == 1.0


def test_pixel_vote_recovers_a_mask_from_noisy_copies() -> None:
    rng = np.random.default_rng(0)
    truth = np.zeros((60, 80), dtype=np.uint8)
    truth[10:40, 20:60] = 2
    truth[45:55, 5:25] = 1
    masks = []
    for n in range(5):
        noisy = truth.copy()
        flip = rng.random(truth.shape) < 0.2
        noisy[flip] = rng.integers(0, 3, int(flip.sum()))
        masks.append((f"w{n}", noisy))
    voted, confidence = pixel_vote(masks, smoothing=1)
    single = np.mean([(m == truth).mean() for _, m in masks])
    assert (voted == truth).mean() > 0.98 > single
    assert voted.dtype == np.uint8
    assert 0.7 < confidence < 1.0
    smoothed, _ = pixel_vote(masks)
    assert (smoothed == truth).mean() > 0.98


def test_smoothing_removes_isolated_specks_and_ties_go_to_the_lower_class() -> None:
    base = np.zeros((9, 9), dtype=np.int32)
    speck = base.copy()
    speck[4, 4] = 1
    # Two of three annotators put a speck in one pixel: raw votes keep it, smoothing does not.
    assert pixel_vote([("a", speck), ("b", speck), ("c", base)], smoothing=1)[0][4, 4] == 1
    assert pixel_vote([("a", speck), ("b", speck), ("c", base)], smoothing=3)[0][4, 4] == 0
    tie = pixel_vote([("a", np.full((3, 3), 2)), ("b", np.full((3, 3), 1))], smoothing=1)[0]
    assert (tie == 1).all()


def test_pixel_vote_refuses_bad_masks() -> None:
    with pytest.raises(ValueError, match="the mask of 'b' is a int64 array of shape \\(3, 4\\)"):
        pixel_vote([("a", np.zeros((3, 3), dtype=np.int64)), ("b", np.zeros((3, 4), dtype=np.int64))])
    with pytest.raises(ValueError, match="2-D integers"):
        pixel_vote([("a", np.zeros((3, 3), dtype=float))])
    with pytest.raises(ValueError, match="odd width"):
        pixel_vote([("a", np.zeros((3, 3), dtype=int))], smoothing=2)
    with pytest.raises(ValueError, match="at least one mask"):
        pixel_vote([])


def test_vote_masks_quality() -> None:
    truth = np.zeros((4, 4), dtype=np.uint8)
    wrong = np.ones((4, 4), dtype=np.uint8)
    result = vote_masks({"x": [("a", truth), ("b", truth), ("c", wrong)]}, smoothing=1)
    assert (result.items["x"].value == truth).all()
    assert result.quality == {"a": 1.0, "b": 1.0, "c": 0.0}
    assert result.items["x"].confidence == pytest.approx(2 / 3)
