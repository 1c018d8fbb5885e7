"""``flow_sweep --engine slurm``: trials as SLURM jobs that outlive the controller.

The local controller owns its trials' processes; a SLURM controller only submits jobs and
reads their states, so it can go away at any time (``--detach``, Ctrl-C, a lost SSH session)
and a later ``flow_sweep`` on the same sweep directory re-attaches: it reads the jobs' states
from SLURM, records what ended while it was away, and submits what is still to run.

Never twice: before each ``sbatch`` a line naming the trials goes to
``SWEEP_DIR/slurm/jobs.jsonl``, after it a line with the job ids, then the study records
each trial as RUNNING with its job id. A controller killed between ``sbatch`` and the second
line is caught on re-attach: every job carries its submission's token in its SLURM comment
(``squeue``) and in its run directory (``slurm_job.json``), so the jobs are found and adopted,
not submitted again.

Grid and random trials are known in advance: they are submitted together as one job array
(``--array=0-N%P``, P from ``--parallel``). Bayes trials are asked from TPE as slots free up
(``--parallel``, default 4 in SLURM at a time), each its own job.

Hyperband (``early_terminate``): while a controller is attached it reads every running
trial's metrics from its run directory with the local runner's own follow step
(:func:`runner._follow`); a laggard's stop is recorded in the study first (the ``stopping``
user attribute, so a re-attached controller honours a decision made by one that died), then
its job is cancelled (``scancel``: SIGTERM, SIGKILL after SLURM's KillWait), and the trial
is recorded as stopped, never failed, never retried. With ``--detach`` nobody follows: the
trials run to their end until a controller re-attaches.
"""

from __future__ import annotations

import json
import os
import secrets
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import ConfigError
from ..readers import ReadProblem, read_text

if TYPE_CHECKING:
    from .engines import Outcome
    from .engines.slurm import JobState, Partition, SlurmSettings
    from .hyperband import Brackets
    from .plan import Plan
    from .runner import Options, SweepResult, _Printer
    from .state import Started, SweepState

JOURNAL = "jobs.jsonl"
SLURM_DIR = "slurm"
POLL = 1.0
BAYES_PARALLEL = 4
RESULT_GRACE = 30.0  # seconds an ended job's result file may lag behind (shared file systems)
SHOWN = 20  # trials listed one per line at a submission
SQUEUE_PATIENCE = 300.0  # seconds squeue may fail before the controller gives up (jobs go on)


# ---------------------------------------------------------------------------------- options


def slurm_options(engine: str, retries: int, args: Any) -> dict[str, Any]:
    """The ``Options`` fields of ``--retries`` (every engine's), ``--detach`` and the
    ``--slurm-*`` options (flow_sweep's "slurm options" group, ``args``); one line when an
    option needs --engine slurm."""
    if engine != "slurm":
        given = [name for name, value in (("--detach", args.detach), ("--slurm-partition", args.slurm_partition),
                                          ("--slurm-time", args.slurm_time), ("--slurm-mem", args.slurm_mem),
                                          ("--slurm-option", args.slurm_option)) if value]
        if given:
            raise ConfigError(f"{', '.join(given)}: only with --engine slurm")
    return {"retries": retries, "detach": args.detach, "slurm_partition": args.slurm_partition,
            "slurm_time": args.slurm_time, "slurm_mem": args.slurm_mem, "slurm_options": list(args.slurm_option)}


def stop_grace() -> float:
    """Seconds a program gets between SIGTERM and SIGKILL when its job is requeued
    (``FLOWS_SLURM_STOP_GRACE``, default 20)."""
    from ..knobs import env_number
    from .engines.slurm import STOP_GRACE

    return float(env_number("FLOWS_SLURM_STOP_GRACE", STOP_GRACE, minimum=0, maximum=3600, unit="seconds"))


# ---------------------------------------------------------------------------------- the sweep


