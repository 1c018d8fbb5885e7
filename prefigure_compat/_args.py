"""prefigure 0.0.10's argument machinery: config file -> W&B run -> command line.

Why a separate module: this is the part every legacy script runs at start-up, so it must
stay as cheap as a hand-written ``argparse`` script. It imports only the standard library at
import time; ``config_utils.errors`` is imported when an error is raised, gin only in gin
mode, wandb only when ``--wandb-config`` is given (in ``_wandb.py``).

The behaviour follows prefigure's source line by line where prefigure is right (see the
table in ``prefigure_compat/__init__.py`` for where it deliberately is not).
"""

from __future__ import annotations

import argparse
import configparser
import copy
import json
import sys
from ast import literal_eval
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

DEFAULTS_FILE = "defaults.ini"  # override via --config-file

#: keys that are command-line options of their own; a config key of that name is skipped.
RESERVED_KEYS = ("wandb_config", "config_file")

#: config file suffixes prefigure knows, also the ones ``parse_imports`` follows.
CONFIG_SUFFIXES = (".ini", ".json", ".gin")

_TRUE = frozenset({"true", "yes", "y", "on", "1", "t"})
_FALSE = frozenset({"false", "no", "n", "off", "0", "f"})


def _source_error(message: str) -> Exception:
    """A ``config_utils`` SourceError, imported only when something went wrong."""
    from config_utils.errors import SourceError

    return SourceError(message)


def arg_eval(value: Any) -> Any:
    """Type a raw value the way prefigure does: ``literal_eval`` of its text, else the value.

    ``"8"`` -> 8, ``"[4, 2]"`` -> [4, 2], ``"'x'"`` -> 'x', ``"~/data"`` -> '~/data'.
    """
    try:
        val = literal_eval(str(value))
    except (SyntaxError, ValueError, AssertionError, TypeError, MemoryError, RecursionError):
        val = value
    return val


def setup_gin(gin_file: str) -> tuple[dict[str, Any], str]:
    """gin mode: gin parses the file and nothing else runs (prefigure >= 0.0.9)."""
    try:
        import gin
    except ImportError as exc:  # pragma: no cover - gin-config is an optional extra
        raise _source_error(
            f"{gin_file}: gin mode needs the gin-config package (pip install 'flows-workspace[gin]')"
        ) from exc
    try:
        gin.parse_config_file(gin_file)
    except OSError as exc:
        raise _source_error(f"{gin_file}: cannot read gin file: {exc.strerror or exc}") from exc
    except (ValueError, SyntaxError, KeyError, TypeError) as exc:
        # gin's message ends with 'In file "...", line N' and the line: keep it on one line
        detail = "; ".join(part.strip() for part in str(exc).splitlines() if part.strip())
        raise _source_error(f"{gin_file}: gin could not parse it: {detail}") from exc
    return {}, ""


