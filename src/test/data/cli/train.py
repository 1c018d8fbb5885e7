"""A user's script for the command-line tests: ``config_utils.cli`` on a test config.

``CLI_TEST_CONFIG`` names the class in ``cli_configs`` (default ``TrainConfig``); the
resolved config is printed so the test can check it.
"""

from __future__ import annotations

import os

import cli_configs

import config_utils

if __name__ == "__main__":
    cls = getattr(cli_configs, os.environ.get("CLI_TEST_CONFIG", "TrainConfig"))
    cfg = config_utils.cli(cls)
    print(repr(cfg))
