"""``--print-config``: the resolved config with the layer that set every value (text, or JSON
for machines).
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

from .convert import format_value
from .layers import DEFAULT
from .provenance import provenance
from .schema import TYPE_KEY, instance_leaves
from .tree import get_path, to_primitives


def print_and_exit(text: str) -> None:
    """Print what a built-in asked for (``--print-config``, ``--print-schema``) and exit 0."""
    try:
        print(text)
        sys.stdout.flush()
    except BrokenPipeError:  # `| head -1`: the reader has gone, which is fine
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    raise SystemExit(0)


def format_config(cfg: Any, *, fmt: str = "text", path: str | None = None) -> str:
    """The resolved config with the source of every value (``--print-config``).

    ``path``: which parser produced it (``fast`` or ``tyro``), shown in the JSON form.
    """
    prov = provenance(cfg)
    if fmt == "json":
        doc: dict[str, Any] = {"config": to_primitives(cfg), "provenance": prov}
        if path is not None:
            doc["path"] = path
        return json.dumps(doc, indent=2)
    rows: list[tuple[str, str, str]] = []
    for path in instance_leaves(cfg, with_types=True):
        if path.endswith("." + TYPE_KEY):
            value = type(get_path(cfg, path[: -len(TYPE_KEY) - 1])).__name__
        else:
            value = format_value(get_path(cfg, path))
        rows.append((path, value, prov.get(path, DEFAULT)))
    kw = max((len(r[0]) for r in rows), default=0)
    vw = min(max((len(r[1]) for r in rows), default=0), 40)
    lines = [f"# {type(cfg).__name__}: value, then the layer that set it"]
    lines += [f"{k:<{kw}} = {v:<{vw}}  # {s}" for k, v, s in rows]
    return "\n".join(lines)
