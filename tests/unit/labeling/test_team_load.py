"""Load: four kernels label one job at once, on SQLite and on PostgreSQL; one is killed.

The kernels are real processes. Each takes its items the way the widget does (``Feed``: claim
the next item, then answer it) and prints an answer's uid only after ``job.label`` returned, so
every printed uid is acknowledged. With two answers per item, no item may get a third answer,
nor two from one person; every acknowledged answer must be stored exactly once, the killed
kernel's too, and the survivors must finish their share. Figures go to the test's output
(``pytest -s``) as answers per second.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
import time
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest

from nblabel import ImageClassification, Job

pytest_plugins = ["pg_fixtures"]

SRC = Path(__file__).resolve().parents[3] / "src"
LABELS = ["cat", "dog", "bird"]
KERNELS = 4
ANSWERS = 400  # per kernel
ITEMS = 1000  # 2,000 slots for 1,600 answers: nobody runs dry before their share
PER_ITEM = 2
KILL_AFTER = 120  # the last kernel is SIGKILLed once this many of its answers were acknowledged
TIMEOUT = 600  # seconds: a watchdog for a hung kernel (generous: CI machines are slow), not a synchronisation

KERNEL = textwrap.dedent(
    """
    import sys
    import pandas as pd
    from nblabel import ImageClassification, Job

    spec, who, n, answers = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    df = pd.DataFrame({"source-ref": [f"img{i}.jpg" for i in range(n)]})
    job = Job("load", df, ImageClassification(["cat", "dog", "bird"]), store=spec, annotator=who)
    feed = job.feed()
    print("ready", flush=True)
    assert sys.stdin.readline().strip() == "go"
    done = 0
    while done < answers:
        positions, _dry = feed.next_positions(1)
        if not positions:
            break
        a = job.label(positions[0], ["cat", "dog", "bird"][positions[0] % 3])
        done += 1
        print(a.uid, a.item, flush=True)  # only after label() returned: acknowledged
    print("done", done, flush=True)
    """
)


class Kernel:
    """One labeling process and the lines it printed, read by a thread as they come."""

    def __init__(self, spec: str, who: str, kill_after: int | None = None) -> None:
        self.who = who
        self.kill_after = kill_after
        self.proc = subprocess.Popen(
            [sys.executable, "-c", KERNEL, spec, who, str(ITEMS), str(ANSWERS)],
            env={**os.environ, "PYTHONPATH": str(SRC), "PYTHONUNBUFFERED": "1"},
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.watchdog = threading.Timer(TIMEOUT, self.proc.kill)
        self.watchdog.daemon = True
        self.watchdog.start()
        self.acknowledged: list[tuple[str, str]] = []
        self.done: int | None = None
        self.killed = False
        self.finished_at = 0.0
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        assert line.strip() == "ready", self.proc.stderr.read() if self.proc.stderr else line
        self.reader = threading.Thread(target=self._read, daemon=True)

    def go(self) -> None:
        assert self.proc.stdin is not None
        self.reader.start()
        self.proc.stdin.write("go\n")
        self.proc.stdin.flush()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            words = line.split()
            if words[0] == "done":
                self.done = int(words[1])
                continue
            self.acknowledged.append((words[0], words[1]))
            if self.kill_after is not None and len(self.acknowledged) == self.kill_after:
                self.proc.kill()  # SIGKILL: no clean-up, mid-way through its work
                self.killed = True
        self.finished_at = time.monotonic()

    def wait(self) -> str:
        self.proc.wait()
        self.reader.join()
        self.watchdog.cancel()
        return self.proc.stderr.read() if self.proc.stderr else ""


@pytest.fixture(params=["sqlite", "postgres"])
def spec(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return str(tmp_path / "load.sqlite")
    return request.getfixturevalue("pg_database")


def test_four_kernels_label_one_job_and_one_is_killed(spec: str) -> None:
    df = pd.DataFrame({"source-ref": [f"img{i}.jpg" for i in range(ITEMS)]})
    job = Job("load", df, ImageClassification(LABELS), store=spec, answers_per_item=PER_ITEM)
    kernels = [
        Kernel(spec, f"person{k}", kill_after=KILL_AFTER if k == KERNELS - 1 else None)
        for k in range(KERNELS)
    ]
    start = time.monotonic()
    for kernel in kernels:
        kernel.go()
    errors = [kernel.wait() for kernel in kernels]
    survivors, victim = kernels[:-1], kernels[-1]

    assert victim.killed and victim.proc.returncode == -9, errors[-1]
    for kernel, err in zip(survivors, errors, strict=False):
        assert kernel.proc.returncode == 0, err
        assert kernel.done == ANSWERS == len(kernel.acknowledged), err

    stored = list(job.store.annotations("load"))
    assert {a.kind for a in stored} == {"human"}
    uids = [a.uid for a in stored]
    assert len(uids) == len(set(uids)), "an answer was stored twice"
    by_uid = {a.uid: a for a in stored}
    for kernel in kernels:
        mine = [a for a in stored if a.annotator == kernel.who]
        for uid, item in kernel.acknowledged:  # every acknowledged answer is there, as sent
            assert uid in by_uid, f"{kernel.who}'s acknowledged answer {uid} was lost"
            assert (by_uid[uid].item, by_uid[uid].annotator) == (item, kernel.who)
        extra = len(mine) - len(kernel.acknowledged)
        # a killed kernel may have stored one answer it had no time to print
        assert extra == 0 or (kernel is victim and extra == 1), (kernel.who, extra)
    answers_per_item = Counter(a.item for a in stored)
    assert max(answers_per_item.values()) <= PER_ITEM
    assert len({(a.item, a.annotator) for a in stored}) == len(stored), "someone answered an item twice"
    total = len(stored)
    assert total >= (KERNELS - 1) * ANSWERS + KILL_AFTER

    elapsed = max(k.finished_at for k in survivors) - start
    job.refresh()
    assert job.progress.labeled == sum(1 for count in answers_per_item.values() if count == PER_ITEM)
    kind = "postgres" if "://" in spec else "sqlite"
    print(
        f"\n[team load {kind}] {KERNELS} kernels, {total} answers in {elapsed:.1f} s: "
        f"{total / elapsed:.0f} answers/s; lost 0, duplicated 0, max answers per item "
        f"{max(answers_per_item.values())}"
    )
