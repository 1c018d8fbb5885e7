"""Optional dependencies ("extras"): import one, or say in one line which extra to install.

Why this module exists: the base install (``pip install flows-workspace``, about 30 MB) holds
only tyro. W&B, Lightning, gradio, gin and PyYAML come with the extras ``wandb``,
``lightning``, ``gui``, ``gin`` and ``yaml``. A user who calls a feature whose extra is missing
must get one line that names the extra and the command that installs it, not a
``ModuleNotFoundError`` traceback from deep inside the library. Every module that needs an
optional package imports it through :func:`require`, at the moment it is needed (never at
``import config_utils`` time), so the message is the same everywhere.

:class:`MissingExtraError` is a :class:`~config_utils.errors.ConfigError`, so command-line entry
points print it and exit with status 2 like every other mistake; it is also an ``ImportError``,
so code that already guards an optional import with ``except ImportError`` keeps working.
"""

from __future__ import annotations

import importlib
import sys
from types import ModuleType

from .errors import ConfigError

__all__ = ["DISTRIBUTION", "MissingExtraError", "install_hint", "require"]

DISTRIBUTION = "flows-workspace"


class MissingExtraError(ConfigError, ImportError):
    """An optional package is not installed; the message names the extra that provides it."""

    def __init__(self, message: str, *, module: str = "", extra: str = "") -> None:
        super().__init__(message)
        self.module = module
        self.extra = extra
        # ImportError's own attribute, read by tools that report missing modules
        self.name = module or None

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


def install_hint(extra: str) -> str:
    """The command that installs ``extra``, quoted for a POSIX shell (the brackets need it)."""
    return f"pip install '{DISTRIBUTION}[{extra}]'"


def require(module_name: str, extra: str, *, feature: str | None = None) -> ModuleType:
    """Import ``module_name`` and return it, or raise :class:`MissingExtraError`.

    ``extra`` is the name of the extra that installs the module (``"wandb"``). ``feature``
    names what needs it in the message (``"push_config"``, ``"--wandb-config URL"``); the
    default is the module's top-level package. The message is one line::

        push_config needs the 'wandb' extra: pip install 'flows-workspace[wandb]'

    Only a missing *top-level* package (or the module itself) counts as a missing extra. When
    the package is installed but one of its own dependencies is missing or broken, the
    original ``ModuleNotFoundError`` propagates: installing the extra again would not fix it,
    and hiding the real cause would send the user in the wrong direction.

    A plain directory of that name on ``sys.path`` is not the package either: W&B's own run
    directory ``./wandb`` (no ``__init__.py``) imports as an empty namespace package when
    wandb is not installed, and would fail later with a confusing ``AttributeError``.
    """
    top = module_name.partition(".")[0]
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name not in (module_name, top):
            raise
    else:
        if getattr(module, "__file__", None) is not None or not hasattr(module, "__path__"):
            return module
        sys.modules.pop(module_name, None)  # a namespace package made of stray directories
    raise MissingExtraError(
        f"{feature or top} needs the {extra!r} extra: {install_hint(extra)}",
        module=module_name,
        extra=extra,
    )
