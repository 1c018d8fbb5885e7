"""The seed's nested-config example (pytorch-flows ``test_tyro_submodules``) as a script.

``Loss`` holds a loss module that is one of two variants; tyro builds the nested config
from the command line and ``registry.configure_submodules`` turns it into objects.

The union field has no default, so tyro 1.0.16 needs the variant chosen with a
subcommand (``AvoidSubcommands`` only removes subcommands for a union that *has* a
default; without the subcommand tyro exits with status 2, "Unrecognized options").
The two command lines::

    python examples/tyro_submodules.py --lam 0.5 module:loss-module1-config --module.p1 3 --module.p2 0.1
    python examples/tyro_submodules.py --lam 0.5 module:loss-module2-config --module.p1 3 --module.p2 0.1 --module.p3 1 2 3

``--help`` lists the variants; ``module:loss-module2-config --help`` lists that variant's
flags.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import List, Union  # noqa: UP035 - the seed's spelling

import tyro
from tyro.conf import AvoidSubcommands

from config_utils.registry import registry


@dataclass
class LossModule1Config:
    p1: int
    p2: float


@dataclass
class LossModule2Config:
    p1: int
    p2: float
    p3: List[float]  # noqa: UP006 - kept as the seed wrote it


@dataclass
class LossConfig:
    lam: float
    module: AvoidSubcommands[Union[LossModule1Config, LossModule2Config]]


@registry.register_with_config
class LossModule1:
    def __init__(self, p1: int, p2: float) -> None:
        self.p1 = p1
        self.p2 = p2

    def __repr__(self) -> str:
        return f"LossModule1(p1={self.p1!r}, p2={self.p2!r})"


@registry.register_with_config
class LossModule2:
    def __init__(self, p1: int, p2: float, p3: List[float]) -> None:  # noqa: UP006
        self.p1 = p1
        self.p2 = p2
        self.p3 = p3

    def __repr__(self) -> str:
        return f"LossModule2(p1={self.p1!r}, p2={self.p2!r}, p3={self.p3!r})"


@registry.register_with_config("LossConfig")
class Loss:
    def __init__(self, lam: float, module: Union[LossModule1, LossModule2]) -> None:
        self.lam = lam
        self.loss_module = module

    def __repr__(self) -> str:
        return f"Loss(lam={self.lam!r}, module={self.loss_module!r})"


if __name__ == "__main__":
    loss_config = tyro.cli(LossConfig)
    loss_fn = registry.configure_submodules(loss_config)
    print(loss_fn)
    print(loss_fn.loss_module)
