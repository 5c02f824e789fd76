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


if __name__ == "__main__":
    main()
