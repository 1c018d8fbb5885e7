"""The ``local`` engine: trials as subprocesses on this machine, N at a time.

Each trial runs in its own session (``start_new_session``), so Ctrl-C at the terminal reaches
only the controller, which then stops every trial's whole process group (a program's data
loader workers included). Trials outlive a controller that is SIGKILLed, each under a wrapper
(:mod:`.local_wrapper`) that writes how it ended to ``RUN_DIR/exit.json`` and ends the same way,
so ``Popen.returncode`` is the program's: ``sys.exit(130)`` is 130, death by SIGKILL is -9.
The resumed sweep finds them by their ``FLOWS_SWEEP_TRIAL`` and adopts them: waits for those
still running, records those that ended (:mod:`config_utils.sweep.state`), so no trial runs
twice.
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
import time
from dataclasses import dataclass
from typing import Any

from ..state import trial_command
from . import OUTPUT_FILE, Outcome, TrialJob, hostname, kill_group, tail


@dataclass
class _Running:
    job: TrialJob
    proc: subprocess.Popen[bytes]
    started: float
    gpus: list[str]
    pidfd: int | None = None
    kill_at: float | None = None  # stop_trial sent SIGTERM; SIGKILL the group at this time


class LocalEngine:
    """``slots`` trials at a time; with ``gpus``, each trial gets ``gpus_per_trial`` of them
    through ``CUDA_VISIBLE_DEVICES`` (and none sees the others')."""

    name = "local"

    def __init__(self, slots: int, gpus: list[str] | None = None, gpus_per_trial: int = 0) -> None:
        self.slots = max(1, slots)
        self.gpus_free = list(gpus or [])
        self.gpus_per_trial = gpus_per_trial
        self._running: dict[int, _Running] = {}
        self.host = hostname()

    def free_slots(self) -> int:
        free = self.slots - len(self._running)
        if self.gpus_per_trial > 0:
            free = min(free, len(self.gpus_free) // self.gpus_per_trial)
        return max(0, free)

    def start(self, job: TrialJob) -> dict[str, Any]:
        env = dict(os.environ)
        env.update(job.env)
        gpus = self.gpus_free[: self.gpus_per_trial]
        del self.gpus_free[: self.gpus_per_trial]
        if self.gpus_per_trial > 0:
            env["CUDA_VISIBLE_DEVICES"] = ",".join(gpus)
        job.run_dir.mkdir(parents=True, exist_ok=True)
        with open(job.run_dir / OUTPUT_FILE, "ab") as out:
            try:
                # the wrapper records the exit status in the run directory (exactly once)
                proc = subprocess.Popen(trial_command(job.command), cwd=job.cwd, env=env, stdout=out,
                                        stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                        start_new_session=True)
            except OSError:
                self.gpus_free.extend(gpus)
                raise
        try:
            pidfd: int | None = os.pidfd_open(proc.pid)
        except (AttributeError, OSError):  # not Linux >= 5.3: poll instead
            pidfd = None
        self._running[job.number] = _Running(job, proc, time.monotonic(), gpus, pidfd)
        return {"pid": proc.pid, "pgid": proc.pid, "host": self.host, "gpus": gpus}

    def running(self) -> list[int]:
        return list(self._running)

    def stop_trial(self, number: int, grace: float) -> None:
        """Stop one trial without waiting: SIGTERM to its process group now, SIGKILL after
        ``grace`` seconds if it has not ended (as W&B's agent stops a run); its outcome then
        comes from :meth:`poll` with ``stopped`` set."""
        r = self._running.get(number)
        if r is None or r.kill_at is not None:
            return
        r.kill_at = time.monotonic() + grace
        try:
            os.killpg(r.proc.pid, signal.SIGTERM)
        except (ProcessLookupError, PermissionError):
            pass

    def poll(self, timeout: float) -> list[Outcome]:
        """Outcomes of trials that ended, waiting up to ``timeout`` seconds for the first.

        Waits on the children's pidfds (Linux), so a trial's end is seen at once and its slot
        refilled without a polling delay; elsewhere it checks every 20 ms.
        """
        deadline = time.monotonic() + timeout
        while True:
            done = self._collect()
            left = deadline - time.monotonic()
            if done or left <= 0 or not self._running:
                return done
            self._wait_any(min(left, self._next_timeout() or left))

    def _next_timeout(self) -> float | None:
        now = time.monotonic()
        limits = [r.started + r.job.timeout - now for r in self._running.values() if r.job.timeout is not None]
        limits += [r.kill_at - now for r in self._running.values() if r.kill_at is not None]
        return max(0.0, min(limits)) + 0.01 if limits else None

    def _wait_any(self, seconds: float) -> None:
        fds = [r.pidfd for r in self._running.values() if r.pidfd is not None]
        if len(fds) != len(self._running):
            time.sleep(min(seconds, 0.02))
            return
        poller = select.poll()
        for fd in fds:
            poller.register(fd, select.POLLIN)
        poller.poll(max(0, int(seconds * 1000)))

    def _collect(self) -> list[Outcome]:
        out: list[Outcome] = []
        now = time.monotonic()
        for number, r in list(self._running.items()):
            code = r.proc.poll()
            timed_out = False
            if code is None and r.kill_at is not None and now >= r.kill_at:
                try:
                    os.killpg(r.proc.pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
                code = r.proc.wait()
            elif code is None and r.job.timeout is not None and now - r.started > r.job.timeout:
                kill_group(r.proc.pid)
                r.proc.wait()
                code, timed_out = None, True
            elif code is None:
                continue
            else:
                kill_group(r.proc.pid, grace=0.5)  # children the program left behind
            del self._running[number]
            self._close_fd(r)
            self.gpus_free.extend(r.gpus)
            out.append(Outcome(number, code, now - r.started, tail(r.job.run_dir / OUTPUT_FILE),
                               timed_out=timed_out, stopped=r.kill_at is not None, node=self.host))
        return out

    @staticmethod
    def _close_fd(r: _Running) -> None:
        if r.pidfd is not None:
            os.close(r.pidfd)
            r.pidfd = None

    def stop(self) -> None:
        for r in self._running.values():
            kill_group(r.proc.pid)
            try:
                r.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
            self._close_fd(r)
        self._running.clear()

    def close(self) -> None:
        self.stop()
