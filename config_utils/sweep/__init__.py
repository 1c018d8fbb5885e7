"""``config_utils.sweep``: sweeps in W&B's sweep-config format, typed before launch.

    result = config_utils.sweep.run("sweep.yaml", engine="local", parallel=2)
    result.best.values          # {"optim.lr": 0.003, ...}

Also ``flow_sweep sweep.yaml`` on the command line. Inside a trial, report metrics with
``config_utils.report(loss=...)`` or the Lightning :class:`ReportCallback` (added to every
Lightning ``Trainer`` of a sweep trial automatically). This package imports nothing heavy:
Optuna, Ray, matplotlib and Lightning load only in the code that uses them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .report import ReportError, read_metrics, report
from .spec import Spec, SpecError, load_spec

_LAZY = {
    "run": (".runner", "run"),
    "Options": (".runner", "Options"),
    "SweepResult": (".runner", "SweepResult"),
    "SweepInterrupted": (".runner", "SweepInterrupted"),
    "check_spec": (".check", "check_spec"),
    "make_plan": (".plan", "make_plan"),
    "ReportCallback": (".lightning", "ReportCallback"),
}

__all__ = [
    "Options",
    "ReportCallback",
    "ReportError",
    "Spec",
    "SpecError",
    "SweepInterrupted",
    "SweepResult",
    "check_spec",
    "load_spec",
    "make_plan",
    "read_metrics",
    "report",
    "run",
]


def __getattr__(name: str) -> Any:
    try:
        module, attr = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'config_utils.sweep' has no attribute {name!r}") from None
    value = getattr(importlib.import_module(module, __name__), attr)
    globals()[name] = value
    return value


if TYPE_CHECKING:
    from .check import check_spec
    from .lightning import ReportCallback
    from .plan import make_plan
    from .runner import Options, SweepInterrupted, SweepResult, run
