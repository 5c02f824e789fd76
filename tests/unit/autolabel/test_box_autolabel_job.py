"""Auto-labeling a BoundingBox job through the Job: any detector plugs in, the same bound decides
what is auto-labeled, GT's per-object confidences, and detectors that fail say so."""

from __future__ import annotations

import math
from pathlib import Path
from typing import ClassVar

import pandas as pd
import pytest
from autolabel_helpers import wait_for
from PIL import Image

from benchmarks.boxes_autolabel import load
from nblabel import BoundingBox, ImageClassification, Job
from nblabel.autolabel.box_loop import DetectorError

LABELS = ["cell", "dot"]


def gold_value(i: int) -> dict:
    boxes = [{"class_id": 0, "left": 4 + i % 5, "top": 6, "width": 20, "height": 14}]
    if i % 3 == 0:
        boxes.append({"class_id": 1, "left": 40, "top": 30, "width": 6, "height": 6})
    return {"image_size": [{"width": 64, "height": 48, "depth": 3}], "annotations": boxes}


def images(folder: Path, n: int) -> list[str]:
    folder.mkdir(exist_ok=True)
    refs = []
    for i in range(n):
        path = folder / f"img{i:02d}.png"
        Image.new("RGB", (64, 48), (i * 7 % 255, 80, 120)).save(path)
        refs.append(str(path))
    return refs


class Oracle:
    """A detector without fit that knows every image's boxes, shifted by ``shift`` pixels."""

    def __init__(self, gold: dict[str, dict], shift: int = 0, score: float = 0.9) -> None:
        self.gold, self.shift, self.score = gold, shift, score

    def predict(self, images: list[str]) -> list[list[dict]]:
        return [
            [
                {**b, "left": b["left"] + self.shift, "score": self.score}
                for b in self.gold[ref]["annotations"]
            ]
            for ref in images
        ]


class Counting(Oracle):
    """The oracle with a fit the loop calls; the fits of every copy land in one class-wide list
    (the loop fits deep copies for the cross-fitting folds)."""

    calls: ClassVar[list[int]] = []

    def fit(self, images: list[str], boxes: list[dict]) -> Counting:
        assert all(isinstance(b["annotations"], list) for b in boxes)
        Counting.calls.append(len(images))
        return self


class Raising:
    def predict(self, images: list[str]) -> list:
        raise RuntimeError("CUDA out of memory")


class Malformed:
    def __init__(self, answer) -> None:
        self.answer = answer

    def predict(self, images: list[str]) -> list:
        return self.answer(images)


def box_job(tmp_path: Path, n: int = 30, answered: int = 15, **task) -> tuple[Job, dict[str, dict]]:
    refs = images(tmp_path / "img", n)
    job = Job(
        "cells", pd.DataFrame({"source-ref": refs}), BoundingBox(LABELS, **task), store=tmp_path / "s.db"
    )
    gold = {ref: gold_value(i) for i, ref in enumerate(refs)}
    for i in range(answered):
        job.label(i, gold[refs[i]])
    return job, gold


def test_a_detector_without_fit_is_used_as_is_and_the_bound_lets_it_auto_label(tmp_path: Path) -> None:
    job, gold = box_job(tmp_path)
    report = job.autolabel(detector=Oracle(gold), background=False)
    assert report is not None and report.measure == "mIoU"
    assert (report.held_out, report.auto_labeled, report.estimated_accuracy) == (15, 15, 1.0)
    assert math.isfinite(report.threshold) and report.lower_bound >= 0.6
    assert "15 images auto-labeled" in str(report) and "detector used as is" in str(report)
    out = job.to_dataframe()
    for i in range(15, 30):
        label, meta = out["cells"][i], out["cells-metadata"][i]
        assert label["annotations"] == gold_value(i)["annotations"] and "objects" not in label
        assert meta["human-annotated"] == "no"
        assert meta["objects"] == [{"confidence": 0.9}] * len(label["annotations"])
    assert out["cells-metadata"][0]["human-annotated"] == "yes"
    # Every waiting image showed the detector's boxes with their scores as its proposal.
    value, confidence = job.proposal(20)
    assert value["objects"] == [{"confidence": 0.9}] * len(value["annotations"]) and confidence == 0.9


