"""Proof against a real Ground Truth job: 302 bird photos, 1,510 answers by 97 workers.

The worker responses are GT's own files (shipped in ``nblabel.datasets``); GT's consolidated
output manifest is ``tests/data/gt-bird-job/output.manifest`` in GT's exact bytes.
"""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest

from nblabel import ImageClassification, Job, read_manifest
from nblabel.datasets import gt_bird_labels, gt_bird_responses, gt_birds
from nblabel.formats import read_worker_responses

GT_OUTPUT = Path(__file__).resolve().parents[2] / "data" / "gt-bird-job" / "output.manifest"
GT_ATTR = "birds-open-images-clone"
TIES = [139, 165, 183]  # the items whose answers split 2-2-1


@pytest.fixture(scope="module")
def gt() -> pd.DataFrame:
    frame = read_manifest(GT_OUTPUT)
    frame["gold"] = gt_birds()["gold"]
    return frame


@pytest.fixture(scope="module")
def answers() -> pd.DataFrame:
    return read_worker_responses(gt_bird_responses(), ImageClassification(gt_bird_labels()))


def bird_job(gt: pd.DataFrame, name: str = "birds") -> Job:
    # GT's output manifest is a valid input manifest; its label columns pass through.
    return Job(name, gt, ImageClassification(gt_bird_labels()))


def votes(answers: pd.DataFrame, item: int) -> list[tuple[str, int]]:
    return Counter(answers.loc[answers["dataset_object_id"] == item, "value"]).most_common()


def test_the_data_is_what_the_issue_says(gt: pd.DataFrame, answers: pd.DataFrame) -> None:
    assert len(gt) == 302
    assert len(answers) == 1510
    assert answers["worker"].nunique() == 97
    assert answers.groupby("dataset_object_id").size().eq(5).all()
    assert set(answers["value"]) == set(gt_bird_labels())
    clear = [
        i
        for i in range(302)
        if len(votes(answers, i)) == 1 or votes(answers, i)[0][1] > votes(answers, i)[1][1]
    ]
    assert len(clear) == 299
    assert sorted(set(range(302)) - set(clear)) == TIES
    gt_names = gt[f"{GT_ATTR}-metadata"].map(lambda m: m["class-name"])
    assert (gt_names == gt["gold"]).sum() == 272  # GT's accuracy against the Open Images labels
    assert list(gt_birds()["gt-label"]) == list(gt_names)
    # GT's labels are indices into the class list, in the order gt_bird_labels() gives.
    assert all(
        gt_bird_labels()[row[GT_ATTR]] == row[f"{GT_ATTR}-metadata"]["class-name"] for _, row in gt.iterrows()
    )


def test_dawid_skene_matches_gt_and_is_at_least_as_accurate(gt: pd.DataFrame, answers: pd.DataFrame) -> None:
    job = bird_job(gt)
    assert job.import_answers(gt_bird_responses()) == 1510
    result = job.consolidate()
    assert result.method == "dawid-skene"
    assert len(result.items) == 302
    # A cell ending in job.consolidate() shows one line, not every item (~40 KB).
    assert repr(result).startswith("Consolidation(method='dawid-skene', 302 items from 1510 answers by 97 ")
    assert len(repr(result)) < 200
    out = job.to_dataframe()
    ours = out["birds-metadata"].map(lambda m: m["class-name"])
    theirs = out[f"{GT_ATTR}-metadata"].map(lambda m: m["class-name"])
    clear = [i for i in range(302) if i not in TIES]
    assert (ours[clear] == theirs[clear]).all(), "a different label than GT on an item with a clear plurality"
    assert (ours[clear] == [votes(answers, i)[0][0] for i in clear]).all()
    ours_right = int((ours == out["gold"]).sum())
    gt_right = int((theirs == out["gold"]).sum())
    assert ours_right >= gt_right == 272
    # The ties: Dawid-Skene weighs the workers, GT's production run did not agree on one of them.
    assert (ours[TIES] == out["gold"][TIES]).sum() >= (theirs[TIES] == out["gold"][TIES]).sum()


