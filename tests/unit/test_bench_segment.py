"""Smoke test of benchmarks/segment_autolabel.py: a tiny run on the six downsampled Dubai tiles."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from benchmarks import segment_autolabel

TINY = Path(__file__).resolve().parents[1] / "data" / "dubai-tiny"


def test_tiny_run_writes_its_section(tmp_path: Path) -> None:
    # The Dubai layout: JPEG images, colour masks (black: nobody annotated).
    (tmp_path / "data" / "images").mkdir(parents=True)
    (tmp_path / "data" / "masks").mkdir()
    colours = {index: colour for colour, index in segment_autolabel.COLOURS.items()}
    for image in sorted(TINY.glob("*.png")):
        if image.name.endswith(".mask.png"):
            continue
        Image.open(image).convert("RGB").save(tmp_path / "data" / "images" / f"{image.stem}.jpg")
        mask = np.asarray(Image.open(image.with_suffix(".mask.png")))
        rgb = np.zeros((*mask.shape, 3), np.uint8)
        for index, colour in colours.items():
            rgb[mask == index] = colour
        Image.fromarray(rgb).save(tmp_path / "data" / "masks" / f"{image.stem}.png")
    out = tmp_path / "BENCHMARKS.md"
    args = ["--data", str(tmp_path / "data"), "--side", "48", "--seeds", "1", "--budgets", "1,2"]
    args += [
        "--cache",
        str(tmp_path / "cache"),
        "--out",
        str(out),
        "--round-size",
        "64x48",
        "--round-open",
        "2",
    ]
    assert segment_autolabel.main(args) == 0
    text = out.read_text()
    assert "<!-- segment-autolabel:start -->" in text
    row = next(line for line in text.splitlines() if line.startswith("| proposal mIoU, nblabel"))
    values = [float(v) for v in row.split("|")[2:-1]]
    assert len(values) == 2 and all(0 < v <= 1 for v in values)
    assert any(line.startswith("| proposal mIoU, baseline") for line in text.splitlines())
    assert (
        "A real round (`job.autolabel(background=False)`) on 10 answered and 2 open images of 64x48" in text
    )
