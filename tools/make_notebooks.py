"""Write the example notebooks from their cell sources, so they are reviewed as Python code.

Run: ``python tools/make_notebooks.py``. The notebooks are committed without outputs.
"""

from __future__ import annotations

from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent / "example_notebooks"
#: How many answers the quickstart's simulated person gives before the first round.
FAST_FORWARD = 400

QUICKSTART = [
    (
        "markdown",
        "# nblabel quickstart\n\n"
        "Label images in this notebook, let the auto-labeler take over once your answers can vouch "
        "for it, and get a SageMaker Ground Truth augmented manifest back as a DataFrame.\n\n"
        "Click a widget, then use the keys: **1–9, 0** pick a class, **s** skips, **z** or "
        "**Backspace** undoes, **←/→** revisit, **Esc** hands the keys back to JupyterLab. Answers "
        "are stored in `.nblabel/<job>.sqlite` next to this notebook as you go: restart the kernel "
        "and re-run the cells, and you continue where you stopped.",
    ),
    ("code", "import nblabel as nl\nfrom nblabel import datasets"),
    (
        "markdown",
        "## Label a few images\n\n1,500 Fashion-MNIST product photos (Zalando, MIT license), with "
        "gold labels to check yourself against. Label a few: click the widget, press a key.",
    ),
    (
        "code",
        "images = datasets.fashion()\n"
        'job = nl.Job("fashion", images, nl.ImageClassification(datasets.fashion_labels()))\n'
        "job",
    ),
    ("code", "job.progress"),
    (
        "markdown",
        "## ⏩ Fast-forward: a simulated person\n\n"
        "**This cell stands in for you.** The auto-labeler only acts once held-out answers to "
        "randomly drawn items can vouch for it (about 80 right answers above its threshold for 95%, "
        "see the README), which takes a few hundred answers here. The cell runs a first round (with "
        "nothing to train on yet, it draws the queue at random; it also describes every image for "
        "the model once, a couple of minutes with the `embeddings` extra, with a bar to say how far) "
        "and answers the next "
        f"{FAST_FORWARD} items of the queue from the gold labels, as a person in the widget would "
        "(about 20 minutes of keypresses); each answer records that its item was a random draw. "
        "The widget above drops them from its queue and its counts follow.",
    ),
    (
        "code",
        "# FAST-FORWARD: a simulated person answers from the gold labels.\n"
        "job.autolabel(background=False)  # a first round: no answers yet, so a random queue\n"
        f"for position in job.pending({FAST_FORWARD}).index:\n"
        '    job.label(position, images.at[position, "gold"])\n'
        "job.progress",
    ),
    (
        "markdown",
        "## Auto-labeling\n\nOne round now (a minute or two on a laptop): fit a model on the answers, "
        "bound its held-out accuracy, auto-label what it is sure enough of. The report says what it "
        "did and why.",
    ),
    ("code", "print(job.autolabel(background=False))\njob.progress"),
    (
        "markdown",
        "How right are the auto-labels? The gold labels say (in real work you would not have them: "
        "the bound is the guarantee).",
    ),
    (
        "code",
        "auto = job.auto_labeled()\n"
        'right = (auto["value"].to_numpy() == images.loc[auto["position"], "gold"].to_numpy()).mean()\n'
        'print(f"{len(auto)} auto-labeled, {right:.1%} right against gold")',
    ),
    (
        "markdown",
        "Keep going in the background: a new round every 20 answers. The widget shows the model's "
        "proposal for each item (Enter accepts) and leaves out what it auto-labeled.",
    ),
    ("code", "job.autolabel()\njob"),
    (
        "markdown",
        "## Review the auto-labels\n\nLeast confident first: accept, reject (the item goes back to "
        "people for good), or relabel with a class key.",
    ),
    ("code", "job.review()"),
    (
        "markdown",
        "## The result\n\nGround Truth's augmented manifest: `<attribute>` and `<attribute>-metadata`. "
        'Auto-labels say `"human-annotated": "no"` and carry the model\'s confidence; a person\'s '
        'answer says `"yes"` with `"confidence": 0.0`, GT\'s own convention (no model involved).',
    ),
    (
        "code",
        "out = job.to_dataframe()\n"
        'by_machine = out[out["fashion-metadata"].map(lambda m: isinstance(m, dict) and m["human-annotated"] == "no")]\n'
        'print(len(by_machine), "rows auto-labeled, for example:")\n'
        'by_machine["fashion-metadata"].iloc[0]',
    ),
    ("code", "job.stop_autolabel()\njob.autolabel_status"),
    (
        "markdown",
        "## Texts\n\nThe same widget labels texts, shown as text, never as HTML: 1,000 WordNet definitions.",
    ),
    (
        "code",
        "texts = datasets.definitions()\n"
        'text_job = nl.Job("definitions", texts, nl.TextClassification(datasets.text_labels()))\n'
        "text_job",
    ),
    (
        "markdown",
        "## Save the manifest\n\n`write_manifest` writes JSON Lines that Ground Truth and SageMaker "
        "training jobs read; it writes aside and renames, so a failure never leaves half a file. "
        "Files go into `out/` (ignored by git).",
    ),
    (
        "code",
        "from pathlib import Path\n\n"
        'Path("out").mkdir(exist_ok=True)\n'
        'nl.write_manifest(out, "out/fashion.manifest")\n'
        'nl.read_manifest("out/fashion.manifest").head()',
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
        "n = job.import_answers(datasets.gt_bird_responses())  # GT's worker-response files\n"
        'print(f"{n} answers imported")',
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
        "from nblabel.datasets.crowd import simulate_crowd\n\n"
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
        "detection tools train on; `nblabel.formats.from_coco` reads COCO back for adjustment.",
    ),
    (
        "code",
        "from pathlib import Path\n\n"
        "Path('out').mkdir(exist_ok=True)  # files go into out/ (ignored by git)\n"
        "labels = datasets.image_labels()\n"
        'coco = out.nblabel.to_coco("clipart-boxes", "out/boxes.coco.json", labels=labels)\n'
        'out.nblabel.to_yolo("clipart-boxes", "out/yolo", labels=labels, overwrite=True)\n'
        'out.nblabel.to_voc("clipart-boxes", "out/voc", labels=labels, overwrite=True)\n'
        'coco["annotations"]',
    ),
]

