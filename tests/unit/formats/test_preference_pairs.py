"""df.nblabel.to_preference_pairs: prompt/chosen/rejected JSON Lines, ties left out and counted,
rankings expanded to every pair of different ranks."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

import nblabel as nl


def test_pairwise_labels_become_pairs_and_ties_are_counted(tmp_path: Path) -> None:
    df = pd.DataFrame(
        {
            "source": ["p0", "p1", "p2", "p3"],
            "response_a": ["a0", "a1", "a2", "a3"],
            "response_b": ["b0", "b1", "b2", "b3"],
        }
    )
    job = nl.Job("pairs", df, nl.Pairwise(reason=True))
    job.label(0, "A")
    job.label(1, {"choice": "B", "reason": "kinder"})
    job.label(2, "tie")  # row 3 is unlabeled
    pairs = job.to_dataframe().nblabel.to_preference_pairs(tmp_path / "pairs.jsonl")
    assert pairs.ties == 1 and repr(pairs).startswith("PreferencePairs(2 pairs, 1 ties left out")
    lines = [json.loads(line) for line in (tmp_path / "pairs.jsonl").read_text().splitlines()]
    assert lines == [
        {"prompt": "p0", "chosen": "a0", "rejected": "b0"},
        {"prompt": "p1", "chosen": "b1", "rejected": "a1"},
    ]
    assert list(pairs.table["item"]) == [0, 1]


def test_rankings_expand_to_every_pair_of_different_ranks() -> None:
    columns = ("r0", "r1", "r2")
    df = pd.DataFrame({"source": ["q"], "r0": ["x"], "r1": ["y"], "r2": ["z"]})
    task = nl.Ranking(
        [{"name": "Clarity", "allowTie": True}, {"name": "Truth", "allowTie": False}], responses=columns
    )
    job = nl.Job("ranks", df, task)
    job.label(
        0,
        {
            "ordinalRankingDimensions": [
                {"name": "Clarity", "responseRankings": [2, 1, 2]},
                {"name": "Truth", "responseRankings": [3, 1, 2]},
            ]
        },
    )
    out = job.to_dataframe()
    clarity = out.nblabel.to_preference_pairs(responses=columns)
    assert clarity.ties == 1
    assert clarity.table[["chosen", "rejected", "chosen_rank", "rejected_rank"]].values.tolist() == [
        ["y", "x", 1, 2],
        ["y", "z", 1, 2],
    ]
    truth = out.nblabel.to_preference_pairs(responses=columns, dimension="Truth")
    assert truth.ties == 0 and len(truth.table) == 3  # k (k - 1) / 2
    assert set(map(tuple, truth.table[["chosen", "rejected"]].values)) == {("y", "x"), ("y", "z"), ("z", "x")}
    with pytest.raises(ValueError, match="no dimension 'Style'"):
        out.nblabel.to_preference_pairs(responses=columns, dimension="Style")
    with pytest.raises(ValueError, match=r"lacks the column\(s\) \['response_a', 'response_b'\]"):
        out.nblabel.to_preference_pairs()


def test_a_correction_is_chosen_over_every_response_of_its_item() -> None:
    df = pd.DataFrame({"source": ["p0", "p1"], "response_a": ["a0", "a1"], "response_b": ["b0", "b1"]})
    job = nl.Job("fixed", df, nl.Pairwise(correction=True))
    job.label(0, {"choice": "tie", "correction": "c0"})
    job.label(1, {"choice": "B", "correction": "c1"})
    pairs = job.to_dataframe().nblabel.to_preference_pairs()
    assert pairs.ties == 1  # the tie itself gives no pair; its correction does
    assert pairs.table[["prompt", "chosen", "rejected", "chosen_rank"]].values.tolist() == [
        ["p0", "c0", "a0", 0],
        ["p0", "c0", "b0", 0],
        ["p1", "b1", "a1", 1],
        ["p1", "c1", "a1", 0],
        ["p1", "c1", "b1", 0],
    ]


def test_the_table_loads_as_a_hugging_face_dataset_with_trls_columns(tmp_path: Path) -> None:
    import datasets  # the test extra's; imported here, as it takes a second or two

    df = pd.DataFrame({"source": ["p0", "p1"], "response_a": ["a0", "a1"], "response_b": ["b0", "b1"]})
    job = nl.Job("hf", df, nl.Pairwise())
    job.label(0, "B")
    job.label(1, "A")
    pairs = job.to_dataframe().nblabel.to_preference_pairs(tmp_path / "pairs.jsonl")
    table = datasets.Dataset.from_pandas(pairs.table, preserve_index=False)
    assert table.column_names[:3] == ["prompt", "chosen", "rejected"]
    assert table.features["chosen"].dtype.endswith("string") and table.features["item"].dtype == "int64"
    assert table[0] == {
        "prompt": "p0",
        "chosen": "b0",
        "rejected": "a0",
        "item": 0,
        "chosen_rank": 1,
        "rejected_rank": 2,
    }
    # The JSON Lines load too, as datasets' "json" builder reads files for TRL's trainers.
    lines = datasets.load_dataset(
        "json", data_files=str(tmp_path / "pairs.jsonl"), split="train", cache_dir=str(tmp_path / "cache")
    )
    assert lines.column_names == ["prompt", "chosen", "rejected"] and lines["chosen"] == ["b0", "a1"]
