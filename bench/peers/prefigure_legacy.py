"""Contender: prefigure 0.0.10's ``get_all_args`` on a flat 500-key ini (``large_flat.ini``).

prefigure imports wandb and gradio at import time, types lists as ``list(str)`` (characters)
and reads every ini boolean as False, so its checksum is reported but not required to match.
"""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from _checksum import print_checksum  # noqa: E402
from prefigure import get_all_args  # noqa: E402

print_checksum(vars(get_all_args(defaults_file=os.path.join(HERE, "large_flat.ini"))), flat=True)
