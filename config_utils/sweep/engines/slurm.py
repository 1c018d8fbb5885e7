"""The ``slurm`` engine's parts: submission through submitit, job states from ``squeue``, and
the wrapper that runs a trial inside its SLURM job.

Why submitit: it is what SLURM users already use; it writes the batch script from the
resources, submits job arrays in one ``sbatch``, and on the node catches SLURM's warning
signal before a time limit (or a preemption), asks the job's callable for a checkpoint and
requeues the job. Why ``squeue`` and not submitit's job watcher: the watcher reads ``sacct``,
which needs SLURM's accounting daemon; many clusters, and a small test cluster, have none.

On the node, :class:`TrialTask` starts the program exactly as the local engine does (a
subprocess in its own session, output into the run directory, the same environment), and
writes ``slurm_job.json`` when it starts and ``slurm_result.json`` when the program ends: the
controller, or a later re-attached one, reads the trial's end from the run directory, since
the sweep directory is on a file system the nodes share (as SLURM clusters have).

The controller that decides what to submit is :mod:`config_utils.sweep.slurm_control`.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ...atomic import write_atomic
from ...errors import ConfigError, did_you_mean
from ...knobs import env_number
from ...readers import ReadProblem, load_json, read_text
from . import OUTPUT_FILE, kill_group, tail

JOB_FILE = "slurm_job.json"
RESULT_FILE = "slurm_result.json"
SIGNAL_DELAY = 90  # seconds between SLURM's warning signal and the time limit (submitit's default)
STOP_GRACE = 20.0  # seconds a program gets to save and exit after SIGTERM before SIGKILL
ENDED = {"COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "NODE_FAIL", "OUT_OF_MEMORY", "BOOT_FAIL",
         "DEADLINE", "PREEMPTED", "SPECIAL_EXIT", "REVOKED"}


class SlurmError(ConfigError):
    """SLURM or submitit is missing, an option is wrong, or a submission was refused."""


# ---------------------------------------------------------------------------------- options


@dataclass
class SlurmSettings:
    """Per-trial resources and sbatch options, from ``flow_sweep``'s options."""

    partition: str | None = None
    time: str | None = None  # SLURM's time format; None: from --timeout, else the partition's
    mem: str | None = None  # SLURM's memory format (4G, 500M, ...)
    options: list[str] = field(default_factory=list)  # any other #SBATCH option, KEY=VALUE
    cpus_per_trial: float = 1.0
    gpus_per_trial: float | None = None
    timeout: float | None = None


def parse_time(text: str, option: str = "--slurm-time") -> int:
    """Minutes of a SLURM time limit: ``M``, ``M:S``, ``H:M:S``, ``D-H``, ``D-H:M``, ``D-H:M:S``
    (seconds round up, as SLURM rounds them); 0 means no limit."""
    s = str(text).strip()
    m = re.fullmatch(r"(?:(\d+)-)?(\d+)(?::(\d+))?(?::(\d+))?", s)
    if not m or len(s) > 20:
        raise SlurmError(f"{option}: expected a SLURM time (MINUTES, H:M:S or D-H:M:S), got {text!r}")
    days, a, b, c = m.groups()
    if days is not None:  # D-H, D-H:M, D-H:M:S
        secs = int(days) * 86400 + int(a) * 3600 + int(b or 0) * 60 + int(c or 0)
    elif c is not None:  # H:M:S
        secs = int(a) * 3600 + int(b) * 60 + int(c)
    elif b is not None:  # M:S
        secs = int(a) * 60 + int(b)
    else:
        secs = int(a) * 60
    return math.ceil(secs / 60)


def parse_option(text: str) -> tuple[str, str | bool]:
    """One pass-through sbatch option: ``KEY=VALUE``, ``--KEY=VALUE`` or ``--FLAG``."""
    s = str(text).strip()
    body = s[2:] if s.startswith("--") else s
    key, eq, value = body.partition("=")
    key = key.strip()
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_-]*", key) or (eq and not value.strip()):
        raise SlurmError(f"--slurm-option: expected KEY=VALUE (an sbatch option such as "
                         f"qos=high or --constraint=a100), got {text!r}")
    if key.replace("_", "-") in {"array", "output", "error", "job-name", "open-mode", "parsable", "wrap"}:
        raise SlurmError(f"--slurm-option {key}: set by flow_sweep itself; it cannot be changed")
    return key.replace("_", "-"), (value.strip() if eq else True)


