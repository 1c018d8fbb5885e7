"""Layering: merge raw values from several sources onto the defaults, with provenance.

Layers come lowest first (config file, then a previous run); each later layer overrides the
earlier ones key by key. A ``_type`` key chooses the variant of a union-typed field; choosing
another variant drops the lower layers' values that the new variant does not have. Every
value is converted to its declared type as soon as its layer is read, so an error names the
layer and line it came from.

The structure of the config comes from :mod:`config_utils.schema` only; variant names are
resolved against the registry passed in (the default registry when none is), so a user's own
``Registry()`` gets the same name resolution.
"""

from __future__ import annotations

import copy
import warnings
from collections import abc
from typing import TYPE_CHECKING, Any, get_args, get_origin

from .convert import _literal, convert, install_dataclass_builder
from .errors import ConversionError, RunSourceError, UnknownKeyError, closest, did_you_mean
from .schema import MISSING, TYPE_KEY, FieldInfo, is_config_instance, schema_of, variant_lacks, walk
from .tree import flatten
from .types import strip_annotated, union_members, unwrap_optional

if TYPE_CHECKING:
    from .registry import Registry

DEFAULT = "default"

__all__ = [
    "DEFAULT",
    "MISSING",
    "Layer",
    "RawValue",
    "flatten_for",
    "from_primitives",
    "merge",
    "resolve_variant",
    "variant_names",
]


class RawValue:
    """A value as a source holds it, with where it came from (``defaults.ini:12``).

    ``text``: the value is text someone typed (ini, OFC file) rather than data (json/toml/
    yaml, run records, W&B); see :func:`config_utils.convert.convert`.

    (Plain slotted classes here, not dataclasses: defining a dataclass costs ~0.8 ms at every
    program start, which the command line would pay on top of tyro.)
    """

    __slots__ = ("value", "source", "text")

    def __init__(self, value: Any, source: str, text: bool = True) -> None:
        self.value = value
        self.source = source
        self.text = text

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, RawValue):
            return NotImplemented
        return (self.value, self.source, self.text) == (other.value, other.source, other.text)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"RawValue({self.value!r}, {self.source!r}, text={self.text})"


class Layer:
    """One source's values, flat dotted keys. ``lenient``: unknown keys warn instead of failing.

    ``note``: something the person must hear about the whole layer before its values apply
    (a run record written for another program's config): a warning for a lenient layer, an
    error otherwise (``strict=True``).
    """

    __slots__ = ("name", "values", "help", "lenient", "note")

    def __init__(
        self,
        name: str,
        values: dict[str, RawValue],
        help: dict[str, str] | None = None,
        lenient: bool = False,
        note: str | None = None,
    ) -> None:
        self.name = name
        self.values = values
        self.help = {} if help is None else help
        self.lenient = lenient
        self.note = note

    def __repr__(self) -> str:
        return f"Layer({self.name!r}, {len(self.values)} values, lenient={self.lenient})"


def _norm(name: str) -> str:
    return name.replace("-", "").replace("_", "").lower()


def _default_registry() -> Registry:
    from .registry import registry

    return registry


def variant_names(cls: type, registry: Registry | None = None) -> list[str]:
    """Names that select ``cls`` as a variant (:meth:`Registry.variant_names`)."""
    reg = _default_registry() if registry is None else registry
    return list(reg.variant_names(cls))


def resolve_variant(
    name: Any, tp: Any, *, key: str, where: str, registry: Registry | None = None
) -> type:
    """The member of union type ``tp`` that ``name`` selects (class or registered name).

    Only the field's own union members are candidates: a name coming from data never
    imports anything.
    """
    members = union_members(tp)
    if isinstance(name, str):
        wanted = _norm(name.strip().strip("'\""))
        for m in members:
            if any(_norm(n) in (wanted, wanted + "config") for n in variant_names(m, registry)):
                return m
    choices = [n for m in members for n in variant_names(m, registry)]
    prefix = f"{where}: " if where else ""
    raise ConversionError(
        f"{prefix}{key}: expected one of {', '.join(choices)}, got {name!r}"
        f"{did_you_mean(str(name), choices)}"
    )


