"""Layering: merge raw values from several sources onto the dataclass defaults, with provenance.

Layers come lowest first (config file, then a previous run); each later layer overrides the
earlier ones key by key. A ``_type`` key chooses the variant of a union-typed field; choosing
another variant drops the lower layers' values that the new variant does not have. Every
value is converted to its declared type as soon as its layer is read, so an error names the
layer and line it came from.
"""

from __future__ import annotations

import dataclasses
import warnings
from collections import abc
from dataclasses import dataclass, field
from typing import Any, get_args, get_origin

from .convert import _literal, convert
from .errors import ConversionError, UnknownKeyError, closest, did_you_mean
from .tree import OMITTED, TYPE_KEY, flatten
from .types import field_types, is_config_type, strip_annotated, union_members, unwrap_optional

DEFAULT = "default"


@dataclass(frozen=True)
class RawValue:
    """A value as a source holds it, with where it came from (``defaults.ini:12``).

    ``text``: the value is text someone typed (ini, OFC file) rather than data (json/toml/
    yaml, run records, W&B); see :func:`config_utils.convert.convert`.
    """

    value: Any
    source: str
    text: bool = True


@dataclass
class Layer:
    """One source's values, flat dotted keys. ``lenient``: unknown keys warn instead of failing."""

    name: str
    values: dict[str, RawValue]
    help: dict[str, str] = field(default_factory=dict)
    lenient: bool = False


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()


def _norm(name: str) -> str:
    return name.replace("-", "").replace("_", "").lower()


def variant_names(cls: type) -> list[str]:
    """Names that select ``cls`` as a variant: the class name and its registered target name."""
    from .registry import registry

    names = [cls.__name__]
    target = registry._cfgname2clsname.get(cls.__name__)
    if target:
        names.append(target)
    return names


def resolve_variant(name: Any, tp: Any, *, key: str, where: str) -> type:
    """The member of union type ``tp`` that ``name`` selects (class or registered name).

    Only the field's own union members are candidates: a name coming from data never
    imports anything.
    """
    members = union_members(tp)
    if isinstance(name, str):
        wanted = _norm(name.strip().strip("'\""))
        for m in members:
            if any(_norm(n) in (wanted, wanted + "config") for n in variant_names(m)):
                return m
    choices = [n for m in members for n in variant_names(m)]
    raise ConversionError(
        f"{where}: {key}: expected one of {', '.join(choices)}, got {name!r}"
        f"{did_you_mean(str(name), choices)}"
    )


@dataclass(frozen=True)
class _DictEntry:
    """``weights.a`` where ``weights`` is a ``dict[str, float]`` field: one entry of it."""

    path: str
    entry: str
    value_type: Any


def _default_at(cls: type, path: str) -> Any:
    obj: Any = _default_tree(cls)
    for part in path.split("."):
        obj = getattr(obj, part, None)
    return None if obj is MISSING else obj


class _Schema:
    """Walks the config type along dotted paths, following the chosen union variants."""

    def __init__(self, cls: type) -> None:
        self.cls = cls
        self.variants: dict[str, type] = {}  # union path → chosen class
        self.variant_source: dict[str, str] = {}

    def default_variant(self, path: str) -> type | None:
        """The class of the dataclass default at ``path``, if there is one."""
        obj: Any = _default_tree(self.cls)
        for part in path.split("."):
            if obj is MISSING or obj is None:
                return None
            obj = getattr(obj, part, MISSING)
        return type(obj) if dataclasses.is_dataclass(obj) and not isinstance(obj, type) else None

    def node(self, path: str) -> tuple[type | None, Any]:
        """(class holding the last part, declared type at ``path``); raises KeyError if unknown."""
        cls: Any = self.cls
        parts = path.split(".")
        for i, part in enumerate(parts):
            if not is_config_type(cls):
                raise KeyError(".".join(parts[:i]))
            if i == len(parts) - 2:
                tp_here = field_types(cls).get(part)
                mapping = strip_annotated(unwrap_optional(tp_here)[0]) if tp_here is not None else None
                if get_origin(mapping) in (dict, abc.Mapping):
                    args = get_args(mapping)
                    return cls, _DictEntry(".".join(parts[:-1]), parts[-1], args[1] if len(args) == 2 else Any)
            types = field_types(cls)
            if part not in types:
                raise KeyError(".".join(parts[: i + 1]))
            tp = types[part]
            if i == len(parts) - 1:
                return cls, tp
            prefix = ".".join(parts[: i + 1])
            if union_members(tp):
                cls = self.variants.get(prefix) or self.default_variant(prefix)
                if cls is None:
                    raise KeyError(prefix + "." + TYPE_KEY)
            else:
                cls = strip_annotated(unwrap_optional(tp)[0])
        raise KeyError(path)

    def valid_keys(self) -> list[str]:
        """Every valid dotted key under the current variant choices (for did-you-mean)."""
        out: list[str] = []

        def walk(cls: type, prefix: str) -> None:
            for name, tp in field_types(cls).items():
                path = prefix + name
                members = union_members(tp)
                if members:
                    out.append(path + "." + TYPE_KEY)
                    chosen = self.variants.get(path) or self.default_variant(path)
                    if chosen is not None:
                        walk(chosen, path + ".")
                    continue
                inner = strip_annotated(unwrap_optional(tp)[0])
                if is_config_type(inner):
                    walk(inner, path + ".")
                else:
                    out.append(path)

        walk(self.cls, "")
        return out


