"""Experiment workspace: ``flow_init``, ``flow_create`` and per-run log directories.

A workspace is a project root holding ``flows/`` (one directory per experiment, plus a
generated ``__init__.py`` with the useful paths), ``logs/`` (one directory per run, following
the script's path inside ``flows/``) and ``data/`` (shared raw data, kept out of git).
Nothing here imports tyro at import time; only the console entry points do.
"""

from __future__ import annotations

from .create import flow_create
from .init import InitReport, flow_init
from .paths import find_workspace, run_dir_for

__all__ = ["InitReport", "find_workspace", "flow_create", "flow_init", "run_dir_for"]
