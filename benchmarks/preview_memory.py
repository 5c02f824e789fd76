"""Memory and time of one preview of a very large PNG: Pillow's whole decode beside nblabel's.

Usage::

    .venv/bin/python -m benchmarks.preview_memory [--side 9000] [--runs 5] [--out BENCHMARKS.md]

A ``--side`` x ``--side`` RGB PNG (a few shapes on a flat ground: it compresses to a few hundred
KB, the case a hostile or careless manifest makes cheap to send) is previewed at 1024x768 in a
fresh Python process per run, two ways side by side in alternating order:

- **Pillow whole**: ``Image.open`` then ``thumbnail`` (what nblabel did before: Pillow decodes a
  PNG in one piece, every pixel held at once);
- **nblabel**: :func:`nblabel.media.preview_image`, which hands images over
  :data:`nblabel.media.PIXEL_BUDGET` pixels to libvips to shrink while decoding;

and the header read that sizes an image (:func:`nblabel.media.image_size`, run for every box
answer) beside Pillow's ``getexif()`` on the same file, which decodes a PNG's pixels looking for
an eXIf chunk after them. Peak memory is the peak RSS over the call less the RSS before it (the
peak is reset first through Linux's ``/proc/self/clear_refs``); medians and p95 over ``--runs``
processes.

The section between ``<!-- preview_memory:start -->`` and ``<!-- preview_memory:end -->`` in
``--out`` is replaced.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from PIL import Image, ImageDraw

from benchmarks._lib.machine import load_average, machine_info
from benchmarks._lib.report import REPO, command_line, write_section
from benchmarks._lib.stats import fmt, median, p95

# Run in a fresh interpreter per measurement: peak RSS only grows, so one process per call.
PROBE = """
import json, sys, time
from PIL import Image
from nblabel.media import image_size, preview_image
how, path = sys.argv[1], sys.argv[2]
def status(field):
    for line in open("/proc/self/status"):
        if line.startswith(field + ":"):
            return int(line.split()[1])
with open("/proc/self/clear_refs", "w") as fh:  # Linux: resets the peak (VmHWM) to the current RSS
    fh.write("5")
before = status("VmRSS")
start = time.perf_counter()
if how == "pillow-whole":
    with Image.open(path) as img:
        img.thumbnail((1024, 768))
elif how == "nblabel":
    preview_image(path)
elif how == "pillow-exif":
    with Image.open(path) as img:
        img.getexif()
else:
    image_size(path)
seconds = time.perf_counter() - start
grown = (status("VmHWM") - before) / 1024
print(json.dumps({"seconds": seconds, "mb": grown}))
"""
CASES = (("pillow-whole", "nblabel"), ("pillow-exif", "image_size"))


def make_png(folder: Path, side: int) -> Path:
    """A large, highly compressible RGB PNG."""
    img = Image.new("RGB", (side, side), (40, 90, 60))
    draw = ImageDraw.Draw(img)
    for i in range(12):
        x = (i * 997) % max(1, side - side // 5)
        draw.ellipse([x, x // 2, x + side // 5, x // 2 + side // 6], fill=(200, 40 + 15 * i, 30))
    path = folder / f"large_{side}.png"
    img.save(path, compress_level=6)
    return path


def measure(how: str, path: Path) -> dict[str, float]:
    """One fresh process's time and peak-memory growth for one way of reading ``path``."""
    out = subprocess.run(
        [sys.executable, "-c", PROBE, how, str(path)], check=True, capture_output=True, text=True, cwd=REPO
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def report(
    results: dict[str, dict[str, list[float]]],
    side: int,
    runs: int,
    size_kb: float,
    load_before: str,
    argv: list[str] | None,
) -> str:
    """The BENCHMARKS.md section for the measurements of :func:`main`."""
    rows = []
    for old, new in CASES:
        o, n = results[old], results[new]
        rows.append(
            f"| {old} → {new} | {fmt(median(o['mb']))} / {fmt(p95(o['mb']))} | "
            f"{fmt(median(n['mb']))} / {fmt(p95(n['mb']))} | {fmt(median(o['mb']) / max(median(n['mb']), 0.1))}× | "
            f"{fmt(median(o['seconds']) * 1000, 0)} / {fmt(p95(o['seconds']) * 1000, 0)} | "
            f"{fmt(median(n['seconds']) * 1000, 0)} / {fmt(p95(n['seconds']) * 1000, 0)} |"
        )
    info = machine_info()
    return "\n".join(
        [
            "## Previews of very large PNGs: memory",
            "",
            f"`{command_line('preview_memory', argv)}` · {info.get('cpu', '')} · load before "
            f"{load_before}, after {load_average()}",
            "",
            f"One {side}×{side} RGB PNG ({size_kb:,.0f} KB on disk, "
            f"{side * side * 3 / 2**20:,.0f} MB of pixels), a fresh process per "
            f"measurement, {runs} runs each, the two ways of each row alternating. Memory is "
            "the peak RSS during the call less the RSS before it; median / p95.",
            "",
            "| before → nblabel | peak MB before | peak MB nblabel | ratio | ms before | ms nblabel |",
            "|---|---|---|---|---|---|",
            *rows,
            "",
            "`pillow-whole` is `Image.open` + `thumbnail` (Pillow decodes a PNG in one piece); "
            "`nblabel` is `preview_image`, which gives images over `PIXEL_BUDGET` (16 MP) to "
            "libvips to shrink while decoding. `pillow-exif` is `getexif()`, which decodes a "
            "PNG's pixels looking for an eXIf chunk after them; `image_size` (run for every box "
            "answer) now reads only the chunks before the pixels.",
        ]
    )


def main(argv: list[str] | None = None) -> dict[str, dict[str, list[float]]]:
    """Run the benchmark and write its section; returns every measurement by case."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--side", type=int, default=9000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--out", type=Path, default=REPO / "BENCHMARKS.md")
    args = parser.parse_args(argv)
    load_before = load_average()
    results: dict[str, dict[str, list[float]]] = {}
    with tempfile.TemporaryDirectory(prefix="nblabel-preview-") as tmp:
        path = make_png(Path(tmp), args.side)
        size_kb = path.stat().st_size / 1024
        for run in range(args.runs):
            for pair in CASES:
                for how in pair if run % 2 == 0 else reversed(pair):  # alternate who goes first
                    got = measure(how, path)
                    for key, value in got.items():
                        results.setdefault(how, {}).setdefault(key, []).append(value)
    section = report(results, args.side, args.runs, size_kb, load_before, argv)
    write_section(args.out, "preview_memory", section)
    return results


if __name__ == "__main__":
    main()
