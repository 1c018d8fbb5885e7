"""A plain W&B training script: hyper-parameters from ``wandb.config``, metrics with ``wandb.log``.

Nothing here knows about flow_sweep. As under W&B's agent, each trial's values reach
``wandb.config`` (through ``WANDB_SWEEP_PARAM_PATH``), and the sweep reads ``val_loss`` from
the trial's W&B run log (history while it runs, summary at the end). Any mode but disabled
writes that log; offline needs no account:

    WANDB_MODE=offline flow_sweep examples/sweep/wandb_script.yaml --count 4
"""

from __future__ import annotations

import math

import wandb

defaults = {"lr": 0.01, "batch_size": 32, "epochs": 3}
run = wandb.init(project="flows-sweep-example", config=defaults)
cfg = wandb.config
for epoch in range(cfg.epochs):
    val_loss = (math.log10(cfg.lr) + 2.0) ** 2 + abs(math.log2(cfg.batch_size) - 5) * 0.1 + 1.0 / (epoch + 1)
    wandb.log({"val_loss": val_loss, "epoch": epoch})
run.finish()
