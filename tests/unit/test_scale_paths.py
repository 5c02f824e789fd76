"""The fast paths that make a million-item job open, label and write quickly give exactly what the
plain ones gave.

Each fast path is compared with a reference written here the plain way (one ``json.loads`` per
line, one ``json.dumps`` per row, one dict of positions): on every fixture manifest, on
hypothesis-made manifests and frames, and with batches and blocks made tiny so that every
boundary case (a column first seen in a later batch, an error or a warning past the first
batch) is crossed. No test here is timed; ``python -m benchmarks.scale`` measures.
"""

from __future__ import annotations

import io
import json
import math
import random
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nblabel import ImageClassification, Job
from nblabel import manifest as manifest_module
from nblabel.io.guard import check_local_refs
from nblabel.labeling.items import KeyPositions, item_keys
from nblabel.manifest import ManifestError, ManifestWarning, read_manifest, row_objects, write_manifest
from nblabel.store import Annotation

DATA = Path(__file__).resolve().parents[1] / "data" / "manifests"
BIRD_JOB = Path(__file__).resolve().parents[1] / "data" / "gt-bird-job" / "output.manifest"


# -- references: the plain way ------------------------------------------------------------------


def _reject(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def reference_objects(data: bytes) -> list[tuple[int, dict[str, Any]]]:
    """(line number, object) per non-blank line, read one line at a time by the standard library."""
    out = []
    for number, raw in enumerate(io.BytesIO(data).readlines(), start=1):  # split on LF only
        text = raw.decode("utf-8").rstrip("\r\n")
        if number == 1:
            text = text.lstrip("\ufeff")
        if text.strip():
            obj = json.loads(text, parse_constant=_reject)
            # what no manifest written back could hold is refused: 1e999 (infinity), a lone surrogate
            json.dumps(obj, ensure_ascii=False, allow_nan=False).encode("utf-8")
            out.append((number, obj))
    return out


def reference_frame(objects: list[dict[str, Any]]) -> pd.DataFrame:
    columns: dict[str, list[Any]] = {}
    for row, obj in enumerate(objects):
        for key, value in obj.items():
            columns.setdefault(key, [pd.NA] * row).append(value)
        for column in columns.values():
            if len(column) < row + 1:
                column.append(pd.NA)
    return pd.DataFrame(
        {k: pd.Series(v, dtype=object) for k, v in columns.items()}, index=pd.RangeIndex(len(objects))
    )


def typed(value: Any) -> Any:
    """A comparable form of a value that keeps JSON types, key order, -0.0 and pd.NA apart."""
    if value is pd.NA:
        return ("NA",)
    if isinstance(value, dict):
        return ("dict", tuple((k, typed(v)) for k, v in value.items()))
    if isinstance(value, list):
        return ("list", tuple(typed(v) for v in value))
    if isinstance(value, float):
        return ("float", repr(value))
    return (type(value).__name__, value)


def frame_form(df: pd.DataFrame) -> Any:
    assert all(pd.api.types.is_object_dtype(dtype) for dtype in df.dtypes)
    assert isinstance(df.index, pd.RangeIndex)
    return list(df.columns), [tuple(typed(v) for v in row) for row in df.itertuples(index=False, name=None)]


def reference_rows(df: pd.DataFrame) -> list[dict[str, Any]]:
    """The rows as the writer used to see them: itertuples, missing cells dropped, numpy made plain."""

    def missing(v: Any) -> bool:
        return v is pd.NA or (isinstance(v, float) and math.isnan(v))

    columns = [str(c) for c in df.columns]
    return [
        {
            c: (v.item() if isinstance(v, np.generic) else v)
            for c, v in zip(columns, row, strict=True)
            if not missing(v)
        }
        for row in df.itertuples(index=False, name=None)
    ]


def reference_line(obj: dict[str, Any]) -> str:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


@pytest.fixture(params=[None, 64], ids=["batches", "tiny-batches"])
def batch_bytes(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> int | None:
    """Run with the real batch and block sizes, and with tiny ones that put every boundary in play."""
    if request.param is not None:
        monkeypatch.setattr(manifest_module, "_BATCH_BYTES", request.param)
        monkeypatch.setattr(manifest_module, "_BLOCK_ROWS", 3)
        monkeypatch.setattr(manifest_module, "_BLOCK_CHARS", 40)
    return request.param


def read_both(data: bytes) -> tuple[pd.DataFrame, pd.DataFrame]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ManifestWarning)
        fast = read_manifest(io.BytesIO(data))
    return fast, reference_frame([obj for _, obj in reference_objects(data)])


# -- reading ----------------------------------------------------------------------------------


@pytest.mark.parametrize("path", [*sorted(DATA.glob("*.manifest")), BIRD_JOB], ids=lambda p: p.name)
def test_fixtures_read_as_the_plain_reader_reads_them(path: Path, batch_bytes: int | None) -> None:
    fast, reference = read_both(path.read_bytes())
    assert frame_form(fast) == frame_form(reference)


SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()  # unbounded: beyond 64 bits too
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
    | st.sampled_from(["12345678901234567890", "\u2028", "\x00", "\ud800", "é", "\\", '"'])
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=10,
)


