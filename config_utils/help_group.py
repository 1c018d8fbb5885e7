"""The help: tyro's own, then the built-in flags as one more group that tyro itself draws, so it
has tyro's style and width (docs/cli.md, "Help and errors").
"""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .argv import (
    BUILTIN_HELP,
    BUILTINS,
    RESERVED_PREFIX,
    shadowed_builtins,
)
from .cli_defaults import DEFAULT_CONFIG_FILE
from .sources.files import shown_path
from .targets import Target
from .tyro_output import captured, replay


def print_help_with_builtins(
    show_help: Callable[[], Any],
    target: Target,
    config_file: str | Path | None = DEFAULT_CONFIG_FILE,
    with_group: bool = True,
) -> None:
    """tyro's help, then the built-in flags in a box of the same style (not after what
    tyro's completion flag prints: ``with_group=False``)."""
    with captured() as (out, err):
        try:
            show_help()
        except SystemExit as exc:
            code = exc.code
        else:
            code = 0
    text = out.getvalue()
    if with_group and code in (0, None) and text:
        shadowed = shadowed_builtins(target.field_names())
        text = text.rstrip("\n") + "\n" + builtins_group(shadowed, config_file) + "\n"
        out = io.StringIO(text)
    replay(out, err)
    raise SystemExit(code)


def builtins_group(
    shadowed: set[str], config_file: str | Path | None = DEFAULT_CONFIG_FILE
) -> str:
    """The built-in flags as one more group of the help, drawn by tyro itself so that it has
    tyro's style and width (``COLUMNS``; boxes only on a UTF-8 stream), titled ``config layers
    (flows-workspace)``. ``--config-file``'s default is the file this program reads
    (``examples/defaults.ini``), not always ``defaults.ini``. A built-in whose plain spelling a
    field of the config takes is listed by its reserved spelling alone."""
    import dataclasses as dc
    from typing import Annotated, Optional

    import tyro

    fields: list[tuple[str, Any, Any]] = []
    for name in BUILTINS:
        metavar, text = BUILTIN_HELP[name]
        if name == "config-file" and str(config_file) != DEFAULT_CONFIG_FILE:
            shown = shown_path(config_file) if config_file is not None else "none"
            text = text.replace(f"default: {DEFAULT_CONFIG_FILE} when present", f"default: {shown}")
        marker = tyro.conf.arg(
            name=RESERVED_PREFIX[2:] + name,
            aliases=() if name in shadowed else (f"--{name}",),
            metavar=metavar or None,
            help=text,
            help_behavior_hint="",
        )
        valued = BUILTINS[name][0]
        tp = Optional[str] if valued else bool  # noqa: UP045
        fields.append((name.replace("-", "_"), Annotated[tp, marker], dc.field(default=None if valued else False)))
    holder = dc.make_dataclass("flows_builtins", fields)
    with captured() as (out, _err):
        try:
            tyro.cli(holder, args=["--help"], prog="_", config=(tyro.conf.FlagCreatePairsOff,))
        except SystemExit:
            pass
    return _retitle(out.getvalue().splitlines(), "config layers (flows-workspace)")


def _retitle(lines: list[str], title: str) -> str:
    """tyro's ``options`` group from a help text, without ``-h, --help``, titled ``title``."""
    start = next((i for i, line in enumerate(lines) if line.strip(" ╭─").startswith("options")), None)
    if start is None:
        return ""
    helps = ("-h, --help", "show this help message and exit")
    body = [line for line in lines[start:] if not any(h in line for h in helps)]
    while body and not body[-1].strip():
        body.pop()
    top = body[0]
    if top.startswith("╭"):
        width = len(top)
        label = f"╭─ {title} "
        body[0] = label + "─" * max(width - len(label) - 1, 1) + "╮"
        extra = len(body[0]) - width
        if extra > 0:  # a box narrower than the title: widen it
            body[1:-1] = [line[:-1] + " " * extra + line[-1] for line in body[1:-1]]
            body[-1] = body[-1][0] + "─" * (len(body[0]) - 2) + body[-1][-1]
    else:
        body[0] = top.replace("options", title, 1).rstrip().ljust(len(top))
        rule = body[1].strip() if len(body) > 1 else ""
        if rule and set(rule) <= {"-", "─"} and len(rule) < len(title):
            body[1] = body[1].replace(rule, rule[0] * len(title))
    return "\n".join(body)
