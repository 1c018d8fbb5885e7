"""The sweep directory and its Optuna study: the one place a sweep's progress is kept.

``SWEEP_DIR/sweep.json`` names the sweep (id, spec hash, seed, storage); the Optuna storage
(SQLite ``SWEEP_DIR/optuna.db`` by default, or any Optuna storage URL) holds one Optuna trial
per sweep trial, numbered as the plan numbers them. A trial is RUNNING from the moment it is
handed to an engine until its outcome is told (COMPLETE with the metric, or FAIL; see
:data:`NO_METRIC_VALUE` for a sweep without a metric). Per-trial
facts (arguments, pid, exit status, output tail, reruns) are Optuna user attributes, so one
storage is the whole truth and a shared database serves a sweep that moves between machines.

Every planned trial ends exactly once. Local trials run in their own sessions, so they
outlive a controller that is SIGKILLed, and each runs under a tiny wrapper
(:func:`trial_command`, :mod:`~config_utils.sweep.engines.local_wrapper`) that writes how the
program ended (its exit status, or the signal that killed it) to ``RUN_DIR/exit.json``. The
next controller (:meth:`SweepState.recover`) therefore knows, for every trial left RUNNING in
the study, which of three things happened:

- its process is still alive: it is *adopted* and waited for (with its ``--timeout`` counted
  from its real start), never started a second time;
- it ended while no controller watched it: its exit status (``exit.json``) and metrics are
  read from its run directory and recorded, as if the controller had seen it end;
- it never finished (stopped by Ctrl-C, or killed with the controller): it runs again, and
  ``reruns`` says why.

Everything read back from the directory is validated: a bad ``sweep.json``, a storage that
is not an Optuna database, a read-only directory or a full disk is one line naming the file
and what to do (:class:`StateError`), never a traceback.
"""

from __future__ import annotations

import datetime as _dt
import functools
import json
import math
import os
import re
import secrets
import select
import signal
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeGuard, TypeVar

from ..atomic import write_atomic
from ..errors import ConfigError
from ..knobs import parse_number
from ..readers import ReadProblem, load_json, read_text
from .engines import OUTPUT_FILE, Outcome, group_alive, hostname, kill_group, tail, trial_env_of
from .engines.local_wrapper import EXIT_FILE, WRAPPER_FILE
from .plan import Plan
from .spec import SpecError

if TYPE_CHECKING:
    import optuna

SWEEP_FILE = "sweep.json"
FORMAT = "flows-workspace/sweep"
TRIALS_DIR = "trials"
LOCK_FILE = ".lock"
DB_FILE = "optuna.db"
SEED_MAX = 2**32 - 1
"""Seeds go to numpy's generator through Optuna's TPE sampler, which takes 0 .. 2**32 - 1."""

NO_METRIC_VALUE = math.inf
"""The value of a COMPLETE trial of a sweep whose spec has no metric (grid and random may
leave it out, as in W&B): such a trial completes when its process exits 0. Optuna keeps no
COMPLETE trial without a value, so it gets one no real result can have: flow_sweep records a
trial that reports a non-finite metric as failed, never complete. The study says so in its
user attribute :data:`NO_METRIC_ATTR`, and the results show no value."""
NO_METRIC_ATTR = "no_metric"

ORPHAN_POLL = 0.25
"""How often an adopted trial's end is looked for while the engine has trials of its own."""

_FRESH_LEFTOVERS = {LOCK_FILE, DB_FILE, DB_FILE + "-wal", DB_FILE + "-shm", DB_FILE + "-journal",
                    SWEEP_FILE + ".tmp"}
"""What a controller killed while creating a sweep can leave: such a directory is still fresh."""

_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,199}$")
_RESTORE = "restore it from a copy, or start a new sweep with another --sweep-dir"

#: How every local trial starts: the wrapper's interpreter options and file, then the command.
#: ``-I -S``: no site-packages, no PYTHON* variables, so it starts the same in any environment.
_WRAPPER_ARGS = ["-I", "-S", WRAPPER_FILE]


class StateError(ConfigError):
    """The sweep directory or its storage cannot be used as it is; the message names the file
    and what to do."""


def trial_command(command: list[str]) -> list[str]:
    """``command`` under the wrapper that records how it ended in ``$FLOWS_RUN_DIR/exit.json``
    and ends alike (one bare Python start per trial: about 15 ms)."""
    return [sys.executable or "python3", *_WRAPPER_ARGS, *command]


