"""Run records: the exact, typed config of a run as a JSON file, plus what made it.

``save_run(cfg, run_dir)`` writes ``run_dir/run_record.json``; feeding that directory back
(``--wandb-config run_dir``) re-creates the same config, union variants included, because
the config is stored with ``_type`` tags by :func:`config_utils.tree.to_primitives`.

A record is a promise: every value it accepts comes back exactly. :func:`check_recreatable`
writes each leaf as JSON, reads it back through the one typed conversion and compares; a value
that would come back different is refused, naming its key — ``bytes`` (stored as the text
``"b'abc'"``), an integer beyond Python's 4300-digit text limit, an object without a JSON form.
A tracker push (``what="push_config"``) also refuses the string ``"OMITTED"``: a tracker pull
skips it (prefigure's convention, :mod:`config_utils.sources.push`), so it would come back as
another value. A run record has no such marker: ``save_run(name="OMITTED")`` comes back as
``"OMITTED"``.

Records are read by the house's one bounded reader (:mod:`config_utils.readers`): a FIFO,
a device, a file over :data:`MAX_RECORD_BYTES`, text that is not UTF-8 or JSON nested deeper
than any config is one :class:`~config_utils.errors.RunSourceError` line.
"""

from __future__ import annotations

import datetime as _dt
import json
import platform
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

from ..atomic import write_atomic
from ..convert import convert, same_value, shown
from ..errors import ConfigError, RunSourceError
from ..provenance import provenance
from ..readers import ReadProblem, load_json, read_text
from ..schema import is_config_instance, iter_instance
from ..tree import primitive, to_primitives
from .push import OMITTED

RECORD_NAME = "run_record.json"
MAX_RECORD_BYTES = 64 * 1024 * 1024
FORMAT = "flows-workspace/run-record"
VERSION = 1
_PACKAGES = ("flows-workspace", "tyro", "wandb", "torch", "pytorch-lightning", "gradio", "numpy")


