"""`python -m gateway …` runs the `inventory-gateway` command."""

import sys

from gateway.cli import main

sys.exit(main())