def _run(cmd: list[str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    except FileNotFoundError:
        raise SlurmError(f"the slurm engine needs SLURM's commands: {cmd[0]} is not on PATH") from None
    except subprocess.TimeoutExpired:
        raise SlurmError(f"{cmd[0]} did not answer within {timeout:g} s (is slurmctld up?)") from None


@dataclass
class Partition:
    name: str
    default_time: int | None  # minutes; None: not set / unlimited
    max_time: int | None
    max_array: int = 1001  # tasks one job array may have (indices 0 .. MaxArraySize - 1)


def check_cluster(settings: SlurmSettings) -> Partition:
    """Everything SLURM can refuse, checked before the first submission: submitit installed,
    SLURM's commands present, the partition exists (by name, with the closest names), the
    resources are whole numbers and the pass-through options are well formed."""
    for opt in settings.options:
        parse_option(opt)
    gpus = settings.gpus_per_trial or 0
    if gpus != int(gpus):
        raise SlurmError(f"--gpus-per-trial: SLURM hands out whole GPUs, got {gpus:g}")
    if settings.time is not None:
        parse_time(settings.time)
    if settings.mem is not None and not re.fullmatch(r"\d+(\.\d+)?[KMGT]?B?", settings.mem.strip(), re.I):
        raise SlurmError(f"--slurm-mem: expected a SLURM memory size such as 4G or 500M, got {settings.mem!r}")
    try:
        import submitit  # noqa: F401
    except ImportError:
        raise SlurmError("the slurm engine needs submitit: pip install 'flows-workspace[slurm]'") from None
    if shutil.which("sbatch") is None or shutil.which("squeue") is None:
        raise SlurmError("the slurm engine needs SLURM's commands (sbatch, squeue, scontrol) on PATH")
    proc = _run(["scontrol", "show", "partition", "--oneliner"])
    if proc.returncode != 0:
        first = (proc.stderr or proc.stdout).strip().splitlines()
        raise SlurmError(f"cannot read SLURM's partitions: {first[0] if first else 'scontrol failed'}")
    parts: dict[str, dict[str, str]] = {}
    default: str | None = None
    for line in proc.stdout.splitlines():
        fields = dict(kv.split("=", 1) for kv in line.split() if "=" in kv)
        if "PartitionName" in fields:
            parts[fields["PartitionName"]] = fields
            if fields.get("Default") == "YES":
                default = fields["PartitionName"]
    name = settings.partition or default
    if name is None:
        raise SlurmError("--slurm-partition: this cluster has no default partition; choose one of "
                         + ", ".join(sorted(parts)))
    if name not in parts:
        raise SlurmError(f"--slurm-partition: no partition {name!r} on this cluster"
                         + did_you_mean(name, parts) + f"; partitions: {', '.join(sorted(parts)) or 'none'}")
    fields = parts[name]
    return Partition(name, _limit(fields.get("DefaultTime")), _limit(fields.get("MaxTime")), _max_array())


def _max_array() -> int:
    """How many tasks one array may have: ``MaxArraySize`` (indices 0 to MaxArraySize - 1);
    SLURM's default 1001 when the configuration cannot be read."""
    proc = _run(["scontrol", "show", "config"])
    m = re.search(r"^MaxArraySize\s*=\s*(\d+)", proc.stdout, re.M) if proc.returncode == 0 else None
    return max(1, int(m.group(1))) if m else 1001


def _limit(text: str | None) -> int | None:
    if not text or text in ("NONE", "UNLIMITED", "INFINITE", "N/A"):
        return None
    try:
        return parse_time(text)
    except SlurmError:
        return None


def time_limit(settings: SlurmSettings, part: Partition) -> int:
    """The job's time limit in minutes: ``--slurm-time``, else a minute more than ``--timeout``
    (the trial's own timeout fails it first), else the partition's default or maximum, else 0
    (no limit)."""
    if settings.time is not None:
        return parse_time(settings.time)
    if settings.timeout is not None:
        return math.ceil(settings.timeout / 60) + 1
    return part.default_time or part.max_time or 0


def warning_delay(minutes: int) -> int:
    """Seconds before a ``minutes`` limit (0: none) at which SLURM is asked to warn the job.

    slurmctld looks at time limits every 30 s, so the warning comes between this many seconds
    before the limit and 30 s later (measured on the test cluster; docs/slurm.md). The
    program then needs its stop grace (``STOP_GRACE``) and the requeue a few seconds: 90 s for
    limits of 6 minutes and more; half a shorter limit, and never under 45 s, so that even a
    1-minute limit is warned 15 s or more before it ends."""
    if minutes == 0 or minutes * 60 >= 4 * SIGNAL_DELAY:
        return SIGNAL_DELAY
    return max(45, minutes * 30)


def executor(folder: Path, name: str, settings: SlurmSettings, part: Partition, parallel: int) -> Any:
    """A submitit executor with the trial's resources; ``parallel`` caps an array's running
    tasks (``--array=0-N%parallel``)."""
    import submitit

    minutes = time_limit(settings, part)
    ex = submitit.SlurmExecutor(folder=folder, python=sys.executable)
    extra: dict[str, Any] = {}
    if settings.mem:
        extra["mem"] = settings.mem.strip()
    for opt in settings.options:
        key, value = parse_option(opt)
        extra[key] = value
    delay = warning_delay(minutes)
    params: dict[str, Any] = dict(job_name=name, partition=part.name, time=minutes, signal_delay_s=delay,
                                  array_parallelism=max(1, parallel), stderr_to_stdout=True,
                                  additional_parameters=extra)
    if settings.cpus_per_trial > 0:
        params["cpus_per_task"] = max(1, math.ceil(settings.cpus_per_trial))
    gpus = int(settings.gpus_per_trial or 0)
    if gpus:
        params["gpus_per_node"] = gpus
    ex.update_parameters(**params)
    return ex


# ---------------------------------------------------------------------------------- submission


def submit(ex: Any, payloads: list[dict[str, Any]], comment: str) -> list[str]:
    """Submit one job per payload (an array when there are several); their job ids, in order.
    ``comment`` goes into every job's SLURM comment: a re-attached controller finds by it a
    submission whose ids it never got to write down."""
    from submitit.core.utils import FailedJobError, FailedSubmissionError

    ex.update_parameters(comment=comment)
    try:
        # submitit prints sbatch's complaint itself before raising: it goes into our one line
        with contextlib.redirect_stderr(io.StringIO()):
            if len(payloads) == 1:
                jobs = [ex.submit(TrialTask(), payloads[0])]
            else:
                jobs = ex.map_array(TrialTask(), payloads)
    except (FailedJobError, FailedSubmissionError, subprocess.CalledProcessError) as exc:
        lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
        why = next((ln for ln in lines if "error" in ln.lower()), lines[-1] if lines else type(exc).__name__)
        raise SlurmError(f"sbatch refused the submission: {why}") from None
    return [str(j.job_id) for j in jobs]


@dataclass
class JobState:
    job_id: str
    state: str  # SLURM's job state (PENDING, RUNNING, COMPLETED, CANCELLED, ...)
    reason: str
    node: str
    comment: str

    @property
    def ended(self) -> bool:
        return self.state in ENDED


def job_states(name: str) -> dict[str, JobState]:
    """Every job named ``name`` that slurmctld still knows (ended ones for ``MinJobAge``),
    one entry per array task."""
    proc = _run(["squeue", "--noheader", "--array", "--states=all", f"--name={name}",
                 "--format=%i|%T|%r|%N|%k"])
    if proc.returncode != 0:
        first = (proc.stderr or proc.stdout).strip().splitlines()
        raise SlurmError(f"squeue failed: {first[0] if first else 'no message'}")
    out: dict[str, JobState] = {}
    for line in proc.stdout.splitlines():
        parts = line.strip().split("|", 4)
        if len(parts) == 5:
            out[parts[0]] = JobState(parts[0], parts[1], parts[2], parts[3], parts[4])
    return out


def cancel(job_id: str) -> str | None:
    """``scancel JOB_ID`` (an array task as ``123_4``): how a controller stops one trial. SLURM
    sends the job's processes SIGTERM, which a program can catch to save and exit, and SIGKILL
    after the cluster's ``KillWait`` (``scontrol show config``); the job ends CANCELLED. None,
    or scancel's complaint (a job that had already ended is none)."""
    proc = _run(["scancel", job_id])
    if proc.returncode == 0:
        return None
    first = (proc.stderr or proc.stdout).strip().splitlines()
    return first[0] if first else f"scancel exited {proc.returncode}"


def read_json(path: Path) -> dict[str, Any] | None:
    """A JSON object the engine wrote into a trial's run directory, or None. Through the
    house's bounded reader: the trial owns that directory and may have put a FIFO or a link to
    /dev/zero where the file was (a plain read would hang the controller)."""
    try:
        data = load_json(read_text(path, limit=1 << 20), where=path, duplicates=True)
    except ReadProblem:
        return None
    return data if isinstance(data, dict) else None


def _write_json(path: Path, data: dict[str, Any]) -> None:
    write_atomic(path, json.dumps(data) + "\n", durable=False)


# ---------------------------------------------------------------------------------- on the node


def _ignore_usr2() -> None:  # runs in the child between fork and exec
    signal.signal(signal.SIGUSR2, signal.SIG_IGN)


class TrialTask:
    """The callable a trial's SLURM job runs (pickled by submitit).

    ``payload``: command, env, cwd, run_dir, timeout, token. The program runs as a subprocess
    with SIGUSR2 ignored: SLURM's warning signal goes to every process of the job step, and
    it is this wrapper's (through submitit) to act on. On that signal submitit calls
    :meth:`checkpoint`: the program gets SIGTERM (SIGKILL after ``STOP_GRACE`` s) to save its
    state and stop, and the job is requeued; the program then starts again in the same run
    directory with ``FLOWS_SLURM_RESTARTS`` (and SLURM's ``SLURM_RESTART_COUNT``) set.
    """

    def __init__(self) -> None:
        self._proc: subprocess.Popen[bytes] | None = None

    def __getstate__(self) -> dict[str, Any]:
        return {}  # never pickle a running process

    def __setstate__(self, state: dict[str, Any]) -> None:
        self._proc = None

    def __call__(self, payload: dict[str, Any]) -> dict[str, Any]:
        run_dir = Path(payload["run_dir"])
        run_dir.mkdir(parents=True, exist_ok=True)
        job_id = _job_id()
        restarts = env_number("SLURM_RESTART_COUNT", 0, integer=True, minimum=0)
        _write_json(run_dir / JOB_FILE, {"job_id": job_id, "token": payload.get("token"), "restarts": restarts,
                                         "host": socket.gethostname(), "started": time.time()})
        env = dict(os.environ)
        env.update(payload["env"])
        env["FLOWS_SLURM_RESTARTS"] = str(restarts)
        started = time.monotonic()
        with open(run_dir / OUTPUT_FILE, "ab") as out:
            if restarts:
                out.write(f"[flow_sweep] SLURM job {job_id} restarted (requeue {restarts})\n".encode())
                out.flush()
            self._proc = subprocess.Popen(payload["command"], cwd=payload["cwd"], env=env, stdout=out,
                                          stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                          start_new_session=True, preexec_fn=_ignore_usr2)
        timed_out = False
        limit = payload.get("timeout")
        while self._proc.poll() is None:
            if limit is not None and time.monotonic() - started > limit:
                kill_group(self._proc.pid)
                self._proc.wait()
                timed_out = True
                break
            time.sleep(0.05)
        kill_group(self._proc.pid, grace=0.5)  # children the program left behind
        result = {"job_id": job_id, "exit_code": None if timed_out else self._proc.returncode,
                  "timed_out": timed_out, "seconds": time.monotonic() - started, "restarts": restarts,
                  "node": socket.gethostname(), "token": payload.get("token")}
        _write_json(run_dir / RESULT_FILE, result)
        return result

    def checkpoint(self, payload: dict[str, Any]) -> Any:
        """SLURM warned of the time limit or a preemption: stop the program, requeue the job."""
        from submitit.helpers import DelayedSubmission

        proc = self._proc
        if proc is not None and proc.poll() is None:
            with open(Path(payload["run_dir"]) / OUTPUT_FILE, "ab") as out:
                out.write(b"[flow_sweep] SLURM signalled the job (time limit or preemption): "
                          b"stopping the program, the job is requeued\n")
            kill_group(proc.pid, grace=float(payload.get("stop_grace", STOP_GRACE)))
        return DelayedSubmission(TrialTask(), payload)


def _job_id() -> str:
    array = os.environ.get("SLURM_ARRAY_JOB_ID")
    task = os.environ.get("SLURM_ARRAY_TASK_ID")
    if array and task:
        return f"{array}_{task}"
    return os.environ.get("SLURM_JOB_ID", "")


def outcome_parts(run_dir: Path, lines: int = 20) -> tuple[dict[str, Any] | None, list[str]]:
    """The trial's ``slurm_result.json`` (None when the program did not end on its own) and
    the end of its output."""
    return read_json(run_dir / RESULT_FILE), tail(run_dir / OUTPUT_FILE, lines)
