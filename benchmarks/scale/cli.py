"""The command line of ``python -m benchmarks.scale`` and its run (see the package's docstring)."""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import subprocess
import sys
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks import scale
from benchmarks._lib.report import REPO, command_line, write_section
from benchmarks.scale import children
from benchmarks.scale.report import SMALL, render


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


def run_child(args: list[str], env: dict[str, str] | None = None) -> dict[str, Any]:
    """One measurement in a fresh Python process (``env``: its environment, default this one's)."""
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.scale", "--child", *args],
        cwd=REPO,  # where the benchmarks package imports from
        check=True,
        capture_output=True,
        text=True,
        env=env,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m benchmarks.scale", description=scale.__doc__.split("\n\n")[0])
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
        print(json.dumps(children.run(kind, rest)))
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
