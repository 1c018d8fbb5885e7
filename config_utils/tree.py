"""Dotted paths and JSON primitives: the one serialisation of a config.

The W&B push, run records, the OFC file and ``--print-config`` all use these functions, so
a config written by one of them reads back identically through another. A dataclass that
sits in a union-typed field carries ``"_type": ClassName`` so the variant survives the trip.
"""

from __future__ import annotations

import argparse
import dataclasses
import enum
from pathlib import PurePath
from typing import Any

from .schema import TYPE_KEY, class_leaves, instance_leaves, is_config_instance, schema_of
from .types import strip_annotated, union_members, unwrap_optional

__all__ = [
    "TYPE_KEY",
    "flatten",
    "get_path",
    "leaf_types",
    "primitive",
    "set_path",
    "to_primitives",
    "unflatten",
]


def get_path(obj: Any, path: str) -> Any:
    """The value at ``a.b.c`` in a dataclass / Namespace / dict tree."""
    for part in path.split(".") if path else ():
        obj = obj[part] if isinstance(obj, dict) else getattr(obj, part)
    return obj


def set_path(obj: Any, path: str, value: Any) -> None:
    """Set the value at ``a.b.c`` in place (frozen dataclasses too: configs are ours to steer)."""
    parent_path, _, name = path.rpartition(".")
    parent = get_path(obj, parent_path)
    if isinstance(parent, dict):
        parent[name] = value
    elif dataclasses.is_dataclass(parent) and getattr(parent, "__dataclass_params__").frozen:  # noqa: B009
        object.__setattr__(parent, name, value)
    else:
        setattr(parent, name, value)


def leaf_types(obj: Any) -> dict[str, Any]:
    """Dotted leaf path → declared type, for a config type or instance.

    For an instance the current union variant is followed and a ``None`` sub-config is a
    leaf; for a type, union-typed fields are leaves (their variants are not known yet).
    An ``argparse.Namespace`` gives its flat keys typed by their current values.
    """
    if isinstance(obj, type):
        return class_leaves(obj)
    return instance_leaves(obj)


def flatten(nested: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"a": {"b": 1}}`` → ``{"a.b": 1}`` (lists and other values are leaves)."""
    out: dict[str, Any] = {}
    for key, value in nested.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            out.update(flatten(value, path + "."))
        else:
            out[path] = value
    return out


def unflatten(flat: dict[str, Any]) -> dict[str, Any]:
    """``{"a.b": 1}`` → ``{"a": {"b": 1}}``."""
    out: dict[str, Any] = {}
    for path, value in flat.items():
        node = out
        *parents, last = path.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[last] = value
    return out


def primitive(value: Any, declared: Any = None) -> Any:
    """One value as JSON primitives (Enum → name, Path → str, tuple → list).

    A config in a field whose declared type does not name its class (a union field, or a
    subclass) gets a ``_type`` tag, so the variant survives the trip.
    """
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, enum.Enum):
        return value.name
    if isinstance(value, PurePath):
        return str(value)
    if is_config_instance(value):
        out = to_primitives(value)
        if declared is not None:
            inner = strip_annotated(unwrap_optional(declared)[0])
            if union_members(declared) or inner is not type(value):
                out = {TYPE_KEY: type(value).__name__, **out}
        return out
    if isinstance(value, dict):
        return {str(primitive(k)): primitive(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = sorted(value, key=repr) if isinstance(value, (set, frozenset)) else value
        return [primitive(v) for v in items]
    return str(value)


def to_primitives(cfg: Any) -> dict[str, Any]:
    """A config (dataclass or Namespace) as nested JSON primitives with ``_type`` tags."""
    if isinstance(cfg, argparse.Namespace):
        return {k: primitive(v) for k, v in vars(cfg).items()}
    return {
        f.name: primitive(getattr(cfg, f.name), f.type)
        for f in schema_of(type(cfg)).fields
        if hasattr(cfg, f.name)
    }
