"""On-the-fly control (OFC): steer settings of a running job by editing a file.

Why it is built this way:

* The training loop calls :meth:`OFC.update` every step, so the unchanged path must cost next
  to nothing (≤ 2 µs; prefigure re-parses its ini on every call, ~940 µs). A daemon thread
  therefore watches the file (a ``stat`` every ``poll_interval`` seconds), reads, parses and
  type-checks a new version *off the hot path*, and stages the accepted changes;
  ``update()`` only tests a flag and, when set, applies the staged changes in the caller's
  thread, so every change happens at a well-defined step.
* The file is the single source of truth (the GUI writes it too, through :meth:`OFC.submit`),
  in the one ini dialect (:mod:`config_utils.ini`), so every value reads back exactly as
  written. The protocol and what it guarantees (completeness, atomicity, concurrent writers,
  resource bounds) are in ``docs/ofc-protocol.md``: in short, only a regular file of at most
  :data:`MAX_FILE_BYTES` is read, never blocking; a version applies once it has been identical
  at two consecutive polls, ends with a line break and lists every steerable key, so a write
  cut short never applies; a GUI submit never undoes a file edit it has not seen.
* Edits go through the same typed conversion as the ini layer
  (:func:`config_utils.convert.convert`). A bad value, an unknown key or an edit of a key
  that is not steerable is rejected alone, reported once with the key, the file and the line;
  the other edits of the same save apply and the run continues with the old value of the
  rejected key. Reports are :class:`OFCWarning` warnings, or log records on the
  ``config_utils.ofc`` logger when warnings are turned into errors (``python -W error``):
  nothing the watcher meets reaches the training loop, and edits are applied before anything
  is reported.
* Every applied change is recorded: :attr:`OFC.history`, a JSON-lines file next to the OFC
  file, the provenance of the leaf (``ofc:step=N`` or ``ofc:gui:step=N``), optional W&B
  logging as ``args/<key>``, and per-key callbacks (:meth:`OFC.on_change`).
* Under ``torch.distributed`` with world size > 1, rank 0 reads the file and broadcasts the
  changes (:mod:`config_utils.ofc.distributed`); every rank applies the same change at the same
  step, so ``update()`` must be called at the same steps on every rank.

An existing file at ``ofc_file`` is only replaced when it is an OFC file for this config (it
carries the header this module writes, or it is a prefigure-style file whose only section is
``[OFC]`` and whose keys all belong to the config), and no other live OFC in this process or
another live process on this host owns it. By default the file is rewritten from the config
you pass (it describes *this* run); with ``adopt_existing=True`` the values already in the file
are applied first (resuming a steered run), recorded in the history like any edit.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as _dt
import enum
import errno
import json
import logging
import os
import socket
import stat
import sys
import threading
import time
import warnings
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path, PurePath
from typing import Any

from .. import ini
from ..atomic import discard, stage, write_atomic
from ..convert import convert, format_value, same_value, shown
from ..errors import ConfigError, OFCError, did_you_mean
from ..provenance import record as _record_provenance
from ..rank import process_rank
from ..tree import get_path, leaf_types, primitive, set_path
from ..types import describe_type, is_variant_field
from .writers import WriteWatch

__all__ = ["HEADER", "MAX_FILE_BYTES", "OFC", "OFCWarning", "SECTION", "read_file_text", "report"]

SECTION = "OFC"
HEADER = "# flows-workspace on-the-fly control (OFC) file"
_OWNER_TAG = "owner:"
_RECENT_MTIME_S = 2.0  # file timestamps are coarse (one kernel tick): re-read recent files
# A version saved this soon after a page submit, still holding the submitted keys' values from
# before the submit, was written from the file as it was before the submit (see poll()).
STALE_WRITE_S = 1.0
# An OFC file holds a few keys; anything bigger is not one (and is never read whole).
MAX_FILE_BYTES = 1024 * 1024
_HEADER_LINES = (
    HEADER[2:],
    "Edit a value and save: the running job applies it at its next update().",
    "Values are type-checked; a bad one is rejected with a warning, the old value stays.",
    "Only the keys below can be steered. Text after ' #' is a comment: quote a value that "
    "holds ' #'.",
    "A version is applied once it ends with a line break and holds every key below.",
)
log = logging.getLogger("config_utils.ofc")


def report(message: str, *, stacklevel: int = 2) -> None:
    """Tell the person steering the run about a rejected edit, without ever raising.

    Normally an :class:`OFCWarning` (visible, filterable, testable with ``pytest.warns``).
    When warning filters turn it into an exception (``python -W error``), the message goes to
    the ``config_utils.ofc`` logger instead: nothing the watcher meets may reach the training
    loop.
    """
    try:
        warnings.warn(message, OFCWarning, stacklevel=stacklevel + 1)
    except Exception:  # noqa: BLE001 - a filter turned the warning into an error
        log.warning("%s", message)
_modules = sys.modules

# Live OFC objects by resolved file path, so two in one process cannot fight over a file.
_OPEN_FILES: dict[str, OFC] = {}
_OPEN_LOCK = threading.Lock()


class OFCWarning(UserWarning):
    """An OFC edit was rejected (or a callback failed); the run goes on with the old value."""


@dataclasses.dataclass(frozen=True)
class Change:
    """One applied change, as kept in :attr:`OFC.history` and the JSON-lines history file."""

    time: str
    step: int
    key: str
    old: Any
    new: Any
    source: str  # "file" | "gui" | "resume"
    user: str | None = None  # who submitted it from the page, when the page has a login

    def to_json(self) -> dict[str, Any]:
        """The history line: values as the house's one serializer writes them
        (:func:`config_utils.tree.primitive`; a non-finite float is JSON's ``NaN``/``Infinity``,
        which Python's ``json`` reads back)."""
        out = {
            "time": self.time,
            "step": self.step,
            "key": self.key,
            "old": primitive(self.old),
            "new": primitive(self.new),
            "source": self.source,
        }
        if self.user:
            out["user"] = self.user
        return out

    @property
    def origin(self) -> str:
        """Where the change came from, as people say it: ``file``, ``page``, ``page, ann``."""
        # not imported at the top: ``python -m config_utils.ofc.plot`` must not find its
        # module already loaded
        from .plot import describe_origin

        return describe_origin(self.source, self.user)


def _namespace_type(value: Any) -> Any:
    """Type of a Namespace entry, from its current value (legacy configs declare no types)."""
    if value is None:
        return Any
    if isinstance(value, (bool, int, float, str, PurePath, enum.Enum)):
        return type(value)
    if isinstance(value, (list, tuple)):
        kinds = {type(v) for v in value}
        if len(kinds) == 1 and next(iter(kinds)) in (bool, int, float, str):
            elem = next(iter(kinds))
            return list[elem] if isinstance(value, list) else tuple[elem, ...]  # type: ignore[valid-type]
        return type(value)
    return Any


def _never() -> bool:
    return False


def _open_append(path: Path) -> int:
    """A non-blocking append handle on the regular file ``path`` (created if missing);
    :class:`OSError` for anything else there (a FIFO, a directory)."""
    flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_NONBLOCK", 0)
    flags |= getattr(os, "O_CLOEXEC", 0)
    fd = os.open(path, flags, 0o644)
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise OSError(f"{path} is not a regular file")
    return fd


def _append(path: Path, text: str) -> str | None:
    """Append ``text`` to the regular file ``path`` (created if missing) without ever blocking
    (a FIFO put there) or raising; the problem as text, None when written."""
    try:
        fd = _open_append(path)
        try:
            os.write(fd, text.encode("utf-8"))
        finally:
            os.close(fd)
    except OSError as exc:
        return str(exc)
    return None


def record_metrics(
    values: Mapping[str, float], step: int | None = None, *, written: Path | None = None
) -> None:
    """Hand reported metrics to every live OFC of this process (for its live plot).

    Called by :func:`config_utils.report`; ``written`` is the metrics file ``report`` already
    appended to (a sweep trial's), so an OFC whose metrics file it is gets no second line.
    """
    with _OPEN_LOCK:
        live = [o for o in _OPEN_FILES.values() if not o._closed]
    for ofc in live:
        if written is not None and ofc.metrics_file == written.absolute():
            continue
        ofc.record_metrics(values, step)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


_RENAME_EXCHANGE = 2
_renameat2: Any = None


def _exchange(tmp: str, path: Path) -> bool:
    """Swap ``tmp`` and ``path`` in one step (Linux ``renameat2(RENAME_EXCHANGE)``): ``path``
    gets the new text and ``tmp`` what ``path`` held at that instant, so a version another
    writer saved a moment before is not destroyed but handed back. False where the system
    cannot (the caller then renames over ``path``)."""
    global _renameat2
    if _renameat2 is None:
        _renameat2 = False
        if sys.platform.startswith("linux"):
            import ctypes

            fn = getattr(ctypes.CDLL(None, use_errno=True), "renameat2", None)
            if fn is not None:
                fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
                _renameat2 = fn
    if not _renameat2 or not path.exists():
        return False
    at_cwd = -100
    return bool(_renameat2(at_cwd, os.fsencode(tmp), at_cwd, os.fsencode(path), _RENAME_EXCHANGE) == 0)


class FileProblem(Exception):
    """The OFC path holds nothing readable as an OFC file version (FIFO, device, too big)."""


def read_file_text(path: Path) -> str:
    """The text of the OFC file: a regular file of at most :data:`MAX_FILE_BYTES`, UTF-8,
    read by the house's one bounded reader (:func:`config_utils.readers.read_text`: opened
    non-blocking, checked to be a regular file before a byte is read, never more than the
    limit). Raises :class:`FileNotFoundError` when there is no file and :class:`FileProblem`
    (one line) for anything else that is not an OFC file version.
    """
    from ..readers import ReadProblem, read_text

    try:
        return read_text(path, limit=MAX_FILE_BYTES)
    except ReadProblem as exc:
        if exc.kind == "missing":
            raise FileNotFoundError(errno.ENOENT, "no such file", str(path)) from None
        raise FileProblem(f"{path}: {exc.detail}; ignored") from None


def _signature(path: Path) -> tuple[int, int, int, int] | None:
    """What changes when a file is written or replaced (None: no file)."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_ino, st.st_mtime_ns, st.st_size, st.st_ctime_ns)


def _is_continuation(line: str) -> bool:
    """An indented, non-blank, non-comment line: the ini dialect joins it to the key above."""
    stripped = line.strip()
    return bool(stripped) and line[:1].isspace() and stripped[0] not in "#;"


def _file_kind(mode: int) -> str:
    for test, name in (
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISSOCK, "a socket"),
    ):
        if test(mode):
            return name
    return "not a regular file"


@dataclasses.dataclass
class _Parsed:
    """An OFC file version: key → (raw text, line number), plus what was wrong with it.

    ``rejected``: keys whose lines cannot be trusted (set twice): present, but not applied.
    ``terminated``: the text ends with a line break (see :func:`OFC.poll` for why it matters).
    """

    entries: dict[str, tuple[str, int]]
    problems: list[str]
    sections: list[str]
    owner: str | None
    has_header: bool
    rejected: set[str] = dataclasses.field(default_factory=set)
    terminated: bool = True


def parse_text(text: str, where: str) -> _Parsed:
    """Read an OFC file version with the one ini dialect (:mod:`config_utils.ini`).

    ``key = value`` lines under ``[OFC]`` (keys exactly as the config names them),
    ``#``/``;`` comment lines, `` #`` inline comments outside quotes. Problems concern one
    line each and never stop the other keys: a key set twice is rejected (both lines named),
    a line that is not ``key = value`` or a section other than ``[OFC]`` is reported.
    """
    doc = ini.read_ini(
        text, source=where, top_sections=(SECTION,), strict=False, dashes_to_underscores=False
    )
    problems = [p.message for p in doc.problems]
    entries: dict[str, tuple[str, int]] = {}
    for entry in doc.entries:
        if entry.section not in (None, SECTION):
            continue  # reported once for its section below
        entries[entry.key] = (entry.value_text, entry.line)
    for sec in doc.sections:
        if sec.title != SECTION:
            problems.append(
                f"{where}:{sec.line}: unexpected section [{ini.key_name(sec.title)}] (its keys are ignored); "
                f"an OFC file has one section, [{SECTION}]"
            )
    owner = next(
        (body[len(_OWNER_TAG) :].strip() for _, body in doc.comments if body.startswith(_OWNER_TAG)),
        None,
    )
    first = text[1:] if text.startswith("\ufeff") else text
    return _Parsed(
        entries=entries,
        problems=problems,
        sections=[sec.title for sec in doc.sections],
        owner=owner,
        has_header=first.startswith(HEADER),
        rejected={p.key for p in doc.problems if p.key is not None},
        terminated=text.endswith("\n"),
    )


class OFC:
    """On-the-fly control of ``cfg`` through the file ``ofc_file`` (see the module docstring).

    ``cfg`` is a dataclass config (dotted keys such as ``optim.lr``) or an
    ``argparse.Namespace`` (flat keys, typed by their current values; ``types`` overrides).
    ``steerables=None`` makes every leaf steerable (the legacy prefigure behaviour of the
    README); otherwise only the listed keys appear in the file and can change.
    ``step_fn`` gives the step recorded with a change when :meth:`update` is not passed one;
    without it the number of ``update()`` calls is used.

    ``gui``/``sliders``/``share`` start the web page (``config_utils.ofc.gui``) on rank 0; it
    submits through :meth:`submit` and plots the run's metrics live (:meth:`plot`).

    ``metrics_file`` (default ``metrics.jsonl`` beside the OFC file) receives what the run
    reports through :func:`config_utils.report` or the Lightning callback, for that plot;
    ``plot_png`` writes the plot as ``ofc-plot.png`` beside the OFC file when the run closes
    the OFC (if it reported metrics). ``announce`` prints one line per applied change to
    stderr (``ofc: optim.lr 0.001 → 0.0003 (page, step 120)``).
    """

    def __init__(
        self,
        cfg: Any,
        steerables: Iterable[str] | None = None,
        ofc_file: str | os.PathLike[str] = "ofc.ini",
        *,
        step_fn: Callable[[], int] | None = None,
        use_wandb: bool = True,
        history_file: str | os.PathLike[str] | None = None,
        metrics_file: str | os.PathLike[str] | None = None,
        announce: bool = True,
        plot_png: bool = True,
        adopt_existing: bool = False,
        types: Mapping[str, Any] | None = None,
        poll_interval: float = 0.1,
        distributed: bool | None = None,
        gui: bool = False,
        sliders: bool = False,
        share: bool = False,
        debug: bool = False,
    ) -> None:
        self.cfg = cfg
        self.ofc_file = Path(ofc_file).absolute()
        self.history_file = (
            Path(history_file).absolute()
            if history_file is not None
            else self.ofc_file.with_name(self.ofc_file.stem + "-history.jsonl")
        )
        # what the run reports (config_utils.report, the Lightning callback), for the page's
        # live plot; the same file and format a sweep trial writes (metrics.jsonl)
        self.metrics_file = (
            Path(metrics_file).absolute()
            if metrics_file is not None
            else self.ofc_file.with_name("metrics.jsonl")
        )
        self.announce = announce
        self.step_fn = step_fn
        self.use_wandb = use_wandb
        self.debug = debug
        self.poll_interval = float(poll_interval)
        self.history: list[Change] = []
        self.gradio_url = ""
        self._callbacks: dict[str, list[Callable[[Any, Any], Any]]] = {}
        self._distributed = distributed
        self._calls = 0
        self._lock = threading.RLock()
        self._dirty = False
        self._staged: dict[str, tuple[Any, str, str | None]] = {}
        # versions a submit swapped out, watched a moment for late in-place writes:
        # (temp path, text seen there, monotonic deadline)
        self._swapped: list[tuple[str, str, float]] = []
        # recent page submits: (time written, {key: (value before, value submitted)})
        self._submits: list[tuple[float, dict[str, tuple[Any, Any]]]] = []
        self._metrics_problem = False
        self._metrics_fd: int | None = None
        self._plot_stale = False  # metrics recorded since the last PNG
        self.plot_png = plot_png
        self._plot: Any = None
        self._staged_problems: list[str] = []
        self._active_problems: set[str] = set()
        self._path_problem: str | None = None
        self._watch_error: str | None = None
        self._history_problem = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._gui: Any = None
        self._closed = False
        self._td_init: Callable[[], bool] | None = None
        self._bcast: Any = None
        self._rank = process_rank()  # the house's one rank function
        self._writer = self._rank == 0
        self._writes = WriteWatch() if self._writer else None  # overlapping in-place writers

        self.types = self._resolve_types(cfg, steerables, types)
        self.steerables: list[str] = list(self.types)
        self._all_keys = self._config_keys(cfg)
        self._file_values: dict[str, Any] = {k: get_path(cfg, k) for k in self.steerables}

        # watcher state
        self._sig: tuple[int, int, int, int] | None = None
        self._seen_text: str | None = None  # last text read (candidate until it settles)
        self._done_text: str | None = None  # last text processed
        self._seen_since = 0.0

        gui_obj = None
        if gui and self._writer:
            from .gui import OFCGui

            # checks login/share options before anything is claimed; imports no gradio yet
            gui_obj = OFCGui(self, sliders=sliders, share=share)
        if self._writer:
            self._claim_file(adopt_existing)
            self._start_watcher()
        if gui_obj is not None:
            try:
                self.gradio_url = str(gui_obj.start() or "")
            except BaseException:
                self.close()  # a GUI that cannot start must not leave the file claimed
                raise
            self._gui = gui_obj

    # ------------------------------------------------------------------ set-up
    def _config_keys(self, cfg: Any) -> list[str]:
        if isinstance(cfg, argparse.Namespace):
            return list(vars(cfg))
        return list(leaf_types(cfg))

    def _resolve_types(
        self, cfg: Any, steerables: Iterable[str] | None, overrides: Mapping[str, Any] | None
    ) -> dict[str, Any]:
        if isinstance(cfg, argparse.Namespace):
            declared = {k: _namespace_type(v) for k, v in vars(cfg).items()}
        elif dataclasses.is_dataclass(cfg) and not isinstance(cfg, type):
            declared = {k: tp for k, tp in leaf_types(cfg).items() if not k.endswith("._type")}
        else:
            raise OFCError(
                f"OFC: expected a dataclass instance or an argparse.Namespace, got "
                f"{type(cfg).__name__}"
            )
        declared.update(overrides or {})
        if steerables is None:
            keys = [k for k, tp in declared.items() if not is_variant_field(tp)]
        else:
            if isinstance(steerables, str):
                raise OFCError(
                    f"OFC: steerables must be a list of keys, got the string {steerables!r}"
                )
            keys = list(dict.fromkeys(steerables))
        out: dict[str, Any] = {}
        for key in keys:
            if key not in declared:
                prefix = key + "."
                inner = [k for k in declared if k.startswith(prefix)]
                if inner:
                    hint = f"; it is a section, steer its fields: {', '.join(inner[:5])}"
                else:
                    hint = did_you_mean(key, declared)
                raise OFCError(f"OFC: steerable key {key!r} is not a leaf of the config{hint}")
            if is_variant_field(declared[key]):
                raise OFCError(
                    f"OFC: steerable key {key!r} selects a config variant "
                    f"({describe_type(declared[key])}); variants cannot change while running"
                )
            out[key] = declared[key]
        return out

    def _owner_line(self) -> str:
        return f"{_OWNER_TAG} host={socket.gethostname()} pid={os.getpid()}"

    def _claim_file(self, adopt_existing: bool) -> None:
        """Check that ``ofc_file`` may be (re)written, then write it from the config."""
        path = self.ofc_file
        key = str(path.resolve())
        with _OPEN_LOCK:
            other = _OPEN_FILES.get(key)
            if other is not None and not other._closed:
                raise OFCError(
                    f"OFC: {path} is already controlled by another live OFC in this process; "
                    "close() it first or pass another ofc_file"
                )
            if path.exists():
                self._check_existing(path, adopt_existing)
            self._check_history_file()
            path.parent.mkdir(parents=True, exist_ok=True)
            text = self.render()
            write_atomic(path, text)
            self._done_text = text
            self._follow()
            _OPEN_FILES[key] = self

    def _check_existing(self, path: Path, adopt_existing: bool) -> None:
        try:
            text = read_file_text(path)
        except (OSError, FileProblem) as exc:
            raise OFCError(
                f"OFC: {path} exists and cannot be read as an OFC file ({exc}); it was left "
                "as it is: pass another ofc_file"
            ) from None
        parsed = parse_text(text, str(path))
        foreign = [k for k in parsed.entries if k not in self._all_keys]
        legacy = parsed.sections == [SECTION] and not foreign
        if not parsed.has_header and not legacy:
            raise OFCError(
                f"OFC: {path} exists and is not an OFC file; it was left as it is: "
                "pass another ofc_file"
            )
        if parsed.has_header and foreign:
            shown = ", ".join(foreign[:5])
            raise OFCError(
                f"OFC: {path} is an OFC file for another config (keys not in this config: "
                f"{shown}); it was left as it is: pass another ofc_file"
            )
        if parsed.owner:
            fields = dict(p.split("=", 1) for p in parsed.owner.split() if "=" in p)
            pid = fields.get("pid", "")
            if (
                fields.get("host") == socket.gethostname()
                and pid.isdigit()
                and int(pid) != os.getpid()
                and _pid_alive(int(pid))
            ):
                raise OFCError(
                    f"OFC: {path} is in use by the running process {pid}; it was left as it "
                    "is: pass another ofc_file"
                )
        if adopt_existing:
            changes, problems = self._validate(parsed, str(path), require_all=False)
            applied = self._apply({k: (v, "resume", None) for k, v in changes.items()}, step=0)
            self._file_values.update(applied)
            for msg in problems:
                report(msg, stacklevel=4)

    def _check_history_file(self) -> None:
        """Append only to our own history file: never write into a user's file."""
        path = self.history_file
        if not path.exists():
            return
        if not path.is_file():
            raise OFCError(
                f"OFC: history file {path} exists and is not a regular file; it was left as it "
                "is: pass another history_file"
            )
        if path.stat().st_size == 0:
            return
        try:
            with path.open(encoding="utf-8") as fh:
                first = json.loads(fh.readline())
            ok = isinstance(first, dict) and {"key", "new", "source"} <= set(first)
        except (OSError, ValueError, UnicodeDecodeError):
            ok = False
        if not ok:
            raise OFCError(
                f"OFC: history file {path} exists and is not an OFC history; it was left as "
                "it is: pass another history_file"
            )

    # ------------------------------------------------------------------ the file
    def describe(self, key: str) -> str:
        """The type of ``key`` as written in the file comment (``float``, ``Literal['a', 'b']``)."""
        return describe_type(self.types[key])

    def values(self) -> dict[str, Any]:
        """Current value of every steerable key (read from the config)."""
        return {k: get_path(self.cfg, k) for k in self.steerables}

    def _text_of(self, key: str, value: Any) -> str:
        """``value`` as the file would hold it, or a short description when no text can."""
        try:
            return format_value(value, self.types[key])
        except ConfigError:
            return shown(value)

    @staticmethod
    def report(message: str) -> None:
        """Report a problem to the person steering the run (see :func:`report`); never raises."""
        report(message, stacklevel=3)

    def file_state(self) -> tuple[dict[str, str], dict[str, str]]:
        """The text of every steerable key as the OFC file holds it now (the current value's
        text for keys the file lacks), and ``{key: problem}`` for values that do not convert.

        For the GUI's "in the file, not applied yet" column. Reads the file the bounded way.
        """
        texts = dict(self.text_values())
        problems: dict[str, str] = {}
        path = self.ofc_file
        try:
            parsed = parse_text(read_file_text(path), str(path))
        except (OSError, FileProblem):
            return texts, problems
        for key, (raw, lineno) in parsed.entries.items():
            if key not in texts:
                continue
            texts[key] = raw
            try:
                convert(raw, self.types[key], key=key, where=f"{path}:{lineno}")
            except ConfigError as exc:
                problems[key] = f"in the file: {exc}"
        return texts, problems

    def text_values(self) -> dict[str, str]:
        """Current values as the text the file (and the GUI's text boxes) holds."""
        return {k: format_value(v, self.types[k]) for k, v in self.values().items()}

    def render(self, values: Mapping[str, Any] | None = None) -> str:
        """The OFC file text for ``values`` (default: the current config values)."""
        current = self.values() if values is None else dict(values)
        entries = []
        for key in self.steerables:
            try:
                text = format_value(current[key], self.types[key])
            except ConfigError as exc:
                raise OFCError(f"OFC: {key}: {exc}") from None
            entries.append(ini.Entry(key, text, comment_above=(f"{key}: {self.describe(key)}",)))
        return ini.write_ini(
            entries, header=(*_HEADER_LINES, self._owner_line()), top_section=SECTION, sections=False
        )

    def _validate(
        self, parsed: _Parsed, where: str, *, require_all: bool
    ) -> tuple[dict[str, Any], list[str]]:
        """Typed values that differ from the last accepted file values, and the problems."""
        problems = list(parsed.problems)
        missing = [
            k for k in self.steerables if k not in parsed.entries and k not in parsed.rejected
        ]
        if missing and require_all:
            return {}, [
                f"{where}: incomplete OFC file (missing {', '.join(missing[:5])}); nothing "
                "applied until every steerable key is present"
            ]
        changes: dict[str, Any] = {}
        for key, (raw, lineno) in parsed.entries.items():
            if key not in self.types:
                if key in self._all_keys:
                    shown = ", ".join(self.steerables[:8])
                    more = ", ..." if len(self.steerables) > 8 else ""
                    problems.append(
                        f"{where}:{lineno}: {key}: not steerable (steerable: {shown}{more}); "
                        "edit ignored"
                    )
                else:
                    problems.append(
                        f"{where}:{lineno}: {ini.key_name(key)}: unknown key"
                        f"{did_you_mean(key, self.steerables)}; edit ignored"
                    )
                continue
            try:
                value = convert(raw, self.types[key], key=key, where=f"{where}:{lineno}")
            except ConfigError as exc:
                old = self._file_values.get(key)
                problems.append(f"{exc}; keeping {self._text_of(key, old)}")
                continue
            if not same_value(value, self._file_values.get(key)):
                changes[key] = value
        return changes, problems

    # ------------------------------------------------------------------ watcher thread
    def _start_watcher(self) -> None:
        self._thread = threading.Thread(
            target=self._watch, name=f"ofc-watch:{self.ofc_file.name}", daemon=True
        )
        self._thread.start()

    def _watch(self) -> None:
        while not self._stop.wait(self.poll_interval):
            try:
                self.poll()
            except Exception as exc:  # noqa: BLE001 - the watcher must never die: report once, go on
                msg = f"{self.ofc_file}: OFC watcher error: {exc!r}"
                if msg != self._watch_error:
                    self._watch_error = msg
                    self._stage({}, [msg], "file")

    def _file_problem(self, message: str | None) -> None:
        """Report a problem with the path itself once (a FIFO stays a FIFO for many polls);
        ``None`` when a proper file is back, so a later problem is reported again."""
        if message is not None and message != self._path_problem:
            self._stage({}, [message + "; edits are not read until a regular file is back"], "file")
        self._path_problem = message

    def poll(self) -> bool:
        """Look at the file once; stage accepted changes. True when a version was processed.

        Called by the watcher thread; tests and single-threaded tools may call it directly.
        A version is processed when (1) the path is a regular file of at most
        :data:`MAX_FILE_BYTES`, (2) its text was the same at two consecutive polls, and (3) it
        ends with a line break. (3) is what makes a truncated write impossible to apply: a
        writer cut or stalled mid-line leaves no final line break, and one cut between lines
        leaves keys out, which rejects the whole version (every steerable key must be there).
        """
        path = self.ofc_file
        if self._swapped:
            with self._lock:
                self._check_swapped()
        try:
            st = os.stat(path)
        except FileNotFoundError:
            self._sig = None
            self._seen_text = None
            return False
        except OSError as exc:  # a symlink loop, a directory we cannot enter
            self._file_problem(f"{path}: cannot be read ({exc.strerror or exc})")
            return False
        sig = (st.st_ino, st.st_mtime_ns, st.st_size, st.st_ctime_ns)
        if (
            sig == self._sig
            and self._seen_text is None
            and time.time() - st.st_mtime > _RECENT_MTIME_S
        ):
            return False  # same file, nothing waiting to settle: the cheap, common case
        if not stat.S_ISREG(st.st_mode):
            self._sig = sig
            self._seen_text = None
            self._file_problem(f"{path}: not a regular file ({_file_kind(st.st_mode)})")
            return False
        try:
            text = read_file_text(path)
            st2 = os.stat(path)
        except FileNotFoundError:
            return False
        except FileProblem as exc:
            self._sig = sig
            self._seen_text = None
            self._file_problem(str(exc))
            return False
        except OSError:
            return False
        self._file_problem(None)
        if (st2.st_ino, st2.st_mtime_ns, st2.st_size, st2.st_ctime_ns) != sig:
            self._seen_text = None  # changing under us: look again next poll
            return False
        if self._sig is None or sig[0] != self._sig[0]:
            self._follow()  # a new inode at the path (a rename): watch that one
        self._sig = sig
        if text == self._done_text:
            self._seen_text = None
            return False
        if text != self._seen_text:
            self._seen_text = text  # wait one poll for the writer to finish
            return False
        with self._lock:
            if text == self._done_text:  # submit() wrote this very text meanwhile
                return False
            if not text.endswith("\n"):
                changes: dict[str, Any] = {}
                problems = [
                    f"{path}: the file does not end with a line break, so it may be a write cut "
                    "short; nothing applied until it does (save it again with a final line break)"
                ]
            elif self._writes is not None and self._writes.overlapped():
                changes, problems = {}, [
                    f"{path}: two programs rewrote the file in place at the same time, so it "
                    "may mix their texts; nothing applied from this version (save it again)"
                ]
            else:
                parsed = parse_text(text, str(path))
                changes, problems = self._validate(parsed, str(path), require_all=True)
            kept = self._stale_reverts(changes, st.st_mtime)
            for key in kept:
                del changes[key]
            self._file_values.update(changes)
            self._done_text = text
            self._seen_text = None
            if kept:
                self._restore_submitted(text, kept, sig)
            new_problems = [p for p in problems if p not in self._active_problems]
            self._active_problems = set(problems)
            self._stage(changes, new_problems, "file")
        return True

    def _follow(self) -> None:
        """Watch the inode now at the OFC path for overlapping in-place writers."""
        if self._writes is not None:
            self._writes.follow(self.ofc_file)

    def _stale_reverts(self, changes: Mapping[str, Any], mtime: float) -> dict[str, Any]:
        """Keys a version sets back to their value from before a page submit it cannot have
        seen: saved within :data:`STALE_WRITE_S` of the submit, by a writer that read the file
        just before it (a script's read-modify-write, an editor saving its buffer). The
        submitted value stays (``{key: submitted value}``); the version's other edits apply.
        A person who means to undo a submit does so after seeing it, later than that."""
        kept: dict[str, Any] = {}
        for when, submitted in self._submits:
            if abs(mtime - when) >= STALE_WRITE_S:
                continue
            for key, (before, new) in submitted.items():
                if (
                    key in changes
                    and same_value(changes[key], before)
                    and same_value(self._file_values.get(key), new)
                ):
                    kept[key] = new
        return kept

    def _restore_submitted(self, text: str, kept: Mapping[str, Any], sig: Any) -> None:
        """Put the kept submitted values back into the file (only the version just processed
        is rewritten; a newer one is left for the next poll)."""
        merged = self._merge_into(text, kept, "file")
        if isinstance(merged, dict) or _signature(self.ofc_file) != sig:
            return
        tmp = stage(self.ofc_file, merged)
        try:
            if _signature(self.ofc_file) == sig:
                os.replace(tmp, self.ofc_file)
                self._done_text = merged
                self._follow()
        finally:
            discard(tmp)
        log.info("OFC: %s kept from the page (a stale save set it back)", ", ".join(kept))

    def _stage(
        self, changes: Mapping[str, Any], problems: list[str], source: str, user: str | None = None
    ) -> None:
        if not changes and not problems:
            return
        with self._lock:
            for key, value in changes.items():
                self._staged[key] = (value, source, user)
            self._staged_problems.extend(problems)
            self._dirty = True

    def _take(self) -> tuple[dict[str, tuple[Any, str, str | None]], list[str]]:
        with self._lock:
            staged, problems = self._staged, self._staged_problems
            self._staged, self._staged_problems = {}, []
            self._dirty = False
        return staged, problems

    def pending(self) -> bool:
        """True when accepted edits (or warnings) wait for the next :meth:`update`."""
        return self._dirty

    # ------------------------------------------------------------------ the hot path
    def update(self, step: int | None = None) -> dict[str, Any]:
        """Apply the edits made since the last call; ``{key: new_value}`` of those applied.

        Cheap when nothing changed (a flag test). ``step`` is recorded with each change
        (default: ``step_fn()``, else the number of calls). Under torch.distributed with
        world size > 1 this is a collective: call it at the same steps on every rank.
        """
        self._calls += 1
        if self._distributed is not False:
            init = self._td_init
            if init is None:
                init = self._probe_distributed()
            if init is not None and init():
                return self._update_distributed(step)
        if not self._dirty:
            return {}
        return self._update_local(step)

    def _update_local(self, step: int | None) -> dict[str, Any]:
        staged, problems = self._take()
        # apply first, report after: a report can never cost an edit
        applied = self._apply(staged, self._step(step))
        for msg in problems:
            report(msg, stacklevel=3)
        return applied

    def _probe_distributed(self) -> Callable[[], bool] | None:
        td = _modules.get("torch.distributed")
        if td is None:
            return None
        if not td.is_available():
            self._distributed = False
            return None
        self._td_init = td.is_initialized
        return self._td_init

    def _step(self, step: int | None) -> int:
        if step is not None:
            return int(step)
        if self.step_fn is not None:
            return int(self.step_fn())
        return self._calls

    def _update_distributed(self, step: int | None) -> dict[str, Any]:
        from .distributed import broadcaster_for

        bcast = broadcaster_for(self)
        if bcast is None:  # world size 1
            self._td_init = _never
            return self._update_local(step) if self._dirty else {}
        payload: tuple[int, dict[str, tuple[Any, str, str | None]]] | None = None
        problems: list[str] = []
        if bcast.rank == 0:
            if self._dirty:
                staged, problems = self._take()
                if staged:
                    payload = (self._step(step), staged)
        payload = bcast.exchange(payload)
        applied = {} if payload is None else self._apply(payload[1], payload[0])
        for msg in problems:
            report(msg, stacklevel=3)
        return applied

    def _set_rank(self, rank: int) -> None:
        """Called when the process group reveals the rank: non-zero ranks stop watching."""
        self._rank = rank
        if rank != 0:
            self._writer = False
            self._stop.set()

    # ------------------------------------------------------------------ applying
    def _apply(
        self, staged: Mapping[str, tuple[Any, str, str | None]], step: int
    ) -> dict[str, Any]:
        applied: dict[str, Any] = {}
        now = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="milliseconds")
        records: list[Change] = []
        for key, (new, source, user) in staged.items():
            old = get_path(self.cfg, key)
            if same_value(old, new):
                continue
            set_path(self.cfg, key, new)
            label = f"ofc:gui:step={step}" if source == "gui" else f"ofc:step={step}"
            try:
                _record_provenance(self.cfg, key, label)
            except Exception:  # provenance is bookkeeping; never stop the run for it
                pass
            applied[key] = new
            records.append(Change(now, step, key, old, new, source, user))
        if not records:
            return applied
        self.history.extend(records)
        if self._writer:
            self._write_history(records)
            if self.announce:
                for rec in records:
                    print(self.change_line(rec), file=sys.stderr, flush=True)
            if self.use_wandb:
                self._log_wandb(applied)
        for rec in records:
            for fn in self._callbacks.get(rec.key, ()):
                try:
                    fn(rec.new, rec.old)
                except Exception as exc:  # noqa: BLE001 - a user callback must not stop training
                    report(
                        f"OFC: callback {getattr(fn, '__qualname__', fn)!s} for {rec.key} raised "
                        f"{exc!r}; {rec.key} = {shown(rec.new)} stays applied",
                        stacklevel=3,
                    )
        if self.debug:
            print(f"OFC step {step}: {applied}", file=sys.stderr)
        return applied

    def change_line(self, change: Change) -> str:
        """The run-log line of an applied change: ``ofc: optim.lr 0.001 → 0.0003 (page, step 120)``."""
        old = self._text_of(change.key, change.old)
        new = self._text_of(change.key, change.new)
        return f"ofc: {change.key} {old} → {new} ({change.origin}, step {change.step})"

    def _write_history(self, records: list[Change]) -> None:
        """Append to the history file; never blocks (a FIFO there) and never raises."""
        data = "".join(json.dumps(rec.to_json()) + "\n" for rec in records)
        problem = _append(self.history_file, data)
        if problem is None:
            self._history_problem = False
        elif not self._history_problem:  # once until it works again
            self._history_problem = True
            report(
                f"OFC: could not append to {self.history_file} ({problem}); the change is applied",
                stacklevel=4,
            )

    # ------------------------------------------------------------------ metrics (live plot)
    def record_metrics(self, values: Mapping[str, float], step: int | None = None) -> None:
        """Append reported metrics to :attr:`metrics_file` for the page's live plot.

        Called by :func:`config_utils.report` (and the Lightning callback) on rank 0; the
        step defaults to the step :meth:`update` would record, so curves and change markers
        share one x axis. Never raises: a metrics file that cannot be written is reported once.
        """
        if not self._writer or self._closed or not values:
            return
        from ..sweep.report import metrics_line  # the one format of metrics.jsonl

        data = metrics_line(dict(values), self._step(step)).encode("utf-8")
        problem = None
        try:  # one write on a handle kept open (open + close per step cost ~15 µs more)
            if self._metrics_fd is None:
                self._metrics_fd = _open_append(self.metrics_file)
            os.write(self._metrics_fd, data)
        except OSError as exc:
            problem = str(exc)
            self._close_metrics()
        if problem is None:
            self._metrics_problem = False
            self._plot_stale = True
        elif not self._metrics_problem:
            self._metrics_problem = True
            report(f"OFC: could not append to {self.metrics_file} ({problem}); training goes on")

    def _close_metrics(self) -> None:
        fd, self._metrics_fd = self._metrics_fd, None
        if fd is not None:
            try:
                os.close(fd)
            except OSError:
                pass

    def plot(self) -> Any:
        """The live plot of this run (:class:`config_utils.ofc.plot.RunPlot`), built from the
        metrics and history files on first use and kept, so a page reload or a GUI relaunch
        reads only what was appended since."""
        with self._lock:
            if self._plot is None:
                from .plot import RunPlot

                self._plot = RunPlot(self.metrics_file, self.history_file)
            return self._plot

    def export_plot(self, path: str | os.PathLike[str] | None = None) -> Path:
        """Write the live plot as a PNG (default: ``ofc-plot.png`` beside the OFC file, i.e.
        beside the run record in a run directory); returns its path. Needs matplotlib."""
        target = Path(path) if path is not None else self.ofc_file.with_name("ofc-plot.png")
        written = self.plot().export_png(target)
        self._plot_stale = False
        return written

    def finish_plot(self) -> Path | None:
        """At the end of a run: the PNG of the plot when metrics were recorded since the last
        one (None otherwise). Never raises: a PNG that cannot be drawn is reported once."""
        if not (self._writer and self.plot_png and self._plot_stale):
            return None
        try:
            return self.export_plot()
        except Exception as exc:  # noqa: BLE001 - the run is over; say why there is no PNG
            self._plot_stale = False
            hint = " (pip install matplotlib)" if isinstance(exc, ImportError) else ""
            report(f"OFC: the plot PNG was not written: {exc}{hint}")
            return None

    def _log_wandb(self, applied: Mapping[str, Any]) -> None:
        wandb = _modules.get("wandb")  # never import wandb just to check for a run
        run = getattr(wandb, "run", None) if wandb is not None else None
        if run is None:
            return
        as_primitives = {f"args/{k}": primitive(v) for k, v in applied.items()}
        data = {k: v for k, v in as_primitives.items() if isinstance(v, (bool, int, float, str))}
        if not data:
            return
        try:
            run.log(data, commit=False)
        except Exception as exc:  # noqa: BLE001 - logging is bookkeeping; training goes on
            report(f"OFC: W&B logging failed ({exc!r})", stacklevel=4)

    def on_change(self, key: str, fn: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
        """Call ``fn(new, old)`` after ``key`` changes (e.g. to set an optimizer's lr).

        Returns ``fn`` so it can be used as a decorator factory argument. An exception in
        ``fn`` becomes an :class:`OFCWarning`; the new value stays applied.
        """
        if key not in self.types:
            raise OFCError(
                f"OFC.on_change: {key!r} is not a steerable key{did_you_mean(key, self.steerables)}"
            )
        self._callbacks.setdefault(key, []).append(fn)
        return fn

    @property
    def gui(self) -> Any:
        """The web page serving this OFC (``config_utils.ofc.gui.OFCGui``), or None."""
        return self._gui

    # ------------------------------------------------------------------ GUI hook
    def submit(
        self, changes: Mapping[str, str], source: str = "gui", *, user: str | None = None
    ) -> dict[str, str]:
        """Validate text values (a GUI form) and, if all are valid, write them to the file.

        Returns ``{key: error message}``; empty means the file was written and the changes
        are staged for the next :meth:`update` (recorded with ``source`` and ``user``, the
        page's login name). Nothing is written
        when any value is invalid, so a form is applied whole or not at all.
        """
        if not self._writer:
            raise OFCError("OFC.submit: only rank 0 owns the OFC file")
        errors: dict[str, str] = {}
        typed: dict[str, Any] = {}
        for key, raw in changes.items():
            if key not in self.types:
                why = "not steerable" if key in self._all_keys else "unknown key"
                errors[key] = f"{source}: {ini.key_name(key)}: {why}{did_you_mean(key, self.steerables)}"
                continue
            try:
                typed[key] = convert(raw, self.types[key], key=key, where=source)
            except ConfigError as exc:
                errors[key] = str(exc)
        if errors:
            return errors
        return self._commit(typed, source, user)

    def _commit(self, typed: Mapping[str, Any], source: str, user: str | None) -> dict[str, str]:
        """Write checked values into the file and stage them; ``{key: message}`` on refusal."""
        with self._lock:
            written = self._write_merged(typed, source)
            if isinstance(written, dict):
                return written
            diff = {k: v for k, v in typed.items() if not same_value(v, self._file_values.get(k))}
            if source == "gui":
                now = time.time()
                self._submits = [x for x in self._submits if now - x[0] < STALE_WRITE_S]
                before = {k: (self._file_values.get(k), v) for k, v in diff.items()}
                self._submits.append((now, before))
            self._file_values.update(diff)
            self._stage(diff, [], source, user)
        return {}

    def _check_swapped(self) -> None:
        """Look again at the versions a submit swapped out (see :meth:`_write_merged`): a
        program that had the file open before the swap may write into it afterwards. Its
        edits (the keys whose lines differ from what the submit saw there) are written into
        the current file and applied like any file edit, so they are not lost with it."""
        keep: list[tuple[str, str, float]] = []
        for tmp, seen, deadline in self._swapped:
            try:
                late: str | None = read_file_text(Path(tmp))
            except (OSError, FileProblem):
                late = None
            if late is not None and late != seen:
                self._merge_late(seen, late)
            elif late is not None and time.monotonic() < deadline:
                keep.append((tmp, seen, deadline))
                continue
            discard(tmp)
        self._swapped = keep

    def _merge_late(self, seen: str, late: str) -> None:
        where = str(self.ofc_file)
        old, new = parse_text(seen, where), parse_text(late, where)
        if not new.terminated:
            return  # a write cut short: never applied (the protocol's completeness rule)
        typed: dict[str, Any] = {}
        for key, (raw, lineno) in new.entries.items():
            if key not in self.types or key in new.rejected:
                continue
            if old.entries.get(key, ("", 0))[0] == raw:
                continue  # not edited by the late writer
            try:
                typed[key] = convert(raw, self.types[key], key=key, where=f"{where}:{lineno}")
            except ConfigError as exc:
                self._stage({}, [f"{exc}; keeping {self._text_of(key, self._file_values.get(key))}"], "file")
        if typed:
            problems = self._commit(typed, "file", None)
            if problems:
                self._stage({}, list(problems.values()), "file")

    def _write_merged(self, typed: Mapping[str, Any], source: str) -> dict[str, str] | None:
        """Write ``typed`` into the file without undoing an edit this OFC has not processed.

        When the file is the version last processed (or written) here, it is re-rendered
        with the new values. When someone changed it since (an editor saved 50 ms ago and the
        watcher has not settled it yet), only the submitted keys' lines are replaced and every
        other line stays as that person wrote it; the watcher then applies their edits as
        usual. A changed file that is not complete (no final line break, keys missing, a key
        set twice) is not merged into: the submit is refused with a message saying so.

        The new text is on disk (fsync) before the last look at the file, and then swapped
        with it in one step (:func:`_exchange`): when another writer saved in between, its
        version comes back from the swap and the submit is merged into it, so neither is lost.
        Returns ``{key: message}`` on refusal, None when written.
        """
        path = self.ofc_file
        slipped: str | None = None  # a version another writer saved while we swapped
        for _attempt in range(20):
            try:
                disk: str | None = read_file_text(path)
                before = _signature(path)
            except FileNotFoundError:
                disk, before = None, None
            except (OSError, FileProblem) as exc:
                return {k: f"{source}: {exc}; nothing written" for k in typed}
            base = disk if slipped is None else slipped
            if base is None or base == self._done_text:
                text = self.render({**self._file_values, **typed})
                seen = True
            else:
                merged = self._merge_into(base, typed, source)
                if isinstance(merged, dict):
                    return merged
                text, seen = merged, False
            tmp = stage(path, text)
            try:
                if _signature(path) != before:
                    continue  # written again while we prepared: start from the newer version
                if _exchange(tmp, path):
                    back = self._swapped_out(tmp)
                    if back is not None and back != disk:
                        slipped = back  # another writer's version: merge into it, write again
                        continue
                    if back is not None:  # kept a moment: a writer may still write into it
                        self._swapped.append((tmp, back, time.monotonic() + STALE_WRITE_S))
                        tmp = ""
                else:
                    os.replace(tmp, path)
                self._follow()
            finally:
                if tmp:
                    discard(tmp)
            if seen:
                self._done_text = text
                self._seen_text = None
            return None
        return {k: f"{source}: {path} keeps changing; nothing written, submit again" for k in typed}

    def _swapped_out(self, tmp: str) -> str | None:
        """The version :func:`_exchange` handed back. A writer that rewrites in place may still
        be writing it: wait (at most 0.1 s) until it is complete. None when unreadable."""
        text: str | None = None
        for _ in range(100):
            try:
                text = read_file_text(Path(tmp))
            except (OSError, FileProblem):
                return text
            parsed = parse_text(text, str(self.ofc_file))
            complete = parsed.terminated and all(
                k in parsed.entries or k in parsed.rejected for k in self.steerables
            )
            if complete:
                return text
            time.sleep(0.001)
        return text

    def _merge_into(self, disk: str, typed: Mapping[str, Any], source: str) -> str | dict[str, str]:
        """``disk`` with the lines of the ``typed`` keys replaced, or refusal messages."""
        where = str(self.ofc_file)
        parsed = parse_text(disk, where)
        missing = [
            k for k in self.steerables if k not in parsed.entries and k not in parsed.rejected
        ]
        twice = [k for k in typed if k in parsed.rejected]
        why = ""
        if not parsed.terminated:
            why = "it does not end with a line break (still being written?)"
        elif missing:
            why = f"it lacks {', '.join(missing[:5])} (still being written?)"
        elif twice:
            why = f"it sets {', '.join(twice)} twice; fix the file first"
        if why:
            return {
                k: f"{source}: {where} was changed since this page loaded and {why}; nothing "
                "written, submit again in a moment"
                for k in typed
            }
        lines = disk.split("\n")
        drop: set[int] = set()
        for key, value in typed.items():
            index = parsed.entries[key][1] - 1
            old = lines[index]
            bom = "\ufeff" if index == 0 and old.startswith("\ufeff") else ""
            cr = "\r" if old.endswith("\r") else ""
            line = ini.entry_line(key, format_value(value, self.types[key]))  # the one ini writer
            lines[index] = f"{bom}{line}{cr}"
            nxt = index + 1
            while nxt < len(lines) and _is_continuation(lines[nxt]):
                drop.add(nxt)  # the old value's continuation lines go with it
                nxt += 1
        return "\n".join(line for n, line in enumerate(lines) if n not in drop)

    # ------------------------------------------------------------------ lifetime
    def close(self) -> None:
        """Stop the watcher thread (and the GUI). The file and history stay on disk."""
        if self._closed:
            return
        self._close_metrics()
        for tmp, _seen, _deadline in self._swapped:
            discard(tmp)
        self._swapped = []
        self.finish_plot()  # the run's plot beside its record, when it reported metrics
        self._closed = True
        self._stop.set()
        if self._writes is not None:
            self._writes.close()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=max(1.0, 5 * self.poll_interval))
        if self._gui is not None:
            close = getattr(self._gui, "close", None)
            if callable(close):
                close()
        with _OPEN_LOCK:
            key = str(self.ofc_file.resolve())
            if _OPEN_FILES.get(key) is self:
                del _OPEN_FILES[key]

    def __reduce__(self) -> Any:
        # A copy in another process would have no watcher and no file (Lightning's
        # ddp_spawn pickles callbacks): say so instead of a TypeError about a lock.
        raise OFCError(
            "OFC objects cannot be pickled or sent to another process; create the OFC in each "
            "process (Lightning: use strategy='ddp', not 'ddp_spawn')"
        )

    def __enter__(self) -> OFC:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"OFC({self.ofc_file}, steerables={self.steerables})"
