"""``flow_sweep SPEC``: run a W&B-format sweep spec over a ``config_utils.cli`` program.

The command line is built the way ``flow_init`` and ``flow_create`` build theirs (an options
dataclass with documented fields, read by ``tyro.cli``), so the three console scripts share
one look: tyro's help and tyro's refusals for what tyro parses. The numbers are read as text
and go through the one knob parser afterwards, so a bad number is one line
``flow_sweep: error: --OPTION: ...`` like every other mistake this command names itself.

Exit status: 0 when the sweep ran its plan and at least one trial completed, 1 when every
trial failed, 2 for a bad spec or option (before any trial starts), 130 when interrupted.
"""

import signal
import sys
from dataclasses import dataclass, field
from typing import Any

from ..errors import ConfigError
from .slurm_control import slurm_options

PROG = "flow_sweep"


def _args_type() -> type:
    """The command line as a dataclass; built on demand because it needs tyro's annotations."""
    from pathlib import Path
    from typing import Annotated, Literal

    import tyro

    def arg(metavar: str | None = None, hint: str | None = None) -> Any:
        return tyro.conf.arg(metavar=metavar, help_behavior_hint=hint)

    ship = tyro.conf.create_mutex_group(required=False, title="ship the program (--engine ray)")

    @dataclass
    class RayArgs:
        """With --engine ray: trials are Ray tasks on a cluster."""

        ray_address: Annotated[str | None, arg("ADDRESS", "(default: start Ray here)")] = None
        """An existing Ray cluster."""
        ship_program: Annotated[bool, ship, arg(hint="(default: with --ray-address)")] = False
        """Send the program's directory to the Ray nodes."""
        no_ship_program: Annotated[bool, ship, arg(hint="(default: without --ray-address)")] = False
        """The Ray nodes see the program's directory at the same path."""

    @dataclass
    class SlurmArgs:
        """With --engine slurm (docs/slurm.md): trials are SLURM jobs that outlive this command."""

        detach: bool = False
        """Submit the trials, record their job ids in the sweep directory and exit; the same command later re-attaches (records what ended, submits the rest)."""
        slurm_partition: Annotated[str | None, arg("NAME", "(default: the cluster's default)")] = None
        """The partition."""
        slurm_time: Annotated[str | None, arg("TIME", "(default: from --timeout, else the partition's)")] = None
        """Each job's time limit (SLURM format: MINUTES, H:M:S, D-H:M:S)."""
        slurm_mem: Annotated[str | None, arg("SIZE", "(default: the partition's)")] = None
        """Memory per trial (SLURM format: 4G, 500M)."""
        slurm_option: Annotated[tyro.conf.UseAppendAction[list[str]], arg("KEY=VALUE", "(repeatable)")] = field(
            default_factory=list
        )
        """Any other #SBATCH option, e.g. qos=high or constraint=a100."""

    @dataclass
    class SweepArgs:
        """Run a sweep given in W&B's sweep-config format (YAML or JSON).

        The spec is read as W&B writes it: command macros, early_terminate hyperband, run_cap
        or --count. Over a program built on config_utils.cli, keys are dotted config paths, with
        KEY._type picking a union variant, and the spec is checked against the program's config
        before any trial starts; a plain W&B script runs unchecked, its metric read from wandb.log.
        Running the same command again resumes an interrupted sweep. Exit status: 0 when a
        trial completed, 1 when every trial failed, 2 for a bad spec or option, 130 when
        interrupted.
        """

        spec: Annotated[tyro.conf.Positional[str], arg("SPEC")]
        """The sweep spec (.yaml, .yml or .json)."""
        engine: Literal["local", "ray", "slurm"] = "local"
        """local: subprocesses here; ray: Ray tasks on a cluster; slurm: SLURM jobs through submitit (docs/slurm.md)."""
        sweep_dir: Annotated[Path | None, arg("DIR", "(default: sweeps/<spec name>)")] = None
        """Where state, trials and results go."""
        storage: Annotated[str | None, arg("URL", "(default: SQLite in the sweep directory)")] = None
        """An Optuna storage URL for the sweep's state."""
        parallel: Annotated[str | None, arg("N", "(default: what the CPUs/GPUs per trial allow)")] = None
        """Trials at a time."""
        cpus_per_trial: Annotated[str, arg("N")] = "1"
        """CPUs each trial needs."""
        gpus_per_trial: Annotated[str | None, arg("N", "(default: 1 when the machine has GPUs, else 0)")] = None
        """GPUs each trial needs."""
        timeout: Annotated[str | None, arg("SECONDS", "(default: none)")] = None
        """Seconds before a trial is killed and failed."""
        count: Annotated[str | None, arg("N", "(default: none)")] = None
        """Run at most N trials in all, as `wandb agent --count N` (with run_cap: the smaller wins; a resume continues toward the same total). Without run_cap or --count, random and bayes sweeps run until Ctrl-C."""
        seed: Annotated[str | None, arg("N", "(default: a fresh one, stored)")] = None
        """Seed of random and bayes search."""
        retries: Annotated[str, arg("N")] = "0"
        """Run a trial whose process fails (non-zero exit, killed, timed out) again, up to N more times; every attempt is recorded."""
        dry_run: bool = False
        """Check the spec, print the planned trials, run nothing."""
        ray: Annotated[RayArgs, tyro.conf.OmitArgPrefixes] = field(default_factory=RayArgs)
        slurm: Annotated[SlurmArgs, tyro.conf.OmitArgPrefixes] = field(default_factory=SlurmArgs)

    return SweepArgs


def parse(argv: list[str] | None = None) -> Any:
    """The parsed command line. tyro refuses what it parses (unknown option, bad choice, missing
    SPEC) in its own form and exits 2, as ``flow_init`` does."""
    import tyro

    return tyro.cli(_args_type(), args=argv, prog=PROG, config=(tyro.conf.FlagCreatePairsOff,))


def _numbers(args: Any) -> None:
    """Every number option through the one knob parser (finite, in range, one line naming the
    option)."""
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
    knob("--retries", integer=True, minimum=0, maximum=100)


def main(argv: list[str] | None = None) -> int:
    """Console entry point ``flow_sweep`` (exit statuses in the module docstring)."""
    args = parse(argv)

    def _term(_signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt

    from .runner import Options, SweepInterrupted, run

    try:
        _numbers(args)
        ray = args.ray
        ship_program = True if ray.ship_program else False if ray.no_ship_program else None
        if args.engine != "ray" and (ray.ray_address or ship_program is not None):
            raise ConfigError("--ray-address and --ship-program need --engine ray")
        slurm = slurm_options(args.engine, args.retries, args.slurm)
        signal.signal(signal.SIGTERM, _term)
        result = run(args.spec, Options(
            engine=args.engine, sweep_dir=args.sweep_dir, storage=args.storage, parallel=args.parallel,
            cpus_per_trial=args.cpus_per_trial, gpus_per_trial=args.gpus_per_trial, timeout=args.timeout,
            count=args.count,
            seed=args.seed, dry_run=args.dry_run, ray_address=ray.ray_address,
            ship_program=ship_program, **slurm))
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
    return 0 if result.completed else 1


if __name__ == "__main__":
    sys.exit(main())