def test_gt_confidence_fields_in_gt_shape(gt: pd.DataFrame) -> None:
    job = bird_job(gt)
    job.import_answers(gt_bird_responses())
    job.consolidate()
    out = job.to_dataframe()
    for (_, ours), (_, theirs) in zip(out.iterrows(), gt.iterrows(), strict=True):
        mine, gts = ours["birds-metadata"], theirs[f"{GT_ATTR}-metadata"]
        assert list(mine) == list(gts)  # same keys in GT's order
        assert isinstance(ours["birds"], int) and gt_bird_labels()[ours["birds"]] == mine["class-name"]
        assert mine["type"] == gts["type"] == "groundtruth/image-classification"
        assert mine["human-annotated"] == "yes"
        assert mine["job-name"] == "labeling-job/birds"
        conf = mine["confidence"]
        assert isinstance(conf, float) and 0 < conf <= 0.95 and round(conf, 2) == conf
    confidences = out["birds-metadata"].map(lambda m: m["confidence"])
    gt_confidences = gt[f"{GT_ATTR}-metadata"].map(lambda m: m["confidence"])
    # Like GT's: nearly every item at the 0.95 cap.
    assert (confidences == 0.95).sum() >= 295 and (gt_confidences == 0.95).sum() == 297


def test_majority_vote_option(gt: pd.DataFrame, answers: pd.DataFrame) -> None:
    job = bird_job(gt)
    job.import_answers(gt_bird_responses())
    result = job.consolidate("majority")
    assert result.method == "majority"
    for i in range(302):
        top = votes(answers, i)
        c = result.items[job.keys[i]]
        assert c.confidence == top[0][1] / 5
        if i not in TIES:
            assert c.value == top[0][0]
    out = job.to_dataframe()
    assert out.loc[0, "birds-metadata"]["confidence"] == round(votes(answers, 0)[0][1] / 5, 2)


def test_export_reads_back_with_the_same_importer(
    gt: pd.DataFrame, answers: pd.DataFrame, tmp_path: Path
) -> None:
    job = bird_job(gt)
    job.import_answers(gt_bird_responses())
    job.consolidate()
    result = job.export(tmp_path / "out")
    assert result.worker_responses == 302
    back = read_worker_responses(tmp_path / "out" / "birds", job.task)
    key = ["dataset_object_id", "worker", "value", "submitted"]
    # GT writes whole seconds ("…:15Z"), nblabel milliseconds ("…:15.000Z"): the same moment.
    normalize = lambda s: pd.to_datetime(s, utc=True)  # noqa: E731
    mine = (
        back[key].assign(submitted=normalize(back["submitted"])).sort_values(key[:2]).reset_index(drop=True)
    )
    theirs = (
        answers[key]
        .assign(submitted=normalize(answers["submitted"]))
        .sort_values(key[:2])
        .reset_index(drop=True)
    )
    pd.testing.assert_frame_equal(mine, theirs)
    # A fresh job importing the export gets the same answers and the same consolidated labels.
    again = bird_job(gt, name="again")
    assert again.import_answers(tmp_path / "out" / "birds") == 1510
    again.consolidate()
    first = job.to_dataframe()["birds-metadata"].map(lambda m: (m["class-name"], m["confidence"]))
    second = again.to_dataframe()["again-metadata"].map(lambda m: (m["class-name"], m["confidence"]))
    assert list(first) == list(second)
    # The consolidated labels are in the export's manifest and consolidation response.
    manifest = read_manifest(result.manifest)
    assert list(manifest["birds"]) == list(job.to_dataframe()["birds"])
    response = next((tmp_path / "out" / "birds" / "annotations" / "consolidated-annotation").rglob("*.json"))
    entries = json.loads(response.read_text())
    assert len(entries) == 302
    assert entries[0]["consolidatedAnnotation"]["content"]["birds-metadata"]["confidence"] == 0.95


def test_import_is_idempotent_and_keeps_worker_times(gt: pd.DataFrame, tmp_path: Path) -> None:
    copy = tmp_path / "annotations" / "worker-response"
    shutil.copytree(gt_bird_responses(), copy)
    job = bird_job(gt)
    assert job.import_answers(tmp_path) == 1510  # an export's folder: found under annotations/
    assert job.import_answers(copy) == 0
    first = job.answers(95)[0]
    assert (first.annotator, first.value, first.kind) == (
        "public.us-east-1.PHMFOWIIICWDF3ZS5HORERJV6Y",
        "Falcon",
        "human",
    )
    assert first.created == "2019-04-18T16:11:15.000000"
    with pytest.raises(FileNotFoundError, match="no iteration-<n>/ folders"):
        job.import_answers(tmp_path / "annotations" / "worker-response" / "iteration-1")
