"""The ``ray`` engine: each trial is a Ray task with the declared CPUs and GPUs.

Ray places the tasks on the cluster's nodes by their resources; we do no scheduling of our
own. A task starts the program as a subprocess on its node (so any script works, exactly as
a W&B agent runs it) and returns how it ended.

Files: when the node sees the sweep directory (a shared file system, or one machine) the
trial writes its run directory there directly; otherwise it runs in a node-local directory
and the task sends back the small files the sweep needs (run record, metrics, the end of the
output). The program's directory is shipped with Ray's ``runtime_env`` ``working_dir`` when
asked to (by default when joining an existing cluster, whose nodes may not share files).

A program is killed with its worker: it gets ``PR_SET_PDEATHSIG`` (Linux), so a cancelled or
lost task never leaves a training process behind on a remote node.
"""

from __future__ import annotations

import ctypes
import logging
import os
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from ...errors import ConfigError
from . import OUTPUT_FILE, Outcome, TrialJob, hostname, kill_group, tail

SHIPPED_EXCLUDES = ["logs/", "sweeps/", ".git/", "__pycache__/", "*.pyc", "wandb/", ".venv/"]
_SENT_BACK = ("run_record.json", "metrics.jsonl")


class RayEngineError(ConfigError):
    """Ray could not be started or reached."""


def _die_with_parent() -> None:  # runs in the child between fork and exec
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def run_trial_here(payload: dict[str, Any]) -> dict[str, Any]:
    """Run one trial on this node and report how it ended (the body of the Ray task).

    ``payload``: command, env, cwd (or None: the task's working directory, i.e. the shipped
    program directory), run_dir, sweep_dir, sweep_id, timeout.
    """
    sweep_dir = Path(payload["sweep_dir"])
    shared = (sweep_dir / "sweep.json").is_file() and payload["sweep_id"] in _read(sweep_dir / "sweep.json")
    run_dir = Path(payload["run_dir"])
    if not shared:
        run_dir = Path(tempfile.gettempdir()) / "flows-sweep" / payload["sweep_id"] / run_dir.name
    run_dir.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    env.update(payload["env"])
    env["FLOWS_RUN_DIR"] = str(run_dir)
    cwd = payload["cwd"] or os.getcwd()
    started = time.monotonic()
    timed_out = False
    with open(run_dir / OUTPUT_FILE, "ab") as out:
        proc = subprocess.Popen(payload["command"], cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True,
                                preexec_fn=_die_with_parent)
    try:
        while proc.poll() is None:
            if payload["timeout"] is not None and time.monotonic() - started > payload["timeout"]:
                kill_group(proc.pid)
                proc.wait()
                timed_out = True
                break
            time.sleep(0.05)
    except BaseException:  # Ray's cancel raises KeyboardInterrupt here: take the program down
        kill_group(proc.pid, grace=1.0)
        raise
    kill_group(proc.pid, grace=0.5)
    result: dict[str, Any] = {
        "exit_code": None if timed_out else proc.returncode,
        "timed_out": timed_out,
        "seconds": time.monotonic() - started,
        "tail": tail(run_dir / OUTPUT_FILE),
        "host": hostname(),
        "pid": proc.pid,
        "files": {},
    }
    if not shared:
        for name in _SENT_BACK:
            text = _read(run_dir / name)
            if text:
                result["files"][name] = text
        result["files"][OUTPUT_FILE] = "\n".join(tail(run_dir / OUTPUT_FILE, lines=2000, max_bytes=1 << 20)) + "\n"
    return result


def _read(path: Path) -> str:
    """A file of the trial's run directory, through the bounded reader: the trial may have made
    it a FIFO (a plain read waits forever) or a link to /dev/zero."""
    from ...readers import ReadProblem, read_bytes

    try:
        return read_bytes(path, limit=64 * 1024 * 1024).decode("utf-8", errors="replace")
    except ReadProblem:
        return ""


