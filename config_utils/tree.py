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

from .types import field_types, is_config_type, is_variant_field, strip_annotated, unwrap_optional

TYPE_KEY = "_type"
OMITTED = "OMITTED"


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


def leaf_types(obj: Any, prefix: str = "") -> dict[str, Any]:
    """Dotted leaf path → declared type, for a dataclass type or instance.

    For an instance the current union variant is followed and a ``None`` sub-config is a
    leaf; for a type, union-typed fields are leaves (their variants are not known yet).
    An ``argparse.Namespace`` gives its flat keys typed by their current values.
    """
    if isinstance(obj, argparse.Namespace):
        return {prefix + k: type(v) for k, v in vars(obj).items()}
    cls = obj if isinstance(obj, type) else type(obj)
    out: dict[str, Any] = {}
    for name, tp in field_types(cls).items():
        path = prefix + name
        if not isinstance(obj, type):
            value = getattr(obj, name, None)
            if dataclasses.is_dataclass(value) and not isinstance(value, type):
                out.update(leaf_types(value, path + "."))
                continue
            out[path] = tp
            continue
        inner, _ = unwrap_optional(tp)
        if is_config_type(strip_annotated(inner)) and not is_variant_field(tp):
            out.update(leaf_types(strip_annotated(inner), path + "."))
        else:
            out[path] = tp
    return out


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
    """One value as JSON primitives (Enum → name, Path → str, tuple → list)."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, enum.Enum):
        return value.name
    if isinstance(value, PurePath):
        return str(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out = to_primitives(value)
        inner = strip_annotated(unwrap_optional(declared)[0]) if declared is not None else None
        if declared is not None and (is_variant_field(declared) or inner is not type(value)):
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
    types = field_types(type(cfg))
    return {
        f.name: primitive(getattr(cfg, f.name), types[f.name])
        for f in dataclasses.fields(cfg)
        if hasattr(cfg, f.name)
    }


def from_primitives(cls: type, nested: dict[str, Any], *, where: str) -> Any:
    """Rebuild a ``cls`` instance from :func:`to_primitives` output (``OMITTED`` skipped).

    Uses the same layering code as the command line, so values are converted to the declared
    types and unknown keys are reported with ``where`` in the message.
    """
    from .layers import Layer, RawValue, flatten_for, merge

    flat = flatten_for(cls, nested)
    layer = Layer(name=where, values={k: RawValue(v, where, text=False) for k, v in flat.items()})
    cfg, _ = merge(cls, [layer])
    return cfg
