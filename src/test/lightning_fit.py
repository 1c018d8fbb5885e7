"""A tiny Lightning fit on CPU, in the test's own process, for the tests that steer or log a run.

:class:`LinearModel` is one linear layer on random data; its optimizer takes the learning rate
from the test's config when the fit starts, so an OFC change that reaches the optimizer is the
callback's doing. :func:`fit_on_cpu` runs it with nothing but the test's logger and callbacks
(no progress bar, checkpoints or model summary). Imports torch and Lightning: a test module
imports this inside the tests that fit, so collecting it stays light.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import pytorch_lightning as pl
import torch
from torch.utils.data import DataLoader, TensorDataset

WIDTH = 2  # inputs per sample


class LinearModel(pl.LightningModule):
    """``Linear(width, 1)`` with an MSE loss; ``optimizer(params, lr=lr())`` at fit start."""

    def __init__(self, lr: Callable[[], float], optimizer: Callable[..., Any] = torch.optim.SGD,
                 width: int = WIDTH) -> None:
        super().__init__()
        self.layer = torch.nn.Linear(width, 1)
        self._lr = lr
        self._optimizer = optimizer

    def training_step(self, batch: Any, batch_idx: int) -> Any:
        x, y = batch
        return torch.nn.functional.mse_loss(self.layer(x), y)

    def configure_optimizers(self) -> Any:
        return self._optimizer(self.parameters(), lr=self._lr())


def fit_on_cpu(model: pl.LightningModule, *, samples: int, max_steps: int, logger: Any = False,
               callbacks: list[pl.Callback]) -> pl.Trainer:
    """Fit ``model`` on ``samples`` random rows for ``max_steps`` steps (batch 1, logging every
    step); the trainer, for what it left in its optimizers."""
    trainer = pl.Trainer(
        accelerator="cpu",
        devices=1,
        max_steps=max_steps,
        logger=logger,
        log_every_n_steps=1,
        enable_progress_bar=False,
        enable_checkpointing=False,
        enable_model_summary=False,
        callbacks=callbacks,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Lightning's advice about dataloader workers
        trainer.fit(model, DataLoader(TensorDataset(torch.randn(samples, WIDTH), torch.randn(samples, 1))))
    return trainer
