"""``--print-schema``: every leaf path of a config under any variant with its type and default,
and every union field with the names that select each variant (a JSON document sweeps read).
"""

from __future__ import annotations

import typing
from typing import Any

from .layers import _Defaults, variant_names
from .schema import MISSING, shape_of
from .targets import Target, analyse
from .tree import primitive
from .types import describe_type, strip_annotated

if typing.TYPE_CHECKING:
    from .registry import Registry


def schema_document(f: Any, target: Target | None = None, registry: Registry | None = None) -> dict[str, Any]:
    """What ``--print-schema`` prints: every leaf path under any variant with its type and
    default, and every union field with the names that select each variant."""
    target = target or analyse(f)
    classes: list[tuple[str, type]] = []
    if target.cls is not None:
        classes.append(("", target.cls))
    elif target.kind == "union":
        classes.extend(("", m) for m in target.members)
    leaves: dict[str, Any] = {}
    unions: dict[str, Any] = {}
    if target.kind == "union":
        unions[""] = {"choices": {m.__name__: variant_names(m, registry) for m in target.members}, "default": None}
    for _, cls in classes:
        shape = shape_of(cls)
        defaults = _Defaults(cls)
        for path, tp in shape.leaves.items():
            entry: dict[str, Any] = {"type": describe_type(tp)}
            under = dict(shape.under.get(path, {}))
            value = _default_for_schema(defaults, path, under)
            if value is not MISSING:
                entry["default"] = value
            if under:
                entry["under"] = {u: [m.__name__ for m in ms] for u, ms in under.items()}
            if target.kind == "union":
                entry.setdefault("under", {})[""] = [cls.__name__]
            leaves.setdefault(path, entry)
        for path, members in shape.unions.items():
            current = defaults.class_at(path)
            unions.setdefault(path, {
                "choices": {m.__name__: variant_names(m, registry) for m in members},
                "default": current.__name__ if current is not None else None,
            })
    name = getattr(strip_annotated(f), "__qualname__", repr(f))
    return {
        "format": "flows-workspace/schema",
        "version": 1,
        "config_type": f"{getattr(strip_annotated(f), '__module__', '')}:{name}",
        "leaves": leaves,
        "unions": unions,
    }


def _default_for_schema(defaults: _Defaults, path: str, under: dict[str, tuple[type, ...]]) -> Any:
    """The default at ``path`` as primitives; MISSING when the leaf is required."""
    for union, members in under.items():
        if defaults.class_at(union) not in members:
            # under another variant than the default one: that variant's class default
            defaults, path = _Defaults(members[0]), path[len(union) + 1:]
            break
    value = defaults.at(path)
    return MISSING if value is MISSING else primitive(value)