_DEFAULTS_CACHE: dict[type, Any] = {}


def _default_tree(cls: type) -> Any:
    """A tree of the dataclass defaults (MISSING where a field has none). Cached per type."""
    if cls in _DEFAULTS_CACHE:
        return _DEFAULTS_CACHE[cls]
    values: dict[str, Any] = {}
    types = field_types(cls)
    for f in dataclasses.fields(cls):
        if f.default is not dataclasses.MISSING:
            values[f.name] = f.default
        elif f.default_factory is not dataclasses.MISSING:
            values[f.name] = f.default_factory()
        else:
            inner = strip_annotated(unwrap_optional(types[f.name])[0])
            values[f.name] = _default_tree(inner) if is_config_type(inner) else MISSING
    ns = _DefaultsNode(values)
    _DEFAULTS_CACHE[cls] = ns
    return ns


class _DefaultsNode:
    def __init__(self, values: dict[str, Any]) -> None:
        self.__dict__.update(values)


def _suggest(paths: list[str]) -> str:
    """`` (did you mean 'a' or 'b'?)`` for up to three paths already ranked."""
    paths = paths[:3]
    if len(paths) == 1:
        return f" (did you mean {paths[0]!r}?)"
    return " (did you mean " + ", ".join(repr(p) for p in paths[:-1]) + f" or {paths[-1]!r}?)"


def _variant_hint(key: str, raw: RawValue, schema: _Schema) -> str | None:
    """When ``key`` sits under a union field whose chosen variant lacks it but another
    variant has it, say so: a generic did-you-mean would send people to a wrong key."""
    parts = key.split(".")
    for i in range(len(parts) - 1, 0, -1):
        union_path = ".".join(parts[:i])
        try:
            _, tp = schema.node(union_path)
        except KeyError:
            continue
        members = () if isinstance(tp, _DictEntry) else union_members(tp)
        if not members:
            continue
        current = schema.variants.get(union_path) or schema.default_variant(union_path)
        rest = ".".join(parts[i:])
        having = [m for m in members if m is not current and _has_path(m, rest)]
        if not having or current is None:
            return None
        chosen_by = schema.variant_source.get(union_path, DEFAULT)
        names = " or ".join(m.__name__ for m in having)
        verb = "has" if len(having) == 1 else "have"
        return (
            f"{raw.source}: unknown key {key!r}: {union_path!r} is {current.__name__} "
            f"(from {chosen_by}), which has no {rest!r}; {names} {verb} it "
            f"(set {union_path + '.' + TYPE_KEY} = {having[0].__name__})"
        )
    return None


def _has_path(cls: type, rest: str) -> bool:
    try:
        _Schema(cls).node(rest)
    except KeyError:
        return False
    return True


def _unknown_key(key: str, raw: RawValue, schema: _Schema, missing_part: str) -> str:
    if missing_part.endswith("." + TYPE_KEY) and not key.endswith(TYPE_KEY):
        return (
            f"{raw.source}: {key}: {missing_part[: -len(TYPE_KEY) - 1]!r} has no variant chosen; "
            f"set {missing_part!r} first"
        )
    variant = _variant_hint(key, raw, schema)
    if variant is not None:
        return variant
    valid = schema.valid_keys()
    # Wrong nesting first (``lr`` or ``model.lr`` for ``optim.lr``): the same last part under
    # another parent is a better guess than a similar-looking key under this one.
    last = key.rsplit(".", 1)[-1]
    same_leaf = [k for k in valid if k.rsplit(".", 1)[-1] == last and k != key]
    if same_leaf:
        hint = _suggest(closest(key, same_leaf) or same_leaf)
    else:
        hint = did_you_mean(key, valid)
    if not hint:
        parent = missing_part.rsplit(".", 1)[0] if "." in missing_part else ""
        if parent:
            hint = f" (no key {missing_part!r}; valid keys under {parent!r} start with {parent + '.'!r})"
    return f"{raw.source}: unknown key {key!r}{hint}"