def _read_text(config_file: str) -> str:
    try:
        return Path(config_file).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise _source_error(f"config file {config_file!r} not found") from None
    except OSError as exc:
        raise _source_error(f"config file {config_file!r}: cannot read it: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise _source_error(f"config file {config_file!r} is not UTF-8 text: {exc.reason}") from None


def _read_ini(config_file: str) -> tuple[dict[str, Any], list[str]]:
    """configparser with case-preserved keys, the ``[DEFAULTS]`` section, raw string values."""
    text = _read_text(config_file)
    parser = configparser.ConfigParser()
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keep uppercase keys
    try:
        parser.read_string(text, source=config_file)
    except configparser.Error as exc:
        raise _source_error(f"{config_file}: not a valid ini file: {exc.message}") from None
    if not parser.has_section("DEFAULTS"):
        from config_utils.errors import did_you_mean

        sections = parser.sections() + (["DEFAULT"] if parser.defaults() else [])
        found = ", ".join(f"[{s}]" for s in sections) or "none"
        raise _source_error(
            f"{config_file}: no [DEFAULTS] section (found: {found})"
            f"{did_you_mean('DEFAULTS', sections)}; prefigure reads its keys from [DEFAULTS]"
        )
    try:
        config: dict[str, Any] = dict(parser.items("DEFAULTS"))
    except configparser.InterpolationError as exc:
        raise _source_error(
            f"{config_file}: [DEFAULTS] {exc.option}: {exc.message.splitlines()[0]} "
            "(write %% for a literal %)"
        ) from None
    return config, text.splitlines(keepends=True)


def _read_json(config_file: str) -> dict[str, Any]:
    text = _read_text(config_file)
    try:
        config = json.loads(text)
    except json.JSONDecodeError as exc:
        raise _source_error(
            f"{config_file}:{exc.lineno}: not valid JSON: {exc.msg} (column {exc.colno})"
        ) from None
    if not isinstance(config, dict):
        raise _source_error(
            f"{config_file}: expected a JSON object of settings at the top level, "
            f"got {type(config).__name__}"
        )
    return config


def read_config(config_file: str) -> tuple[dict[str, Any], Any]:
    """Read one config file into ``(settings, text)`` as prefigure does.

    ``.ini``: the ``[DEFAULTS]`` section as raw strings and the file's lines (for help);
    ``.json``: the object, text ``''``; ``.gin``: gin parses it, ``({}, '')``.
    """
    suffix = Path(config_file).suffix
    if suffix == ".gin":
        print(f"prefigure: Switching to gin mode for config file {config_file}")
        return setup_gin(config_file)
    if suffix == ".json":
        return _read_json(config_file), ""
    if suffix == ".ini":
        return _read_ini(config_file)
    raise _source_error(
        f"config file {config_file!r}: unknown extension {suffix!r}; expected one of "
        + ", ".join(CONFIG_SUFFIXES)
    )


def _fail(message: str) -> NoReturn:
    """Command-line exit for a user mistake: one line on stderr, status 2, no traceback."""
    prog = Path(sys.argv[0]).name if sys.argv and sys.argv[0] else "prefigure"
    sys.stderr.write(f"{prog}: error: {message}\n")
    sys.exit(2)


def _pre_parser(defaults_file: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(add_help=False)
    p.add_argument("--config-file", required=False, default=defaults_file)
    p.add_argument("--wandb-config", required=False, default=None)
    return p


def read_defaults(defaults_file: str = DEFAULTS_FILE) -> tuple[dict[str, Any], Any]:
    """Read the config file named by ``--config-file`` (default ``defaults_file``).

    A file that cannot be read ends the program with status 2 and a one-line message.
    """
    config_file = _pre_parser(defaults_file).parse_known_args()[0].config_file
    try:
        return read_config(config_file)
    except Exception as exc:
        _exit_on_config_error(exc)


def _exit_on_config_error(exc: BaseException) -> NoReturn:
    from config_utils.errors import ConfigError

    if isinstance(exc, ConfigError):
        _fail(str(exc))
    raise exc


def _help_for(lines: Sequence[str]) -> dict[str, str]:
    """Help of each key: the comment line(s) directly above the line that sets it."""
    helps: dict[str, str] = {}
    comments: list[str] = []
    in_defaults = False
    for raw in lines:
        line = raw.strip()
        if line.startswith("[") and line.endswith("]"):
            in_defaults = line == "[DEFAULTS]"
            comments = []
        elif line.startswith(("#", ";")):
            comments.append(line.lstrip("#;").strip())
        elif not line:
            comments = []
        else:
            if in_defaults and raw[:1] not in " \t":  # not a continuation line
                key = line.replace(":", "=", 1).split("=", 1)[0].strip()
                if comments and key not in helps:
                    helps[key] = " ".join(c for c in comments if c)
            comments = []
    return helps


def _parse_bool(text: str) -> bool:
    """``--flag False`` is False (prefigure's ``bool('False')`` made it True)."""
    lowered = text.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise argparse.ArgumentTypeError(f"expected True or False, got {text!r}")


def _container_type(kind: type) -> Callable[[str], Any]:
    """Parse ``[1, 2]``/``{'a': 1}`` with literal_eval (prefigure's ``list('[1, 2]')`` split characters)."""
    examples: dict[type, str] = {list: "[1, 2]", tuple: "(1, 2)", dict: "{'a': 1}", set: "{1, 2}"}
    example = examples.get(kind, "")

    def parse(text: str) -> Any:
        value = arg_eval(text)
        if isinstance(value, kind):
            return value
        if kind in (list, tuple, set) and isinstance(value, (list, tuple, set)):
            return kind(value)
        raise argparse.ArgumentTypeError(
            f"expected a {kind.__name__} literal like {example}, got {text!r}"
        )

    parse.__name__ = kind.__name__
    return parse


def _typed_default(value: Any) -> Any:
    """prefigure's typing of one setting: a ``Path`` when a string value contains ``_dir``."""
    return Path(value) if (type(value) is str and "_dir" in value) else arg_eval(value)


def build_parser(
    defaults: dict[str, Any],
    defaults_text: Any = "",
    *,
    config_file_default: str | None = None,
) -> argparse.ArgumentParser:
    """The full command-line parser: ``--config-file``, ``--wandb-config`` and one option per key."""
    p = argparse.ArgumentParser(formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument(
        "--config-file",
        required=False,
        default=DEFAULTS_FILE if config_file_default is None else config_file_default,
        help="name of local configuration (.ini) file",
    )
    p.add_argument("--wandb-config", required=False, help="wandb url to pull config from")
    helps = _help_for(defaults_text) if isinstance(defaults_text, (list, tuple)) else {}
    for key, value in defaults.items():
        if key in RESERVED_KEYS:
            continue  # prefigure's `break` here silently dropped every later key
        text = helps.get(key, "").replace("%", "%%")
        argname = "--" + key.replace("_", "-")
        val = _typed_default(value)
        if val is None:
            p.add_argument(argname, type=str, nargs="?", const=None, default=None, help=text)
        elif type(val) is bool:
            p.add_argument(argname, type=_parse_bool, nargs="?", const=True, default=val, help=text)
        elif type(val) in (list, tuple, dict, set):
            p.add_argument(argname, type=_container_type(type(val)), default=val, help=text)
        else:
            p.add_argument(argname, type=type(val), default=val, help=text)
    return p


def setup_args(defaults: dict[str, Any], defaults_text: Any = "") -> argparse.Namespace:
    """Parse ``sys.argv`` with one option per config key, the config values as defaults."""
    return build_parser(defaults, defaults_text).parse_args()


def _import_names(imports: Any) -> set[str]:
    """The keys named by ``imports``: a list, or a comma-separated string as in the seed ini."""
    if isinstance(imports, str):
        return {part.strip().strip("'\"") for part in imports.split(",") if part.strip()}
    if isinstance(imports, (list, tuple, set)):
        return {str(item) for item in imports}
    return set()


def parse_imports(args: argparse.Namespace, debug: bool = False) -> argparse.Namespace:
    """Replace each setting named in ``args.imports`` whose value is a config file by its contents."""
    if not hasattr(args, "imports"):
        return args
    names = _import_names(args.imports)
    for key, value in list(vars(args).items()):
        if debug:
            print(f"parse_imports: key = {key}, value = {value}")
        if key in RESERVED_KEYS or key not in names:
            continue
        if isinstance(value, str) and Path(value).suffix in CONFIG_SUFFIXES:
            if debug:
                print(f"parse_imports: Parsing config file {value}")
            try:
                new_value, _ = read_config(value)
            except Exception as exc:
                from config_utils.errors import ConfigError, SourceError

                if isinstance(exc, ConfigError):
                    raise SourceError(f"imports: {key} = {value!r}: {exc}") from exc
                raise
            setattr(args, key, new_value)
    return args


def pull_wandb_config(wandb_config: str, defaults: dict[str, Any]) -> dict[str, Any]:
    """Override ``defaults`` with the config of a previous W&B run (``OMITTED`` values skipped)."""
    from ._wandb import pull_flat

    for key, value in pull_flat(wandb_config).items():
        if value != "OMITTED":
            defaults[key] = arg_eval(value)
    return defaults


def get_all_args(defaults_file: str = DEFAULTS_FILE) -> argparse.Namespace:
    """Config setup, lowest first: config file, then ``--wandb-config`` run, then command line."""
    argv = sys.argv[1:]
    pre, _ = _pre_parser(defaults_file).parse_known_args(argv)
    config_file: str = pre.config_file
    if Path(config_file).suffix == ".gin":  # gin mode: gin parses the file, nothing else runs
        try:
            read_config(config_file)
        except Exception as exc:
            _exit_on_config_error(exc)
        return build_parser({}, config_file_default=defaults_file).parse_args(argv)
    try:
        defaults, defaults_text = read_config(config_file)
        if pre.wandb_config is not None:
            defaults = pull_wandb_config(pre.wandb_config, copy.copy(defaults))
    except Exception as exc:
        _exit_on_config_error(exc)
    args = build_parser(defaults, defaults_text, config_file_default=defaults_file).parse_args(argv)
    try:
        return parse_imports(args)
    except Exception as exc:
        _exit_on_config_error(exc)
