"""Watching the store for new auto-labeling rounds, for widgets that show their results."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from nblabel.job import Job

__all__ = ["watch_rounds"]

log = logging.getLogger(__name__)


def watch_rounds(
    job: Job, closed: threading.Event, on_round: Callable[[], None], name: str
) -> threading.Thread:
    """Call ``on_round`` (from a daemon thread) each time a new round lands, until ``closed``.

    The store is polled once a second: rounds come from another process, and a single indexed
    query is cheaper than any notification machinery.
    """

    def run() -> None:
        seen = job.store.latest_round(job.attribute)
        while not closed.wait(1.0):
            try:
                latest = job.store.latest_round(job.attribute)
                if latest is None or (seen is not None and latest[0] == seen[0]):
                    continue
                seen = latest
                on_round()
            except Exception:  # the store may be closing with the kernel; keep the widget alive
                log.exception("nblabel %s: cannot follow the auto-labeler", name)

    thread = threading.Thread(target=run, name=name, daemon=True)
    thread.start()
    return thread
