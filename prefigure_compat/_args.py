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
    from config_utils.readers import ReadProblem, read_text

    try:
        read_text(gin_file)  # a FIFO, a device or a huge file: one line before gin opens it
    except ReadProblem as exc:
        raise _source_error(f"{gin_file}: cannot read gin file: {exc.detail}") from None
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
    """The file's text, by the house's one bounded reader (a FIFO, a device or a huge file is
    one line, never a hang)."""
    from config_utils.readers import ReadProblem, read_text

    try:
        return read_text(config_file)
    except ReadProblem as exc:
        if exc.kind == "missing":
            raise _source_error(f"config file {config_file!r} not found") from None
        raise _source_error(f"config file {config_file!r}: {exc.detail}") from None


def _first_line_of(lines: Sequence[str], section: str, key: str | None, before: int) -> int | None:
    """The line number (1-based) where ``[section]`` (or ``key`` inside it) first appears."""
    current = None
    for number, raw in enumerate(lines[: max(before - 1, 0)], start=1):
        line = raw.strip()
        if line.startswith("[") and line.endswith("]"):
            current = line[1:-1]
            if key is None and current == section:
                return number
        elif key is not None and current == section and raw[:1] not in " \t":
            if _key_of(line) == key:
                return number
    return None


def _ini_syntax_message(exc: configparser.Error, config_file: str, lines: Sequence[str]) -> str:
    """One line for a configparser error (its own messages span two or three lines)."""
    if isinstance(exc, configparser.MissingSectionHeaderError):
        shown = exc.line.strip()[:60]
        return (
            f"{config_file}:{exc.lineno}: {shown!r} comes before any [section] header; "
            "prefigure reads its keys from a [DEFAULTS] section"
        )
    if isinstance(exc, configparser.ParsingError):
        errors = list(getattr(exc, "errors", []))
        if errors:
            lineno, line = errors[0]
            if isinstance(line, str) and line[:1] in "'\"":  # configparser stores repr(line)
                try:
                    line = literal_eval(line)
                except (ValueError, SyntaxError):
                    pass
            more = f" (and {len(errors) - 1} more such lines)" if len(errors) > 1 else ""
            return (
                f"{config_file}:{lineno}: cannot read {line.strip()[:60]!r}: expected "
                f"'key = value', a [section] header or a comment{more}"
            )
    if isinstance(exc, configparser.DuplicateOptionError):
        first = _first_line_of(lines, exc.section, exc.option, exc.lineno or 0)
        where = f" (first set on line {first})" if first else ""
        return (
            f"{config_file}:{exc.lineno}: key {exc.option!r} appears twice in "
            f"[{exc.section}]{where}; keep one"
        )
    if isinstance(exc, configparser.DuplicateSectionError):
        first = _first_line_of(lines, exc.section, None, exc.lineno or 0)
        where = f" (first on line {first})" if first else ""
        return (
            f"{config_file}:{exc.lineno}: section [{exc.section}] appears twice{where}; "
            "merge them into one"
        )
    detail = "; ".join(part.strip() for part in str(exc).splitlines() if part.strip())
    return f"{config_file}: not a valid ini file: {detail}"


def _read_ini(config_file: str) -> tuple[dict[str, Any], list[str]]:
    """configparser with case-preserved keys, the ``[DEFAULTS]`` section, raw string values."""
    text = _read_text(config_file)
    if text.startswith("\ufeff"):  # a UTF-8 byte-order mark (Windows editors write one)
        text = text[1:]
    parser = configparser.ConfigParser()
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keep uppercase keys
    try:
        parser.read_string(text, source=config_file)
    except configparser.Error as exc:
        message = _ini_syntax_message(exc, config_file, text.splitlines())
        raise _source_error(message) from None
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
    """The house's JSON reader (``config_utils.readers.load_json``): a key given twice, nesting
    deeper than any config or a document of millions of values is one line naming the file,
    never the last value silently winning or a ``RecursionError``."""
    from config_utils.readers import load_json

    config = load_json(_read_text(config_file), where=config_file)  # a ReadProblem: a SourceError
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


class BareParser(argparse.ArgumentParser):
    """prefigure's parser for reporting a config-file problem: the error, then the help, exit 2.

    prefigure calls it as ``parser.error(exception, message)`` and prints
    ``ERROR: <message> <exception>``, a blank line and the help; that form is kept for scripts
    that use it. argparse itself calls ``error(message)`` (a bad option): prefigure's version
    then crashed with a ``TypeError``; here it is argparse's usual usage line and
    ``prog: error: message``, exit 2.
    """

    def error(self, e: Any, message: Any = None) -> NoReturn:  # type: ignore[override]
        if message is None:
            super().error(str(e))
        sys.stderr.write(f"ERROR: {message} {e}\n\n")
        self.print_help()
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


def _key_of(line: str) -> str:
    """The key of a ``key = value`` / ``key: value`` line (configparser splits at the first)."""
    cut = min((i for i in (line.find("="), line.find(":")) if i >= 0), default=len(line))
    return line[:cut].strip()


