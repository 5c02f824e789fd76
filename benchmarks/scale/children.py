"""What runs in each fresh Python process (``python -m benchmarks.scale --child KIND ...``): one
measurement, printed as JSON on the last line of stdout."""

from __future__ import annotations

import threading
import time
import uuid
from pathlib import Path
from typing import Any

# The labels of the jobs (not the harness's constant: a child imports nothing it does not measure).
LABELS = ["cat", "dog", "bird"]


class Sent:
    """Stands in for ``widget.send``: keeps the messages, wakes whoever waits for one."""

    def __init__(self) -> None:
        self.messages: list[tuple[dict[str, Any], list[Any]]] = []
        self.event = threading.Event()

    def __call__(self, content: dict[str, Any], buffers: list[Any] | None = None) -> None:
        self.messages.append((content, list(buffers or [])))
        self.event.set()

    def wait(self, kind: str) -> tuple[dict[str, Any], list[Any]]:
        while True:
            for message in self.messages:
                if message[0].get("type") == kind:
                    return message
            if not self.event.wait(60):
                raise TimeoutError(f"the widget sent no {kind!r} message within 60 s")
            self.event.clear()


def memory() -> dict[str, float]:
    import psutil

    info = psutil.Process().memory_full_info()
    return {"rss": info.rss, "pss": getattr(info, "pss", info.rss)}


