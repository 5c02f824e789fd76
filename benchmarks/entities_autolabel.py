"""Entity auto-labeling benchmark: F1 of the tagger's proposals against gold, by answered texts.

The simulation is the real loop. A simulated person answers texts of a pool with their gold
entities, in the order the people's queue of
:func:`nblabel.autolabel.entity_loop.compute_entity_round` gives (least confident texts first,
interleaved with random draws; random order before the first model). Rounds run after every 5
answers up to 50, every 10 up to 100, then every 25, hitting each budget exactly. At each budget
a tagger (:class:`nblabel.autolabel.tagger.EntityTagger`, the package's default CRF) trained on
the answers so far tags a held-out test set that is never in the pool, scored by exact spans
(label and both offsets): micro precision, recall, F1, and the share of test texts proposed
exactly (what Enter accepts unchanged). Baseline in the same run: the person answers in random
order.

Corpora (installed by this script into this interpreter's environment, never by the package):

* ``presidio``: synthetic English sentences from ``presidio-evaluator==0.3.2``'s raw data
  (``pip install --no-deps``): its 39 templates that use only person, name, city, country and
  organization, filled from 3,000 fake identities and 22,211 company names; labels PER, LOC,
  ORG; exact gold. Pool 1,000 texts, test 300 texts drawn apart.
* ``presidio-unseen``: the same, but the pool uses the even-numbered templates and the test
  set the odd-numbered ones: sentences of a shape the tagger never saw.
* ``hironsan``: ``hironsancorpus==0.1.2``, Japanese news sentences with gold IOB2 tags (DAT, LOC,
  ORG, PSN, ART, TIM, MON, PER): its 450 training sentences are the pool and its 50 test
  sentences the test set (small: F1 moves by a few points per sentence). Texts are the tokens
  joined without spaces; gold spans come from the tags.

Usage::

    python -m benchmarks.entities_autolabel [--corpora presidio,presidio-unseen,hironsan] [--seeds 3]
        [--budgets 10,25,50,100,200] [--out BENCHMARKS.md] [--no-write]

Replaces the section between ``<!-- entities-autolabel:start -->`` and
``<!-- entities-autolabel:end -->`` in ``--out``.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import importlib.util
import platform
import random
import re
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks._lib.machine import cpu_name
from benchmarks._lib.report import REPO, command_line, write_section
from benchmarks._lib.run import ensure_pip, log
from nblabel.autolabel.entity_loop import compute_entity_round
from nblabel.autolabel.tagger import EntityTagger, document_features, span_scores
from nblabel.formats.entities import entities_from_tags

Doc = tuple[str, list[dict[str, Any]]]
SLOTS = {"person": "PER", "name": "PER", "city": "LOC", "country": "LOC", "organization": "ORG"}


def presidio_templates() -> tuple[list[str], list[dict[str, str]], list[str]]:
    ensure_pip("presidio_evaluator", "presidio-evaluator==0.3.2", "--no-deps")
    spec = importlib.util.find_spec("presidio_evaluator")
    raw = Path(spec.origin).parent / "data_generator" / "raw_data"
    with (raw / "FakeNameGenerator.com_3000.csv").open(encoding="utf-8-sig") as fh:
        people = list(csv.DictReader(fh))
    with (raw / "companies_and_organizations.csv").open(encoding="utf-8") as fh:
        orgs = [r["organization"] for r in csv.DictReader(fh)]
    pattern = re.compile(r"[^{}]*(\{\{(person|name|city|country|organization)\}\}[^{}]*)+")
    lines = (raw / "templates.txt").read_text(encoding="utf-8").splitlines()
    return [t for t in lines if pattern.fullmatch(t)], people, orgs


def presidio_doc(
    rng: random.Random, templates: Sequence[str], people: list[dict[str, str]], orgs: list[str]
) -> Doc:
    template, person = rng.choice(templates), rng.choice(people)
    values = {
        "person": f"{person['GivenName']} {person['Surname']}",
        "name": f"{person['GivenName']} {person['Surname']}",
        "city": person["City"],
        "country": person["CountryFull"],
    }
    text, entities = "", []
    for literal, slot in re.findall(r"([^{}]*)(?:\{\{(\w+)\}\})?", template):
        text += literal
        if slot:
            value = rng.choice(orgs) if slot == "organization" else values[slot]
            entities.append(
                {"label": SLOTS[slot], "startOffset": len(text), "endOffset": len(text) + len(value)}
            )
            text += value
    return text, entities


def load_presidio(seed: int, unseen: bool, pool: int = 1000, test: int = 300) -> tuple[list[Doc], list[Doc]]:
    templates, people, orgs = presidio_templates()
    pool_t, test_t = (templates[::2], templates[1::2]) if unseen else (templates, templates)
    rng = random.Random(seed)
    pool_docs = [presidio_doc(rng, pool_t, people, orgs) for _ in range(pool)]
    test_rng = random.Random(10_000 + seed)
    return pool_docs, [presidio_doc(test_rng, test_t, people, orgs) for _ in range(test)]


def load_hironsan() -> tuple[list[Doc], list[Doc]]:
    ensure_pip("hironsan", "hironsancorpus==0.1.2")
    from hironsan.corpus import hiron2016

    def docs(split: str) -> list[Doc]:
        out = []
        for sentence in hiron2016.iob_sents(split):
            tokens, tags = [row[0] for row in sentence], [row[-1] for row in sentence]
            text = "".join(tokens)
            out.append((text, entities_from_tags(text, tokens, tags)))
        return out

    return docs("train"), docs("test")


def _next_stop(answered: int, budgets: Sequence[int]) -> int:
    step = 5 if answered < 50 else 10 if answered < 100 else 25
    return min([answered + step, *(b for b in budgets if b > answered)])


def score(train: list[Doc], test: list[Doc]) -> dict[str, float]:
    if not any(e for _, e in train):
        return {"precision": 0.0, "recall": 0.0, "f1": 0.0, "exact": 0.0}
    tagger = EntityTagger().fit([t for t, _ in train], [e for _, e in train])
    found = tagger.predict([t for t, _ in test])
    return span_scores([e for _, e in test], [e for e, _ in found])


def run_loop(pool: list[Doc], test: list[Doc], budgets: list[int], seed: int) -> list[dict[str, Any]]:
    """The simulated person answers in the loop's queue order; scores at each budget."""
    texts = [t for t, _ in pool]
    features = document_features(texts)
    human: dict[int, list[dict[str, Any]]] = {}
    queue = list(np.random.default_rng(seed).permutation(len(pool)))
    records, round_number = [], 0
    while len(human) < budgets[-1]:
        stop = _next_stop(len(human), budgets)
        for p in queue:
            if len(human) >= stop:
                break
            human.setdefault(int(p), pool[int(p)][1])
        round_number += 1
        open_positions = [p for p in range(len(pool)) if p not in human]
        started = time.perf_counter()
        result = compute_entity_round(
            texts, features, human, open_positions, seed=seed + round_number, round_number=round_number
        )
        seconds = time.perf_counter() - started
        queue = result.queue
        if len(human) in budgets:
            records.append(
                {"budget": len(human), "round_seconds": seconds, **score([pool[p] for p in human], test)}
            )
    return records


