"""The sweep directory and its Optuna study: the one place a sweep's progress is kept.

``SWEEP_DIR/sweep.json`` names the sweep (id, spec hash, seed, storage); the Optuna storage
(SQLite ``SWEEP_DIR/optuna.db`` by default, or any Optuna storage URL) holds one Optuna trial
per sweep trial, numbered as the plan numbers them. A trial is RUNNING from the moment it is
handed to an engine until its outcome is told (COMPLETE with the metric, or FAIL); so after a
crash the RUNNING trials are exactly the ones to kill and run again, and no trial of the plan
can end twice. Per-trial facts (arguments, pid, exit status, output tail, reruns) are Optuna
user attributes, so one storage is the whole truth and a shared database serves a sweep that
moves between machines.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from .engines import kill_orphans
from .plan import Plan
from .spec import SpecError

if TYPE_CHECKING:
    import optuna

SWEEP_FILE = "sweep.json"
FORMAT = "flows-workspace/sweep"
TRIALS_DIR = "trials"


@dataclass
class Started:
    """A trial handed to an engine."""

    number: int
    values: dict[str, Any]
    args: list[str]
    run_dir: Path
    rerun: str | None = None
    params: dict[str, Any] | None = None  # Optuna params of a grid/random trial not yet in the study


def trial_dir(sweep_dir: Path, number: int) -> Path:
    return sweep_dir / TRIALS_DIR / f"{number:04d}"


def _sqlite_storage(url: str) -> Any:
    """An RDB storage; SQLite gets WAL journaling (a crash loses nothing committed, and each
    commit costs less than with the default rollback journal)."""
    import optuna
    from sqlalchemy import event

    storage = optuna.storages.RDBStorage(url)
    if url.startswith("sqlite"):

        @event.listens_for(storage.engine, "connect")
        def _pragmas(dbapi_connection: Any, _record: Any) -> None:
            cur = dbapi_connection.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        storage.engine.dispose()
    return storage


LOCK_FILE = ".lock"


def _lock(sweep_dir: Path, sweep_id: str) -> Any:
    """Hold ``SWEEP_DIR/.lock`` while this controller runs, so two controllers never run one
    sweep (resume kills every live trial of the sweep it finds: they must be orphans)."""
    import fcntl

    fh = open(sweep_dir / LOCK_FILE, "a+")  # noqa: SIM115 - held for the controller's life
    try:
        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        fh.close()
        raise SpecError(f"{sweep_dir}: another flow_sweep is running sweep {sweep_id} here") from None
    return fh


def read_sweep_file(sweep_dir: Path) -> dict[str, Any] | None:
    path = sweep_dir / SWEEP_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise SpecError(f"{path}: not a readable sweep file ({exc})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise SpecError(f"{path}: not a flow_sweep sweep file")
    return data


def resolve_seed(sweep_dir: Path, seed: int | None) -> int:
    """The sweep's seed: the stored one when resuming, else ``seed``, else a fresh one."""
    existing = read_sweep_file(sweep_dir) if sweep_dir.is_dir() else None
    if existing is not None:
        stored = int(existing["seed"])
        if seed is not None and seed != stored:
            raise SpecError(f"{sweep_dir}: this sweep runs with --seed {stored}; resume it without "
                            f"--seed or with --seed {stored}, or start a new one with --sweep-dir")
        return stored
    return seed if seed is not None else secrets.randbelow(2**31)