def status_bytes(field: str) -> float:
    """A memory figure of this process from ``/proc/self/status`` (``VmRSS``, ``VmHWM``), bytes."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return float(line.split()[1]) * 1024  # kilobytes
    raise RuntimeError(f"no {field} in /proc/self/status: the scale benchmarks measure memory on Linux")


def peak_rss() -> float:
    """This process's own peak resident memory, bytes: ``VmHWM``, which exec resets. Not
    ``ru_maxrss``: Linux carries it across fork and exec, so a child would report its parent's
    peak (the benchmark's, gigabytes after a large run) whenever that is the higher."""
    return status_bytes("VmHWM")


class Clock:
    """Wall and CPU seconds since it was made (CPU: this process, all threads)."""

    def __init__(self) -> None:
        self.wall, self.cpu = time.perf_counter(), time.process_time()

    def lap(self) -> list[float]:
        """[wall, cpu] since the start or the previous lap."""
        wall, cpu = time.perf_counter(), time.process_time()
        spent = [wall - self.wall, cpu - self.cpu]
        self.wall, self.cpu = wall, cpu
        return spent


def child_open(manifest: Path, store: Path, window: int, widget: bool) -> dict[str, Any]:
    import nblabel as nl
    import nblabel.widgets  # (imported before the clock, as in a kernel that shows widgets)

    before = memory()
    clock = Clock()
    df = nl.read_manifest(manifest)
    result: dict[str, Any] = {"read": clock.lap()}
    job = nl.Job("scale", df, nl.ImageClassification(LABELS), store=store)
    result["job"] = clock.lap()
    if widget:
        w = job.annotate(window=window)
        sent = Sent()
        w.send = sent
        w._on_custom(w, {"type": "hello", "width": 1024, "height": 768}, [])
        message, buffers = sent.wait("items")
        result["first"] = clock.lap()
        result["window_items"] = len(message["items"])
        result["window_bytes"] = sum(len(b) for b in buffers)
        result["window_errors"] = sum("error" in item for item in message["items"])
        w.close()
    else:
        first = job.pending(1)
        result["first"] = clock.lap()
        assert len(first) == 1
        after = memory()
        result["df_bytes"] = int(df.memory_usage(deep=True).sum())
        result["rss"] = after["rss"] - before["rss"]
        result["pss"] = after["pss"] - before["pss"]
        result["peak_rss"] = peak_rss() - before["rss"]
    result["open"] = [sum(x) for x in zip(result["read"], result["job"], result["first"], strict=True)]
    return result


def child_open_lazy(manifest: Path, store: Path) -> dict[str, Any]:
    """``Job(name, path, ...)`` (the manifest opened lazily) + ``job.pending(1)``, and memory."""
    import nblabel as nl

    before = memory()
    clock = Clock()
    job = nl.Job("scale", manifest, nl.ImageClassification(LABELS), store=store)
    result: dict[str, Any] = {"job": clock.lap()}
    assert len(job.pending(1)) == 1
    result["first"] = clock.lap()
    result["open"] = [sum(x) for x in zip(result["job"], result["first"], strict=True)]
    result["items"] = len(job.keys)
    result["rss"] = memory()["rss"] - before["rss"]
    result["peak_rss"] = peak_rss() - before["rss"]
    return result


def child_pandas_read(manifest: Path) -> dict[str, Any]:
    import pandas as pd

    clock = Clock()
    pd.read_json(manifest, lines=True)
    return {"pandas_read": clock.lap()}


def child_label(manifest: Path, store: Path, window: int, count: int) -> dict[str, Any]:
    import nblabel as nl

    job = nl.Job("scale", nl.read_manifest(manifest), nl.ImageClassification(LABELS), store=store)
    w = job.annotate(window=window)
    sent = Sent()
    w.send = sent
    for i in range(5):  # warm-up: first SQLite pages, first validation
        job.label(i, LABELS[i % 3])
    label = []
    for i in range(5, 5 + count):
        clock = Clock()
        job.label(i, LABELS[i % 3])
        label.append(clock.lap())
    answer = []
    for i in range(5 + count, 5 + 2 * count):
        uid = uuid.uuid4().hex
        clock = Clock()
        w._answer({"type": "answer", "uid": uid, "key": job.keys[i], "value": LABELS[i % 3]})
        answer.append(clock.lap())
        acked, _ = sent.messages[-1]
        assert acked.get("type") == "ack" and acked.get("uids") == [uid], acked
    w.close()
    return {"label": label, "answer": answer, "labeled": job.progress.labeled}


def child_output(manifest: Path, store: Path, out: Path, repeats: int) -> dict[str, Any]:
    import nblabel as nl
    from nblabel.store import Annotation

    job = nl.Job("scale", nl.read_manifest(manifest), nl.ImageClassification(LABELS), store=store)
    labeled = len(job.keys) // 10
    job.store.append(
        Annotation(job.keys[i], job.attribute, "bench", "human", LABELS[i % 3]) for i in range(labeled)
    )
    job.refresh()
    times: dict[str, list[list[float]]] = {"to_dataframe": [], "write_manifest": [], "pandas_to_json": []}
    pandas_out = out.with_suffix(".pandas.jsonl")
    for _ in range(repeats):
        clock = Clock()
        frame = job.to_dataframe()
        times["to_dataframe"].append(clock.lap())
        nl.write_manifest(frame, out)
        times["write_manifest"].append(clock.lap())
        frame.to_json(pandas_out, orient="records", lines=True)
        times["pandas_to_json"].append(clock.lap())
    sizes = {"nblabel_bytes": out.stat().st_size, "pandas_bytes": pandas_out.stat().st_size}
    out.unlink()
    pandas_out.unlink()
    return {**times, **sizes, "labeled": labeled}


def run(kind: str, args: list[str]) -> dict[str, Any]:
    """The measurement ``kind`` (open, pandas_read, label, output) with its command-line arguments."""
    if kind == "open":
        return child_open(Path(args[0]), Path(args[1]), int(args[2]), args[3] == "widget")
    if kind == "open_lazy":
        return child_open_lazy(Path(args[0]), Path(args[1]))
    if kind == "pandas_read":
        return child_pandas_read(Path(args[0]))
    if kind == "label":
        return child_label(Path(args[0]), Path(args[1]), int(args[2]), int(args[3]))
    return child_output(Path(args[0]), Path(args[1]), Path(args[2]), int(args[3]))