class _DictEntry:
    """``weights.a`` where ``weights`` is a ``dict[str, float]`` field: one entry of it."""

    __slots__ = ("path", "entry", "value_type")

    def __init__(self, path: str, entry: str, value_type: Any) -> None:
        self.path = path
        self.entry = entry
        self.value_type = value_type


def _dict_value_type(tp: Any) -> Any | None:
    """The value type when ``tp`` is a dict/Mapping type (possibly Optional), else None."""
    mapping = strip_annotated(unwrap_optional(tp)[0])
    if get_origin(mapping) in (dict, abc.Mapping):
        args = get_args(mapping)
        return args[1] if len(args) == 2 else Any
    if mapping is dict:
        return Any
    return None


class _Defaults:
    """The defaults a build starts from, made once per merge.

    The root is the ``base`` instance (``default=`` of the command line) or the class
    defaults. A ``default_factory`` is called the first time its value is needed, and that
    value is then used by the build: each config built gets its own factory results, and a
    factory is not called twice for one build.
    """

    def __init__(self, cls: type, base: Any = None) -> None:
        self.cls = cls
        self.base = base
        self._memo: dict[str, Any] = {}
        self._classes: dict[str, type | None] = {"": cls}
        self.owned: set[str] = set()  # paths whose default is this build's own object
        self.variants: dict[str, type] = {}  # union path → variant chosen by a layer

    def at(self, path: str) -> Any:
        """The default value at ``path`` (MISSING when there is none)."""
        if path in self._memo:
            return self._memo[path]
        parent_path, _, name = path.rpartition(".")
        parent = self.at(parent_path) if parent_path else (MISSING if self.base is None else self.base)
        parent_cls = self.class_at(parent_path)
        value: Any = MISSING
        if parent_cls is not None:
            if is_config_instance(parent) and type(parent) is parent_cls and hasattr(parent, name):
                value = getattr(parent, name)
                if parent_path in self.owned:
                    self.owned.add(path)
            else:
                info = schema_of(parent_cls).by_name.get(name)
                if info is not None and info.has_default:
                    value = info.fresh_default()
                    if info.factory is not None:
                        self.owned.add(path)
        self._memo[path] = value
        return value

    def class_at(self, path: str) -> type | None:
        """The config class the defaults hold at ``path`` (a config or union field)."""
        if path in self.variants:
            return self.variants[path]
        if path in self._classes:
            return self._classes[path]
        value = self.at(path)
        found: type | None = None
        if is_config_instance(value):
            found = type(value)
        else:
            parent_path, _, name = path.rpartition(".")
            parent_cls = self.class_at(parent_path)
            info = schema_of(parent_cls).by_name.get(name) if parent_cls is not None else None
            if info is not None and info.kind == "config":
                found = info.config
        self._classes[path] = found
        return found

    def rebase(self, path: str, cls: type) -> None:
        """From now on the config at ``path`` is a ``cls`` built from ``cls``'s own defaults
        (another variant was chosen, or keys were set under a sub-config that defaults to None)."""
        for table in (self._memo, self._classes):
            for key in [k for k in table if k.startswith(path + ".")]:
                del table[key]
        self._memo[path] = MISSING
        self._classes[path] = cls

    def forget_below(self, path: str) -> None:
        """The variant at ``path`` changed: what was looked up below it no longer holds."""
        for table in (self._memo, self._classes):
            for key in [k for k in table if k.startswith(path + ".")]:
                del table[key]
        self._classes.pop(path, None)


