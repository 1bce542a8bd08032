"""``python -m ctxreset.report``: merge results/ and write reports/ (see ctxreset.report.build)."""

import sys

from ctxreset.report.build import main

sys.exit(main())
