"""Acknowledged answers survive a killed kernel; several kernels can write one store at once.

The kernels are real subprocesses. "Acknowledged" means ``job.label`` returned: the child prints
each uid only after that, so every uid the test has read must be in the store after SIGKILL.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pandas as pd
import pytest

from nblabel import ImageClassification, Job
from nblabel.store import SQLiteStore

SRC = Path(__file__).resolve().parents[2] / "src"
LABELS = ["cat", "dog", "bird"]
TIMEOUT = 40  # seconds: a watchdog for a hung child, not a synchronisation

# The child builds the same job as the parent (see _job), then labels until it is killed.
LABEL_FOREVER = textwrap.dedent(
    """
    import sys
    import pandas as pd
    from nblabel import ImageClassification, Job

    n = int(sys.argv[1])
    df = pd.DataFrame({"source-ref": [f"img{i}.jpg" for i in range(n)]})
    job = Job("durable", df, ImageClassification(["cat", "dog", "bird"]), annotator="child")
    print("ready", flush=True)
    labels = ["cat", "dog", "bird"]
    for i in range(n):
        a = job.label(i, labels[i % 3])
        print(a.uid, flush=True)  # only after label() returned: acknowledged
    print("done", flush=True)
    """
)

# Waits for "go" on stdin (so both kernels start together), then answers its share of items.
LABEL_SHARE = textwrap.dedent(
    """
    import sys
    import pandas as pd
    from nblabel import ImageClassification, Job

    n, parity, who = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    df = pd.DataFrame({"source-ref": [f"img{i}.jpg" for i in range(n)]})
    print("ready", flush=True)
    assert sys.stdin.readline().strip() == "go"
    # the store is opened here, by both kernels at once, on a fresh file
    job = Job("shared", df, ImageClassification(["cat", "dog", "bird"]), annotator=who)
    for i in range(parity, n, 2):
        a = job.label(i, "dog" if parity else "cat")
        print(a.uid, flush=True)
    job.refresh()
    print("seen", job.progress.labeled, flush=True)
    """
)


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(SRC), "PYTHONUNBUFFERED": "1"}


def _spawn(script: str, *args: str, cwd: Path, stdin: int | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", script, *args],
        cwd=cwd,
        env=_env(),
        stdin=stdin,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _watchdog(proc: subprocess.Popen[str], seconds: float = TIMEOUT) -> threading.Timer:
    timer = threading.Timer(seconds, proc.kill)
    timer.daemon = True
    timer.start()
    return timer


def _job(name: str, n: int) -> Job:
    """The children's job, opened in this process (its store is found from the working directory)."""
    df = pd.DataFrame({"source-ref": [f"img{i}.jpg" for i in range(n)]})
    return Job(name, df, ImageClassification(LABELS))


@pytest.mark.parametrize("k", [1, 9, 40])
def test_acknowledged_answers_survive_sigkill(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, k: int
) -> None:
    monkeypatch.chdir(tmp_path)
    n = 100_000  # more than the child can answer before it is killed
    proc = _spawn(LABEL_FOREVER, str(n), cwd=tmp_path)
    timer = _watchdog(proc)
    acknowledged: list[str] = []
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "ready", proc.stderr.read() if proc.stderr else ""
        while len(acknowledged) < k:
            line = proc.stdout.readline()
            assert line, f"child ended early: {proc.stderr.read() if proc.stderr else ''}"
            acknowledged.append(line.strip())
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        # whatever it printed before dying was acknowledged too
        acknowledged += [line.strip() for line in proc.stdout.read().splitlines() if line.strip()]
    finally:
        timer.cancel()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == -signal.SIGKILL
    assert len(acknowledged) >= k
    assert "done" not in acknowledged

    path = tmp_path / ".nblabel" / "durable.sqlite"
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    store = SQLiteStore(path)
    stored = {a.uid for a in store.annotations("durable")}
    store.close()
    missing = [uid for uid in acknowledged if uid not in stored]
    assert missing == [], f"{len(missing)} of {len(acknowledged)} acknowledged answers were lost"

    # a new kernel resumes: it sees every acknowledged answer, and pending continues after them
    job = _job("durable", n)
    assert job.progress.labeled == len(stored) >= len(acknowledged)
    for uid in acknowledged:
        assert job.log.has(uid)
    assert int(job.pending(1).index[0]) == len(stored)
    job.label(len(stored), "cat")
    assert job.progress.labeled == len(stored) + 1