SEGMENTATION = [
    (
        "markdown",
        "# Semantic segmentation\n\n"
        "Paint a class on every pixel and get Ground Truth's `groundtruth/semantic-segmentation` label back: "
        "an indexed PNG per image (pixel value = class index, 0 = `BACKGROUND`, palette = GT's colours) "
        "at the original resolution, named in `<attribute>-ref` with GT's `internal-color-map`.\n\n"
        "Click the widget, then: **b** brush and **e** eraser (drag to paint), **[ / ]** brush size, "
        "**p** polygon (click the corners, **Enter** fills), **g** fills the clicked region, **r** fills "
        "every unpainted pixel, **1–9, 0** pick the class, **o** opacity, **m** hides the mask, "
        "**z** / **Shift+Z** undo and redo, **Enter** submits, **s** skips. Zoom with the wheel or "
        "**+/-**, pan with **space-drag**, **f** fits.",
    ),
    ("code", "import nblabel as nl\nfrom nblabel import datasets\n\nimages = datasets.images().head(8)"),
    (
        "code",
        'job = nl.Job("clipart-masks", images, nl.SemanticSegmentation(["plant", "animal", "thing"]))\njob',
    ),
    (
        "markdown",
        "The label attribute ends in `-ref`, as GT requires for this task. A mask can also be given "
        "from code, as an array of class indices the size of the image:",
    ),
    (
        "code",
        "import numpy as np\nfrom PIL import Image\n\n"
        'with Image.open(images.at[0, "source-ref"]) as img:\n'
        "    width, height = img.size\n"
        "mask = np.zeros((height, width), np.uint8)\n"
        "mask[height // 4 : 3 * height // 4, width // 4 : 3 * width // 4] = 1  # a plant in the middle\n"
        "job.label(0, mask)\n"
        "out = job.to_dataframe()\n"
        'out[["source-ref", job.attribute, job.attribute + "-metadata"]].head(2)',
    ),
    (
        "markdown",
        "## Verify or adjust earlier masks\n\n`LabelVerification` overlays an earlier job's masks on "
        "the image; `SemanticSegmentation(..., adjust=attribute)` starts from them, and the output "
        "says whether the person changed any pixel (`adjustment-status`).",
    ),
    ("code", 'check = nl.Job("clipart-mask-verify", out, nl.LabelVerification("clipart-masks-ref"))\ncheck'),
    (
        "code",
        'fix = nl.Job("clipart-mask-adjust", out, nl.SemanticSegmentation(["plant", "animal", "thing"], '
        'adjust="clipart-masks-ref"))\nfix',
    ),
    (
        "markdown",
        "## A folder of masks\n\n`df.nblabel.to_masks` writes one index PNG per image plus "
        "`color_map.json`, the layout segmentation training code reads; `job.export(...)` writes GT's "
        "own layout, masks under `annotations/consolidated-annotation/output/`.",
    ),
    (
        "code",
        'folder = out.nblabel.to_masks("clipart-masks-ref", "out/masks", overwrite=True)  # out/: ignored by git\n'
        "sorted(p.name for p in folder.iterdir())",
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
        "from nblabel.tasks.preannotate import from_dictionary, from_patterns, from_spacy\n\n"
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
        "`datasets` (`tokens` + `ner_tags`), from the labeled rows of the augmented manifest. The tokenizer "
        "is stated in `nblabel.text`.",
    ),
    (
        "code",
        "from pathlib import Path\n\n"
        "from nblabel.formats.entities import documents, to_conll, to_hf_table, to_spacy_jsonl\n\n"
        "docs = documents(job.to_dataframe(), job.attribute)\n"
        "Path('out').mkdir(exist_ok=True)  # files go into out/ (ignored by git)\n"
        "to_spacy_jsonl(docs, 'out/entities.jsonl')\n"
        "to_conll(docs, 'out/entities.conll')\n"
        "table = to_hf_table(docs, labels=job.task.labels)\n"
        "table, table.attrs['tag_names']",
    ),
    (
        "markdown",
        "## Proposals from a model trained on your answers\n\n`job.autolabel()` trains a CRF tagger on the "
        "texts people answered (from 5 on) and proposes spans, each with its confidence, for every text "
        "still waiting; the widget shows them and Enter accepts. Entities are never auto-labeled. Here the "
        "answers are given in code to show one round.",
    ),
    (
        "code",
        "import random\n\n"
        "rng = random.Random(0)\n"
        "people, places = ['Ann Lee', 'Zoë Roth', 'Tim Berg', 'Ana Ruiz'], ['Zürich', 'Lima', 'Oslo', 'Perth']\n"
        "rows, gold = [], []\n"
        "for i in range(30):\n"
        "    person, place = rng.choice(people), rng.choice(places)\n"
        "    text = f'{person} moved to {place} 👋' if i % 2 else f'In {place}, {person} opened a shop.'\n"
        "    rows.append(text)\n"
        "    gold.append(sorted([\n"
        "        {'label': 'Person', 'startOffset': text.index(person), 'endOffset': text.index(person) + len(person)},\n"
        "        {'label': 'Place', 'startOffset': text.index(place), 'endOffset': text.index(place) + len(place)},\n"
        "    ], key=lambda e: e['startOffset']))\n"
        "model_job = nl.Job('entities-model', pd.DataFrame({'source': rows}), nl.NamedEntities(['Person', 'Place']))\n"
        "for i in range(10):\n"
        "    model_job.label(i, gold[i])\n"
        "print(model_job.autolabel(background=False))\n"
        "model_job.proposal(10)",
    ),
    ("code", "model_job  # the next texts show the model's spans dashed; Enter accepts them"),
]