class SweepState:
    """The sweep directory plus its Optuna study, opened for one controller."""

    def __init__(self, sweep_dir: Path, meta: dict[str, Any], study: optuna.Study, plan: Plan) -> None:
        self.dir = sweep_dir
        self.meta = meta
        self.id: str = meta["id"]
        self.study = study
        self.plan = plan
        trials = study.get_trials(deepcopy=False)
        self.created = len(trials)
        self.waiting = sorted(t.number for t in trials if t.state.name == "WAITING")
        self._ids = {t.number: t._trial_id for t in trials}
        self._lock: Any = None

    # ----------------------------------------------------------------------------- opening

    @classmethod
    def open(cls, sweep_dir: Path, plan: Plan, storage: str | None = None) -> SweepState:
        """Create the sweep in ``sweep_dir``, or resume the one there (same spec only)."""
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        spec = plan.checked.spec
        meta = read_sweep_file(sweep_dir) if sweep_dir.is_dir() else None
        if meta is None:
            if sweep_dir.exists() and any(sweep_dir.iterdir()):
                raise SpecError(f"{sweep_dir}: exists and is not a sweep directory; not touching it "
                                "(choose another --sweep-dir)")
            sweep_dir.mkdir(parents=True, exist_ok=True)
            stem = "".join(c if c.isalnum() or c in "-_" else "-" for c in (spec.name or spec.path.stem))
            meta = {
                "format": FORMAT, "version": 1,
                "id": f"{stem}-{secrets.token_hex(3)}",
                "spec": str(spec.path.resolve()), "spec_hash": spec.digest(),
                "program": str(spec.program_path), "method": spec.method,
                "metric": spec.metric, "goal": spec.goal, "seed": plan.seed, "planned": plan.planned,
                "storage": storage or f"sqlite:///{(sweep_dir / 'optuna.db').resolve()}",
                "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
            }
            tmp = sweep_dir / (SWEEP_FILE + ".tmp")
            tmp.write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
            os.replace(tmp, sweep_dir / SWEEP_FILE)
        elif meta.get("spec_hash") != spec.digest():
            raise SpecError(f"{sweep_dir}: holds sweep {meta.get('id')} of another spec (the spec, its "
                            "program path or method changed since); use a new --sweep-dir")
        elif storage is not None and storage != meta.get("storage"):
            raise SpecError(f"{sweep_dir}: sweep {meta['id']} keeps its state in {meta['storage']}, "
                            f"not {storage}")
        lock = _lock(sweep_dir, meta["id"])
        direction: Literal["minimize", "maximize"] = "maximize" if spec.goal == "maximize" else "minimize"
        study = optuna.create_study(storage=_sqlite_storage(meta["storage"]), study_name=meta["id"],
                                    direction=direction, sampler=plan.sampler(), load_if_exists=True)
        state = cls(sweep_dir, meta, study, plan)
        state._lock = lock
        return state

    def close(self) -> None:
        """Release the sweep directory's lock."""
        if self._lock is not None:
            self._lock.close()
            self._lock = None

    # ----------------------------------------------------------------------------- queries

    def trials(self) -> list[optuna.trial.FrozenTrial]:
        return self.study.get_trials(deepcopy=False)

    def finished(self) -> int:
        return sum(1 for t in self.trials() if t.state.name in ("COMPLETE", "FAIL"))

    def remaining_to_ask(self) -> int:
        if self.plan.planned is None:  # no run_cap, no --count: until Ctrl-C
            return 1
        return max(0, self.plan.planned - (self.created - len(self.waiting)))

    # ----------------------------------------------------------------------------- resuming

    def recover(self) -> list[Started]:
        """Trials left RUNNING by a controller that died or was interrupted: kill what is
        still alive of this sweep on this host and return those trials to be run again.

        Every process whose environment says it is a trial of this sweep is killed with its
        process group (the lock guarantees no other controller runs this sweep), so a trial
        started just before the controller died, and not recorded yet, is found as well.
        """
        killed = kill_orphans(self.id)
        out: list[Started] = []
        for t in self.trials():
            if t.state.name != "RUNNING":
                continue
            info = t.user_attrs.get("trial") or {}
            run = info.get("run") or {}
            reason = "interrupted (Ctrl-C)" if run.get("interrupted") else "the sweep process ended while it ran"
            pgid = killed.get(t.number)
            if pgid is not None:
                reason += f"; its process group {pgid} was killed"
            reruns = list(t.user_attrs.get("reruns", [])) + [reason]
            self.study._storage.set_trial_user_attr(t._trial_id, "reruns", reruns)
            old = trial_dir(self.dir, t.number)
            if old.exists():
                old.rename(old.with_name(f"{old.name}.attempt-{len(reruns)}"))
            values = info.get("values")
            if values is None:  # asked from TPE, and the controller died before recording
                values = self.plan.values(t.params) if t.params else self.plan.values(
                    self.plan.fixed_params(t.number) or {})
            args = info.get("args") or self.plan.arguments(values)
            out.append(Started(t.number, values, list(args), old, rerun=reason))
        for number in sorted(set(killed) - {s.number for s in out}):  # started, never recorded
            old = trial_dir(self.dir, number)
            if old.exists() and number >= self.created:
                old.rename(old.with_name(f"{old.name}.attempt-0"))
        return out

    # ----------------------------------------------------------------------------- running

    def next_trial(self) -> Started:
        """The next trial of the plan. Grid and random trials are known in advance and enter
        the study in one write when they start (:meth:`started`); bayes trials are asked from
        TPE now (RUNNING in the study from here on)."""
        fixed = None if self.waiting else self.plan.fixed_params(self.created)
        if fixed is not None:
            values = self.plan.values(fixed)
            return Started(self.created, values, self.plan.arguments(values),
                           trial_dir(self.dir, self.created), params=fixed)
        trial = self.study.ask(self.plan.space())
        self._ids[trial.number] = trial._trial_id
        if trial.number in self.waiting:
            self.waiting.remove(trial.number)
        else:
            self.created += 1
        values = self.plan.values(trial.params)
        return Started(trial.number, values, self.plan.arguments(values), trial_dir(self.dir, trial.number))

    def started(self, st: Started, info: dict[str, Any]) -> None:
        """Record that ``st`` runs (its pid etc. in ``info``): one write to the storage."""
        from optuna.trial import FrozenTrial, TrialState

        run = dict(info, started=time.time())
        if st.params is None or st.rerun is not None:  # asked from TPE, or a re-run: in the study already
            self.study._storage.set_trial_user_attr(
                self._trial_id(st.number), "trial", {"values": st.values, "args": st.args, "run": run})
            return
        # values and arguments live in the "trial" attribute; Optuna params (and their
        # distributions, a 200-value grid's each time) would only serve a sampler, and grid and
        # random trials are decided without one
        template = FrozenTrial(
            number=-1, state=TrialState.RUNNING, value=None,
            datetime_start=_dt.datetime.now(), datetime_complete=None,
            params={}, distributions={},
            user_attrs={"trial": {"values": st.values, "args": st.args, "run": run}},
            system_attrs={}, intermediate_values={}, trial_id=-1,
        )
        tid = self.study._storage.create_new_trial(self.study._study_id, template_trial=template)
        number = self.study._storage.get_trial_number_from_id(tid)
        if number != st.number:
            raise SpecError(f"{self.dir}: the sweep's Optuna storage is out of step (trial {number} "
                            f"recorded as plan trial {st.number}); was it changed by another program?")
        self._ids[number] = tid
        self.created += 1

    def interrupted(self, numbers: list[int]) -> None:
        for n in numbers:
            tid = self._trial_id(n)
            info = dict(self.study._storage.get_trial(tid).user_attrs.get("trial") or {})
            info["run"] = dict(info.get("run") or {}, interrupted=True)
            self.study._storage.set_trial_user_attr(tid, "trial", info)

    def finish(self, number: int, result: dict[str, Any], value: float | None) -> str:
        """Record a trial's end; ``complete`` when it gave a finite metric, else ``failed``.

        Bayes trials end through ``study.tell`` (the sampler hears of it); grid and random
        ones with two direct storage writes, which is most of a trivial trial's overhead saved.
        """
        from optuna.trial import TrialState

        tid = self._trial_id(number)
        storage = self.study._storage
        storage.set_trial_user_attr(tid, "result", result)
        ok = value is not None and math.isfinite(value)
        if self.plan.method == "bayes":
            if ok:
                self.study.tell(number, value)
            else:
                self.study.tell(number, state=TrialState.FAIL)
        else:
            storage.set_trial_state_values(tid, TrialState.COMPLETE if ok else TrialState.FAIL,
                                           [float(value)] if ok and value is not None else None)
        return "complete" if ok else "failed"

    def _trial_id(self, number: int) -> int:
        if number not in self._ids:
            self._ids = {t.number: t._trial_id for t in self.trials()}
        return self._ids[number]
