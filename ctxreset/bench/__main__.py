"""``python -m ctxreset.bench``: what each fix costs (see ctxreset.bench.measure)."""

import sys

from ctxreset.bench.measure import main

sys.exit(main())
