"""One ``push_config`` for every tracker: W&B and MLflow.

Why this module exists: a training script should not change when a team moves from W&B to
MLflow, so ``config_utils.push_config`` takes whatever logger or run the script already has
and hands it to the tracker it belongs to. The decision is made from the object's classes
(their module and name), so neither ``wandb`` nor ``mlflow`` is imported to find out, and a
missing tracker package is one line naming the extra that installs it.

=====================================================  =====================================
``logger_or_run``                                      pushed to
=====================================================  =====================================
``WandbLogger``, ``wandb.Run``, any other object with  :func:`config_utils.sources.wandb.push_config`
``.experiment`` (W&B's duck typing, kept)
``MLFlowLogger``, ``mlflow.ActiveRun``, ``mlflow``     :func:`config_utils.sources.mlflow.push_config`
``Run``
``None``                                               every active run: ``wandb.run`` and
                                                       ``mlflow.active_run()``
=====================================================  =====================================
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import Any

from ..errors import ConfigError

__all__ = ["push_config", "tracker_of"]


def tracker_of(logger_or_run: Any) -> str | None:
    """``"wandb"``, ``"mlflow"`` or None, from the object's classes alone."""
    for cls in type(logger_or_run).__mro__:
        top = (cls.__module__ or "").split(".")[0]
        if top == "mlflow" or cls.__name__ == "MLFlowLogger":
            return "mlflow"
        if top == "wandb" or cls.__name__ == "WandbLogger":
            return "wandb"
    return None


def push_config(logger_or_run: Any = None, cfg: Any = None, omit: Iterable[str] = ()) -> None:
    """Push ``cfg`` to the tracker ``logger_or_run`` belongs to (see the module docstring).

    A no-op on non-zero ranks. Without the tracker's extra installed, raises
    :class:`~config_utils.extras.MissingExtraError` naming it.
    """
    if cfg is None:
        raise ConfigError("push_config: no config given (push_config(logger_or_run, cfg))")
    omit = list(omit)
    if logger_or_run is None:
        _push_to_active(cfg, omit)
        return
    kind = tracker_of(logger_or_run)
    if kind == "mlflow":
        from . import mlflow as mlflow_source

        mlflow_source.push_config(logger_or_run, cfg, omit)
        return
    if kind == "wandb" or hasattr(logger_or_run, "experiment"):
        _wandb_push(logger_or_run, cfg, omit)
        return
    raise ConfigError(
        "push_config: expected a WandbLogger, a wandb.Run, an MLFlowLogger, an mlflow run or "
        f"None, got {type(logger_or_run).__name__}"
    )


def _wandb_push(logger_or_run: Any, cfg: Any, omit: list[str]) -> None:
    from ..extras import require

    require("wandb", "wandb", feature="push_config to W&B")
    from . import wandb as wandb_source

    wandb_source.push_config(logger_or_run, cfg, omit)


def _push_to_active(cfg: Any, omit: list[str]) -> None:
    """``push_config(None, cfg)``: every tracker with an active run in this process. A
    tracker that was never imported cannot have one, so nothing heavy is imported here."""
    pushed = False
    wandb = sys.modules.get("wandb")
    if wandb is not None and getattr(wandb, "run", None) is not None:
        _wandb_push(wandb.run, cfg, omit)
        pushed = True
    mlflow = sys.modules.get("mlflow")
    active = getattr(mlflow, "active_run", None) if mlflow is not None else None
    run = active() if callable(active) else None
    if run is not None:
        from . import mlflow as mlflow_source

        mlflow_source.push_config(run, cfg, omit)
        pushed = True
    if pushed:
        return
    from ..rank import process_rank as _process_rank

    if _process_rank() != 0:
        return
    raise ConfigError(
        "push_config: no W&B or MLflow run is active; call wandb.init() or mlflow.start_run() "
        "first, or pass a WandbLogger, an MLFlowLogger or a run"
    )
