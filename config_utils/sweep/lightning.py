"""A Lightning callback that reports ``trainer.callback_metrics`` to the sweep.

Use it explicitly (``Trainer(callbacks=[config_utils.sweep.ReportCallback()])``), or let a
sweep add it: flows-workspace registers :func:`callbacks_factory` under Lightning's
``pytorch_lightning.callbacks_factory`` entry point, and the factory returns the callback only
inside a sweep trial (``FLOWS_SWEEP_TRIAL`` and ``FLOWS_RUN_DIR`` set). So a Lightning script
whose ``LightningModule`` logs its metric with ``self.log`` joins a sweep unchanged.
"""

from __future__ import annotations

import math
import os
from typing import Any

import pytorch_lightning as pl

from .report import RUN_DIR_ENV, TRIAL_ENV, report


class ReportCallback(pl.Callback):
    """Report every scalar in ``trainer.callback_metrics`` after each validation and at the
    end of training (rank 0 only). ``names`` limits it to some metrics."""

    def __init__(self, names: list[str] | None = None) -> None:
        self.names = names

    def _report(self, trainer: pl.Trainer) -> None:
        if not trainer.is_global_zero:
            return
        metrics: dict[str, float] = {}
        for name, value in trainer.callback_metrics.items():
            if self.names is not None and name not in self.names:
                continue
            try:
                v = float(value.item() if hasattr(value, "item") else value)
            except (TypeError, ValueError, RuntimeError):
                continue
            if math.isfinite(v) or self.names is not None:
                metrics[name] = v
        if metrics:
            report(step=trainer.global_step, **metrics)

    def on_validation_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if not trainer.sanity_checking:
            self._report(trainer)

    def on_train_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self._report(trainer)


def callbacks_factory() -> list[Any]:
    """Lightning's external-callbacks hook: a :class:`ReportCallback` inside sweep trials."""
    if os.environ.get(TRIAL_ENV) and os.environ.get(RUN_DIR_ENV):
        return [ReportCallback()]
    return []
