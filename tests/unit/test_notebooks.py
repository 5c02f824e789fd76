"""The example notebooks run top to bottom in a real kernel and are up to date with their source."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from tools import make_notebooks

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "example_notebooks").glob("*.ipynb"))


def test_there_is_a_quickstart() -> None:
    assert [p.name for p in NOTEBOOKS][:1] == ["01_quickstart.ipynb"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs(path: Path, tmp_path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute()
    outputs = [o for cell in nb.cells if cell.cell_type == "code" for o in cell.get("outputs", [])]
    assert not [o for o in outputs if o.output_type == "error"]
    widgets = [o for o in outputs if "application/vnd.jupyter.widget-view+json" in o.get("data", {})]
    assert len(widgets) >= 1, "the notebook should show at least one labeling widget"
    assert (tmp_path / ".nblabel").is_dir(), "the jobs' stores live next to the notebook"


def test_notebooks_match_their_source(tmp_path: Path) -> None:
    assert sorted(make_notebooks.NOTEBOOKS) == [p.name for p in NOTEBOOKS]
    for name, cells in make_notebooks.NOTEBOOKS.items():
        built = make_notebooks.build(cells)
        committed = nbformat.read(ROOT / "example_notebooks" / name, as_version=4)
        assert [c.source for c in committed.cells] == [c.source for c in built.cells], name
