"""``config_utils.cli`` is both the function and a module.

Called, it is :func:`config_utils.command_line.cli` (``config_utils.cli(TrainConfig)``, the
``tyro.cli`` with config layers). Imported from, it holds the helpers that pytorch-flows ships
beside it: ``from config_utils.cli import tyro_subcommand``. A module whose class has a
``__call__`` gives both without renaming either; tyro is imported only when a helper runs.
"""

from __future__ import annotations

import sys
import types
from typing import Any

__all__ = ["tyro_subcommand"]


def tyro_subcommand(tp: Any, **subcommand_kwargs: Any) -> Any:
    """``tp`` annotated with ``tyro.conf.subcommand(**subcommand_kwargs)``: one member of a
    union with its own subcommand name, default, description or prefix name, as in
    pytorch-flows (``Union[tyro_subcommand(OptionA, name="a1", default=OptionA(1)), ...]``)."""
    from typing import Annotated

    import tyro

    return Annotated[tp, tyro.conf.subcommand(**subcommand_kwargs)]


class _CallableModule(types.ModuleType):
    """This module; calling it calls :func:`config_utils.command_line.cli`."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        from .command_line import cli

        return cli(*args, **kwargs)

    @property
    def __signature__(self) -> Any:  # inspect.signature(config_utils.cli) shows the function's
        import inspect

        from .command_line import cli

        return inspect.signature(cli)

    @property
    def __wrapped__(self) -> Any:
        from .command_line import cli

        return cli


sys.modules[__name__].__class__ = _CallableModule
