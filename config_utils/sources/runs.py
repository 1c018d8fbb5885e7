"""Run records: the exact, typed config of a run as a JSON file, plus what made it.

``save_run(cfg, run_dir)`` writes ``run_dir/run_record.json``; feeding that directory back
(``--wandb-config run_dir``) re-creates the same config, union variants included, because
the config is stored with ``_type`` tags by :func:`config_utils.tree.to_primitives`.

A record is a promise: every value it accepts comes back exactly. :func:`check_recreatable`
writes each leaf as JSON, reads it back through the one typed conversion and compares; a value
that would come back different is refused, naming its key — ``bytes`` (stored as the text
``"b'abc'"``), an integer beyond Python's 4300-digit text limit, an object without a JSON form,
and the string ``"OMITTED"``, which is reserved: in a pulled config it means "this value was
omitted, keep the lower layer's" (prefigure's convention, kept for W&B pushes), so a config
holding it would silently re-create with another value.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import os
import platform
import stat
import subprocess
import sys
import tempfile
from importlib import metadata
from pathlib import Path
from typing import Any

from ..convert import convert, shown
from ..errors import ConfigError, RunSourceError
from ..provenance import provenance
from ..schema import is_config_instance, iter_instance
from ..tree import OMITTED, primitive, to_primitives

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


def _equal(a: Any, b: Any) -> bool:
    """Exact equality for re-created values: same types all the way down, NaN equals NaN."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return a == b or (math.isnan(a) and math.isnan(b))
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_equal(v, b[k]) for k, v in a.items())
    try:
        return bool(a == b)
    except Exception:  # noqa: BLE001 - an object whose == fails is not "equal"
        return False


def _holds_omitted(prim: Any) -> bool:
    if prim == OMITTED:
        return True
    if isinstance(prim, dict):
        return any(_holds_omitted(v) for v in prim.values())
    return False


def check_recreatable(cfg: Any, *, what: str = "save_run") -> None:
    """Raise :class:`RunSourceError` naming the first leaf of ``cfg`` that a run record (or a
    W&B push) could not give back exactly; see the module docstring."""
    if not is_config_instance(cfg):
        return
    for path, f, value in iter_instance(cfg):
        if f.kind != "leaf" and is_config_instance(value):
            continue
        why = _why_not_recreatable(path, f.type, value)
        if why:
            raise RunSourceError(f"{what}: {path}: {shown(value)} {why}")


def _why_not_recreatable(path: str, tp: Any, value: Any) -> str:
    try:
        prim = primitive(value, tp)
        if _holds_omitted(prim):
            return (
                f"is the reserved marker {OMITTED!r} (it means 'omitted: keep the lower "
                "layer') and would not come back; use another value"
            )
        back = convert(json.loads(json.dumps(prim)), tp, key=path, where="run record", text=False)
    except ConfigError as exc:
        return f"cannot be saved in a run record: it would not read back ({exc})"
    except (ValueError, TypeError, RecursionError, OverflowError) as exc:
        return f"cannot be saved in a run record ({type(exc).__name__}: {str(exc)[:80]})"
    if not _equal(back, value):
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
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    target = run_dir / RECORD_NAME
    if target.exists() and not _is_record_file(target):
        raise RunSourceError(f"{target} exists and is not a run record; not overwriting it")
    try:
        text = json.dumps(make_record(cfg, argv), indent=2, sort_keys=False)
    except (TypeError, ValueError) as exc:  # argv or provenance holding something odd
        raise RunSourceError(f"save_run: the run record cannot be written as JSON ({exc})") from None
    fd, tmp = tempfile.mkstemp(prefix=".run_record.", dir=run_dir)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text + "\n")
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def _read_bounded(path: Path) -> str:
    """A run record's text: a regular file of at most MAX_RECORD_BYTES (OSError otherwise)."""
    with open(path, "rb") as fh:
        if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
            raise OSError(f"{path} is not a regular file")
        data = fh.read(MAX_RECORD_BYTES + 1)
    if len(data) > MAX_RECORD_BYTES:
        raise OSError(f"larger than {MAX_RECORD_BYTES // (1024 * 1024)} MiB")
    return data.decode("utf-8", errors="strict")


def _is_record_file(path: Path) -> bool:
    try:
        data = json.loads(_read_bounded(path))
    except (OSError, ValueError, RecursionError):
        return False
    return isinstance(data, dict) and data.get("format") == FORMAT


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
    try:
        data = json.loads(_read_bounded(found))
    except OSError as exc:
        raise RunSourceError(f"run {path}: cannot read {found}: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise RunSourceError(f"run {path}: {found} is not UTF-8 text ({exc.reason})") from None
    except RecursionError:
        raise RunSourceError(f"run {path}: {found} is not valid JSON (nested too deeply)") from None
    except ValueError as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise RunSourceError(f"run {path}: {found} is not valid JSON ({first})") from None
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
    from ..errors import SourceError
    from .files import check_structure

    try:
        check_structure(data["config"], f"run {path}: {found}")
    except SourceError as exc:
        raise RunSourceError(str(exc)) from None
    return data