class _Choices:
    """The variant each union field is on while the layers are applied."""

    def __init__(self, cls: type, defaults: _Defaults) -> None:
        self.cls = cls
        self.defaults = defaults
        self.variants = defaults.variants  # union path → chosen class (shared with the defaults)
        self.source: dict[str, str] = {}

    def current(self, path: str) -> type | None:
        return self.variants.get(path) or self.defaults.class_at(path)

    def node(self, path: str) -> FieldInfo | _DictEntry:
        """The field at ``path`` under the current choices; KeyError names the first
        unknown part (or ``union._type`` when a union on the way has no variant)."""
        current: type = self.cls
        parts = path.split(".")
        for i, part in enumerate(parts):
            info = schema_of(current).by_name.get(part)
            if info is None:
                raise KeyError(".".join(parts[: i + 1]))
            if i == len(parts) - 1:
                return info
            prefix = ".".join(parts[: i + 1])
            if info.kind == "leaf":
                value_type = _dict_value_type(info.type)
                if value_type is not None and i == len(parts) - 2:
                    return _DictEntry(prefix, parts[-1], value_type)
                raise KeyError(".".join(parts[: i + 2]))
            if info.kind == "union":
                chosen = self.current(prefix)
                if chosen is None:
                    raise KeyError(prefix + "." + TYPE_KEY)
                current = chosen
            else:
                assert info.config is not None
                current = info.config
        raise KeyError(path)

    def valid_keys(self) -> list[str]:
        """Every valid dotted key under the current variant choices (for did-you-mean)."""
        out: list[str] = []
        for node in walk(self.cls, choose=lambda p, f: self.current(p)):
            if node.field.kind == "union":
                out.append(node.path + "." + TYPE_KEY)
            elif node.field.kind == "leaf":
                out.append(node.path)
        return out


def _suggest(paths: list[str]) -> str:
    """`` (did you mean 'a' or 'b'?)`` for up to three paths already ranked."""
    paths = paths[:3]
    if len(paths) == 1:
        return f" (did you mean {paths[0]!r}?)"
    return " (did you mean " + ", ".join(repr(p) for p in paths[:-1]) + f" or {paths[-1]!r}?)"


def _has_path(cls: type, rest: str) -> bool:
    return any(n.path == rest for n in walk(cls))


def _variant_hint(key: str, raw: RawValue, choices: _Choices) -> str | None:
    """When ``key`` sits under a union field whose chosen variant lacks it but another
    variant has it, say so: a generic did-you-mean would send people to a wrong key."""
    parts = key.split(".")
    for i in range(len(parts) - 1, 0, -1):
        union_path = ".".join(parts[:i])
        try:
            info = choices.node(union_path)
        except KeyError:
            continue
        if isinstance(info, _DictEntry) or info.kind != "union":
            continue
        current = choices.current(union_path)
        rest = ".".join(parts[i:])
        having = [m for m in info.variants if m is not current and _has_path(m, rest)]
        if not having or current is None:
            return None
        lacks = variant_lacks(union_path, current, choices.source.get(union_path, DEFAULT), rest, having)
        return (
            f"{raw.source}: unknown key {key!r}: {lacks} "
            f"(set {union_path + '.' + TYPE_KEY} = {having[0].__name__})"
        )
    return None


def _unknown_key(key: str, raw: RawValue, choices: _Choices, missing_part: str) -> str:
    if missing_part.endswith("." + TYPE_KEY) and not key.endswith(TYPE_KEY):
        return (
            f"{raw.source}: {key}: {missing_part[: -len(TYPE_KEY) - 1]!r} has no variant chosen; "
            f"set {missing_part!r} first"
        )
    variant = _variant_hint(key, raw, choices)
    if variant is not None:
        return variant
    valid = choices.valid_keys()
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


def _expand_mappings(items: list[tuple[str, RawValue]], choices: _Choices) -> list[tuple[str, RawValue]]:
    """A whole mapping given for a sub-config (``model = {"hidden": 3}`` in an ini, or an
    empty ``{}`` kept by ``flatten``) becomes its dotted keys, so it is not silently dropped."""
    out: list[tuple[str, RawValue]] = []
    for key, raw in items:
        value = raw.value
        if isinstance(value, str) and value.startswith("{"):
            parsed = _literal(value)
            value = parsed if isinstance(parsed, dict) else value
        if isinstance(value, abc.Mapping):
            try:
                info = choices.node(key)
            except KeyError:
                info = None
            if isinstance(info, FieldInfo) and info.kind != "leaf":
                out.extend(
                    (f"{key}.{k}", RawValue(v, raw.source, text=False))
                    for k, v in flatten(dict(value)).items()
                    if not (isinstance(v, dict) and not v)
                )
                continue
        out.append((key, raw))
    return out


