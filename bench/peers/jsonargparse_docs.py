"""Contender: jsonargparse's ``auto_cli`` reading field docstrings, like tyro does.

By default jsonargparse ignores attribute docstrings, so its ``--help`` shows no field help
and does less work than tyro's; this variant turns them on for a like-for-like comparison.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _checksum import print_checksum  # noqa: E402
from jsonargparse import auto_cli, set_parsing_settings  # noqa: E402
from large_config import LargeConfig  # noqa: E402

set_parsing_settings(docstring_parse_attribute_docstrings=True)
print_checksum(auto_cli(LargeConfig))