def run_random(pool: list[Doc], test: list[Doc], budgets: list[int], seed: int) -> list[dict[str, Any]]:
    order = np.random.default_rng(seed).permutation(len(pool))
    return [{"budget": b, **score([pool[int(p)] for p in order[:b]], test)} for b in budgets]


def summarise(runs: list[list[dict[str, Any]]], field: str, budget: int) -> tuple[float, float]:
    values = [r[field] for run in runs for r in run if r["budget"] == budget]
    return float(np.mean(values)), float(np.std(values))


def render(results: dict[str, Any], args: argparse.Namespace, seconds: float) -> str:
    lines = [
        "## Entity auto-labeling: F1 of the proposals by answered texts",
        "",
        f"`{command_line('entities_autolabel', ['--corpora', args.corpora, '--seeds', str(args.seeds), '--budgets', args.budgets])}` ({dt.date.today()}, "
        f"{cpu_name()}, one process, Python {platform.python_version()}; {seconds / 60:.1f} min). "
        "A simulated person answers pool texts with their gold entities in the order the entity "
        "loop's queue gives (`loop`) or in random order (`random`); at each budget the default CRF "
        "tagger trained on the answers tags a held-out test set never in the pool. Exact spans "
        "(label and both offsets); mean ± standard deviation over seeds. *exact* is the share of "
        "test texts whose proposal equals the gold, i.e. what Enter accepts unchanged.",
        "",
    ]
    for info in results.values():
        lines += [
            f"### {info['title']}",
            "",
            f"Pool {info['pool']} texts, test {info['test']} texts, labels {', '.join(info['labels'])}.",
            "",
            "| answered | order | precision | recall | F1 | exact texts |",
            "| ---: | --- | ---: | ---: | ---: | ---: |",
        ]
        for b in info["budgets"]:
            for order in ("loop", "random"):
                runs = info[order]
                cells = [summarise(runs, f, b) for f in ("precision", "recall", "f1", "exact")]
                lines.append(
                    f"| {b} | {order} | " + " | ".join(f"{m:.3f} ± {s:.3f}" for m, s in cells) + " |"
                )
        round_s = [r["round_seconds"] for run in info["loop"] for r in run]
        lines += [
            "",
            f"Round time (train with 5-fold cross-fitting, propose for the pool), over the budgets' rounds: "
            f"median {np.median(round_s):.2f} s, p95 {np.percentile(round_s, 95):.2f} s.",
            "",
        ]
    lines += [
        "Reading: the synthetic presidio sentences come from few templates, so the tagger learns them "
        "fast; `presidio-unseen` (test sentences of templates never answered) is the fairer English "
        "figure. The Japanese corpus is real news text with eight labels and is much harder for a CRF on "
        "character features; its 50 test sentences make each figure move by a few points.",
    ]
    return "\n".join(lines)


