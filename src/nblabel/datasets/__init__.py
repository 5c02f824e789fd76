"""Small real data samples, with gold labels, for demos, docs and tests.

Each loader returns a Ground Truth *input* manifest as a :class:`pandas.DataFrame`, ready to hand
to a labeling job, plus a ``gold`` column with the true class to score answers against:

========================  ======================================================================
:func:`images`            60 clip-art drawings (openclipart, public domain), 5 classes x 12;
                          ``source-ref`` is the absolute path of a JPEG inside this package.
:func:`texts`             150 dictionary definitions (WordNet 3.0 license), 5 classes x 30;
                          ``source`` is the text.
:func:`fashion`           1,500 Fashion-MNIST product photos (MIT), 10 classes x 150, big
                          enough for the auto-labeler to act; written as PNG files into a
                          data folder on first use.
:func:`definitions`       1,000 dictionary definitions (WordNet 3.0 license), 5 classes x 200,
                          the same classes as :func:`texts`; big enough for auto-labeling.
:func:`image_labels`      the image classes, in a fixed order.
:func:`text_labels`       the text classes (of :func:`texts` and :func:`definitions`).
:func:`fashion_labels`    the Fashion-MNIST classes, in Zalando's order.
:func:`gt_birds`          a real Ground Truth job: 302 bird photos answered by 5 workers each,
                          with GT's consolidated labels and the true labels (no images).
:func:`gt_bird_labels`    its classes, in GT's order.
:func:`gt_bird_responses` the folder of its 1,510 answers in GT's worker-response files.
========================  ======================================================================

Rows come in a fixed order with the classes interleaved, so the first rows of a sample show every
class. Every call reads the files afresh and returns a new DataFrame that the caller may change.
``data/LICENSES.md`` next to this file gives the source package, version, license and changes of
each sample; ``tools/make_datasets.py`` in the repository regenerates the files.

Examples
--------
>>> from nblabel import datasets
>>> df = datasets.images()
>>> list(df.columns)
['source-ref', 'gold', 'origin', 'license']
>>> datasets.text_labels()
['animal', 'food', 'person', 'place', 'plant']
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd

__all__ = [
    "DATA_DIR",
    "definitions",
    "fashion",
    "fashion_labels",
    "gt_bird_labels",
    "gt_bird_responses",
    "gt_birds",
    "image_labels",
    "images",
    "text_labels",
    "texts",
]

#: Folder holding the sample files (``images/``, ``images.jsonl``, ``texts.jsonl``,
#: ``LICENSES.md``), resolved from the installed package.
DATA_DIR: Path = Path(__file__).resolve().parent / "data"

_IMAGE_LABELS = ("bird", "flower", "fruit", "insect", "vehicle")
_TEXT_LABELS = ("animal", "food", "person", "place", "plant")
_FASHION_LABELS = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)
# The class order of the GT bird job (the label index its output manifest writes).
_BIRD_LABELS = (
    "Duck",
    "Sparrow",
    "Woodpecker",
    "Owl",
    "Parrot",
    "Turkey",
    "Falcon",
    "Swan",
    "Goose",
    "Canary",
)


def _read_jsonl(name: str) -> list[dict[str, Any]]:
    path = DATA_DIR / name
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def _frame(columns: dict[str, list[Any]]) -> pd.DataFrame:
    # ``object`` columns and a RangeIndex, like :func:`nblabel.manifest.read_manifest` returns.
    n = len(next(iter(columns.values())))
    return pd.DataFrame(
        {key: pd.Series(values, dtype=object) for key, values in columns.items()},
        index=pd.RangeIndex(n),
    )


def image_labels() -> list[str]:
    """Return the class names of the :func:`images` sample.

    Returns
    -------
    list of str
        ``['bird', 'flower', 'fruit', 'insect', 'vehicle']``, always in this order (a new list on
        each call).
    """
    return list(_IMAGE_LABELS)


def text_labels() -> list[str]:
    """Return the class names of the :func:`texts` sample.

    Returns
    -------
    list of str
        ``['animal', 'food', 'person', 'place', 'plant']``, always in this order (a new list on
        each call).
    """
    return list(_TEXT_LABELS)


def images() -> pd.DataFrame:
    """Return a Ground Truth input manifest of 60 labeled clip-art drawings.

    The drawings come from the Debian package ``openclipart-png`` (Public Domain Dedication):
    12 for each class of :func:`image_labels`, cropped, flattened on white, and downscaled so the
    longest side is at most 400 px (sizes vary), stored as JPEG inside this package (about 1 MB).

    Returns
    -------
    pandas.DataFrame
        One row per image, a ``RangeIndex``, ``object`` columns:

        ``source-ref``
            Absolute local path (str) of the JPEG file, inside the installed package.
        ``gold``
            The true class, one of :func:`image_labels`.
        ``origin``
            Source package, version and original file, for example
            ``"openclipart-png 1:0.18+dfsg-19: animals/birds/puffin-md.png"``.
        ``license``
            ``"Public Domain Dedication"``.

    Notes
    -----
    The row order is fixed, and each run of 5 rows holds every class once (in varying order).
    File names are neutral (``img_000.jpg`` ...) so they do not give the class away.
    """
    rows = _read_jsonl("images.jsonl")
    return _frame(
        {
            "source-ref": [str(DATA_DIR / row["file"]) for row in rows],
            "gold": [row["gold"] for row in rows],
            "origin": [row["origin"] for row in rows],
            "license": [row["license"] for row in rows],
        }
    )


def texts() -> pd.DataFrame:
    """Return a Ground Truth input manifest of 150 labeled short texts.

    Each text is a noun and its definition from Princeton WordNet 3.0 (Debian package
    ``wordnet-base``, WordNet 3.0 license), for example ``"owl: nocturnal bird of prey with
    hawk-like beak and claws and large head with front-facing eyes"``. The gold class is the
    WordNet lexicographer file of the noun, 30 texts for each class of :func:`text_labels`.
    Texts are at most 240 characters long.

    Returns
    -------
    pandas.DataFrame
        One row per text, a ``RangeIndex``, ``object`` columns:

        ``source``
            The text (str).
        ``gold``
            The true class, one of :func:`text_labels`.
        ``origin``
            Source package, version and WordNet synset, for example
            ``"wordnet-base 1:3.0-37: data.noun 01621127 (noun.animal)"``.
        ``license``
            ``"WordNet 3.0 license"``.

    Notes
    -----
    The row order is fixed, and each run of 5 rows holds every class once (in varying order).
    """
    rows = _read_jsonl("texts.jsonl")
    return _frame({key: [row[key] for row in rows] for key in ("source", "gold", "origin", "license")})


def definitions() -> pd.DataFrame:
    """Return a Ground Truth input manifest of 1,000 labeled dictionary definitions.

    Like :func:`texts` (same source, license, classes and columns), 200 for each class of
    :func:`text_labels`, so that the auto-labeler has enough items to act on: it needs about 73
    held-out answers above its threshold before it labels anything (see ``README.md``,
    "Auto-labeling"). Unlike :func:`texts`, words need not be common ones.

    Returns
    -------
    pandas.DataFrame
        One row per text, columns ``source``, ``gold``, ``origin``, ``license``.
    """
    rows = _read_jsonl("definitions.jsonl")
    return _frame({key: [row[key] for row in rows] for key in ("source", "gold", "origin", "license")})


def fashion_labels() -> list[str]:
    """Return the class names of the :func:`fashion` sample, in Zalando's order.

    Returns
    -------
    list of str
        ``['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker',
        'Bag', 'Ankle boot']`` (a new list on each call).
    """
    return list(_FASHION_LABELS)


def _data_home() -> Path:
    # Not the media cache (~/.cache/nblabel/media): that one is trimmed least recently used first,
    # and a job's images must stay where its manifest says they are.
    configured = os.environ.get("NBLABEL_DATA_DIR")
    if configured:
        return Path(configured)
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return Path(base) / "nblabel" / "datasets"


def fashion(folder: str | os.PathLike[str] | None = None) -> pd.DataFrame:
    """Return a Ground Truth input manifest of 1,500 labeled Fashion-MNIST images.

    Zalando's Fashion-MNIST (MIT license; Debian package ``dataset-fashion-mnist``): 28 x 28
    grayscale product photos, 150 from its test set for each class of :func:`fashion_labels`.
    The package holds them as one compressed array (0.7 MB); the first call writes them as PNG
    files into ``folder``, and later calls reuse the files.

    Parameters
    ----------
    folder : path, optional
        Where the PNG files go. Default: ``$NBLABEL_DATA_DIR``, else
        ``$XDG_DATA_HOME/nblabel/datasets`` (``~/.local/share/nblabel/datasets``). The images
        land in a sub-folder named after the data's hash, so a new release never mixes files.

    Returns
    -------
    pandas.DataFrame
        One row per image, a ``RangeIndex``, ``object`` columns ``source-ref`` (absolute path of
        the PNG), ``gold`` (one of :func:`fashion_labels`), ``origin`` (the image's position in
        Fashion-MNIST's test set) and ``license`` (``"MIT (Zalando SE)"``).

    Notes
    -----
    The row order is fixed, and each run of 10 rows holds every class once.
    """
    import numpy as np
    from PIL import Image

    npz = DATA_DIR / "fashion.npz"
    digest = hashlib.sha256(npz.read_bytes()).hexdigest()[:12]
    target = Path(folder) if folder is not None else _data_home()
    images_dir = target / f"fashion-{digest}"
    with np.load(npz) as data:
        images, labels, index = data["images"], data["labels"], data["index"]
    names = [f"img_{i:04d}.png" for i in range(len(images))]
    if not images_dir.is_dir():
        target.mkdir(parents=True, exist_ok=True)
        # Written aside and renamed: a second kernel, or an interrupted first call, never sees
        # half a folder.
        scratch = Path(tempfile.mkdtemp(prefix=".fashion-", dir=target))
        try:
            for name, pixels in zip(names, images, strict=True):
                Image.fromarray(pixels).save(scratch / name)
            scratch.rename(images_dir)
        except OSError:
            if not images_dir.is_dir():
                raise
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
    return _frame(
        {
            "source-ref": [str(images_dir / name) for name in names],
            "gold": [_FASHION_LABELS[k] for k in labels],
            "origin": [f"dataset-fashion-mnist: t10k image {i}" for i in index],
            "license": ["MIT (Zalando SE)"] * len(names),
        }
    )


def gt_bird_labels() -> list[str]:
    """Return the classes of the :func:`gt_birds` job, in GT's order (its label indices).

    Returns
    -------
    list of str
        ``['Duck', 'Sparrow', 'Woodpecker', 'Owl', 'Parrot', 'Turkey', 'Falcon', 'Swan',
        'Goose', 'Canary']`` (a new list on each call).
    """
    return list(_BIRD_LABELS)


def gt_birds() -> pd.DataFrame:
    """Return the input manifest of a real Ground Truth job with five workers per image.

    AWS published this job as its example of GT's annotation consolidation (April 2019,
    Apache License 2.0): 302 Open Images bird photos, each classified by 5 Mechanical Turk
    workers (97 workers in all, 1 to 80 answers each). The photos themselves are not included:
    their ``s3://`` URIs point to a bucket that is not public. The workers' answers are in
    :func:`gt_bird_responses`.

    Returns
    -------
    pandas.DataFrame
        One row per image, in the line order of GT's output manifest (the ``datasetObjectId``
        of the worker responses), ``object`` columns:

        ``source-ref``
            The image's S3 URI in the original job.
        ``gold``
            The image's Open Images label, one of :func:`gt_bird_labels`.
        ``gt-label``
            The class GT's consolidation chose.
        ``gt-confidence``
            GT's confidence (float).
    """
    rows = _read_jsonl("gt-birds/gt-birds.jsonl")
    return _frame(
        {key: [row[key] for row in rows] for key in ("source-ref", "gold", "gt-label", "gt-confidence")}
    )


def gt_bird_responses() -> Path:
    """Return the folder of the :func:`gt_birds` job's worker-response files, in GT's layout.

    ``iteration-<n>/<datasetObjectId>/<time>.json``, GT's own bytes; read it with
    :func:`nblabel.formats.read_worker_responses` or :meth:`nblabel.Job.import_answers`.
    """
    return DATA_DIR / "gt-birds" / "worker-response"