# Issue #25: judging model outputs. Made-up answers from three made-up "models"; the real
# preference data of the benchmark (HH-RLHF) is red-teaming text, not for demos.
PREFERENCES = [
    (
        "markdown",
        "# Judging model outputs: pairwise, ranking, rating\n\n"
        "Each item is a prompt (the `source` column) and responses in columns you name. `models=` columns "
        "say which system wrote each response: people never see them, `job.leaderboard()` ranks them. "
        "Keys: `a` / `b` / `t` (tie) for pairwise; `1`–`k` give the next rank, `=` ties it with the last, "
        "Tab changes dimension, Enter submits; `z` undoes, `s` skips.",
    ),
    (
        "code",
        "import random\n\n"
        "import pandas as pd\n\n"
        "import nblabel as nl\n\n"
        "rng = random.Random(0)\n"
        "questions = ['How do I reverse a list in Python?', 'What is a closure?', 'Explain HTTP caching.',\n"
        "             'How do I read a CSV file?', 'What does `git rebase` do?', 'Why use type hints?'] * 10\n"
        "skill = {'careful-13b': 0.8, 'quick-7b': 0.5, 'terse-3b': 0.2}  # made up\n\n"
        "def respond(model, question):\n"
        "    body = f'**{model}** on *{question}*:\\n\\n- a first point\\n- a second point'\n"
        "    if skill[model] > 0.6:\n"
        "        body += '\\n\\n```python\\nitems[::-1]\\n```'\n"
        "    return body\n\n"
        "rows = []\n"
        "for q in questions:\n"
        "    a, b = rng.sample(list(skill), 2)\n"
        "    rows.append({'source': q, 'response_a': respond(a, q), 'response_b': respond(b, q), 'model_a': a, 'model_b': b})\n"
        "df = pd.DataFrame(rows)\n"
        "job = nl.Job('prefs', df, nl.Pairwise('Which answer is more helpful?', models=['model_a', 'model_b']))\n"
        "job",
    ),
    (
        "markdown",
        "Answers can also come from code. Here two simulated people answer, each preferring the more "
        "skilled model most of the time, so the leaderboard has something to rank.",
    ),
    (
        "code",
        "import math\n\n"
        "for person in ('ann', 'bob'):\n"
        "    for i, row in df.iterrows():\n"
        "        p = 1 / (1 + math.exp(4 * (skill[row.model_b] - skill[row.model_a])))\n"
        "        draw = rng.random()\n"
        "        job.label(i, 'tie' if abs(draw - p) < 0.05 else ('A' if draw < p else 'B'), annotator=person)\n"
        "board = job.leaderboard(by='model')\n"
        "board",
    ),
    (
        "markdown",
        "The scores with their 95% bootstrap intervals (resampling items), best at the top:",
    ),
    (
        "code",
        "import matplotlib.pyplot as plt\n\n"
        "shown = board.iloc[::-1]  # best at the top\n"
        "below, above = (shown.score - shown.lower).clip(lower=0), (shown.upper - shown.score).clip(lower=0)\n"
        "fig, ax = plt.subplots(figsize=(6, 2.5))\n"
        "ax.errorbar(shown.score, shown.model, xerr=[below, above], fmt='o', capsize=4)\n"
        "ax.set(title='Bradley-Terry score per model, 95% interval', xlabel='score (log-strength)');",
    ),
    (
        "markdown",
        "Ordinal agreement: Kendall's tau per pair of people, Krippendorff's alpha (ordinal), tie rates.",
    ),
    ("code", "job.agreement()"),
    (
        "markdown",
        "## A judge, calibrated like the auto-labeler\n\n`job.autolabel(judge=...)` takes any callable "
        "`judge(prompt, responses) -> (answer, confidence)`: an LLM client, a reward model, a heuristic. "
        "The people's answers measure it with classification's bound: items are auto-labeled only above the "
        "confidence where the lower 95% bound of its agreement with people reaches the target. The first round "
        "(no answers yet) proposes every item and orders the people's queue: the judge's least sure items, "
        "with random draws between them; the answers to those draws carry the bound (answers to items you "
        "pick yourself count only as themselves). This length judge is weak: it labels nothing.",
    ),
    (
        "code",
        "def longer_is_better(prompt, responses):\n"
        "    a, b = map(len, responses)\n"
        "    return ('A' if a >= b else 'B'), min(0.99, 0.5 + abs(a - b) / 200)\n\n"
        "judged = nl.Job('prefs-judged', df, nl.Pairwise(models=['model_a', 'model_b']), annotator='ann')\n"
        "judged.autolabel(judge=longer_is_better, target_accuracy=0.9)  # proposals and the queue\n"
        "for i in judged.pending(30).index:  # a person answering the queue, as in the widget\n"
        "    judged.label(i, job.answers(i)[0].value)\n"
        "print(judged.autolabel(judge=longer_is_better, target_accuracy=0.9))\n"
        "judged.proposal(judged.pending(1).index[0])  # shown in the widget; Enter accepts",
    ),
    (
        "markdown",
        "## Preference pairs for training\n\n`prompt` / `chosen` / `rejected` JSON Lines, as TRL's DPO trainer "
        "reads them; ties are left out and counted. `.table` goes to `datasets.Dataset.from_pandas`.",
    ),
    (
        "code",
        "from pathlib import Path\n\n"
        "Path('out').mkdir(exist_ok=True)  # files go into out/ (ignored by git)\n"
        "pairs = job.to_dataframe().nblabel.to_preference_pairs('out/pairs.jsonl')\n"
        "print(pairs)\n"
        "pairs.table.head(3)",
    ),
    (
        "markdown",
        "## Ranking k responses\n\nThe answer has exactly the shape of Ground Truth's `crowd-text-ranking` "
        "element: per dimension, the 1-based rank of each response, ties where the dimension allows them.",
    ),
    (
        "code",
        "three = df.assign(response_c=[respond('terse-3b', q) for q in df.source])\n"
        "ranking = nl.Ranking([{'name': 'Correctness', 'allowTie': False}, {'name': 'Clarity', 'allowTie': True}],\n"
        "                     responses=['response_a', 'response_b', 'response_c'])\n"
        "ranked = nl.Job('prefs-ranked', three, ranking)\n"
        "ranked.label(0, {'ordinalRankingDimensions': [\n"
        "    {'name': 'Correctness', 'responseRankings': [1, 2, 3]},\n"
        "    {'name': 'Clarity', 'responseRankings': [1, 1, 3]},\n"
        "]})\n"
        "ranked",
    ),
    (
        "markdown",
        "## Rating, with a corrected response\n\n`nl.Rating(scale, dimensions, correction=True)`: a score per "
        "response and dimension, an optional comment (`c`), and an optional corrected response (`e` opens it on "
        "the response's text; what you type there is text, never a key of the widget; Esc leaves, Enter "
        "submits). The correction is stored beside the scores and, in preference pairs, chosen over the "
        "response it corrects. `nl.Pairwise(correction=True)` offers it too.",
    ),
    (
        "code",
        "rating = nl.Rating((1, 5), ['Correctness', 'Clarity'], correction=True, responses=['response_a'])\n"
        "rated = nl.Job('prefs-rated', df, rating)\n"
        "rated.label(0, {'ratingDimensions': [{'name': 'Correctness', 'responseRatings': [3]},\n"
        "                                    {'name': 'Clarity', 'responseRatings': [4]}],\n"
        "                'correction': 'Use `reversed(items)` or `items[::-1]`.'})\n"
        "rated.to_dataframe().nblabel.to_preference_pairs(responses=['response_a']).table[['chosen', 'rejected']]",
    ),
    ("code", "rated"),
]

