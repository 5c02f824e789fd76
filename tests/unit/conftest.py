"""Every unit test runs in its own empty working directory, as annotator "ana"; review widget tests
share a factory."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from recorder import Recorder

if TYPE_CHECKING:
    from nblabel import Job


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Default stores (``.nblabel/<job>.sqlite``) land in the test's temporary folder."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NBLABEL_ANNOTATOR", "ana")


@pytest.fixture
def make_widget() -> Iterator[Callable[..., tuple[Any, Recorder]]]:
    """Factory of review widgets whose ``send`` is a :class:`Recorder`; closed at teardown."""
    from nblabel.widgets import review_widget

    bundle = Path(__file__).resolve().parents[2] / "src" / "nblabel" / "static" / "review.js"
    assert bundle.is_file(), f"{bundle} is missing: build it with `npm run build`"
    made = []

    def make(job: Job, **options: Any) -> tuple[Any, Recorder]:
        w = review_widget(job.feed(), **options)
        recorder = Recorder()
        w.send = recorder
        made.append(w)
        return w, recorder

    yield make
    for w in made:
        w.close()
