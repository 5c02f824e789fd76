"""File names an export builds from data stay inside the export (issue 17, finding 2): imported
answer times are ISO 8601 or refused, and staged paths cannot climb out."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from blocking import finishes
from PIL import Image

import nblabel as nl
from nblabel.formats import WorkerResponseError
from nblabel.store import Annotation

CLIMB = "x/../../../../imgs/a"


def seg_job(tmp_path: Path) -> tuple[nl.Job, Path]:
    image = tmp_path / "imgs" / "a.png"
    image.parent.mkdir()
    Image.new("RGB", (4, 3), (1, 2, 3)).save(image)
    df = pd.DataFrame({"source-ref": [str(image)]})
    return nl.Job("seg", df, nl.SemanticSegmentation(["road"]), store=tmp_path / "s.sqlite"), image


def test_an_imported_answer_time_that_is_not_iso_8601_is_refused_naming_the_file(tmp_path: Path) -> None:
    job, _ = seg_job(tmp_path)
    first = job.label(0, np.ones((3, 4), np.uint8))
    job.export(tmp_path / "out")
    (response,) = (tmp_path / "out" / "seg" / "annotations" / "worker-response").rglob("*.json")
    doc = json.loads(response.read_text())
    doc["answers"][0]["submissionTime"] = CLIMB
    response.write_text(json.dumps(doc))
    fresh = nl.Job("again", job.data, nl.SemanticSegmentation(["road"]), store=tmp_path / "again.sqlite")
    with pytest.raises(
        WorkerResponseError, match=rf"{response.name}, answer 0: submissionTime '{CLIMB}' is not"
    ):
        fresh.import_answers(tmp_path / "out" / "seg")
    assert fresh.progress.labeled == 0 and first.created


def test_an_export_never_writes_outside_its_folder_whatever_the_stored_date(tmp_path: Path) -> None:
    job, image = seg_job(tmp_path)
    before = image.read_bytes()
    value = job.log.value(job.keys[0], np.ones((3, 4), np.uint8))
    job.store.append([Annotation(job.keys[0], job.attribute, "eve", "human", value, created=CLIMB)])
    with pytest.raises(ValueError, match="would land outside the export folder"):
        job.export(tmp_path / "out", overwrite=True)
    assert image.read_bytes() == before
    assert os.listdir(tmp_path / "imgs") == ["a.png"] and not (tmp_path / "out").exists()


def test_worker_response_files_are_regular_files_inside_the_folder(tmp_path: Path) -> None:
    job, _ = seg_job(tmp_path)
    folder = tmp_path / "responses" / "iteration-1" / "0"
    folder.mkdir(parents=True)
    os.mkfifo(folder / "a.json")
    with pytest.raises(WorkerResponseError, match=r"a\.json: .*is a FIFO, not a regular file"):
        finishes(lambda: job.import_answers(tmp_path / "responses"))
    (folder / "a.json").unlink()
    (folder / "a.json").symlink_to(tmp_path / "imgs" / "a.png")
    with pytest.raises(WorkerResponseError, match="is outside the worker-response folder"):
        job.import_answers(tmp_path / "responses")