# 07: the labeling portal (#23).
PORTAL = [
    (
        "markdown",
        "# A team labels in their browsers: the portal\n\n`job.serve(...)` opens the job to annotators "
        "who never see a notebook: each gets a personal link to a page with only the job (title, "
        "instructions, the widget with its keys, their own progress), served by Voilà "
        "(`pip install 'nblabel[portal]'`). Their answers land in this job's store under their names, "
        "with `answers_per_item` as in a notebook. See docs/portal.md (JupyterHub, the command line).",
    ),
    (
        "code",
        "import pandas as pd\n\nimport nblabel as nl\n\n"
        "notes = pd.DataFrame({'source': [\n"
        "    'The patient reports chest pain after exercise.',\n"
        "    'Routine check-up, no complaints.',\n"
        "    'Persistent cough for three weeks, mild fever.',\n"
        "    'Follow-up visit: the rash has cleared.',\n"
        "]})\n"
        "job = nl.Job('triage', notes, nl.TextClassification(['urgent', 'routine']), answers_per_item=2)\n"
        "portal = job.serve(\n"
        "    ['ana', 'bob'],\n"
        "    instructions='Urgent: needs a doctor today.\\n\\nRoutine: anything that can wait a week.',\n"
        ")\n"
        "portal.links  # send each person their own link; a new serve() with their name replaces it",
    ),
    (
        "markdown",
        "Answers arrive in the store as the team works: `job.refresh()` reads them, and `job.progress`, "
        "`job.agreement()` and `job.consolidate()` follow. Revoking someone ends their access "
        "at their next key press; their answers stay.",
    ),
    (
        "code",
        "job.label(0, 'urgent', annotator='ana')  # what ana's key press does\njob.refresh()\njob.progress",
    ),
    ("code", "portal.revoke('bob')\nportal"),
    ("markdown", "The owner can label in the notebook too, as themselves:"),
    ("code", "job"),
    ("code", "portal.stop()  # the store keeps every answer and the links: job.serve() serves them again"),
]

