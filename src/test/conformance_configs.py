"""Config classes in the shapes tyro users write, for the tyro conformance tests.

A real module (tyro reads field docstrings and comments from source).
"""

from __future__ import annotations

import dataclasses
import enum
import itertools
from dataclasses import InitVar, dataclass, field
from pathlib import Path
from typing import Annotated, Literal, Optional

import tyro


class Act(enum.Enum):
    RELU = "relu"
    GELU = "gelu"


@dataclass
class Encoder:
    act: Act = Act.RELU
    use_ema: bool = False
    width: int = 64


@dataclass
class Plain:
    """A plain config."""

    lr: float = 0.1
    """Learning rate."""
    steps: int = 10
    name: str = "run"
    out: Path = Path("out")
    dims: tuple[int, ...] = (1, 2)
    tags: list[str] = field(default_factory=list)
    mode: Literal["fast", "slow"] = "fast"
    seed: Optional[int] = None
    encoder: Encoder = field(default_factory=Encoder)


@dataclass
class Required:
    steps: int
    name: str = "x"


@dataclass
class Adam:
    lr: float = 1e-3
    beta: float = 0.9


@dataclass
class Sgd:
    lr: float = 1e-2
    momentum: float = 0.0


@dataclass
class WithUnion:
    optim: Adam | Sgd = field(default_factory=Adam)
    steps: int = 5


@dataclass
class WithUnionNoDefault:
    optim: Adam | Sgd
    steps: int = 5


@dataclass
class Derived:
    """``b`` follows ``a`` unless given (a ``__post_init__`` derivation)."""

    a: int = 1
    b: Optional[int] = None

    def __post_init__(self) -> None:
        if self.b is None:
            self.b = 2 * self.a


@dataclass
class WithInitVar:
    base: int = 3
    scale: InitVar[int] = 2
    total: int = field(init=False, default=0)

    def __post_init__(self, scale: int) -> None:
        self.total = self.base * scale


@dataclass
class WithMarkers:
    count: Annotated[int, tyro.conf.arg(aliases=("-c",), help="how many")] = 1
    verbose: tyro.conf.FlagConversionOff[bool] = False
    quiet: bool = False
    hidden: tyro.conf.Suppress[int] = 7


@dataclass
class ArgDefault:
    value: Annotated[int, tyro.conf.arg(default=5)] = 1  # tyro's marker default wins


@dataclass
class SubcommandDefault:
    optim: Annotated[Adam, tyro.conf.subcommand(name="adam", default=Adam(lr=0.5))] | Annotated[
        Sgd, tyro.conf.subcommand(name="sgd")
    ] = field(default_factory=Sgd)


@tyro.conf.configure(tyro.conf.FlagConversionOff)
@dataclass
class BaseWithMarker:
    flag: bool = False


@dataclass
class ChildOfMarked(BaseWithMarker):
    other: bool = True


@dataclass
class Cyclic:
    value: int = 0
    child: Optional[Cyclic] = None


@dataclass
class Omit:
    encoder: tyro.conf.OmitArgPrefixes[Encoder] = field(default_factory=Encoder)
    steps: int = 1


@dataclass
class WithFormat:
    """A config whose fields share names with the built-in flags."""

    format: str = "csv"
    config_file: str = "none.txt"
    print_config: bool = False


_counter = itertools.count(1)


@dataclass
class Counted:
    ident: int = field(default_factory=lambda: next(_counter))
    items: list[int] = field(default_factory=list)


def main(a: int, b: str = "x", *, flag: bool = False) -> str:
    """Join the arguments.

    Args:
        a: The a.
        b: The b.
        flag: A flag.
    """
    return f"{a}-{b}-{flag}"


def fields_of(cls: type) -> list[str]:
    return [f.name for f in dataclasses.fields(cls)]
