"""The sweep controller: check the spec, plan, run trials on an engine, keep the state, report.

One process, one loop: fill the engine's free slots (trials to re-run first, then new ones
from the plan), wait a moment for trials to end, record each ending in the Optuna study,
print a progress line. Ctrl-C (or SIGTERM) stops the running trials and leaves them RUNNING
in the study marked ``interrupted``; running the same command again re-runs exactly those and
continues the plan.
"""

from __future__ import annotations

import math
import os
import secrets
import sys
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from ..errors import ConfigError
from .check import Checked, check_spec
from .engines import KILL_GRACE, OUTPUT_FILE, Outcome, TrialJob, visible_gpus
from .hyperband import Brackets
from .plan import PREVIEW_LIMIT, Plan, make_plan, vet_spec
from .results import RESULTS_CSV, Row, plots, rows, table, write_csv
from .retries import process_failure, retry
from .spec import Param, Spec, load_spec
from .state import Started, SweepState, disk_problem, read_sweep_file, resolve_seed
from .wandb_metrics import TrialMetrics

POLL = 0.25
STOPPING = "stopping"  # user attribute: hyperband's decision to stop the trial (reason, attempt)
WANDB_FLUSH = "WANDB_X_TRANSACTION_LOG_FLUSH_INTERVAL"  # seconds between W&B's run-log writes
FOLLOW_POLL = 0.1  # with early termination: how often running trials' metrics are read


class SweepInterrupted(ConfigError):
    """The sweep was stopped (Ctrl-C / SIGTERM); its state is saved for a resume."""


@dataclass
class Options:
    """How to run a sweep (everything the spec does not say: resources, engine, place)."""

    engine: str = "local"
    sweep_dir: Path | None = None
    storage: str | None = None
    parallel: int | None = None
    cpus_per_trial: float = 1.0
    gpus_per_trial: float | None = None
    timeout: float | None = None
    count: int | None = None  # at most this many trials in all (``wandb agent --count``)
    stop_grace: float = KILL_GRACE  # early termination: SIGTERM, then SIGKILL after this
    seed: int | None = None
    dry_run: bool = False
    ray_address: str | None = None
    ship_program: bool | None = None
    cwd: Path | None = None
    python: str = sys.executable
    retries: int = 0  # a trial whose process fails runs again up to this many times
    detach: bool = False  # slurm: submit, record the job ids, exit (run again to re-attach)
    slurm_partition: str | None = None
    slurm_time: str | None = None
    slurm_mem: str | None = None
    slurm_options: list[str] = field(default_factory=list)  # any other #SBATCH option, KEY=VALUE


@dataclass
class SweepResult:
    """What a sweep produced (``rows`` best first; in trial order when the spec has no metric)."""

    sweep_dir: Path
    sweep_id: str
    planned: int | None
    rows: list[Row] = field(default_factory=list)
    csv: Path | None = None
    plots: list[Path] = field(default_factory=list)
    dry_run: bool = False
    detached: bool = False  # slurm --detach: submitted, still running in SLURM

    @property
    def best(self) -> Row | None:
        """The best complete trial; None when none completed or the spec has no metric."""
        first = self.rows[0] if self.rows else None
        return first if first is not None and first.status == "complete" and first.value is not None else None

    @property
    def completed(self) -> int:
        """How many trials completed."""
        return sum(r.status == "complete" for r in self.rows)


def describe(p: Param) -> str:
    d = p.distribution
    if d == "constant":
        return f"{p.value!r}"
    if d == "categorical":
        return "one of " + ", ".join(repr(v) for v in p.values)
    if d == "categorical_w_probabilities":
        return "one of " + ", ".join(f"{v!r} (p={q:g})" for v, q in zip(p.values, p.probabilities, strict=True))
    if p.space == "unit":
        q = f", q={p.q:g}" if p.q is not None else ""
        return f"{d}(mu={p.mu:g}, sigma={p.sigma:g}{q})"
    q = f", q={p.q:g}" if p.q is not None else ""
    return f"{d}({p.min:g} .. {p.max:g}{q})"


