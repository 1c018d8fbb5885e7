"""Contender: ``prefigure_compat.get_all_args`` (our legacy API) on the flat 500-key ini.

docs/design.md ("Performance targets") target: import + this call <= 2 x the flat-argparse floor.
"""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
# The editable install may predate prefigure_compat/__init__.py and then maps the package as an
# empty namespace; putting the repository first imports the real package (same files).
sys.path.insert(0, os.path.dirname(os.path.dirname(HERE)))

from _checksum import print_checksum  # noqa: E402

from prefigure_compat import get_all_args  # noqa: E402

print_checksum(vars(get_all_args(defaults_file=os.path.join(HERE, "large_flat.ini"))), flat=True)