def flatten_for(
    cls: type, nested: dict[str, Any], prefix: str = "", *, registry: Registry | None = None
) -> dict[str, Any]:
    """Flatten a config's primitives into dotted keys, descending only into sub-configs.

    Unlike :func:`config_utils.tree.flatten`, the value of a ``dict``-typed field stays one
    leaf, so its keys may hold dots (``{"a.b": 1}``) and still round-trip. Keys that are not
    fields of ``cls`` stay as they are, to be reported by :func:`merge`.
    """
    by_name = schema_of(cls).by_name
    out: dict[str, Any] = {}
    for key, value in nested.items():
        path = prefix + key
        info = by_name.get(key)
        if info is None or info.kind == "leaf" or not isinstance(value, dict) or not value:
            out[path] = value
            continue
        if info.kind == "union":
            name = value.get(TYPE_KEY)
            try:
                sub = (
                    resolve_variant(name, info.type, key=path + "." + TYPE_KEY, where="", registry=registry)
                    if name is not None
                    else None
                )
            except ConversionError:
                sub = None
            if sub is None:  # let merge report the bad or missing variant with its source
                out.update({f"{path}.{k}": v for k, v in value.items()})
            else:
                out.update(flatten_for(sub, value, path + ".", registry=registry))
            continue
        assert info.config is not None
        out.update(flatten_for(info.config, value, path + ".", registry=registry))
    return out


def merge(
    cls: type,
    layers: list[Layer],
    *,
    strict: bool = False,
    missing: Any = MISSING,
    base: Any = None,
    registry: Registry | None = None,
) -> tuple[Any, dict[str, str]]:
    """Build a ``cls`` instance from its defaults and ``layers`` (lowest first).

    ``base``: an instance whose values replace the class defaults (the command line's
    ``default=``). ``registry``: where registered target names of variants are looked up.
    Returns the instance and its provenance (dotted path → source). A required field that
    no layer sets becomes ``missing`` (``tyro.MISSING`` for the command line, so tyro asks
    for it); with the default sentinel it is an error.
    """
    defaults = _Defaults(cls, base)
    choices = _Choices(cls, defaults)
    state: dict[str, tuple[Any, str]] = {}
    for layer in layers:
        lenient = layer.lenient and not strict
        if layer.note:
            if not lenient:
                raise RunSourceError(layer.note)
            warnings.warn(layer.note, stacklevel=3)
        items = list(layer.values.items())
        if any(_maybe_mapping(v.value) for _, v in items):
            items = _expand_mappings(items, choices)
        values = dict(items)
        # variant choices first, outermost first, so the keys below them resolve
        type_keys = sorted((k for k, _ in items if k.rsplit(".", 1)[-1] == TYPE_KEY), key=lambda k: k.count("."))
        for key in type_keys:
            _choose(key, values[key], choices, state, lenient, registry)
        for key, raw in items:
            if key.rsplit(".", 1)[-1] == TYPE_KEY:
                continue
            try:
                info = choices.node(key)
            except KeyError as exc:
                _report(_unknown_key(key, raw, choices, str(exc.args[0])), lenient)
                continue
            if isinstance(info, _DictEntry):
                value = convert(raw.value, info.value_type, key=key, where=raw.source, text=raw.text)
                current = state.get(info.path, (None, ""))[0]
                if not isinstance(current, dict):
                    start = defaults.at(info.path)
                    current = dict(start) if isinstance(start, abc.Mapping) else {}
                current[info.entry] = value
                state[info.path] = (current, raw.source)
                continue
            state[key] = (convert(raw.value, info.type, key=key, where=raw.source, text=raw.text), raw.source)
    prov: dict[str, str] = {}
    parents = {key[:i] for key in state for i, ch in enumerate(key) if ch == "."}
    instance = _Builder(defaults, choices, state, parents, prov, missing).build(cls, "")
    return instance, prov


