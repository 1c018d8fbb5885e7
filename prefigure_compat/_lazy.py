"""Module objects that import the real module on first use.

Why: prefigure's modules import wandb and gradio at the top, so ``from prefigure.prefigure
import *`` hands a script the names ``wandb`` (and, from ``prefigure.ofc``, ``gr`` and
``gb``), and some scripts go on to call ``wandb.init(...)`` through them. Importing those
packages costs seconds (wandb ~0.9 s, gradio ~6 s), which ``import prefigure_compat`` must not
pay. A :class:`LazyModule` is a real ``ModuleType`` bound to the same name; the first attribute
access imports the module (through :func:`config_utils.extras.require`, so a missing extra is
one line naming it) and forwards to it from then on.
"""

from __future__ import annotations

import importlib
import os
from types import ModuleType
from typing import Any


class LazyModule(ModuleType):
    """Stands for the module ``name``; imports it when an attribute is first read or set."""

    def __init__(self, name: str, extra: str | None = None) -> None:
        super().__init__(name)
        object.__setattr__(self, "_lazy_extra", extra)
        object.__setattr__(self, "_lazy_module", None)

    def _lazy_load(self) -> ModuleType:
        module: ModuleType | None = object.__getattribute__(self, "_lazy_module")
        if module is None:
            name = object.__getattribute__(self, "__name__")
            extra = object.__getattribute__(self, "_lazy_extra")
            if name.split(".")[0] == "gradio":  # no usage statistics from a training job
                os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
            if extra is None:
                module = importlib.import_module(name)
            else:
                from config_utils.extras import require

                module = require(name, extra)
            object.__setattr__(self, "_lazy_module", module)
        return module

    def __getattr__(self, attr: str) -> Any:
        # only called for names the proxy itself lacks (everything but __name__ and the like)
        if attr.startswith("_lazy_"):
            raise AttributeError(attr)
        return getattr(self._lazy_load(), attr)

    def __setattr__(self, attr: str, value: Any) -> None:
        setattr(self._lazy_load(), attr, value)

    def __dir__(self) -> list[str]:
        return dir(self._lazy_load())

    def __repr__(self) -> str:
        name = object.__getattribute__(self, "__name__")
        loaded = object.__getattribute__(self, "_lazy_module") is not None
        return f"<module {name!r} ({'loaded' if loaded else 'imported on first use'})>"


#: ``wandb`` as prefigure's modules export it.
wandb: Any = LazyModule("wandb", extra="wandb")
