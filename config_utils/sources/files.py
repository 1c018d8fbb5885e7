"""Config files as layers: ``.ini`` (primary), ``.toml``, ``.yaml``/``.yml``, ``.json``.

Each value keeps ``FILE:LINE`` as its source so that an unknown key or a bad value points
at the line to fix. Values stay raw here (text for ini, primitives for the others); the
typed conversion happens once, in :mod:`config_utils.layers`.

ini files are read by the one ini dialect, :mod:`config_utils.ini` (a superset of prefigure's
``defaults.ini``: ``[DEFAULTS]`` holds top-level keys, ``[a.b]`` sections, dotted keys, comment
help, inline comments; a key or section given twice is an error naming both lines).

Every reader is bounded, by the house's one reader (:mod:`config_utils.readers`): only
regular files of at most :data:`~config_utils.readers.DEFAULT_LIMIT` bytes are read, parsed data
deeper or larger than any config is refused, a YAML alias bomb is stopped while it is composed,
a key given twice in JSON or YAML is an error (both formats keep the last one silently), and every
parser failure is one :class:`SourceError` line.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

from .. import ini
from ..errors import SourceError
from ..ini import cut_inline_comment as strip_inline_comment
from ..ini import normalize_key
from ..layers import Layer, RawValue
from ..readers import MAX_DEPTH, ReadProblem, check_size, load_json, load_yaml, read_text
from ..tree import flatten

__all__ = ["normalize_key", "read_file", "read_ini", "strip_inline_comment"]


def read_file(path: str | Path) -> Layer:
    """Read a config file into a :class:`Layer`; the suffix chooses the format."""
    p = Path(path)
    suffix = p.suffix.lower()
    readers = {".ini": read_ini, ".cfg": read_ini, ".toml": _read_toml, ".yaml": _read_yaml, ".yml": _read_yaml, ".json": _read_json}
    reader = readers.get(suffix)
    if reader is None:
        raise SourceError(
            f"{p}: unsupported config file type {suffix or '(no suffix)'!r}; "
            "expected .ini, .toml, .yaml, .yml or .json"
        )
    if not p.exists():
        raise SourceError(f"config file not found: {p}")
    if not p.is_file():
        raise SourceError(f"config file {p} is not a regular file")
    return reader(p)


def shown_path(path: str | Path) -> str:
    """A config file as provenance and messages name it: relative to the working directory
    when the file is inside it (``examples/defaults.ini:12``, so it is clear which of several
    ``defaults.ini`` files a value came from), else its name."""
    p = Path(path)
    try:
        return p.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except (ValueError, OSError, RuntimeError):  # outside the working directory, or unreadable
        return p.name


def _text(p: Path) -> str:
    """The file's text (the house's bounded reader); a missing file says so plainly."""
    try:
        return read_text(p)
    except ReadProblem as exc:
        if exc.kind == "missing":
            raise SourceError(f"config file not found: {p}") from None
        raise


def read_ini(path: str | Path) -> Layer:
    """Parse an ini file in the one dialect (:mod:`config_utils.ini`) into a :class:`Layer`.

    Every value keeps ``FILE:LINE``; the comment lines above a key are its help. Any problem
    (a garbage line, a key or section given twice) is one :class:`SourceError` line.
    """
    p = Path(path)
    label = shown_path(p)
    doc = ini.read_ini(_text(p), source=label, strict=True)
    values = {e.key: RawValue(e.value_text, f"{label}:{e.line}") for e in doc.entries}
    help_text = {e.key: e.help for e in doc.entries if e.comment_above}
    return Layer(name=label, values=values, help=help_text)


def _structured(p: Path, text: str, data: Any, kind: str) -> Layer:
    label = shown_path(p)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise SourceError(f"{label}: expected a {kind} mapping of keys at the top level, got {type(data).__name__}")
    bad = _non_string_key(data)
    if bad is not None:
        raise SourceError(f"{label}: key {bad!r} is not a string; {kind} config keys are names")
    lines = text.splitlines()
    values: dict[str, RawValue] = {}
    for key, value in flatten(data).items():
        line = _find_line(lines, key)
        values[normalize_key_path(key)] = RawValue(value, f"{label}:{line}" if line else label, text=False)
    return Layer(name=label, values=values)


def _non_string_key(data: Any) -> Any:
    """The first mapping key that is not a string (YAML allows ``1: x``, ``[a]: x``), or None."""
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            for k, v in item.items():
                if not isinstance(k, str):
                    return k
                stack.append(v)
        elif isinstance(item, list):
            stack.extend(item)
    return None


def normalize_key_path(key: str) -> str:
    return ".".join(normalize_key(part) for part in key.split("."))


def _find_line(lines: list[str], dotted: str) -> int:
    """Best-effort line of a nested key: each part searched after its parent's line.

    A part is found before ``:``/``=`` (json, yaml, toml and ini keys), before ``]`` (a toml
    table header ``[model]``) or before ``.`` (toml dotted keys and ``[loss.module]``).
    """
    row, col = 0, 0  # search position: after the parent part's match
    for part in dotted.split("."):
        pattern = re.compile(r'(^|[\s{,"\'\[.])' + re.escape(part) + r'("|\'|\s)*[:=\].]')
        for i in range(row, len(lines)):
            match = pattern.search(lines[i], col if i == row else 0)
            if match:
                row, col = i, match.end() - 1
                break
        else:
            return 0
    return row + 1


def _read_json(p: Path) -> Layer:
    text = _text(p)
    return _structured(p, text, load_json(text, where=shown_path(p)), "JSON")


def _read_toml(p: Path) -> Layer:
    """TOML (stdlib ``tomllib``; TOML itself refuses a key given twice)."""
    text = _text(p)
    label = shown_path(p)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SourceError(f"{label}: not valid TOML: {str(exc).splitlines()[0]}") from None
    except RecursionError:
        raise SourceError(f"{label}: nested deeper than {MAX_DEPTH} levels") from None
    except ValueError as exc:  # an integer beyond Python's digit limit
        raise SourceError(f"{label}: not valid TOML: {str(exc).splitlines()[0]}") from None
    check_size(data, label)
    return _structured(p, text, data, "TOML")


def _read_yaml(p: Path) -> Layer:
    text = _text(p)
    label = shown_path(p)
    try:
        data = load_yaml(text, where=label)
    except ModuleNotFoundError:
        raise SourceError(f"{label}: reading YAML needs PyYAML: pip install 'flows-workspace[yaml]'") from None
    return _structured(p, text, data, "YAML")
