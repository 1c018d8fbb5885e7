"""Type introspection shared by conversion, layering, serialisation, OFC and the GUI.

Everything that asks "what type does this field declare?" goes through here, so that an
``Optional[...]``, a ``X | Y`` union or an ``Annotated[...]`` wrapper (tyro's markers) is
understood the same way everywhere.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal, Union, get_args, get_origin

NoneType = type(None)


def strip_annotated(tp: Any) -> Any:
    """``Annotated[X, ...]`` → ``X`` (repeatedly); tyro markers live in the metadata."""
    while get_origin(tp) is typing.Annotated:
        tp = get_args(tp)[0]
    return tp


def is_union(tp: Any) -> bool:
    origin = get_origin(tp)
    return origin is Union or origin is types.UnionType


def _unwrap_optional(tp: Any) -> tuple[Any, bool]:
    """``Optional[X]`` → ``(X, True)``; other types → ``(tp, False)``.

    A union of several non-None members stays a union: ``Optional[A | B]`` → ``(A | B, True)``.
    """
    tp = strip_annotated(tp)
    if not is_union(tp):
        return tp, False
    members = [strip_annotated(a) for a in get_args(tp)]
    if NoneType not in members:
        return tp, False
    rest = [m for m in members if m is not NoneType]
    if len(rest) == 1:
        return rest[0], True
    return Union[tuple(rest)], True  # noqa: UP007 - runtime construction


def _cached(fn: Any) -> Any:
    """Memoise a pure function of a type; unhashable types are computed each time."""
    cached = functools.lru_cache(maxsize=4096)(fn)

    @functools.wraps(fn)
    def wrapper(tp: Any) -> Any:
        try:
            return cached(tp)
        except TypeError:
            return fn(tp)

    return wrapper


unwrap_optional = _cached(_unwrap_optional)


def is_config_type(tp: Any) -> bool:
    """A dataclass *type* (not an instance)."""
    return isinstance(tp, type) and dataclasses.is_dataclass(tp)


def _union_members(tp: Any) -> tuple[type, ...]:
    """The dataclass variants of a union-typed field (``None`` excluded); empty otherwise."""
    inner, _ = unwrap_optional(tp)
    inner = strip_annotated(inner)
    if not is_union(inner):
        return ()
    members = tuple(strip_annotated(a) for a in get_args(inner))
    configs = tuple(m for m in members if is_config_type(m))
    return configs if len(configs) >= 2 or (configs and len(members) > 1) else ()


union_members = _cached(_union_members)


def is_variant_field(tp: Any) -> bool:
    """True when the field chooses among dataclass variants (needs a ``_type`` tag)."""
    return bool(union_members(tp))


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls, include_extras=True)


def field_types(cls: type) -> Mapping[str, Any]:
    """Resolved declared types of a dataclass's fields (``from __future__`` annotations too).

    Cached per class and read-only: layering asks for the same classes hundreds of times.
    """
    try:
        return _field_types(cls)
    except TypeError:  # unhashable class object: compute without the cache
        return _compute_field_types(cls)


def _compute_field_types(cls: type) -> Mapping[str, Any]:
    try:
        hints = _hints(cls)
    except Exception:  # unresolvable forward reference: fall back to raw annotations
        hints = {}
    return MappingProxyType({f.name: hints.get(f.name, f.type) for f in dataclasses.fields(cls)})


_field_types = functools.lru_cache(maxsize=None)(_compute_field_types)


def describe_type(tp: Any) -> str:
    """A short, readable name for a type, used in error messages and OFC file comments."""
    tp = strip_annotated(tp)
    if tp is NoneType or tp is None:
        return "None"
    inner, optional = unwrap_optional(tp)
    if optional:
        return f"Optional[{describe_type(inner)}]"
    origin = get_origin(tp)
    if origin is Literal:
        return "Literal[" + ", ".join(repr(a) for a in get_args(tp)) + "]"
    if is_union(tp):
        return " | ".join(describe_type(a) for a in get_args(tp))
    if origin is not None:
        args = get_args(tp)
        name = getattr(origin, "__name__", str(origin))
        if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
            return f"tuple[{describe_type(args[0])}, ...]"
        return f"{name}[" + ", ".join(describe_type(a) for a in args) + "]" if args else name
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return f"{tp.__name__} (one of: {', '.join(m.name for m in tp)})"
    if tp is Path:
        return "Path"
    return getattr(tp, "__name__", str(tp))
