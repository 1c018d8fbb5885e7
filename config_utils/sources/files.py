"""Config files as layers: ``.ini`` (primary), ``.toml``, ``.yaml``/``.yml``, ``.json``.

Each value keeps ``FILE:LINE`` as its source so that an unknown key or a bad value points
at the line to fix. Values stay raw here (text for ini, primitives for the others); the
typed conversion happens once, in :mod:`config_utils.layers`.

ini files are read by the one ini dialect, :mod:`config_utils.ini` (a superset of prefigure's
``defaults.ini``: ``[DEFAULTS]`` holds top-level keys, ``[a.b]`` sections, dotted keys, comment
help, inline comments; a key or section given twice is an error naming both lines).

Every reader is bounded: only regular files of at most :data:`MAX_BYTES` are read, parsed data
deeper than :data:`MAX_DEPTH` or larger than :data:`MAX_NODES` is refused, and every parser
failure (JSON nested 100,000 deep, a 5000-digit number) is one :class:`SourceError` line.
"""

from __future__ import annotations

import json
import os
import re
import stat
from pathlib import Path
from typing import Any

from .. import ini
from ..errors import SourceError
from ..ini import cut_inline_comment as strip_inline_comment
from ..ini import normalize_key
from ..layers import Layer, RawValue
from ..tree import flatten

__all__ = ["MAX_BYTES", "check_structure", "normalize_key", "read_file", "read_ini", "strip_inline_comment"]

# A config file is read whole into memory: refuse anything larger than any config can be
# (and device files such as /dev/zero that never end).
MAX_BYTES = 16 * 1024 * 1024
# Nesting and size bounds for parsed json/toml/yaml data: deeper or larger data is not a
# config, and walking it would exhaust the stack or the memory (YAML aliases can expand a
# small file into billions of nodes).
MAX_DEPTH = 100
MAX_NODES = 200_000


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
    """The file's text: a regular file of at most MAX_BYTES, UTF-8."""
    try:
        with open(p, "rb") as fh:
            if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
                raise SourceError(f"config file {p} is not a regular file")
            data = fh.read(MAX_BYTES + 1)
    except OSError as exc:
        raise SourceError(f"cannot read config file {p}: {exc.strerror or exc}") from None
    if len(data) > MAX_BYTES:
        raise SourceError(f"config file {p} is larger than {MAX_BYTES // (1024 * 1024)} MiB")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SourceError(f"{p}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None


def check_structure(data: Any, where: str) -> None:
    """Refuse parsed data nested deeper than MAX_DEPTH or with more than MAX_NODES values
    (counted as a walk sees them, so shared YAML aliases count every time)."""
    stack: list[tuple[Any, int]] = [(data, 0)]
    nodes = 0
    while stack:
        item, depth = stack.pop()
        nodes += 1
        if nodes > MAX_NODES:
            raise SourceError(f"{where}: more than {MAX_NODES} values; not a config")
        if depth > MAX_DEPTH:
            raise SourceError(f"{where}: nested deeper than {MAX_DEPTH} levels; not a config")
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, (list, tuple)):
            stack.extend((v, depth + 1) for v in item)


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


def _structured(p: Path, data: Any, kind: str) -> Layer:
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise SourceError(f"{shown_path(p)}: expected a {kind} mapping of keys at the top level, got {type(data).__name__}")
    check_structure(data, shown_path(p))
    bad = _non_string_key(data)
    if bad is not None:
        raise SourceError(f"{shown_path(p)}: key {bad!r} is not a string; {kind} config keys are names")
    lines = _text(p).splitlines()
    label = shown_path(p)
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
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SourceError(f"{shown_path(p)}:{exc.lineno}: invalid JSON: {exc.msg}") from None
    except RecursionError:
        raise SourceError(f"{shown_path(p)}: invalid JSON: nested too deeply") from None
    except ValueError as exc:  # e.g. an integer beyond Python's 4300-digit limit
        raise SourceError(f"{shown_path(p)}: invalid JSON: {str(exc).splitlines()[0]}") from None
    return _structured(p, data, "JSON")


def _read_toml(p: Path) -> Layer:
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib  # type: ignore[no-redef]
    text = _text(p)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SourceError(f"{shown_path(p)}: invalid TOML: {str(exc).splitlines()[0]}") from None
    except RecursionError:
        raise SourceError(f"{shown_path(p)}: invalid TOML: nested too deeply") from None
    except ValueError as exc:  # an integer beyond Python's digit limit
        raise SourceError(f"{shown_path(p)}: invalid TOML: {str(exc).splitlines()[0]}") from None
    return _structured(p, data, "TOML")


_YAML_DASHES = re.compile(r"(?:-[ \t]+){" + str(MAX_DEPTH + 1) + ",}")


def _yaml_too_deep(text: str) -> bool:
    """A cheap look before PyYAML (pure Python, recursive, slow on deep input): flow brackets,
    a run of ``- - -`` items or an indentation deeper than any config nests."""
    from ..convert import literal_depth

    if literal_depth(text) > MAX_DEPTH or _YAML_DASHES.search(text):
        return True
    return any(len(line) - len(line.lstrip(" ")) > 4 * MAX_DEPTH for line in text.split("\n"))


def _read_yaml(p: Path) -> Layer:
    try:
        import yaml
    except ModuleNotFoundError:
        raise SourceError(f"{shown_path(p)}: reading YAML needs PyYAML: pip install 'flows-workspace[yaml]'") from None
    text = _text(p)
    if _yaml_too_deep(text):
        raise SourceError(f"{shown_path(p)}: invalid YAML: nested deeper than {MAX_DEPTH} levels")
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{shown_path(p)}:{mark.line + 1}" if mark is not None else shown_path(p)
        problem = str(getattr(exc, "problem", None) or exc).splitlines()[0]
        raise SourceError(f"{where}: invalid YAML: {problem}") from None
    except RecursionError:
        raise SourceError(f"{shown_path(p)}: invalid YAML: nested too deeply") from None
    except ValueError as exc:  # an integer beyond Python's digit limit, a bad date
        raise SourceError(f"{shown_path(p)}: invalid YAML: {str(exc).splitlines()[0]}") from None
    return _structured(p, data, "YAML")
