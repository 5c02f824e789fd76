"""The box benchmarks run tiny on the nine BCCD photos in tests/data: auto-labeling
(``python -m benchmarks.boxes_autolabel``) and the simulated person's action count, and
Enter → next image with its proposals, idle and training (``benchmarks.boxes_latency --part next``);
DeepForest's large photos cut into tiles, on a small made-up VOC set (no deepforest install)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from benchmarks._lib.run import run_module
from benchmarks.boxes_autolabel import TEST_PHOTO, main, tile_edges, tile_voc
from nblabel.autolabel.box_match import correction_actions


def box(c: int, left: int, top: int, width: int = 10, height: int = 10) -> dict:
    return {"class_id": c, "left": left, "top": top, "width": width, "height": height}


def test_the_simulated_person_accepts_adjusts_deletes_and_draws() -> None:
    gold = [box(0, 0, 0), box(1, 50, 50), box(0, 100, 100), box(0, 200, 200)]
    proposed = [
        box(0, 0, 0),  # accepted: IoU 1, same class
        box(0, 50, 50),  # same place, another class: adjusted (a class key)
        box(0, 104, 100),  # IoU 0.43: adjusted (a drag)
        box(2, 400, 400),  # nothing there: deleted
    ]  # the gold box at 200, 200 is missed: drawn
    assert correction_actions(proposed, gold) == 1 + 2 + 1 + 1  # Enter, two adjusts, a delete, a draw
    assert correction_actions([], gold) == len(gold) + 1  # drawing every box, then Enter
    assert correction_actions(gold, gold) == 1  # Enter accepts them all


def write_voc(folder: Path, stem: str, width: int, height: int, boxes: list[tuple]) -> np.ndarray:
    """A photo whose pixels say where they are (red = x % 256, green = y % 256) and its VOC file."""
    folder.mkdir(parents=True, exist_ok=True)
    y, x = np.mgrid[0:height, 0:width]
    pixels = np.stack([x % 256, y % 256, np.zeros_like(x)], axis=-1).astype(np.uint8)
    Image.fromarray(pixels).save(folder / f"{stem}.png")
    objects = "".join(
        f"<object><name>{name}</name><bndbox><xmin>{x0}</xmin><ymin>{y0}</ymin>"
        f"<xmax>{x1}</xmax><ymax>{y1}</ymax></bndbox></object>"
        for name, x0, y0, x1, y1 in boxes
    )
    size = f"<size><width>{width}</width><height>{height}</height><depth>3</depth></size>"
    (folder / f"{stem}.xml").write_text(f"<annotation>{size}{objects}</annotation>")
    return pixels


@given(size=st.integers(1, 5000), tile=st.integers(1, 800))
def test_tiles_are_the_fewest_near_equal_parts_no_longer_than_the_tile(size: int, tile: int) -> None:
    edges = tile_edges(size, tile)
    parts = np.diff(edges)
    assert edges[0] == 0 and edges[-1] == size
    assert parts.max() <= tile and parts.min() >= 1 and parts.max() - parts.min() <= 1
    assert len(parts) == -(-size // tile)  # no more tiles than needed


def test_a_box_goes_to_the_tile_holding_its_centre_clipped_to_it(tmp_path: Path) -> None:
    # 1000 x 500 in tiles of at most 400: columns 0-333-667-1000, rows 0-250-500.
    boxes = [
        ("Tree", 10, 10, 50, 50),  # inside tile (0, 0)
        ("Alive", 300, 100, 400, 140),  # centre x 350: tile (0, 1), clipped at x 333
        ("Dead", 320, 240, 340, 300),  # centre (330, 270): tile (1, 0), clipped at x 333 and y 250
        ("Tree", 331, 10, 336, 20),  # centre x 333.5: tile (0, 1), 3 px wide once clipped: dropped
        ("Tree", 990, 480, 1000, 500),  # on the photo's far corner: tile (1, 2)
    ]
    pixels = write_voc(tmp_path / "data", "photo", 1000, 500, boxes)
    tiles, dropped = tile_voc(tmp_path / "data", tmp_path / "tiles")
    assert dropped == 1 and sum(len(v["annotations"]) for _, v in tiles) == len(boxes) - dropped
    by_name = {Path(ref).name: value for ref, value in tiles}
    assert sorted(by_name) == [f"photo-r{r}c{c}.png" for r in range(2) for c in range(3)]
    gold = {name: v["annotations"] for name, v in by_name.items()}

    def box(left: int, top: int, width: int, height: int) -> dict:
        return {"class_id": 0, "left": left, "top": top, "width": width, "height": height}

    assert gold["photo-r0c0.png"] == [box(10, 10, 40, 40)]
    assert gold["photo-r0c1.png"] == [box(0, 100, 67, 40)]
    assert gold["photo-r1c0.png"] == [box(320, 0, 13, 50)]
    assert gold["photo-r1c2.png"] == [box(323, 230, 10, 20)]
    assert gold["photo-r0c2.png"] == gold["photo-r1c1.png"] == []
    # Each tile is its part of the photo, and its size is in its label.
    tile = tmp_path / "tiles" / "photo-r1c2.png"
    np.testing.assert_array_equal(np.asarray(Image.open(tile)), pixels[250:500, 667:1000])
    assert by_name["photo-r1c2.png"]["image_size"][0] == {"width": 333, "height": 250, "depth": 3}
    # Written once: a second pass reads the tiles already there.
    written = tile.stat().st_mtime_ns
    assert tile_voc(tmp_path / "data", tmp_path / "tiles") == (tiles, dropped)
    assert tile.stat().st_mtime_ns == written


def test_a_tiny_deepforest_run_keeps_the_test_photo_whole_and_writes_its_own_section(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    crowns = [("Tree", x, y, x + 30, y + 30) for x, y in rng.integers(0, 770, (60, 2))]
    write_voc(tmp_path / "data", "pool", 800, 800, crowns)  # 4 pool tiles
    write_voc(
        tmp_path / "data", TEST_PHOTO, 400, 400, [("Dead", 10 * i, 20, 10 * i + 30, 50) for i in range(5)]
    )
    out = tmp_path / "BENCHMARKS.md"
    out.write_text("<!-- boxes-autolabel:start -->\nBCCD\n<!-- boxes-autolabel:end -->\n")
    argv = ["--dataset", "deepforest", "--seeds", "1", "--budgets", "3", "--backbones", "pixels"]
    argv += ["--data", str(tmp_path / "data"), "--cache", str(tmp_path / "cache"), "--out", str(out)]
    assert main(argv) == 0
    text = out.read_text()
    assert "BCCD" in text  # the BCCD section is left as it was
    assert "<!-- boxes-autolabel-deepforest:start -->" in text and "DeepForest's tree crowns" in text
    assert "the 1 tiles (5 boxes) of one whole photo" in text and "the other 4 tiles" in text
    assert "| 3 |" in text


def test_a_tiny_run_writes_its_section(tmp_path: Path) -> None:
    out = tmp_path / "BENCHMARKS.md"
    data = Path(__file__).parents[1] / "data" / "bccd"
    argv = ["--seeds", "1", "--budgets", "3,6", "--backbones", "pixels", "--test", "2"]
    assert main([*argv, "--data", str(data), "--cache", str(tmp_path / "cache"), "--out", str(out)]) == 0
    text = out.read_text()
    assert "<!-- boxes-autolabel:start -->" in text and "## Box auto-labeling" in text
    assert "| 3 |" in text and "| 6 |" in text


@pytest.mark.browser
def test_the_next_image_latency_runs_tiny_idle_and_training(tmp_path: Path) -> None:
    out = tmp_path / "BENCHMARKS.md"
    data = Path(__file__).parents[1] / "data" / "bccd"
    argv = ["--part", "next", "--data", str(data), "--answered", "5", "--presses", "1", "--warmup", "0"]
    argv += ["--runs", "1", "--backbone", "pixels", "--gap-ms", "100", "--out", str(out)]
    run = run_module("boxes_latency", argv)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-4000:]
    text = out.read_text()
    assert "<!-- boxes_next_latency:start -->" in text and "detector idle vs training" in text
    assert "| idle | 1 |" in text  # the idle press was measured
    rows = [line for line in text.splitlines() if line.startswith("| 0 | ")]
    assert [row.split(" | ")[1] for row in rows] == ["idle", "training"]  # both phases, in one page
