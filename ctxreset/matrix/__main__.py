"""``python -m ctxreset.matrix [PATH]``: validate matrix.yaml alone (exit 0, or one line and 2)."""

import sys

from ctxreset.matrix.loader import main

sys.exit(main())
