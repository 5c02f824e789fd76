"""GT's data setup (nl.manifest_from, locally and on S3) and chained jobs (#21).

manifest_from follows GT's automated data setup (SMDG sms-console-create-manifest-file.md):
images and videos by type, a ``.txt`` line or a ``.csv`` row per text object, a random sample
share and a filter on object names. Chaining follows SMDG sms-reusing-data.md: the same
attribute keeps the earlier labels and continues, a new attribute adds a second label.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import nblabel as nl
from nblabel.store.kinds import HUMAN_KINDS

pytest_plugins = ["s3_fixtures"]

FILES = {
    "cats/a.jpg": b"jpg",
    "cats/b.PNG": b"png",
    "dogs/c.jpeg": b"jpg",
    "clips/d.mp4": b"mp4",
    "notes.txt": b"first line\n\n  second line  \n",
    "more/other.txt": b"third line\n",
    "table.csv": b'a,"b, quoted"\n\nc,d\n',
    "readme.md": b"# not data",
}


def make_folder(root: Path) -> Path:
    for name, data in FILES.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return root


def test_manifest_from_a_local_folder(tmp_path: Path) -> None:
    root = make_folder(tmp_path / "data")
    images = nl.manifest_from(root)
    assert list(images.columns) == ["source-ref"]
    names = [Path(p).relative_to(root.resolve()).as_posix() for p in images["source-ref"]]
    assert names == ["cats/a.jpg", "cats/b.PNG", "clips/d.mp4", "dogs/c.jpeg"]
    assert list(nl.manifest_from(root, "text")["source"]) == ["third line", "first line", "second line"]
    assert list(nl.manifest_from(root, "csv")["source"]) == ["a,b, quoted", "c,d"]
    cats = nl.manifest_from(root, where="cats/*")
    assert [Path(p).name for p in cats["source-ref"]] == ["a.jpg", "b.PNG"]
    assert len(nl.manifest_from(root, where=lambda name: name.endswith(".mp4"))) == 1
    # A sample share: rounded, in order, repeatable with a seed.
    half = nl.manifest_from(root, sample=0.5, seed=3)
    assert len(half) == 2 and list(half["source-ref"]) == sorted(
        half["source-ref"], key=list(images["source-ref"]).index
    )
    assert half.equals(nl.manifest_from(root, sample=0.5, seed=3))
    with pytest.raises(ValueError, match=r"no image or video files under .* matching 'birds/\*'"):
        nl.manifest_from(root, where="birds/*")
    with pytest.raises(ValueError, match=r"sample is the share of objects to keep, in \(0, 1\]"):
        nl.manifest_from(root, sample=1.5)
    with pytest.raises(ValueError, match="kind must be 'image', 'text' or 'csv'"):
        nl.manifest_from(root, "audio")
    with pytest.raises(FileNotFoundError, match="is not a folder"):
        nl.manifest_from(tmp_path / "nope")


def test_manifest_from_an_s3_prefix(s3_env, bucket: str, s3_direct) -> None:
    for name, data in FILES.items():
        s3_direct.put_object(Bucket=bucket, Key=f"job/in/{name}", Body=data)
    s3_direct.put_object(Bucket=bucket, Key="job/input-old/x.jpg", Body=b"jpg")  # beside the prefix
    images = nl.manifest_from(f"s3://{bucket}/job/in")
    assert list(images["source-ref"]) == [
        f"s3://{bucket}/job/in/{name}" for name in ("cats/a.jpg", "cats/b.PNG", "clips/d.mp4", "dogs/c.jpeg")
    ]
    texts = nl.manifest_from(f"s3://{bucket}/job/in/", "text", where="more/*")
    assert list(texts["source"]) == ["third line"]
    assert list(nl.manifest_from(f"s3://{bucket}/job/in", "csv")["source"]) == ["a,b, quoted", "c,d"]


def classified(tmp_path: Path, df: pd.DataFrame, name: str, attribute: str = "sentiment") -> nl.Job:
    return nl.Job(
        name,
        df,
        nl.TextClassification(["pos", "neg"]),
        attribute=attribute,
        store=tmp_path / f"{name}.sqlite",
    )


def test_a_chained_job_keeps_the_earlier_labels_and_continues(tmp_path: Path) -> None:
    texts = pd.DataFrame({"source": ["great", "awful", "fine", "meh"]})
    first = classified(tmp_path, texts, "first")
    first.label(0, "pos")
    first.label(1, "neg")
    earlier = first.to_dataframe()

    second = classified(tmp_path, earlier, "second")
    assert second.progress.labeled == 2 and second.progress.remaining == 2
    assert list(second.data.iloc[second.queue.pending(10)]["source"]) == ["fine", "meh"]
    # The earlier answers are people's labels to the auto-labeler (it trains on HUMAN_KINDS).
    for key in second.keys[:2]:
        current = second.log.ledger.label(key)
        assert current.kind in HUMAN_KINDS and current.annotator == "first"
    second.label(2, "pos")
    out = second.to_dataframe()
    names = [m["class-name"] if isinstance(m, dict) else None for m in out["sentiment-metadata"]]
    assert names == ["pos", "neg", "pos", None]
    # Carried labels stay as the earlier job wrote them; the new one is this job's.
    assert out.loc[0, "sentiment-metadata"] == earlier.loc[0, "sentiment-metadata"]
    assert out.loc[0, "sentiment-metadata"]["job-name"] == "labeling-job/first"
    assert out.loc[2, "sentiment-metadata"]["job-name"] == "labeling-job/second"
    # Opened again, nothing is stored twice and the new answer stays.
    again = classified(tmp_path, earlier, "second")
    assert again.progress.labeled == 3
    assert len(list(again.store.annotations("sentiment"))) == 3

    # A machine label of the earlier job stays a machine label: it can still be reviewed.
    auto = earlier.copy()
    auto.at[3, "sentiment"] = 0
    auto.at[3, "sentiment-metadata"] = {
        "class-name": "pos",
        "confidence": 0.97,
        "human-annotated": "no",
        "type": "groundtruth/text-classification",
        "job-name": "labeling-job/first",
        "creation-date": "2026-12-06T10:00:00.000000",
    }
    third = classified(tmp_path, auto, "third")
    label = third.log.ledger.label(third.keys[3])
    assert (label.kind, label.annotator, label.confidence) == ("auto", "auto:first", 0.97)


def test_a_new_attribute_adds_a_second_label(tmp_path: Path) -> None:
    first = classified(tmp_path, pd.DataFrame({"source": ["great", "awful"]}), "first")
    first.label(0, "pos")
    earlier = first.to_dataframe()
    topics = nl.Job(
        "topics",
        earlier,
        nl.TextClassification(["food", "film"]),
        attribute="topic",
        store=tmp_path / "t.sqlite",
    )
    assert topics.progress.labeled == 0
    topics.label(0, "film")
    out = topics.to_dataframe()
    assert out.loc[0, "sentiment-metadata"]["class-name"] == "pos"
    assert out.loc[0, "topic-metadata"]["class-name"] == "film"
    assert list(out.nblabel.flat_labels()[["sentiment", "topic"]].iloc[0]) == ["pos", "film"]
    with pytest.raises(ValueError, match="reserved by Ground Truth"):
        nl.Job(
            "bad",
            earlier,
            nl.TextClassification(["a", "b"]),
            attribute="source-ref",
            store=tmp_path / "b.sqlite",
        )


def test_a_chained_job_keeps_masks_verdicts_and_attributes(tmp_path: Path) -> None:
    import numpy as np
    from PIL import Image

    from nblabel.formats.gt import MANIFEST
    from nblabel.manifest import read_manifest

    refs = []
    for i in range(2):
        Image.new("RGB", (8, 6)).save(tmp_path / f"{i}.png")
        refs.append(str(tmp_path / f"{i}.png"))
    images = pd.DataFrame({"source-ref": refs})

    def chained(earlier: pd.DataFrame, task: nl.tasks.Task, name: str, attribute: str) -> nl.Job:
        return nl.Job(name, earlier, task, attribute=attribute, store=tmp_path / f"{name}.sqlite")

    # Masks, read back from the exported output manifest (the path GT's layout gives them).
    attrs = {"road": [{"name": "wet", "enum": ["yes", "no"]}], "frame": [{"name": "light"}]}
    mask = np.zeros((6, 8), np.uint8)
    mask[3:, :] = 1
    first = chained(images, nl.SemanticSegmentation(["road"], attributes=attrs), "first", "street-ref")
    first.label(
        0,
        {
            "indices": mask,
            "label-category-attributes": {"road": {"wet": "no"}},
            "frame-attributes": {"light": "dim"},
        },
    )
    first.export(tmp_path / "out")
    earlier = read_manifest(tmp_path / "out" / "first" / MANIFEST)
    second = chained(earlier, nl.SemanticSegmentation(["road"], attributes=attrs), "second", "street-ref")
    assert second.progress.labeled == 1 and second.progress.remaining == 1
    kept = second.current(0)
    assert (kept.kind, kept.annotator) == ("human", "first")
    assert np.array_equal(second.task.indices(kept.value), mask)
    assert kept.value["label-category-attributes"] == {"road": {"wet": "no"}}
    assert kept.value["frame-attributes"] == {"light": "dim"}
    assert (
        second.to_dataframe().at[0, "street-ref"] == earlier.at[0, "street-ref"]
    )  # as the earlier job wrote it
    assert chained(earlier, nl.SemanticSegmentation(["road"]), "second", "street-ref").progress.labeled == 1

    # Verification verdicts, with the comment GT keeps as worker-feedback.
    verify = chained(images.assign(old=[{"annotations": []}] * 2), nl.LabelVerification("old"), "v1", "check")
    verify.label(1, {"verdict": "incorrect", "comment": "a box is missing"})
    again = chained(verify.to_dataframe(), nl.LabelVerification("old"), "v2", "check")
    assert again.current(1).value == {"verdict": "incorrect", "comment": "a box is missing"}
    assert again.progress.labeled == 1

    # Boxes and classes keep their attributes through the output manifest.
    boxes = nl.BoundingBox(["car"], attributes={"car": [{"name": "color"}], "frame": [{"name": "light"}]})
    value = {
        "image_size": [{"width": 8, "height": 6, "depth": 3}],
        "annotations": [
            {
                "class_id": 0,
                "left": 1,
                "top": 1,
                "width": 3,
                "height": 3,
                "label-category-attributes": {"color": "red"},
            }
        ],
        "frame-attributes": {"light": "dim"},
    }
    b1 = chained(images, boxes, "b1", "cars")
    b1.label(0, value)
    assert chained(b1.to_dataframe(), boxes, "b2", "cars").current(0).value == b1.current(0).value
    kinds = nl.ImageClassification(["cat", "dog"], attributes={"frame": [{"name": "light"}]})
    c1 = chained(images, kinds, "c1", "kind")
    c1.label(0, {"label": "dog", "frame-attributes": {"light": "dim"}})
    assert chained(c1.to_dataframe(), kinds, "c2", "kind").current(0).value == {
        "label": "dog",
        "frame-attributes": {"light": "dim"},
    }


def test_a_chained_job_auto_labels_from_the_earlier_answers(tmp_path: Path) -> None:
    from autolabel_helpers import LABELS, answer_drawn, synthetic_texts

    df = synthetic_texts(300)
    first = nl.Job("first", df, nl.TextClassification(LABELS), store=tmp_path / "first.db")
    answer_drawn(first, df.gold, range(120))
    earlier = first.to_dataframe()
    second = nl.Job(
        "second", earlier, nl.TextClassification(LABELS), attribute="first", store=tmp_path / "s.db"
    )
    report = second.autolabel(background=False)
    # The round trains on the 120 labels the earlier job gave, and proposes for the rest.
    assert report is not None and report.human_answers == 120
    open_keys = [k for k in second.keys if second.current(k) is None]
    assert len(open_keys) == 180 - report.auto_labeled
    assert all(second.proposal(k) is not None for k in open_keys[:20])
