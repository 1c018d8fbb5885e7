"""W&B's sweep ``command``: the template a trial's command line is built from.

Why here and not in the engines: the command decides two things before launch, which
program (if any) can be asked for its config schema, and whether values reach the program as
``--key=value`` flags that ``config_utils.cli`` reads (so they can be checked) or in a form only
the program itself understands (``key=value``, JSON): then the sweep runs unchecked, and says
so once.

W&B's meaning, kept here: the command is a list; an element that is exactly ``${NAME}`` is
replaced by a list of elements (``${args}`` by one element per parameter), every other
element is passed as written, except that ``${envvar:VAR}`` inside any element becomes the
variable's value (or ``VAR`` when unset, as W&B does). W&B's default command is
``${env} ${interpreter} ${program} ${args}``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ..errors import did_you_mean

#: Every macro W&B's agent replaces (an element that is exactly ``${NAME}``).
MACROS = ("env", "interpreter", "program", "args", "args_no_hyphens", "args_no_boolean_flags",
          "args_no_equals", "args_json", "args_json_file", "args_append_hydra", "args_override_hydra")
DEFAULT_COMMAND = ("${env}", "${interpreter}", "${program}", "${args}")
#: Macros whose values reach the program as ``--key=value`` (or ``--key``) flags.
FLAG_MACROS = ("args", "args_no_boolean_flags", "args_no_equals")
VALUE_MACROS = tuple(m for m in MACROS if m.startswith("args"))
ARGS_JSON_FILE = "sweep-args.json"
_MACRO_RE = re.compile(r"^\$\{([^}]*)\}$")
_ENVVAR_RE = re.compile(r"\$\{envvar:([A-Z0-9_]*)\}")


def macro(element: str) -> str | None:
    """``args`` for the element ``${args}``; None for a literal element."""
    m = _MACRO_RE.match(element)
    return m.group(1) if m and not m.group(1).startswith("envvar:") else None


def parse_command(raw: Any, fail: Callable[[tuple[Any, ...], str], Exception]) -> list[str]:
    """Check a spec's ``command`` (W&B: a list); numbers become text as W&B's agent makes them."""
    if not isinstance(raw, list):
        raise fail(("command",), "command: expected a list such as "
                   "[${env}, ${interpreter}, ${program}, ${args}]")
    if not raw:
        return []  # W&B: an empty command is the default one
    out: list[str] = []
    for i, item in enumerate(raw):
        if isinstance(item, bool) or not isinstance(item, (str, int, float)):
            raise fail(("command", i), f"command[{i}]: expected a string, got {item!r}")
        text = str(item)
        name = macro(text)
        if name is not None and name not in MACROS:
            raise fail(("command", i), f"command[{i}]: unknown macro {text!r}{did_you_mean(name, MACROS)} "
                       f"(W&B would drop it silently; macros: {', '.join('${' + m + '}' for m in MACROS)})")
        if name is None and "${" in _ENVVAR_RE.sub("", text):
            raise fail(("command", i), f"command[{i}]: {text!r}: a macro must be a whole element "
                       "(W&B passes it as literal text)")
        out.append(text)
    if not any(macro(c) in VALUE_MACROS for c in out):
        raise fail(("command",), "command: no ${args...} macro, so no trial would get its parameters "
                   "(add ${args}, ${args_no_hyphens}, ${args_json}, ...)")
    return out


def uses(command: Sequence[str], *names: str) -> bool:
    return any(macro(c) in names for c in command)


def probe_prefix(command: Sequence[str], program: Path | None, python: str, cwd: Path
                 ) -> tuple[list[str], Path | None] | None:
    """How to ask the command's program for its config (``PREFIX --flows:print-schema``), and
    the source file that is: ``python PROGRAM`` when the command runs ``${program}``;
    ``python SCRIPT.py`` or ``python -m MODULE`` when it runs a literal script or a module
    with the interpreter. None when the program cannot be asked (a binary, a launcher without
    ``${program}``)."""
    if program is not None and uses(command, "program") and program.suffix == ".py":
        return [python, str(program)], program
    rest = [c for c in command if c not in ("${env}", "/usr/bin/env", "env")]
    if len(rest) < 2 or not (rest[0] == "${interpreter}" or re.fullmatch(r"(.*/)?python[0-9.]*", rest[0])):
        return None
    if rest[1] == "-m" and len(rest) >= 3 and macro(rest[2]) is None:
        base = cwd.joinpath(*rest[2].split("."))
        source = next((c for c in (base.with_suffix(".py"), base / "__main__.py") if c.is_file()), None)
        return [python, "-m", rest[2]], source
    if rest[1].endswith(".py") and macro(rest[1]) is None:
        script = (cwd / rest[1]).resolve()
        return [python, str(script)], script if script.is_file() else None
    return None


def render(command: Sequence[str], *, python: str, program: Path | None, values: dict[str, Any],
           args: Sequence[str], run_dir: Path, environ: dict[str, str]) -> list[str]:
    """The trial's argv: every macro replaced as W&B's agent replaces it.

    ``args`` are the trial's ``--key=value`` flags (keys that do not apply to the trial's union
    variants are already left out); ``values`` the Python values behind them, for the forms
    that need the value itself (``${args_json}``, booleans in ``${args_no_boolean_flags}``).
    ``${args_json_file}`` is written into the trial's run directory.
    """
    passed = {a[2:].split("=", 1)[0]: a[2:].split("=", 1)[1] for a in args}
    plain = {k: values[k] for k in passed if k in values}
    out: list[str] = []
    for element in command:
        name = macro(element)
        if name is None:
            out.append(_ENVVAR_RE.sub(lambda m: environ.get(m.group(1), m.group(1)), element))
        elif name == "env":
            out.append("/usr/bin/env")
        elif name == "interpreter":
            out.append(python)
        elif name == "program":
            out.append(str(program) if program is not None else "")
        elif name == "args":
            out += list(args)
        elif name == "args_no_hyphens":
            out += [f"{k}={v}" for k, v in passed.items()]
        elif name == "args_no_equals":
            for k, v in passed.items():
                out += [f"--{k}", v]
        elif name == "args_append_hydra":
            out += [f"+{k}={v}" for k, v in passed.items()]
        elif name == "args_override_hydra":
            out += [f"++{k}={v}" for k, v in passed.items()]
        elif name == "args_no_boolean_flags":
            for k, v in passed.items():
                if isinstance(plain.get(k), bool):
                    if plain[k]:
                        out.append(f"--{k}")
                else:
                    out.append(f"--{k}={v}")
        elif name == "args_json":
            out.append(json.dumps(plain))
        elif name == "args_json_file":
            run_dir.mkdir(parents=True, exist_ok=True)
            path = run_dir / ARGS_JSON_FILE
            path.write_text(json.dumps(plain), encoding="utf-8")
            out.append(str(path))
    return out
