"""A config for the help snapshots: ``python help_program.py tyro|ours --help`` prints the help
of ``tyro.cli`` or of ``config_utils.cli`` for the same class."""

from __future__ import annotations

import dataclasses
import enum
import sys
from typing import Literal, Union

import tyro

import config_utils


class Act(enum.Enum):
    RELU = "relu"
    GELU = "gelu"


@dataclasses.dataclass
class Adam:
    """Adam: adaptive moments."""

    lr: float = 1e-3
    """Learning rate."""
    betas: tuple[float, float] = (0.9, 0.999)


@dataclasses.dataclass
class Sgd:
    """Plain SGD with momentum."""

    lr: float = 0.1
    momentum: float = 0.9


@dataclasses.dataclass
class Model:
    """The network."""

    hidden: int = 64
    """Width of each hidden layer, also used by the output head when it is not overridden."""
    act: Act = Act.RELU
    use_ema: bool = False


@dataclasses.dataclass
class Train:
    """Train a small model (help snapshot config)."""

    steps: int
    """Number of optimisation steps."""
    model: Model = dataclasses.field(default_factory=Model)
    optim: Union[Adam, Sgd] = dataclasses.field(default_factory=Adam)  # noqa: UP007
    mode: Literal["fast", "slow"] = "fast"
    tags: list[str] = dataclasses.field(default_factory=list)


if __name__ == "__main__":
    which, argv = sys.argv[1], sys.argv[2:]
    if which == "tyro":
        tyro.cli(Train, args=argv, prog="train")
    else:
        config_utils.cli(Train, args=argv, prog="train", config_file=None)
