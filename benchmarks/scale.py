"""A million-item job: opening it, labeling in it, its output and its memory, beside pandas.

Builds once, under ``--cache``, a manifest of ``--lines`` lines spelled
``{"source-ref":"s3://bucket/images/0000042.jpg","id":42}`` (the first ``2 * --window`` lines
name real 1024x768 JPEGs in the cache folder instead, so the widget's first window is made of
real previews), a shuffled copy of it (item keys out of order cost more memory to look up),
and a 100-line manifest for the latency comparison. Every measurement runs in a fresh Python
process (this module with ``--child``), as a new kernel would; nblabel, pandas and the widget
classes are imported before the clock starts.

Measured:

* **open → first item**: ``read_manifest`` + ``Job(...)`` on a new store + ``job.pending(1)``.
* **open → first window sent (widget path)**: ``read_manifest`` + ``Job(...)`` +
  ``job.annotate()`` + the browser's ``hello`` message handled until the widget's ``items``
  reply (the first window's payloads and JPEG buffers) is handed to ``send``. Headless: the
  comm is anywidget's dummy and ``send`` is recorded; the browser's decoding is not included.
* ``pandas.read_json(lines=True)`` of the same file, for scale.
* **labeling**: per call, ``Job.label`` and the widget's answer path (``ClassifyWidget._answer``:
  ``Feed.apply``, the store's durable append, progress, the ``ack``), in the 100-line job and
  in the big one, processes interleaved. Each answer is committed with ``synchronous=FULL``,
  so the disk's flush is most of it.
* **output**: with 10% of the items labeled, ``job.to_dataframe()``, ``write_manifest(out)``
  and ``out.to_json(orient="records", lines=True)`` on the same frame, interleaved.
* **memory**: the process's RSS and PSS after open + first item, minus before reading, beside
  ``df.memory_usage(deep=True).sum()``; and the peak RSS over the same span.

Usage::

    python -m benchmarks.scale [--lines 1000000] [--repeats 5] [--cache DIR] [--out BENCHMARKS.md]

The results replace the section between ``<!-- scale:start -->`` and ``<!-- scale:end -->`` in
``--out`` (other sections are kept). A run at a million lines takes about 5-10 minutes.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import subprocess
import sys
import threading
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks._lib.report import REPO, command_line, write_section
from benchmarks._lib.stats import median, p95

LABELS = ["cat", "dog", "bird"]
SMALL = 100
TARGET_OPEN_S = 3.0


# --------------------------------------------------------------------------- data


def build_data(cache: Path, lines: int, window: int) -> dict[str, Path]:
    """The manifests and images, made once per size and kept in ``cache``."""
    from PIL import Image

    images = cache / "images"
    images.mkdir(parents=True, exist_ok=True)
    local = []
    for i in range(2 * window):
        path = images / f"{i:07d}.jpg"
        if not path.exists():
            x = np.linspace(0, 255, 1024, dtype=np.uint8)
            pixels = np.stack([np.tile(x, (768, 1)), np.full((768, 1024), 7 * i % 256, np.uint8),
                               np.tile(x[::-1], (768, 1))], axis=-1)  # fmt: skip
            Image.fromarray(pixels).save(path, quality=90)
        local.append(str(path))

    def line(i: int) -> str:
        ref = local[i] if i < len(local) else f"s3://bucket/images/{i:07d}.jpg"
        return json.dumps({"source-ref": ref, "id": i}, separators=(",", ":")) + "\n"

    paths = {
        "big": cache / f"scale-{lines}.manifest",
        "shuffled": cache / f"scale-{lines}-shuffled.manifest",
        "small": cache / f"scale-{SMALL}.manifest",
    }
    for name, count in (("big", lines), ("small", SMALL)):
        if not paths[name].exists():
            tmp = paths[name].with_suffix(".tmp")
            with tmp.open("w") as fh:
                for start in range(0, count, 100_000):
                    fh.write("".join(line(i) for i in range(start, min(start + 100_000, count))))
            tmp.replace(paths[name])
    if not paths["shuffled"].exists():
        order = list(range(lines))
        random.Random(0).shuffle(order)
        tmp = paths["shuffled"].with_suffix(".tmp")
        tmp.write_text("".join(line(i) for i in order))
        tmp.replace(paths["shuffled"])
    return paths


# --------------------------------------------------------------------------- children


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


def peak_rss() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # kilobytes on Linux


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


def run_child(args: list[str]) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.scale", "--child", *args],
        cwd=REPO,  # where the benchmarks package imports from
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


# --------------------------------------------------------------------------- report


def ms(value: float) -> str:
    return f"{value * 1000:.2f}"


def s(value: float) -> str:
    return f"{value:.2f}"


def mb(value: float) -> str:
    return f"{value / 1e6:.0f}"


def walls(pairs: list[list[float]]) -> list[float]:
    return [wall for wall, _ in pairs]


def cpus(pairs: list[list[float]]) -> list[float]:
    return [cpu for _, cpu in pairs]


def render(results: dict[str, Any]) -> str:
    lines = results["lines"]
    opens, widget, shuffled = results["open"], results["widget"], results["shuffled"]
    out = results["output"]
    n = len(opens)

    def row(name: str, pairs: list[list[float]], note: str = "", fmt: Any = s) -> str:
        w, c = walls(pairs), cpus(pairs)
        return f"| {name} | {fmt(median(w))} | {fmt(p95(w))} | {fmt(median(c))} | {fmt(p95(c))} | {note} |"

    def verdict(pairs: list[list[float]]) -> str:
        wall, cpu = p95(walls(pairs)), p95(cpus(pairs))
        return (
            f"target ≤ {TARGET_OPEN_S:.0f} s: wall **{'met' if wall <= TARGET_OPEN_S else 'not met'}**, "
            f"CPU **{'met' if cpu <= TARGET_OPEN_S else 'not met'}** (p95)"
        )

    open_total = [r["open"] for r in opens]
    widget_total = [r["open"] for r in widget]
    md = [
        f"## A million items: a {lines:,}-line manifest",
        "",
        f"Measured {results['date']} by `{results['command']}` ({results['minutes']:.1f} min) on "
        f"{results['machine']}. Produced by `python -m benchmarks.scale`; rerun it to refresh this section "
        "(`.venv/bin/python -m benchmarks.scale`, about 5-10 minutes; `--lines` and `--repeats` change "
        "the size and the number of runs).",
        "",
        f'Manifest lines like `{{"source-ref":"s3://bucket/images/0000042.jpg","id":42}}` '
        f"({results['manifest_mb']:.0f} MB); the first {2 * results['window']} name real 1024×768 JPEGs "
        "so the widget's first window is real previews. Every run is a fresh Python process with nblabel, "
        f"pandas and the widget classes already imported. Medians and p95 over {n} processes per row "
        "(with so few runs p95 is close to the worst run). Wall time is what a person waits; on a "
        "machine shared with other work it is stretched by the load, so the process's CPU time (all "
        "its threads) is given beside it: on an idle machine a single-threaded step's wall time is "
        "about its CPU time.",
        "",
        "### Opening, seconds",
        "",
        "| step | wall median | wall p95 | CPU median | CPU p95 | |",
        "|---|---|---|---|---|---|",
        row("`read_manifest`", [r["read"] for r in opens]),
        row("`Job(...)` (new store)", [r["job"] for r in opens]),
        row("`job.pending(1)`", [r["first"] for r in opens]),
        row("**open → first item** (the three above)", open_total, verdict(open_total)),
        row(
            "**open → first window sent**, widget path",
            widget_total,
            f"read + Job + `job.annotate()` + `hello` → `items` reply: {widget[0]['window_items']} items, "
            f"{widget[0]['window_bytes'] / 1e3:.0f} kB of JPEG prepared by 4 threads; {verdict(widget_total)}",
        ),
        row(
            "(for scale) `pandas.read_json(lines=True)`",
            [r["pandas_read"] for r in results["pandas_read"]],
            "same file (pandas infers column types; nblabel keeps JSON's)",
        ),
        "",
        "### Labeling: latency per answer, ms",
        "",
        f"{results['label_count']} answers per process and path, {n} processes per size, interleaved; "
        "each answer is committed durably (SQLite `synchronous=FULL`, an fsync) before the call returns, "
        "so with the store on disk wall time is mostly the disk's flush, and CPU time includes the "
        "kernel's work for it; both vary with the machine's other work. With the store in memory "
        f"({results['memory_store']}, no disk flush) what remains is nblabel's own work per answer.",
        "",
        f"| path | store | clock | {SMALL} items: median | p95 | {lines:,} items: median | p95 | ratio of medians | ratio of p95 |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for path, name in (("label", "`Job.label`"), ("answer", "widget answer → ack (`Feed.apply`)")):
        for where, suffix in (("disk", ""), ("memory", "_memory")):
            for clock, pick in (("wall", walls), ("CPU", cpus)):
                small = pick([v for r in results["label_small" + suffix] for v in r[path]])
                big = pick([v for r in results["label_big" + suffix] for v in r[path]])
                md.append(
                    f"| {name} | {where} | {clock} | {ms(median(small))} | {ms(p95(small))} | {ms(median(big))} | "
                    f"{ms(p95(big))} | {median(big) / median(small):.2f}× | {p95(big) / p95(small):.2f}× |"
                )
    pandas_write = out["pandas_to_json"]
    md += [
        "",
        f"### Output, seconds ({out['labeled']:,} items labeled)",
        "",
        f"{len(pandas_write)} runs each, interleaved, in one process. Target: within 2× of pandas' own "
        "JSON Lines writer on the same frame. `write_manifest` also flushes the file to disk (fsync) "
        "before renaming it into place; pandas does not.",
        "",
        "| step | wall median | wall p95 | CPU median | CPU p95 | ÷ pandas writer (medians, wall / CPU) |",
        "|---|---|---|---|---|---|",
    ]
    for key, name in (
        ("to_dataframe", "`job.to_dataframe()`"),
        ("write_manifest", "`write_manifest(out, path)`"),
        ("pandas_to_json", '`out.to_json(orient="records", lines=True)`'),
    ):
        wall = median(walls(out[key])) / median(walls(pandas_write))
        cpu = median(cpus(out[key])) / median(cpus(pandas_write))
        ok = "" if key == "pandas_to_json" else f" — within 2×: **{'yes' if max(wall, cpu) <= 2 else 'no'}**"
        md.append(row(name, out[key], f"{wall:.2f}× / {cpu:.2f}×{ok}"))
    md += [
        "",
        f"Files: nblabel {out['nblabel_bytes'] / 1e6:.0f} MB (GT's spelling: missing keys left out), "
        f"pandas {out['pandas_bytes'] / 1e6:.0f} MB (`null` for every missing key, `\\/` in URIs).",
        "",
        "### Memory after open → first item, MB",
        "",
        "Growth of the process from just before `read_manifest` to just after `job.pending(1)`; "
        "the DataFrame's own size is `df.memory_usage(deep=True).sum()`. Target: within 2× of it.",
        "",
        "| manifest | DataFrame | RSS growth (median) | PSS growth (median) | peak RSS growth (median) | RSS ÷ DataFrame | within 2× |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, runs in (("sorted keys", opens), ("shuffled keys", shuffled)):
        df_bytes = runs[0]["df_bytes"]
        rss = median([r["rss"] for r in runs])
        md.append(
            f"| {name} | {mb(df_bytes)} | {mb(rss)} | {mb(median([r['pss'] for r in runs]))} | "
            f"{mb(median([r['peak_rss'] for r in runs]))} | {rss / df_bytes:.2f}× | **{'yes' if rss <= 2 * df_bytes else 'no'}** |"
        )
    md += [
        "",
        "The item-key lookup (`nblabel.items.KeyPositions`, a pandas Index) needs a hash table unless "
        "the keys are sorted and at least a million (pandas then bisects), hence the two rows.",
        "",
        "### The widget holds a window, not the dataset",
        "",
        f"The first reply carried {widget[0]['window_items']} items (the window) of {lines:,}. The browser "
        "asks for more only to refill its window (`js/lib/channel.js`, `requestMore`) and the kernel never "
        "sends more than the window per request (`ItemWidget`, `more`). Behind the cursor the browser "
        "frees decoded images more than 30 items back (fetched again on going back) but keeps the small "
        "payloads of the items shown in the session, texts included, until the widget is closed.",
    ]
    return "\n".join(md)


# --------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m benchmarks.scale", description=__doc__.split("\n\n")[0])
    p.add_argument("--lines", type=int, default=1_000_000)
    p.add_argument("--repeats", type=int, default=5, help="fresh processes per measurement")
    p.add_argument("--label-count", type=int, default=40, help="answers timed per process and path")
    p.add_argument("--window", type=int, default=10, help="the widget's window (its default for images)")
    p.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "nblabel-bench" / "scale")
    p.add_argument("--out", type=Path, default=REPO / "BENCHMARKS.md")
    p.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = p.parse_args(argv)

    if args.child:
        kind, *rest = args.child
        if kind == "open":
            result = child_open(Path(rest[0]), Path(rest[1]), int(rest[2]), rest[3] == "widget")
        elif kind == "pandas_read":
            result = child_pandas_read(Path(rest[0]))
        elif kind == "label":
            result = child_label(Path(rest[0]), Path(rest[1]), int(rest[2]), int(rest[3]))
        else:
            result = child_output(Path(rest[0]), Path(rest[1]), Path(rest[2]), int(rest[3]))
        print(json.dumps(result))
        return

    started = time.perf_counter()
    paths = build_data(args.cache, args.lines, args.window)
    stores = args.cache / "stores"
    shutil.rmtree(stores, ignore_errors=True)
    stores.mkdir()

    # Labeling again with the store in memory, where the disk's flush does not hide nblabel's work.
    shm = Path("/dev/shm")
    in_memory = shm / f"nblabel-scale-{os.getpid()}" if shm.is_dir() else stores

    def store(folder: Path = stores) -> str:
        folder.mkdir(exist_ok=True)
        return str(folder / f"{uuid.uuid4().hex}.sqlite")

    kinds = ("open", "widget", "shuffled", "pandas_read", "label_small", "label_big")
    results: dict[str, Any] = {key: [] for key in (*kinds, "label_small_memory", "label_big_memory")}
    big, window = str(paths["big"]), str(args.window)
    for rep in range(args.repeats):
        print(f"run {rep + 1}/{args.repeats}", file=sys.stderr, flush=True)
        results["open"].append(run_child(["open", big, store(), window, "plain"]))
        results["widget"].append(run_child(["open", big, store(), window, "widget"]))
        results["shuffled"].append(run_child(["open", str(paths["shuffled"]), store(), window, "plain"]))
        results["pandas_read"].append(run_child(["pandas_read", big]))
        count = str(args.label_count)
        results["label_small"].append(run_child(["label", str(paths["small"]), store(), window, count]))
        results["label_big"].append(run_child(["label", big, store(), window, count]))
        small_in_memory = run_child(["label", str(paths["small"]), store(in_memory), window, count])
        results["label_small_memory"].append(small_in_memory)
        results["label_big_memory"].append(run_child(["label", big, store(in_memory), window, count]))
    results["output"] = run_child(
        ["output", big, store(), str(args.cache / "out.manifest"), str(args.repeats)]
    )
    shutil.rmtree(stores, ignore_errors=True)
    shutil.rmtree(in_memory, ignore_errors=True)
    results["memory_store"] = "tmpfs, /dev/shm" if in_memory != stores else "no tmpfs here: on disk too"

    import orjson
    import pandas as pd

    load = os.getloadavg()
    results.update(
        lines=args.lines,
        window=args.window,
        label_count=args.label_count,
        manifest_mb=paths["big"].stat().st_size / 1e6,
        date=datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        command=command_line("scale", argv),
        minutes=(time.perf_counter() - started) / 60,
        machine=(
            f"{os.cpu_count()} CPU(s) shared with other work (load average {load[0]:.1f} at the end), "
            f"Python {platform.python_version()}, pandas {pd.__version__}, orjson {orjson.__version__}"
        ),
    )
    section = render(results)
    write_section(args.out, "scale", section)
    print(section)


if __name__ == "__main__":
    main()
