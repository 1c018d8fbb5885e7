"""An experiment made by ``flow_create``: edit ``RunConfig`` and ``train`` to make it yours.

Run it from anywhere::

    python flows/NAME/run.py --help                  # every option, with its help and default
    python flows/NAME/run.py --lr 0.1 --model.hidden 8
    python flows/NAME/run.py --print-config          # resolved values and where each came from
    python flows/NAME/run.py --wandb-config logs/NAME/run/<run>   # re-create an earlier run

Values come from, lowest first: the defaults in ``RunConfig`` < ``defaults.ini`` beside this
file < ``--wandb-config RUN`` < the command line. Each run gets a fresh directory under
``logs/`` that mirrors this file's path (``flows/NAME/run.py`` -> ``logs/NAME/run/<time>/``)
holding its run record (``run_record.json``: the exact config, argv, git commit, versions).
"""

from __future__ import annotations

import json
import math
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import config_utils
from config_utils.registry import registry

HERE = Path(__file__).resolve().parent


@dataclass
class ModelConfig:
    """Settings of :class:`Model`; ``registry.configure_submodules`` turns it into a Model."""

    hidden: int = 4
    """Number of weights of the toy model."""
    activation: Literal["identity", "tanh"] = "identity"
    """Nonlinearity applied to the model's output."""


@registry.register_with_config  # linked to ModelConfig by the naming convention
class Model:
    """A stand-in for your network (a torch.nn.Module, say): y = act(mean(w) * x)."""

    def __init__(self, hidden: int, activation: str) -> None:
        self.weights = [random.uniform(-1.0, 1.0) for _ in range(hidden)]
        self.activation = activation

    def __call__(self, x: float) -> float:
        z = sum(self.weights) / len(self.weights) * x
        return math.tanh(z) if self.activation == "tanh" else z


@dataclass
class RunConfig:
    """Train the template's toy model to fit y = 0.5 x."""

    model: ModelConfig = field(default_factory=ModelConfig)
    lr: float = 0.05
    """Learning rate."""
    steps: int = 200
    """Number of training steps."""
    seed: int = 0
    """Random seed: the same seed and config give the same run."""
    run_name: str | None = None
    """Name of this run's directory under logs/ (default: the current time)."""


def train(model: Model, cfg: RunConfig) -> float:
    """A few steps of gradient descent on squared error; returns the final loss."""
    loss = 0.0
    for _ in range(cfg.steps):
        x = random.uniform(-1.0, 1.0)
        err = model(x) - 0.5 * x
        loss = err * err
        slope = 1.0 - model(x) ** 2 if model.activation == "tanh" else 1.0
        grad = 2.0 * err * slope * x / len(model.weights)
        model.weights = [w - cfg.lr * grad for w in model.weights]
    return loss


def main(args: list[str] | None = None) -> Path:
    """Parse the config, make this run's log directory, record the run, train."""
    cfg = config_utils.cli(RunConfig, args=args, config_file=HERE / "defaults.ini")
    run_dir = config_utils.run_dir_for(__file__, name=cfg.run_name)
    config_utils.save_run(cfg, run_dir)
    random.seed(cfg.seed)
    model = registry.configure_submodules(cfg.model)
    loss = train(model, cfg)
    (run_dir / "metrics.json").write_text(json.dumps({"final_loss": loss}) + "\n", encoding="utf-8")
    print(f"final loss {loss:.6f}; run directory: {run_dir}")
    return run_dir


if __name__ == "__main__":
    main()
