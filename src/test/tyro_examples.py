"""Programs of our own that cover the patterns of tyro's documentation, for
``test_tyro_examples.py``: each is a target plus the ``tyro.cli`` keyword arguments it needs and
the command lines its documentation would show (good ones, and the mistakes people make)."""

from __future__ import annotations

import dataclasses
import enum
import typing
from dataclasses import field
from typing import Annotated, Generic, Literal, Optional, TypeVar, Union

import tyro

# --- dataclasses with defaults, `default=` and tyro.MISSING ---------------------------------


@dataclasses.dataclass
class Server:
    """Serve a model."""

    host: str
    """Where to listen."""
    port: int = 8080
    """TCP port."""
    debug: bool = False


SERVER_DEFAULT = Server(host=tyro.MISSING, port=9000)


# --- enums and literals ---------------------------------------------------------------------


class Colour(enum.Enum):
    RED = enum.auto()
    GREEN = enum.auto()


@dataclasses.dataclass
class Paint:
    colour: Colour = Colour.RED
    finish: Literal["matte", "gloss"] = "matte"
    coats: tuple[int, ...] = (1,)


# --- nested subcommands -----------------------------------------------------------------------


@dataclasses.dataclass
class Checkout:
    """Check out a branch."""

    branch: str
    force: bool = False


@dataclasses.dataclass
class CommitAll:
    message: str = "wip"
    all: bool = False


@dataclasses.dataclass
class Remote:
    """Talk to a remote."""

    cmd: Union[Checkout, CommitAll] = field(default_factory=CommitAll)  # noqa: UP007
    url: str = "origin"


@dataclasses.dataclass
class Local:
    path: str = "."


@dataclasses.dataclass
class Git:
    where: Union[Remote, Local] = field(default_factory=Local)  # noqa: UP007
    verbose: bool = False


# --- counters, positional, aliases ----------------------------------------------------------


@dataclasses.dataclass
class Tool:
    src: tyro.conf.Positional[str]
    """Input file."""
    dst: tyro.conf.Positional[str] = "out.txt"
    verbosity: tyro.conf.UseCounterAction[int] = 0
    """More output (-v, -vv)."""
    jobs: Annotated[int, tyro.conf.arg(aliases=("-j",))] = 1
    tags: tyro.conf.UseAppendAction[list[str]] = field(default_factory=list)


# --- mutually exclusive groups --------------------------------------------------------------

_ONE_OF = tyro.conf.create_mutex_group(required=True)


@dataclasses.dataclass
class Fetch:
    url: Annotated[Optional[str], _ONE_OF] = None  # noqa: UP045
    path: Annotated[Optional[str], _ONE_OF] = None  # noqa: UP045
    retries: int = 3


# --- custom constructors --------------------------------------------------------------------


def _csv(text: str) -> list[int]:
    return [int(x) for x in text.split(",")]


@dataclasses.dataclass
class Custom:
    dims: Annotated[list[int], tyro.conf.arg(constructor=_csv)] = field(default_factory=lambda: [1])
    scale: float = 1.0


# --- generics -------------------------------------------------------------------------------

T = TypeVar("T")


@dataclasses.dataclass
class Triangle:
    a: float = 1.0
    b: float = 1.0


@dataclasses.dataclass
class Square:
    side: float = 2.0


@dataclasses.dataclass
class Holder(Generic[T]):
    shape: T
    count: int = 1


@dataclasses.dataclass
class Model:
    depth: int = 3
    act: Literal["relu", "tanh"] = "relu"


# --- flags and markers ----------------------------------------------------------------------


@dataclasses.dataclass
class Flags:
    fast: bool = False
    strict: tyro.conf.FlagConversionOff[bool] = True
    name: Optional[str] = None  # noqa: UP045


# --- a function target ----------------------------------------------------------------------


def train(lr: float, steps: int = 10, /, name: str = "run") -> str:
    """Train something."""
    return f"{name}:{lr}:{steps}"


# --- base configs: a union of named defaults (the pattern of tyro_subcommand) -------------


@dataclasses.dataclass
class Experiment:
    lr: float = 1e-3
    layers: int = 2
    name: str = "exp"