def test_two_kernels_append_to_one_store_concurrently(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    n = 240
    procs = [
        _spawn(LABEL_SHARE, str(n), str(parity), who, cwd=tmp_path, stdin=subprocess.PIPE)
        for parity, who in ((0, "ana"), (1, "bo"))
    ]
    timers = [_watchdog(p) for p in procs]
    outputs: list[tuple[str, str]] = []
    try:
        for p in procs:
            assert p.stdout is not None
            assert p.stdout.readline().strip() == "ready"
        for p in procs:  # release both as close together as possible
            assert p.stdin is not None
            p.stdin.write("go\n")
            p.stdin.flush()
        outputs = [p.communicate() for p in procs]
    finally:
        for t in timers:
            t.cancel()
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()

    for p, (_out, err) in zip(procs, outputs, strict=True):
        assert "locked" not in err.lower(), err
        assert p.returncode == 0, err
    uids = [line for out, _ in outputs for line in out.splitlines() if line and not line.startswith("seen")]
    assert len(uids) == n
    assert len(set(uids)) == n
    # the kernel that finished last saw every answer
    seen = [
        int(line.split()[1]) for out, _ in outputs for line in out.splitlines() if line.startswith("seen")
    ]
    assert len(seen) == 2
    assert max(seen) == n

    job = _job("shared", n)
    assert job.progress.labeled == n
    assert job.pending().empty
    stored = list(job.store.annotations("shared"))
    assert sorted(a.uid for a in stored) == sorted(uids)
    assert [a.seq for a in stored] == sorted(a.seq for a in stored)
    assert len({a.seq for a in stored}) == n
    by_item = {a.item: a for a in stored}
    assert {by_item[f"img{i}.jpg"].annotator for i in range(0, n, 2)} == {"ana"}
    assert {by_item[f"img{i}.jpg"].annotator for i in range(1, n, 2)} == {"bo"}


# Opens each store path read from stdin, printing "ok" or the error: six of these race per file.
OPEN_EACH = textwrap.dedent(
    """
    import sys
    from nblabel.store import SQLiteStore

    print("ready", flush=True)
    for line in sys.stdin:
        try:
            SQLiteStore(line.strip()).close()
            print("ok", flush=True)
        except Exception as exc:
            print(repr(exc).replace("\\n", " "), flush=True)
    """
)


def test_many_kernels_open_one_fresh_store_at_once(tmp_path: Path) -> None:
    # Switching a new file to WAL does not wait on SQLite's busy handler; opening must retry instead.
    # Fresh interpreters, not forks of this (threaded) test process: a fork can inherit a held lock.
    procs = [_spawn(OPEN_EACH, cwd=tmp_path, stdin=subprocess.PIPE) for _ in range(6)]
    # The children live through all 15 trials: their watchdog covers the whole run.
    timers = [_watchdog(p, 15 * TIMEOUT) for p in procs]
    outcomes: list[str] = []
    try:
        for p in procs:
            assert p.stdout is not None and p.stdout.readline().strip() == "ready", p.stderr
        for trial in range(15):
            path = f"{tmp_path / f'fresh{trial}.sqlite'}\n"
            for p in procs:  # all six are waiting on stdin: they open the new file together
                assert p.stdin is not None
                p.stdin.write(path)
                p.stdin.flush()
            outcomes += [p.stdout.readline().strip() for p in procs if p.stdout is not None]
    finally:
        for p, timer in zip(procs, timers, strict=True):
            timer.cancel()
            if p.stdin is not None:
                p.stdin.close()
            p.wait(TIMEOUT)
    assert [o for o in outcomes if o != "ok"] == []
    assert len(outcomes) == 90
