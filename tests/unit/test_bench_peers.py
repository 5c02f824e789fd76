"""The peers benchmark (``python -m benchmarks.peers``) without a browser: its statistics, ratios
and section writing."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import pytest

from benchmarks._lib.report import write_section
from benchmarks._lib.stats import summary
from benchmarks.peers.cli import SECTION, parse_args
from benchmarks.peers.report import render_section
from benchmarks.peers.series import TARGET, Series, comparison, ratio, target_verdict
from benchmarks.peers.widgets import PEERS, memory_plan, plan

IMAGE_PEER = PEERS[0]  # ipyannotations, images, click


def series(widget: str, latencies: list[float], *, media: str = "images", action: str = "click", **kw):
    """A Series whose measured records have these action → painted latencies (after 2 warm-ups)."""
    s = Series(widget, media, action, kw.pop("mode", "stock"), 1, 1, warmup=2, **kw)
    warm = [{"t_act": 0.0, "t_paint": 9999.0, "done": True, "miss": False}] * 2
    s.records = warm + [
        {"t_act": 100.0, "t_paint": 100.0 + v, "done": True, "miss": False} for v in latencies
    ]
    return s


def test_hits_leave_out_warmup_misses_and_unpainted_actions() -> None:
    s = series("nblabel", [10.0, 20.0])
    s.records += [
        {"t_act": 0.0, "t_paint": 500.0, "done": True, "miss": True},
        {"t_act": 0.0, "done": False, "miss": False},
    ]
    assert s.values() == [10.0, 20.0]
    assert s.misses == 1


def test_comparison_pairs_each_peer_with_nblabel_on_the_same_media_and_action() -> None:
    data = [
        series(IMAGE_PEER.name, [200.0] * 19 + [400.0]),
        series("nblabel", [10.0] * 19 + [20.0]),
        series("nblabel", [1.0] * 20, action="key"),  # another action: not paired with a click peer
        series("nblabel", [1000.0] * 20, mode="nodelay"),  # another server mode
    ]
    (row,) = comparison(data, "stock")
    assert row["widget"] is IMAGE_PEER
    assert row["peer"]["n"] == row["ours"]["n"] == 20
    assert row["r50"] == pytest.approx(20.0)
    assert row["r95"] == pytest.approx(summary([200.0] * 19 + [400.0])["p95"] / 10.5)
    best, share = target_verdict([row])
    assert best is row
    assert share == pytest.approx(10.5 / row["peer"]["p95"])
    assert share <= 1 / TARGET


def test_ratio_is_nan_when_a_side_is_missing() -> None:
    assert math.isnan(ratio(100.0, math.nan))
    assert math.isnan(ratio(100.0, 0.0))
    assert target_verdict([]) == (None, pytest.approx(math.nan, nan_ok=True))


def test_section_replaces_only_its_own_marks(tmp_path: Path) -> None:
    out = tmp_path / "BENCHMARKS.md"
    out.write_text("# Benchmarks\n\n<!-- ui_latency:start -->\nkeep me\n<!-- ui_latency:end -->\n")
    write_section(out, SECTION, "first")
    write_section(out, SECTION, "second")
    text = out.read_text()
    assert "keep me" in text
    assert "first" not in text
    assert text.count("<!-- peers:start -->\nsecond\n<!-- peers:end -->") == 1


def test_render_section_reports_ratios_memory_and_a_failed_series(tmp_path: Path) -> None:
    args = parse_args(["--quick", "--out", str(tmp_path / "B.md")])
    peer = series(IMAGE_PEER.name, [200.0] * 20)
    memory = Series(IMAGE_PEER.name, "images", "click", "stock", 0, 1, labeled=40)
    memory.mem_before, memory.mem_after = {"rss": 90, "pss": 70}, {"rss": 110, "pss": 85}
    ours = series("nblabel", [10.0] * 20)
    failed = Series("pigeonXT", "texts", "click", "stock", 1, 3, error="TimeoutError: stuck")
    text = render_section(
        [peer, ours, failed, memory],
        modes=["stock"],
        args=args,
        vers={"jupyterlab": "4"},
        info={"cpu": "x", "cores": "2", "mem": "1 GiB", "os": "linux"},
        started=dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc),
        runtime_s=60.0,
        command="python -m benchmarks.peers --quick",
        load=((1.0, 1.0, 1.0), (2.0, 2.0, 2.0)),
        image_kb=(140.0, 150.0),
    )
    assert (
        "| stock | ipyannotations ClassLabeller | images | click | 20 | 200.0 | 200.0 | 20 | 10.0 | 10.0 | **20.0×** | **20.0×** |"
        in text
    )
    assert "| ipyannotations ClassLabeller | images | 40 | 90 → 110 | 70 → 85 | +15 |" in text
    assert "TimeoutError: stuck" in text
    assert "(**met**)" in text


def test_memory_plan_runs_nblabel_first_and_the_png_peers_last() -> None:
    args = parse_args(["--quick"])
    order = [(w.name, w.media) for w in memory_plan(plan(args))]
    assert order[:2] == [("nblabel", "images"), ("nblabel", "texts")]
    assert set(order[-2:]) == {
        ("ipyannotations ClassLabeller", "images"),
        ("superintendent + ipyannotations", "images"),
    }
    assert len(order) == len(set(order)) == len(PEERS) + 2