@dataclass
class Started:
    """A trial handed to an engine."""

    number: int
    values: dict[str, Any]
    args: list[str]
    run_dir: Path
    rerun: str | None = None
    params: dict[str, Any] | None = None  # Optuna params of a grid/random trial not yet in the study


@dataclass
class Orphan:
    """A trial a previous controller started and did not see end, adopted by this one."""

    started: Started
    since: float | None  # wall-clock start recorded in the study (None: never recorded)
    pgid: int | None  # its live process group; None when it had ended before this controller
    run_id: str | None = None  # the WANDB_RUN_ID it was started with
    pidfd: int | None = None
    kill_at: float | None = None  # stopped early (hyperband): SIGKILL the group at this time
    gpus: list[str] = field(default_factory=list)  # CUDA_VISIBLE_DEVICES it was given
    claimed: bool = False  # its GPUs taken from the engine's free list while it runs


def trial_dir(sweep_dir: Path, number: int) -> Path:
    return sweep_dir / TRIALS_DIR / f"{number:04d}"


def read_exit_record(run_dir: Path) -> tuple[int | None, str]:
    """``(exit status, problem)`` from a trial's ``exit.json``: ``(None, "")`` when there is
    none, ``(None, why)`` when it is not one (the trial owns its directory and may have
    written anything there). A death by signal N reads as ``-N``, as ``subprocess`` says it;
    ``sys.exit(130)`` reads as 130.

    A record without ``"signal"`` was written by the ``/bin/sh`` wrapper of earlier versions,
    whose status 129 to 159 meant either; it is read as that wrapper meant it (signal N)."""
    path = run_dir / EXIT_FILE
    try:
        data = load_json(read_text(path, limit=4096), where=path)
    except ReadProblem as exc:
        return None, "" if exc.kind == "missing" else str(exc)
    if not isinstance(data, dict):
        return None, f"{path}: not an exit record"
    code, sig = data.get("exit"), data.get("signal")
    if "signal" not in data and _status(code) and 128 < code < 160:
        sig, code = code - 128, None  # the /bin/sh wrapper's 128 + N: it re-raised signal N
    if sig is None and _status(code):
        return code, ""
    if code is None and _status(sig) and sig > 0:
        return -sig, ""
    return None, f"{path}: not an exit record"