def run_slurm(plan: Plan, sweep_dir: Path, opts: Options, say: _Printer) -> SweepResult:
    """Check the cluster (before anything is written or submitted), open the sweep, re-attach
    to its jobs, submit, follow them (or with ``detach`` return at once)."""
    from .engines.slurm import SlurmSettings, check_cluster
    from .state import SweepState

    settings = SlurmSettings(opts.slurm_partition, opts.slurm_time, opts.slurm_mem, list(opts.slurm_options),
                             opts.cpus_per_trial, opts.gpus_per_trial, opts.timeout)
    stop_grace()  # a bad FLOWS_SLURM_STOP_GRACE is one line before anything is written
    part = check_cluster(settings)
    state = SweepState.open(sweep_dir, plan, opts.storage)
    try:
        return _Controller(state, plan, settings, part, opts, say).run()
    finally:
        state.close()


@dataclass
class _Job:
    """A trial's current SLURM job, as the controller follows it."""

    job_id: str
    watch: Any  # runner._Watch
    since: float  # wall-clock submission time
    seen: str = ""  # the last state seen
    requeues: int = 0  # requeues announced so far
    gone_since: float | None = None  # when it was first missing, or ended without a result


class _Controller:
    def __init__(self, state: SweepState, plan: Plan, settings: SlurmSettings, part: Partition,
                 opts: Options, say: _Printer) -> None:
        from .engines.slurm import executor

        self.state, self.plan, self.opts, self.say = state, plan, opts, say
        self.spec = plan.checked.spec
        self.folder = state.dir / SLURM_DIR
        self.folder.mkdir(exist_ok=True)
        self.name = state.id
        fixed = plan.method in ("grid", "random") and plan.planned is not None
        self.parallel = opts.parallel or (max(1, plan.planned or 1) if fixed else BAYES_PARALLEL)
        self.part, self.settings = part, settings
        self.ex = executor(self.folder, self.name, settings, part, self.parallel)
        self.stop_grace = stop_grace()
        self.jobs: dict[int, _Job] = {}  # trial number -> its job
        self.again: deque[Started] = deque()  # to submit: retries, trials that never reached SLURM
        self.ended: dict[int, str] = {}
        self.best: tuple[float, int] | None = None
        self.brackets: Brackets | None = None
        self._squeue_failing: float | None = None

    # ------------------------------------------------------------------------------ the loop

    def run(self) -> SweepResult:
        from .engines.slurm import time_limit
        from .runner import (
            SweepInterrupted,
            _better,
            _brackets,
            _finish,
            _follow,
            _trials,
            metric_phrase,
        )

        spec, plan = self.spec, self.plan
        self.brackets = _brackets(self.state, spec)
        for t in self.state.trials():
            if t.state.name in ("COMPLETE", "FAIL", "PRUNED"):
                self.ended[t.number] = t.state.name
            if t.state.name == "COMPLETE" and t.value is not None and spec.metric is not None:
                self.best = _better(self.best, (t.value, t.number), spec.goal)
        self.say(f"sweep {self.state.id}: {spec.method}, {_trials(plan)}, {metric_phrase(spec)}, "
                 f"seed {plan.seed}; directory {self.state.dir}")
        minutes = time_limit(self.settings, self.part)
        at_once = (f"{self.parallel} trial(s) running at a time" if self.opts.parallel or self.plan.method == "bayes"
                   else "as many trials at a time as the cluster has room for")
        self.say(f"engine: SLURM partition {self.part.name}, {at_once}, "
                 f"time limit {f'{minutes} min' if minutes else 'none'}"
                 + (f", {self.opts.retries} retries" if self.opts.retries else ""))
        if self.brackets is not None:
            self.say(f"early termination: {self.brackets.rule.describe()}")
            if self.opts.detach:
                self.say("early termination needs an attached controller; trials run to their end "
                         "while none is attached")
        try:
            self._attach()
            while True:
                self._submit_more()
                if self.opts.detach:
                    break
                if not self.jobs:
                    break
                time.sleep(POLL)
                self._collect_patiently()
                if self.brackets is not None and self.jobs:
                    _follow(self.state, self.brackets, {n: j.watch for n, j in self.jobs.items()},
                            self._stop, self.say)
        except KeyboardInterrupt:
            self.say(f"interrupted: {self._in_slurm()}; run the same command again to re-attach")
            raise SweepInterrupted(f"sweep {self.state.id}: the controller stopped, its SLURM jobs did not; "
                                   "re-attach with the same command") from None
        if self.opts.detach and self.jobs:
            self.say(f"detached: {self._in_slurm()}; the job ids are in {self.folder / JOURNAL}; run the same "
                     "command again to record their results and submit the rest")
            result = _finish(self.state, plan, self.say, plots_too=False)
            result.detached = True
            return result
        return _finish(self.state, plan, self.say)

    def _in_slurm(self) -> str:
        ids = sorted({j.job_id.split("_")[0] for j in self.jobs.values()})
        shown = ", ".join(ids[:8]) + (" ..." if len(ids) > 8 else "")
        return f"{len(self.jobs)} trial(s) in SLURM (job {shown})" if ids else "no trial in SLURM"

    # ------------------------------------------------------------------------------ submitting

    def _planned(self, n: int) -> Started:
        from .state import Started, trial_dir

        fixed = self.plan.fixed_params(n)
        assert fixed is not None
        values = self.plan.values(fixed)
        return Started(n, values, self.plan.arguments(values), trial_dir(self.state.dir, n), params=fixed)

    def _submit_more(self) -> None:
        if self.again:
            batch = list(self.again)
            self.again.clear()
            self._submit(batch)
        state = self.state
        if self.plan.method in ("grid", "random") and not state.waiting:
            room = state.remaining_to_ask() if self.plan.planned is not None else self.parallel - len(self.jobs)
            if room > 0:
                self._submit([self._planned(state.created + i) for i in range(room)])
            return
        while len(self.jobs) < self.parallel and state.remaining_to_ask() > 0:
            self._submit([state.next_trial()])

    def _submit(self, sts: list[Started]) -> None:
        """Submit ``sts`` as job arrays of at most the cluster's array size (one array usually)."""
        size = self.part.max_array
        for i in range(0, len(sts), size):
            self._submit_array(sts[i:i + size])

    def _submit_array(self, sts: list[Started]) -> None:
        from .engines.slurm import submit
        from .runner import _argv, _trial_env

        token = secrets.token_hex(4)
        cwd = str(Path(self.opts.cwd or os.getcwd()).resolve())
        envs = [_trial_env(self.state, st, self.opts) for st in sts]
        payloads = [{"command": _argv(self.spec, st, self.opts, env), "env": env, "cwd": cwd,
                     "run_dir": str(st.run_dir), "timeout": self.opts.timeout, "token": token,
                     "stop_grace": self.stop_grace}
                    for st, env in zip(sts, envs, strict=True)]
        self._journal({"token": token, "trials": [st.number for st in sts], "at": time.time()})
        ids = submit(self.ex, payloads, comment=f"flows:{token}")
        self._journal({"token": token, "jobs": ids})
        for st, env, job_id in zip(sts, envs, ids, strict=True):
            self._started(st, job_id, token, env["WANDB_RUN_ID"])
        first = ids[0].split("_")[0]
        what = f"job array {first} ({len(ids)} tasks, {min(self.parallel, len(ids))} at a time)" if len(ids) > 1 \
            else f"job {first}"
        self.say(f"submitted {len(ids)} trial(s) as SLURM {what}")
        for st, job_id in list(zip(sts, ids, strict=True))[:SHOWN]:
            again = f" ({st.rerun})" if st.rerun else ""
            self.say(f"trial {st.number} submitted as job {job_id}{again}: {' '.join(st.args) or '(no arguments)'}")

    def _started(self, st: Started, job_id: str, token: str, run_id: str) -> None:
        self.state.started(st, {"engine": "slurm", "job_id": job_id, "token": token, "host": "slurm",
                                "wandb_run_id": run_id})
        self._follow(st, job_id, run_id, time.time())

    def _follow(self, st: Started, job_id: str, run_id: str | None, since: float) -> None:
        from .engines.slurm import JOB_FILE, read_json
        from .runner import _Watch
        from .wandb_metrics import TrialMetrics

        metrics = TrialMetrics(st.run_dir, self.spec.metric, run_id, os.environ.get("WANDB_DIR") or None)
        mark = read_json(st.run_dir / JOB_FILE) or {}  # re-attached: requeues before now are old news
        done = int(mark.get("restarts") or 0) if str(mark.get("job_id")) == job_id else 0
        self.jobs[st.number] = _Job(job_id, _Watch(st, metrics), since, requeues=done)

    def _stop(self, n: int) -> None:
        """Hyperband stops trial ``n`` (its decision is already in the study): cancel its job."""
        from .engines.slurm import cancel

        job = self.jobs[n]
        problem = cancel(job.job_id)
        if problem:
            self.say(f"trial {n}: scancel {job.job_id}: {problem}")

    def _journal(self, entry: dict[str, Any]) -> None:
        with open(self.folder / JOURNAL, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(entry) + "\n")
            fh.flush()
            os.fsync(fh.fileno())

    # ------------------------------------------------------------------------------ re-attaching

    def _attach(self) -> None:
        """Follow the jobs a previous controller submitted; adopt a submission it made but did
        not record; queue the trials it asked for but never submitted."""
        from .engines.slurm import JOB_FILE, job_states, read_json
        from .state import Started, trial_dir

        state = self.state
        entries = _read_journal(self.folder / JOURNAL)
        if not entries and state.created == 0:
            return
        live = job_states(self.name)
        by_comment: dict[str, list[str]] = {}
        for js in live.values():
            if js.comment.startswith("flows:"):
                by_comment.setdefault(js.comment[6:], []).append(js.job_id)
        latest: dict[int, tuple[str, str]] = {}  # trial -> (job id, token) of its last submission
        for token, (trials, ids) in entries.items():
            if ids is None:  # killed between sbatch and writing the ids: ask SLURM, then the run dirs
                ids = _by_index(by_comment.get(token, []), len(trials))
                for i, n in enumerate(trials):
                    mark = read_json(trial_dir(state.dir, n) / JOB_FILE) or {}
                    if ids[i] is None and mark.get("token") == token:
                        ids[i] = str(mark.get("job_id"))
            for n, job_id in zip(trials, ids, strict=True):
                if job_id:
                    latest[n] = (job_id, token)
        recorded = {t.number: t for t in state.trials()}
        adopted = 0
        for n in sorted(latest):
            job_id, token = latest[n]
            t = recorded.get(n)
            if t is not None and t.state.name != "RUNNING":
                continue  # ended and recorded
            info = (t.user_attrs.get("trial") or {}) if t is not None else {}
            run = info.get("run") or {}
            if run.get("job_id") == job_id:
                st = Started(n, info["values"], list(info["args"]), trial_dir(state.dir, n))
                self._follow(st, job_id, run.get("wandb_run_id"), float(run.get("started") or time.time()))
                continue
            # submitted, never recorded: record it now (grid/random in plan order; bayes asked)
            if t is None:
                if n != state.created:
                    continue  # cannot be: submissions go in plan order
                st = self._planned(n)
            elif info:
                st = Started(n, info["values"], list(info["args"]), trial_dir(state.dir, n),
                             rerun="adopted after the controller stopped")
            else:
                values = self.plan.values(t.params)
                st = Started(n, values, self.plan.arguments(values), trial_dir(state.dir, n))
            self._started(st, job_id, token, "")
            adopted += 1
        for t in state.trials():  # asked from TPE (or started elsewhere) but never in SLURM
            if t.state.name == "RUNNING" and t.number not in self.jobs:
                info = t.user_attrs.get("trial") or {}
                values = info.get("values") or self.plan.values(t.params)
                args = info.get("args") or self.plan.arguments(values)
                self.again.append(Started(t.number, values, list(args), trial_dir(state.dir, t.number),
                                          rerun="never reached SLURM" if info else None))
        self.say(f"re-attaching: {len(self.ended)} trial(s) ended before, {len(self.jobs)} in SLURM"
                 + (f" ({adopted} adopted from an unrecorded submission)" if adopted else "")
                 + (f", {len(self.again)} to submit again" if self.again else ""))
        self._stop_decided(live)
        self._collect(live)

    def _stop_decided(self, live: dict[str, JobState]) -> None:
        """Trials hyperband stopped under a controller that died since: stopped they stay (a
        job that still runs, because the controller died before its scancel, is cancelled)."""
        from .runner import _decided

        if self.brackets is None:
            return
        for n, job in list(self.jobs.items()):
            why = _decided(self.state, job.watch)
            if why is None:
                continue
            job.watch.stop = why
            js = live.get(job.job_id)
            if js is not None and not js.ended:
                self.say(f"trial {n} stopping (decided by an earlier controller): {why}")
                self._stop(n)

    # ------------------------------------------------------------------------------ following

    def _collect_patiently(self) -> None:
        """:meth:`_collect`, riding out a slurmctld that does not answer for a while (a restart,
        a failover): the jobs run on without us; give up only after ``SQUEUE_PATIENCE`` s."""
        from .engines.slurm import SlurmError

        try:
            self._collect()
            self._squeue_failing = None
        except SlurmError as exc:
            now = time.monotonic()
            if self._squeue_failing is None:
                self._squeue_failing = now
                self.say(f"{exc}; trying again (the jobs run on)")
            elif now - self._squeue_failing > SQUEUE_PATIENCE:
                raise SlurmError(f"{exc} for {SQUEUE_PATIENCE:g} s; the jobs run on: re-attach later "
                                 "with the same command") from None

    def _collect(self, states: dict[str, JobState] | None = None) -> None:
        from .engines.slurm import job_states

        if not self.jobs:
            return
        states = job_states(self.name) if states is None else states
        now = time.time()
        for n, job in list(self.jobs.items()):
            js = states.get(job.job_id)
            if js is not None:
                self._requeues(n, job, js)
            if js is not None and not js.ended:
                job.gone_since = None
                continue
            outcome = self._outcome(n, job, js, now)
            if outcome is not None:
                del self.jobs[n]
                self._ended(job, outcome)

    def _requeues(self, n: int, job: _Job, js: JobState) -> None:
        """Say once per requeue that the job was requeued: seen as RUNNING turning PENDING, or
        (when a poll missed the pending moment) as a higher restart count in ``slurm_job.json``."""
        from .engines.slurm import JOB_FILE, read_json

        count = job.requeues
        if job.seen == "RUNNING" and js.state in ("PENDING", "REQUEUED", "REQUEUE_HOLD"):
            count += 1
        if js.state == "RUNNING":
            mark = read_json(job.watch.st.run_dir / JOB_FILE) or {}
            if str(mark.get("job_id")) == job.job_id:
                count = max(count, int(mark.get("restarts") or 0))
        job.seen = js.state
        if count > job.requeues:
            job.requeues = count
            self.say(f"trial {n}: SLURM requeued job {job.job_id} (time limit or preemption; requeue {count}); "
                     "it starts again in the same run directory")

    def _outcome(self, n: int, job: _Job, js: JobState | None, now: float) -> Outcome | None:
        from .engines import Outcome
        from .engines.slurm import outcome_parts

        result, lines = outcome_parts(job.watch.st.run_dir)
        if result is not None and str(result.get("job_id")) != job.job_id:
            result = None  # a stale file of an earlier job
        state = js.state if js is not None else ""
        if result is None:
            if job.gone_since is None:
                job.gone_since = now
            if now - job.gone_since < RESULT_GRACE and state in ("", "COMPLETED"):
                return None  # the file system may not show the result yet
        seconds = float(result["seconds"]) if result else max(0.0, now - job.since)
        node = str(result.get("node", "")) if result else (js.node if js else "")
        error: str | None = None
        if state == "CANCELLED" and not (result and result.get("exit_code") == 0):
            error = f"SLURM job {job.job_id} was cancelled (scancel or an administrator)"
        elif result is None and js is None:
            error = f"SLURM job {job.job_id} is no longer known to SLURM and left no result"
        elif result is None:
            why = f" ({js.reason})" if js is not None and js.reason not in ("", "None") else ""
            error = f"SLURM job {job.job_id} ended {state}{why} without a result"
        if result is None or error:
            return Outcome(n, None, seconds, lines, node=node, error=error)
        return Outcome(n, result.get("exit_code"), seconds, lines, timed_out=bool(result.get("timed_out")),
                       node=node)

    def _ended(self, job: _Job, o: Outcome) -> None:
        from .retries import retry
        from .runner import _better, _ending, _record, _tally

        st, spec = job.watch.st, self.spec
        again = None if job.watch.stop else retry(self.state, st, o, self.opts.retries, self.opts.timeout,
                                                  {"job_id": job.job_id})
        if again is not None:
            self.again.append(again)
            self.say(f"trial {st.number} FAILED after {o.seconds:.1f}s (job {job.job_id}), runs again: {again.rerun}")
            return
        status, value, note = _record(self.state, job.watch, o, spec.metric, self.opts.timeout, self.brackets)
        self.ended[st.number] = {"complete": "COMPLETE", "stopped": "PRUNED"}.get(status, "FAIL")
        if status == "complete" and value is not None:
            self.best = _better(self.best, (value, st.number), spec.goal)
        total = f"/{self.plan.planned}" if self.plan.planned is not None else ""
        tally = _tally(self.ended, total, self.best, spec, self.brackets is not None, f"{len(self.jobs)} in SLURM")
        self.say(f"trial {st.number} {_ending(spec, status, o.seconds, value, note)} (job {job.job_id}) | {tally}")


