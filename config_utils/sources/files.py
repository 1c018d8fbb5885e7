"""Config files as layers: ``.ini`` (primary), ``.toml``, ``.yaml``/``.yml``, ``.json``.

Each value keeps ``FILE:LINE`` as its source so that an unknown key or a bad value points
at the line to fix. Values stay raw here (text for ini, primitives for the others); the
typed conversion happens once, in :mod:`config_utils.layers`.

ini rules (a superset of prefigure's ``defaults.ini``): keys in ``[DEFAULTS]`` (or
``[DEFAULT]``, or before any section) are top-level; ``[a.b]`` sections prefix their keys
with ``a.b.``; dotted keys (``model.hidden = 256``) work anywhere. ``#``/``;`` lines are
comments, and the comment lines right above a key are its help text. A `` #`` or `` ;``
after a value starts an inline comment. Keys keep their case; ``accum-batches`` is
``accum_batches``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from ..errors import SourceError
from ..layers import Layer, RawValue
from ..tree import flatten

_SECTION = re.compile(r"^\[\s*([^\]]+?)\s*\]\s*(?:[#;].*)?$")
_TOP_SECTIONS = {"DEFAULTS", "DEFAULT", "defaults", "default"}


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
    if not p.is_file():
        raise SourceError(f"config file not found: {p}")
    return reader(p)


def _text(p: Path) -> str:
    try:
        return p.read_text(encoding="utf-8")
    except OSError as exc:
        raise SourceError(f"cannot read config file {p}: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise SourceError(f"{p}: not UTF-8 text ({exc.reason})") from None


def normalize_key(key: str) -> str:
    """``accum-batches`` → ``accum_batches`` (ini keys may use dashes like CLI flags)."""
    return key.strip().replace("-", "_")


def read_ini(path: str | Path) -> Layer:
    """Parse an ini file with line numbers and comment help (see the module docstring)."""
    p = Path(path)
    name = p.name
    values: dict[str, RawValue] = {}
    help_text: dict[str, str] = {}
    prefix = ""
    comments: list[str] = []
    last_key: str | None = None
    for lineno, line in enumerate(_text(p).splitlines(), start=1):
        stripped = line.strip()
        if not stripped:
            comments = []
            last_key = None
            continue
        if stripped[0] in "#;":
            comments.append(stripped.lstrip("#; ").strip())
            last_key = None
            continue
        section = _SECTION.match(stripped)
        if section:
            title = section.group(1)
            prefix = "" if title in _TOP_SECTIONS else normalize_key(title) + "."
            comments = []
            last_key = None
            continue
        if line[:1].isspace() and last_key is not None:
            # continuation line of a multi-line value
            old = values[last_key]
            values[last_key] = RawValue(f"{old.value}\n{stripped}", old.source)
            continue
        key, sep, value = _split_assignment(stripped)
        if not sep:
            raise SourceError(
                f"{name}:{lineno}: expected 'key = value' or '[section]', got {stripped!r}"
            )
        key = prefix + normalize_key(key)
        value = strip_inline_comment(value)
        values[key] = RawValue(value, f"{name}:{lineno}")
        if comments:
            help_text[key] = " ".join(c for c in comments if c)
        comments = []
        last_key = key
    return Layer(name=name, values=values, help=help_text)


def _split_assignment(line: str) -> tuple[str, str, str]:
    """Split at the first ``=`` or ``:`` (configparser's delimiters)."""
    positions = [i for i in (line.find("="), line.find(":")) if i > 0]
    if not positions:
        return line, "", ""
    i = min(positions)
    return line[:i].strip(), line[i], line[i + 1 :].strip()


def strip_inline_comment(value: str) -> str:
    """Cut a `` # comment`` / `` ; comment`` after a value, but never inside quotes.

    ``"a # b"  # note`` → ``"a # b"``; ``['x # y', 2]  ; note`` → ``['x # y', 2]``.
    """
    track_quotes = value[:1] in "'\"[({"
    quote = ""
    prev = ""
    for i, ch in enumerate(value):
        if quote:
            if ch == quote and prev != "\\":
                quote = ""
        elif ch in "'\"" and track_quotes:
            quote = ch
        elif ch in "#;" and prev != "" and prev.isspace():
            return value[:i].rstrip()
        prev = ch
    return value.rstrip()


def _structured(p: Path, data: Any, kind: str) -> Layer:
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise SourceError(f"{p.name}: expected a {kind} mapping of keys at the top level, got {type(data).__name__}")
    lines = _text(p).splitlines()
    values: dict[str, RawValue] = {}
    for key, value in flatten(data).items():
        line = _find_line(lines, key)
        values[normalize_key_path(key)] = RawValue(value, f"{p.name}:{line}" if line else p.name, text=False)
    return Layer(name=p.name, values=values)


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
    try:
        data = json.loads(_text(p))
    except json.JSONDecodeError as exc:
        raise SourceError(f"{p.name}:{exc.lineno}: invalid JSON: {exc.msg}") from None
    return _structured(p, data, "JSON")


def _read_toml(p: Path) -> Layer:
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib  # type: ignore[no-redef]
    try:
        data = tomllib.loads(_text(p))
    except tomllib.TOMLDecodeError as exc:
        raise SourceError(f"{p.name}: invalid TOML: {exc}") from None
    return _structured(p, data, "TOML")


def _read_yaml(p: Path) -> Layer:
    try:
        import yaml
    except ModuleNotFoundError:
        raise SourceError(f"{p.name}: reading YAML needs PyYAML: pip install 'flows-workspace[yaml]'") from None
    try:
        data = yaml.safe_load(_text(p))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{p.name}:{mark.line + 1}" if mark is not None else p.name
        raise SourceError(f"{where}: invalid YAML: {getattr(exc, 'problem', exc)}") from None
    return _structured(p, data, "YAML")
