"""What every tracker's push shares: the rank check, the config as primitives, omitted keys.

W&B (:mod:`.wandb`) and MLflow (:mod:`.mlflow`) push the same typed config the same way; these
helpers are that common part, so neither tracker module reaches into the other.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
from typing import Any

from ..errors import ConfigError, did_you_mean
from ..tree import OMITTED


def process_rank() -> int:
    """This process's global rank as the launcher or Lightning reports it (0 when unknown).

    The launcher's environment comes first: Lightning reads the same variables, but only once
    at import, so a process whose variables were set later would otherwise look like rank 0.
    """
    for var in ("RANK", "LOCAL_RANK", "SLURM_PROCID", "JSM_NAMESPACE_RANK"):
        value = os.environ.get(var, "")
        if value.isdigit():
            return int(value)
    lightning = sys.modules.get("lightning_fabric.utilities.rank_zero") or sys.modules.get(
        "pytorch_lightning.utilities.rank_zero"
    )
    rank = getattr(getattr(lightning, "rank_zero_only", None), "rank", None)
    return rank if isinstance(rank, int) else 0


def config_primitives(cfg: Any) -> dict[str, Any]:
    """``cfg`` (dataclass, Namespace or mapping) as nested JSON primitives with ``_type`` tags."""
    from ..tree import primitive, to_primitives

    if isinstance(cfg, argparse.Namespace) or (
        dataclasses.is_dataclass(cfg) and not isinstance(cfg, type)
    ):
        return to_primitives(cfg)
    if isinstance(cfg, dict):
        out = primitive(cfg)
        assert isinstance(out, dict)
        return out
    raise ConfigError(
        f"push_config: expected a dataclass config, an argparse.Namespace or a dict, got "
        f"{type(cfg).__name__}"
    )


def omit_path(values: dict[str, Any], path: str) -> None:
    """Replace the value at dotted ``path`` by ``"OMITTED"``; unknown paths are errors."""
    node: Any = values
    parts = path.split(".")
    for i, part in enumerate(parts):
        if not isinstance(node, dict) or part not in node:
            from ..tree import flatten

            known = {k for k in flatten(values) if not k.endswith("_type")}
            known |= {k.rsplit(".", n)[0] for k in known for n in range(1, k.count(".") + 1)}
            raise ConfigError(
                f"push_config: omit key {path!r} is not in the config{did_you_mean(path, known)}"
            )
        if i == len(parts) - 1:
            node[part] = OMITTED
        else:
            node = node[part]


def mask_argv(argv: list[str], omit: list[str]) -> list[str]:
    """``--data.token s3cret`` / ``--data.token=s3cret`` → the value replaced by OMITTED."""
    flags = {f"--{p}" for p in omit} | {f"--{p.replace('_', '-')}" for p in omit}
    out: list[str] = []
    mask_next = False
    for arg in argv:
        if mask_next and not arg.startswith("--"):
            out.append(OMITTED)
            continue
        mask_next = arg in flags
        name = arg.split("=", 1)[0]
        out.append(f"{name}={OMITTED}" if "=" in arg and name in flags else arg)
    return out