@st.composite
def manifest_bytes(draw: st.DrawFn) -> bytes:
    keys = draw(
        st.lists(st.sampled_from(["source-ref", "source", "a", "b", "x-metadata", "", "é"]), max_size=5)
    )
    lines = []
    for _ in range(draw(st.integers(min_value=1, max_value=12))):
        obj = {k: draw(VALUES) for k in draw(st.permutations(keys)) if draw(st.booleans())}
        text = json.dumps(
            obj,
            ensure_ascii=draw(st.booleans()),
            separators=draw(st.sampled_from([(",", ":"), (", ", ": ")])),
        )
        lines.append(text + draw(st.sampled_from(["\n", "\r\n", "\n\n", "\n \t\n"])))
    data = "".join(lines).encode("utf-8", "surrogatepass")  # a raw lone surrogate: not UTF-8
    return (b"\xef\xbb\xbf" if draw(st.booleans()) else b"") + data


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=manifest_bytes())
def test_any_manifest_reads_as_the_plain_reader_reads_it(data: bytes, batch_bytes: int | None) -> None:
    try:
        reference = reference_frame([obj for _, obj in reference_objects(data)])
    except (UnicodeDecodeError, ValueError):
        with pytest.raises(ManifestError):
            read_manifest(io.BytesIO(data))
        return
    fast, _ = read_both(data)
    assert frame_form(fast) == frame_form(reference)


def test_integers_beyond_64_bits_stay_exact_ints(batch_bytes: int | None) -> None:
    values = [2**63 - 1, 2**63, -(2**63) - 1, 2**64, 10**30, -(10**19)]
    data = "".join(json.dumps({"source": "s", "n": v, "text": "no digits"}) + "\n" for v in values).encode()
    df = read_manifest(io.BytesIO(data))
    assert [(type(v), v) for v in df["n"]] == [(int, v) for v in values]


def test_lone_surrogate_escapes_are_refused_naming_their_line(batch_bytes: int | None) -> None:
    paired = b'{"source":"ok"}\n{"source":"\\ud83d\\ude00x"}\n'
    assert read_manifest(io.BytesIO(paired))["source"].tolist() == ["ok", "\U0001f600x"]
    data = b'{"source":"ok"}\n{"source":"\\ud800x"}\n{"source":"fine"}\n'
    with pytest.raises(ManifestError, match="line 2: source holds a lone UTF-16 surrogate"):
        read_manifest(io.BytesIO(data))


def test_columns_first_seen_in_a_later_batch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(manifest_module, "_BATCH_BYTES", 40)
    lines = [{"source-ref": f"s3://b/{i}.jpg"} for i in range(10)]
    lines[7]["late"] = None  # null, not missing
    lines[8]["later"] = 8
    data = "".join(json.dumps(o) + "\n" for o in lines).encode()
    df = read_manifest(io.BytesIO(data))
    assert list(df.columns) == ["source-ref", "late", "later"]
    assert [v is pd.NA for v in df["late"]] == [i != 7 for i in range(10)]
    assert df.at[7, "late"] is None
    assert df["later"].tolist()[7:] == [pd.NA, 8, pd.NA]


