"""A Hydra application, swept as W&B sweeps one: values arrive as Hydra overrides ``key=value``.

Its spec (``hydra_app.yaml``) uses W&B's ``command`` with ``${args_no_hyphens}``; flow_sweep
cannot ask a Hydra app for its config, so it says once that values go unchecked, and Hydra
itself refuses a bad override when the trial starts. The metric goes to the sweep with
``config_utils.report`` (light to import: no framework is pulled in).

    flow_sweep examples/sweep/hydra_app.yaml --parallel 2
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import hydra
from hydra.core.config_store import ConfigStore

import config_utils


@dataclass
class Optim:
    lr: float = 0.1
    momentum: float = 0.0


@dataclass
class Config:
    optim: Optim = field(default_factory=Optim)
    depth: int = 2


ConfigStore.instance().store(name="config", node=Config)


@hydra.main(version_base=None, config_name="config")
def main(cfg: Config) -> None:
    loss = (math.log10(cfg.optim.lr) + 2.0) ** 2 + abs(cfg.depth - 3) * 0.1 - cfg.optim.momentum * 0.05
    print(f"optim.lr={cfg.optim.lr} depth={cfg.depth} loss={loss:.4f}")
    config_utils.report(loss=loss)


if __name__ == "__main__":
    main()
