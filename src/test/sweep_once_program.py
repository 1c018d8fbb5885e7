"""A tiny program for the exactly-once and hostile-trial sweep tests (config_utils.cli, a metric).

``--log FILE`` appends ``start N PID`` and ``end N`` (N from ``FLOWS_SWEEP_TRIAL``), so a test
counts how often each trial ran to its end. A trial listed in ``--gated`` waits until the
file ``GATE/N`` exists, so a test decides when it ends (no sleeps). ``--hostile`` makes the
trial attack its controller through its own run directory (see ``attack``).
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from trial_marks import mark_end, mark_start, trial_number

import config_utils


@dataclass
class Config:
    x: int = 0
    log: str = ""
    gate: str = ""
    gated: list[int] = field(default_factory=list)
    sleep: float = 0.0
    hostile: str = ""
    """fifo | zero | huge-int | long-line | output-fifo | many-metrics: what the trial does to its run directory"""


def attack(kind: str, run_dir: Path) -> None:
    metrics = run_dir / "metrics.jsonl"
    if kind == "fifo":
        os.mkfifo(metrics)
    elif kind == "zero":
        os.symlink("/dev/zero", metrics)
    elif kind == "huge-int":
        metrics.write_text('{"loss": ' + "9" * 400 + "}\n")
    elif kind == "output-fifo":  # the controller reads the output's tail when the trial ends
        (run_dir / "output.log").unlink()
        os.mkfifo(run_dir / "output.log")
    elif kind == "many-metrics":
        config_utils.report(**{f"m{i}": float(i) for i in range(5000)})  # type: ignore[arg-type]
    elif kind == "long-line":
        sys.stdout.write("x" * (50 * 1024 * 1024))  # a 50 MB last line, then a crash
        sys.stdout.flush()
        sys.exit(1)


def main() -> None:
    cfg = config_utils.cli(Config, config_file=None)
    trial = trial_number()
    mark_start(cfg.log)
    run_dir = Path(os.environ.get("FLOWS_RUN_DIR", "."))
    if cfg.hostile:
        attack(cfg.hostile, run_dir)
    if cfg.gate and trial.isdigit() and int(trial) in cfg.gated:
        gate = Path(cfg.gate) / trial
        deadline = time.monotonic() + 120
        while not gate.exists() and time.monotonic() < deadline:
            time.sleep(0.02)
    time.sleep(cfg.sleep)
    if cfg.hostile not in ("fifo", "zero", "huge-int"):
        config_utils.report(loss=float(cfg.x))
    mark_end(cfg.log)


if __name__ == "__main__":
    main()
