"""Options for the whole test suite (registered here, at the tests' root, so that pytest knows them
whichever folder it is pointed at)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

# Property tests share 2 cores with browsers and other test processes: slow example generation is
# the machine's load, not a failure (a test's own settings list what it suppresses besides).
settings.register_profile("nblabel", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("nblabel")

SCREENSHOTS = Path(__file__).resolve().parents[1] / "test-screenshots"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--screenshot-dir",
        type=Path,
        default=SCREENSHOTS,
        help="where browser tests save their screenshots (default test-screenshots/, ignored by git; "
        "`make screenshots` passes docs/img)",
    )


#: Tests that start browsers, kernels, servers or worker processes, or train models: they run
#: first, so that under `pytest -n 3` the long ones overlap instead of trailing at the end.
_LONG = ("e2e", "autolabel", "test_notebooks.py", "test_bench_", "test_team_load.py", "test_durability.py")


@pytest.hookimpl(trylast=True)  # after tests/e2e's hook has dropped the Notebook 7 duplicates
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def long(item: pytest.Item) -> bool:
        parts = Path(item.path).parts
        return any(part.startswith(_LONG) for part in parts[-3:])

    items.sort(key=lambda item: not long(item))  # stable: each group keeps its order