def test_errors_and_warnings_past_the_first_batch_name_their_lines(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(manifest_module, "_BATCH_BYTES", 100)
    good = '{"source-ref":"s3://b/a.jpg"}\n'
    odd = (
        '{"source":"short","l":{"annotations":{"entities":[{"startOffset":0,"endOffset":99}]}},'
        '"l-metadata":{"type":"groundtruth/text-span"}}\n'
    )
    path = tmp_path / "m.manifest"
    path.write_text(good * 20 + "\n" + odd + good * 5 + odd)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        df = read_manifest(path)
    assert len(df) == 27
    assert [str(w.message).split(":")[0] for w in caught] == [f"{path}, line 22", f"{path}, line 28"]

    path.write_text(good * 30 + "\n" + '{"source": NaN}\n' + good)
    with pytest.raises(ManifestError) as info:
        read_manifest(path)
    assert info.value.line == 32
    assert "NaN is not valid JSON" in str(info.value)


def test_a_file_object_without_readlines_is_read_in_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(manifest_module, "_BATCH_BYTES", 50)
    data = b"".join(json.dumps({"source": f"text {i}", "i": i}).encode() + b"\n" for i in range(20))

    class Stream:
        """Only what a file object must have: read, and iteration over lines."""

        def __init__(self, data: bytes) -> None:
            self._lines = io.BytesIO(data).readlines()
            self.name = "stream.manifest"

        def read(self, n: int = -1) -> bytes:
            raise AssertionError("not called")

        def __iter__(self) -> Any:
            return iter(self._lines)

    df = read_manifest(Stream(data))  # type: ignore[arg-type]
    assert df["i"].tolist() == list(range(20))


# -- writing -----------------------------------------------------------------------------------


def test_fixtures_write_as_the_plain_writer_wrote_them(batch_bytes: int | None, tmp_path: Path) -> None:
    for path in [*sorted(DATA.glob("*.manifest")), BIRD_JOB]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ManifestWarning)
            df = read_manifest(path)
        out = tmp_path / path.name
        write_manifest(df, out)
        expected = "".join(reference_line(o) + "\n" for o in reference_rows(df))
        assert out.read_text(encoding="utf-8") == expected, path.name


def _cells(draw: st.DrawFn, kind: str, n: int) -> pd.Series:
    if kind == "object":
        cells = st.one_of(VALUES, st.just(pd.NA), st.just(float("nan")), st.integers(-5, 5).map(np.int64),
                          st.booleans().map(np.bool_), st.floats(allow_nan=False, allow_infinity=False).map(np.float64))  # fmt: skip
        return pd.Series(draw(st.lists(cells, min_size=n, max_size=n)), dtype=object)
    if kind == "float":
        values = draw(
            st.lists(st.floats(allow_infinity=False) | st.just(float("nan")), min_size=n, max_size=n)
        )
        return pd.Series(values, dtype="float64")
    if kind == "int":
        return pd.Series(draw(st.lists(st.integers(-(2**40), 2**40), min_size=n, max_size=n)), dtype="int64")
    if kind == "bool":
        return pd.Series(draw(st.lists(st.booleans(), min_size=n, max_size=n)), dtype=bool)
    if kind == "Int64":
        return pd.Series(
            draw(st.lists(st.integers(-9, 9) | st.none(), min_size=n, max_size=n)), dtype="Int64"
        )
    values = draw(st.lists(st.text(max_size=5) | st.none(), min_size=n, max_size=n))
    return pd.Series(values, dtype="str")  # pandas' string dtype: NaN where missing


@st.composite
def frames(draw: st.DrawFn) -> pd.DataFrame:
    n = draw(st.integers(min_value=0, max_value=9))
    names = draw(st.lists(st.sampled_from(["source", "a", "b", "b", "label-metadata", "7"]), max_size=5))
    kinds = st.sampled_from(["object", "object", "float", "int", "bool", "Int64", "str"])
    df = pd.DataFrame(index=range(n))
    for k, name in enumerate(names):
        df.insert(k, name, _cells(draw, draw(kinds), n), allow_duplicates=True)
    return df


