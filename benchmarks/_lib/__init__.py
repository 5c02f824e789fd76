"""What the benchmarks share, so each script only says what it measures.

* :mod:`~benchmarks._lib.stats`: median / p95 / summaries and number formatting;
* :mod:`~benchmarks._lib.machine`: CPU, cores, memory, load average, package versions, the CPU
  time of this process tree and of everything else on the machine;
* :mod:`~benchmarks._lib.hooks`: the JavaScript installed in the page to time key presses,
  clicks, drags and pushes up to "painted";
* :mod:`~benchmarks._lib.page`: the Python side of those hooks (pacing, drags, notebooks);
* :mod:`~benchmarks._lib.trace`: Chrome tracing and the split of a press's time by task;
* :mod:`~benchmarks._lib.data`: generated images and texts;
* :mod:`~benchmarks._lib.report`: writing a section of BENCHMARKS.md, the command line quoted;
* :mod:`~benchmarks._lib.run`: logging, SIGTERM, installing a benchmark-only package.
"""
