"""Ground Truth manifests <-> DataFrames: round trips, GT's exact bytes, errors, warnings, streams.

Fixtures in ``tests/data/manifests`` hold one file per GT output shape (gt-formats.md §2) plus the
odd cases of the compatibility checklist (§10): CRLF, TABs, a BOM, blank lines, odd timestamps,
unicode. Objects are compared with their JSON types (``9`` is not ``9.0``, ``False`` is not ``0``).
"""

from __future__ import annotations

import io
import json
import os
import re
import stat
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nblabel.manifest import ManifestError, ManifestWarning, read_manifest, write_manifest

DATA = Path(__file__).resolve().parents[1] / "data" / "manifests"
BIRD_JOB = Path(__file__).resolve().parents[1] / "data" / "gt-bird-job" / "output.manifest"

# Every fixture file with its number of (non-blank) lines and the lines that must warn.
FIXTURES: dict[str, tuple[int, set[int]]] = {
    "image-classification.manifest": (5, set()),
    "text-classification.manifest": (3, set()),
    "multilabel.manifest": (4, {4}),  # CMP sample: confidence-map keys not in class-map
    "bounding-box.manifest": (3, set()),
    "bbox-adjustment.manifest": (2, set()),
    "label-verification.manifest": (2, set()),
    "semantic-segmentation.manifest": (2, set()),
    "ner.manifest": (4, {3}),  # offsets 269:281 in an 11-character text
    "custom.manifest": (3, set()),
    "video-frame.manifest": (2, set()),
    "point-cloud.manifest": (3, set()),
    "crlf.manifest": (3, set()),
    "tabs.manifest": (2, set()),
    "bom.manifest": (2, set()),
    "blank-lines.manifest": (3, set()),
    "odd-values.manifest": (6, set()),
}


# --- helpers -------------------------------------------------------------------------------------


def typed(value: Any) -> Any:
    """A comparable form of a JSON value that keeps types and nested key order."""
    if isinstance(value, dict):
        return ("dict", tuple((k, typed(v)) for k, v in value.items()))
    if isinstance(value, list):
        return ("list", tuple(typed(v) for v in value))
    if isinstance(value, float):
        return ("float", repr(value))  # repr keeps -0.0 apart from 0.0
    return (type(value).__name__, value)


def typed_line(obj: dict[str, Any]) -> dict[str, Any]:
    """Top-level key order may change on writing (columns order); everything else may not."""
    return {k: typed(v) for k, v in obj.items()}


def parse_jsonl(data: bytes) -> list[dict[str, Any]]:
    """An independent JSON Lines parser: split on LF only, as GT does (never on U+2028 etc.)."""
    text = data.decode("utf-8").removeprefix("\ufeff")
    lines = [line.removesuffix("\r") for line in text.split("\n")]
    return [json.loads(line) for line in lines if line.strip(" \t")]


def frame_objects(df: pd.DataFrame) -> list[dict[str, Any]]:
    """The line objects a DataFrame stands for (missing cells dropped)."""
    return [
        {k: v for k, v in zip(df.columns, row, strict=True) if v is not pd.NA}
        for row in df.itertuples(index=False, name=None)
    ]


def first_seen_keys(objects: list[dict[str, Any]]) -> list[str]:
    keys: dict[str, None] = {}
    for obj in objects:
        keys.update(dict.fromkeys(obj))
    return list(keys)


def read_quietly(source: Any) -> pd.DataFrame:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ManifestWarning)
        return read_manifest(source)


def bytes_written_to_path(df: pd.DataFrame, tmp_path: Path) -> bytes:
    out = tmp_path / "reference.manifest"
    write_manifest(df, out)
    return out.read_bytes()


# --- 1. round trip of every fixture --------------------------------------------------------------


def test_every_fixture_file_is_listed() -> None:
    assert sorted(p.name for p in DATA.glob("*.manifest")) == sorted(FIXTURES)


def test_odd_fixtures_really_have_their_odd_bytes() -> None:
    crlf = (DATA / "crlf.manifest").read_bytes()
    assert crlf.count(b"\r\n") == 3 and crlf.count(b"\n") == 3
    assert b"\t" in (DATA / "tabs.manifest").read_bytes()
    assert (DATA / "bom.manifest").read_bytes().startswith(b"\xef\xbb\xbf{")
    assert b"\n\n" in (DATA / "blank-lines.manifest").read_bytes()
    odd = (DATA / "odd-values.manifest").read_text(encoding="utf-8")
    assert "\u2028" in odd and "\u0085" in odd and "+0000" in odd and "GMT+0000 (" in odd


