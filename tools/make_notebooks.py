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


ENTITIES = [
    (
        "markdown",
        "# Named entities\n\n"
        "Mark people, places and dates in texts; get Ground Truth's `groundtruth/text-span` output "
        "and the formats NLP training reads.\n\n"
        "Select text with the mouse (it snaps to whole words; hold **Alt** for exact characters) or "
        "double-click a word, then press a label key **1–9**; or press the key first. Without a mouse: "
        "**←/→** move a token cursor, **Shift** extends it. Click an entity to relabel it or **Delete** "
        "it. **Enter** submits the text (accepting the proposals shown), **s** skips, **z/y** undo and redo. "
        "Offsets are stored as Python string indices (code points), so emoji and accents count as one.",
    ),
    (
        "code",
        "import pandas as pd\n"
        "import nblabel as nl\n"
        "from nblabel.preannotate import from_dictionary, from_patterns, from_spacy\n\n"
        "texts = pd.DataFrame({'source': [\n"
        "    'Zoë flew from Zürich to Geneva on 2024-02-29 👋',\n"
        "    'Ann Lee joined Acme Corp in Lima.\\r\\nShe starts on 2024-03-04.',\n"
        "    'Tim Cook said in London on Monday that Apple will open a store in Oslo.',\n"
        "]})",
    ),
    (
        "markdown",
        "## Pre-annotations\n\nProposals from a dictionary of known names, regular expressions, an "
        "earlier job's attribute (`from_attribute`) or a spaCy pipeline (`pip install 'nblabel[spacy]'`). "
        "The widget shows them dashed; Enter accepts them, or edit them first.",
    ),
    (
        "code",
        "task = nl.NamedEntities(\n"
        "    ['Person', 'Place', 'Date', 'Org'],\n"
        "    pre_annotate=[\n"
        "        from_dictionary({'Place': ['Zürich', 'Geneva', 'Lima'], 'Org': ['Acme Corp']}),\n"
        "        from_patterns({'Date': r'\\d{4}-\\d{2}-\\d{2}'}),\n"
        "        from_spacy(labels={'PERSON': 'Person', 'GPE': 'Place', 'DATE': 'Date', 'ORG': 'Org'}),\n"
        "    ],\n"
        ")\n"
        "job = nl.Job('entities', texts, task)\n"
        "job",
    ),
    ("markdown", "Answers can also be given in code; offsets are Python string indices."),
    (
        "code",
        "text = texts.source[0]\n"
        "job.label(0, [{'label': 'Person', 'startOffset': 0, 'endOffset': 3}])\n"
        "job.to_dataframe().head(1)",
    ),
    (
        "markdown",
        "## Exports\n\nspaCy JSONL (`text` + `spans`), CoNLL with IOB2 tags, and a table for Hugging Face "
        "`datasets` (`tokens` + `ner_tags`). The tokenizer is stated in `nblabel.entity_export`.",
    ),
    (
        "code",
        "from nblabel.entity_export import to_conll, to_hf_table, to_spacy_jsonl\n\n"
        "to_spacy_jsonl(job, 'entities.jsonl')\n"
        "to_conll(job, 'entities.conll')\n"
        "table = to_hf_table(job)\n"
        "table, table.attrs['tag_names']",
    ),
]

NOTEBOOKS = {"01_quickstart.ipynb": QUICKSTART, "02_entities.ipynb": ENTITIES}


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