def _choose(
    key: str,
    raw: RawValue,
    choices: _Choices,
    state: dict[str, tuple[Any, str]],
    lenient: bool,
    registry: Registry | None,
) -> None:
    union_path = key[: -len(TYPE_KEY) - 1]
    try:
        info = choices.node(union_path) if union_path else None
    except KeyError as exc:
        _report(_unknown_key(key, raw, choices, str(exc.args[0])), lenient)
        return
    if not isinstance(info, FieldInfo) or info.kind != "union":
        _report(f"{raw.source}: {key}: {union_path!r} is not a union-typed field", lenient)
        return
    chosen = resolve_variant(raw.value, info.type, key=key, where=raw.source, registry=registry)
    previous = choices.current(union_path)
    choices.variants[union_path] = chosen
    choices.source[union_path] = raw.source
    if previous is not chosen:
        choices.defaults.forget_below(union_path)
        for stale in [k for k in state if k.startswith(union_path + ".")]:
            try:
                choices.node(stale)
            except KeyError:
                del state[stale]


def _maybe_mapping(value: Any) -> bool:
    """Cheap pre-check (runs once per value): could this be a whole sub-config mapping?"""
    cls = value.__class__
    return cls is dict or (cls is str and value[:1] == "{")


def _report(message: str, lenient: bool) -> None:
    if lenient:
        warnings.warn(message + " (ignored)", stacklevel=4)
    else:
        raise UnknownKeyError(message)


class _Builder:
    """Constructs the merged instance top-down from the schema, the defaults and the state."""

    def __init__(
        self,
        defaults: _Defaults,
        choices: _Choices,
        state: dict[str, tuple[Any, str]],
        parents: set[str],
        prov: dict[str, str],
        missing: Any,
    ) -> None:
        self.defaults = defaults
        self.choices = choices
        self.state = state
        self.parents = parents
        self.prov = prov
        self.missing = missing

    def build(self, cls: type, prefix: str) -> Any:
        kwargs: dict[str, Any] = {}
        for info in schema_of(cls).fields:
            if not info.init:
                continue
            path = prefix + info.name
            kwargs[info.name] = self.value(info, path)
        return cls(**kwargs)

    def value(self, info: FieldInfo, path: str) -> Any:
        state, prov, defaults = self.state, self.prov, self.defaults
        has_keys = path in self.parents
        if path in state and state[path][0] is None and not has_keys:
            # ``model = None`` for an Optional sub-config (or union) in a file or run
            value, prov[path] = state[path]
            return value
        if info.kind == "leaf":
            if path in state:
                value, prov[path] = state[path]
                return value
            default = defaults.at(path)
            if default is MISSING:
                return self._required(path)
            prov[path] = DEFAULT
            return default if path in defaults.owned else _copied(default)
        default = defaults.at(path)
        target: type | None
        if info.kind == "union":
            target = self.choices.variants.get(path)
            if target is not None:
                prov[path + "." + TYPE_KEY] = self.choices.source[path]
            elif is_config_instance(default):
                target = type(default)
            else:
                if default is MISSING:
                    return self._required(path)
                prov[path] = DEFAULT
                return default  # None, or a non-config default of the union
            prov.setdefault(path + "." + TYPE_KEY, DEFAULT)
        else:
            if default is None and not has_keys:
                prov[path] = DEFAULT
                return None
            target = info.config
        assert target is not None
        if not (is_config_instance(default) and type(default) is target):
            defaults.rebase(path, target)
        return self.build(target, path + ".")

    def _required(self, path: str) -> Any:
        if self.missing is MISSING:
            raise ConversionError(f"missing required key {path!r}")
        return self.missing


def _copied(value: Any) -> Any:
    """A default taken from a shared object (a class-level default, the user's ``default=``
    instance) is copied when mutable, so two configs never share it."""
    if isinstance(value, (list, dict, set)) or is_config_instance(value):
        return copy.deepcopy(value)
    return value


def from_primitives(cls: type, nested: dict[str, Any], *, where: str, registry: Registry | None = None) -> Any:
    """Rebuild a ``cls`` instance from :func:`config_utils.tree.to_primitives` output,
    converting values to the declared types; unknown keys are reported with ``where`` in the
    message."""
    flat = flatten_for(cls, nested, registry=registry)
    layer = Layer(name=where, values={k: RawValue(v, where, text=False) for k, v in flat.items()})
    cfg, _ = merge(cls, [layer], registry=registry)
    return cfg


# ``convert`` turns a mapping into a dataclass with this (it cannot import this module: that
# was the one import cycle of the package).
install_dataclass_builder(lambda cls, nested: from_primitives(cls, nested, where="value"))