def metric_phrase(spec: Spec) -> str:
    """The sweep's metric as its first lines name it."""
    if spec.metric is None:
        return "no metric (a trial completes when its process exits 0)"
    return f"metric {spec.metric} ({spec.goal})"


def completed(spec: Spec, seconds: float, value: float | None) -> str:
    """How a complete trial's progress line says so: its time, and its metric when there is one."""
    return f"complete in {seconds:.1f}s" + (f": {spec.metric}={value:.6g}" if spec.metric is not None else "")


class _Printer:
    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.t0 = time.monotonic()

    def __call__(self, msg: str, stamp: bool = True) -> None:
        prefix = f"[{time.monotonic() - self.t0:6.1f}s] " if stamp else ""
        print(prefix + msg, file=self.out, flush=True)


def run(spec_path: str | Path, options: Options | None = None, *, out: TextIO | None = None,
        **kwargs: Any) -> SweepResult:
    """Run (or resume, or with ``dry_run`` only plan) the sweep of ``spec_path``.

    ``kwargs`` set fields of :class:`Options`. Raises :class:`SpecError` (a bad spec: before
    any trial starts), :class:`SweepInterrupted`, or another ``ConfigError``.
    """
    opts = options or Options()
    for k, v in kwargs.items():
        if not hasattr(opts, k):
            raise TypeError(f"unknown sweep option {k!r}")
        setattr(opts, k, v)
    say = _Printer(out or sys.stdout)
    cwd = Path(opts.cwd or os.getcwd()).resolve()
    spec = load_spec(spec_path, cwd=cwd)
    vet_spec(spec, opts.count)  # the plan's size is counted before anything is built
    if spec.early_terminate is not None and opts.engine == "ray":  # before anything starts
        raise ConfigError(f"{spec.where('early_terminate')}: early_terminate: the ray engine cannot stop "
                          "one trial; use --engine local")
    sweep_dir = Path(opts.sweep_dir) if opts.sweep_dir else cwd / "sweeps" / spec.path.stem
    if not sweep_dir.is_absolute():
        sweep_dir = cwd / sweep_dir
    target = spec.program_path.name if spec.program_path else " ".join(spec.command or [])
    say(f"checking {spec.path} against {target} ...")
    checked = check_spec(spec, cwd=cwd, parallel=opts.parallel, python=opts.python)
    if not checked.typed:
        say(f"note: no typed checks: {checked.unchecked_reason}; values are passed as W&B passes them")
    plan = make_plan(checked, resolve_seed(sweep_dir, opts.seed), _count(sweep_dir, opts.count))
    if opts.dry_run:
        _print_plan(plan, say)
        return SweepResult(sweep_dir, "", plan.planned, dry_run=True)
    if opts.engine == "slurm":  # its own controller: jobs outlive it, it re-attaches
        from .slurm_control import run_slurm

        return run_slurm(plan, sweep_dir, opts, say)
    state = SweepState.open(sweep_dir, plan, opts.storage)
    try:
        engine = _make_engine(opts, plan, state, say)
        if spec.early_terminate is not None and not hasattr(engine, "stop_trial"):
            engine.close()
            raise ConfigError(f"{spec.where('early_terminate')}: early_terminate: the {opts.engine} "
                              "engine cannot stop one trial; use --engine local")
        engine = state.adopting(engine, opts.timeout)  # + trials a killed controller left running
    except BaseException:
        state.close()
        raise
    try:
        _loop(state, engine, checked, opts, say)
    except KeyboardInterrupt:
        running = engine.running()
        say(f"interrupted: stopping {len(running)} running trial(s) ...")
        engine.stop()
        state.interrupted(running)
        result = _finish(state, plan, say, plots_too=False)
        done = sum(r.status in ("complete", "failed", "stopped") for r in result.rows)
        togo = f"{result.planned - done} trials to go" if result.planned is not None else f"{done} ended"
        say(f"state saved in {sweep_dir}; run the same command again to resume ({togo})")
        state.close()
        raise SweepInterrupted(f"sweep {state.id} interrupted; resume with the same command") from None
    finally:
        engine.close()
    try:
        return _finish(state, plan, say)
    finally:
        state.close()


