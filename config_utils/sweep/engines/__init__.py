"""Engines run trials: ``local`` (subprocesses here) and ``ray`` (Ray tasks on a cluster).

An engine starts a :class:`TrialJob` when it has a free slot and reports an :class:`Outcome`
when the trial's process ends (or is killed at its timeout). The controller
(:mod:`config_utils.sweep.runner`) owns everything else: what to run, the Optuna state,
progress and results, so engines stay small and interchangeable.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from ...readers import open_regular

OUTPUT_FILE = "output.log"
TAIL_LINES = 20
KILL_GRACE = 3.0


@dataclass
class TrialJob:
    """One trial to run: ``command`` in ``cwd`` with ``env`` added, output into ``run_dir``."""

    number: int
    command: list[str]
    env: dict[str, str]
    cwd: Path
    run_dir: Path
    timeout: float | None = None


@dataclass
class Outcome:
    """How a trial's process ended."""

    number: int
    exit_code: int | None  # None: killed by us (timeout) or lost
    seconds: float
    tail: list[str] = field(default_factory=list)
    timed_out: bool = False
    stopped: bool = False  # ended by stop_trial (early termination), not by itself
    node: str = ""
    error: str | None = None  # the engine could not run it (not the program's failure)
    files: dict[str, str] = field(default_factory=dict)  # run-dir files sent back by a remote node


class Engine(Protocol):
    name: str

    def free_slots(self) -> int: ...

    def start(self, job: TrialJob) -> dict[str, Any]: ...

    def poll(self, timeout: float) -> list[Outcome]: ...

    def running(self) -> list[int]: ...

    # engines that can stop one trial (early termination) also have
    # ``stop_trial(number: int, grace: float) -> None``: SIGTERM now, SIGKILL after ``grace`` s

    def stop(self) -> None: ...

    def close(self) -> None: ...


def hostname() -> str:
    return socket.gethostname()


def tail(path: Path, lines: int = TAIL_LINES, max_bytes: int = 64 * 1024) -> list[str]:
    """The last ``lines`` lines of a (possibly large) output file."""
    try:
        with open_regular(path) as fh:  # a FIFO or /dev/zero: OSError
            fh.seek(0, os.SEEK_END)
            size = fh.tell()
            fh.seek(max(0, size - max_bytes))
            data = fh.read()
    except OSError:
        return []
    text = data.decode("utf-8", errors="replace")
    return list(deque((ln.rstrip("\r") for ln in text.splitlines()), maxlen=lines))


def kill_group(pgid: int, grace: float = KILL_GRACE) -> None:
    """SIGTERM the process group, then SIGKILL what is left after ``grace`` seconds."""
    try:
        os.killpg(pgid, signal.SIGTERM)
    except ProcessLookupError:
        return
    except PermissionError:
        return
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        if not group_alive(pgid):
            return
        time.sleep(0.05)
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # zombies of our own children still count as "in the group": reap what we can
    try:
        while True:
            pid, _ = os.waitpid(-pgid, os.WNOHANG)
            if pid == 0:
                break
    except ChildProcessError:
        pass
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def trial_env_of(pid: int) -> str | None:
    """``FLOWS_SWEEP_TRIAL`` of a live process (Linux ``/proc``; None elsewhere)."""
    try:
        raw = Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:
        return None
    for item in raw.split(b"\0"):
        if item.startswith(b"FLOWS_SWEEP_TRIAL="):
            return item.split(b"=", 1)[1].decode(errors="replace")
    return None


def visible_gpus() -> list[str]:
    """GPU ids this machine offers: ``CUDA_VISIBLE_DEVICES`` when set, else ``nvidia-smi -L``."""
    env = os.environ.get("CUDA_VISIBLE_DEVICES")
    if env is not None:
        return [x.strip() for x in env.split(",") if x.strip() and x.strip() != "-1"]
    try:
        proc = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return []
    if proc.returncode != 0:
        return []
    return [str(i) for i, ln in enumerate(ln for ln in proc.stdout.splitlines() if ln.startswith("GPU "))]
