"""prefigure's W&B push and pull, delegated to ``config_utils.sources.wandb``.

Why delegate: one W&B implementation (URL parsing, bounded timeouts, one clear message per
failure, rank detection) serves both the new and the legacy API. This module only adapts
prefigure's conventions: a flat ``argparse.Namespace``, ``omit`` -> ``"OMITTED"``.
wandb is imported inside the functions, never at ``import prefigure_compat``.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable
from typing import Any


def pull_flat(wandb_config: str) -> dict[str, Any]:
    """The config of a previous run as flat ``{key: value}`` (prefigure configs are flat)."""
    from config_utils.sources.wandb import pull_config

    return dict(pull_config(wandb_config, flat=True))


def push_wandb_config(wandb_logger: Any, args: argparse.Namespace, omit: Iterable[str] = []) -> None:  # noqa: B006 - prefigure's signature
    """Archive ``args`` in the W&B run's config; keys in ``omit`` are pushed as ``"OMITTED"``.

    ``wandb_logger`` is a Lightning ``WandbLogger``, a ``wandb`` run, or None (the current
    run). On non-zero ranks of a multi-process run this does nothing, as in prefigure.
    """
    from config_utils.sources.wandb import push_config

    push_config(wandb_logger, args, omit=tuple(omit))
