"""Regenerate the sample data shipped in ``src/nblabel/datasets/data/``.

The samples are cut from three Debian packages, read from their installed files:

* ``openclipart-png`` (Public Domain Dedication): 60 clip-art drawings, 5 classes x 12, picked by
  hand (the list is in :data:`IMAGE_PICKS`), cropped to their visible part, put on a white
  background, downscaled so the longest side is at most 400 px, and saved as JPEG quality 85.
* ``wordnet-base`` (WordNet 3.0 license): 150 dictionary definitions, 5 classes x 30, taken in a
  fixed hash order from unambiguous nouns of five WordNet lexicographer files; and 1,000 more
  (5 x 200) in ``definitions.jsonl``, big enough for the auto-labeler to act.
* ``dataset-fashion-mnist`` (MIT): 1,500 Fashion-MNIST test images, 10 classes x 150, as
  ``fashion.npz`` (uint8 arrays).

Run it as root on a Debian machine (it ``apt-get install``-s the three packages when they are
missing), from the repository root::

    python tools/make_datasets.py          # rewrite the data files
    python tools/make_datasets.py --check  # exit 1 if the files on disk differ from a fresh run

Only the Python standard library, NumPy and Pillow are needed. Row order is deterministic and the
classes are interleaved, so the first rows of each sample show every class.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from nblabel.datasets import fashion_labels

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "src" / "nblabel" / "datasets" / "data"

OCP_PKG = "openclipart-png"
OCP_ROOT = Path(os.environ.get("OCP_ROOT", "/usr/share/openclipart/png"))
WN_PKG = "wordnet-base"
WN_ROOT = Path(os.environ.get("WN_ROOT", "/usr/share/wordnet"))
FM_PKG = "dataset-fashion-mnist"
FM_ROOT = Path(os.environ.get("FM_ROOT", "/usr/share/datasets/fashion-mnist"))

MAX_SIDE = 400
JPEG_QUALITY = 85
MAX_SOURCE_PIXELS = 40_000_000  # skip giant drawings (a few in openclipart are > 89 Mpx)
SEED = 20261127

IMAGE_LICENSE = "Public Domain Dedication"
TEXT_LICENSE = "WordNet 3.0 license"

#: Hand-picked drawings, by gold class, as paths under ``/usr/share/openclipart/png``. Each is
#: recognisable at a glance, in colour where the folder had one, and not a tiny icon.
IMAGE_PICKS: dict[str, list[str]] = {
    "bird": [
        "animals/birds/acquila_architetto_franc_02.png",
        "animals/birds/bird_of_peace_mauro_oliv_01.png",
        "animals/birds/cormorant-md.png",
        "animals/birds/emperor_penguin_ralf_ste_01.png",
        "animals/birds/flamand_jean-victor_bali_01.png",
        "animals/birds/gabbiano_architetto_fran_01.png",
        "animals/birds/gallo_di_profilo_archite_01.png",
        "animals/birds/gufo_civetta_architetto__01.png",
        "animals/birds/gull_marcelo_staudt_01.png",
        "animals/birds/jonathon_s_duck_01.png",
        "animals/birds/puffin-md.png",
        "animals/birds/tacchino_architetto_fran_01.png",
    ],
    "flower": [
        "plants/flowers/bouquet_of_flowers_01.png",
        "plants/flowers/daffodil_jonathan_dietri_01.png",
        "plants/flowers/daisy_jonathan_dietrich_01.png",
        "plants/flowers/flower1_juliane_krug_01.png",
        "plants/flowers/flower_01.png",
        "plants/flowers/flower_peterm_01.png",
        "plants/flowers/flowerandpot_daniel_ste_r.png",
        "plants/flowers/flowers_jonathan_dietric_01.png",
        "plants/flowers/geranium_ganson.png",
        "plants/flowers/pink-rose_tess_brady_01.png",
        "plants/flowers/sun_flower_ganson.png",
        "plants/flowers/tulips_ganson.png",
    ],
    "fruit": [
        "food/fruit/another_apple_01.png",
        "food/fruit/banana.png",
        "food/fruit/cherries.png",
        "food/fruit/grape_01.png",
        "food/fruit/green_pear_01.png",
        "food/fruit/lemon_simple.png",
        "food/fruit/lime_half_ganson.png",
        "food/fruit/orange.png",
        "food/fruit/pesca_architetto_frances_01.png",
        "food/fruit/pineapple.png",
        "food/fruit/strawberry.png",
        "food/fruit/watermelon_simple.png",
    ],
    "insect": [
        "animals/bugs/ant.png",
        "animals/bugs/butterfly_jonathan_dietr_01.png",
        "animals/bugs/butterfly_jonvdveen_01.png",
        "animals/bugs/c_rollandin_francesco_ar_01.png",
        "animals/bugs/cavalletta_architetto_fr_01.png",
        "animals/bugs/damselfly_leigh_purdie_r.png",
        "animals/bugs/farfalla_butterfly_fra1.png",
        "animals/bugs/flying_wasp_gerald_g._01.png",
        "animals/bugs/formicona_architetto_fra_01.png",
        "animals/bugs/ladybug_01.png",
        "animals/bugs/libellula_architetto_fra_01.png",
        "animals/bugs/mantide_religiosa_archit_01.png",
    ],
    "vehicle": [
        "transportation/vehicles/4wd.png",
        "transportation/vehicles/ambulans_romus_01.png",
        "transportation/vehicles/bicycle_01.png",
        "transportation/vehicles/big_truck_01.png",
        "transportation/vehicles/blazer_01.png",
        "transportation/vehicles/bus1_jarno_vasamaa_01.png",
        "transportation/vehicles/bus2_jarno_vasamaa_01.png",
        "transportation/vehicles/car.png",
        "transportation/vehicles/hummer_05.png",
        "transportation/vehicles/old_car_lumen_design_st_r.png",
        "transportation/vehicles/road_runner_ganson.png",
        "transportation/vehicles/trattore_architetto_fran_01.png",
    ],
}

#: Gold text class -> WordNet lexicographer file number (see ``lexnames(5WN)``).
TEXT_LEXFILES: dict[str, tuple[int, str]] = {
    "animal": (5, "noun.animal"),
    "food": (13, "noun.food"),
    "person": (18, "noun.person"),
    "place": (15, "noun.location"),
    "plant": (20, "noun.plant"),
}
TEXTS_PER_CLASS = 30
#: ``definitions.jsonl``: enough texts for the auto-labeler to act (1,000 in all).
DEFINITIONS_PER_CLASS = 200
#: ``fashion.npz``: 1,500 Fashion-MNIST test images (150 per class), about 0.7 MB compressed.
FASHION_PER_CLASS = 150
FASHION_LABELS = fashion_labels()  # the class names the package reads back, in Zalando's order
FASHION_LICENSE = "MIT (Zalando SE)"
MAX_TEXT_CHARS = 240
#: Classes whose headword may be a proper noun (cities, countries, rivers...). Elsewhere proper
#: nouns are mostly Latin genus names or real people, which we leave out.
PROPER_NOUNS_OK = {"place"}
#: Definitions that mention any of these are left out: slurs, insults, and loaded descriptions.
BANNED = re.compile(
    r"\b(offensive|derogatory|disparaging|vulgar|obscene|slang|slur|contempt|insult|"
    r"illiteracy|unstable|poverty|war|wars|massacre|terror\w*|genocide|slave\w*|"
    r"kill\w*|murder\w*|prostitut\w*|sex\w*|drug\w*|racis\w*|religio\w*|disease)\b",
    re.IGNORECASE,
)
#: WordNet files algae, microbes and viruses under noun.animal; a labeler would not call them so.
NOT_ANIMAL = re.compile(r"\b(alga|algae|virus|bacteri\w*|fung\w*|protozo\w*|microorganism)\b")
#: Headwords dropped after reading the draw: obscure, off-topic for their class, about war, or a
#: class a labeler would dispute.
TEXT_EXCLUDE: set[str] = {
    "battle line",
    "big shot",
    "coffee break",
    "creep feed",
    "danger line",
    "deity",
    "mine field",
    "misogynist",
    "pseudophloem",
}


@dataclass(frozen=True)
class Row:
    """One sample item before it is written."""

    gold: str
    origin: str
    payload: str  # text for texts, source path for images


# --------------------------------------------------------------------------- sources


def package_version(name: str) -> str:
    """Return the installed Debian version of ``name``, or raise ``SystemExit``."""
    try:
        out = subprocess.run(
            ["dpkg-query", "-W", "-f=${Version}", name],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError) as exc:
        raise SystemExit(f"{name} is not installed: {exc}") from exc
    if not out:
        raise SystemExit(f"{name} is not installed")
    return out


def ensure_packages() -> None:
    """Install the Debian source packages when their files are missing (needs root)."""
    missing = [
        pkg
        for pkg, root in (
            (OCP_PKG, OCP_ROOT),
            (WN_PKG, WN_ROOT / "data.noun"),
            (FM_PKG, FM_ROOT / "t10k-images-idx3-ubyte.gz"),
        )
        if not root.exists()
    ]
    if not missing:
        return
    if os.geteuid() != 0:
        raise SystemExit(f"missing {missing}: run `apt-get install -y {' '.join(missing)}` as root")
    subprocess.run(["apt-get", "update", "-qq"], check=True)
    subprocess.run(["apt-get", "install", "-y", "-qq", *missing], check=True)


# --------------------------------------------------------------------------- ordering


def interleave(by_class: dict[str, list[Row]], rng: random.Random) -> list[Row]:
    """Shuffle each class, then take one item of every class per round, classes in random order.

    Every run of ``len(by_class)`` rows from the start holds each class once, so the first rows
    show all classes, but the pattern is not a fixed rotation.
    """
    pools = {}
    for label in sorted(by_class):
        items = list(by_class[label])
        rng.shuffle(items)
        pools[label] = items
    rounds = max(len(items) for items in pools.values())
    out: list[Row] = []
    for k in range(rounds):
        labels = sorted(pools)
        rng.shuffle(labels)
        out.extend(pools[label][k] for label in labels if k < len(pools[label]))
    return out


# --------------------------------------------------------------------------- images


def render_image(src: Path) -> bytes:
    """Crop a clip-art PNG to its visible part, flatten on white, downscale, encode as JPEG."""
    with Image.open(src) as im:
        w, h = im.size
        if w * h > MAX_SOURCE_PIXELS:
            raise ValueError(f"{src}: {w}x{h} is too large to use")
        rgba = im.convert("RGBA")
    alpha = rgba.getchannel("A").point(lambda a: 255 if a > 8 else 0)
    box = alpha.getbbox() or (0, 0, w, h)
    left, top, right, bottom = box
    pad = round(0.04 * max(right - left, bottom - top))
    box = (max(0, left - pad), max(0, top - pad), min(w, right + pad), min(h, bottom + pad))
    rgba = rgba.crop(box)
    canvas = Image.new("RGB", rgba.size, "white")
    canvas.paste(rgba, mask=rgba.getchannel("A"))
    canvas.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
    buf = io.BytesIO()
    canvas.save(buf, "JPEG", quality=JPEG_QUALITY, optimize=True)
    return buf.getvalue()


def build_images(out: Path, version: str, rng: random.Random) -> list[dict[str, str]]:
    """Write ``out/images/*.jpg`` and return the rows of ``images.jsonl``."""
    by_class = {
        label: [Row(label, f"{OCP_PKG} {version}: {rel}", str(OCP_ROOT / rel)) for rel in rels]
        for label, rels in IMAGE_PICKS.items()
    }
    img_dir = out / "images"
    img_dir.mkdir(parents=True, exist_ok=True)
    rows = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        for i, row in enumerate(interleave(by_class, rng)):
            name = f"img_{i:03d}.jpg"  # neutral name: the file name does not give the class away
            (img_dir / name).write_bytes(render_image(Path(row.payload)))
            rows.append(
                {"file": f"images/{name}", "gold": row.gold, "origin": row.origin, "license": IMAGE_LICENSE}
            )
    return rows


# --------------------------------------------------------------------------- texts


def _index_words(pos: str) -> dict[str, tuple[int, list[str]]]:
    """``lemma -> (tagged sense count, synset offsets)`` from ``index.<pos>``."""
    words = {}
    with (WN_ROOT / f"index.{pos}").open(encoding="latin-1") as fh:
        for line in fh:
            if line.startswith("  "):  # licence header
                continue
            f = line.split()
            n_synsets, p_cnt = int(f[2]), int(f[3])
            words[f[0]] = (int(f[5 + p_cnt]), f[6 + p_cnt : 6 + p_cnt + n_synsets])
    return words


def _noun_synsets() -> dict[str, tuple[int, list[str], str]]:
    """``offset -> (lexicographer file number, words, gloss)`` from ``data.noun``."""
    synsets = {}
    with (WN_ROOT / "data.noun").open(encoding="latin-1") as fh:
        for line in fh:
            if line.startswith("  "):
                continue
            head, gloss = line.split(" | ", 1)
            f = head.split()
            n_words = int(f[3], 16)
            synsets[f[0]] = (int(f[1]), [f[4 + 2 * i] for i in range(n_words)], gloss.strip())
    return synsets


def _rank(seed: int, key: str) -> str:
    """A fixed pseudo-random rank: dropping one candidate does not reshuffle the others."""
    return hashlib.sha256(f"{seed}:{key}".encode()).hexdigest()


def build_texts(
    version: str, rng: random.Random, per_class: int = TEXTS_PER_CLASS, min_tagged: int = 1
) -> list[dict[str, str]]:
    """Return the rows of ``texts.jsonl``: ``"headword: definition"`` with the class as gold.

    Candidates are nouns with a single sense (so the class is not ambiguous), that are neither
    verbs, adjectives nor adverbs, that were seen at least ``min_tagged`` times in the WordNet
    sense-tagged corpus (1 keeps familiar words; the larger sample needs 0, as only 71 animal
    and 50 plant nouns pass with 1), and whose definition is short and not loaded. Each
    class keeps its first ``per_class`` candidates by :func:`_rank` (:data:`TEXTS_PER_CLASS` for
    ``texts.jsonl``, :data:`DEFINITIONS_PER_CLASS` for the larger ``definitions.jsonl``).
    """
    nouns = _index_words("noun")
    other_pos = set(_index_words("verb")) | set(_index_words("adj")) | set(_index_words("adv"))
    synsets = _noun_synsets()
    lex_to_label = {num: label for label, (num, _) in TEXT_LEXFILES.items()}
    by_class: dict[str, list[Row]] = {label: [] for label in TEXT_LEXFILES}
    for lemma, (tagged, offsets) in nouns.items():
        if len(offsets) != 1 or tagged < min_tagged or lemma in other_pos:
            continue
        lexfile, words, gloss = synsets[offsets[0]]
        label = lex_to_label.get(lexfile)
        if label is None or words[0].lower() != lemma:
            continue
        headword = words[0].replace("_", " ")
        if headword in TEXT_EXCLUDE or (headword[0].isupper() and label not in PROPER_NOUNS_OK):
            continue
        text = f"{headword}: {gloss}"
        if len(text) > MAX_TEXT_CHARS or BANNED.search(text):
            continue
        if label == "animal" and NOT_ANIMAL.search(text):
            continue
        origin = f"{WN_PKG} {version}: data.noun {offsets[0]} ({TEXT_LEXFILES[label][1]})"
        by_class[label].append(Row(label, origin, text))
    picked = {}
    for label, rows in by_class.items():
        if len(rows) < per_class:
            raise SystemExit(f"only {len(rows)} WordNet candidates for {label!r}")
        picked[label] = sorted(rows, key=lambda row: _rank(SEED, row.payload))[:per_class]
    return [
        {"source": row.payload, "gold": row.gold, "origin": row.origin, "license": TEXT_LICENSE}
        for row in interleave(picked, rng)
    ]


# --------------------------------------------------------------------------- fashion


def build_fashion(out: Path, rng: random.Random) -> int:
    """Write ``out/fashion.npz``: a class-balanced, interleaved subset of Fashion-MNIST's test set.

    The arrays are ``images`` (uint8, n x 28 x 28, Zalando's pixels unchanged), ``labels`` (uint8
    class numbers, Zalando's order) and ``index`` (the image's position in ``t10k``). Returns n.
    """
    import gzip

    import numpy as np

    with gzip.open(FM_ROOT / "t10k-images-idx3-ubyte.gz") as fh:
        images = np.frombuffer(fh.read(), np.uint8, offset=16).reshape(-1, 28, 28)
    with gzip.open(FM_ROOT / "t10k-labels-idx1-ubyte.gz") as fh:
        labels = np.frombuffer(fh.read(), np.uint8, offset=8)
    by_class = {
        FASHION_LABELS[k]: [
            Row(FASHION_LABELS[k], str(i), str(i))
            for i in sorted(np.flatnonzero(labels == k), key=lambda i: _rank(SEED, f"fashion:{i}"))[
                :FASHION_PER_CLASS
            ]
        ]
        for k in range(len(FASHION_LABELS))
    }
    index = np.array([int(row.payload) for row in interleave(by_class, rng)], dtype=np.int32)
    arrays = {"images": images[index], "labels": labels[index], "index": index}
    # Written by hand rather than with np.savez_compressed, whose zip entries carry the current
    # time: a fixed date keeps the file byte for byte reproducible (``--check``).
    with zipfile.ZipFile(out / "fashion.npz", "w", zipfile.ZIP_DEFLATED) as zf:
        for name, array in arrays.items():
            buf = io.BytesIO()
            np.save(buf, array, allow_pickle=False)
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, buf.getvalue(), compresslevel=9)
    return len(index)


# --------------------------------------------------------------------------- licenses

LICENSES_TEMPLATE = """\
# Licenses of the sample data

This folder is generated by `tools/make_datasets.py` from three Debian packages. Run it again to
reproduce the files byte for byte (same package versions, same Pillow/libjpeg).

## `images/` and `images.jsonl`: openclipart drawings

- Source: Debian package `{ocp_pkg}` version `{ocp_version}` (Open Clip Art Library 0.18),
  files under `/usr/share/openclipart/png/`.
- Original license: **Creative Commons Public Domain Dedication** (Debian's `copyright` file:
  "Copyright-Only Dedication (based on United States law) or Public Domain Certification").
  Every drawing was dedicated to the public domain by its author; no attribution is required.
  The `origin` field of each row gives the original file.
- Counts: {n_images} drawings, {per_image_class} per class, classes {image_classes}.
  The class (`gold`) is the openclipart folder the drawing was filed in, checked by eye: each
  drawing was picked by hand (list in `tools/make_datasets.py`), skipping placeholders, tiny
  icons, road signs, and drawings whose subject was unclear.
- Changes: cropped to the visible (non-transparent) part plus a 4% margin, flattened onto a white
  background, downscaled with Lanczos so the longest side is at most {max_side} px (smaller drawings
  keep their size), saved as JPEG quality {quality}, renamed `img_NNN.jpg` in row order.

## `texts.jsonl`: WordNet definitions

- Source: Debian package `{wn_pkg}` version `{wn_version}` (Princeton WordNet 3.0),
  `/usr/share/wordnet/data.noun` and `index.*`.
- Original license: **WordNet 3.0 license** (a permissive BSD-style license, reproduced in full
  below as it requires).
- Counts: {n_texts} texts, {per_text_class} per class, classes {text_classes}.
- Gold: the WordNet lexicographer file of the noun: {lexfiles}.
- Changes: each text is `"headword: definition"` built from one synset (underscores in the
  headword replaced by spaces); nothing in the definitions was reworded. Only single-sense nouns
  that are not also verbs, adjectives or adverbs, and that occur in WordNet's sense-tagged corpus,
  were kept. Definitions longer than {max_chars} characters or mentioning a loaded word (slurs,
  war, crime and the like) were left out, as were algae, microbes and viruses (which WordNet files
  under `noun.animal`) and a short hand-made list of obscure or disputable items. Each class then
  keeps its first {per_text_class} candidates in a fixed hash order, and the classes are interleaved.
- Rows give the WordNet synset offset in `origin`.

## `definitions.jsonl`: more WordNet definitions, for auto-labeling

- Same source, license, classes, gold and changes as `texts.jsonl`, with two differences: the
  nouns need not occur in the sense-tagged corpus (too few would be left), and each class keeps
  {per_definition_class}, so {n_definitions} texts in all.

## `fashion.npz`: Fashion-MNIST images

- Source: Debian package `{fm_pkg}` version `{fm_version}` (Zalando Research's Fashion-MNIST),
  `/usr/share/datasets/fashion-mnist/t10k-*-ubyte.gz` (the 10,000 test images).
- Original license: **MIT** ("The MIT License (MIT) Copyright © 2017 Zalando SE,
  https://tech.zalando.com"), reproduced below.
- Counts: {n_fashion} images, {per_fashion_class} per class, classes {fashion_classes}
  (Zalando's class numbers 0-9 in this order).
- Gold: Zalando's label. Changes: none to the pixels (28 x 28 grayscale); a fixed hash order
  picks the images of each class, the classes are interleaved, and `index` keeps each image's
  position in the test set. `nblabel.datasets.fashion()` writes them as PNG files into a cache
  folder on first use.

### MIT license (Fashion-MNIST)

The MIT License (MIT) Copyright © 2017 Zalando SE, https://tech.zalando.com

Permission is hereby granted, free of charge, to any person obtaining a copy of this software and
associated documentation files (the "Software"), to deal in the Software without restriction,
including without limitation the rights to use, copy, modify, merge, publish, distribute,
sublicense, and/or sell copies of the Software, and to permit persons to whom the Software is
furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all copies or
substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR IMPLIED, INCLUDING BUT
NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY, FITNESS FOR A PARTICULAR PURPOSE AND
NONINFRINGEMENT. IN NO EVENT SHALL THE AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM,
DAMAGES OR OTHER LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM, OUT
OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE SOFTWARE.

### WordNet 3.0 license

{wordnet_license}
"""

WORDNET_LICENSE = """\
This software and database is being provided to you, the LICENSEE, by Princeton University
under the following license. By obtaining, using and/or copying this software and database,
you agree that you have read, understood, and will comply with these terms and conditions.:

Permission to use, copy, modify and distribute this software and database and its
documentation for any purpose and without fee or royalty is hereby granted, provided that you
agree to comply with the following copyright notice and statements, including the disclaimer,
and that the same appear on ALL copies of the software, database and documentation, including
modifications that you make for internal use or for distribution.

WordNet 3.0 Copyright 2006 by Princeton University. All rights reserved.

THIS SOFTWARE AND DATABASE IS PROVIDED "AS IS" AND PRINCETON UNIVERSITY MAKES NO
REPRESENTATIONS OR WARRANTIES, EXPRESS OR IMPLIED. BY WAY OF EXAMPLE, BUT NOT LIMITATION,
PRINCETON UNIVERSITY MAKES NO REPRESENTATIONS OR WARRANTIES OF MERCHANT- ABILITY OR FITNESS
FOR ANY PARTICULAR PURPOSE OR THAT THE USE OF THE LICENSED SOFTWARE, DATABASE OR
DOCUMENTATION WILL NOT INFRINGE ANY THIRD PARTY PATENTS, COPYRIGHTS, TRADEMARKS OR OTHER
RIGHTS.

The name of Princeton University or Princeton may not be used in advertising or publicity
pertaining to distribution of the software and/or database. Title to copyright in this
software, database and any associated documentation shall at all times remain with Princeton
University and LICENSEE agrees to preserve same."""


def write_jsonl(path: Path, rows: list[dict[str, str]]) -> None:
    """Write one JSON object per line, UTF-8, keys in insertion order."""
    with path.open("w", encoding="utf-8", newline="\n") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")


def build(out: Path) -> None:
    """Write every data file into ``out`` (which is emptied of previous images first)."""
    ocp_version = package_version(OCP_PKG)
    wn_version = package_version(WN_PKG)
    if (out / "images").exists():
        shutil.rmtree(out / "images")
    out.mkdir(parents=True, exist_ok=True)
    images = build_images(out, ocp_version, random.Random(SEED))
    texts = build_texts(wn_version, random.Random(SEED + 1))
    write_jsonl(out / "images.jsonl", images)
    write_jsonl(out / "texts.jsonl", texts)
    definitions = build_texts(wn_version, random.Random(SEED + 2), DEFINITIONS_PER_CLASS, min_tagged=0)
    write_jsonl(out / "definitions.jsonl", definitions)
    n_fashion = build_fashion(out, random.Random(SEED + 3))
    (out / "LICENSES.md").write_text(
        LICENSES_TEMPLATE.format(
            ocp_pkg=OCP_PKG,
            ocp_version=ocp_version,
            n_images=len(images),
            per_image_class=len(images) // len(IMAGE_PICKS),
            image_classes=", ".join(f"`{c}`" for c in IMAGE_PICKS),
            max_side=MAX_SIDE,
            quality=JPEG_QUALITY,
            wn_pkg=WN_PKG,
            wn_version=wn_version,
            n_texts=len(texts),
            per_text_class=TEXTS_PER_CLASS,
            text_classes=", ".join(f"`{c}`" for c in TEXT_LEXFILES),
            lexfiles=", ".join(f"`{c}` = `{lex}`" for c, (_, lex) in TEXT_LEXFILES.items()),
            max_chars=MAX_TEXT_CHARS,
            wordnet_license=WORDNET_LICENSE,
            n_definitions=len(definitions),
            per_definition_class=DEFINITIONS_PER_CLASS,
            fm_pkg=FM_PKG,
            fm_version=package_version(FM_PKG),
            n_fashion=n_fashion,
            per_fashion_class=FASHION_PER_CLASS,
            fashion_classes=", ".join(f"`{c}`" for c in FASHION_LABELS),
        ),
        encoding="utf-8",
    )


def _digest(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT, help=f"output folder (default {OUT})")
    parser.add_argument(
        "--check", action="store_true", help="build into a temp folder and compare with --out"
    )
    args = parser.parse_args(argv)
    ensure_packages()
    if not args.check:
        build(args.out)
        total = sum(p.stat().st_size for p in args.out.rglob("*") if p.is_file())
        print(f"wrote {args.out} ({total / 1e6:.2f} MB)")
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        build(Path(tmp))
        fresh = _digest(Path(tmp))
    current = {k: v for k, v in _digest(args.out).items() if not k.endswith(".py")}
    if fresh == current:
        print("data files are up to date")
        return 0
    changed = sorted(set(fresh.items()) ^ set(current.items()))
    print("data files differ from a fresh build:", sorted({k for k, _ in changed}))
    return 1


if __name__ == "__main__":
    sys.exit(main())
