"""The example notebooks run top to bottom in a real kernel, leave nothing for git to see, and are
up to date with their source; the quickstart really auto-labels."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from tools import make_notebooks

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "example_notebooks").glob("*.ipynb"))


#: What running a notebook may write next to it: the jobs' stores and the exported files.
WRITTEN = {".nblabel", "out"}


def test_there_is_a_quickstart() -> None:
    assert [p.name for p in NOTEBOOKS][:1] == ["01_quickstart.ipynb"]


def test_notebooks_are_numbered_without_gaps() -> None:
    assert [int(p.name[:2]) for p in NOTEBOOKS] == list(range(1, len(NOTEBOOKS) + 1))


def test_what_notebooks_write_is_ignored_by_git() -> None:
    for name in WRITTEN:
        path = f"example_notebooks/{name}/anything"
        ignored = subprocess.run(["git", "check-ignore", "-q", "--no-index", path], cwd=ROOT, check=False)
        assert ignored.returncode == 0, f"{path} would show up in git status"


def run_notebook(path: Path, folder: Path, monkeypatch: pytest.MonkeyPatch) -> nbformat.NotebookNode:
    """Run a notebook top to bottom in ``folder`` (its working directory); return it with outputs."""
    monkeypatch.setenv("NBLABEL_DATA_DIR", str(folder.parent / "data"))  # the kernel inherits it
    nb = nbformat.read(path, as_version=4)
    # A cell may take minutes on a loaded machine: the quickstart's auto-labeling round.
    client = NotebookClient(
        nb, timeout=900, kernel_name="python3", resources={"metadata": {"path": str(folder)}}
    )
    client.execute()
    return nb


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs(path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "notebooks"
    folder.mkdir()
    nb = run_notebook(path, folder, monkeypatch)
    outputs = [o for cell in nb.cells if cell.cell_type == "code" for o in cell.get("outputs", [])]
    assert not [o for o in outputs if o.output_type == "error"]
    widgets = [o for o in outputs if "application/vnd.jupyter.widget-view+json" in o.get("data", {})]
    assert len(widgets) >= 1, "the notebook should show at least one labeling widget"
    assert (folder / ".nblabel").is_dir(), "the jobs' stores live next to the notebook"
    assert {p.name for p in folder.iterdir()} <= WRITTEN
    if path.name == "01_quickstart.ipynb":
        check_quickstart(nb)
    if path.name == "08_preferences.ipynb":  # #25: the notebook plots the leaderboard
        assert any("image/png" in o.get("data", {}) for o in outputs)


def check_quickstart(nb: nbformat.NotebookNode) -> None:
    """The fast-forward reaches auto-labels, they are right against gold, and the result shows
    rows with ``human-annotated: "no"``."""
    text = "\n".join(
        o.get("text", "") for cell in nb.cells if cell.cell_type == "code" for o in cell.get("outputs", [])
    )
    found = re.search(r"(\d+) auto-labeled, ([\d.]+)% right against gold", text)
    assert found, text
    assert int(found[1]) > 100
    assert float(found[2]) >= 95.0
    assert "items auto-labeled" in text  # the round's report
    shown = "\n".join(
        o.get("data", {}).get("text/plain", "")
        for cell in nb.cells
        if cell.cell_type == "code"
        for o in cell.get("outputs", [])
    )
    assert "'human-annotated': 'no'" in shown
    bars = [
        o["data"]["text/html"]
        for cell in nb.cells
        if cell.cell_type == "code"
        for o in cell.get("outputs", [])
        if "nblabel-progress" in o.get("data", {}).get("text/html", "")
    ]
    # The first round computes the images' features: its bar ends full, at the job's size.
    assert any("auto-labeler features of the images: 100% 1,500/1,500 images" in bar for bar in bars), bars


def test_notebooks_match_their_source(tmp_path: Path) -> None:
    assert sorted(make_notebooks.NOTEBOOKS) == [p.name for p in NOTEBOOKS]
    for name, cells in make_notebooks.NOTEBOOKS.items():
        built = make_notebooks.build(cells)
        committed = nbformat.read(ROOT / "example_notebooks" / name, as_version=4)
        assert [c.source for c in committed.cells] == [c.source for c in built.cells], name
