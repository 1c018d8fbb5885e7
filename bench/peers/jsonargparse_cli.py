"""Contender: jsonargparse's ``auto_cli`` on the same dataclasses (returns a ``LargeConfig``)."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _checksum import print_checksum  # noqa: E402
from jsonargparse import auto_cli  # noqa: E402
from large_config import LargeConfig  # noqa: E402

print_checksum(auto_cli(LargeConfig))
