"""Config dataclasses shared by the layered-command-line tests.

They live in a real module (not built with ``make_dataclass`` inside tests) because tyro
reads field docstrings from source, and because the run-record tests re-import the class
named in ``config_type``. The loss modules are registered with the default registry, so
their registered target names (``LossModule2``, ``loss-module2``) select variants the way
the seed's command line does.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from config_utils.registry import registry


class Color(enum.Enum):
    """An Enum whose values differ from its names (``RED`` / ``"red"``)."""

    RED = "red"
    GREEN = "green"
    BLUE = "blue"


class Level(enum.Enum):
    """An Enum with int values."""

    LOW = 1
    HIGH = 2


@dataclass
class OptimConfig:
    lr: float = 0.001
    """Learning rate."""
    betas: tuple[float, float] = (0.9, 0.999)
    name: Literal["adam", "sgd"] = "adam"


@dataclass
class ModelConfig:
    hidden: int = 128
    """Width of the hidden layer."""
    use_bias: bool = True
    dims: list[int] = field(default_factory=lambda: [4, 4])
    color: Color = Color.RED


@dataclass
class LossModule1Config:
    p1: int = 1
    p2: float = 0.5


@dataclass
class LossModule2Config:
    p1: int = 1
    p2: float = 0.5
    p3: list[float] = field(default_factory=lambda: [0.0])


@dataclass
class LossConfig:
    lam: float = 0.1
    module: LossModule1Config | LossModule2Config = field(default_factory=LossModule1Config)


@dataclass
class TrainConfig:
    """Train a small model."""

    name: str = "run"
    seed: int = 0
    out: Path = Path("out")
    level: Level = Level.LOW
    tag: str | None = None
    model: ModelConfig = field(default_factory=ModelConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    loss: LossConfig = field(default_factory=LossConfig)


@dataclass
class Required:
    """Two required fields: one top-level, one nested."""

    steps: int
    model: ModelConfig = field(default_factory=ModelConfig)


@dataclass
class AllTypes:
    """One field of each supported type, for the file-format tests."""

    i: int = 0
    f: float = 0.0
    b: bool = False
    s: str = ""
    p: Path = Path(".")
    lit: Literal["a", "b", 3] = "a"
    color: Color = Color.RED
    level: Level = Level.LOW
    opt: int | None = 5
    opt_s: str | None = "x"
    ints: list[int] = field(default_factory=list)
    pair: tuple[int, str] = (0, "")
    many: tuple[float, ...] = ()
    paths: list[Path] = field(default_factory=list)
    colors: list[Color] = field(default_factory=list)
    weights: dict[str, float] = field(default_factory=dict)
    model: ModelConfig = field(default_factory=ModelConfig)


@registry.register_with_config
class LossModule1:
    def __init__(self, p1: int, p2: float) -> None:
        self.p1, self.p2 = p1, p2


@registry.register_with_config
class LossModule2:
    def __init__(self, p1: int, p2: float, p3: list[float]) -> None:
        self.p1, self.p2, self.p3 = p1, p2, p3


@dataclass
class WithOptional:
    """An optional sub-config (default present) that a file may set to None."""

    model: ModelConfig | None = field(default_factory=ModelConfig)
    extra: OptimConfig | None = None


@dataclass
class Leaves:
    """One leaf of each kind a run record must carry exactly."""

    i: int = 0
    f: float = 0.0
    b: bool = False
    s: str = ""
    p: Path = Path(".")
    color: Color = Color.RED
    level: Level = Level.LOW
    lit: Literal["a", "b"] = "a"
    opt: int | None = None
    opt_s: str | None = None
    opt_p: Path | None = None
    ints: list[int] = field(default_factory=list)
    colors: list[Color] = field(default_factory=list)
    paths: tuple[Path, ...] = ()
    table: dict[str, float] = field(default_factory=dict)


@dataclass
class VariantA:
    x: int = 0
    leaves: Leaves = field(default_factory=Leaves)


@dataclass
class VariantB:
    y: str = ""
    levels: list[Level] = field(default_factory=list)
    sub: LossModule1Config | LossModule2Config = field(default_factory=LossModule1Config)


@dataclass
class RecordConfig:
    """A nested config for the run-record round trip: unions (one nested in another),
    an Optional sub-config, Enums, Paths, Optionals and lists."""

    top: Leaves = field(default_factory=Leaves)
    choice: VariantA | VariantB = field(default_factory=VariantA)
    maybe: OptimConfig | None = None
    names: list[str] = field(default_factory=list)
