"""Contender: bare ``tyro.cli`` on the large config (the reference for the 1.10x target)."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import tyro  # noqa: E402
from _checksum import print_checksum  # noqa: E402
from large_config import LargeConfig  # noqa: E402

print_checksum(tyro.cli(LargeConfig))
