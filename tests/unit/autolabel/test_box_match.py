"""GT's mIoU of one image: boxes paired by IoU (Hungarian), within a class, unmatched count 0."""

from __future__ import annotations

import numpy as np
import pytest

from nblabel.autolabel.box_loop import _place_cuts, score_cuts
from nblabel.autolabel.box_match import correction_actions, image_miou, match_boxes, rescale


def box(c: int, left: float, top: float, width: float, height: float) -> dict:
    return {"class_id": c, "left": left, "top": top, "width": width, "height": height}


def test_identical_boxes_score_one_and_two_empty_sides_score_one() -> None:
    boxes = [box(0, 0, 0, 10, 10), box(1, 20, 20, 5, 5)]
    assert image_miou(boxes, boxes) == 1.0
    assert image_miou([], []) == 1.0


def test_unmatched_boxes_on_either_side_count_zero() -> None:
    gold = [box(0, 0, 0, 10, 10), box(0, 50, 50, 10, 10)]
    assert image_miou(gold[:1], gold) == pytest.approx(0.5)
    assert image_miou(gold, gold[:1]) == pytest.approx(0.5)
    assert image_miou([], gold) == 0.0


def test_boxes_of_another_class_never_match() -> None:
    assert image_miou([box(1, 0, 0, 10, 10)], [box(0, 0, 0, 10, 10)]) == 0.0


def test_the_pairing_maximises_the_summed_iou_not_each_greedy_choice() -> None:
    # Prediction 0 overlaps both gold boxes, best with gold 0; prediction 1 overlaps only gold 0.
    # Greedy (prediction 0 takes gold 0) leaves prediction 1 unmatched; Hungarian swaps them.
    gold = [box(0, 0, 0, 10, 10), box(0, 8, 0, 10, 10)]
    predicted = [box(0, 4, 0, 10, 10), box(0, 0, 0, 9, 10)]
    pairs = {(p, g) for p, g, _ in match_boxes(predicted, gold)}
    assert pairs == {(0, 1), (1, 0)}
    half = 6 * 10 / (10 * 10 + 10 * 10 - 6 * 10)
    assert image_miou(predicted, gold) == pytest.approx((half + 0.9) / 2)


def test_score_cuts_hide_the_boxes_that_cost_the_person_more_than_they_save() -> None:
    gold = [box(0, 0, 0, 10, 10), box(1, 100, 100, 10, 10)]
    found = [
        {**box(0, 0, 0, 10, 10), "score": 0.9},  # right: accepted
        {
            **box(0, 300, 300, 10, 10),
            "score": 0.3,
        },  # nothing there: a delete, so class 0's cut rises above 0.3
        {**box(1, 100, 100, 10, 10), "score": 0.2},  # right though low: class 1's cut falls to show it
    ]
    cuts = score_cuts([found] * 3, [gold] * 3, 2, 0.5)
    assert 0.3 < cuts[0] <= 0.9 and cuts[1] <= 0.2
    assert correction_actions([b for b in found if b["score"] >= cuts[b["class_id"]]], gold) == 1
    # Moved to 0.5, each cut keeps the order of its class's scores and 0 and 1 stay put.
    moved = rescale(np.array([0.0, cuts[1], 0.2, 0.9, 1.0]), np.full(5, cuts[1]), 0.5)
    assert moved[1] == 0.5 and moved[0] == 0.0 and moved[-1] == 1.0 and np.all(np.diff(moved) >= 0)


def test_each_held_out_image_is_measured_with_cuts_chosen_on_the_others() -> None:
    # Image A's low-scored box is right, image B's is wrong. Cuts chosen on A would show B's wrong
    # box, and cuts chosen on B would hide A's right one: that is what the bound must see.
    right = {**box(0, 0, 0, 10, 10), "score": 0.3}
    wrong = {**box(0, 300, 300, 10, 10), "score": 0.3}
    held = {0: [dict(right)], 1: [dict(wrong)]}
    human = {0: {"annotations": [box(0, 0, 0, 10, 10)]}, 1: {"annotations": []}}
    _place_cuts(held, human, 1, 0.5, folds=2, seed=0)
    assert held[0][0]["score"] < 0.5 <= held[1][0]["score"]
    # Fitted on both images, the cuts would have placed A's box as shown and B's as hidden.
    alone = {
        p: score_cuts([[dict(b) for b in held0]], [human[p]["annotations"]], 1, 0.5)[0]
        for p, held0 in {0: [right], 1: [wrong]}.items()
    }
    assert alone[0] <= 0.3 < alone[1]
