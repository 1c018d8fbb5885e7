"""The one model of a config class: its fields, their types, nesting, unions and defaults.

Every module that needs the *structure* of a config — layering, dotted paths and primitives,
the command line, run records, W&B, OFC, the GUI, flows — asks this module instead of walking
``dataclasses.fields`` itself. One walk means one answer to "what is a leaf", "which variant is
this union field on" and "what is the default here", so the layers cannot disagree.

A field is one of three kinds:

- ``config``: a nested config class (``model: ModelConfig``, also ``Optional[ModelConfig]``);
- ``union``: a choice among config classes (``module: L1Config | L2Config``; the variant is
  named by a ``_type`` key in files and runs, by a subcommand on the command line);
- ``leaf``: anything else (int, list[float], Enum, a dict, ...).

Defaults: :meth:`FieldInfo.fresh_default` calls a ``default_factory`` every time it is asked,
so two configs never share a mutable default and a counting factory counts.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
from collections.abc import Callable, Iterator, Mapping
from types import MappingProxyType
from typing import Any, Literal

from .types import field_types, is_config_type, strip_annotated, union_members, unwrap_optional

TYPE_KEY = "_type"


class _Missing:
    """No default: the field is required."""

    _instance: _Missing | None = None

    def __new__(cls) -> _Missing:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "MISSING"

    def __bool__(self) -> bool:
        return False


MISSING: Any = _Missing()

Kind = Literal["leaf", "config", "union"]


class FieldInfo:
    """One field of a config class, as every layer sees it.

    The small record classes of this module are plain slotted classes rather than
    dataclasses: they are defined on every start-up of a program, and a dataclass definition
    costs ~0.8 ms, which the command line's tyro path would pay on top of tyro.
    """

    __slots__ = ("name", "type", "kind", "optional", "config", "variants", "init", "default", "factory")

    def __init__(
        self,
        name: str,
        type: Any,  # as declared (``Annotated`` markers kept: tyro reads them)
        kind: Kind,
        optional: bool,  # ``None`` is a valid value
        config: type | None,  # the nested class, for kind ``config``
        variants: tuple[type, ...],  # the member classes, for kind ``union``
        init: bool,
        default: Any,  # MISSING when there is none (or a factory)
        factory: Callable[[], Any] | None,
    ) -> None:
        self.name = name
        self.type = type
        self.kind = kind
        self.optional = optional
        self.config = config
        self.variants = variants
        self.init = init
        self.default = default
        self.factory = factory

    def __repr__(self) -> str:
        return f"FieldInfo({self.name!r}, kind={self.kind!r}, type={self.type!r})"

    @property
    def has_default(self) -> bool:
        return self.default is not MISSING or self.factory is not None

    def fresh_default(self) -> Any:
        """The default value, freshly made: a factory is called on every call."""
        if self.factory is not None:
            return self.factory()
        return self.default


class Schema:
    """The fields of one config class, in declaration order."""

    __slots__ = ("cls", "fields", "by_name")

    def __init__(self, cls: type, fields: tuple[FieldInfo, ...], by_name: Mapping[str, FieldInfo]) -> None:
        self.cls = cls
        self.fields = fields
        self.by_name = by_name

    def __repr__(self) -> str:
        return f"Schema({self.cls.__name__}: {', '.join(f.name for f in self.fields)})"

    def __iter__(self) -> Iterator[FieldInfo]:
        return iter(self.fields)


def _field_info(f: dataclasses.Field[Any], tp: Any) -> FieldInfo:
    members = union_members(tp)
    inner, optional = unwrap_optional(tp)
    inner = strip_annotated(inner)
    kind: Kind
    if members:
        kind, config = "union", None
    elif is_config_type(inner):
        kind, config = "config", inner
    else:
        kind, config = "leaf", None
    factory = f.default_factory if f.default_factory is not dataclasses.MISSING else None
    default = f.default if f.default is not dataclasses.MISSING else MISSING
    return FieldInfo(
        name=f.name,
        type=tp,
        kind=kind,
        optional=optional,
        config=config,
        variants=members,
        init=f.init,
        default=default,
        factory=factory,  # type: ignore[arg-type]
    )


@functools.cache
def _schema_cached(cls: type) -> Schema:
    return _make_schema(cls)


def _make_schema(cls: type) -> Schema:
    types = field_types(cls)
    fields = tuple(_field_info(f, types[f.name]) for f in dataclasses.fields(cls))
    return Schema(cls, fields, MappingProxyType({f.name: f for f in fields}))


def schema_of(cls: type) -> Schema:
    """The cached :class:`Schema` of a config class (a dataclass type)."""
    try:
        return _schema_cached(cls)
    except TypeError:  # an unhashable class object
        return _make_schema(cls)


# --------------------------------------------------------------------------- type walks


class Node:
    """One place in a config tree: a field at a dotted path.

    ``under``: for a field under a union, the union paths above it and the variant each must
    be on; ``owner``: the config class that has this field.
    """

    __slots__ = ("path", "field", "under", "owner")

    def __init__(
        self,
        path: str,
        field: FieldInfo,
        under: tuple[tuple[str, type], ...] = (),
        owner: type | None = None,
    ) -> None:
        self.path = path
        self.field = field
        self.under = under
        self.owner = owner

    def __repr__(self) -> str:
        return f"Node({self.path!r}, {self.field.kind})"


Chooser = Callable[[str, FieldInfo], "type | None"]


def walk(cls: type, choose: Chooser | None = None, prefix: str = "") -> Iterator[Node]:
    """Every field under ``cls`` in declaration order, depth first, parents before children.

    Union fields are descended into through the class ``choose(path, field)`` returns (or not
    at all when it returns None); without ``choose``, through *every* variant (so a path can
    appear once per variant that has it, with a different ``under``).
    """
    yield from _walk(cls, choose, prefix, ())


def _walk(
    cls: type,
    choose: Chooser | None,
    prefix: str,
    under: tuple[tuple[str, type], ...],
    stack: tuple[type, ...] = (),
) -> Iterator[Node]:
    # A config class that contains itself (``child: Optional[Node]``) is walked once along
    # each path: its own fields are listed, the recursion below them is not followed.
    stack = (*stack, cls)
    for f in schema_of(cls).fields:
        path = prefix + f.name
        yield Node(path, f, under, cls)
        if f.kind == "config":
            assert f.config is not None
            if f.config not in stack:
                yield from _walk(f.config, choose, path + ".", under, stack)
        elif f.kind == "union":
            if choose is None:
                for member in f.variants:
                    if member not in stack:
                        yield from _walk(member, None, path + ".", (*under, (path, member)), stack)
            else:
                chosen = choose(path, f)
                if chosen is not None and chosen not in stack:
                    yield from _walk(chosen, choose, path + ".", (*under, (path, chosen)), stack)


class Shape:
    """Everything reachable in a config class under any variant (cached per class).

    ``leaves``: leaf path → declared type (the first variant's, when variants disagree);
    ``unions``: union path → its member classes; ``under``: leaf path → for each union above
    it, the members that have the leaf.
    """

    __slots__ = ("leaves", "unions", "under", "nodes")

    def __init__(
        self,
        leaves: Mapping[str, Any],
        unions: Mapping[str, tuple[type, ...]],
        under: Mapping[str, Mapping[str, tuple[type, ...]]],
        nodes: Mapping[str, FieldInfo],
    ) -> None:
        self.leaves = leaves
        self.unions = unions
        self.under = under
        self.nodes = nodes


@functools.lru_cache(maxsize=256)
def shape_of(cls: type) -> Shape:
    """The :class:`Shape` of ``cls``; read-only."""
    leaves: dict[str, Any] = {}
    unions: dict[str, tuple[type, ...]] = {}
    under: dict[str, dict[str, list[type]]] = {}
    nodes: dict[str, FieldInfo] = {}
    for node in walk(cls):
        nodes.setdefault(node.path, node.field)
        if node.field.kind == "union":
            unions.setdefault(node.path, node.field.variants)
        elif node.field.kind == "leaf":
            leaves.setdefault(node.path, node.field.type)
            if node.under:
                slot = under.setdefault(node.path, {})
                for union_path, member in node.under:
                    members = slot.setdefault(union_path, [])
                    if member not in members:
                        members.append(member)
    frozen_under = {p: {u: tuple(ms) for u, ms in d.items()} for p, d in under.items()}
    return Shape(leaves, unions, frozen_under, nodes)


# ----------------------------------------------------------------------- instance walks


def iter_instance(obj: Any, prefix: str = "") -> Iterator[tuple[str, FieldInfo, Any]]:
    """``(path, field, value)`` for every field of a config *instance*, following the variant
    each union field is on; parents come before their children. A sub-config that is ``None``
    is a value like any other (not descended into)."""
    for f in schema_of(type(obj)).fields:
        if not hasattr(obj, f.name):  # init=False field not set yet
            continue
        value = getattr(obj, f.name)
        path = prefix + f.name
        yield path, f, value
        # the value decides, not only the declared kind: a type that cannot be resolved (a
        # class local to a function under postponed annotations) still holds a config
        if is_config_instance(value):
            yield from iter_instance(value, path + ".")


def is_config_instance(value: Any) -> bool:
    return dataclasses.is_dataclass(value) and not isinstance(value, type)


def instance_leaves(obj: Any, *, with_types: bool = False) -> dict[str, Any]:
    """Dotted leaf path → declared type for a config instance (or a Namespace: flat keys
    typed by their values). ``with_types`` adds a ``path._type`` entry for every union
    field that holds a config (its value type is the field's declared type)."""
    if isinstance(obj, argparse.Namespace):
        return {k: type(v) for k, v in vars(obj).items()}
    out: dict[str, Any] = {}
    for path, f, value in iter_instance(obj):
        if is_config_instance(value):
            if with_types and f.kind == "union":
                out[path + "." + TYPE_KEY] = f.type
            continue
        out[path] = f.type
    return out


def class_leaves(cls: type) -> dict[str, Any]:
    """Dotted leaf path → declared type for a config *class*: nested configs are descended
    into; a union field is one leaf (its variant is not known from the class)."""
    return {n.path: n.field.type for n in walk(cls, choose=lambda p, f: None) if n.field.kind != "config"}


def variant_lacks(union: str, current: type, chosen_by: str, rest: str, having: list[type]) -> str:
    """The one wording of "the chosen variant has no such key, another has": a generic
    did-you-mean would send people to a wrong key. Config files and runs (``layers``) and
    the command line (``argv``) add how to choose the variant in their own syntax."""
    names = " or ".join(m.__name__ for m in having)
    verb = "has" if len(having) == 1 else "have"
    return f"{union!r} is {current.__name__} (from {chosen_by}), which has no {rest!r}; {names} {verb} it"
