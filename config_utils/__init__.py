"""flows-workspace: typed, layered configuration for ML experiments.

The public API lives here. Light parts (registry, errors) load at import; parts that need
tyro, wandb, torch, Lightning or gradio load on first attribute access, so that
``import config_utils`` stays cheap (a test checks ``sys.modules``).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from . import layers as _layers  # noqa: F401 - installs the dataclass builder of convert
from .errors import (
    ConfigError,
    ConversionError,
    DuplicateNameError,
    InstantiationError,
    OFCError,
    RegistryError,
    RunSourceError,
    SignatureError,
    SourceError,
    UnknownKeyError,
    UnknownNameError,
    WorkspaceError,
)
from .extras import MissingExtraError
from .provenance import provenance
from .registry import Registry, registry

__version__ = "0.1.0"

# public name -> (module, attribute); loaded on first access.
_LAZY: dict[str, tuple[str, str]] = {
    "cli": (".cli", ""),  # a callable module: config_utils.cli(...) and config_utils.cli.tyro_subcommand
    "last_parsed": (".command_line", "last_parsed"),
    "save_run": (".sources.runs", "save_run"),
    "load_run": (".sources.runs", "load_run"),
    "push_config": (".sources.trackers", "push_config"),
    "pull_config": (".sources.wandb", "pull_config"),
    "to_primitives": (".tree", "to_primitives"),
    "OFC": (".ofc.core", "OFC"),
    "OFCCallback": (".ofc.lightning", "OFCCallback"),
    "run_dir_for": (".flows.paths", "run_dir_for"),
    "report": (".sweep.report", "report"),
    "sweep": (".sweep", ""),  # the sweep API module: config_utils.sweep.run(...)
}

__all__ = [
    "ConfigError",
    "ConversionError",
    "DuplicateNameError",
    "InstantiationError",
    "MissingExtraError",
    "OFCError",
    "Registry",
    "RegistryError",
    "RunSourceError",
    "SignatureError",
    "SourceError",
    "UnknownKeyError",
    "UnknownNameError",
    "WorkspaceError",
    "configure_submodules",
    "make_config",
    "provenance",
    "registry",
    "cli",
    "last_parsed",
    "save_run",
    "load_run",
    "push_config",
    "pull_config",
    "to_primitives",
    "OFC",
    "OFCCallback",
    "run_dir_for",
    "report",
    "sweep",
]


def configure_submodules(struct: Any) -> Any:
    """Instantiate every registered config in ``struct`` with the default registry."""
    return registry.configure_submodules(struct)


def make_config(target: Any, name: str | None = None) -> type:
    """Generate the ``XConfig`` dataclass for ``target`` from its signature (default registry)."""
    return registry.make_config(target, name=name)


def __getattr__(name: str) -> Any:
    try:
        module, attr = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'config_utils' has no attribute {name!r}") from None
    loaded = importlib.import_module(module, __name__)
    value = getattr(loaded, attr) if attr else loaded
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


if TYPE_CHECKING:  # let type checkers and IDEs see the lazy names
    from . import sweep
    from .command_line import cli, last_parsed
    from .flows.paths import run_dir_for
    from .ofc.core import OFC
    from .ofc.lightning import OFCCallback
    from .sources.runs import load_run, save_run
    from .sources.trackers import push_config
    from .sources.wandb import pull_config
    from .sweep.report import report
    from .tree import to_primitives