@pytest.mark.parametrize("name", sorted(FIXTURES))
def test_fixture_round_trip(name: str, tmp_path: Path) -> None:
    path = DATA / name
    rows, warning_lines = FIXTURES[name]
    original = parse_jsonl(path.read_bytes())
    assert len(original) == rows

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        df = read_manifest(path)
    messages = [str(w.message) for w in caught if issubclass(w.category, ManifestWarning)]
    assert len(messages) == len(caught)  # nothing but ManifestWarnings
    warned = {
        int(m) for m in re.findall(rf"^{re.escape(str(path))}, line (\d+): ", "\n".join(messages), re.M)
    }
    assert warned == warning_lines
    assert len(messages) == len(warning_lines)

    # The frame: one row per line in file order, one object column per key in order of first use,
    # pd.NA exactly where a line lacks the key, the parsed JSON value (same types) elsewhere.
    assert len(df) == rows
    assert list(df.index) == list(range(rows))
    assert list(df.columns) == first_seen_keys(original)
    assert all(pd.api.types.is_object_dtype(dtype) for dtype in df.dtypes)
    for i, obj in enumerate(original):
        for column in df.columns:
            cell = df.at[i, column]
            if column in obj:
                assert typed(cell) == typed(obj[column]), (i, column)
            else:
                assert cell is pd.NA, (i, column)

    out = tmp_path / name
    write_manifest(df, out)
    data = out.read_bytes()
    written = parse_jsonl(data)
    assert [typed_line(o) for o in written] == [typed_line(o) for o in original]

    # GT's spelling: LF-terminated compact lines, raw UTF-8, no BOM, no blank lines.
    assert data.endswith(b"\n") and b"\r" not in data and not data.startswith(b"\xef\xbb\xbf")
    lines = data.decode("utf-8").split("\n")[:-1]
    assert len(lines) == rows
    for line in lines:
        assert line == json.dumps(json.loads(line), separators=(",", ":"), ensure_ascii=False)

    again = read_quietly(out)
    assert [typed_line(o) for o in frame_objects(again)] == [typed_line(o) for o in original]
    out2 = tmp_path / f"again-{name}"
    write_manifest(again, out2)
    assert out2.read_bytes() == data


def test_unknown_keys_and_ints_survive(tmp_path: Path) -> None:
    df = read_manifest(DATA / "image-classification.manifest")
    assert df.at[0, "birds"] == 9 and type(df.at[0, "birds"]) is int
    assert df.at[1, "species"] == "0"  # string labels stay strings
    assert df.at[2, "my-notes"] == {"reviewed": True, "score": None, "tags": []}
    assert df.at[2, "split"] == "train" and df.at[0, "split"] is pd.NA
    assert df.at[3, "batch"] == 7 and df.at[3, "birds"] is pd.NA
    out = tmp_path / "ic.manifest"
    write_manifest(df, out)
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith('{"source-ref":"s3://bucket/birds/0273f487d52c16d2.jpg","birds":9,')
    assert lines[3] == '{"source-ref":"s3://bucket/birds/unlabeled.jpg","batch":7}'
    assert '"confidence":1,' in lines[4]  # not 1.0
    assert '"my-notes":{"reviewed":true,"score":null,"tags":[]}' in lines[2]

    odd = read_manifest(DATA / "odd-values.manifest")
    nums = odd.at[3, "nums"]
    assert typed(nums["i"]) == ("int", 9) and typed(nums["f"]) == ("float", "9.0")
    assert typed(nums["neg"]) == ("float", "-0.0") and nums["big"] == 12345678901234567890123
    assert odd.at[5, "nothing"] is None and odd.at[5, ""] == "empty key"
    assert "\u2028" in odd.at[4, "source"]  # a JSON Lines reader must not split there


