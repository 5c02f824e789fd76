"""``python -m benchmarks.autolabel``."""

import sys

from benchmarks.autolabel.cli import main

sys.exit(main())
