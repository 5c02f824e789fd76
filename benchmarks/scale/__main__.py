"""``python -m benchmarks.scale``."""

from benchmarks.scale.cli import main

main()