def test_pandas_edits_write_plain_json(tmp_path: Path) -> None:
    df = read_manifest(DATA / "blank-lines.manifest")
    df["n"] = df["n"].astype("int64")  # numpy scalars come back as plain ints
    df["score"] = [0.5, float("nan"), 1.5]  # NaN means "no such key in this line"
    # numpy scalars kept as such in an object column (e.g. a model's argmax stored per cell)
    df["pred"] = pd.Series([np.int64(3), np.bool_(True), pd.NA], dtype=object)
    out = tmp_path / "edited.manifest"
    write_manifest(df, out)
    assert out.read_text(encoding="utf-8").splitlines() == [
        '{"source-ref":"s3://bucket/blank/a.jpg","n":1,"score":0.5,"pred":3}',
        '{"source-ref":"s3://bucket/blank/b.jpg","n":2,"pred":true}',
        '{"source-ref":"s3://bucket/blank/c.jpg","n":3,"score":1.5}',
    ]


# --- 2. GT's exact bytes -------------------------------------------------------------------------


def test_real_gt_job_is_written_back_byte_for_byte(tmp_path: Path) -> None:
    original = BIRD_JOB.read_bytes()
    df = read_manifest(BIRD_JOB)
    assert df.shape == (302, 3)
    assert list(df.columns) == [
        "source-ref",
        "birds-open-images-clone",
        "birds-open-images-clone-metadata",
    ]
    assert all(type(v) is int for v in df["birds-open-images-clone"])
    assert df.at[0, "birds-open-images-clone"] == 9
    assert df.at[0, "birds-open-images-clone-metadata"]["class-name"] == "Canary"
    assert not any(v is pd.NA for v in df.to_numpy().ravel())

    out = tmp_path / "output.manifest"
    write_manifest(df, out)
    assert out.read_bytes() == original


# --- 3. property: random manifests round-trip -----------------------------------------------------

SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=16)
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
# Shapes that reach checks.check_line, so odd labels/metadata are fuzzed too.
METADATA = st.fixed_dictionaries(
    {
        "type": st.sampled_from(
            [
                "groundtruth/text-span",
                "groundtruth/image-classification-multilabel",
                "groundtruth/text-classification-multilabel",
                "groundtruth/object-detection",
                "groundTruth/custom",
            ]
        )
    },
    optional={"class-map": VALUES, "confidence-map": VALUES, "job-name": st.text(max_size=8)},
)
ENTITY = st.fixed_dictionaries({}, optional={"startOffset": VALUES, "endOffset": VALUES, "label": VALUES})
NER_LABEL = st.fixed_dictionaries(
    {
        "annotations": VALUES
        | st.fixed_dictionaries({}, optional={"entities": VALUES | st.lists(ENTITY, max_size=3)})
    },
)
KEYS = st.sampled_from(["label", "label-metadata", "label-ref", "x-metadata"]) | st.text(max_size=10)


@st.composite
def manifests(draw: st.DrawFn) -> tuple[list[dict[str, Any]], bytes]:
    pool = draw(st.lists(KEYS.filter(lambda k: k not in ("source", "source-ref")), unique=True, max_size=6))
    lines = []
    for _ in range(draw(st.integers(min_value=1, max_value=8))):
        source_key = draw(st.sampled_from(["source", "source-ref"]))
        keys = [source_key, *(k for k in pool if draw(st.booleans()))]
        obj: dict[str, Any] = {}
        for key in draw(st.permutations(keys)):
            if key == source_key:
                obj[key] = draw(st.text(max_size=30))
            elif key.endswith("-metadata"):
                obj[key] = draw(METADATA | VALUES)
            elif key == "label":
                obj[key] = draw(NER_LABEL | VALUES)
            else:
                obj[key] = draw(VALUES)
        lines.append(obj)
    # The input's own spelling varies: ASCII escapes or raw UTF-8, spaces, LF or CRLF.
    ensure_ascii = draw(st.booleans())
    separators = draw(st.sampled_from([(",", ":"), (", ", ": ")]))
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    text = "".join(json.dumps(o, ensure_ascii=ensure_ascii, separators=separators) + newline for o in lines)
    return lines, text.encode("utf-8")


@settings(max_examples=100, deadline=None, database=None)
@given(manifests())
def test_random_manifests_round_trip(case: tuple[list[dict[str, Any]], bytes]) -> None:
    lines, raw = case
    df = read_quietly(io.BytesIO(raw))

    assert len(df) == len(lines)
    assert list(df.columns) == first_seen_keys(lines)
    for i, obj in enumerate(lines):
        for column in df.columns:
            cell = df.at[i, column]
            if column not in obj:
                assert cell is pd.NA  # missing key -> pd.NA ...
            elif obj[column] is None:
                assert cell is None  # ... explicit null -> None
            else:
                assert typed(cell) == typed(obj[column])

    out = io.BytesIO()
    write_manifest(df, out)
    written = parse_jsonl(out.getvalue())
    assert [typed_line(o) for o in written] == [typed_line(o) for o in lines]
    assert [list(o) for o in written] == [[k for k in df.columns if k in o] for o in lines]