BaseConfigs = Union[  # noqa: UP007
    Annotated[Experiment, tyro.conf.subcommand("small", default=Experiment(layers=2, name="small"))],
    Annotated[Experiment, tyro.conf.subcommand("large", default=Experiment(lr=1e-4, layers=24, name="large"))],
]


# --- structures other than dataclasses, renamed and prefix-less arguments ------------------


class Point(typing.NamedTuple):
    x: int
    y: int = 0


@dataclasses.dataclass
class Renamed:
    learning_rate: Annotated[float, tyro.conf.arg(name="lr")] = 0.1
    inner: tyro.conf.OmitArgPrefixes[Model] = field(default_factory=lambda: Model())
    pairs: tuple[Point, Point] = (Point(0, 0), Point(1, 1))
    table: dict[str, int] = field(default_factory=lambda: {"a": 1})


# name → (target, tyro.cli keyword arguments, command lines)
PROGRAMS: dict[str, tuple[object, dict[str, object], list[list[str]]]] = {
    "default-missing": (Server, {"default": SERVER_DEFAULT}, [
        [], ["--host", "a"], ["--host", "a", "--port", "1"], ["--port", "x"], ["--hots", "a"], ["--help"],
    ]),
    "required": (Server, {}, [[], ["--host", "h", "--debug"], ["--host"], ["--host", "h", "--no-debug"]]),
    "enums": (Paint, {}, [
        ["--colour", "GREEN"], ["--colour", "BLUE"], ["--finish", "gloss"], ["--coats", "1", "2", "3"],
        ["--coats"], ["--finish", "shiny"], ["--help"],
    ]),
    "nested-subcommands": (Git, {}, [
        [], ["where:remote"], ["where:remote", "where.cmd:checkout", "--where.cmd.branch", "main"],
        ["where:remote", "where.cmd:checkout"], ["where:local", "--where.path", "/tmp"],
        ["--verbose", "where:remote", "--where.url", "up", "where.cmd:commit-all", "--where.cmd.all"],
        ["where:nowhere"], ["where:remote", "--help"], ["--help"],
    ]),
    "positional-counter-alias": (Tool, {}, [
        ["in.txt"], ["in.txt", "o.txt", "-j", "4"], ["in.txt", "--verbosity", "--verbosity"],
        ["in.txt", "--tags", "a", "--tags", "b"], [], ["a", "b", "c"], ["in.txt", "--jobs", "x"], ["--help"],
    ]),
    "mutex": (Fetch, {}, [
        ["--url", "u"], ["--path", "p", "--retries", "1"], [], ["--url", "u", "--path", "p"], ["--help"],
    ]),
    "constructor": (Custom, {}, [["--dims", "1,2,3"], ["--dims", "a"], ["--scale", "2"], ["--help"]]),
    "generic": (Holder[Triangle], {}, [[], ["--shape.a", "3"], ["--shape.c", "1"], ["--help"]]),
    "generic-union": (Holder[Union[Triangle, Square]], {}, [  # noqa: UP007
        ["shape:square", "--shape.side", "3"], ["shape:triangle"], [], ["--help"],
    ]),
    "flags": (Flags, {}, [
        ["--fast"], ["--no-fast"], ["--strict", "False"], ["--strict"], ["--name", "None"], ["--name", "x"],
        ["--fast", "--fast"], ["--help"],
    ]),
    "function": (train, {}, [["0.1"], ["0.1", "5", "--name", "x"], [], ["x"], ["--help"]]),
    "base-configs": (BaseConfigs, {}, [
        ["small"], ["large", "--lr", "0.5"], ["medium"], [], ["large", "--help"], ["--help"],
    ]),
    "renamed-and-structures": (Renamed, {}, [
        ["--lr", "0.2"], ["--learning-rate", "0.2"], ["--depth", "5", "--act", "tanh"],
        ["--pairs.0.x", "4", "--pairs.1.y", "2"], ["--table", "b", "2", "c", "3"], ["--table", "b"], ["--help"],
    ]),
    "namedtuple": (Point, {}, [["--x", "1"], ["--x", "1", "--y", "2"], [], ["--help"]]),
    "dict": (dict[str, int], {}, [["a", "1", "b", "2"], ["a"], ["--help"]]),
}
