"""``python -m bench.assurance``: see :mod:`bench.assurance`."""

import sys

from bench.assurance import main

sys.exit(main())
