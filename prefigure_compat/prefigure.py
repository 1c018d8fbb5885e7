"""``prefigure.prefigure`` under its own name: ``from prefigure_compat.prefigure import ...``.

Why this module exists: older prefigure scripts import from the submodule
(``from prefigure.prefigure import get_all_args, push_wandb_config``), some with ``import *``.
Changing the package name must be the only edit, so this module exports exactly the names
prefigure 0.0.10's ``prefigure/prefigure.py`` does (it has no ``__all__``, so ``import *``
hands over every public name, the modules it imported included). ``wandb`` and ``distutils``
are :class:`~prefigure_compat._lazy.LazyModule` objects: imported at first use, so this
import stays as cheap as ``argparse``. Differences from prefigure:
docs/prefigure-differences.md.
"""

from __future__ import annotations

import argparse
import configparser
import copy
import json
import sys
from ast import literal_eval
from pathlib import Path
from typing import Any

from ._args import (
    DEFAULTS_FILE,
    BareParser,
    arg_eval,
    get_all_args,
    parse_imports,
    pull_wandb_config,
    read_config,
    read_defaults,
    setup_args,
    setup_gin,
)
from ._lazy import LazyModule
from ._lazy import wandb as wandb
from ._wandb import push_wandb_config

#: prefigure imported ``distutils`` (removed in Python 3.12); only a script that uses it loads it.
distutils: Any = LazyModule("distutils")

__all__ = [
    "DEFAULTS_FILE",
    "BareParser",
    "Path",
    "arg_eval",
    "argparse",
    "configparser",
    "copy",
    "distutils",
    "get_all_args",
    "json",
    "literal_eval",
    "parse_imports",
    "pull_wandb_config",
    "push_wandb_config",
    "read_config",
    "read_defaults",
    "setup_args",
    "setup_gin",
    "sys",
    "wandb",
]
