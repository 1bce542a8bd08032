import sys

from ctxreset.explore.cli import main

sys.exit(main())
