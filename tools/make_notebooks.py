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

CUSTOM_TASKS = [
    (
        "markdown",
        "# Custom tasks: Ground Truth worker templates in a cell\n\n"
        "`nl.CustomTask(template, pre=None, post=None)` runs a Ground Truth custom worker template "
        "(HTML + Liquid + GT's `crowd-*` elements) in the notebook, unchanged. `pre` and `post` are "
        "plain Python functions with the JSON shapes of GT's pre- and post-annotation Lambdas.\n\n"
        "**A template is your own code**: its HTML and `<script>` run in this page like any code you "
        "run here. Values from the data are HTML-escaped by Liquid's autoescape unless the template "
        "opts out with `skip_autoescape`, as in GT.\n\n"
        "Keys on the focused widget: **Ctrl+Enter** submits, **s** skips, **z** undoes (outside text "
        "fields), **1–9** pick a category or label.",
    ),
    ("code", "import nblabel as nl\nfrom nblabel import datasets"),
    (
        "markdown",
        "## 1. Classification with a comment (from GT's docs)\n\n"
        "The `crowd-image-classifier` sample of the Ground Truth developer guide "
        "(`sms-ui-template-crowd-image-classifier.md`), shortened, with its `worker-comment` region. "
        "Without `pre`, the manifest line is `task.input`, plus `taskObject` (its `source-ref`) as "
        "GT's sample Lambdas set it; `grant_read_access` lets the browser load the image.",
    ),
    (
        "code",
        'classify_template = """\n'
        "<crowd-form>\n"
        "  <crowd-image-classifier\n"
        '      src="{{ task.input.taskObject | grant_read_access }}"\n'
        '      categories="{{ task.input.labels | to_json | escape }}"\n'
        '      header="Choose the correct category for the image"\n'
        '      name="category">\n'
        "    <short-instructions>Choose the label that best suits the image.</short-instructions>\n"
        '    <worker-comment header="Why?" link-text="Add a comment"></worker-comment>\n'
        "  </crowd-image-classifier>\n"
        "</crowd-form>\n"
        '"""\n'
        "images = datasets.images().head(12).assign(labels=[datasets.image_labels()] * 12)\n"
        'classify = nl.Job("clipart-custom", images, nl.CustomTask(classify_template))\n'
        "classify",
    ),
    (
        "markdown",
        "## 2. Named entities (from GT's sample task UIs)\n\n"
        "`text/named-entity-recognition.liquid.html` of `aws-samples/amazon-sagemaker-ground-truth-task-uis`, "
        "without its instructions. A `pre` function in GT's pre-annotation shape supplies the labels; "
        "offsets in the answer count code points, like Python's `text[start:end]`.",
    ),
    (
        "code",
        'ner_template = """\n'
        "<crowd-entity-annotation\n"
        '  name="entities"\n'
        '  header="Highlight parts of the text below"\n'
        '  labels="{{ task.input.labels | to_json | escape }}"\n'
        '  text="{{ task.input.taskObject }}"\n'
        "></crowd-entity-annotation>\n"
        '"""\n\n\n'
        "def pre(data_object):\n"
        '    labels = [{"label": "thing", "shortDisplayName": "thg"}, {"label": "use", "shortDisplayName": "use"}]\n'
        '    return {"taskInput": {"taskObject": data_object["source"], "labels": labels}, "isHumanAnnotationRequired": "true"}\n\n\n'
        'ner = nl.Job("glosses-ner", datasets.texts().head(10), nl.CustomTask(ner_template, pre=pre))\n'
        "ner",
    ),
    (
        "markdown",
        "## 3. Written from scratch, with a post-annotation function\n\n"
        "A review form with a classifier, a free-text field, a checkbox and a slider. `post` gets GT's "
        "payload (every person's answer as a JSON string) and returns GT's consolidation response; "
        "`content[<attribute>]` becomes the label in `to_dataframe()` and `export()`.",
    ),
    (
        "code",
        'review_template = """\n'
        "<crowd-form>\n"
        "  <crowd-classifier name=\"quality\" categories=\"['clear', 'vague', 'wrong']\" header=\"Is this gloss good?\">\n"
        "    <classification-target>{{ task.input.source }}</classification-target>\n"
        "  </crowd-classifier>\n"
        '  <crowd-text-area name="fix" label="Better wording (optional)"></crowd-text-area>\n'
        '  <crowd-checkbox name="flags" value="offensive">Offensive</crowd-checkbox>\n'
        '  <crowd-slider name="confidence" min="1" max="5" value="3" pin></crowd-slider>\n'
        "</crowd-form>\n"
        '"""\n\n\n'
        "def post(payload):\n"
        "    import json\n\n"
        "    out = []\n"
        "    for item in payload:\n"
        '        answers = [json.loads(a["annotationData"]["content"]) for a in item["annotations"]]\n'
        '        labels = [a["quality"]["label"] for a in answers]\n'
        "        best = max(set(labels), key=labels.count)\n"
        '        content = {"gloss-review": {"quality": best, "votes": len(answers)}}\n'
        '        out.append({"datasetObjectId": item["datasetObjectId"], "consolidatedAnnotation": {"content": content}})\n'
        "    return out\n\n\n"
        'review = nl.Job("gloss-review", datasets.texts().head(10), nl.CustomTask(review_template, post=post))\n'
        'review.label(0, {"quality": {"label": "clear"}, "confidence": 4, "flags": {"offensive": False}})\n'
        "review",
    ),
    ("code", 'review.to_dataframe()[["source", "gloss-review", "gloss-review-metadata"]].head(3)'),
]


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
    nbformat.write(build(QUICKSTART), ROOT / "01_quickstart.ipynb")
    nbformat.write(build(CUSTOM_TASKS), ROOT / "02_custom_tasks.ipynb")


if __name__ == "__main__":
    main()
