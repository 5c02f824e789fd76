"""Synthetic texts with exact entity spans, for the entity auto-labeler's tests.

Names and places come in two disjoint pools (``part=0`` and ``part=1``), so a tagger trained on
one pool and scored on the other must generalise from context and word shape, not remember
names. Some texts hold emoji, a flag and Japanese (one token per character there), so offsets
are checked where code points, UTF-16 units and characters differ.
"""

from __future__ import annotations

import random
import re
from typing import Any

import pandas as pd

LABELS = ["Person", "Place"]
FIRST = [
    ["Ann", "Bruno", "Chloé", "Dmitri", "Emeka", "Fatima", "Gustav", "Hana", "Ingrid", "José"],
    ["Kwame", "Lena", "Mateo", "Nadia", "Oskar", "Priya", "Quentin", "Rosa", "Søren", "Tariq"],
]
LAST = [
    ["Smith", "Okafor", "Müller", "Ivanova", "García", "Dubois"],
    ["Rossi", "Kowalski", "Berg", "Haddad", "Lindqvist", "Mensah"],
]
PLACES = [
    ["Zürich", "Lisbon", "Nairobi", "Oslo", "Quito", "Hanoi", "New York", "São Paulo"],
    ["Kraków", "Lyon", "Perth", "Accra", "Tromsø", "Lima", "Buenos Aires", "Cape Town"],
]
JA_PEOPLE = [["田中", "佐藤", "鈴木", "高橋"], ["渡辺", "伊藤", "山本", "中村"]]
JA_PLACES = [["東京", "大阪", "京都"], ["札幌", "福岡", "神戸"]]
TEMPLATES = [
    "{P} moved to {L} last year.",
    "Yesterday {P} met {P} in {L} 👋.",
    "The office in {L} is run by {P}.",
    "{P} 🎉 flew from {L} to {L} on Monday.",
    "We asked {P} about the weather in {L} 🇨🇭 and she laughed.",
    "A note about the weather 🌧️, nothing else.",
    "{J}さんは{K}に住んでいます。",
    "昨日{J}さんと{K}で会いました 🍣。",
]


def synthetic_doc(rng: random.Random, part: int = 0) -> tuple[str, list[dict[str, Any]]]:
    """One text and its entities (code-point offsets, sorted), names from pool ``part``."""
    template = rng.choice(TEMPLATES)
    fill = {
        "P": ("Person", lambda: f"{rng.choice(FIRST[part])} {rng.choice(LAST[part])}"),
        "L": ("Place", lambda: rng.choice(PLACES[part])),
        "J": ("Person", lambda: rng.choice(JA_PEOPLE[part])),
        "K": ("Place", lambda: rng.choice(JA_PLACES[part])),
    }
    text, entities = "", []
    for literal, slot in re.findall(r"([^{}]*)(?:\{(\w)\})?", template):
        text += literal
        if slot:
            label, make = fill[slot]
            value = make()
            entities.append({"label": label, "startOffset": len(text), "endOffset": len(text) + len(value)})
            text += value
    return text, entities


def synthetic_docs(n: int, seed: int = 0, part: int = 0) -> pd.DataFrame:
    """``n`` texts as a manifest (``source``) with their entities in ``gold``."""
    rng = random.Random(seed)
    rows = [synthetic_doc(rng, part) for _ in range(n)]
    return pd.DataFrame({"source": [t for t, _ in rows], "gold": [e for _, e in rows]})
