"""``python -m benchmarks.ui_latency``."""

import sys

from benchmarks.ui_latency.cli import main

sys.exit(main())
