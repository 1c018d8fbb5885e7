"""Contender: ``config_utils.cli`` on the large config with an ini layer (``large_defaults.ini``).

Prints the checksum like every peer, then ``ini_leaves=N``: how many leaves took their value
from the ini file according to ``config_utils.provenance`` -- proof that the layer was really
read and merged (its values restate defaults, so the checksum alone cannot show it).
"""

import os
import sys

BENCH = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, BENCH)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _checksum import print_checksum  # noqa: E402
from large_config import LargeConfig  # noqa: E402

from config_utils import cli  # noqa: E402

cfg = cli(LargeConfig, config_file=os.path.join(BENCH, "large_defaults.ini"))
print_checksum(cfg)
from config_utils import provenance  # noqa: E402

print(f"ini_leaves={sum('large_defaults.ini' in str(s) for s in provenance(cfg).values())}")
