"""Run records: the exact, typed config of a run as a JSON file, plus what made it.

``save_run(cfg, run_dir)`` writes ``run_dir/run_record.json``; feeding that directory back
(``--wandb-config run_dir``) re-creates the same config, union variants included, because
the config is stored with ``_type`` tags by :func:`config_utils.tree.to_primitives`.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import platform
import subprocess
import sys
import tempfile
from importlib import metadata
from pathlib import Path
from typing import Any

from ..errors import RunSourceError
from ..provenance import provenance
from ..tree import to_primitives

RECORD_NAME = "run_record.json"
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

    A file of that name that is not a run record (a user's file) is never overwritten.
    """
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    target = run_dir / RECORD_NAME
    if target.exists() and not _is_record_file(target):
        raise RunSourceError(f"{target} exists and is not a run record; not overwriting it")
    text = json.dumps(make_record(cfg, argv), indent=2, sort_keys=False, default=str)
    fd, tmp = tempfile.mkstemp(prefix=".run_record.", dir=run_dir)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text + "\n")
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def _is_record_file(path: Path) -> bool:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
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
        data = json.loads(found.read_text(encoding="utf-8"))
    except OSError as exc:
        raise RunSourceError(f"run {path}: cannot read {found}: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise RunSourceError(f"run {path}: {found} is not valid JSON ({exc})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT or not isinstance(data.get("config"), dict):
        raise RunSourceError(f"run {path}: {found} is not a flows-workspace run record")
    if data.get("version", 0) > VERSION:
        raise RunSourceError(
            f"run {path}: record format version {data['version']} is newer than this library "
            f"reads ({VERSION}); upgrade flows-workspace"
        )
    return data
