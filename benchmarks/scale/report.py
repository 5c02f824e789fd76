"""The scale section of BENCHMARKS.md: opening, labeling, output and memory at a million items."""

from __future__ import annotations

from typing import Any

from benchmarks._lib.stats import median, p95

SMALL = 100  # lines of the manifest the big one's labeling latency is compared with
TARGET_OPEN_S = 3.0


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
        "The item-key lookup (`nblabel.labeling.items.KeyPositions`, a pandas Index) needs a hash table unless "
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