class RayEngine:
    """Trials as Ray tasks, on the cluster at ``address`` or on a Ray started here."""

    name = "ray"

    def __init__(self, *, address: str | None, cpus_per_trial: float, gpus_per_trial: float,
                 slots: int | None, ship_dir: Path | None, sweep_dir: Path, sweep_id: str) -> None:
        os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
        try:
            import ray
        except ImportError:
            raise RayEngineError("the ray engine needs Ray: pip install 'flows-workspace[ray]'") from None
        self.ray = ray
        self.started_here = False
        # a local directory can only be shipped for the whole job, not per task
        job_env = {"working_dir": str(ship_dir), "excludes": SHIPPED_EXCLUDES} if ship_dir is not None else None
        try:
            if address:
                ray.init(address=address, include_dashboard=False, logging_level=logging.WARNING,
                         log_to_driver=False, configure_logging=True, runtime_env=job_env)
            else:
                ray.init(include_dashboard=False, logging_level=logging.WARNING, log_to_driver=False,
                         configure_logging=True, runtime_env=job_env)
                self.started_here = True
        except Exception as exc:  # ConnectionError, RuntimeError, ... : one line either way
            where = f"at {address}" if address else "on this machine"
            raise RayEngineError(f"cannot start or reach Ray {where}: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}") from None
        total = ray.cluster_resources()
        fits = int(total.get("CPU", 1) // cpus_per_trial) if cpus_per_trial > 0 else 10**6
        if gpus_per_trial > 0:
            have = total.get("GPU", 0)
            if have < gpus_per_trial:
                self.close()
                raise RayEngineError(f"--gpus-per-trial {gpus_per_trial:g}: the Ray cluster has {have:g} GPUs")
            fits = min(fits, int(have // gpus_per_trial))
        self.slots = max(1, slots if slots is not None else fits)
        options: dict[str, Any] = {"num_cpus": cpus_per_trial, "num_gpus": gpus_per_trial, "max_retries": 0}
        self.ship_dir = ship_dir
        self._task = ray.remote(_ray_task).options(**options)
        self.sweep_dir, self.sweep_id = sweep_dir, sweep_id
        self._refs: dict[Any, tuple[TrialJob, float]] = {}

    def free_slots(self) -> int:
        return max(0, self.slots - len(self._refs))

    def start(self, job: TrialJob) -> dict[str, Any]:
        command, cwd = list(job.command), str(job.cwd)
        if self.ship_dir is not None:  # the program runs from the shipped copy
            command[1] = os.path.relpath(command[1], self.ship_dir)
            cwd = ""
        payload = {"command": command, "env": job.env, "cwd": cwd or None, "run_dir": str(job.run_dir),
                   "sweep_dir": str(self.sweep_dir), "sweep_id": self.sweep_id, "timeout": job.timeout}
        ref = self._task.remote(payload)
        self._refs[ref] = (job, time.monotonic())
        return {"host": "ray", "engine": "ray"}

    def running(self) -> list[int]:
        return [job.number for job, _ in self._refs.values()]

    def poll(self, timeout: float) -> list[Outcome]:
        if not self._refs:
            return []
        ready, _ = self.ray.wait(list(self._refs), num_returns=len(self._refs), timeout=timeout)
        out: list[Outcome] = []
        for ref in ready:
            job, started = self._refs.pop(ref)
            try:
                r = self.ray.get(ref)
            except Exception as exc:
                first = str(exc).strip().splitlines()
                out.append(Outcome(job.number, None, time.monotonic() - started,
                                   error=f"Ray task failed: {first[-1] if first else type(exc).__name__}"))
                continue
            out.append(Outcome(job.number, r["exit_code"], r["seconds"], r["tail"], r["timed_out"],
                               node=r["node"], files=r["files"]))
        return out

    def stop(self) -> None:
        for ref in list(self._refs):
            try:
                self.ray.cancel(ref)  # KeyboardInterrupt inside the task: it kills the program
            except Exception:
                pass
        if self._refs:
            try:
                self.ray.wait(list(self._refs), num_returns=len(self._refs), timeout=10)
            except Exception:
                pass
        self._refs.clear()

    def close(self) -> None:
        self.stop()
        try:
            self.ray.shutdown()
        except Exception:
            pass


def _ray_task(payload: dict[str, Any]) -> dict[str, Any]:
    import ray

    result = run_trial_here(payload)
    result["node"] = f"{result['host']}/{ray.get_runtime_context().get_node_id()[:8]}"
    return result