def _count(sweep_dir: Path, count: int | None) -> int | None:
    """``--count``; on a resume without it, the total the sweep was started with."""
    if count is not None:
        return count
    meta = read_sweep_file(sweep_dir) if sweep_dir.is_dir() else None
    planned = meta.get("planned") if meta else None
    return planned if isinstance(planned, int) and not isinstance(planned, bool) else None


def _trials(plan: Plan) -> str:
    return f"{plan.planned} trials" if plan.planned is not None else "trials until --count or Ctrl-C"


def _print_plan(plan: Plan, say: _Printer) -> None:
    spec = plan.checked.spec
    what = spec.program_path or " ".join(spec.command or [])
    say(f"sweep of {what} ({spec.method}, {_trials(plan)}; {metric_phrase(spec)}; seed {plan.seed})", stamp=False)
    if spec.command is not None:
        say(f"  command: {' '.join(spec.command)}", stamp=False)
    if spec.early_terminate is not None:
        say(f"  early termination: {spec.early_terminate.describe()}", stamp=False)
    for p in plan.params.values():
        say(f"  {p.key}: {describe(p)}", stamp=False)
    for n, args in plan.preview():
        if args is None:
            last = plan.planned - 1 if plan.planned is not None else "..."
            say(f"  trials 0..{last}: chosen by Optuna's TPE from the results so far", stamp=False)
            break
        say(f"  trial {n}: {' '.join(args) or '(no arguments)'}", stamp=False)
    if plan.planned is not None and plan.planned > PREVIEW_LIMIT and plan.method != "bayes":
        say(f"  ... and {plan.planned - PREVIEW_LIMIT:,} more trials", stamp=False)
    if plan.planned is None:
        say("  ... (no run_cap: more trials until --count N or Ctrl-C)", stamp=False)
    if plan.duplicates:
        say(f"  ({plan.duplicates} grid points left out: identical arguments, because a key applies "
            "only under some union variants)", stamp=False)