def test_a_detector_whose_boxes_miss_auto_labels_nothing_and_says_why(tmp_path: Path) -> None:
    job, gold = box_job(tmp_path)
    report = job.autolabel(detector=Oracle(gold, shift=15), background=False)
    assert report.auto_labeled == 0 and math.isinf(report.threshold)
    assert report.estimated_accuracy < 0.6 and report.more_answers_needed is None
    assert "no auto-labels yet: the evidence cannot support mIoU 0.60" in str(report)
    assert job.auto_labeled().empty
    # Proposals still show, for people to fix.
    assert job.proposal(20)[0]["annotations"][0]["left"] == gold_value(20)["annotations"][0]["left"] + 15


def test_too_few_answers_support_no_claim_and_the_report_says_how_many_more(tmp_path: Path) -> None:
    job, gold = box_job(tmp_path, answered=6)
    report = job.autolabel(detector=Oracle(gold), background=False)
    assert report.auto_labeled == 0 and report.held_out == 6
    assert report.more_answers_needed is not None and report.more_answers_needed >= 4
    assert f"about {report.more_answers_needed} more answered images" in str(report)


def test_a_detector_with_fit_is_cross_fitted_then_refitted_on_every_answer(tmp_path: Path) -> None:
    job, gold = box_job(tmp_path, answered=20)
    Counting.calls.clear()
    report = job.autolabel(detector=Counting(gold), background=False, folds=4)
    assert Counting.calls == [15, 15, 15, 15, 20]  # four folds without a quarter each, then all answers
    assert report.held_out == 20 and "cross-fitted" in str(report)


class Rescored(Counting):
    """The counting oracle that also takes the loop's score cuts."""

    cuts: ClassVar[list[tuple[list[float], float]]] = []

    def rescore(self, cuts, at: float) -> Rescored:
        Rescored.cuts.append((list(cuts), at))
        return self


def test_a_trained_detector_with_rescore_gets_the_cuts_placed_on_held_out_images(tmp_path: Path) -> None:
    job, gold = box_job(tmp_path, answered=20)
    Rescored.cuts.clear()
    job.autolabel(detector=Rescored(gold), background=False, folds=4)
    # Once, on the detector refitted on every answer (not on the folds' copies); its boxes are
    # all right, so no cut saves an action over the starting one and both stay at min_score.
    assert Rescored.cuts == [([0.5, 0.5], 0.5)]


def test_pre_detectors_are_calibrated_the_same_way(tmp_path: Path) -> None:
    refs = images(tmp_path / "img", 30)
    gold = {ref: gold_value(i) for i, ref in enumerate(refs)}
    task = BoundingBox(LABELS, pre=lambda ref: gold[ref]["annotations"])
    job = Job("cells", pd.DataFrame({"source-ref": refs}), task, store=tmp_path / "s.db")
    for i in range(15):
        job.label(i, gold[refs[i]])
    report = job.autolabel(background=False)
    assert report.auto_labeled == 15 and report.lower_bound >= 0.6
    with pytest.raises(TypeError, match="cannot send"):  # a notebook lambda cannot reach a worker
        job.autolabel()


def test_a_detector_that_raises_stops_the_round_and_nothing_is_stored(tmp_path: Path) -> None:
    job, _ = box_job(tmp_path)
    with pytest.raises(
        DetectorError, match="the detector's predict failed: RuntimeError: CUDA out of memory"
    ):
        job.autolabel(detector=Raising(), background=False)
    assert job.store.latest_round("cells") is None and job.auto_labeled().empty


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (lambda images: [], "one list of boxes per image: 15 images, got 0"),
        (
            lambda images: [[{"left": 1, "top": 1, "width": 5, "height": 5, "score": 1}]] * len(images),
            "has neither class_id nor label",
        ),
        (
            lambda images: (
                [[{"label": "tree", "left": 1, "top": 1, "width": 5, "height": 5, "score": 1}]] * len(images)
            ),
            "'tree' is not one of",
        ),
        (
            lambda images: (
                [[{"class_id": 0, "left": 1, "top": 1, "width": 5, "height": 5, "score": 3}]] * len(images)
            ),
            "score must be in",
        ),
        (
            lambda images: (
                [[{"class_id": 0, "left": "x", "top": 1, "width": 5, "height": 5, "score": 1}]] * len(images)
            ),
            "left must be a finite number",
        ),
        (lambda images: ["boxes"] * len(images), "expected a list of boxes"),
    ],
)
def test_malformed_boxes_are_refused_with_a_clear_error_and_nothing_auto_labeled(
    tmp_path: Path, answer, message: str
) -> None:
    job, _ = box_job(tmp_path)
    with pytest.raises(DetectorError, match=message):
        job.autolabel(detector=Malformed(answer), background=False)
    assert job.store.latest_round("cells") is None and job.auto_labeled().empty