# 09: Ground Truth features (#21).
GT_FEATURES = [
    (
        "markdown",
        "# Ground Truth features: attributes, instructions, timing, overlapping entities\n\n"
        "What a GT labeling job has besides its labels, in nblabel: **label category and frame "
        "attributes** (GT's label category configuration file), **instructions** with good and bad "
        "examples, each answer's **worker timing** (as GT's worker-response files record it) and "
        "per-annotator figures, and **overlapping entities**.",
    ),
    (
        "code",
        "import json\nimport random\nfrom datetime import datetime, timedelta, timezone\nfrom pathlib import Path\n\n"
        "import pandas as pd\nfrom PIL import Image\n\nimport nblabel as nl\nfrom nblabel import datasets",
    ),
    (
        "markdown",
        "## Attributes and instructions\n\n"
        "GT's label category configuration, as its console writes it: per-label "
        "`categoryAttributes`, `categoryGlobalAttributes` for every label and `frameAttributes` for "
        "the whole image. `from_label_categories` reads the file (or the dict); `instructions` are "
        "Markdown, shown as text (never HTML).",
    ),
    (
        "code",
        "images = datasets.images().head(12)\n"
        "labels = datasets.image_labels()\n"
        "config = {\n"
        '    "document-version": "2020-03-01",\n'
        '    "labels": [{"label": name} for name in labels],\n'
        '    "categoryGlobalAttributes": [\n'
        '        {"name": "style", "type": "string", "enum": ["outline", "colour"], "isRequired": True},\n'
        '        {"name": "parts", "type": "number", "minimum": 1, "maximum": 20},\n'
        "    ],\n"
        '    "frameAttributes": [{"name": "background", "type": "string", "enum": ["plain", "busy"], "isRequired": True}],\n'
        "}\n"
        'config["labels"][labels.index("vehicle")]["categoryAttributes"] = [{"name": "wheels", "type": "number", "minimum": 0}]\n'
        "instructions = {\n"
        '    "short": "Box **each** drawing tightly, then set its style and the background.",\n'
        '    "full": "# Boxes\\nOne box per drawing, edge to edge.\\n\\n- *style*: outline or colour\\n- *wheels*: vehicles only",\n'
        '    "good": [{"image": images.at[0, "source-ref"], "caption": "one drawing, one box"}],\n'
        "}\n"
        "task = nl.BoundingBox.from_label_categories(config, instructions=instructions)\n"
        'job = nl.Job("gt-features", images, task, answers_per_item=3)\n'
        "job",
    ),
    (
        "markdown",
        "In the widget: **i** opens the instructions, **t** goes to the selected box's attributes "
        "(then the image's), **Esc** comes back; Enter refuses an answer whose required attributes "
        "are empty, saying which.\n\n"
        "## ⏩ Fast-forward: a team of three\n\n"
        "**This cell stands in for three people.** It sends what their widgets would send: each "
        "answer with the browser's timing (`acceptanceTime`, `submissionTime`, and the active "
        "`timeSpentInSeconds`, pauses over 30 s and hidden tabs left out).",
    ),
    (
        "code",
        "# FAST-FORWARD: three simulated people, each slower and sloppier than the last.\n"
        "rng = random.Random(7)\n"
        "start = datetime.now(timezone.utc) - timedelta(hours=1)\n"
        'team = {"ana": (6.0, 0.0), "bo": (10.0, 0.1), "cy": (16.0, 0.3)}  # mean seconds, error rate\n'
        "for who, (seconds, sloppy) in team.items():\n"
        '    feed = nl.Job("gt-features", images, task, annotator=who, answers_per_item=3).feed()\n'
        "    clock = start\n"
        '    for n, (key, ref, gold) in enumerate(zip(job.keys, images["source-ref"], images["gold"], strict=True)):\n'
        "        width, height = Image.open(ref).size\n"
        "        label = rng.choice(labels) if rng.random() < sloppy else gold\n"
        '        attributes = {"style": rng.choice(["outline", "colour"]) if rng.random() < sloppy else "colour"}\n'
        '        box = {"class_id": labels.index(label), "left": 5, "top": 5, "width": width - 10, "height": height - 10,\n'
        '               "label-category-attributes": attributes}\n'
        '        value = {"image_size": [{"width": width, "height": height, "depth": 3}], "annotations": [box],\n'
        '                 "frame-attributes": {"background": "plain"}}\n'
        "        spent = round(rng.expovariate(1 / seconds), 3)\n"
        "        accepted, clock = clock, clock + timedelta(seconds=spent + rng.uniform(0, 40))\n"
        '        iso = lambda t: t.isoformat(timespec="milliseconds").replace("+00:00", "Z")\n'
        '        timing = {"acceptanceTime": iso(accepted), "submissionTime": iso(clock), "timeSpentInSeconds": spent}\n'
        '        feed.apply({"type": "answer", "uid": f"{who}-{n}", "key": key, "value": value, "timing": timing})\n'
        "job.refresh()\n"
        "job.progress",
    ),
    (
        "markdown",
        "Consolidation keeps the majority value per attribute, as GT writes it: "
        "`label-category-attributes` on each box, `frame-attributes` on the image.",
    ),
    (
        "code",
        "job.consolidate()\n"
        'label = job.to_dataframe().at[0, "gt-features"]\n'
        'label["annotations"], label["frame-attributes"]',
    ),
    (
        "markdown",
        "Classification takes frame attributes too (GT's `frameAttributes`, a panel beside the "
        "item): the label stays GT's class index and the values go to its metadata.",
    ),
    (
        "code",
        'quality = {"frame": [{"name": "quality", "enum": ["sharp", "blurry"], "isRequired": True}]}\n'
        'kinds = nl.Job("kinds", images, nl.ImageClassification(labels, attributes=quality))\n'
        'kinds.label(0, {"label": images.at[0, "gold"], "frame-attributes": {"quality": "sharp"}})\n'
        'kinds.to_dataframe().at[0, "kinds-metadata"]["frame-attributes"]',
    ),
    (
        "markdown",
        "## Who labels how\n\n"
        "`job.stats()`: per annotator, items and answers, median and 90th percentile of active "
        "seconds per image, agreement with the consolidated label, and the share of proposals "
        "accepted unchanged (none were proposed here).",
    ),
    ("code", "stats = job.stats()\nstats"),
    (
        "code",
        'ax = stats[["median_seconds", "p90_seconds"]].plot.barh(title="Active seconds per image")\n'
        'ax.set_xlabel("seconds");',
    ),
    (
        "markdown",
        "The GT export writes the timing and the worker's identity into each worker-response file:",
    ),
    (
        "code",
        'result = job.export("out", overwrite=True)\n'
        'response = next(Path("out/gt-features/annotations/worker-response/iteration-1/0").glob("*.json"))\n'
        'answer = json.loads(response.read_text())["answers"][0]\n'
        '{k: v for k, v in answer.items() if k != "answerContent"}',
    ),
    (
        "markdown",
        "## Overlapping and nested entities\n\n"
        "GT's entity tool allows them, and so does nblabel (in the widget, a selection inside an "
        "entity nests a new one; **e** steps through stacked entities). spaCy's `spans` hold them; "
        "CoNLL/IOB2 has one tag per token and refuses them, naming the spans.",
    ),
    (
        "code",
        "from nblabel.formats.entities import documents, to_conll, to_spacy_jsonl\n\n"
        'text = "Amazon SageMaker Ground Truth labels data."\n'
        'ner = nl.Job("nested", pd.DataFrame({"source": [text]}), nl.NamedEntities(["Org", "Product"]))\n'
        "ner.label(0, [\n"
        '    {"label": "Org", "startOffset": 0, "endOffset": 6},\n'
        '    {"label": "Product", "startOffset": 0, "endOffset": 29},\n'
        '    {"label": "Product", "startOffset": 7, "endOffset": 16},\n'
        "])\n"
        'docs = documents(ner.to_dataframe(), "nested")\n'
        'to_spacy_jsonl(docs, "out/nested.jsonl")\n'
        "try:\n"
        '    to_conll(docs, "out/nested.conll")\n'
        "except ValueError as error:\n"
        "    print(error)",
    ),
]


