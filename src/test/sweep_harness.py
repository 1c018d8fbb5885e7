"""What the flow_sweep tests share to drive a sweep and read what it left.

``flow_sweep`` runs in this process (:func:`sweep_main`, its exit status and output) or as a
real subprocess (:data:`FLOW_SWEEP`, for a test that kills or interrupts the controller);
:func:`read_csv` reads its ``results.csv``; :func:`wait_for` and :func:`alive` follow the
trial processes a killed controller leaves. The trials' own marks are in ``trial_marks.py``.
"""

from __future__ import annotations

import csv
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from config_utils.sweep import cli as sweep_cli

HERE = Path(__file__).resolve().parent
SWEEP_PROGRAM = HERE / "sweep_program.py"  # a union-typed config and a loss: the checks, the methods
ONCE_PROGRAM = HERE / "sweep_once_program.py"  # gated and hostile trials: exactly-once and attacks
FLOW_SWEEP = [sys.executable, "-m", "config_utils.sweep.cli"]


def write_spec(tmp_path: Path, body: str, name: str = "s.yaml", program: Path = SWEEP_PROGRAM) -> Path:
    """A spec file ``name`` in ``tmp_path``: ``program: PROGRAM`` then ``body``."""
    path = tmp_path / name
    path.write_text(f"program: {program}\n" + body)
    return path


def sweep_main(argv: Sequence[object], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """``flow_sweep ARGV`` in this process: exit status, stdout, stderr."""
    code = sweep_cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def wait_for(pred: Callable[[], object], timeout: float = 90.0, what: str = "") -> None:
    """Poll ``pred`` until it is true; fail the test after ``timeout`` seconds, saying ``what``
    it waited for."""
    deadline = time.monotonic() + timeout
    while not pred():
        assert time.monotonic() < deadline, f"timed out waiting for {what or 'a condition'}"
        time.sleep(0.02)


def alive(pid: int) -> bool:
    """Whether process ``pid`` still runs (a zombie does not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().split()[2] == "Z")