@settings(max_examples=150, deadline=None, database=None)
@given(
    source=st.text(max_size=20),
    label=NER_LABEL | VALUES,
    metadata=METADATA,
)
def test_odd_label_shapes_never_break_reading(source: str, label: Any, metadata: Any) -> None:
    """checks.check_line only warns: any object line, however odd its label, is read and kept."""
    line = {"source": source, "label": label, "label-metadata": metadata}
    df = read_quietly(io.BytesIO(json.dumps(line).encode("utf-8") + b"\n"))
    assert [typed_line(o) for o in frame_objects(df)] == [typed_line(line)]
    out = io.BytesIO()
    write_manifest(df, out)
    assert [typed_line(o) for o in parse_jsonl(out.getvalue())] == [typed_line(line)]


# --- 4. malformed input --------------------------------------------------------------------------

MALFORMED = {
    "invalid-json": (b'{"source":"a"}\n\n{"source": "b",}\n{"source":"c"}\n', 3, "invalid JSON"),
    "array-line": (b'{"source":"a"}\n[{"source":"b"}]\n{"source":"c"}\n', 2, "found list"),
    "scalar-line": (b'"just a string"\n', 1, "expected a JSON object, found str"),
    "truncated-last-line": (
        b'{"source":"a"}\n{"source":"b"}\n{"source-ref":"s3://x/y.jpg","l-metadata":{"type":"groundt',
        3,
        "invalid JSON",
    ),
    "crlf-invalid": (b'{"source":"a"}\r\n{"source":\r\n', 2, "invalid JSON"),
    # A lone UTF-16 surrogate (half of an emoji, as a JavaScript string cut inside one makes):
    # no store can keep it and no manifest written back could hold it. A pair is one character.
    "lone-surrogate-source-ref": (
        b'{"source-ref":"a\\ud83d\\ude00.jpg"}\n{"source-ref":"b\\ud800.jpg"}\n',
        2,
        "source-ref holds a lone UTF-16 surrogate",
    ),
    "lone-surrogate-nested": (
        b'{"source":"a"}\n{"source":"b","l":{"labels":["ok","\\uDFFF"]}}\n',
        2,
        "l.labels[1] holds a lone UTF-16 surrogate",
    ),
    "lone-surrogate-key": (b'{"source":"a","\\ud800":1}\n', 1, "a key in the line holds a lone UTF-16"),
    # 1e999 reads as infinity in Python, which no manifest line can hold: it could not be written back.
    "number-beyond-double": (b'{"source":"a"}\n{"source":"b","w":1e999}\n', 2, "1e999 is beyond a double"),
    "negative-beyond-double": (b'{"source":"a","w":-2.5e400}\n', 1, "-2.5e400 is beyond a double"),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_line_names_file_line_and_cause(case: str, tmp_path: Path) -> None:
    data, line, cause = MALFORMED[case]
    path = tmp_path / f"{case}.manifest"
    path.write_bytes(data)

    with pytest.raises(ManifestError) as info:
        read_manifest(path)
    err = info.value
    assert isinstance(err, ValueError)
    assert err.source == str(path)
    assert err.line == line
    assert cause in err.reason
    assert str(err).startswith(f"{path}, line {line}: ")
    assert cause in str(err)

    with path.open("rb") as fh, pytest.raises(ManifestError) as info:
        read_manifest(fh)
    assert (info.value.source, info.value.line) == (str(path), line)

    with pytest.raises(ManifestError) as info:
        read_manifest(io.BytesIO(data))
    assert (info.value.source, info.value.line) == ("<stream>", line)


# --- 5. atomic writes ----------------------------------------------------------------------------


def _frame_with_bad_middle_row() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "source": pd.Series(["a", "b", "c"], dtype=object),
            "x": pd.Series([1, object(), 3], dtype=object),
        }
    )


BAD_ROWS = {
    "object-in-frame": _frame_with_bad_middle_row,
    "object-in-dicts": lambda: [{"source": "a"}, {"source": "b", "x": object()}, {"source": "c"}],
    "nested-nan": lambda: [{"source": "a"}, {"source": "b", "m": {"c": float("nan")}}, {"source": "c"}],
}