def _expand_mappings(layer_items: list[tuple[str, RawValue]], schema: _Schema) -> list[tuple[str, RawValue]]:
    """A whole mapping given for a sub-config (``model = {"hidden": 3}`` in an ini, or an
    empty ``{}`` kept by ``flatten``) becomes its dotted keys, so it is not silently dropped."""
    out: list[tuple[str, RawValue]] = []
    for key, raw in layer_items:
        value = raw.value
        if isinstance(value, str) and value.startswith("{"):
            parsed = _literal(value)
            value = parsed if isinstance(parsed, dict) else value
        if isinstance(value, abc.Mapping):
            try:
                _, tp = schema.node(key)
            except KeyError:
                tp = None
            if tp is not None and not isinstance(tp, _DictEntry):
                inner = strip_annotated(unwrap_optional(tp)[0])
                if is_config_type(inner) or union_members(tp):
                    out.extend(
                        (f"{key}.{k}", RawValue(v, raw.source, text=False))
                        for k, v in flatten(dict(value)).items()
                        if not (isinstance(v, dict) and not v)
                    )
                    continue
        out.append((key, raw))
    return out


def flatten_for(cls: type, nested: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Flatten a config's primitives into dotted keys, descending only into sub-configs.

    Unlike :func:`config_utils.tree.flatten`, the value of a ``dict``-typed field stays one
    leaf, so its keys may hold dots (``{"a.b": 1}``) and still round-trip. Keys that are not
    fields of ``cls`` stay as they are, to be reported by :func:`merge`.
    """
    types = field_types(cls) if is_config_type(cls) else {}
    out: dict[str, Any] = {}
    for key, value in nested.items():
        path = prefix + key
        tp = types.get(key)
        if tp is None or not isinstance(value, dict) or not value:
            out[path] = value
            continue
        members = union_members(tp)
        if members:
            name = value.get(TYPE_KEY)
            try:
                sub = resolve_variant(name, tp, key=path + "." + TYPE_KEY, where="") if name is not None else None
            except ConversionError:
                sub = None
            if sub is None:  # let merge report the bad or missing variant with its source
                out.update({f"{path}.{k}": v for k, v in value.items()})
            else:
                out.update(flatten_for(sub, value, path + "."))
            continue
        inner = strip_annotated(unwrap_optional(tp)[0])
        if is_config_type(inner):
            out.update(flatten_for(inner, value, path + "."))
        else:
            out[path] = value
    return out


def merge(
    cls: type,
    layers: list[Layer],
    *,
    strict: bool = False,
    missing: Any = MISSING,
) -> tuple[Any, dict[str, str]]:
    """Build a ``cls`` instance from its defaults and ``layers`` (lowest first).

    Returns the instance and its provenance (dotted path → source). A required field that no
    layer sets becomes ``missing`` (``tyro.MISSING`` for the command line, so tyro asks for it);
    with the default sentinel it is an error.
    """
    schema = _Schema(cls)
    state: dict[str, tuple[Any, str]] = {}
    for layer in layers:
        lenient = layer.lenient and not strict
        items = [(k, v) for k, v in layer.values.items() if not (isinstance(v.value, str) and v.value == OMITTED)]
        if any(_maybe_mapping(v.value) for _, v in items):
            items = _expand_mappings(items, schema)
        values = dict(items)
        # variant choices first, outermost first, so the keys below them resolve
        type_keys = sorted((k for k, _ in items if k.rsplit(".", 1)[-1] == TYPE_KEY), key=lambda k: k.count("."))
        for key in type_keys:
            raw = values[key]
            union_path = key[: -len(TYPE_KEY) - 1]
            try:
                _, tp = schema.node(union_path) if union_path else (None, None)
            except KeyError as exc:
                _report(_unknown_key(key, raw, schema, str(exc.args[0])), lenient)
                continue
            if not union_members(tp):
                _report(f"{raw.source}: {key}: {union_path!r} is not a union-typed field", lenient)
                continue
            chosen = resolve_variant(raw.value, tp, key=key, where=raw.source)
            previous = schema.variants.get(union_path) or schema.default_variant(union_path)
            schema.variants[union_path] = chosen
            schema.variant_source[union_path] = raw.source
            if previous is not chosen:
                for stale in [k for k in state if k.startswith(union_path + ".")]:
                    try:
                        schema.node(stale)
                    except KeyError:
                        del state[stale]
        for key, raw in items:
            if key.rsplit(".", 1)[-1] == TYPE_KEY:
                continue
            try:
                _, tp = schema.node(key)
            except KeyError as exc:
                _report(_unknown_key(key, raw, schema, str(exc.args[0])), lenient)
                continue
            if isinstance(tp, _DictEntry):
                value = convert(raw.value, tp.value_type, key=key, where=raw.source, text=raw.text)
                current = state.get(tp.path, (None, ""))[0]
                if not isinstance(current, dict):
                    current = dict(_fresh(_default_at(cls, tp.path)) or {})
                current[tp.entry] = value
                state[tp.path] = (current, raw.source)
                continue
            state[key] = (convert(raw.value, tp, key=key, where=raw.source, text=raw.text), raw.source)
    prov: dict[str, str] = {}
    parents = {key[:i] for key in state for i, ch in enumerate(key) if ch == "."}
    instance = _build(cls, "", _default_tree(cls), schema, state, parents, prov, missing)
    return instance, prov


def _maybe_mapping(value: Any) -> bool:
    """Cheap pre-check (runs once per value): could this be a whole sub-config mapping?"""
    cls = value.__class__
    return cls is dict or (cls is str and value[:1] == "{")


def _report(message: str, lenient: bool) -> None:
    if lenient:
        warnings.warn(message + " (ignored)", stacklevel=4)
    else:
        raise UnknownKeyError(message)


def _build(
    cls: type,
    prefix: str,
    defaults: Any,
    schema: _Schema,
    state: dict[str, tuple[Any, str]],
    parents: set[str],
    prov: dict[str, str],
    missing: Any,
) -> Any:
    """Construct ``cls`` at ``prefix``; ``parents`` holds every proper prefix of a set key."""
    kwargs: dict[str, Any] = {}
    types = field_types(cls)
    for f in dataclasses.fields(cls):
        if not f.init:
            continue
        path = prefix + f.name
        tp = types[f.name]
        default = getattr(defaults, f.name, MISSING) if defaults is not None else MISSING
        members = union_members(tp)
        has_keys = path in parents
        if path in state and state[path][0] is None and not has_keys:
            # ``model = None`` for an Optional sub-config (or union) in a file or run
            kwargs[f.name], prov[path] = state[path]
            continue
        if members:
            chosen = schema.variants.get(path)
            if chosen is not None:
                prov[path + "." + TYPE_KEY] = schema.variant_source[path]
            if chosen is None and dataclasses.is_dataclass(default) and not isinstance(default, type):
                chosen = type(default)
            if chosen is None:
                kwargs[f.name] = _fresh(default) if default is not MISSING else _required(path, missing)
                if default is not MISSING:
                    prov[path] = DEFAULT
                continue
            sub_defaults = default if type(default) is chosen else _default_tree(chosen)
            prov.setdefault(path + "." + TYPE_KEY, DEFAULT)
            kwargs[f.name] = _build(chosen, path + ".", sub_defaults, schema, state, parents, prov, missing)
            continue
        inner = strip_annotated(unwrap_optional(tp)[0])
        if is_config_type(inner):
            if default is None and not has_keys:
                kwargs[f.name] = None
                prov[path] = DEFAULT
                continue
            sub = default if default not in (None, MISSING) else _default_tree(inner)
            if dataclasses.is_dataclass(sub) and not isinstance(sub, type):
                sub = _node_of(sub)
            kwargs[f.name] = _build(inner, path + ".", sub, schema, state, parents, prov, missing)
            continue
        if path in state:
            kwargs[f.name], prov[path] = state[path]
        elif default is not MISSING:
            kwargs[f.name] = _fresh(default)
            prov[path] = DEFAULT
        else:
            kwargs[f.name] = _required(path, missing)
    return cls(**kwargs)


def _node_of(obj: Any) -> Any:
    return _DefaultsNode({f.name: getattr(obj, f.name) for f in dataclasses.fields(obj) if hasattr(obj, f.name)})


def _fresh(value: Any) -> Any:
    """Defaults are shared via the cache: hand out copies of mutable ones."""
    if isinstance(value, (list, dict, set)) or (dataclasses.is_dataclass(value) and not isinstance(value, type)):
        import copy

        return copy.deepcopy(value)
    return value


def _required(path: str, missing: Any) -> Any:
    if missing is MISSING:
        raise ConversionError(f"missing required key {path!r}")
    return missing