@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(df=frames())
def test_any_frame_gives_the_rows_and_lines_the_plain_writer_gave(
    df: pd.DataFrame, batch_bytes: int | None
) -> None:
    if len(set(map(str, df.columns))) < len(df.columns):  # a line holds each key once
        with pytest.raises(ValueError, match="duplicate columns"):
            write_manifest(df, io.StringIO())
        return
    rows = list(row_objects(df))
    reference = reference_rows(df)
    assert [typed(r) for r in rows] == [typed(r) for r in reference]
    out = io.StringIO()
    try:
        expected = "".join(reference_line(o) + "\n" for o in reference)
    except (TypeError, ValueError):
        with pytest.raises(ValueError, match=r"^row \d+: cannot be written as JSON"):
            write_manifest(df, out)
        return
    write_manifest(df, out)
    assert out.getvalue() == expected


@pytest.mark.parametrize(
    "column",
    [
        pd.Series(pd.to_datetime(["2024-01-01", "2024-01-02"])),
        pd.Series(pd.to_timedelta([1, 2], unit="s")),
        pd.Series(pd.Categorical(["dict", "x"])),
        pd.Series([1.5, None], dtype="Float64"),
        pd.Series([np.float32(0.5), np.datetime64("2024-01-01")], dtype=object),
    ],
    ids=["datetime64", "timedelta64", "categorical", "Float64", "numpy-scalars"],
)
def test_other_dtypes_write_or_fail_as_before(column: pd.Series, tmp_path: Path) -> None:
    df = pd.DataFrame({"source": ["a", "b"], "x": column})
    assert [typed(r) for r in row_objects(df)] == [typed(r) for r in reference_rows(df)]
    try:
        expected = "".join(reference_line(o) + "\n" for o in reference_rows(df))
    except (TypeError, ValueError):
        with pytest.raises(ValueError, match=r"^row \d: cannot be written as JSON"):
            write_manifest(df, tmp_path / "out.manifest")
        return
    write_manifest(df, tmp_path / "out.manifest")
    assert (tmp_path / "out.manifest").read_text(encoding="utf-8") == expected


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.text(max_size=6), VALUES, max_size=5))
def test_the_writers_encoder_spells_lines_as_json_dumps(obj: dict[str, Any]) -> None:
    encode = manifest_module._line_encoder()
    try:
        expected = reference_line(obj)
    except ValueError:
        with pytest.raises(ValueError):
            encode(obj)
        return
    assert encode(obj) == expected


def test_row_numbers_in_write_errors_count_across_blocks(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(manifest_module, "_BLOCK_ROWS", 4)
    rows: list[dict[str, Any]] = [{"source": str(i)} for i in range(11)]
    rows[9]["x"] = float("nan")
    with pytest.raises(ValueError, match=r"^row 9: cannot be written as JSON"):
        write_manifest(rows, tmp_path / "out.manifest")
    assert list(tmp_path.iterdir()) == []


def test_a_lone_surrogate_or_a_too_deep_value_names_its_row_and_writes_nothing(tmp_path: Path) -> None:
    target = tmp_path / "out.manifest"
    deep: Any = 1
    for _ in range(5000):
        deep = [deep]
    for bad, words in (
        ("\ud800", "row 2: cannot be written as UTF-8"),
        (deep, "row 2: cannot be written as JSON: nested too deeply"),
    ):
        df = pd.DataFrame({"source": pd.Series(["a", "b", bad], dtype=object)})
        with pytest.raises(ValueError, match=words):
            write_manifest(df, target)
        assert list(tmp_path.iterdir()) == []


# -- keys, positions, media check, output ------------------------------------------------------


def reference_keys(refs: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    used: set[str] = set()
    keys = []
    for base in refs:
        seen[base] = seen.get(base, 0) + 1
        key = base if seen[base] == 1 else f"{base}#{seen[base]}"
        while key in used:
            seen[base] += 1
            key = f"{base}#{seen[base]}"
        used.add(key)
        keys.append(key)
    return keys


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(["a.jpg", "b.jpg", "a.jpg#2", "a.jpg#3", "c.jpg#2", "c.jpg"]), max_size=12))
def test_item_keys_of_refs_with_and_without_repeats(refs: list[str]) -> None:
    assert item_keys(pd.DataFrame({"source-ref": pd.Series(refs, dtype=object)})) == reference_keys(refs)


