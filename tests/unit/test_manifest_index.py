"""A manifest opened lazily (``nblabel.manifest_index``) gives what reading it whole gives.

Keys, rows and chunks are compared with :func:`nblabel.manifest.read_manifest` on the same file,
with blocks made tiny so every line crosses a block boundary somewhere and the file cut into
three ranges scanned by three threads, and on random plain manifests (hypothesis) with any block
size and number of ranges; manifests outside the plain form are left to the full reader; a Job
over a path is the same job as over its DataFrame; an ``s3://`` manifest is opened through the
S3 reader (moto's server) and its rows read by range.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nblabel import ImageClassification, Job, TextClassification
from nblabel import job as job_module
from nblabel import manifest_index as manifest_index_module
from nblabel.io.guard import FileGuard
from nblabel.manifest import ManifestError, read_manifest, write_manifest
from nblabel.manifest_index import ManifestIndex, open_manifest

pytest_plugins = ["s3_fixtures"]

LINES = [
    '{"source-ref":"s3://b/a.jpg","id":1}',
    '{"source-ref":"s3://b/é/ü.jpg","id":2,"extra":{"nested":[1,2]}}',
    '{"source-ref":"s3://b/a.jpg","note":"a repeat, numbered #2"}',
    '{"source-ref":"/data/img 4.png"}',
]


def write(path: Path, lines: list[str], end: str = "\n", last: bool = True) -> Path:
    path.write_bytes((end.join(lines) + (end if last else "")).encode("utf-8"))
    return path


@pytest.fixture(params=[None, 7], ids=["blocks", "tiny-blocks"])
def blocks(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    if request.param is not None:  # tiny blocks, and the file scanned in three ranges at once
        monkeypatch.setattr(manifest_index_module, "_BLOCK_BYTES", request.param)
        monkeypatch.setattr(manifest_index_module, "_THREADS", 3)


@pytest.mark.parametrize("end", ["\n", "\r\n"])
@pytest.mark.parametrize("last", [True, False], ids=["newline-at-end", "no-newline-at-end"])
def test_keys_offsets_rows_and_chunks_match_the_full_reader(
    tmp_path: Path, blocks: None, end: str, last: bool
) -> None:
    path = write(tmp_path / "m.manifest", LINES, end, last)
    index = open_manifest(path)
    whole = read_manifest(path)
    assert isinstance(index, ManifestIndex) and len(index) == len(whole) == 4
    assert index.keys == whole["source-ref"].tolist()
    assert index.offsets[0] == 0 and index.offsets[-1] == path.stat().st_size
    assert index.may_climb is False and index.metadata is False
    rows = index.rows([3, 1])
    assert rows.index.tolist() == [3, 1]
    assert rows.loc[1, "extra"] == {"nested": [1, 2]} and rows.loc[3, "source-ref"] == "/data/img 4.png"
    chunks = list(index.chunks(rows=3))
    assert [len(c) for c in chunks] == [3, 1] and chunks[1].index.tolist() == [3]
    for chunk in chunks:  # each with the columns its lines have
        pd.testing.assert_frame_equal(chunk, whole.loc[chunk.index, chunk.columns])
    pd.testing.assert_frame_equal(index.to_dataframe(), whole)
    assert index.mentions('"note"') and not index.mentions('"label-metadata"')


@pytest.mark.parametrize(
    "line",
    [
        '{"id":1,"source-ref":"s3://b/x.jpg"}',  # the key not first
        '{ "source-ref":"s3://b/x.jpg"}',  # spaces
        '{"source-ref":"s3://b/\\u00e9.jpg"}',  # an escape in the key
        '{"source-ref":"s3://b/x.jpg","source-ref":"s3://b/y.jpg"}',  # JSON keeps the last
        "",  # a blank line
        '{"source-ref":"s3://b/x\x00.jpg"}',  # a NUL byte
    ],
)
def test_any_other_form_is_left_to_the_full_reader(tmp_path: Path, blocks: None, line: str) -> None:
    assert open_manifest(write(tmp_path / "m.manifest", [LINES[0], line, LINES[3]])) is None


def test_ranges_scanned_at_once_give_the_whole_files_positions(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 300 lines of varied lengths in 64-byte blocks, cut into four ranges; a repeat spans ranges.
    monkeypatch.setattr(manifest_index_module, "_BLOCK_BYTES", 64)
    monkeypatch.setattr(manifest_index_module, "_THREADS", 4)
    refs = [f"s3://b/{'d/' * (i % 7)}{i}.jpg" for i in range(300)]
    lines = [f'{{"source-ref":"{r}"' + (',"id":' + str(i) if i % 3 else "") + "}" for i, r in enumerate(refs)]
    index = open_manifest(write(tmp_path / "m.manifest", lines))
    assert index is not None and index.unique and index.keys == refs
    assert index.offsets.tolist() == [0, *(pd.Series(lines).str.len() + 1).cumsum().tolist()]
    assert [index.position(r) for r in refs] == list(range(300))
    repeated = open_manifest(write(tmp_path / "r.manifest", [*lines, lines[5], *lines[:2]]))
    assert not repeated.unique and repeated.position(refs[5]) == 5 and len(repeated) == 303
    empty = open_manifest(write(tmp_path / "e.manifest", [], last=False))
    assert empty is not None and len(empty) == 0 and empty.unique and empty.offsets.tolist() == [0]


def test_only_lines_long_enough_for_a_second_attribute_are_searched_for_one(tmp_path: Path) -> None:
    short = [f'{{"source-ref":"s3://b/{i}.jpg","id":{i}}}' for i in range(5)]
    plain = open_manifest(write(tmp_path / "m.manifest", short))
    assert plain is not None and not plain.metadata
    # The shortest valid line with "source-ref" twice is searched for, and left to the full reader.
    assert (
        open_manifest(write(tmp_path / "r.manifest", [*short, '{"source-ref":"s3://b/x","source-ref":0}']))
        is None
    )
    labeled = open_manifest(
        write(tmp_path / "l.manifest", [*short, '{"source-ref":"s3://b/x","a-metadata":0}'])
    )
    assert labeled is not None and labeled.metadata
    # A shorter line that spells "source-ref" again is no valid JSON: its row says so when read.
    broken = open_manifest(write(tmp_path / "b.manifest", [*short, '{"source-ref":"s3://b/x","source-ref"}']))
    assert broken is not None and broken.keys[5] == "s3://b/x"
    with pytest.raises(ManifestError, match=r"b\.manifest, line 6: invalid JSON"):
        broken.rows([5])


def test_a_bad_line_is_named_when_its_row_is_read(tmp_path: Path) -> None:
    index = open_manifest(
        write(tmp_path / "m.manifest", [LINES[0], '{"source-ref":"s3://b/x.jpg",}', LINES[3]])
    )
    assert index is not None
    with pytest.raises(ManifestError, match=r"m\.manifest, line 2: invalid JSON"):
        index.rows([0, 1])


def test_a_path_that_may_climb_is_checked_like_a_dataframe(tmp_path: Path) -> None:
    path = write(tmp_path / "m.manifest", [LINES[0], '{"source-ref":"../etc/passwd"}'])
    assert open_manifest(path).may_climb
    chained = write(tmp_path / "c.manifest", ['{"source-ref":"s3://b/a.jpg","x":1,"x-metadata":{}}'])
    assert open_manifest(chained).metadata
    with pytest.raises(ValueError, match=r"row 1: source-ref"):
        Job("lazy", path, ImageClassification(["cat", "dog"]), store=tmp_path / "s.sqlite")


def test_a_job_over_a_path_is_the_job_over_its_dataframe(tmp_path: Path) -> None:
    path = write(tmp_path / "m.manifest", LINES)
    task = ImageClassification(["cat", "dog"])
    lazy = Job("lazy", path, task, store=tmp_path / "lazy.sqlite")
    eager = Job("eager", read_manifest(path), task, store=tmp_path / "eager.sqlite", attribute="lazy")
    assert lazy.items._data is None  # nothing but keys and offsets read yet
    assert lazy.keys == eager.keys == ["s3://b/a.jpg", "s3://b/é/ü.jpg", "s3://b/a.jpg#2", "/data/img 4.png"]
    for job in (lazy, eager):
        job.label(0, "cat")
    first = lazy.pending(2)
    assert first.index.tolist() == [1, 2] and first.loc[2, "note"] == "a repeat, numbered #2"
    assert lazy.items._data is None
    assert lazy.add(pd.DataFrame({"source-ref": ["s3://b/new.jpg"]})) == 1
    assert lazy.pending(4).index.tolist() == [1, 2, 3, 4] and lazy.items._data is None
    assert lazy.items.line(4)["source-ref"] == "s3://b/new.jpg"
    eager.add(pd.DataFrame({"source-ref": ["s3://b/new.jpg"]}))
    out = lazy.to_dataframe()  # reads the file whole, added rows after it
    expected = eager.to_dataframe()
    meta = "lazy-metadata"
    assert out.drop(columns=[meta]).equals(expected.drop(columns=[meta]))
    assert out[meta].notna().tolist() == expected[meta].notna().tolist() == [True, False, False, False, False]


def test_a_text_task_reads_the_file_whole(tmp_path: Path) -> None:
    path = write(tmp_path / "m.manifest", ['{"source":"a text"}', '{"source":"another"}'])
    job = Job("texts", path, TextClassification(["a", "b"]), store=tmp_path / "s.sqlite")
    assert job.items._data is not None and len(job.keys) == 2


def test_an_s3_manifest_is_opened_lazily_and_its_rows_read_by_range(
    tmp_path: Path, bucket: str, s3_direct
) -> None:
    s3_direct.put_object(Bucket=bucket, Key="m.manifest", Body=("\n".join(LINES) + "\n").encode("utf-8"))
    uri = f"s3://{bucket}/m.manifest"
    index = open_manifest(uri)
    assert index is not None and index.keys == [ref for ref in read_manifest(uri)["source-ref"]]
    assert index.rows([1]).loc[1, "extra"] == {"nested": [1, 2]}
    job = Job("s3", uri, ImageClassification(["cat", "dog"]), store=tmp_path / "s.sqlite")
    assert job.pending(1).index.tolist() == [0] and job.items._data is None


def test_an_earlier_jobs_labels_in_a_lazily_opened_file_are_carried_over(tmp_path: Path) -> None:
    task = ImageClassification(["cat", "dog"])
    first = Job(
        "pets", read_manifest(write(tmp_path / "m.manifest", LINES)), task, store=tmp_path / "a.sqlite"
    )
    first.label(1, "dog")
    write_manifest(first.to_dataframe(), tmp_path / "out.manifest")
    again = Job("pets", tmp_path / "out.manifest", task, store=tmp_path / "b.sqlite")
    assert again.current(1) is not None and again.current(1).value == "dog"
    assert again.current(0) is None and again.progress.labeled == 1


@pytest.mark.parametrize("length", [1, 7, 8, 9, 16, 23, 40, 63, 64, 65, 130])
def test_keys_of_any_length_are_found_and_others_are_not(tmp_path: Path, length: int) -> None:
    refs = [f"s3://b/{i:03d}".ljust(length + 10, "x")[: max(length, 10)] + f"{i}" for i in range(40)]
    index = open_manifest(write(tmp_path / "m.manifest", [f'{{"source-ref":"{r}"}}' for r in refs]))
    assert index is not None and index.unique and index.keys == refs
    assert [index.position(r) for r in refs] == list(range(40))
    assert index.position(refs[0] + "y") is None and index.position(refs[0][:-1]) is None
    assert index.position('s3://b/"') is None and index.key_range(38, 40) == refs[38:]


@pytest.mark.parametrize(
    ("ref", "climbs"),
    [("/d/a..b.png", True), ("/d/1234567..x", True), ("/d/a.b.c", False), ("s3://b/a..b", False)],
)
def test_two_dots_in_a_reference_are_seen_at_any_offset(tmp_path: Path, ref: str, climbs: bool) -> None:
    lines = [LINES[0], f'{{"source-ref":"{ref}","note":"a value with .. is no path"}}']
    assert open_manifest(write(tmp_path / "m.manifest", lines)).may_climb is climbs
    # Wherever the pair sits in the block's 64-bit words of flags, and only inside a key (an
    # s3:// URI never climbs, nor makes the local path before it climb).
    folder = ref.rindex("/") + 1
    for pad in range(66):
        padded = ref[:folder] + "a" * pad + ref[folder:]
        lines = [LINES[3], f'{{"source-ref":"{padded}","x":"."}}', LINES[0]]
        assert open_manifest(write(tmp_path / f"{pad}.manifest", lines)).may_climb is climbs


def test_keys_whose_hashes_collide_are_told_apart_by_their_bytes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(manifest_index_module, "_mix", lambda h: h & 0)  # every hash the same
    refs = [f"s3://b/{i}.jpg" for i in range(30)]
    index = open_manifest(write(tmp_path / "m.manifest", [f'{{"source-ref":"{r}"}}' for r in refs]))
    assert index.unique and [index.position(r) for r in refs] == list(range(30))
    repeated = open_manifest(
        write(tmp_path / "r.manifest", [f'{{"source-ref":"{r}"}}' for r in [*refs, refs[3]]])
    )
    assert not repeated.unique and repeated.position(refs[3]) == 3


def test_output_and_export_stream_in_chunks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    refs = [f"s3://b/{i}.jpg" for i in range(10)]
    path = write(tmp_path / "m.manifest", [f'{{"source-ref":"{r}","id":{i}}}' for i, r in enumerate(refs)])
    task = ImageClassification(["cat", "dog"])
    lazy = Job("pets", path, task, store=tmp_path / "s.sqlite")
    lazy.label(2, "cat")
    lazy.label(7, "dog")
    lazy.add(pd.DataFrame({"source-ref": ["s3://b/new.jpg"]}))
    eager = Job("pets", read_manifest(path), task, store=tmp_path / "s.sqlite")  # the same store
    read = []  # the sizes of the reads of the lazily opened file
    chunks = manifest_index_module.ManifestIndex.chunks
    monkeypatch.setattr(
        manifest_index_module.ManifestIndex,
        "chunks",
        lambda self, rows: (read.append(len(c)) or c for c in chunks(self, rows)),
    )
    parts = list(lazy.to_dataframes(rows=3))
    assert [len(p) for p in parts] == [3, 3, 3, 1, 1] and read == [3, 3, 3, 1]
    whole = eager.to_dataframe()
    for part in parts:
        pd.testing.assert_frame_equal(part, whole.loc[part.index, part.columns], check_dtype=False)
    monkeypatch.setattr(job_module, "_OUTPUT_ROWS", 4)
    read.clear()
    done = [job.export(tmp_path / name) for job, name in ((lazy, "lazy"), (eager, "eager"))]
    assert read == [4, 4, 2] and lazy.items.lazy  # never read whole
    assert (done[0].items, done[0].labeled) == (done[1].items, done[1].labeled) == (11, 2)
    manifests = [
        (tmp_path / name / "pets/manifests/output/output.manifest").read_bytes() for name in ("lazy", "eager")
    ]
    assert manifests[0] == manifests[1] and manifests[0].count(b"\n") == 11
    consolidation = "pets/annotations/consolidated-annotation/consolidation-response/iteration-1"
    assert [p.read_bytes() for p in (tmp_path / "lazy" / consolidation).iterdir()] == [
        p.read_bytes() for p in (tmp_path / "eager" / consolidation).iterdir()
    ]


_REFS = st.builds(
    str.__add__,
    st.sampled_from(["s3://b/", "/d/", ""]),
    st.text(alphabet="ab09/._-é %", max_size=140).filter(lambda r: r.strip()),
)
_TAILS = st.sampled_from(
    ["", ',"id":123456789', ',"job-metadata":{"class-name":"cat"},"job":0', ',"note":"a .."']
)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(_REFS, _TAILS), max_size=30),
    st.sampled_from(["\n", "\r\n"]),
    st.booleans(),
    st.sampled_from([7, 64, 1 << 20]),
    st.integers(1, 4),
)
def test_any_plain_manifest_opens_as_the_full_reader_reads_it(
    lines: list[tuple[str, str]], end: str, last: bool, block: int, threads: int
) -> None:
    # Any block size and number of ranges: the keys, offsets, positions and repeats of the
    # full reader, and the flags never False where a reference climbs or a label is there.
    text = end.join('{"source-ref":' + json.dumps(r, ensure_ascii=False) + t + "}" for r, t in lines)
    text += end if last and lines else ""
    with pytest.MonkeyPatch.context() as patch, tempfile.TemporaryDirectory() as folder:
        patch.setattr(manifest_index_module, "_BLOCK_BYTES", block)
        patch.setattr(manifest_index_module, "_THREADS", threads)
        path = Path(folder) / "m.manifest"
        path.write_bytes(text.encode("utf-8"))
        index = open_manifest(path)
        assert index is not None and index.offsets[-1] == len(text.encode("utf-8"))
        refs = read_manifest(path)["source-ref"].tolist() if lines else []
        assert index.keys == refs and index.unique is (len(set(refs)) == len(refs))
        assert [index.position(r) for r in refs] == [refs.index(r) for r in refs]
        assert index.may_climb or not any(FileGuard(None).refusal(r) for r in refs)
        assert index.metadata is any("-metadata" in t for _, t in lines)