def _git_state(cwd: Path) -> dict[str, Any]:
    """Commit and dirty flag of the repository holding ``cwd`` (``None`` outside git)."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True, text=True, timeout=5
        )
        if commit.returncode != 0:
            return {"commit": None, "dirty": None}
        status = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=cwd, capture_output=True, text=True, timeout=5,
        )
        return {"commit": commit.stdout.strip(), "dirty": bool(status.stdout.strip())}
    except (OSError, subprocess.SubprocessError):
        return {"commit": None, "dirty": None}


def _versions() -> dict[str, str]:
    out = {}
    for name in _PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return out


def _holds_omitted(prim: Any) -> bool:
    if prim == OMITTED:
        return True
    if isinstance(prim, dict):
        return any(_holds_omitted(v) for v in prim.values())
    return False


def check_recreatable(cfg: Any, *, what: str = "save_run") -> None:
    """Raise :class:`RunSourceError` naming the first leaf of ``cfg`` that a run record (or a
    tracker push, ``what="push_config"``) could not give back exactly; see the module
    docstring."""
    if not is_config_instance(cfg):
        return
    tracker = what != "save_run"
    for path, f, value in iter_instance(cfg):
        if f.kind != "leaf" and is_config_instance(value):
            continue
        why = _why_not_recreatable(path, f.type, value, tracker)
        if why:
            raise RunSourceError(f"{what}: {path}: {shown(value)} {why}")


def _why_not_recreatable(path: str, tp: Any, value: Any, tracker: bool) -> str:
    try:
        prim = primitive(value, tp)
        if tracker and _holds_omitted(prim):
            return (
                f"is the trackers' marker {OMITTED!r} (a tracker pull reads it as 'omitted: "
                "keep the lower layer') and would not come back; use another value"
            )
        back = convert(json.loads(json.dumps(prim)), tp, key=path, where="run record", text=False)
    except ConfigError as exc:
        return f"cannot be saved in a run record: it would not read back ({exc})"
    except (ValueError, TypeError, RecursionError, OverflowError) as exc:
        return f"cannot be saved in a run record ({type(exc).__name__}: {str(exc)[:80]})"
    if not same_value(back, value):
        return f"cannot be saved in a run record: it would come back as {shown(back)}"
    return ""


def make_record(cfg: Any, argv: list[str] | None = None) -> dict[str, Any]:
    """The run record of ``cfg`` as a dict (what :func:`save_run` writes)."""
    cls = type(cfg)
    return {
        "format": FORMAT,
        "version": VERSION,
        "config_type": f"{cls.__module__}:{cls.__qualname__}",
        "config": to_primitives(cfg),
        "provenance": provenance(cfg),
        "argv": list(sys.argv if argv is None else argv),
        "git": _git_state(Path.cwd()),
        "python": platform.python_version(),
        "packages": _versions(),
        "time": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
    }


def save_run(cfg: Any, run_dir: str | Path, *, argv: list[str] | None = None) -> Path:
    """Write ``run_dir/run_record.json`` (atomically) and return its path.

    A file of that name that is not a run record (a user's file) is never overwritten. A
    config holding a value the record could not give back exactly is refused, naming the key
    (:func:`check_recreatable`).
    """
    check_recreatable(cfg)
    return write_record(make_record(cfg, argv), run_dir)


def write_record(record: dict[str, Any], run_dir: str | Path) -> Path:
    """Write ``record`` as ``run_dir/run_record.json`` (atomically), never over a file of
    that name that is not a run record; each failure one :class:`RunSourceError` line. The one
    writer of records: :func:`save_run` and the trackers' pushes use it."""
    run_dir = Path(run_dir)
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:  # a file on the way (FLOWS_RUN_DIR=/dev/null/x), no permission...
        raise RunSourceError(
            f"save_run: cannot create the run directory {run_dir} ({exc.strerror or exc})"
        ) from None
    target = run_dir / RECORD_NAME
    if (target.exists() or target.is_symlink()) and not _is_record_file(target):
        raise RunSourceError(
            f"save_run: {target} exists and is not a run record; not overwriting it (choose "
            "another run directory)"
        )
    try:
        text = json.dumps(record, indent=2, sort_keys=False)
    except (TypeError, ValueError) as exc:  # argv or provenance holding something odd
        raise RunSourceError(f"save_run: the run record cannot be written as JSON ({exc})") from None
    try:
        write_atomic(target, text + "\n", durable=False)
    except OSError as exc:  # a full disk, a read-only directory, a directory at the record's path
        raise RunSourceError(f"save_run: cannot write {target} ({exc.strerror or exc})") from None
    return target


def _read_record(path: Path, label: str) -> Any:
    """The parsed JSON of a record file (the house's bounded reader); one line otherwise."""
    try:
        return load_json(read_text(path, limit=MAX_RECORD_BYTES), where=path)
    except ReadProblem as exc:
        raise RunSourceError(f"{label}: {exc}") from None


def _is_record_file(path: Path) -> bool:
    try:
        data = _read_record(path, "")
    except RunSourceError:
        return False
    return isinstance(data, dict) and data.get("format") == FORMAT


class RecordConfig(dict):  # type: ignore[type-arg]
    """The ``config`` of a run record, as a plain dict that also carries ``config_type``
    (``module:QualName`` of the class that wrote it, or None), so that a pull through a
    tracker can still say when the record is another program's."""

    def __init__(self, config: dict[str, Any], config_type: Any = None) -> None:
        super().__init__(config)
        self.config_type = config_type if isinstance(config_type, str) else None


def local_path(source: str | Path) -> Path | None:
    """``source`` as an existing local path, or None (then it names a tracker's run): a URL,
    a text with a NUL byte, one too long for a path or naming a missing home directory is
    not a local path."""
    text = str(source).strip()
    if not text or "://" in text or "\0" in text:
        return None
    try:
        path = Path(text).expanduser()
        return path if path.exists() else None
    except (OSError, ValueError, RuntimeError):  # too long, undecodable, no home directory
        return None


def record_path(path: str | Path) -> Path | None:
    """The run record inside a run directory (or W&B run dir's ``files/``), or None."""
    p = Path(path)
    if p.is_file() and p.name == RECORD_NAME:
        return p
    for candidate in (p / RECORD_NAME, p / "files" / RECORD_NAME):
        if candidate.is_file():
            return candidate
    return None


def is_run_dir(path: str | Path) -> bool:
    """True when ``path`` holds a run record written by :func:`save_run`."""
    return record_path(path) is not None


def load_run(path: str | Path) -> dict[str, Any]:
    """Read the run record of a run directory (or the record file itself)."""
    found = record_path(path)
    if found is None:
        raise RunSourceError(f"run {path}: no {RECORD_NAME} found in {path}")
    data = _read_record(found, f"run {path}")
    if not isinstance(data, dict) or data.get("format") != FORMAT or not isinstance(data.get("config"), dict):
        raise RunSourceError(f"run {path}: {found} is not a flows-workspace run record")
    version = data.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise RunSourceError(
            f"run {path}: {found}: record format version must be a whole number >= 1, got "
            f"{shown(version)}"
        )
    if version > VERSION:
        raise RunSourceError(
            f"run {path}: record format version {version} is newer than this library "
            f"reads ({VERSION}); upgrade flows-workspace"
        )
    return data
