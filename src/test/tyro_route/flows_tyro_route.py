"""A pytest plugin that runs tyro's own test suite with ``tyro.cli`` routed through
``config_utils.cli`` (no config file, as a tyro user who switches would call it).

Loaded by ``src/test/test_tyro_suite.py`` in a subprocess pytest (``-p flows_tyro_route``)
inside tyro's unpacked source distribution. Environment:

- ``FLOWS_TYRO_ROUTE=1`` routes the calls; ``0`` leaves tyro bare (the run that finds the tests
  failing for reasons of this environment, such as a missing optional package).
- ``FLOWS_TYRO_ROUTE_REPORT=PATH``: every test id that failed (in any phase) is written there,
  one a line, so the caller compares sets instead of parsing pytest's output.

``config_utils.cli`` calls ``tyro.cli`` itself: a call made while a routed call is running
goes to tyro's own function, so the routing does not recurse.
"""

from __future__ import annotations

import functools
import os
import threading
from typing import Any

import pytest

_inside = threading.local()


def _route() -> None:
    import tyro
    import tyro._cli

    import config_utils

    bare = tyro._cli.cli

    @functools.wraps(bare)
    def routed(*args: Any, **kwargs: Any) -> Any:
        if getattr(_inside, "active", False):
            return bare(*args, **kwargs)
        _inside.active = True
        try:
            return config_utils.cli(*args, **kwargs)
        finally:
            _inside.active = False

    # `tyro.cli(...)`, `from tyro import cli` and `from tyro._cli import cli`, all imported by
    # the test modules after this plugin is loaded
    tyro.cli = routed
    tyro._cli.cli = routed  # type: ignore[assignment]


_failed: list[str] = []


def pytest_configure(config: pytest.Config) -> None:
    if os.environ.get("FLOWS_TYRO_ROUTE", "1") != "0":
        _route()


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.failed and report.nodeid not in _failed:
        _failed.append(report.nodeid)


def pytest_collectreport(report: pytest.CollectReport) -> None:
    if report.failed:
        _failed.append(f"{report.nodeid} (collection)")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    path = os.environ.get("FLOWS_TYRO_ROUTE_REPORT")
    if path:
        with open(path, "w", encoding="utf-8") as fh:
            fh.writelines(f"{nodeid}\n" for nodeid in sorted(_failed))