@pytest.mark.parametrize("case", sorted(BAD_ROWS))
def test_failed_write_leaves_existing_file_alone(case: str, tmp_path: Path) -> None:
    target = tmp_path / "out.manifest"
    before = b'{"source":"old","keep":[1,2]}\n'
    target.write_bytes(before)

    with pytest.raises(ValueError, match=r"\brow 1\b.*JSON"):
        write_manifest(BAD_ROWS[case](), target)
    assert target.read_bytes() == before
    assert os.listdir(tmp_path) == ["out.manifest"]


def test_failed_write_creates_nothing(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"\brow 1\b"):
        write_manifest(_frame_with_bad_middle_row(), tmp_path / "new.manifest")
    assert os.listdir(tmp_path) == []


def test_successful_write_replaces_file_and_keeps_permissions(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.write_text("x")  # the mode an ordinary open() gives under the current umask
    fresh = tmp_path / "fresh.manifest"
    write_manifest([{"source": "a"}], fresh)
    assert stat.S_IMODE(fresh.stat().st_mode) == stat.S_IMODE(plain.stat().st_mode)

    existing = tmp_path / "existing.manifest"
    existing.write_text('{"source":"old"}\n')
    existing.chmod(0o640)
    write_manifest([{"source": "new", "n": 1}], existing)
    assert existing.read_bytes() == b'{"source":"new","n":1}\n'
    assert stat.S_IMODE(existing.stat().st_mode) == 0o640
    assert sorted(os.listdir(tmp_path)) == ["existing.manifest", "fresh.manifest", "plain"]


# --- 6. warnings on odd but readable lines --------------------------------------------------------

NER_OUTSIDE = {
    "source": "Short text.",
    "ner": {"annotations": {"entities": [{"label": "Thing", "startOffset": 269, "endOffset": 281}]}},
    "ner-metadata": {"entities": [{"confidence": 0.3}], "type": "groundtruth/text-span"},
}
CMP_MULTILABEL = {
    "source-ref": "s3://DOC-EXAMPLE-BUCKET/article1.txt",
    "MultiLabelJob": [3, 6],
    "MultiLabelJob-metadata": {
        "job-name": "labeling-job/multilabeljob",
        "class-map": {"3": "modern_history", "6": "world_history"},
        "human-annotated": "yes",
        "type": "groundtruth/text-classification-multilabel",
        "creation-date": "2020-05-21T17:36:45.112945",
        "confidence-map": {"1": 0.95, "0": 0.95},
    },
}
ODD_NER_SHAPE = {
    "source": "abc",
    "ner": {"annotations": [1, 2]},
    "ner-metadata": {"type": "groundtruth/text-span"},
}
LABEL_NOT_IN_MAP = {
    "source": "abc",
    "topics": [0, 7],
    "topics-metadata": {"type": "groundtruth/text-classification-multilabel", "class-map": {"0": "a"}},
}
WARNING_CASES = {
    "ner-offsets": (NER_OUTSIDE, r"ner: entity 0 offsets 269:281 fall outside the text \(11 characters\)"),
    "cmp-confidence-map": (
        CMP_MULTILABEL,
        r"MultiLabelJob: confidence-map keys \['0', '1'\] are not in class-map \['3', '6'\]",
    ),
    "odd-ner-shape": (ODD_NER_SHAPE, r"ner: annotations\.entities is not a list"),
    "label-not-in-class-map": (LABEL_NOT_IN_MAP, r"topics: labels \[7\] are not in class-map \['0'\]"),
}


@pytest.mark.parametrize("case", sorted(WARNING_CASES))
def test_odd_line_warns_with_line_number_and_is_kept(case: str, tmp_path: Path) -> None:
    odd, pattern = WARNING_CASES[case]
    path = tmp_path / "odd.manifest"
    good = {"source": "fine", "n": 1}
    path.write_text(f"\n{json.dumps(good)}\n{json.dumps(odd)}\n{json.dumps(good)}\n", encoding="utf-8")

    with pytest.warns(ManifestWarning) as record:
        df = read_manifest(path)
    assert len(record) == 1
    message = str(record[0].message)
    assert message.startswith(f"{path}, line 3: ")
    assert re.search(pattern, message), message
    assert record[0].filename == __file__  # points at the caller, not at nblabel

    assert len(df) == 3
    assert [typed_line(o) for o in frame_objects(df)] == [typed_line(o) for o in (good, odd, good)]


def test_fixture_warnings_name_their_lines() -> None:
    path = DATA / "ner.manifest"
    with pytest.warns(ManifestWarning, match=rf"^{re.escape(str(path))}, line 3: ner: entity 0 "):
        df = read_manifest(path)
    assert df.at[2, "ner"]["annotations"]["entities"][0]["startOffset"] == 269
    path = DATA / "multilabel.manifest"
    with pytest.warns(ManifestWarning, match=rf"^{re.escape(str(path))}, line 4: MultiLabelJob: "):
        df = read_manifest(path)
    assert df.at[3, "MultiLabelJob"] == [3, 6]


# --- 7. file objects and streams -----------------------------------------------------------------

STREAM_FIXTURES = ["bom.manifest", "crlf.manifest", "odd-values.manifest", "ner.manifest"]


@pytest.mark.parametrize("name", STREAM_FIXTURES)
def test_read_from_file_objects(name: str) -> None:
    path = DATA / name
    expected = [typed_line(o) for o in parse_jsonl(path.read_bytes())]

    with path.open("rb") as fh:
        df = read_quietly(fh)
        assert not fh.closed  # the caller's file stays usable
        assert fh.read() == b""
    assert [typed_line(o) for o in frame_objects(df)] == expected

    with path.open("r", encoding="utf-8") as fh:
        df = read_quietly(fh)
        assert not fh.closed
    assert [typed_line(o) for o in frame_objects(df)] == expected

    raw = path.read_bytes()
    assert [typed_line(o) for o in frame_objects(read_quietly(io.BytesIO(raw)))] == expected
    text = raw.decode("utf-8")
    assert [typed_line(o) for o in frame_objects(read_quietly(io.StringIO(text, newline="")))] == expected


@pytest.mark.parametrize("name", STREAM_FIXTURES)
def test_write_to_streams_matches_file_bytes(name: str, tmp_path: Path) -> None:
    df = read_quietly(DATA / name)
    reference = bytes_written_to_path(df, tmp_path)

    text_out = io.StringIO()
    write_manifest(df, text_out)
    assert text_out.getvalue().encode("utf-8") == reference

    bytes_out = io.BytesIO()
    write_manifest(df, bytes_out)
    assert bytes_out.getvalue() == reference

    binary_file = tmp_path / "binary.manifest"
    with binary_file.open("wb") as fh:
        write_manifest(df, fh)
        assert not fh.closed
    assert binary_file.read_bytes() == reference

    dicts_out = io.BytesIO()
    write_manifest(frame_objects(df), dicts_out)
    assert dicts_out.getvalue() == reference


@pytest.mark.parametrize(
    ("content", "line", "cause"),
    [
        (b'{"source": "a"}\n{"source": NaN}\n', 2, "NaN is not valid JSON"),
        (b'{"source": "a"}\n{"x": -Infinity}\n', 2, "-Infinity is not valid JSON"),
        (b'{"source": "a"}\n{"source": "\xff\xfe"}\n', 2, "not valid UTF-8"),
    ],
)
def test_non_json_numbers_and_bad_utf8_name_their_line(
    content: bytes, line: int, cause: str, tmp_path: Path
) -> None:
    path = tmp_path / "bad.manifest"
    path.write_bytes(content)
    with pytest.raises(ManifestError) as info:
        read_manifest(path)
    assert info.value.line == line
    assert cause in str(info.value)
    assert str(path) in str(info.value)


@pytest.mark.parametrize("columns", [["source", "a", "a"], ["source", 1, "1"]])
def test_duplicate_columns_are_refused_not_collapsed(columns: list[Any], tmp_path: Path) -> None:
    df = pd.DataFrame([["x", 1, 2]], columns=columns)
    target = tmp_path / "out.manifest"
    with pytest.raises(ValueError, match=r"duplicate columns \['(a|1)'\]"):
        write_manifest(df, target)
    assert not target.exists()
    assert os.listdir(tmp_path) == []


def test_numpy_array_cell_is_refused_with_its_row(tmp_path: Path) -> None:
    df = pd.DataFrame({"source": pd.Series(["a", "b"], dtype=object)})
    df["extra"] = pd.Series([1, np.array([1, 2])], dtype=object)
    with pytest.raises(ValueError, match="row 1"):
        write_manifest(df, tmp_path / "out.manifest")
    assert not (tmp_path / "out.manifest").exists()
