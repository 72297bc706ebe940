import sys

from sayzhong.cli import main

sys.exit(main())
