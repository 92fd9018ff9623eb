"""Run the command line: ``python -m ketaplan``."""

import sys

from ketaplan.cli import main

sys.exit(main())
