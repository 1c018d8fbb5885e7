"""A small program for the sweep tests: config_utils.cli with a union field, a metric.

The loss is a fixed function of the config, so tests know which trial is best. ``--sleep``
makes a trial take time; ``--hang`` makes some trials hang on their first attempt (to kill a
sweep while they run); ``--crash`` makes it fail; ``--log FILE``
appends ``start N`` / ``end N`` lines (N from FLOWS_SWEEP_TRIAL) so a test can count how often
each trial ran to its end.
"""

from __future__ import annotations

import math
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Union

from trial_marks import mark_end, mark_start, trial_number

import config_utils


@dataclass
class AdamConfig:
    lr: float = 1e-3
    beta: float = 0.9


@dataclass
class SGDConfig:
    lr: float = 0.1
    momentum: float = 0.0


@dataclass
class Config:
    optim: Union[AdamConfig, SGDConfig] = field(default_factory=AdamConfig)
    width: int = 8
    act: Literal["relu", "tanh"] = "relu"
    use_bias: bool = True
    dims: list[int] = field(default_factory=lambda: [4, 4])
    sleep: float = 0.0
    crash: bool = False
    log: str = ""
    hang: list[int] = field(default_factory=list)
    """trial numbers that hang (60 s) on their first attempt: killed sweeps leave them running"""


def loss_of(cfg: Config) -> float:
    base = (math.log10(cfg.optim.lr) + 2.0) ** 2 + abs(cfg.width - 16) / 16
    if isinstance(cfg.optim, SGDConfig):
        base += 0.5 - cfg.optim.momentum * 0.1
    return base + (0.0 if cfg.act == "tanh" else 0.25) + (0.0 if cfg.use_bias else 0.1)


def main() -> None:
    cfg = config_utils.cli(Config, config_file=None)
    trial = trial_number()
    mark_start(cfg.log)
    print(f"trial {trial}: {cfg}", flush=True)
    for var in ("CUDA_VISIBLE_DEVICES", "WANDB_RUN_GROUP"):
        print(f"{var}={os.environ.get(var, '<unset>')}", flush=True)
    time.sleep(cfg.sleep)
    run_dir = Path(os.environ.get("FLOWS_RUN_DIR", "."))
    if trial.isdigit() and int(trial) in cfg.hang and not list(run_dir.parent.glob(run_dir.name + ".attempt-*")):
        time.sleep(60)
    if cfg.crash:
        print("something went wrong in the model", flush=True)
        sys.exit(3)
    config_utils.report(loss=loss_of(cfg), width=cfg.width)
    mark_end(cfg.log)


if __name__ == "__main__":
    main()
