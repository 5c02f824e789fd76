"""Write the example notebooks from their cell sources, so they are reviewed as Python code.

Run: ``python tools/make_notebooks.py``. The notebooks are committed without outputs.
"""

from __future__ import annotations

from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent / "example_notebooks"

QUICKSTART = [
    (
        "markdown",
        "# nblabel quickstart\n\n"
        "Label images and texts in this notebook, keep every answer, and get a SageMaker Ground "
        "Truth augmented manifest back as a DataFrame.\n\n"
        "Click a widget, then use the keys: **1–9, 0** pick a class, **s** skips, **z** or "
        "**Backspace** undoes, **←/→** revisit. Answers are stored in `.nblabel/<job>.sqlite` as "
        "you go: restart the kernel and re-run the cells, and you continue where you stopped.",
    ),
    ("code", "import nblabel as nl\nfrom nblabel import datasets"),
    (
        "markdown",
        "## Images\n\nA small sample of public-domain clip art, with gold labels to check yourself against.",
    ),
    (
        "code",
        "images = datasets.images()\n"
        'job = nl.Job("clipart", images, nl.ImageClassification(datasets.image_labels()))\n'
        "job",
    ),
    ("code", "job.progress"),
    (
        "markdown",
        "The result is Ground Truth's augmented manifest: `<attribute>` and `<attribute>-metadata`.",
    ),
    ("code", "job.to_dataframe().head()"),
    ("markdown", "## Texts\n\nThe same widget labels texts. Texts are shown as text, never as HTML."),
    (
        "code",
        "texts = datasets.texts()\n"
        'text_job = nl.Job("texts", texts, nl.TextClassification(datasets.text_labels()))\n'
        "text_job",
    ),
    (
        "markdown",
        "## Save the manifest\n\n`write_manifest` writes JSON Lines that Ground Truth and SageMaker "
        "training jobs read; it writes aside and renames, so a failure never leaves half a file.",
    ),
    (
        "code",
        'nl.write_manifest(job.to_dataframe(), "clipart.manifest")\n'
        'nl.read_manifest("clipart.manifest").head()',
    ),
]

CONSOLIDATION = [
    (
        "markdown",
        "# Several annotators per item\n\n"
        "Ground Truth sends each item to several workers and consolidates their answers. nblabel does "
        "the same from the store of any job: `job.consolidate()` (GT's modified Dawid-Skene for "
        "classification, with per-annotator quality and per-item confidence), `job.agreement()` "
        "(kappas and Krippendorff's alpha) and `job.disagreements()`.\n\n"
        "First, a real GT job: 302 bird photos, each classified by 5 Mechanical Turk workers, with "
        "GT's own consolidated labels and the photos' true labels. (The photos are in a private "
        "bucket, so this part works on the answers only.)",
    ),
    ("code", "import pandas as pd\n\nimport nblabel as nl\nfrom nblabel import datasets"),
    (
        "code",
        "birds = datasets.gt_birds()\n"
        'job = nl.Job("birds", birds, nl.ImageClassification(datasets.gt_bird_labels()))\n'
        "job.import_answers(datasets.gt_bird_responses())  # GT's worker-response files",
    ),
    (
        "markdown",
        "Consolidate. The consolidated label is what `to_dataframe()` and `export()` write, with "
        "GT's confidence field.",
    ),
    (
        "code",
        "result = job.consolidate()\n"
        "out = job.to_dataframe()\n"
        'out[["source-ref", "birds", "birds-metadata"]].head()',
    ),
    (
        "code",
        'ours = out["birds-metadata"].map(lambda m: m["class-name"])\n'
        "pd.Series(\n"
        "    {\n"
        '        "same label as GT": (ours == out["gt-label"]).sum(),\n'
        '        "right (nblabel)": (ours == out["gold"]).sum(),\n'
        '        "right (GT)": (out["gt-label"] == out["gold"]).sum(),\n'
        "    }\n"
        ")",
    ),
    (
        "markdown",
        "Dawid-Skene estimates how often each worker is right. The least reliable of those who "
        "gave at least 10 answers:",
    ),
    (
        "code",
        "figures = job.agreement()\n"
        'quality = figures[figures["measure"] == "quality"].set_index("annotator")[["value", "items"]]\n'
        'quality[quality["items"] >= 10].sort_values("value").head()',
    ),
    ("code", 'figures[figures["measure"].isin(["fleiss_kappa", "krippendorff_alpha"])]'),
    ("markdown", "The items the workers disagreed on most:"),
    ("code", "job.disagreements(5)"),
    (
        "markdown",
        "## Why not a majority vote?\n\n"
        "On a simulated crowd with known error rates (a good annotator, careless ones, and one "
        "who answers wrongly on purpose), Dawid-Skene learns whom to trust:",
    ),
    (
        "code",
        "from nblabel.consolidate import dawid_skene, majority_vote\n"
        "from nblabel.consolidate.crowd import simulate_crowd\n\n"
        'accuracy = {"ana": 0.95, "bo": 0.8, "cy": 0.6, "dee": 0.5, "troll": 0.2}\n'
        'crowd = simulate_crowd(5000, 4, accuracy, 3, adversarial=["troll"], seed=0)\n'
        "pd.DataFrame(\n"
        "    {\n"
        "        method.__name__: {\n"
        '            "accuracy": crowd.accuracy({k: c.value for k, c in r.items.items()}),\n'
        '            **{f"quality {who}": q for who, q in r.quality.items()},\n'
        "        }\n"
        "        for method in (dawid_skene, majority_vote)\n"
        "        for r in [method(crowd.answers, crowd.classes)]\n"
        "    }\n"
        ").round(3)",
    ),
    (
        "markdown",
        "## A team job\n\n"
        "In a team each person labels under their own name (`annotator=`, or `NBLABEL_ANNOTATOR`). "
        "Here three colleagues labeled the first 30 clip-art drawings; their answers are recorded "
        "directly, then consolidated. The widget below holds the other 30 for you.",
    ),
    (
        "code",
        "images = datasets.images()\n"
        'team = nl.Job("clipart-team", images, nl.ImageClassification(datasets.image_labels()))\n'
        'mistakes = {"ana": {3: "fruit"}, "bo": {3: "fruit", 7: "insect"}, "cy": {11: "flower"}}\n'
        "for who, wrong in mistakes.items():\n"
        "    for row in range(30):\n"
        '        team.label(row, wrong.get(row, images.loc[row, "gold"]), annotator=who)\n'
        "team.consolidate()\n"
        "team.disagreements()",
    ),
    (
        "markdown",
        "Decide the disputed drawings in a grid, most disputed first, everyone's answer side by "
        "side: click an answer, or press a class key, for the final decision (`team.decide`); "
        "**z** takes it back. Later `consolidate()` runs leave decisions alone.",
    ),
    ("code", "team.review(disagreements=True, thumb=120)"),
    ("code", "team"),
]

