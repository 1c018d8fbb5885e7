"""prefigure's W&B push and pull, delegated to ``config_utils.sources.wandb``.

Why delegate: one W&B implementation (URL parsing, bounded timeouts, one clear message per
failure, rank detection) serves both the new and the legacy API. This module only adapts
prefigure's conventions: a flat ``argparse.Namespace``, ``omit`` -> ``"OMITTED"``.
wandb is imported inside the functions, never at ``import prefigure_compat``.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable
from pathlib import Path
from typing import Any


def pull_flat(wandb_config: str) -> dict[str, Any]:
    """The top-level ``{key: value}`` of a previous run's config; keys pushed as
    ``"OMITTED"`` are skipped when the config comes from a tracker (prefigure's convention),
    kept as the text in a run directory written by ``save_run``.

    prefigure configs are flat: a dict value is a whole setting (an imported config file),
    so it is not flattened into dotted keys. Read as ``--from-run`` reads it
    (:func:`config_utils.sources.previous.pull_previous`).
    """
    from config_utils.sources.previous import pull_previous
    from config_utils.sources.push import drop_omitted

    if not Path(wandb_config).expanduser().exists():  # a local run directory needs no wandb
        from config_utils.extras import require

        require("wandb", "wandb", feature="--wandb-config with a W&B run")
    run = pull_previous(wandb_config)
    values = dict(run.config)
    return drop_omitted(values) if run.tracker else values


def push_wandb_config(wandb_logger: Any, args: argparse.Namespace, omit: Iterable[str] = []) -> None:  # noqa: B006 - prefigure's signature
    """Archive ``args`` in the W&B run's config; keys in ``omit`` are pushed as ``"OMITTED"``.

    ``wandb_logger`` is a Lightning ``WandbLogger``, a ``wandb`` run, or None (the current
    run). On non-zero ranks of a multi-process run this does nothing, as in prefigure.
    """
    from config_utils.extras import require
    from config_utils.sources.wandb import push_config

    require("wandb", "wandb", feature="push_wandb_config")
    omit = list(omit)
    unknown = [key for key in omit if not hasattr(args, key)]
    if unknown:  # prefigure ignored these silently; a typo would leak the value it meant to hide
        import warnings

        from config_utils.errors import did_you_mean

        for key in unknown:
            warnings.warn(
                f"push_wandb_config: omit key {key!r} is not an argument"
                f"{did_you_mean(key, vars(args))}; nothing to omit",
                UserWarning,
                stacklevel=2,
            )
    push_config(wandb_logger, args, omit=[key for key in omit if key not in unknown])
