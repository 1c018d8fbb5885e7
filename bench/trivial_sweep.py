"""The trivial sweep that the sweep benchmarks time: ``bench_sweep.py`` runs it locally,
``bench_slurm.py`` as SLURM jobs, each against a bare loop of the same trials (the floor).

What they share: the trial program and its grid spec, the check that every floor trial
reported, ``flow_sweep`` on a fresh or a finished directory (the finished one measures the
fixed cost alone), the hidden options by which a bench runs those contenders as whole
processes of itself, and the per-trial figures the verdicts compare.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

from common import Result

TRIVIAL = '''"""A trivial trial: config_utils.cli, one computation, config_utils.report."""
from dataclasses import dataclass

import config_utils


@dataclass
class Config:
    x: int = 0
    y: float = 0.5


cfg = config_utils.cli(Config, config_file=None)
config_utils.report(metric=(cfg.x - CENTRE) ** 2 * cfg.y)
'''


def write_trivial(work: Path, trials: int, centre: int) -> Path:
    """``trivial.py`` (best at ``x = centre``) and its grid spec over ``x`` in ``0..trials-1``."""
    (work / "trivial.py").write_text(TRIVIAL.replace("CENTRE", str(centre)))
    spec = work / "trivial.yaml"
    values = ", ".join(str(i) for i in range(trials))
    spec.write_text(f"program: trivial.py\nmethod: grid\nmetric: {{name: metric, goal: minimize}}\n"
                    f"parameters:\n  x: {{values: [{values}]}}\n  y: {{value: 0.5}}\n")
    return spec


def check_floor(runs: Path, trials: int) -> None:
    """Exit when a floor trial left no metrics in its run directory ``runs/NNNN``."""
    bad = [i for i in range(trials) if not (runs / f"{i:04d}" / "metrics.jsonl").is_file()]
    if bad:
        sys.exit(f"floor: {len(bad)} trials reported nothing")


def flow_sweep(spec: Path, done: Path | None, options: list[str]) -> None:
    """One sweep in a fresh directory beside ``spec``, or (``done``) the same command on a
    finished sweep; ``options`` are flow_sweep's (engine, parallelism)."""
    from config_utils.sweep.cli import main

    target = done or Path(tempfile.mkdtemp(prefix="sweep-", dir=spec.parent))
    if done is None:
        os.rmdir(target)  # flow_sweep makes it
    code = main([str(spec), *options, "--sweep-dir", str(target)])
    if code != 0:
        sys.exit(f"flow_sweep exited {code}")


def add_options(ap: argparse.ArgumentParser) -> None:
    """``--json``, and the hidden options by which a bench runs a contender as a process of itself."""
    ap.add_argument("--json", type=Path, default=None, help="also write the results as JSON")
    ap.add_argument("--_floor", type=Path, default=None, help=argparse.SUPPRESS)
    ap.add_argument("--_sweep", type=Path, default=None, help=argparse.SUPPRESS)
    ap.add_argument("--_done", type=Path, default=None, help=argparse.SUPPRESS)


def per_trial(base: Result, sweep: Result, dry: Result, trials: int) -> dict[str, float]:
    """Seconds per trial of the floor and of flow_sweep (its fixed cost, ``dry``, taken off),
    the fixed cost and their ratio; empty when a contender failed."""
    if not (base.ok and sweep.ok and dry.ok):
        return {}
    per_floor = base.median / trials
    per_sweep = (sweep.median - dry.median) / trials
    return {"floor_per_trial_s": per_floor, "sweep_per_trial_s": per_sweep, "sweep_fixed_s": dry.median,
            "ratio": per_sweep / per_floor}


def write_results(path: Path | None, results: dict[str, Result], summary: dict[str, float]) -> None:
    """The ``--json`` file: every contender's times and the summary (nothing without ``--json``)."""
    if path:
        path.write_text(json.dumps({"results": {k: v.times for k, v in results.items()}, **summary}, indent=2))
