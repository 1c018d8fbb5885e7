"""The marks a sweep test's trial leaves in a shared log, written and read in one place.

A trial program (``sweep_program.py``, ``sweep_once_program.py``) appends ``start N PID``
when it starts and ``end N`` when it has reported, N being its trial number; a test reads the
log back with :func:`marks` to count how often each trial ran to its end (exactly once, after
a kill and a resume) and which processes ran it. Standard library only: every trial imports
this module, and a trial's start-up time is part of what the sweep tests wait for.
"""

from __future__ import annotations

import os
from pathlib import Path


def trial_number() -> str:
    """This trial's number, from ``FLOWS_SWEEP_TRIAL`` (``SWEEP:N``); ``-`` outside a sweep."""
    return os.environ.get("FLOWS_SWEEP_TRIAL", "-").rpartition(":")[2]


def mark_start(log: str) -> None:
    """Append ``start N PID`` to ``log`` (nothing when ``log`` is empty)."""
    if log:
        with open(log, "a") as fh:
            fh.write(f"start {trial_number()} {os.getpid()}\n")


def mark_end(log: str) -> None:
    """Append ``end N`` to ``log`` (nothing when ``log`` is empty)."""
    if log:
        with open(log, "a") as fh:
            fh.write(f"end {trial_number()}\n")


def marks(log: Path) -> tuple[dict[str, list[int]], dict[str, int]]:
    """``start N PID`` / ``end N`` lines the trials wrote: pids per trial, ends per trial."""
    starts: dict[str, list[int]] = {}
    ends: dict[str, int] = {}
    if log.exists():
        for ln in log.read_text().splitlines():
            parts = ln.split()
            if parts[0] == "start":
                starts.setdefault(parts[1], []).append(int(parts[2]))
            elif parts[0] == "end":
                ends[parts[1]] = ends.get(parts[1], 0) + 1
    return starts, ends
