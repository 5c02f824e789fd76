"""Fixtures for the browser tests: Debian chromium, one Jupyter server per UI, notebook pages.

Every test under tests/e2e is marked ``browser`` automatically, and every test that takes the
``screenshot_path`` fixture ``screenshots`` as well. Screenshots go to the ignored
``test-screenshots/``, so a test run leaves the checkout as it was; ``make screenshots`` runs
``pytest -m screenshots --screenshot-dir docs/img`` to refresh the documentation's pictures on
purpose. (Not under ``test-results/``: pytest-playwright owns that folder and deletes it from a
session fixture; in a run of Lab and Notebook 7 tests it was emptied between the two.)
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.harness import JupyterServer, NotebookPage, chromium_launch_args

_HERE = Path(__file__).resolve().parent
REPO_ROOT = _HERE.parents[1]
SRC = REPO_ROOT / "src"
_CALL_FAILED = pytest.StashKey[bool]()


@pytest.hookimpl(tryfirst=True)  # before `-m` deselection runs
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    kept: list[pytest.Item] = []
    lab_only: list[pytest.Item] = []
    for item in items:
        if _HERE in Path(item.path).resolve().parents:
            item.add_marker(pytest.mark.browser)
            if "screenshot_path" in getattr(item, "fixturenames", ()):
                item.add_marker(pytest.mark.screenshots)
            if _ui(item) == "notebook" and item.get_closest_marker("notebook7") is None:
                lab_only.append(item)
                continue
        kept.append(item)
    # Notebook 7 runs the `notebook7` tests: one or two per widget kind, where the page around
    # the widget (focus, keys, layout, theme) differs from JupyterLab's. Every other browser test
    # checks the widget's own behaviour, which is the same code in both, and runs in Lab only.
    if lab_only:
        config.hook.pytest_deselected(items=lab_only)
        items[:] = kept


def _ui(item: pytest.Item) -> str | None:
    callspec = getattr(item, "callspec", None)
    return callspec.params.get("jupyter") if callspec is not None else None


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> object:
    report = yield
    if report.when == "call":
        item.stash[_CALL_FAILED] = report.failed
    return report


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> dict:
    """pytest-playwright: use Debian's /usr/bin/chromium, never a downloaded build (G8)."""
    return {**browser_type_launch_args, **chromium_launch_args()}


@pytest.fixture
def screenshot_path(request: pytest.FixtureRequest) -> Callable[[str], Path]:
    """Factory: ``screenshot_path("boxes.png")`` is where to save that picture (``--screenshot-dir``,
    registered in tests/conftest.py)."""
    folder = Path(request.config.getoption("--screenshot-dir")).resolve()

    def path(name: str) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        return folder / name

    return path


@pytest.fixture(scope="session", params=["lab", "notebook"])
def jupyter(request: pytest.FixtureRequest) -> Iterator[JupyterServer]:
    """One server per UI (G6): `jupyter lab` for Lab tests, `jupyter notebook` for NB7 tests."""
    with tempfile.TemporaryDirectory(prefix=f"nblabel-e2e-{request.param}-") as tmp:
        root, home = Path(tmp) / "root", Path(tmp) / "home"
        root.mkdir()
        home.mkdir()
        pythonpath = [str(SRC)]
        if os.environ.get("PYTHONPATH"):
            pythonpath.append(os.environ["PYTHONPATH"])
        env = {"PYTHONPATH": os.pathsep.join(pythonpath), "HOME": str(home)}
        # The crash loop kills kernels faster than Jupyter's default of 5 restarts in a row allows.
        args = ["--KernelRestarter.restart_limit=1000"]
        with JupyterServer(request.param, root, env_extra=env, extra_args=args) as server:
            yield server


@pytest.fixture
def notebook(
    page, jupyter: JupyterServer, request: pytest.FixtureRequest
) -> Iterator[Callable[..., NotebookPage]]:
    """Factory: ``nb = notebook(["code", ...], name=None)`` writes and opens a notebook.

    The first call uses pytest-playwright's ``page``; later calls open new pages in the same
    context. Teardown deletes the kernel sessions (G14) and fails on unexpected page errors.
    """
    opened: list[NotebookPage] = []
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name).strip("_")

    def open_notebook(cells: list[str], name: str | None = None) -> NotebookPage:
        pg = page if not opened else page.context.new_page()
        nb = NotebookPage(pg, jupyter)
        opened.append(nb)
        return nb.open(name or f"{stem}-{len(opened)}.ipynb", cells)

    yield open_notebook

    if request.node.stash.get(_CALL_FAILED, False):
        print(f"--- jupyter {jupyter.app} server log (tail) ---\n{jupyter.log_tail(80)}")
    errors: list[str] = []
    for nb in opened:
        nb.close()
        errors += nb.page_errors
    if errors:
        pytest.fail("unexpected page errors:\n" + "\n".join(errors), pytrace=False)
