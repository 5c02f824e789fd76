"""Copy the real Ground Truth bird job into ``src/nblabel/datasets/data/gt-birds/``.

The job is AWS's published example of GT's annotation consolidation
(aws/amazon-sagemaker-examples, ``ground_truth_labeling_jobs/annotation_consolidation/
ic_data.tar.gz``, Apache License 2.0): 302 Open Images bird photos, 5 Mechanical Turk workers
each. Run from the repository root with the unpacked folder (holding ``output.manifest``,
``worker-response/`` and ``true_labels.json``)::

    python tools/make_gt_birds.py /path/to/gt-bird-job

It copies ``worker-response/`` byte for byte and writes ``gt-birds.jsonl``: per line of GT's
output manifest, the image's ``source-ref``, its Open Images label (``gold``), and GT's
consolidated class name and confidence (``gt-label``, ``gt-confidence``).
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "src" / "nblabel" / "datasets" / "data" / "gt-birds"
ATTRIBUTE = "birds-open-images-clone"


def main(source: Path) -> None:
    truth = {row["ImageId"]: row["Label"] for row in json.loads((source / "true_labels.json").read_text())}
    rows = []
    for line in (source / "output.manifest").read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        meta = record[f"{ATTRIBUTE}-metadata"]
        image = record["source-ref"].rsplit("/", 1)[-1].removesuffix(".jpg")
        rows.append(
            {
                "source-ref": record["source-ref"],
                "gold": truth[image],
                "gt-label": meta["class-name"],
                "gt-confidence": meta["confidence"],
            }
        )
    if OUT.exists():
        shutil.rmtree(OUT)
    OUT.mkdir(parents=True)
    shutil.copytree(source / "worker-response", OUT / "worker-response")
    with (OUT / "gt-birds.jsonl").open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, separators=(",", ":")) + "\n")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
