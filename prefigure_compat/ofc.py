"""``prefigure.ofc`` under its own name: ``from prefigure_compat.ofc import OFC``.

Why this module exists: scripts written for prefigure import the OFC class from its submodule
(``from prefigure.ofc import OFC``), some with ``import *``. This module exports the names
prefigure 0.0.10's ``prefigure/ofc.py`` does; ``gr`` (gradio), ``gb`` (gradio.blocks) and
``wandb`` are imported at first use (gradio alone costs ~6 s), so the import stays light.
Differences from prefigure: docs/prefigure-differences.md.
"""

from __future__ import annotations

import configparser
import itertools
import os
import warnings
from collections import OrderedDict
from copy import deepcopy
from datetime import datetime, timedelta
from typing import Any

from ._args import arg_eval, get_all_args
from ._lazy import LazyModule
from ._lazy import wandb as wandb
from ._ofc import OFC

gr: Any = LazyModule("gradio", extra="gui")
gb: Any = LazyModule("gradio.blocks", extra="gui")

__all__ = [
    "OFC",
    "OrderedDict",
    "arg_eval",
    "configparser",
    "datetime",
    "deepcopy",
    "gb",
    "get_all_args",
    "gr",
    "itertools",
    "os",
    "timedelta",
    "wandb",
    "warnings",
]
