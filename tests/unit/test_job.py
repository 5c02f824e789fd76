"""Jobs: answers, undo, progress, resume, several kernels, item keys and the augmented manifest."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

import pandas as pd
import pytest

from nblabel import ImageClassification, Job, TextClassification, read_manifest, write_manifest
from nblabel.job import Progress, default_annotator
from nblabel.labeling.items import item_keys, source_column
from nblabel.store import Annotation

BIRD_MANIFEST = Path(__file__).resolve().parents[1] / "data" / "gt-bird-job" / "output.manifest"
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}$")
LABELS = ["cat", "dog", "bird"]


def images(n: int = 5, **extra: list) -> pd.DataFrame:
    return pd.DataFrame({"source-ref": [f"s3://bucket/img{i}.jpg" for i in range(n)], **extra})


def texts(n: int = 5) -> pd.DataFrame:
    return pd.DataFrame({"source": [f"text number {i}" for i in range(n)]})


def image_job(n: int = 5, name: str = "pets", **kwargs) -> Job:
    return Job(name, images(n), ImageClassification(LABELS), **kwargs)


def rows(job: Job) -> int:
    with sqlite3.connect(job.store.path) as db:
        return db.execute("SELECT COUNT(*) FROM annotations").fetchone()[0]


def bird_metadata_keys() -> list[str]:
    with BIRD_MANIFEST.open(encoding="utf-8") as fh:
        return list(json.loads(fh.readline())["birds-open-images-clone-metadata"])


# -- construction ---------------------------------------------------------------------------


def test_default_store_and_attribute(tmp_path: Path) -> None:
    job = image_job()
    assert job.attribute == "pets"
    assert job.annotator == "ana"
    assert Path(job.store.path) == Path(".nblabel") / "pets.sqlite"
    assert (tmp_path / ".nblabel" / "pets.sqlite").is_file()
    assert "Job('pets', 5 items" in repr(job)
    assert "labeled=0" in repr(job)


def test_default_annotator_falls_back_to_os_user(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NBLABEL_ANNOTATOR", "  ")
    assert default_annotator() not in ("", "  ")
    monkeypatch.setenv("NBLABEL_ANNOTATOR", " bo ")
    assert default_annotator() == "bo"


@pytest.mark.parametrize(
    "name",
    ["", "-x", ".x", "x-", "a b", "a/b", "a_b", "A.b", "x" * 64, "café", "pets\n", "pets\r\n", 3, None],
)
def test_bad_job_names(name: object) -> None:
    with pytest.raises(ValueError, match="job name"):
        Job(name, images(), ImageClassification(LABELS))  # type: ignore[arg-type]


@pytest.mark.parametrize("name", ["a", "A-b--c-1", "0job", "x" * 63])
def test_good_job_names(name: str) -> None:
    assert Job(name, images(), ImageClassification(LABELS)).name == name


@pytest.mark.parametrize(
    ("attribute", "message"),
    [
        ("source", "reserved"),
        ("source-ref", "reserved"),
        ("pets-metadata", "-metadata"),
        ("$pets", "LabelAttributeName"),
        ("pets\n", "LabelAttributeName"),
        ("../../outside", "LabelAttributeName"),
        ("a_b", "LabelAttributeName"),
        ("x" * 128, "LabelAttributeName"),
        ("", "non-empty"),
    ],
)
def test_bad_attributes(attribute: str, message: str) -> None:
    # the empty string falls back to the name, so check the helper for it
    if attribute == "":
        from nblabel.job import _check_attribute

        with pytest.raises(ValueError, match=message):
            _check_attribute(attribute)
        return
    with pytest.raises(ValueError, match=message):
        Job("pets", images(), ImageClassification(LABELS), attribute=attribute)


def test_job_name_ending_in_metadata_is_refused_as_attribute() -> None:
    with pytest.raises(ValueError, match="cannot end with '-metadata'"):
        Job("pets-metadata", images(), ImageClassification(LABELS))


def test_task_must_be_a_task() -> None:
    with pytest.raises(TypeError, match="task must be an nblabel task"):
        Job("pets", images(), ["cat", "dog"])  # type: ignore[arg-type]


def test_data_must_be_a_frame_or_path() -> None:
    with pytest.raises(TypeError, match="DataFrame or a manifest path"):
        Job("pets", [{"source-ref": "a"}], ImageClassification(LABELS))  # type: ignore[arg-type]


def test_data_as_a_manifest_path(tmp_path: Path) -> None:
    path = tmp_path / "in.manifest"
    path.write_text(
        '{"source-ref":"s3://b/1.jpg","split":"train"}\n{"source-ref":"s3://b/2.jpg"}\n', encoding="utf-8"
    )
    for data in (path, str(path)):
        job = Job("frompath", data, ImageClassification(LABELS))
        assert job.keys == ["s3://b/1.jpg", "s3://b/2.jpg"]
        assert job.progress == Progress(2, 0, 0, 2)
    job.label("s3://b/2.jpg", "dog")
    out = job.to_dataframe()
    assert out.loc[0, "split"] == "train"
    assert out.loc[1, "split"] is pd.NA
    assert out.loc[1, "frompath"] == 1


def test_text_task_on_image_manifest_is_a_clear_error() -> None:
    with pytest.raises(
        ValueError, match=r"TextClassification labels the text in each line's 'source'.*source-ref"
    ):
        Job("t", images(), TextClassification(["pos", "neg"]))


def test_image_task_on_text_manifest_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match=r"ImageClassification labels the image in each line's 'source-ref'"):
        Job("t", texts(), ImageClassification(LABELS))


def test_non_default_index_is_reset() -> None:
    df = images(3)
    df.index = ["x", "y", "z"]
    job = Job("pets", df, ImageClassification(LABELS))
    assert list(job.pending().index) == [0, 1, 2]
    job.label(1, "cat")
    assert list(job.to_dataframe().index) == [0, 1, 2]


# -- items ------------------------------------------------------------------------------------


def test_item_by_position_or_key() -> None:
    job = image_job()
    assert job.key(0) == "s3://bucket/img0.jpg"
    assert job.key("s3://bucket/img3.jpg") == "s3://bucket/img3.jpg"
    assert job.position("s3://bucket/img3.jpg") == 3
    assert job.position(4) == 4
    assert job.items.source(2) == "s3://bucket/img2.jpg"
    assert job.items.has("s3://bucket/img1.jpg")
    assert not job.items.has("s3://bucket/nope.jpg")
    job.label(2, "dog")
    job.label("s3://bucket/img3.jpg", "bird")
    assert job.current(2).value == "dog"
    assert job.current("s3://bucket/img2.jpg").value == "dog"
    assert job.current(3).value == "bird"
    assert job.current(0) is None


@pytest.mark.parametrize(
    ("item", "message"),
    [
        (5, "row 5 is outside the job's 5 items"),
        (-1, "row -1 is outside the job's 5 items"),
        ("s3://bucket/nope.jpg", "no item 's3://bucket/nope.jpg' in job 'pets'"),
        (True, "no item True in job 'pets'"),
        (1.0, "no item 1.0 in job 'pets'"),
    ],
)
def test_unknown_item_is_a_keyerror_naming_it(item: object, message: str) -> None:
    job = image_job()
    for call in (lambda: job.label(item, "cat"), lambda: job.skip(item), lambda: job.current(item)):
        with pytest.raises(KeyError, match=re.escape(message)):
            call()
    assert rows(job) == 0


def test_invalid_value_is_a_valueerror_naming_item_and_labels() -> None:
    job = image_job()
    with pytest.raises(
        ValueError,
        match=r"item s3://bucket/img1\.jpg: 'cow' is not one of the labels \['cat', 'dog', 'bird'\]",
    ):
        job.label(1, "cow")
    with pytest.raises(ValueError, match=r"item s3://bucket/img1\.jpg: .*not one of the labels"):
        job.label(1, ["cat"])
    assert rows(job) == 0
    assert job.progress == Progress(5, 0, 0, 5)


def test_duplicate_sources_get_numbered_keys() -> None:
    df = pd.DataFrame({"source-ref": ["a.jpg", "b.jpg", "a.jpg", "a.jpg"]})
    assert item_keys(df) == ["a.jpg", "b.jpg", "a.jpg#2", "a.jpg#3"]
    job = Job("dups", df, ImageClassification(LABELS))
    job.label(2, "dog")
    assert job.current("a.jpg#2").value == "dog"
    assert job.current(0) is None
    assert job.current(3) is None


def test_a_source_spelled_like_a_repeat_does_not_collide() -> None:
    for refs in (["a.jpg", "a.jpg", "a.jpg#2"], ["a.jpg#2", "a.jpg", "a.jpg"]):
        keys = item_keys(pd.DataFrame({"source-ref": refs}))
        assert len(set(keys)) == 3, keys
        assert item_keys(pd.DataFrame({"source-ref": refs})) == keys  # stable


def test_text_keys_are_stable_digests() -> None:
    df = pd.DataFrame({"source": ["hello", "wörld", "hello"]})
    keys = item_keys(df)
    assert keys[0] == "source:aaf4c61ddcc5e8a2dabe"  # sha1("hello")[:20]
    assert re.fullmatch(r"source:[0-9a-f]{20}", keys[1])
    assert keys[2] == keys[0] + "#2"
    # the key depends on the text, not on the row or the rest of the manifest
    assert item_keys(pd.DataFrame({"source": ["other", "hello"]}))[1] == keys[0]


def test_source_ref_wins_over_source_for_keys() -> None:
    df = pd.DataFrame({"source-ref": ["a.txt", pd.NA], "source": [pd.NA, "inline"]})
    keys = item_keys(df)
    assert keys[0] == "a.txt"
    assert keys[1].startswith("source:")
    assert source_column(df) == "source-ref"
    assert source_column(texts()) == "source"


@pytest.mark.parametrize(
    ("df", "message"),
    [
        (pd.DataFrame({"source-ref": ["a.jpg", pd.NA]}), "row 1: 'source-ref'/'source' is missing"),
        (pd.DataFrame({"source": ["a", None, "c"]}), "row 1: 'source-ref'/'source' is missing"),
        (pd.DataFrame({"source": ["a", "b", float("nan")]}), "row 2: 'source-ref'/'source' is missing"),
        (pd.DataFrame({"source-ref": ["a.jpg", 7]}), "row 1: 'source-ref'/'source' is not a string"),
        (
            pd.DataFrame({"other": ["a"]}),
            r"neither a 'source-ref' nor a 'source' column; its columns are \['other'\]",
        ),
    ],
)
def test_missing_source_names_the_row(df: pd.DataFrame, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        item_keys(df)


def test_missing_source_in_a_job_names_the_row() -> None:
    with pytest.raises(ValueError, match="row 2"):
        Job("pets", pd.DataFrame({"source-ref": ["a", "b", None]}), ImageClassification(LABELS))


# -- answers ----------------------------------------------------------------------------------


def test_label_skip_and_progress() -> None:
    job = image_job()
    a = job.label(0, "cat")
    assert (a.kind, a.value, a.annotator, a.attribute, a.item) == ("human", "cat", "ana", "pets", job.keys[0])
    assert a.seq > 0
    job.skip(1)
    job.label(2, "dog", annotator="bo")
    assert job.current(2).annotator == "bo"
    assert job.progress == Progress(total=5, labeled=2, skipped=1, remaining=2)
    # relabeling replaces the label; a label after a skip un-skips
    job.label(0, "bird")
    job.label(1, "dog")
    assert job.current(0).value == "bird"
    assert job.progress == Progress(5, 3, 0, 2)
    assert rows(job) == 5


def test_skipping_a_labeled_item_keeps_the_label() -> None:
    job = image_job()
    job.label(0, "cat")
    job.skip(0)
    assert job.current(0).value == "cat"
    assert job.progress == Progress(5, 1, 0, 4)


def test_undo_appends_a_retraction_and_takes_back_the_latest() -> None:
    job = image_job()
    first = job.label(0, "cat")
    second = job.skip(1)
    third = job.label(2, "dog")
    assert rows(job) == 3

    assert job.undo() == third
    assert rows(job) == 4  # the log only grows
    assert job.current(2) is None
    assert job.progress == Progress(5, 1, 1, 3)

    assert job.undo() == second
    assert job.progress == Progress(5, 1, 0, 4)
    assert job.undo() == first
    assert job.progress == Progress(5, 0, 0, 5)
    assert rows(job) == 6
    assert job.undo() is None  # nothing left: nothing appended
    assert rows(job) == 6

    with sqlite3.connect(job.store.path) as db:
        kinds = db.execute("SELECT kind, target FROM annotations ORDER BY seq").fetchall()
    assert kinds == [
        ("human", None),
        ("skip", None),
        ("human", None),
        ("retract", third.uid),
        ("retract", second.uid),
        ("retract", first.uid),
    ]


def test_undo_of_a_relabel_restores_the_previous_label() -> None:
    job = image_job()
    job.label(0, "cat")
    job.label(0, "dog")
    job.undo()
    assert job.current(0).value == "cat"
    assert job.progress.labeled == 1


def test_undo_is_per_annotator() -> None:
    job = image_job()
    mine = job.label(0, "cat")
    theirs = job.label(1, "dog", annotator="bo")
    assert job.undo() == mine
    assert job.current(1) == theirs
    assert job.undo("bo") == theirs
    assert job.undo("bo") is None


def test_undo_with_an_explicit_uid_names_the_retraction() -> None:
    job = image_job()
    a = job.label(0, "cat")
    assert job.undo(uid="retraction-1") == a
    assert job.log.has("retraction-1")
    assert job.log.has(a.uid)


def test_retract_a_specific_answer() -> None:
    job = image_job()
    a = job.label(0, "cat")
    b = job.label(1, "dog")
    job.retract(a.uid)
    assert job.current(0) is None
    assert job.current(1) == b
    # undo skips what was already retracted
    assert job.undo() == b
    assert job.undo() is None
    with pytest.raises(KeyError, match="no annotation 'nope' in job 'pets'"):
        job.retract("nope")


def test_retraction_reopens_an_earlier_item_in_pending() -> None:
    job = image_job()
    for i in range(3):
        job.label(i, "cat")
    assert list(job.pending().index) == [3, 4]
    job.undo()  # item 2
    job.retract(job.current(0).uid)
    assert list(job.pending().index) == [0, 2, 3, 4]


def test_label_returns_the_stored_annotation_with_seq() -> None:
    job = image_job()
    a = job.label(0, "cat")
    stored = list(job.store.annotations("pets"))
    assert stored == [a]


@pytest.mark.parametrize("human_first", [True, False])
def test_human_beats_auto_whatever_the_order(human_first: bool) -> None:
    job = image_job()
    auto = Annotation(job.keys[0], "pets", "auto:resnet", "auto", "dog", confidence=0.93)
    if human_first:
        human = job.label(0, "cat")
        job.record(auto)
    else:
        job.record(auto)
        assert job.current(0).kind == "auto"
        human = job.label(0, "cat")
    assert job.current(0) == human
    assert job.progress == Progress(5, 1, 0, 4)
    row = job.to_dataframe().iloc[0]
    assert row["pets"] == 0
    assert row["pets-metadata"]["human-annotated"] == "yes"
    # retracting the human answer falls back to the auto label
    job.retract(human.uid)
    assert job.current(0).kind == "auto"
    assert job.to_dataframe().iloc[0]["pets"] == 1


def test_auto_labels_surround_a_human_one() -> None:
    job = image_job()
    job.record(Annotation(job.keys[0], "pets", "auto:m", "auto", "dog", confidence=0.93))
    human = job.label(0, "bird")
    job.record(Annotation(job.keys[0], "pets", "auto:m", "auto", "cat", confidence=0.99))
    assert job.current(0) == human
    assert job.to_dataframe().iloc[0]["pets-metadata"]["class-name"] == "bird"


def test_auto_labeled_items_leave_the_queue() -> None:
    job = image_job(3)
    job.record(Annotation(job.keys[1], "pets", "auto:m", "auto", "dog", confidence=0.5))
    assert list(job.pending().index) == [0, 2]
    assert job.progress == Progress(3, 1, 0, 2, auto=1)


def test_record_validates_value_item_and_attribute() -> None:
    job = image_job()
    with pytest.raises(ValueError, match="'cow' is not one of the labels"):
        job.record(Annotation(job.keys[0], "pets", "auto:m", "auto", "cow", confidence=0.5))
    with pytest.raises(KeyError, match="no item 'nope' in job 'pets'"):
        job.record(Annotation("nope", "pets", "auto:m", "auto", "cat", confidence=0.5))
    with pytest.raises(ValueError, match="attribute 'other'"):
        job.record(Annotation(job.keys[0], "other", "auto:m", "auto", "cat", confidence=0.5))
    assert rows(job) == 0


def test_record_is_idempotent_on_uid() -> None:
    job = image_job()
    a = Annotation(job.keys[0], "pets", "auto:m", "auto", "cat", confidence=0.5, uid="fixed")
    first = job.record(a)
    again = job.record(a)
    assert first.uid == again.uid == "fixed"
    assert rows(job) == 1
    job.label(1, "dog")
    assert job.label(1, "dog").uid != first.uid
    assert rows(job) == 3


def test_multi_label_values_are_canonical() -> None:
    job = Job("multi", images(4), ImageClassification(LABELS, multi_label=True))
    assert job.label(0, ["bird", "cat", "bird"]).value == ["cat", "bird"]
    assert job.label(1, []).value == []
    assert job.label(2, ("dog",)).value == ["dog"]
    auto = job.record(
        Annotation(job.keys[3], "multi", "auto:m", "auto", ["bird", "dog", "dog"], confidence=0.5)
    )
    assert auto.value == ["dog", "bird"]
    assert [a.value for a in job.store.annotations("multi")] == [
        ["cat", "bird"],
        [],
        ["dog"],
        ["dog", "bird"],
    ]
    assert job.progress == Progress(4, 4, 0, 0, auto=1)  # "none of these" is an answer
    with pytest.raises(ValueError, match="a multi-label answer is a list of class names, got 'cat'"):
        job.label(0, "cat")
    with pytest.raises(ValueError, match=r"'cow' is not one of the labels"):
        job.label(0, ["cat", "cow"])


def test_ledger_handles_merged_logs() -> None:
    from nblabel.store.ledger import Ledger

    answer = Annotation("a", "x", "ana", "human", "cat", uid="ans", seq=5)
    retraction = Annotation("a", "x", "ana", "retract", target="ans", uid="ret", seq=4)
    ledger = Ledger()
    ledger.apply([retraction, answer])  # the retraction arrives first
    assert ledger.label("a") is None
    assert ledger.is_open("a")
    assert ledger.labeled == 0
    assert ledger.last_live("ana") is None
    assert ledger.last_seq == 5
    ledger.apply([answer, Annotation("b", "x", "ana", "skip", uid="s", seq=6)])  # a repeat is ignored
    assert (ledger.labeled, ledger.skipped) == (0, 1)
    assert ledger.is_skipped("b")
    assert not ledger.is_open("b")
    assert ledger.last_live("ana").uid == "s"


# -- pending ----------------------------------------------------------------------------------


def test_pending_order_limit_and_exclusion() -> None:
    job = Job("pets", images(8, split=["train"] * 8), ImageClassification(LABELS))
    pending = job.pending(3)
    assert list(pending.index) == [0, 1, 2]
    assert list(pending.columns) == ["source-ref", "split"]
    assert list(pending["source-ref"]) == [
        "s3://bucket/img0.jpg",
        "s3://bucket/img1.jpg",
        "s3://bucket/img2.jpg",
    ]
    job.label(0, "cat")
    job.skip(2)
    job.label(5, "dog")
    assert list(job.pending(3).index) == [1, 3, 4]
    assert list(job.pending(100).index) == [1, 3, 4, 6, 7]
    assert list(job.pending(0).index) == []
    for position in (1, 3, 4, 6, 7):
        job.label(position, "bird")
    assert job.pending().empty
    assert job.progress == Progress(8, 7, 1, 0)


def test_open_positions_exclude_and_start() -> None:
    job = image_job(6)
    job.label(1, "cat")
    assert list(job.queue.open_positions()) == [0, 2, 3, 4, 5]
    assert list(job.queue.open_positions(exclude={job.keys[0], job.keys[3]})) == [2, 4, 5]
    assert list(job.queue.open_positions(start=3)) == [3, 4, 5]
    job.label(0, "cat")
    assert list(job.queue.open_positions()) == [2, 3, 4, 5]
    assert list(job.queue.open_positions(exclude={job.keys[2]})) == [3, 4, 5]
    assert list(job.queue.open_positions()) == [2, 3, 4, 5]  # exclusion does not advance the cursor


# -- resume and several kernels ------------------------------------------------------------------


def test_resume_sees_every_answer() -> None:
    job = image_job(6)
    job.label(0, "cat")
    job.skip(1)
    job.label(2, "dog", annotator="bo")
    job.label(4, "bird")
    job.undo()  # item 4
    job.store.close()
    del job

    again = image_job(6)
    assert again.progress == Progress(6, 2, 1, 3)
    assert again.current(0).value == "cat"
    assert again.current(2).annotator == "bo"
    assert again.current(4) is None
    assert list(again.pending().index) == [3, 4, 5]
    # undo history survives too: ana's latest live answer is the skip of item 1
    assert again.undo().item == again.keys[1]
    assert list(again.pending().index) == [1, 3, 4, 5]


def test_changing_the_labels_of_an_existing_store_is_a_clear_error() -> None:
    image_job().store.close()
    with pytest.raises(
        ValueError, match=r"already holds attribute 'pets'.*cat.*dog.*bird.*another attribute"
    ):
        Job("pets", images(), ImageClassification(["cat", "dog"]))
    with pytest.raises(ValueError, match="already holds attribute 'pets'"):
        Job("pets", images(), ImageClassification(LABELS, multi_label=True))
    with pytest.raises(ValueError, match="already holds attribute 'pets'"):
        Job("pets", images(), ImageClassification(["dog", "cat", "bird"]))
    # another attribute in the same store is fine, and so is the original task
    assert Job("pets", images(), ImageClassification(["x"]), attribute="other").attribute == "other"
    assert image_job().progress.total == 5


def test_two_jobs_on_one_store_see_each_other_after_refresh() -> None:
    a = image_job(6)
    b = image_job(6, annotator="bo")
    a.label(0, "cat")
    a.skip(1)
    assert b.current(0) is None  # not until b looks
    b.refresh()
    assert b.current(0).value == "cat"
    assert b.progress == Progress(6, 1, 1, 4)
    b.label(2, "dog")
    a.refresh()
    assert a.current(2).annotator == "bo"
    assert list(a.pending().index) == [3, 4, 5]
    assert list(b.pending().index) == [3, 4, 5]


def test_a_retraction_in_another_kernel_reopens_the_item() -> None:
    a = image_job(5)
    b = image_job(5)
    for i in range(3):
        a.label(i, "cat")
    assert list(b.pending().index) == [3, 4]
    a.undo()  # item 2
    assert list(b.pending().index) == [2, 3, 4]
    b.refresh()
    assert b.progress == Progress(5, 2, 0, 3)


def test_explicit_store_path(tmp_path: Path) -> None:
    path = tmp_path / "somewhere" / "else.sqlite"
    job = image_job(store=path)
    job.label(0, "cat")
    assert Path(job.store.path) == path
    assert not (tmp_path / ".nblabel").exists()
    assert image_job(store=str(path)).current(0).value == "cat"


# -- to_dataframe -----------------------------------------------------------------------------


def test_single_label_image_output_matches_gt() -> None:
    job = image_job(3)
    job.label(1, "bird")
    out = job.to_dataframe()
    assert list(out.columns) == ["source-ref", "pets", "pets-metadata"]
    assert out.loc[1, "pets"] == 2
    assert type(out.loc[1, "pets"]) is int
    meta = out.loc[1, "pets-metadata"]
    assert list(meta) == bird_metadata_keys()
    assert meta["confidence"] == 0.0
    assert meta["job-name"] == "labeling-job/pets"
    assert meta["class-name"] == "bird"
    assert meta["human-annotated"] == "yes"
    assert DATE.match(meta["creation-date"])
    assert meta["creation-date"] == job.current(1).created
    assert meta["type"] == "groundtruth/image-classification"
    for position in (0, 2):
        assert out.loc[position, "pets"] is pd.NA
        assert out.loc[position, "pets-metadata"] is pd.NA


def test_single_label_text_output_matches_gt() -> None:
    job = Job("mood", texts(2), TextClassification(["negative", "positive"]))
    job.label(0, "positive")
    out = job.to_dataframe()
    assert list(out.columns) == ["source", "mood", "mood-metadata"]
    assert out.loc[0, "mood"] == 1
    meta = out.loc[0, "mood-metadata"]
    assert list(meta) == bird_metadata_keys()
    assert meta["type"] == "groundtruth/text-classification"
    assert meta["class-name"] == "positive"
    assert meta["job-name"] == "labeling-job/mood"
    assert out.loc[1, "mood"] is pd.NA


@pytest.mark.parametrize(
    ("task_cls", "media"), [(ImageClassification, "image"), (TextClassification, "text")]
)
def test_multi_label_output_matches_gt(task_cls: type, media: str) -> None:
    data = images(3) if media == "image" else texts(3)
    job = Job("tags", data, task_cls(["person", "bicycle", "car", "clothing"], multi_label=True))
    job.label(0, ["clothing", "person", "bicycle"])
    job.label(1, [])
    out = job.to_dataframe()
    assert out.loc[0, "tags"] == [0, 1, 3]
    assert all(type(i) is int for i in out.loc[0, "tags"])
    meta = out.loc[0, "tags-metadata"]
    assert list(meta) == [
        "job-name",
        "class-map",
        "human-annotated",
        "creation-date",
        "confidence-map",
        "type",
    ]
    assert meta["class-map"] == {"0": "person", "1": "bicycle", "3": "clothing"}
    assert meta["confidence-map"] == {"0": 0.0, "1": 0.0, "3": 0.0}
    assert meta["type"] == f"groundtruth/{media}-classification-multilabel"
    assert meta["job-name"] == "labeling-job/tags"
    assert meta["human-annotated"] == "yes"
    assert DATE.match(meta["creation-date"])
    assert out.loc[1, "tags"] == []
    assert out.loc[1, "tags-metadata"]["class-map"] == {}
    assert out.loc[2, "tags"] is pd.NA


def test_auto_label_output() -> None:
    job = image_job(2)
    job.record(Annotation(job.keys[0], "pets", "auto:m", "auto", "dog", confidence=0.93456))
    meta = job.to_dataframe().loc[0, "pets-metadata"]
    assert meta["human-annotated"] == "no"
    assert meta["confidence"] == 0.93
    assert list(meta) == bird_metadata_keys()


def test_auto_multi_label_confidence_map_is_rounded() -> None:
    job = Job("tags", images(1), ImageClassification(LABELS, multi_label=True))
    job.record(Annotation(job.keys[0], "tags", "auto:m", "auto", ["bird", "cat"], confidence=0.876))
    out = job.to_dataframe()
    assert out.loc[0, "tags"] == [0, 2]
    assert out.loc[0, "tags-metadata"]["confidence-map"] == {"0": 0.88, "2": 0.88}
    assert out.loc[0, "tags-metadata"]["human-annotated"] == "no"


def test_skipped_and_retracted_rows_are_unlabeled() -> None:
    job = image_job(3)
    job.skip(0)
    job.label(1, "cat")
    job.undo()
    out = job.to_dataframe()
    assert out["pets"].tolist()[:2] == [pd.NA, pd.NA]


def test_custom_attribute_and_extra_columns_pass_through() -> None:
    extra = {"split": ["train", "test", "train"], "meta": [{"a": 1}, {"b": [1, 2]}, {}]}
    job = Job("pets", images(3, **extra), ImageClassification(LABELS), attribute="species")
    job.label(2, "dog")
    out = job.to_dataframe()
    assert list(out.columns) == ["source-ref", "split", "meta", "species", "species-metadata"]
    assert out["split"].tolist() == extra["split"]
    assert out["meta"].tolist() == extra["meta"]
    assert out.loc[2, "species"] == 1
    assert (
        out.loc[2, "species-metadata"]["job-name"] == "labeling-job/pets"
    )  # the job's name, not the attribute


def test_to_dataframe_does_not_touch_the_input() -> None:
    df = images(2)
    job = Job("pets", df, ImageClassification(LABELS))
    job.label(0, "cat")
    job.to_dataframe()
    assert list(df.columns) == ["source-ref"]
    assert list(job.data.columns) == ["source-ref"]


def test_chaining_keeps_earlier_values_for_unlabeled_rows() -> None:
    old_meta = {"class-name": "cat", "type": "groundtruth/image-classification"}
    df = images(2)
    df["pets"] = pd.Series([0, 0], dtype=object)
    df["pets-metadata"] = pd.Series([old_meta, old_meta], dtype=object)
    job = Job("pets", df, ImageClassification(LABELS))
    job.label(1, "bird")
    out = job.to_dataframe()
    assert out.loc[0, "pets"] == 0
    assert out.loc[0, "pets-metadata"] == old_meta
    assert out.loc[1, "pets"] == 2
    assert out.loc[1, "pets-metadata"]["class-name"] == "bird"


def test_write_manifest_omits_unlabeled_keys_and_round_trips(tmp_path: Path) -> None:
    job = Job("pets", images(3, split=["a", "b", "c"]), ImageClassification(LABELS))
    job.label(0, "dog")
    job.record(Annotation(job.keys[2], "pets", "auto:m", "auto", "cat", confidence=0.51))
    out = job.to_dataframe()
    path = tmp_path / "out.manifest"
    write_manifest(out, path)

    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert lines[1] == {"source-ref": "s3://bucket/img1.jpg", "split": "b"}
    assert list(lines[0]) == ["source-ref", "split", "pets", "pets-metadata"]
    assert lines[0]["pets"] == 1
    assert list(lines[0]["pets-metadata"]) == bird_metadata_keys()
    assert lines[2]["pets-metadata"]["human-annotated"] == "no"
    assert '"pets":1,' in path.read_text(encoding="utf-8")  # an int, not 1.0

    back = read_manifest(path)
    assert list(back.columns) == list(out.columns)
    for got, want in zip(back.to_dict("records"), out.to_dict("records"), strict=True):
        assert got.keys() == want.keys()
        for column in got:
            if want[column] is pd.NA:
                assert got[column] is pd.NA
            else:
                assert got[column] == want[column]
                assert type(got[column]) is type(want[column])
    # and the written manifest is itself a valid input for the same job (chaining)
    again = Job("pets2", path, ImageClassification(LABELS), attribute="pets2")
    assert again.to_dataframe().loc[0, "pets"] == 1


# -- text no store can keep (a lone UTF-16 surrogate) ---------------------------------------------


@pytest.mark.parametrize(
    ("column", "task"), [("source-ref", ImageClassification(LABELS)), ("source", TextClassification(LABELS))]
)
def test_a_lone_surrogate_in_a_source_is_refused_naming_the_row(column: str, task) -> None:
    df = pd.DataFrame({column: ["fine", "half \ud83d of an emoji"]}, dtype=object)
    with pytest.raises(ValueError, match=rf"row 1: '{column}' holds a lone UTF-16 surrogate"):
        Job("halves", df, task)


def test_an_answer_no_store_can_keep_is_refused_and_the_store_stays_writable() -> None:
    job = image_job()
    with pytest.raises(ValueError, match="annotator contains a lone UTF-16 surrogate"):
        job.label(0, "cat", annotator="ana\ud800")
    assert job.progress.labeled == 0
    # the file is not left locked, and the kernel still commits with a full fsync
    other = sqlite3.connect(job.store.path, timeout=0)
    other.execute("BEGIN IMMEDIATE")
    other.execute("ROLLBACK")
    other.close()
    assert job.store._db.execute("PRAGMA synchronous").fetchone()[0] == 2
    job.label(0, "cat")
    assert job.progress.labeled == 1