CORPORA = {
    "presidio": "presidio-evaluator synthetic sentences (PER, LOC, ORG)",
    "presidio-unseen": "presidio-evaluator, test sentences from templates the pool never uses",
    "hironsan": "hironsancorpus, Japanese news sentences (8 labels)",
}


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks.entities_autolabel",
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--corpora", default=",".join(CORPORA), help="comma-separated: " + ", ".join(CORPORA))
    p.add_argument("--seeds", type=int, default=3, help="seeds per corpus (default 3)")
    p.add_argument("--budgets", default="10,25,50,100,200", help="answered texts to score at")
    p.add_argument("--out", type=Path, default=REPO / "BENCHMARKS.md", help="markdown file to update")
    p.add_argument("--no-write", action="store_true", help="print the section instead of writing --out")
    args = p.parse_args(argv)
    budgets = sorted(int(b) for b in args.budgets.split(","))
    started = time.perf_counter()
    results: dict[str, Any] = {}
    for key in args.corpora.split(","):
        if key not in CORPORA:
            raise SystemExit(f"unknown corpus {key!r}: one of {', '.join(CORPORA)}")
        info: dict[str, Any] = {"title": CORPORA[key], "loop": [], "random": []}
        for seed in range(args.seeds):
            pool, test = (
                load_hironsan() if key == "hironsan" else load_presidio(seed, key == "presidio-unseen")
            )
            usable = [b for b in budgets if b <= len(pool)]
            info.update(
                pool=len(pool),
                test=len(test),
                budgets=usable,
                labels=sorted({e["label"] for _, es in pool for e in es}),
            )
            log(f"{key} seed {seed}: loop")
            info["loop"].append(run_loop(pool, test, usable, seed))
            log(f"{key} seed {seed}: random order")
            info["random"].append(run_random(pool, test, usable, seed))
            last = info["loop"][-1][-1]
            log(f"{key} seed {seed}: F1 at {last['budget']} answers {last['f1']:.3f}")
        results[key] = info
    section = render(results, args, time.perf_counter() - started)
    if args.no_write:
        print(section)
    else:
        write_section(args.out, "entities-autolabel", section)
        log(f"wrote the entities-autolabel section of {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