def _status(value: Any) -> TypeGuard[int]:
    """An exit status or a signal number as a process reports it: a whole number 0 to 255."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 255


def live_trials(sweep_id: str) -> dict[int, int]:
    """``{trial number: process group}`` of every live process of this host whose environment
    says it is a trial of ``sweep_id`` (``FLOWS_SWEEP_TRIAL``; a recycled pid never matches)."""
    prefix = f"{sweep_id}/trial:"
    found: dict[int, int] = {}
    try:
        pids = [int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit()]
    except OSError:
        return found
    me, mine = os.getpid(), os.getpgid(0)
    for pid in pids:
        tag = trial_env_of(pid) if pid != me else None
        if tag is None or not tag.startswith(prefix) or not tag[len(prefix):].isdigit():
            continue
        try:
            pgid = os.getpgid(pid)
        except ProcessLookupError:
            continue
        if pgid != mine:
            found.setdefault(int(tag[len(prefix):]), pgid)
    return found


def _wrapper_led(pgid: int, tag: str) -> bool:
    """True when process group ``pgid`` is led by :func:`trial_command`'s wrapper of trial
    ``tag``: only such a trial writes ``exit.json`` when it ends, so only it can be waited for.
    (A Ray or SLURM task left behind is killed and its trial run again, as before.)"""
    try:
        argv = Path(f"/proc/{pgid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    head = [a.decode(errors="replace") for a in argv[1:1 + len(_WRAPPER_ARGS)]]
    return head == _WRAPPER_ARGS and trial_env_of(pgid) == tag


# --------------------------------------------------------------------------- errors of the storage


def _storage_problem(exc: BaseException, broad: bool) -> str | None:
    """A one-line reason when ``exc`` comes from the storage or the disk, else None."""
    kinds: list[type[BaseException]] = [OSError]
    try:
        import sqlalchemy.exc

        kinds.append(sqlalchemy.exc.SQLAlchemyError)
    except ImportError:  # pragma: no cover - optuna needs sqlalchemy
        pass
    try:
        from optuna.exceptions import StorageInternalError

        kinds.append(StorageInternalError)
    except ImportError:  # pragma: no cover
        pass
    if broad:  # opening: optuna's own checks of a database that is not one of its own
        kinds += [ValueError, RuntimeError, KeyError, AssertionError]
    if not isinstance(exc, tuple(kinds)):
        return None
    cause: BaseException = exc
    for _ in range(5):  # the driver's own error says most ("database or disk is full")
        nxt = getattr(cause, "orig", None) or cause.__cause__
        if not isinstance(nxt, BaseException) or nxt is cause:
            break
        cause = nxt
    text = (cause.strerror if isinstance(cause, OSError) and cause.strerror else str(cause))
    text = (text.strip().splitlines() or [type(cause).__name__])[0][:200]
    low = text.lower()
    if "full" in low or "no space" in low:
        return f"the disk is full ({text}); free some space, then run the same command again to resume"
    if "readonly" in low or "read-only" in low or "permission" in low or "unable to open" in low:
        return f"cannot be written ({text}); make the sweep directory writable, then run the same command again"
    return f"not a usable Optuna storage ({text}); {_RESTORE}"


@contextmanager
def _storage_errors(where: str, broad: bool = False) -> Iterator[None]:
    try:
        yield
    except ConfigError:
        raise
    except Exception as exc:
        problem = _storage_problem(exc, broad)
        if problem is None:
            raise
        raise StateError(f"{where}: {problem}") from None


_F = TypeVar("_F", bound=Callable[..., Any])


def _guarded(fn: _F) -> _F:
    """Storage and disk errors of a :class:`SweepState` method become one :class:`StateError`."""

    @functools.wraps(fn)
    def wrapper(self: SweepState, *args: Any, **kwargs: Any) -> Any:
        with _storage_errors(self.storage_name):
            return fn(self, *args, **kwargs)

    return wrapper  # type: ignore[return-value]


def storage_url(url: str, sweep_dir: Path) -> str:
    """The URL to open: a relative SQLite path (the default ``sqlite:///optuna.db``) lives in
    the sweep directory, so a sweep directory can be moved or copied and still resumes."""
    if url.startswith("sqlite:///") and not Path(url[len("sqlite:///"):]).is_absolute():
        return f"sqlite:///{(sweep_dir / url[len('sqlite:///'):]).resolve()}"
    return url


def disk_problem(exc: OSError, path: Path) -> None:
    """Raise :class:`StateError` when ``exc`` says the disk is full or read-only: starting a
    trial then fails for every trial alike, and recording each as failed would burn the plan.
    The sweep stops instead; the same command resumes it once the disk is fixed."""
    import errno

    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        raise StateError(f"{path}: the disk is full ({exc.strerror}); free some space, then run the "
                         "same command again to resume") from None
    if exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        raise StateError(f"{path}: cannot be written ({exc.strerror}); make the sweep directory "
                         "writable, then run the same command again") from None


def _storage_name(url: str) -> str:
    return url[len("sqlite:///"):] if url.startswith("sqlite:///") else url


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


# --------------------------------------------------------------------------- the directory


def _lock(sweep_dir: Path, meta: dict[str, Any] | None) -> int:
    """Hold ``SWEEP_DIR/.lock`` while this controller runs, so two controllers never run one
    sweep (the second is refused at once; resume adopts every live trial it finds, so they
    must be orphans). Taken before ``sweep.json`` is read for good or written."""
    import fcntl

    flags = os.O_RDWR | os.O_CREAT | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(sweep_dir / LOCK_FILE, flags, 0o644)
    except OSError as exc:
        raise StateError(f"{sweep_dir}: cannot write in the sweep directory ({exc.strerror or exc}); "
                         "make it writable, or choose another --sweep-dir") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        which = f"sweep {meta['id']}" if meta else "a sweep"
        raise StateError(f"{sweep_dir}: another flow_sweep is running {which} here (it holds "
                         f"{LOCK_FILE}); wait for it to end, or stop it with Ctrl-C") from None
    return fd


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def read_sweep_file(sweep_dir: Path) -> dict[str, Any] | None:
    """``sweep.json`` of ``sweep_dir`` checked field by field (None when there is none)."""
    path = sweep_dir / SWEEP_FILE
    try:
        data = load_json(read_text(path, limit=1 << 20), where=path)
    except ReadProblem as exc:
        if exc.kind == "missing":
            return None
        raise StateError(f"{exc}; {_RESTORE}") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise StateError(f"{path}: not a flow_sweep sweep file; {_RESTORE}")

    def bad(key: str, expected: str) -> StateError:
        got = f"got {_short(data[key])}" if key in data else "it is missing"
        return StateError(f"{path}: {key}: expected {expected}, {got}; {_RESTORE}")

    if not isinstance(data.get("id"), str) or not _ID_RE.match(data["id"]):
        raise bad("id", "the sweep's id (letters, digits, '-', '_', '.')")
    if not isinstance(data.get("spec_hash"), str) or not data["spec_hash"]:
        raise bad("spec_hash", "the hash of the sweep's spec")
    seed = data.get("seed")
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= SEED_MAX:
        raise bad("seed", f"a whole number from 0 to {SEED_MAX}")
    if not isinstance(data.get("storage"), str) or not data["storage"].strip():
        raise bad("storage", "an Optuna storage URL")
    planned = data.get("planned")
    if planned is not None and (isinstance(planned, bool) or not isinstance(planned, int) or planned < 1):
        raise bad("planned", "a positive whole number or null")
    return data


def resolve_seed(sweep_dir: Path, seed: int | None) -> int:
    """The sweep's seed: the stored one when resuming, else ``seed``, else a fresh one."""
    if seed is not None:
        seed = parse_number(seed, knob="--seed", integer=True, minimum=0, maximum=SEED_MAX)
    existing = read_sweep_file(sweep_dir) if sweep_dir.is_dir() else None
    if existing is not None:
        stored: int = existing["seed"]
        if seed is not None and seed != stored:
            raise SpecError(f"{sweep_dir}: this sweep runs with --seed {stored}; resume it without "
                            f"--seed or with --seed {stored}, or start a new one with --sweep-dir")
        return stored
    return seed if seed is not None else secrets.randbelow(2**31)


def _check_fresh(sweep_dir: Path) -> None:
    """A new sweep goes only into a missing or empty directory (or one a killed controller
    left while creating a sweep): never into someone's files."""
    if not sweep_dir.exists():
        return
    if not sweep_dir.is_dir():
        raise StateError(f"{sweep_dir}: exists and is not a directory; choose another --sweep-dir")
    try:
        names = {p.name for p in sweep_dir.iterdir()}
    except OSError as exc:
        raise StateError(f"{sweep_dir}: cannot be listed ({exc.strerror or exc}); choose another "
                         "--sweep-dir") from None
    if names - _FRESH_LEFTOVERS:
        raise SpecError(f"{sweep_dir}: exists and is not a sweep directory; not touching it "
                        "(choose another --sweep-dir)")


class SweepState:
    """The sweep directory plus its Optuna study, opened for one controller."""

    def __init__(self, sweep_dir: Path, meta: dict[str, Any], study: optuna.Study, plan: Plan) -> None:
        self.dir = sweep_dir
        self.meta = meta
        self.id: str = meta["id"]
        self.storage_name = _storage_name(storage_url(meta["storage"], sweep_dir))
        self.study = study
        self.plan = plan
        with _storage_errors(self.storage_name, broad=True):
            trials = study.get_trials(deepcopy=False)
        self.created = len(trials)
        self.waiting = sorted(t.number for t in trials if t.state.name == "WAITING")
        self._ids = {t.number: t._trial_id for t in trials}
        self._lock: int | None = None
        self.orphans: dict[int, Orphan] = {}  # adopted by recover(), ended through Adopting

    # ----------------------------------------------------------------------------- opening

    @classmethod
    def open(cls, sweep_dir: Path, plan: Plan, storage: str | None = None) -> SweepState:
        """Create the sweep in ``sweep_dir``, or resume the one there (same spec only)."""
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        meta = read_sweep_file(sweep_dir) if sweep_dir.is_dir() else None
        if meta is None:
            _check_fresh(sweep_dir)
            try:
                sweep_dir.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StateError(f"{sweep_dir}: cannot create the sweep directory ({exc.strerror or exc}); "
                                 "choose another --sweep-dir") from None
        lock = _lock(sweep_dir, meta)
        try:
            meta = read_sweep_file(sweep_dir)  # again, now that no other controller can write it
            if meta is None:
                _check_fresh(sweep_dir)
                meta, study = cls._create(sweep_dir, plan, storage)
            else:
                study = cls._load(sweep_dir, meta, plan, storage)
            state = cls(sweep_dir, meta, study, plan)
        except BaseException:
            os.close(lock)
            raise
        state._lock = lock
        return state

    @staticmethod
    def _create(sweep_dir: Path, plan: Plan, storage: str | None) -> tuple[dict[str, Any], optuna.Study]:
        """The study first, ``sweep.json`` last: a sweep file always names a study that exists."""
        import optuna

        spec = plan.checked.spec
        base = spec.name or spec.path.stem
        stem = "".join(c if c.isalnum() or c in "-_" else "-" for c in base)[:60].strip("-_") or "sweep"
        meta: dict[str, Any] = {
            "format": FORMAT, "version": 1,
            "id": f"{stem}-{secrets.token_hex(3)}",
            "spec": str(spec.path.resolve()), "spec_hash": spec.digest(),
            "program": str(spec.program_path), "method": spec.method,
            "metric": spec.metric, "goal": spec.goal if spec.metric else None, "seed": plan.seed,
            "planned": plan.planned,
            "storage": storage or f"sqlite:///{DB_FILE}",  # relative: in the sweep directory
            "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        }
        direction: Literal["minimize", "maximize"] = "maximize" if spec.goal == "maximize" else "minimize"
        url = storage_url(meta["storage"], sweep_dir)
        with _storage_errors(_storage_name(url), broad=True):
            study = optuna.create_study(storage=_sqlite_storage(url), study_name=meta["id"],
                                        direction=direction, sampler=plan.sampler())
            if spec.metric is None:  # before sweep.json names the study: it says so from the start
                study.set_user_attr(NO_METRIC_ATTR, (
                    f"the spec has no metric: a trial is COMPLETE when its process exits 0, and its value "
                    f"{NO_METRIC_VALUE} only stands in for the value Optuna requires; it is no result"))
        with _storage_errors(str(sweep_dir / SWEEP_FILE)):
            write_atomic(sweep_dir / SWEEP_FILE, json.dumps(meta, indent=2) + "\n")
        return meta, study

    @staticmethod
    def _load(sweep_dir: Path, meta: dict[str, Any], plan: Plan, storage: str | None) -> optuna.Study:
        """The sweep's own study, or one line: never a new, empty study in place of a lost one
        (every trial would run again) and never another sweep's study."""
        import optuna

        spec = plan.checked.spec
        path = sweep_dir / SWEEP_FILE
        url = storage_url(meta["storage"], sweep_dir)
        if meta["spec_hash"] != spec.digest():
            raise SpecError(f"{sweep_dir}: holds sweep {meta['id']} of another spec (the spec, its "
                            "program path or method changed since); use a new --sweep-dir")
        if storage is not None and storage not in (meta["storage"], url):
            raise SpecError(f"{sweep_dir}: sweep {meta['id']} keeps its state in {meta['storage']}, not {storage}")
        if url.startswith("sqlite:///"):
            db = Path(_storage_name(url))
            if not db.is_file():
                raise StateError(f"{path}: storage: the database {db} does not exist (moved or deleted?); "
                                 f"{_RESTORE}")
            own = (sweep_dir / DB_FILE).resolve()
            if db.resolve() != own and (db.parent / SWEEP_FILE).exists():
                raise StateError(f"{path}: storage: {db} is another sweep's database, not this "
                                 f"directory's {DB_FILE}; {_RESTORE}")
        with _storage_errors(_storage_name(url), broad=True):
            store = _sqlite_storage(url)
            try:
                store.get_study_id_from_name(meta["id"])
            except KeyError:
                raise StateError(f"{path}: storage: {_storage_name(url)} holds no sweep {meta['id']} (it "
                                 f"belongs to another sweep, or was replaced); {_RESTORE}") from None
            return optuna.load_study(study_name=meta["id"], storage=store, sampler=plan.sampler())

    def close(self) -> None:
        """Release the sweep directory's lock."""
        if self._lock is not None:
            os.close(self._lock)
            self._lock = None

    # ----------------------------------------------------------------------------- queries

    @_guarded
    def trials(self) -> list[optuna.trial.FrozenTrial]:
        return self.study.get_trials(deepcopy=False)

    def finished(self) -> int:
        return sum(1 for t in self.trials() if t.state.name in ("COMPLETE", "FAIL"))

    def remaining_to_ask(self) -> int:
        if self.plan.planned is None:  # no run_cap, no --count: until Ctrl-C
            return 1
        return max(0, self.plan.planned - (self.created - len(self.waiting)))

    # ----------------------------------------------------------------------------- resuming

    @_guarded
    def recover(self) -> list[Started]:
        """Settle every trial a previous controller left RUNNING; return those to run again.

        A trial still alive on this host is adopted (:attr:`orphans`; the controller waits
        for it through :class:`Adopting`), one that ended with an exit record is adopted as
        ended, and only one that never finished runs again, its ``reruns`` saying why. A
        grid/random trial started just before the controller died, not yet in the study, is
        found by its process or its run directory and treated the same way.
        """
        live = live_trials(self.id)
        out: list[Started] = []
        for t in self.trials():
            if t.state.name != "RUNNING":
                continue
            info = t.user_attrs.get("trial") or {}
            run = info.get("run") or {}
            values = info.get("values")
            if values is None:  # asked from TPE, and the controller died before recording
                values = self.plan.values(t.params) if t.params else self.plan.values(
                    self.plan.fixed_params(t.number) or {})
            args = info.get("args") or self.plan.arguments(values)
            run_dir = trial_dir(self.dir, t.number)
            st = Started(t.number, values, list(args), run_dir)
            pgid = live.pop(t.number, None)
            killed = ""
            if pgid is not None and not _wrapper_led(pgid, f"{self.id}/trial:{t.number}"):
                kill_group(pgid)
                killed, pgid = f"; its process group {pgid} was killed", None
            code, problem = read_exit_record(run_dir) if pgid is None else (None, "")
            if pgid is not None or code is not None:
                self._adopt(st, run, pgid)
                continue
            if run.get("interrupted"):
                reason = "interrupted (Ctrl-C)" + killed
            else:
                reason = ("the sweep process ended while it ran, and the trial did not finish ("
                          + (problem or f"no {EXIT_FILE} in its run directory") + ")" + killed)
            reruns = list(t.user_attrs.get("reruns", [])) + [reason]
            self.study._storage.set_trial_user_attr(t._trial_id, "reruns", reruns)
            if run_dir.exists():
                run_dir.rename(run_dir.with_name(f"{run_dir.name}.attempt-{len(reruns)}"))
            out.append(Started(t.number, values, list(args), run_dir, rerun=reason))
        self._recover_unrecorded(live)
        for pgid in set(live.values()):  # processes of this sweep that no planned trial claims
            kill_group(pgid)
        return out

    def _recover_unrecorded(self, live: dict[int, int]) -> None:
        n = self.created
        if self.waiting or (self.plan.planned is not None and n >= self.plan.planned):
            return
        run_dir = trial_dir(self.dir, n)
        pgid = live.pop(n, None)
        if pgid is not None and not _wrapper_led(pgid, f"{self.id}/trial:{n}"):
            kill_group(pgid)
            pgid = None
        if pgid is None and read_exit_record(run_dir)[0] is None:
            if run_dir.exists():  # it died with the controller: its next run starts clean
                run_dir.rename(run_dir.with_name(f"{run_dir.name}.attempt-0"))
            return
        fixed = self.plan.fixed_params(n)
        if fixed is None:
            return
        values = self.plan.values(fixed)
        st = Started(n, values, self.plan.arguments(values), run_dir, params=fixed)
        self.started(st, {"pid": pgid, "pgid": pgid, "host": hostname(), "unrecorded": True})
        self._adopt(st, {}, pgid)

    def _adopt(self, st: Started, run: dict[str, Any], pgid: int | None) -> None:
        note = ("still running when the sweep resumed: waited for, not run again" if pgid is not None else
                "ended while no sweep process ran: exit status and metrics taken from its run directory")
        self.study._storage.set_trial_user_attr(self._trial_id(st.number), "adopted", note)
        since = run.get("started")
        gpus = run.get("gpus") if pgid is not None else None
        orphan = Orphan(st, float(since) if isinstance(since, (int, float)) else None, pgid,
                        run.get("wandb_run_id") if isinstance(run.get("wandb_run_id"), str) else None,
                        gpus=[str(g) for g in gpus] if isinstance(gpus, list) else [])
        if pgid is not None:
            try:
                orphan.pidfd = os.pidfd_open(pgid)
            except (AttributeError, OSError):  # the wrapper (group leader) has ended already
                orphan.pidfd = None
            if orphan.pidfd is not None and trial_env_of(pgid) != f"{self.id}/trial:{st.number}":
                os.close(orphan.pidfd)  # the leader is gone and its pid reused: not ours
                orphan.pidfd = None
        self.orphans[st.number] = orphan

    def adopting(self, engine: Any, timeout: float | None) -> Adopting:
        """``engine`` plus the trials :meth:`recover` adopted."""
        return Adopting(engine, self, timeout)

    # ----------------------------------------------------------------------------- running

    @_guarded
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

    @_guarded
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
            raise StateError(f"{self.storage_name}: the sweep's Optuna storage is out of step (trial {number} "
                             f"recorded as plan trial {st.number}); was it changed by another program? "
                             f"{_RESTORE}")
        self._ids[number] = tid
        self.created += 1

    @_guarded
    def interrupted(self, numbers: list[int]) -> None:
        for n in numbers:
            tid = self._trial_id(n)
            info = dict(self.study._storage.get_trial(tid).user_attrs.get("trial") or {})
            info["run"] = dict(info.get("run") or {}, interrupted=True)
            self.study._storage.set_trial_user_attr(tid, "trial", info)

    @_guarded
    def finish(self, number: int, result: dict[str, Any], value: float | None) -> str:
        """Record a trial's end; ``complete`` when it gave a finite metric (without a metric in
        the spec: when ``result`` has no error, its value then :data:`NO_METRIC_VALUE`), else
        ``failed``.

        Bayes trials end through ``study.tell`` (the sampler hears of it); grid and random
        ones with two direct storage writes, which is most of a trivial trial's overhead saved.
        What the trial wrote (its error, output tail, metric names) is bounded first: a trial
        is data, and one 50 MB output line must not become a 50 MB cell of the study.
        """
        from optuna.trial import TrialState

        from .results import bounded_result

        tid = self._trial_id(number)
        storage = self.study._storage
        storage.set_trial_user_attr(tid, "result", bounded_result(result, self.plan.checked.spec.metric))
        if self.plan.checked.spec.metric is None:  # grid or random (the spec refuses bayes)
            ok, value = not result.get("error"), NO_METRIC_VALUE
        else:
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


class Adopting:
    """An engine plus the trials a previous controller left behind (:attr:`SweepState.orphans`).

    The controller's loop sees one engine: adopted trials count as running, take slots, and
    end through :meth:`poll` like the engine's own (their outcome read from ``exit.json``, the
    output tail and the metrics in their run directory). ``--timeout`` counts from their real
    start; Ctrl-C stops them with the rest.
    """

    def __init__(self, inner: Any, state: SweepState, timeout: float | None) -> None:
        self.inner = inner
        self.state = state
        self.timeout = timeout
        self.name = getattr(inner, "name", "")
        self.host = hostname()

    def __getattr__(self, name: str) -> Any:  # slots, stop_trial, ... of the engine
        return getattr(self.inner, name)

    @property
    def orphans(self) -> dict[int, Orphan]:
        return self.state.orphans

    def _claim(self) -> None:
        """An adopted trial keeps its GPUs: the engine must not hand them to a new trial."""
        free = getattr(self.inner, "gpus_free", None)
        for o in self.orphans.values():
            if not o.claimed and isinstance(free, list):
                for g in o.gpus:
                    if g in free:
                        free.remove(g)
                o.claimed = True

    def free_slots(self) -> int:
        self._claim()
        free = self.inner.free_slots()  # counts the free GPUs (the adopted trials' are out)
        slots = getattr(self.inner, "slots", None)
        if isinstance(slots, int):
            return max(0, min(free, slots - len(self.inner.running()) - len(self.orphans)))
        return max(0, free - len(self.orphans))

    def start(self, job: Any) -> dict[str, Any]:
        return self.inner.start(job)  # type: ignore[no-any-return]

    def running(self) -> list[int]:
        return list(self.inner.running()) + list(self.orphans)

    def stop_trial(self, number: int, grace: float) -> None:
        """Early termination of an adopted trial as of the engine's own: SIGTERM to its process
        group now, SIGKILL after ``grace`` seconds; its outcome comes with ``stopped`` set."""
        o = self.orphans.get(number)
        if o is None:
            self.inner.stop_trial(number, grace)
            return
        if o.pgid is None or o.kill_at is not None:
            return
        o.kill_at = time.monotonic() + grace
        try:
            os.killpg(o.pgid, signal.SIGTERM)
        except (ProcessLookupError, PermissionError):
            pass

    def poll(self, timeout: float) -> list[Outcome]:
        if not self.orphans:
            return self.inner.poll(timeout)  # type: ignore[no-any-return]
        done = self._ended()
        if self.inner.running():
            return done + self.inner.poll(0 if done else min(timeout, ORPHAN_POLL)) + (
                [] if done else self._ended())
        if not done:
            self._wait(timeout)
            done = self._ended()
        return done

    def _wait(self, timeout: float) -> None:
        fds = [o.pidfd for o in self.orphans.values() if o.pidfd is not None]
        limits = [timeout]
        if self.timeout is not None:
            now = time.time()
            limits += [max(0.0, o.since + self.timeout - now) + 0.01 for o in self.orphans.values()
                       if o.since is not None and o.pgid is not None]
        limits += [max(0.0, o.kill_at - time.monotonic()) + 0.01 for o in self.orphans.values()
                   if o.kill_at is not None]
        wait = min(limits)
        if len(fds) == len([o for o in self.orphans.values() if o.pgid is not None]) and fds:
            select.select(fds, [], [], wait)
        else:
            time.sleep(min(wait, 0.05))

    @staticmethod
    def _leader_alive(o: Orphan) -> bool:
        if o.pidfd is None:
            return False
        return not select.select([o.pidfd], [], [], 0)[0]

    def _ended(self) -> list[Outcome]:
        out: list[Outcome] = []
        now = time.time()
        for n, o in list(self.orphans.items()):
            timed_out = False
            if o.pgid is not None and o.kill_at is not None:
                if self._leader_alive(o) and time.monotonic() < o.kill_at:
                    continue
                kill_group(o.pgid, grace=0.0)
            elif o.pgid is not None:
                if (self.timeout is not None and o.since is not None and now - o.since > self.timeout
                        and self._leader_alive(o)):
                    kill_group(o.pgid)
                    timed_out = True
                elif self._leader_alive(o):
                    continue
                elif group_alive(o.pgid):
                    kill_group(o.pgid, grace=0.5)  # what the program left behind
            out.append(self._outcome(o, timed_out))
            self._forget(n)
        return out

    def _outcome(self, o: Orphan, timed_out: bool) -> Outcome:
        run_dir = o.started.run_dir
        code, problem = (None, "") if timed_out else read_exit_record(run_dir)
        end = time.time()
        if o.pgid is None:
            try:
                end = (run_dir / EXIT_FILE).stat().st_mtime
            except OSError:
                pass
        seconds = max(0.0, end - o.since) if o.since is not None else 0.0
        error = None
        if code is None and not timed_out:
            error = problem or f"it ended while no sweep process watched it, without an exit record ({EXIT_FILE})"
        stopped = o.kill_at is not None
        if stopped:
            error = None
        return Outcome(o.started.number, code, seconds, tail(run_dir / OUTPUT_FILE), timed_out=timed_out,
                       stopped=stopped, node=self.host, error=error)

    def _forget(self, n: int) -> None:
        o = self.orphans.pop(n)
        free = getattr(self.inner, "gpus_free", None)
        if o.claimed and isinstance(free, list):
            free.extend(g for g in o.gpus if g not in free)
        if o.pidfd is not None:
            os.close(o.pidfd)
            o.pidfd = None

    def stop(self) -> None:
        """Stop the engine's trials and the adopted ones (Ctrl-C); they run again on resume."""
        self.inner.stop()
        for n, o in list(self.orphans.items()):
            if o.pgid is not None:
                kill_group(o.pgid)
            self._forget(n)

    def close(self) -> None:
        self.inner.close()
        for n, o in list(self.orphans.items()):
            if o.pgid is not None:
                kill_group(o.pgid)
            self._forget(n)