@pytest.mark.parametrize("order", ["sorted", "shuffled"])
def test_key_positions_look_up_like_a_dict(order: str) -> None:
    keys = [f"s3://b/{i:04d}.jpg" for i in range(500)]
    if order == "shuffled":
        random.Random(0).shuffle(keys)
    positions = KeyPositions(keys)
    assert len(positions) == 500
    for i, key in enumerate(keys):
        assert key in positions
        assert positions[key] == i and type(positions[key]) is int
        assert positions.get(key) == i
    for other in ["s3://b/9999.jpg", "", 3, None, ("a",), ["unhashable"]]:
        assert other not in positions
        assert positions.get(other) is None  # type: ignore[arg-type]
        with pytest.raises(KeyError):
            positions[other]  # type: ignore[index]
    assert len(KeyPositions([])) == 0 and "a" not in KeyPositions([])


@pytest.mark.parametrize(
    "ref",
    [
        "../x.jpg",
        "a/../../x.jpg",
        "file:///data/%2e%2e/x.jpg",
        "file:///data/%2E%2E/etc/passwd",
        "file:///a/../b.jpg",
    ],
)
def test_climbing_refs_are_refused_among_many(ref: str) -> None:
    refs: list[Any] = [f"s3://bucket/{i}.jpg" for i in range(1000)] + ["plain.jpg", pd.NA, None, ref]
    with pytest.raises(ValueError, match=r"row 1003: source-ref .* climbs out"):
        check_local_refs(refs)


def test_harmless_refs_pass_the_quick_check() -> None:
    check_local_refs(
        [f"s3://bucket/{i}.jpg" for i in range(1000)] + ["s3://b/../x.jpg", "a..b.jpg", "x/y.jpg"]
    )
    check_local_refs(["a.jpg", np.nan, None, 3])  # not strings: the job's own check names those


def test_to_dataframe_ignores_answers_for_items_this_job_does_not_have(tmp_path: Path) -> None:
    store = tmp_path / "s.sqlite"
    first = Job(
        "j",
        pd.DataFrame({"source-ref": ["a.jpg", "b.jpg", "gone.jpg"]}),
        ImageClassification(["x", "y"]),
        store=store,
    )
    first.label("gone.jpg", "y")
    first.label("b.jpg", "x")
    job = Job(
        "j",
        pd.DataFrame({"source-ref": ["a.jpg", "b.jpg", "c.jpg"]}),
        ImageClassification(["x", "y"]),
        store=store,
    )
    job.store.append([Annotation("nowhere.jpg", "j", "me", "human", "y")])
    out = job.to_dataframe()
    assert [v is pd.NA for v in out["j"]] == [True, False, True]
    assert out.at[1, "j-metadata"]["class-name"] == "x"


# -- the benchmark script itself ---------------------------------------------------------------


def test_scale_benchmark_runs_small_and_writes_only_its_section(tmp_path: Path) -> None:
    """``python -m benchmarks.scale`` end to end at a toy size (its figures mean nothing here)."""
    root = Path(__file__).resolve().parents[2]
    out = tmp_path / "BENCHMARKS.md"
    out.write_text("# Benchmarks\n\n<!-- other:start -->\nkept\n<!-- other:end -->\n")
    args = ["--lines", "300", "--repeats", "1", "--label-count", "3", "--window", "2"]
    subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks.scale",
            *args,
            "--cache",
            str(tmp_path / "cache"),
            "--out",
            str(out),
        ],
        cwd=root,
        check=True,
        capture_output=True,
        timeout=600,
    )
    text = out.read_text()
    assert "<!-- other:start -->\nkept\n<!-- other:end -->" in text
    section = text.split("<!-- scale:start -->")[1].split("<!-- scale:end -->")[0]
    assert "a 300-line manifest" in section
    assert "The first reply carried 2 items (the window) of 300" in section
    for row in (
        "**open → first item**",
        "widget answer → ack",
        "`write_manifest(out, path)`",
        "shuffled keys",
    ):
        assert row in section
