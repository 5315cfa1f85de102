"""``python -m thesis_lib`` runs the command line (see :mod:`thesis_lib.cli`)."""

import sys

from .cli import main

sys.exit(main())
