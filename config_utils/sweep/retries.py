"""``--retries N``: a trial whose process failed runs again, up to N more times, on any engine.

Why only process failures (a non-zero exit, a kill, a timeout, an engine that lost the
trial): those are what a retry can cure (a node dying, a preemption, a flaky file system, a
``scancel``). A program that exits 0 without its metric, or reports NaN, would do the same
again, so it fails at once.

Every failed attempt is kept: its run directory moves aside to ``NNNN.attempt-K`` (the next
attempt starts in a fresh ``NNNN``), a line goes to the trial's ``reruns`` (shown in the
results table and CSV), and its details (exit status, error, seconds, node, the engine's job
id) to the trial's ``attempts`` user attribute in the sweep's Optuna study.
"""

from __future__ import annotations

import signal
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .engines import Outcome
    from .state import Started, SweepState

RETRY_PREFIX = "retry "


def process_failure(o: Outcome, timeout: float | None) -> str | None:
    """Why the trial's process failed, or None when it ended with status 0."""
    if o.error:
        return o.error
    if o.timed_out:
        return f"timed out after {timeout:g} s" if timeout is not None else "timed out"
    if o.exit_code != 0:
        last = next((ln.strip() for ln in reversed(o.tail) if ln.strip()), "")
        from .results import clip  # a trial's last line can be megabytes: kept bounded

        return ended_as(o.exit_code) + (f": {clip(last)}" if last else "")
    return None


def ended_as(code: int | None) -> str:
    """How a process ended, in words: ``exit status 3``, or ``killed by SIGKILL (signal 9)``
    for ``-9`` (``subprocess``'s way of saying it died of a signal, which reads as a status)."""
    if code is None or code >= 0:
        return f"exit status {code}"
    try:
        name = signal.Signals(-code).name
    except ValueError:
        return f"killed by signal {-code}"
    return f"killed by {name} (signal {-code})"


def attrs(state: SweepState, number: int) -> dict[str, Any]:
    """The trial's user attributes in the study."""
    return dict(state.study._storage.get_trial(state._trial_id(number)).user_attrs)


def retry(state: SweepState, st: Started, o: Outcome, retries: int, timeout: float | None,
          extra: dict[str, Any] | None = None) -> Started | None:
    """The trial to start again when ``o`` is a process failure with retries left (the failed
    attempt recorded), else None: record ``o`` as the trial's end as usual."""
    from .state import Started

    reason = process_failure(o, timeout)
    if reason is None or retries <= 0:
        return None
    user = attrs(state, st.number)
    attempts = list(user.get("attempts", []))
    done = len(attempts)
    if done >= retries:
        return None
    reruns = list(user.get("reruns", []))
    note = f"{RETRY_PREFIX}{done + 1} of {retries}: attempt {done + 1} failed: {reason}"
    reruns.append(note)
    moved = st.run_dir.with_name(f"{st.run_dir.name}.attempt-{len(reruns)}")
    if st.run_dir.exists():
        st.run_dir.rename(moved)
    attempts.append({"attempt": done + 1, "error": reason, "exit": o.exit_code, "timed_out": o.timed_out,
                     "seconds": round(o.seconds, 3), "node": o.node, "run_dir": str(moved),
                     **(extra or {})})
    storage, tid = state.study._storage, state._trial_id(st.number)
    storage.set_trial_user_attr(tid, "attempts", attempts)
    storage.set_trial_user_attr(tid, "reruns", reruns)
    return Started(st.number, st.values, st.args, st.run_dir, rerun=note)
