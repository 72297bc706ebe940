"""`python -m sayzhong.client` runs the terminal client (see `sayzhong.client.cli`)."""

import sys

from sayzhong.client.cli import main

sys.exit(main())
