"""nblabel's benchmarks: each writes its own section of BENCHMARKS.md.

Run one as a module from the repository root, e.g. ``python -m benchmarks.ui_latency --help``,
so that :mod:`benchmarks._lib` and the browser harness :mod:`tests.harness` import as packages.
"""