def test_what_is_not_a_detector_is_refused_before_anything_runs(tmp_path: Path) -> None:
    job, _ = box_job(tmp_path, answered=0)
    with pytest.raises(TypeError, match="predict"):
        job.autolabel(detector=object())
    with pytest.raises(ValueError, match="target_miou"):
        job.autolabel(detector=Raising(), target_miou=1.5)
    for score in (-0.1, 1.5, math.nan):
        with pytest.raises(ValueError, match=r"min_score must be in \[0, 1\]"):
            job.autolabel(detector=Raising(), min_score=score)
    assert job.store.latest_round("cells") is None
    refs = images(tmp_path / "other", 3)
    classify = Job(
        "pets", pd.DataFrame({"source-ref": refs}), ImageClassification(["a", "b"]), store=tmp_path / "p.db"
    )
    with pytest.raises(TypeError, match="detector= is for BoundingBox jobs"):
        classify.autolabel(detector=Raising())


def test_the_answer_keeps_the_persons_actions_and_gt_output_leaves_them_out(tmp_path: Path) -> None:
    job, _ = box_job(tmp_path, answered=0)
    value = {**gold_value(1), "actions": {"accepted": 1, "adjusted": 0, "deleted": 2, "added": 0}}
    job.label(1, value)
    assert job.current(1).value["actions"] == value["actions"]
    assert "actions" not in job.to_dataframe()["cells"][1]
    with pytest.raises(ValueError, match="actions"):
        job.label(2, {**gold_value(2), "actions": {"clicked": 3}})


def test_the_background_worker_trains_the_default_detector_and_caches_npz_maps(tmp_path: Path) -> None:
    cells = load(Path(__file__).parents[2] / "data" / "bccd")
    df = pd.DataFrame({"source-ref": [ref for ref, _ in cells]})
    job = Job("blood", df, BoundingBox(["RBC", "WBC", "Platelets"]), store=tmp_path / "s.db")
    for i in range(6):
        job.label(i, cells[i][1])
    job.autolabel(interval=1)
    try:
        status = wait_for(lambda: (s := job.autolabel_status).get("round") and s, "a box round", timeout=240)
    finally:
        job.stop_autolabel()
    assert "cross-fitting starts at 10 answered images" in status["report"]
    value, confidence = job.proposal(8)
    assert (
        value["annotations"] and len(value["objects"]) == len(value["annotations"]) and 0 <= confidence <= 1
    )
    maps = list(tmp_path.rglob("*.npz"))
    # Every image's feature map, next to the store, and the three flipped views of each of the 6
    # answered images the head trains on.
    assert len(maps) == len(cells) + 3 * 6
    assert sum("-flip" in m.name for m in maps) == 3 * 6


class Parts(Oracle):
    """The oracle, remembering how many images each predict call was given."""

    def __init__(self, gold: dict[str, dict]) -> None:
        super().__init__(gold)
        self.calls: list[int] = []

    def predict(self, images: list[str]) -> list[list[dict]]:
        self.calls.append(len(images))
        return super().predict(images)


def test_a_round_run_now_shows_how_far_the_waiting_images_proposals_got(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from nblabel.autolabel.features import PROGRESS_CHUNK

    monkeypatch.setenv("NBLABEL_PROGRESS", "1")  # the bar even though stderr is no terminal
    waiting = 2 * PROGRESS_CHUNK + 3
    job, gold = box_job(tmp_path, n=15 + waiting)
    detector = Parts(gold)
    report = job.autolabel(detector=detector, background=False)
    assert report is not None and report.auto_labeled == waiting  # parts change nothing of the round
    # The held-out answered images first, then the waiting ones in parts of PROGRESS_CHUNK.
    assert detector.calls == [15, PROGRESS_CHUNK, PROGRESS_CHUNK, 3]
    assert f"auto-labeler boxes for the waiting images: 100% [{'#' * 30}] {waiting}/{waiting} images" in (
        capsys.readouterr().err
    )