BOXES = [
    (
        "markdown",
        "# Bounding boxes, verification and detection exports\n\n"
        "Draw boxes on images and get Ground Truth's `groundtruth/object-detection` label back, "
        "in original image pixels whatever the zoom.\n\n"
        "Click the widget, then: **drag** to draw a box, click to select it, drag it or its handles "
        "to move or resize it. **1–9, 0** set the class of the selected box (or of the next one), "
        "**Tab** cycles boxes, **arrows** nudge (Shift ×10), **Delete** removes, **d** duplicates, "
        "**Enter** submits the image, **s** skips, **z** undoes and **Shift+Z** redoes. Zoom with "
        "the wheel or **+/-** around the pointer, pan with **space-drag** or the middle button, "
        "**f** fits the image.",
    ),
    ("code", "import nblabel as nl\nfrom nblabel import datasets\n\nimages = datasets.images().head(12)"),
    ("code", 'job = nl.Job("clipart-boxes", images, nl.BoundingBox(datasets.image_labels()))\njob'),
    (
        "markdown",
        "Answers can also be given from code, in the same shape the widget sends: GT's label object, "
        "with the image size and one entry per box (`class_id` indexes the labels).",
    ),
    (
        "code",
        "from PIL import Image\n\n"
        'with Image.open(images.at[0, "source-ref"]) as img:\n'
        "    width, height = img.size\n"
        "job.label(0, {\n"
        '    "image_size": [{"width": width, "height": height, "depth": 3}],\n'
        '    "annotations": [{"class_id": 1, "left": 10, "top": 10, "width": width // 2, "height": height // 2}],\n'
        "})\n"
        "out = job.to_dataframe()\n"
        'out[["source-ref", "clipart-boxes", "clipart-boxes-metadata"]].head(2)',
    ),
    (
        "markdown",
        "## Pre-annotations\n\n`pre=` takes a detector (any callable from a `source-ref` to boxes) or a "
        "manifest attribute; its boxes appear for the person to accept with Enter, adjust or delete.",
    ),
    (
        "code",
        "def detector(ref):\n"
        '    return [{"label": "flower", "left": 5, "top": 5, "width": 60, "height": 60}]\n\n'
        'assisted = nl.Job("clipart-assisted", images, nl.BoundingBox(datasets.image_labels(), pre=detector))\n'
        "assisted",
    ),
    (
        "markdown",
        "## Verify or adjust earlier boxes\n\n`LabelVerification` shows an earlier job's boxes over the "
        "image; keys **1**/**2** record correct/incorrect, **c** types a comment. "
        "`BoundingBox(..., adjust=attribute)` starts from them instead, and the output says whether "
        "the person changed them (`adjustment-status`).",
    ),
    ("code", 'check = nl.Job("clipart-verify", out, nl.LabelVerification("clipart-boxes"))\ncheck'),
    (
        "code",
        'fix = nl.Job("clipart-adjust", out, nl.BoundingBox(datasets.image_labels(), adjust="clipart-boxes"))\nfix',
    ),
    (
        "markdown",
        "## COCO, YOLO and Pascal VOC\n\nThe `df.nblabel` accessor writes the boxes in the formats "
        "detection tools train on; `nblabel.exports.from_coco` reads COCO back for adjustment.",
    ),
    (
        "code",
        "labels = datasets.image_labels()\n"
        'coco = out.nblabel.to_coco("clipart-boxes", "boxes.coco.json", labels=labels)\n'
        'out.nblabel.to_yolo("clipart-boxes", "yolo", labels=labels, overwrite=True)\n'
        'out.nblabel.to_voc("clipart-boxes", "voc", labels=labels, overwrite=True)\n'
        'coco["annotations"]',
    ),
]

NOTEBOOKS = {
    "01_quickstart.ipynb": QUICKSTART,
    "02_boxes.ipynb": BOXES,
    "07_consolidation.ipynb": CONSOLIDATION,
}


def build(cells: list[tuple[str, str]]) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    for kind, source in cells:
        make = nbformat.v4.new_code_cell if kind == "code" else nbformat.v4.new_markdown_cell
        nb.cells.append(make(source))
    for n, cell in enumerate(nb.cells):
        cell["id"] = f"cell-{n}"
    return nb


def main() -> None:
    ROOT.mkdir(exist_ok=True)
    for name, cells in NOTEBOOKS.items():
        nbformat.write(build(cells), ROOT / name)


if __name__ == "__main__":
    main()
