"""A toy training run whose loss curves separate early: the example for early termination.

Each epoch reports ``loss`` with ``config_utils.report(step=epoch, ...)``; the curve decays
towards a floor set by the learning rate, so a run that is behind after a few epochs stays
behind. Used by ``hyperband.yaml`` and by ``bench/bench_hyperband.py``.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import config_utils


@dataclass
class Config:
    lr: float = 0.01
    epochs: int = 27
    epoch_seconds: float = 0.02
    """sleep per epoch (stands for the work)"""


def loss_at(lr: float, epoch: int) -> float:
    floor = 0.1 + (math.log10(lr) + 2.0) ** 2
    return floor + 2.0 * math.exp(-epoch / 4.0)


def main() -> None:
    cfg = config_utils.cli(Config, config_file=None)
    for epoch in range(cfg.epochs):
        time.sleep(cfg.epoch_seconds)
        config_utils.report(step=epoch, loss=loss_at(cfg.lr, epoch))


if __name__ == "__main__":
    main()