def _make_engine(opts: Options, plan: Plan, state: SweepState, say: _Printer) -> Any:
    if opts.engine == "ray":
        from .engines.ray import RayEngine

        ship = opts.ship_program if opts.ship_program is not None else bool(opts.ray_address)
        engine = RayEngine(address=opts.ray_address, cpus_per_trial=opts.cpus_per_trial,
                           gpus_per_trial=opts.gpus_per_trial or 0.0, slots=opts.parallel,
                           ship_dir=(plan.checked.spec.program_path or Path.cwd()).parent if ship else None,
                           sweep_dir=state.dir, sweep_id=state.id)
        where = f"Ray at {opts.ray_address}" if opts.ray_address else "a local Ray"
        say(f"engine: {where}, {engine.slots} trials at a time"
            + (f", program shipped from {engine.ship_dir}" if engine.ship_dir else ""))
        return engine
    if opts.engine != "local":
        raise ConfigError(f"--engine: expected local or ray, got {opts.engine!r}")
    from .engines.local import LocalEngine

    gpus = visible_gpus()
    per = opts.gpus_per_trial
    if per is None:
        per = 1 if gpus else 0
    if per != int(per) or per < 0:
        raise ConfigError(f"--gpus-per-trial: the local engine hands out whole GPUs, got {per:g}")
    if per > 0 and len(gpus) < per:
        raise ConfigError(f"--gpus-per-trial {per:g}: this machine has {len(gpus)} GPUs")
    cpus = os.cpu_count() or 1
    slots = opts.parallel or max(1, int(cpus // max(opts.cpus_per_trial, 1e-9)))
    local = LocalEngine(slots, gpus, int(per))
    gpu_note = f", {int(per)} GPU each ({len(gpus)} here)" if per else ""
    say(f"engine: local, {min(slots, local.free_slots() or slots)} trials at a time{gpu_note}")
    return local


def _trial_env(state: SweepState, st: Started, opts: Options) -> dict[str, str]:
    spec = state.plan.checked.spec
    env = {
        "FLOWS_SWEEP_TRIAL": f"{state.id}/trial:{st.number}",
        "FLOWS_RUN_DIR": str(st.run_dir),
        "WANDB_RUN_GROUP": state.id,  # trials of one sweep are one group in W&B
        "PYTHONUNBUFFERED": "1",
    }
    if spec.project:
        env["WANDB_PROJECT"] = spec.project
    if spec.entity:
        env["WANDB_ENTITY"] = spec.entity
    # the trial's W&B run (if its program makes one) is found by these: a fresh id per start,
    # and the run directory as W&B's directory unless the user chose one
    env["WANDB_RUN_ID"] = f"{state.id[:40]}-{st.number}-{secrets.token_hex(3)}"
    if not os.environ.get("WANDB_DIR"):
        env["WANDB_DIR"] = str(st.run_dir)
    if spec.early_terminate is not None and WANDB_FLUSH not in os.environ:
        # W&B writes its run log every 15 s by default: early termination follows it closer
        env[WANDB_FLUSH] = "1"
    if opts.engine == "local" and not opts.gpus_per_trial and opts.gpus_per_trial is not None:
        env["CUDA_VISIBLE_DEVICES"] = ""  # --gpus-per-trial 0: no trial touches a GPU
    return env


def _argv(spec: Spec, st: Started, opts: Options, env: dict[str, str]) -> list[str]:
    """The trial's command line: ``python PROGRAM --key=value ...``, or the spec's command."""
    if spec.command is None:
        return [opts.python, str(spec.program_path), *st.args]
    from .command import render

    return render(spec.command, python=opts.python, program=spec.program_path, values=st.values,
                  args=st.args, run_dir=st.run_dir, environ={**os.environ, **env})


def _shown_command(argv: list[str], opts: Options) -> str:
    import shlex

    return shlex.join(["python" if a == opts.python else a for a in argv])


def _sweep_params(st: Started) -> Path:
    """The trial's values in W&B's sweep-parameter file format (``{key: {value: v}}``; JSON is
    YAML). ``WANDB_SWEEP_PARAM_PATH`` names it, so ``wandb.init()`` in a plain W&B script puts
    them into ``wandb.config``, as under W&B's agent."""
    import json

    st.run_dir.mkdir(parents=True, exist_ok=True)
    path = st.run_dir / "sweep-config.yaml"
    passed = {a[2:].split("=", 1)[0] for a in st.args}
    path.write_text(json.dumps({k: {"value": v} for k, v in st.values.items() if k in passed}), encoding="utf-8")
    return path


def _brackets(state: SweepState, spec: Spec) -> Brackets | None:
    """Hyperband's brackets, with every band value the sweep's trials reached so far (kept in
    the study as intermediate values), so a resumed sweep continues them."""
    if spec.early_terminate is None:
        return None
    out = Brackets(spec.early_terminate)
    bands = set(spec.early_terminate.bands)
    for t in state.trials():
        if t.state.name == "RUNNING":
            continue  # runs again from its start
        reached = {int(s): float(v) for s, v in t.intermediate_values.items() if int(s) in bands}
        if reached:
            out.reached[t.number] = reached
    return out


@dataclass
class _Watch:
    """What the controller follows of one running trial."""

    st: Started
    metrics: TrialMetrics
    stop: str | None = None  # why it is being stopped early


def _follow(state: SweepState, brackets: Brackets, running: dict[int, _Watch],
            stop_trial: Callable[[int], None], say: _Printer) -> None:
    """Read the running trials' new metric values, keep their band values, and stop the
    laggards (``stop_trial``: the engine's way; every engine that can stop one trial shares
    this step, so the rule and the recorded decision are the same everywhere). As W&B's
    controller does on every heartbeat, every running trial is judged against the current
    thresholds, not only when it reaches a band: a threshold tightens as more trials reach
    the band."""
    histories: dict[int, list[float]] = {}
    for n, w in running.items():
        if w.stop is not None:
            continue
        w.metrics.update()
        histories[n] = [v for _, v in w.metrics.history()]
        new = brackets.update(n, histories[n])
        if new:
            tid = state._trial_id(n)
            for band, value in new.items():
                if math.isfinite(value):
                    state.study._storage.set_trial_intermediate_value(tid, band, value)
    if not histories:
        return
    thresholds = brackets.thresholds()
    metric = state.plan.checked.spec.metric
    for n, values in histories.items():
        verdict = brackets.rule.verdict(values, thresholds)
        if verdict is None:
            continue
        band, value, threshold = verdict
        w = running[n]
        w.stop = (f"stopped early by hyperband at band {band}: {metric}={value:.6g} is worse than "
                  f"the band's threshold {threshold:.6g}")
        # the decision is kept with the trial: a controller that dies before the trial ends
        # leaves it to the next one, which records the trial as stopped, not failed
        state.study._storage.set_trial_user_attr(state._trial_id(n), STOPPING,
                                                 {"reason": w.stop, "attempt": w.metrics.run_id})
        stop_trial(n)
        say(f"trial {n} stopping: {w.stop}")


def _loop(state: SweepState, engine: Any, checked: Checked, opts: Options, say: _Printer) -> None:
    spec = checked.spec
    plan = state.plan
    trials = state.trials()
    ended = {t.number: t.state.name for t in trials if t.state.name in ("COMPLETE", "FAIL", "PRUNED")}
    brackets = _brackets(state, spec)
    total = f"/{plan.planned}" if plan.planned is not None else ""
    best: tuple[float, int] | None = None
    for t in trials:
        if t.state.name == "COMPLETE" and t.value is not None and spec.metric is not None:
            best = _better(best, (t.value, t.number), spec.goal)
    pending = deque(state.recover())
    say(f"sweep {state.id}: {spec.method}, {_trials(plan)}, {metric_phrase(spec)}, "
        f"seed {plan.seed}; directory {state.dir}")
    if brackets is not None:
        say(f"early termination: {brackets.rule.describe()}")
    if len(ended) == plan.planned:
        say(f"all {plan.planned} trials have ended: nothing to run")
    elif ended or pending or state.orphans:
        say(f"resuming: {len(ended)}{total.replace('/', ' of ')} trials already ended; "
            f"{len(pending)} were running and run again"
            + (f"; {len(state.orphans)} adopted (still running, or ended unseen)" if state.orphans else ""))
    running: dict[int, _Watch] = {  # adopted by recover(): waited for, never run twice
        n: _Watch(o.started, TrialMetrics(o.started.run_dir, spec.metric, o.run_id, os.environ.get("WANDB_DIR") or None))
        for n, o in state.orphans.items()}
    while True:
        while engine.free_slots() > 0 and (pending or state.remaining_to_ask() > 0):
            st = pending.popleft() if pending else state.next_trial()
            env = _trial_env(state, st, opts)
            if not checked.typed:
                env["WANDB_SWEEP_PARAM_PATH"] = str(_sweep_params(st))
            job = TrialJob(st.number, _argv(spec, st, opts, env), env, Path(opts.cwd or os.getcwd()),
                           st.run_dir, opts.timeout)
            try:
                info = engine.start(job)
            except OSError as exc:
                disk_problem(exc, st.run_dir)  # a full or read-only disk: stop, never fail the plan
                state.started(st, {"error": "cannot start"})
                state.finish(st.number, {"error": f"cannot start: {exc.strerror or exc}"}, None)
                ended[st.number] = "FAIL"
                say(f"trial {st.number} FAILED: cannot start {opts.python}: {exc.strerror or exc}")
                continue
            info = dict(info, wandb_run_id=env["WANDB_RUN_ID"])
            if spec.command is not None:
                info["command"] = job.command
            if not checked.typed:
                info["unchecked"] = checked.unchecked_reason
            state.started(st, info)
            running[st.number] = _Watch(st, TrialMetrics(st.run_dir, spec.metric, env["WANDB_RUN_ID"],
                                                         os.environ.get("WANDB_DIR") or None))
            again = " (re-run)" if st.rerun else ""
            shown = " ".join(st.args) if spec.command is None else _shown_command(job.command, opts)
            say(f"trial {st.number} started{again}: {shown or '(no arguments)'}")
        if not running:
            break
        for outcome in engine.poll(POLL if brackets is None else FOLLOW_POLL):
            w = running.pop(outcome.number)
            st = w.st
            retried = None if w.stop else retry(state, st, outcome, opts.retries, opts.timeout)
            if retried is not None:
                pending.append(retried)
                say(f"trial {st.number} FAILED after {outcome.seconds:.1f}s, runs again: {retried.rerun}")
                continue
            status, value, note = _record(state, w, outcome, spec.metric, opts.timeout, brackets)
            ended[st.number] = {"complete": "COMPLETE", "stopped": "PRUNED"}.get(status, "FAIL")
            if status == "complete" and value is not None:
                best = _better(best, (value, st.number), spec.goal)
            tally = _tally(ended, total, best, spec, brackets is not None, f"{len(running)} running")
            say(f"trial {st.number} {_ending(spec, status, outcome.seconds, value, note)} | {tally}")
        if brackets is not None and running:
            _follow(state, brackets, running, lambda n: engine.stop_trial(n, opts.stop_grace), say)


def _tally(ended: dict[int, str], total: str, best: tuple[float, int] | None, spec: Spec, stops: bool,
           now: str) -> str:
    """The end of a progress line: trials ended (failed, stopped), ``now`` (what still runs),
    the best so far; the same on every engine."""
    failed = sum(1 for s in ended.values() if s == "FAIL")
    stopped = sum(1 for s in ended.values() if s == "PRUNED")
    return (f"{len(ended)}{total} ended ({failed} failed" + (f", {stopped} stopped" if stops else "")
            + f"), {now}" + (f", best {spec.metric}={best[0]:.6g} (trial {best[1]})" if best else ""))


def _ending(spec: Spec, status: str, seconds: float, value: float | None, note: str) -> str:
    """How a progress line says a trial ended (``status`` from :func:`_record`)."""
    if status == "complete":
        return completed(spec, seconds, value)
    if status == "stopped":
        return f"stopped after {seconds:.1f}s: {note}"
    return f"FAILED after {seconds:.1f}s: {note}"


def _better(best: tuple[float, int] | None, cand: tuple[float, int], goal: str) -> tuple[float, int]:
    if best is None:
        return cand
    if goal == "maximize":
        return cand if cand[0] > best[0] else best
    return cand if cand[0] < best[0] else best


def _record(state: SweepState, w: _Watch, o: Outcome, metric: str | None, timeout: float | None,
            brackets: Brackets | None) -> tuple[str, float | None, str]:
    """Record how the trial of ``w`` ended (``o``): ``(status, its metric, why not complete)``.
    Without a metric, a trial whose process ended well is complete, and every metric it
    reported is kept for the results."""
    st = w.st
    st.run_dir.mkdir(parents=True, exist_ok=True)
    for name, text in o.files.items():  # sent back from a node without the sweep directory
        # created, never followed: a name already there (a file, or a link left by the trial,
        # even a dangling one) is the trial's own and stays as it is
        try:
            fd = os.open(st.run_dir / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
        except OSError:
            continue
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
    w.metrics.update()
    value = w.metrics.final()
    metrics = dict(w.metrics.last_reported) if metric is not None else w.metrics.reported_metrics()
    if value is not None and metric is not None:
        metrics[metric] = value
    history = w.metrics.history()
    if brackets is not None:  # the last values may have come after the last look
        tid = state._trial_id(st.number)
        for band, v in brackets.update(st.number, [v for _, v in history]).items():
            if math.isfinite(v):
                state.study._storage.set_trial_intermediate_value(tid, band, v)
    if w.stop is None and brackets is not None:  # decided by a controller that died since
        w.stop = _decided(state, w)
    if w.stop is not None and not (o.exit_code == 0 and value is not None):
        return _record_stopped(state, w, o, history)
    error = process_failure(o, timeout) or (_metric_problem(w, metric, value) if metric is not None else None)
    result = {"exit": o.exit_code, "seconds": round(o.seconds, 3), "tail": o.tail, "node": o.node,
              "error": error, "metrics": metrics, "metric_source": w.metrics.source,
              "output": str(st.run_dir / OUTPUT_FILE)}
    status = state.finish(st.number, result, None if error else value)
    return status, value, error or ""


def _decided(state: SweepState, w: _Watch) -> str | None:
    """Why hyperband stopped this attempt of ``w``'s trial, when a controller (this one or one
    that died since) decided so (the ``STOPPING`` user attribute); else None."""
    decided = state.study._storage.get_trial(state._trial_id(w.st.number)).user_attrs.get(STOPPING)
    if isinstance(decided, dict) and decided.get("attempt") == w.metrics.run_id:
        return str(decided.get("reason"))
    return None


def _metric_problem(w: _Watch, metric: str, value: float | None) -> str | None:
    """Why a trial whose process ended well still failed: it never reported ``metric``, or
    reported NaN or an infinity; None when ``value`` is a number to rank."""
    if value is None:
        names = w.metrics.seen()
        seen = f" (reported: {', '.join(names)})" if names else (
            " (call config_utils.report(...), log it with self.log in Lightning, or with wandb.log"
            + (": this trial's W&B run has no such value" if w.metrics.has_wandb_log() else
               " in a W&B run that is not disabled") + ")")
        return f"exited 0 but never reported {metric!r}{seen}"
    if not math.isfinite(value):
        return f"{metric} is {value}"
    return None


def _record_stopped(state: SweepState, w: _Watch, o: Outcome, history: list[tuple[int | None, float]]
                    ) -> tuple[str, float | None, str]:
    """A trial stopped early: PRUNED in the study, with the last value it logged (and that
    value's step), so it counts as stopped, neither complete nor failed, and is never re-run."""
    from optuna.trial import TrialState

    from .results import bounded_result

    step, value = history[-1] if history else (None, float("nan"))
    at = f"iteration {len(history)}" + (f" (step {step})" if step is not None else "")
    note = f"{w.stop}; ended at {at} with {state.plan.checked.spec.metric}={value:.6g}"
    result = {"exit": o.exit_code, "seconds": round(o.seconds, 3), "tail": o.tail, "node": o.node,
              "error": note, "stopped": {"iteration": len(history), "step": step, "value": value},
              "metrics": dict(w.metrics.last_reported), "metric_source": w.metrics.source,
              "output": str(w.st.run_dir / OUTPUT_FILE)}
    tid = state._trial_id(w.st.number)
    storage = state.study._storage
    storage.set_trial_user_attr(tid, "result", bounded_result(result, state.plan.checked.spec.metric))
    storage.set_trial_state_values(tid, TrialState.PRUNED, [value] if math.isfinite(value) else None)
    return "stopped", value, note


def _finish(state: SweepState, plan: Plan, say: _Printer, plots_too: bool = True) -> SweepResult:
    result_rows = rows(state)
    csv_path = write_csv(state.dir / RESULTS_CSV, result_rows, plan)
    pngs = plots(state.dir, result_rows, plan) if plots_too else []
    complete = sum(r.status == "complete" for r in result_rows)
    failed = sum(r.status == "failed" for r in result_rows)
    stopped = sum(r.status == "stopped" for r in result_rows)
    of = f" of {plan.planned} planned" if plan.planned is not None else ""
    say(f"sweep {state.id}: {complete} complete, " + (f"{stopped} stopped early, " if stopped else "")
        + f"{failed} failed{of}")
    say(table(result_rows, plan, limit=20), stamp=False)
    if plots_too and plan.checked.spec.metric is None:
        say("no plots: the spec has no metric to plot the trials against", stamp=False)
    say(f"results: {csv_path}" + (f"; plots: {', '.join(p.name for p in pngs)}" if pngs else ""), stamp=False)
    return SweepResult(state.dir, state.id, plan.planned, result_rows, csv_path, pngs)