JOURNAL_LIMIT = 64 * 1024 * 1024  # bytes; a line per submission, so this is generous

def _read_journal(path: Path) -> dict[str, tuple[list[int], list[str | None] | None]]:
    """``token -> (trials, job ids or None)`` in submission order (a torn last line is skipped)."""
    out: dict[str, tuple[list[int], list[str | None] | None]] = {}
    try:
        text = read_text(path, limit=JOURNAL_LIMIT)
    except ReadProblem as exc:
        if exc.kind == "missing":
            return out
        raise ConfigError(f"{exc} (the sweep's SLURM journal: without it the jobs already submitted "
                          "cannot be re-attached; put the file back)") from None
    for line in text.splitlines():
        try:
            entry = json.loads(line)
        except (ValueError, RecursionError):  # torn, or nested past Python's recursion limit
            continue
        token = entry.get("token") if isinstance(entry, dict) else None
        if not isinstance(token, str):
            continue  # not a line flow_sweep wrote (an edit, a torn write)
        trials, jobs = entry.get("trials"), entry.get("jobs")
        if isinstance(trials, list) and all(isinstance(n, int) and not isinstance(n, bool) for n in trials):
            out[token] = (trials, None)
        elif isinstance(jobs, list) and token in out and len(jobs) == len(out[token][0]):
            out[token] = (out[token][0], [str(j) for j in jobs])
    return out


def _by_index(job_ids: list[str], count: int) -> list[str | None]:
    """Job ids of one submission in task order: ``A_i`` is task i; a single job is task 0."""
    out: list[str | None] = [None] * count
    for job_id in job_ids:
        _, _, index = job_id.partition("_")
        i = int(index) if index.isdigit() else 0
        if 0 <= i < count:
            out[i] = job_id
    return out
