"""`python -m kerasopt.cli`: the `kerasopt` command without the console script."""

import sys

from kerasopt.cli.main import main

sys.exit(main())