def _scan_defaults(lines: Sequence[str]) -> tuple[dict[str, str], dict[str, int]]:
    """For each ``[DEFAULTS]`` key: its help (the comment line(s) directly above it) and its
    line number (1-based), so that a message about a key can point at the line."""
    helps: dict[str, str] = {}
    numbers: dict[str, int] = {}
    comments: list[str] = []
    in_defaults = False
    for number, raw in enumerate(lines, start=1):
        line = raw.strip()
        if number == 1:
            line = line.lstrip("\ufeff")
        if line.startswith("[") and line.endswith("]"):
            in_defaults = line == "[DEFAULTS]"
            comments = []
        elif line.startswith(("#", ";")):
            comments.append(line.lstrip("#;").strip())
        elif not line:
            comments = []
        else:
            if in_defaults and raw[:1] not in " \t":  # not a continuation line
                key = _key_of(line)
                numbers.setdefault(key, number)
                if comments and key not in helps:
                    helps[key] = " ".join(c for c in comments if c)
            comments = []
    return helps, numbers


def _parse_bool(text: str) -> bool:
    """``--flag False`` is False (prefigure's ``bool('False')`` made it True).

    The words are config_utils' one boolean vocabulary (``config_utils.convert``), so a script
    moved from prefigure_compat to ``config_utils.cli`` takes the same ones.
    """
    from config_utils.convert import _FALSE, _TRUE

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


#: options every parser has; a config key that would become one of them is refused.
BUILTIN_OPTIONS = {
    "--help": "argparse's help option",
    "--config-file": "the option naming the config file",
    "--wandb-config": "the option naming a W&B run to pull",
}


def _option_clash(key: str, argname: str, taken: dict[str, str], where: Callable[[str], str]) -> str | None:
    """Why ``key`` cannot become the option ``argname`` (None when it can)."""
    if argname in BUILTIN_OPTIONS:
        return (
            f"{where(key)}key {key!r} would be the option {argname}, which is "
            f"{BUILTIN_OPTIONS[argname]}; rename the key"
        )
    other = taken.get(argname)
    if other is not None:
        return (
            f"{where(key)}keys {other!r} ({where(other).rstrip(': ') or 'earlier'}) and {key!r} are "
            f"both the option {argname} ('_' and '-' are the same on the command line); "
            "rename one of them"
        )
    if not argname.strip("-"):
        return (
            f"{where(key)}key {key!r} cannot be a command-line option (it would be "
            f"{argname!r}); use letters, digits, '_' or '-'"
        )
    return None


def build_parser(
    defaults: dict[str, Any],
    defaults_text: Any = "",
    *,
    config_file_default: str | None = None,
    source: str | None = None,
) -> argparse.ArgumentParser:
    """The full command-line parser: ``--config-file``, ``--wandb-config`` and one option per key.

    A key that cannot be an option of its own (``help``, ``config-file``, both ``a_b`` and
    ``a-b``, ``--``) raises a ``SourceError`` naming the key and, with ``source`` and the
    file's lines, the line: argparse would stop with a traceback.
    """
    p = argparse.ArgumentParser(formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument(
        "--config-file",
        required=False,
        default=DEFAULTS_FILE if config_file_default is None else config_file_default,
        help="name of local configuration (.ini) file",
    )
    p.add_argument("--wandb-config", required=False, help="wandb url to pull config from")
    if isinstance(defaults_text, (list, tuple)):
        helps, numbers = _scan_defaults(defaults_text)
    else:
        helps, numbers = {}, {}

    def where(key: str) -> str:
        if source is None:
            return ""
        return f"{source}:{numbers[key]}: " if key in numbers else f"{source}: "

    taken: dict[str, str] = {}
    for key, value in defaults.items():
        if key in RESERVED_KEYS:
            continue  # prefigure's `break` here silently dropped every later key
        key = str(key)
        text = helps.get(key, "").replace("%", "%%")
        argname = "--" + key.replace("_", "-")
        clash = _option_clash(key, argname, taken, where)
        if clash is not None:
            raise _source_error(clash)
        taken[argname] = key
        val = _typed_default(value)
        try:
            if val is None:
                p.add_argument(argname, type=str, nargs="?", const=None, default=None, help=text)
            elif type(val) is bool:
                p.add_argument(argname, type=_parse_bool, nargs="?", const=True, default=val, help=text)
            elif type(val) in (list, tuple, dict, set):
                p.add_argument(argname, type=_container_type(type(val)), default=val, help=text)
            else:
                p.add_argument(argname, type=type(val), default=val, help=text)
        except (argparse.ArgumentError, ValueError, TypeError) as exc:
            raise _source_error(
                f"{where(key)}key {key!r} cannot be a command-line option: {exc}"
            ) from None
    return p


def setup_args(defaults: dict[str, Any], defaults_text: Any = "") -> argparse.Namespace:
    """Parse ``sys.argv`` with one option per config key, the config values as defaults."""
    try:
        parser = build_parser(defaults, defaults_text)
    except Exception as exc:
        _exit_on_config_error(exc)
    return parser.parse_args()


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
    """Override ``defaults`` with the config of a previous W&B run (``OMITTED`` values of a
    tracker skipped, see :func:`pull_flat`)."""
    from ._wandb import pull_flat

    for key, value in pull_flat(wandb_config).items():
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
        parser = build_parser(
            defaults, defaults_text, config_file_default=defaults_file, source=config_file
        )
    except Exception as exc:
        _exit_on_config_error(exc)
    args = parser.parse_args(argv)
    try:
        return parse_imports(args)
    except Exception as exc:
        _exit_on_config_error(exc)
