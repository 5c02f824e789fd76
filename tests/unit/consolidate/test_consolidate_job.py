"""Job.consolidate, decide, agreement, disagreements and import_answers on a real store."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, ClassVar

import pandas as pd
import pytest

from nblabel import BoundingBox, ImageClassification, Job, NamedEntities, TextClassification
from nblabel.consolidate import consolidate_answers
from nblabel.formats import WorkerResponseError, read_worker_responses
from nblabel.tasks.base import Task

LABELS = ["cat", "dog", "bird"]


def images(n: int = 4) -> pd.DataFrame:
    return pd.DataFrame({"source-ref": [f"s3://bucket/img{i}.jpg" for i in range(n)]})


def crowd_job(n: int = 4) -> Job:
    return Job("pets", images(n), ImageClassification(LABELS))


def answer(job: Job, rows: dict[int, list[tuple[str, Any]]]) -> None:
    for row, pairs in rows.items():
        for who, value in pairs:
            job.label(row, value, annotator=who)


def test_the_consolidated_label_is_what_the_job_writes() -> None:
    job = crowd_job()
    answer(job, {0: [("ana", "cat"), ("bo", "cat"), ("cy", "dog")], 1: [("ana", "dog")]})
    assert job.current(0).annotator == "cy"  # before: the latest answer
    result = job.consolidate("majority")
    current = job.current(0)
    assert (current.kind, current.annotator, current.value) == ("consolidated", "consolidate:majority", "cat")
    assert current.confidence == pytest.approx(2 / 3)
    assert job.current(1).kind == "human"  # one answer: not consolidated (min_answers=2)
    assert result.items[job.keys[1]].answers == 1  # consolidated, but not appended
    out = job.to_dataframe()
    assert out.loc[0, "pets"] == 0
    assert out.loc[0, "pets-metadata"]["confidence"] == 0.67
    assert out.loc[0, "pets-metadata"]["human-annotated"] == "yes"
    assert out.loc[1, "pets-metadata"]["confidence"] == 0.0  # a single worker, as GT writes it
    # A later answer by one person does not replace the consolidated label; the next run uses it.
    job.label(0, "dog", annotator="dee")
    assert job.current(0).value == "cat"
    job.label(0, "dog", annotator="eve")
    job.consolidate("majority")
    assert (job.current(0).value, job.current(0).confidence) == ("dog", 0.6)


def test_runs_append_only_what_changed_and_respect_min_answers(tmp_path: Path) -> None:
    job = crowd_job()
    answer(job, {0: [("ana", "cat"), ("bo", "cat")], 1: [("ana", "dog"), ("bo", "dog"), ("cy", "dog")]})
    job.consolidate()
    count = lambda: sum(a.kind == "consolidated" for a in job.store.annotations("pets"))  # noqa: E731
    assert count() == 2
    job.consolidate()
    assert count() == 2  # nothing changed: nothing appended
    job.consolidate(min_answers=3)
    assert count() == 2
    fresh = Job("fresh", images(4), ImageClassification(LABELS))
    answer(fresh, {0: [("ana", "cat"), ("bo", "cat")]})
    fresh.consolidate(min_answers=3)
    assert fresh.current(0).kind == "human"
    with pytest.raises(ValueError, match="min_answers must be at least 1"):
        job.consolidate(min_answers=0)
    with pytest.raises(ValueError, match="method must be None"):
        job.consolidate("mean")


def test_a_persons_decision_stands_until_undone() -> None:
    job = crowd_job()
    answer(job, {0: [("ana", "cat"), ("bo", "dog")]})
    job.consolidate()
    job.decide(0, "bird", annotator="lead")
    assert (job.current(0).kind, job.current(0).annotator, job.current(0).value) == (
        "consolidated",
        "lead",
        "bird",
    )
    job.consolidate()
    assert job.current(0).value == "bird"
    with pytest.raises(ValueError, match="'emu' is not one of the labels"):
        job.decide(0, "emu")
    assert job.undo("lead").value == "bird"
    assert job.current(0).annotator.startswith("consolidate:")


def test_multilabel_confidence_map_survives_a_new_kernel() -> None:
    job = Job("tags", images(2), ImageClassification(LABELS, multi_label=True))
    answer(job, {0: [("ana", ["cat", "dog"]), ("bo", ["cat"]), ("cy", ["cat", "dog"])]})
    job.consolidate("majority")
    again = Job("tags", images(2), ImageClassification(LABELS, multi_label=True))
    label, meta = again.to_dataframe().loc[0, ["tags", "tags-metadata"]]
    assert label == [0, 1]
    assert meta["class-map"] == {"0": "cat", "1": "dog"}
    assert meta["confidence-map"] == {"0": 1.0, "1": 0.67}
    assert "confidence" not in meta
    job.consolidate()  # Dawid-Skene replaces it; its parts follow the new annotation
    meta = again.to_dataframe().loc[0, "tags-metadata"]
    assert set(meta["confidence-map"]) == {"0", "1"} and all(
        0.5 <= v <= 0.95 for v in meta["confidence-map"].values()
    )


def test_agreement_and_disagreements() -> None:
    job = crowd_job(5)
    answer(
        job,
        {
            0: [("ana", "cat"), ("bo", "cat"), ("cy", "cat")],
            1: [("ana", "cat"), ("bo", "dog"), ("cy", "bird")],
            2: [("ana", "dog"), ("bo", "dog"), ("cy", "cat")],
            3: [("ana", "bird")],
        },
    )
    before = job.agreement()
    assert set(before["measure"]) == {"fleiss_kappa", "krippendorff_alpha", "cohen_kappa"}
    job.consolidate()
    table = job.agreement()
    assert {"agreement_with_consolidated", "quality"} <= set(table["measure"])
    assert len(table[table["measure"] == "cohen_kappa"]) == 3
    worst = job.disagreements()
    assert list(worst.columns) == ["position", "key", "answers", "share", "label", "confidence"]
    assert list(worst["position"]) == [1, 2]  # unanimous and single-answer items are not disagreements
    assert worst.loc[0, "answers"] == {"ana": "cat", "bo": "dog", "cy": "bird"}
    assert worst.loc[0, "share"] == pytest.approx(1 / 3)
    assert worst.loc[1, "label"] == "dog"
    assert len(job.disagreements(1)) == 1


def write_response(root: Path, object_id: int, answers: Any, name: str = "2024-01-01_00:00:00.json") -> Path:
    folder = root / "iteration-1" / str(object_id)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(answers if isinstance(answers, str) else json.dumps({"answers": answers}))
    return path


def gt_answer(worker: str, label: str, element: str = "crowd-classifier") -> dict:
    return {
        "answerContent": {element: {"label": label}},
        "submissionTime": "2024-01-01T00:00:00Z",
        "workerId": worker,
    }


def test_import_refuses_bad_files_and_stores_nothing(tmp_path: Path) -> None:
    job = Job("notes", pd.DataFrame({"source": ["a", "b"]}), TextClassification(["yes", "no"]))
    root = tmp_path / "worker-response"
    write_response(root, 0, [gt_answer("w1", "yes")])
    bad = write_response(root, 1, [gt_answer("w1", "maybe")])
    with pytest.raises(WorkerResponseError, match=r"iteration-1/1/.*'maybe' is not one of the labels"):
        job.import_answers(tmp_path)
    assert job.progress.labeled == 0
    bad.write_text("{not json")
    with pytest.raises(WorkerResponseError, match=f"{bad}: not a readable JSON file"):
        job.import_answers(root)
    write_response(root, 1, [gt_answer("w1", "no")])
    write_response(root, 5, [gt_answer("w2", "no")])
    with pytest.raises(WorkerResponseError, match="datasetObjectId 5 is outside the job's 2 items"):
        job.import_answers(root)
    (root / "iteration-1" / "5" / "2024-01-01_00:00:00.json").write_text(
        json.dumps({"answers": [{"answerContent": {"x": {"y": 1}}, "submissionTime": "t", "workerId": "w"}]})
    )
    with pytest.raises(WorkerResponseError, match="answer 0: expected one answer with 'label'"):
        job.import_answers(root)
    (root / "iteration-1" / "5" / "2024-01-01_00:00:00.json").unlink()
    assert job.import_answers(root) == 2
    assert [(a.annotator, a.value) for a in job.answers(1)] == [("w1", "no")]


def test_import_reads_multilabel_boxes_and_entities(tmp_path: Path) -> None:
    def answer(content: dict) -> dict:
        return {"answerContent": content, "submissionTime": "2024-01-01T00:00:00Z", "workerId": "w"}

    tags = {"tags": {"labels": ["b", "a"]}}
    boxes = {
        "boundingBox": {
            "boundingBoxes": [{"height": 20, "label": "Bird", "left": 5, "top": 6, "width": 10}],
            "inputImageProperties": {"height": 100, "width": 200},
        }
    }
    entities = {
        "crowd-entity-annotation": {
            "entities": [
                {"endOffset": 9, "label": "V", "startOffset": 5},
                {"endOffset": 4, "label": "N", "startOffset": 0},
            ]
        }
    }
    for name, content in (("tags", tags), ("boxes", boxes), ("entities", entities)):
        write_response(tmp_path / name, 0, [answer(content)])

    def value(name: str, task: Task | None) -> Any:
        (read,) = read_worker_responses(tmp_path / name, task)["value"]
        return read

    # Each task reads its own answer, whatever name the template gave its element.
    assert value("tags", TextClassification(["a", "b"], multi_label=True)) == ["b", "a"]
    assert value("boxes", BoundingBox(["Cat", "Bird"])) == {
        "image_size": [{"width": 200, "height": 100, "depth": 3}],
        "annotations": [{"class_id": 1, "left": 5, "top": 6, "width": 10, "height": 20}],
    }
    assert value("entities", NamedEntities(["N", "V"])) == [
        {"label": "N", "startOffset": 0, "endOffset": 4},
        {"label": "V", "startOffset": 5, "endOffset": 9},
    ]
    assert value("boxes", None) == boxes  # without a task: the answerContent as GT wrote it
    with pytest.raises(WorkerResponseError, match="answer 0: expected one answer with 'label'"):
        value("boxes", TextClassification(["Cat", "Bird"]))
    with pytest.raises(WorkerResponseError, match=r"box label 'Bird' is not one of \['Cat'\]"):
        value("boxes", BoundingBox(["Cat"]))


class _Boxes(Task):
    """A stand-in with GT's box type string: consolidate_answers picks the method by it."""

    media: ClassVar[str] = "image"
    family: ClassVar[str] = "boxes"
    gt_type = "groundtruth/object-detection"


class _Spans(_Boxes):
    gt_type = "groundtruth/text-span"


class _Other(_Boxes):
    gt_type = "groundtruth/video-object-tracking"


def test_the_method_follows_the_task_type() -> None:
    size = [{"width": 10, "height": 10, "depth": 3}]
    box = {"image_size": size, "annotations": [{"class_id": 0, "left": 1, "top": 1, "width": 5, "height": 5}]}
    assert consolidate_answers(_Boxes(), {"x": [("a", box), ("b", box)]}).method == "iou"
    assert consolidate_answers(_Spans(), {"x": [("a", []), ("b", [])]}).method == "spans"
    with pytest.raises(ValueError, match="is for classification"):
        consolidate_answers(_Boxes(), {}, "majority")
    with pytest.raises(TypeError, match="not supported"):
        consolidate_answers(_Other(), {})
    assert consolidate_answers(ImageClassification(LABELS), {"x": [("a", "cat")]}).method == "dawid-skene"
