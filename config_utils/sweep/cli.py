"""``flow_sweep SPEC``: run a W&B-format sweep spec over a ``config_utils.cli`` program.

Exit status: 0 when the sweep ran its plan and at least one trial completed, 1 when every
trial failed, 2 for a bad spec or option (before any trial starts), 130 when interrupted.
"""

from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from .slurm_control import add_slurm_arguments, slurm_options

PROG = "flow_sweep"


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog=PROG,
        description="Run a sweep (W&B sweep-config format, YAML or JSON, as written: command "
        "macros, early_terminate hyperband, no run_cap with --count). Over a program built on "
        "config_utils.cli, keys are dotted config paths (KEY._type picks a union variant) and the "
        "spec is checked against the program's config before any trial starts; a plain W&B script "
        "runs unchecked, its metric read from wandb.log. Running the same command again resumes an "
        "interrupted sweep.",
    )
    p.add_argument("spec", help="the sweep spec (.yaml, .yml or .json)")
    p.add_argument("--engine", choices=("local", "ray", "slurm"), default="local",
                   help="local: subprocesses here (default); ray: Ray tasks on a cluster; "
                   "slurm: SLURM jobs through submitit (docs/slurm.md)")
    p.add_argument("--sweep-dir", type=Path, default=None,
                   help="where state, trials and results go (default: sweeps/<spec name>)")
    p.add_argument("--storage", default=None,
                   help="an Optuna storage URL for the sweep's state (default: SQLite in the sweep directory)")
    p.add_argument("--parallel", metavar="N", default=None,
                   help="trials at a time (default: what the CPUs/GPUs per trial allow)")
    p.add_argument("--cpus-per-trial", metavar="N", default="1", help="CPUs each trial needs (default 1)")
    p.add_argument("--gpus-per-trial", metavar="N", default=None,
                   help="GPUs each trial needs (local default: 1 when the machine has GPUs, else 0)")
    p.add_argument("--timeout", metavar="SECONDS", default=None, help="seconds before a trial is killed and failed")
    p.add_argument("--count", metavar="N", default=None,
                   help="run at most N trials in all, as `wandb agent --count N` (with run_cap: the "
                   "smaller wins; a resume continues toward the same total). Without run_cap or "
                   "--count, random and bayes sweeps run until Ctrl-C")
    p.add_argument("--seed", metavar="N", default=None, help="seed of random and bayes search (default: a fresh one, stored)")
    p.add_argument("--dry-run", action="store_true", help="check the spec, print the planned trials, run nothing")
    p.add_argument("--ray-address", default=None, help="an existing Ray cluster (default: start Ray here)")
    ship = p.add_mutually_exclusive_group()
    ship.add_argument("--ship-program", dest="ship_program", action="store_true", default=None,
                      help="send the program's directory to the Ray nodes (default with --ray-address)")
    ship.add_argument("--no-ship-program", dest="ship_program", action="store_false",
                      help="the Ray nodes see the program's directory at the same path")
    add_slurm_arguments(p)
    return p


def _numbers(args: argparse.Namespace) -> None:
    """Every number option through the one knob parser (finite, in range, one line naming the
    option), after argparse so that the message is one line, not usage plus a line."""
    from ..knobs import parse_number
    from .plan import PLAN_LIMIT
    from .state import SEED_MAX

    def knob(name: str, **limits: Any) -> None:
        attr = name.lstrip("-").replace("-", "_")
        text = getattr(args, attr)
        if text is not None:
            setattr(args, attr, parse_number(text, knob=name, **limits))

    knob("--parallel", integer=True, minimum=1, maximum=10_000)
    knob("--cpus-per-trial", minimum=0, maximum=10_000)
    knob("--gpus-per-trial", minimum=0, maximum=10_000)
    knob("--timeout", minimum=0, above=True, maximum=10**9, unit="seconds")
    knob("--count", integer=True, minimum=1, maximum=PLAN_LIMIT)
    knob("--seed", integer=True, minimum=0, maximum=SEED_MAX)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)

    def _term(_signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt

    from .runner import Options, SweepInterrupted, run

    try:
        _numbers(args)
        if args.engine != "ray" and (args.ray_address or args.ship_program is not None):
            raise ConfigError("--ray-address and --ship-program need --engine ray")
        slurm = slurm_options(args)
        signal.signal(signal.SIGTERM, _term)
        result = run(args.spec, Options(
            engine=args.engine, sweep_dir=args.sweep_dir, storage=args.storage, parallel=args.parallel,
            cpus_per_trial=args.cpus_per_trial, gpus_per_trial=args.gpus_per_trial, timeout=args.timeout,
            count=args.count,
            seed=args.seed, dry_run=args.dry_run, ray_address=args.ray_address,
            ship_program=args.ship_program, **slurm))
    except SweepInterrupted:
        return 130
    except KeyboardInterrupt:  # during the checks: nothing started yet
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    except ConfigError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    if result.dry_run or result.detached:
        return 0
    return 0 if result.best is not None else 1


if __name__ == "__main__":
    sys.exit(main())