# #24: a job at scale (lazily opened manifest, job.add, Dask rounds, consolidation of many items).
SCALE = [
    (
        "markdown",
        "# Jobs at scale\n\n"
        "A manifest of millions of lines opens lazily (item keys and line offsets first, each row "
        "when it is needed), rows can be added to an open job (`job.add`, like Ground Truth's "
        "streaming jobs), the auto-labeler can featurize and predict on a Dask cluster "
        "(`cluster=`), and consolidation runs over arrays. See docs/scale.md; the figures at "
        '10 million lines and a million items are in BENCHMARKS.md ("Auto-labeling at scale").',
    ),
    (
        "code",
        "import time\nfrom pathlib import Path\n\nimport pandas as pd\n\nimport nblabel as nl\n"
        "from nblabel import datasets\nfrom nblabel.datasets.crowd import simulate_crowd",
    ),
    (
        "markdown",
        "## A large manifest, opened lazily\n\n"
        "100,000 lines here (the benchmark opens ten million). `Job(name, path, ...)` reads only "
        "each line's `source-ref` and where the line starts; `job.pending()` reads its rows from the file.",
    ),
    (
        "code",
        'Path("out").mkdir(exist_ok=True)\n'
        'lines = (f\'{{"source-ref":"s3://bucket/images/{i:07d}.jpg","id":{i}}}\\n\' for i in range(100_000))\n'
        'Path("out/big.manifest").write_text("".join(lines))\n'
        "start = time.perf_counter()\n"
        'big = nl.Job("big", "out/big.manifest", nl.ImageClassification(["cat", "dog"]))\n'
        'print(f"{len(big.keys):,} items open in {time.perf_counter() - start:.2f} s")\n'
        "big.pending(3)",
    ),
    (
        "markdown",
        "## Items added to an open job\n\n"
        "`job.add` keeps the rows in the job's store: every kernel of the job sees them, and adding "
        "the same item again is a no-op.",
    ),
    (
        "code",
        'more = pd.DataFrame({"source-ref": [f"s3://bucket/new/{i}.jpg" for i in range(3)]})\n'
        "print(big.add(more), big.add(more))  # 3 new, then none\n"
        "big.progress",
    ),
    (
        "markdown",
        "## An auto-labeling round on a Dask cluster\n\n"
        "A two-worker `LocalCluster` stands in for a real one: the workers featurize every item "
        "(partition files next to the store) and predict the open ones with the model fitted here "
        "on the answers. The answers below are the gold labels of randomly drawn texts.",
    ),
    (
        "code",
        "from distributed import Client, LocalCluster\n\n"
        "cluster = LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None)\n"
        "client = Client(cluster)\n"
        "texts = datasets.definitions()\n"
        'job = nl.Job("definitions-dask", texts, nl.TextClassification(datasets.text_labels()))\n'
        "job.autolabel(background=False, cluster=client)  # a first round: a random queue\n"
        "for position in job.queue.pending(300):  # a person answers the first 300 drawn texts\n"
        '    job.label(position, texts.at[position, "gold"])\n'
        "print(job.autolabel(background=False, cluster=client))\n"
        "job",
    ),
    ("code", "client.close()\ncluster.close()"),
    (
        "markdown",
        "## Consolidation of many items\n\n"
        "A simulated crowd answers 30,000 items three times (the benchmark: a million); Dawid-Skene and the majority vote run "
        "over the answers as arrays.",
    ),
    (
        "code",
        'crowd = simulate_crowd(30_000, 5, {"good": 0.9, "fair": 0.7, "poor": 0.5, "bad": 0.3}, 3, seed=0)\n'
        "for method in (nl.consolidate.dawid_skene, nl.consolidate.majority_vote):\n"
        "    start = time.perf_counter()\n"
        "    result = method(crowd.answers, crowd.classes)\n"
        "    labels = {key: c.value for key, c in result.items.items()}\n"
        '    print(f"{method.__name__}: {time.perf_counter() - start:.1f} s, accuracy {crowd.accuracy(labels):.3f}")',
    ),
]

NOTEBOOKS = {
    "01_quickstart.ipynb": QUICKSTART,
    "02_boxes.ipynb": BOXES,
    "03_entities.ipynb": ENTITIES,
    "04_segmentation.ipynb": SEGMENTATION,
    "05_custom_tasks.ipynb": CUSTOM_TASKS,
    "06_consolidation.ipynb": CONSOLIDATION,
    "07_portal.ipynb": PORTAL,
    "08_preferences.ipynb": PREFERENCES,
    "09_gt_features.ipynb": GT_FEATURES,
    "10_scale.ipynb": SCALE,
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
