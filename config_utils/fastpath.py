"""The fast path of ``config_utils.cli``: plain overrides without building tyro's parser.

Most command lines that training scripts, sweep agents and re-created runs see are plain
``--section.key=value`` overrides. tyro builds a parser for every leaf of the config before it
reads them (about 240 µs per leaf); this module reads them straight off the schema model and
converts each value exactly as tyro would, in microseconds per argument.

It answers only when it is sure to give what the tyro path gives — the same config and the
same provenance — and *declines* (returns None) otherwise, so the tyro path runs and the user
sees exactly what they would without it. It declines for: ``--help`` and any argument that is
not a known flag, a value, or a union choice (positional arguments, misspelt flags, single-dash
options); any ``tyro.conf`` marker or ``Annotated`` metadata in the config; keyword arguments
of ``tyro.cli`` it does not model (``config``, ``registry``, ``return_unknown_args``,
``use_underscores``, …); targets other than a dataclass; types outside int, float, str, bool,
Path, Enum (by name), Literal of str/int, Optional of these and list/tuple of these; a value
tyro would refuse; a required field left unset; any error at all.

Which reading a token gets depends on the whole line: the tyro path gives tyro the list as
written and only after a refusal the rewritten one (``--tags=[1, 2]`` for a ``list[str]`` is
one item to tyro, two after rewriting). So every value is read both ways (:class:`Parsed`), and
the answer is the reading the tyro path ends with — or a decline when that is not sure. The
fast path may decline, never differ (``src/test/test_cli_differential_edges.py``).

The forms it reads are tyro's plus the superset of :mod:`config_utils.argv` that the tyro path
accepts after a refusal: ``--a.b=v`` and ``--a.b v``, ``-`` or ``_`` in names, ``--flag`` and
``--no-flag``, boolean words for flags (``--flag=False``, ``--flag no``), negative numbers,
lists as several values or as ``[1, 2]``, a repeated flag (the last wins), union choices by
subcommand (``optim:sgd``, also by registered name) or ``--optim._type=Sgd``, anywhere on the
line. Set ``FLOWS_FAST_PATH=0`` to turn it off. ``--print-config --format json`` says which path
ran (``"path": "fast"`` or ``"tyro"``).
"""

from __future__ import annotations

import enum
import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any, Literal, get_args, get_origin

from .argv import kebab, list_items, norm_flag, subcommand_token
from .convert import _FALSE, _TRUE, convert
from .schema import TYPE_KEY, shape_of, walk
from .types import is_union, strip_annotated, unwrap_optional

_NEGATIVE_NUMBER = re.compile(r"^-(\d|\.\d)")


class Decline(Exception):
    """The fast path cannot be sure; the tyro path decides."""


# ------------------------------------------------------------------------- value readers


Reader = Callable[[str], Any]


def _scalar_reader(tp: Any) -> Reader | None:
    """How tyro turns one token into a ``tp``; None when the fast path does not model it."""
    if tp is int:
        return int
    if tp is float:
        return float
    if tp is str:
        return str
    if isinstance(tp, type) and issubclass(tp, PurePath):
        return tp  # type: ignore[no-any-return]
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        members = tp.__members__
        return lambda text: members[text]
    if get_origin(tp) is Literal:
        choices = get_args(tp)
        if not all(type(c) in (str, int) for c in choices):
            return None
        by_text: dict[str, Any] = {}
        for c in choices:
            by_text.setdefault(str(c), c)
        return lambda text: by_text[text]
    return None


def _superset_reader(tp: Any) -> Reader | None:
    """How the tyro path's second attempt (after tyro refused the arguments as written) turns
    one token into a ``tp``: its constructor rules convert ints, value-taking bools and Enums
    with the one conversion (``5.0``, ``1_000``, members by value); other types as tyro does."""
    if tp is int or tp is bool or (isinstance(tp, type) and issubclass(tp, enum.Enum)):
        return lambda text: convert(text, tp, key="argument", where="command line")
    return _scalar_reader(tp)


@dataclass(frozen=True)
class _LeafSpec:
    path: str
    kind: str  # "flag" (bool flag), "bool" (bool that takes a value), "one", "many", "fixed"
    read: Reader | None = None  # for one value, or each item of a list / variadic tuple
    readers: tuple[Reader, ...] = ()  # for each position of a fixed-length tuple
    container: type = list
    optional: bool = False
    # the same, as the tyro path's second attempt reads them (see ``_superset_reader``)
    read_super: Reader | None = None
    readers_super: tuple[Reader, ...] = ()


def _leaf_spec(path: str, tp: Any, required: bool) -> _LeafSpec | None:
    if getattr(tp, "__metadata__", None) is not None:
        return None  # Annotated: tyro markers or metadata tyro may read
    inner, optional = unwrap_optional(tp)
    inner = strip_annotated(inner)
    if inner is bool:
        if optional:
            return None
        return _LeafSpec(path, "bool" if required else "flag")
    if is_union(inner):
        return None
    origin = get_origin(inner)
    if origin in (list, tuple) and not optional:
        args = get_args(inner)
        if origin is tuple and args and not (len(args) == 2 and args[1] is Ellipsis):
            readers = [_scalar_reader(a) for a in args]
            supers = [_superset_reader(a) for a in args]
            if any(r is None for r in readers) or any(r is None for r in supers):
                return None
            return _LeafSpec(
                path, "fixed", readers=tuple(r for r in readers if r is not None), container=tuple,
                readers_super=tuple(r for r in supers if r is not None),
            )
        item = args[0] if args else None
        read = _scalar_reader(item) if item is not None else None
        if read is None:
            return None
        return _LeafSpec(
            path, "many", read, container=tuple if origin is tuple else list, read_super=_superset_reader(item)
        )
    read = _scalar_reader(inner)
    if read is None:
        return None
    return _LeafSpec(path, "one", read, optional=optional, read_super=_superset_reader(inner))


@dataclass(frozen=True)
class _Plan:
    """Everything the fast path needs to know about one config class (cached)."""

    flags: dict[str, _LeafSpec]  # normalised flag → leaf
    negated: dict[str, str]  # normalised ``no_`` flag → leaf path
    # paths that variants of a union declare with different types (``A.x: int``, ``B.x: str``):
    # which type applies depends on the variant, which the fast path does not track
    conflicts: frozenset[str]
    # tyro's own spelling of each union choice (``loss-fn:huber``) → (union path, member)
    native_tokens: dict[str, tuple[str, type]]
    type_flags: dict[str, str]  # normalised ``union._type`` flag → union path
    unions: dict[str, tuple[type, ...]]
    # a ``__post_init__`` or an ``init=False`` field somewhere: over a default instance tyro
    # keeps derived values from that instance, which the fast path does not imitate
    derives: bool
    # ... and a nested config with a default of its own (``default_factory=Inner``): tyro
    # re-derives from what the command line set, where the fast path keeps the derived value
    derives_under_default: bool = False


@functools.lru_cache(maxsize=64)
def _plan(cls: type) -> _Plan | None:
    if "__tyro_markers__" in getattr(cls, "__dict__", {}):
        return None
    flags: dict[str, _LeafSpec] = {}
    negated: dict[str, str] = {}
    declared: dict[str, Any] = {}  # path → declared type, or the class of a sub-config
    conflicts: set[str] = set()
    shape = shape_of(cls)
    derives = hasattr(cls, "__post_init__")
    nested_default = False
    for node in walk(cls):
        info = node.field
        nested_default = nested_default or (info.kind != "leaf" and info.has_default)
        if _annotated_anywhere(info.type):
            return None
        for member in info.variants or ((info.config,) if info.config else ()):
            if "__tyro_markers__" in getattr(member, "__dict__", {}):
                return None
            derives = derives or hasattr(member, "__post_init__")
        if not info.init:
            derives = True
        kind_of = info.type if info.kind == "leaf" else ("node", info.config, info.variants)
        if node.path in declared and declared[node.path] != kind_of:
            conflicts.add(node.path)
        declared.setdefault(node.path, kind_of)
        if info.kind != "leaf" or not info.init:
            continue
        if norm_flag(node.path) in flags:
            continue  # the same path under another variant (a conflict is noted above)
        spec = _leaf_spec(node.path, info.type, not info.has_default)
        if spec is None:
            return None
        flags[norm_flag(node.path)] = spec
        if spec.kind == "flag":
            parent, dot, leaf = node.path.rpartition(".")
            negated[norm_flag(parent + dot + "no_" + leaf)] = node.path
    for members in shape.unions.values():
        kebabs = [kebab(m.__name__) for m in members]
        if len(set(kebabs)) != len(kebabs):
            return None
    type_flags = {norm_flag(p) + "." + TYPE_KEY: p for p in shape.unions}
    native_tokens = {
        subcommand_token(p, m.__name__): (p, m) for p, members in shape.unions.items() for m in members
    }
    under_conflict = {p for p in declared if any(p.startswith(c + ".") for c in conflicts)}
    return _Plan(
        flags, negated, frozenset(conflicts | under_conflict), native_tokens, type_flags, dict(shape.unions), derives,
        derives and nested_default,
    )


def plan_unions(cls: type) -> tuple[str, ...]:
    """The union field paths of ``cls`` (outermost first)."""
    return tuple(sorted(shape_of(cls).unions, key=lambda p: p.count(".")))


def _annotated_anywhere(tp: Any) -> bool:
    """``Annotated`` at any depth of a type (``Annotated[A, subcommand(...)] | B`` too)."""
    if getattr(tp, "__metadata__", None) is not None:
        return True
    return any(_annotated_anywhere(a) for a in get_args(tp) if a is not Ellipsis)


# ------------------------------------------------------------------------------ reading


class _RefusedValue:
    """A reading in which tyro refuses the value."""

    def __repr__(self) -> str:
        return "<refused>"


REFUSED: Any = _RefusedValue()


@dataclass
class Parsed:
    """What an argument list sets, read twice: as tyro reads the list as written (``native``)
    and as the tyro path's second attempt reads it after rewriting the superset forms
    (``superset``). Which reading the tyro path ends with depends on the *whole* list: tyro's
    first attempt succeeds only when every argument is in tyro's own form."""

    native: dict[str, Any]  # leaf path → typed value, or REFUSED
    superset: dict[str, Any]
    set_leaves: dict[str, str]  # leaf path → the flag as written
    variants: dict[str, type]  # union path → chosen class
    set_variants: dict[str, str]  # union path → the token as written
    all_native: bool = True  # every token is in tyro's own form (no superset form seen)
    unions_touched: bool = False  # a union choice or a union's argument appears

    def set(self, path: str, native: Any, superset: Any, flag: str) -> None:
        if native is REFUSED and superset is REFUSED:
            raise Decline("value")
        self.native[path], self.superset[path], self.set_leaves[path] = native, superset, flag
        if native is REFUSED:
            self.all_native = False

    def values(self) -> dict[str, Any]:
        """The reading the tyro path ends with, or :class:`Decline` when that is not sure.

        All in tyro's form: tyro accepts the list as written, unless our model of tyro's
        form misses an ordering rule of subcommands; so with unions involved the native
        reading is used only where the superset reading agrees with it."""
        if self.all_native:
            if not self.unions_touched or _same(self.native, self.superset):
                return self.native
            raise Decline("the readings differ and tyro's first attempt is not certain")
        if any(v is REFUSED for v in self.superset.values()):
            raise Decline("refused after rewriting")
        return self.superset


def _same(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return a.keys() == b.keys() and all(type(a[k]) is type(b[k]) and a[k] == b[k] for k in a)


def _is_value(token: str) -> bool:
    return not token.startswith("-") or token == "-" or bool(_NEGATIVE_NUMBER.match(token))


def read_arguments(
    cls: type, argv: list[str], variant_names: Callable[[type], list[str]], *, over_instance: bool = False
) -> Parsed:
    """Read ``argv`` against ``cls``; raises :class:`Decline` on anything not plain.

    ``over_instance``: the values go on top of an instance (layers or ``default=``)."""
    plan = _plan(cls)
    if plan is None:
        raise Decline("config")
    if (over_instance or plan.derives_under_default) and plan.derives:
        raise Decline("derived fields over a default instance")
    aliases = _aliases(cls, variant_names)
    choices = _TokenSet(aliases)
    out = Parsed({}, {}, {}, {}, {})
    i, n = 0, len(argv)
    while i < n:
        token = argv[i]
        if token.startswith("--"):
            name, eq, value = token[2:].partition("=")
            if not name:
                raise Decline("bare --")
            key = norm_flag(name)
            i += 1
            if key in plan.type_flags:
                union = plan.type_flags[key]
                if union in plan.conflicts:
                    raise Decline("a path whose type depends on the variant")
                if not eq:
                    if i >= n:
                        raise Decline("no value")
                    value, i = argv[i], i + 1
                    token = f"--{name}={value}"
                member = aliases.get((union, value)) or aliases.get((union, value.lower()))
                if member is None:
                    raise Decline("variant")
                out.variants[union], out.set_variants[union] = member, token
                out.all_native, out.unions_touched = False, True
                continue
            spec = plan.flags.get(key)
            path = spec.path if spec is not None else plan.negated.get(key)
            if path is None:
                raise Decline("unknown flag")
            if path in plan.conflicts:
                raise Decline("a path whose type depends on the variant")
            if any(path.startswith(u + ".") for u in plan.unions):
                out.unions_touched = True
            if spec is None:  # --no-flag
                if eq:
                    raise Decline("a value for --no-flag")
                out.set(path, False, False, "--" + name)
                continue
            if spec.kind == "flag":
                native: Any = REFUSED  # tyro's flags take no value
                if eq:
                    word = value.strip().lower()
                elif i < n and argv[i].strip().lower() in _TRUE | _FALSE:
                    word, i = argv[i].strip().lower(), i + 1  # `--flag False`
                else:
                    word, native = "true", True
                if word not in _TRUE | _FALSE:
                    raise Decline("flag value")
                out.set(path, native, word in _TRUE, "--" + name)
                continue
            if eq:
                texts = [value]
            else:
                texts = []  # (a value tyro reads as an option, like `-x`, ends them)
                while i < n and _is_value(argv[i]):
                    if argv[i] in choices:
                        if argv[i] in plan.native_tokens:
                            break  # tyro's own subcommand token ends the values
                        # another spelling: a value to tyro, a choice after rewriting
                        raise Decline("a variant name among values")
                    texts.append(argv[i])
                    i += 1
                    if spec.kind in ("one", "bool"):
                        break
            out.set(path, *_convert(spec, texts, bool(eq)), "--" + name)
            continue
        if ":" in token and not token.startswith("-"):
            found = _variant_token(token, aliases)
            if found is None:
                raise Decline("positional")
            union, member = found
            if union in plan.conflicts:
                raise Decline("a path whose type depends on the variant")
            out.variants[union], out.set_variants[union] = member, token
            out.unions_touched = True
            if plan.native_tokens.get(token) != found:
                out.all_native = False
            i += 1
            continue
        raise Decline("positional")
    return out


def _convert(spec: _LeafSpec, texts: list[str], eq: bool) -> tuple[Any, Any]:
    """(tyro's reading of the values as written, the second attempt's reading)."""
    if spec.kind == "bool":
        if len(texts) != 1:
            raise Decline("bool value")
        native = texts[0] == "True" if texts[0] in ("True", "False") else REFUSED
        return native, _read(_read_bool_word, texts[0])
    if spec.kind == "one":
        if len(texts) != 1 or (not eq and texts[0] == ""):
            raise Decline("one value")
        text = texts[0]
        assert spec.read is not None and spec.read_super is not None
        if spec.optional:
            # tyro reads `None` as None; the second attempt's None rule (the one conversion's
            # None words, blank text too) comes before the other member's
            native = None if text == "None" else _read(spec.read, text)
            superset = _read(_read_none, text)
            return native, (_read(spec.read_super, text) if superset is REFUSED else None)
        return _read(spec.read, text), _read(spec.read_super, text)
    rewritten = texts
    if eq and len(texts) == 1:
        # the second attempt rewrites `--xs=[1, 2]` to `--xs 1 2` (config_utils.argv.list_items);
        # tyro's own first attempt reads the text as one item
        items = list_items(texts[0])
        if items is not None:
            rewritten = items
    if not texts or not rewritten:
        raise Decline("empty list")
    if spec.kind == "fixed":
        return _fixed(spec.readers, texts), _fixed(spec.readers_super, rewritten)
    assert spec.read is not None and spec.read_super is not None
    return _many(spec.read, texts, spec.container), _many(spec.read_super, rewritten, spec.container)


def _read_bool_word(text: str) -> bool:
    return convert(text, bool, key="argument", where="command line")  # type: ignore[no-any-return]


def _read_none(text: str) -> None:
    return convert(text, type(None), key="argument", where="command line")  # type: ignore[no-any-return]


def _read(read: Reader, text: str) -> Any:
    try:
        return read(text)
    except Exception:  # tyro (or the one conversion) refuses this value
        return REFUSED


def _many(read: Reader, texts: list[str], container: type) -> Any:
    items = [_read(read, t) for t in texts]
    return REFUSED if any(x is REFUSED for x in items) else container(items)


def _fixed(readers: tuple[Reader, ...], texts: list[str]) -> Any:
    if len(texts) != len(readers):
        return REFUSED
    items = [_read(read, t) for read, t in zip(readers, texts, strict=True)]
    return REFUSED if any(x is REFUSED for x in items) else tuple(items)


def _aliases(cls: type, variant_names: Callable[[type], list[str]]) -> dict[tuple[str, str], type]:
    """(union path, name) → member, for every spelling a choice may take."""
    table: dict[tuple[str, str], type] = {}
    for union, members in shape_of(cls).unions.items():
        for m in members:
            for n in (m.__name__, *variant_names(m)):
                for alias in (kebab(m.__name__), kebab(n), n, n.lower()):
                    table.setdefault((union, alias), m)
    return table


class _TokenSet:
    """``token in tokens`` for subcommand tokens (``optim:sgd``), without building them all."""

    def __init__(self, aliases: dict[tuple[str, str], type]) -> None:
        self.aliases = aliases

    def __contains__(self, token: object) -> bool:
        return isinstance(token, str) and _variant_token(token, self.aliases) is not None


def _variant_token(token: str, aliases: dict[tuple[str, str], type]) -> tuple[str, type] | None:
    union, _, name = token.partition(":")
    for key in (union, union.replace("-", "_")):
        member = aliases.get((key, name)) or aliases.get((key, name.lower()))
        if member is not None:
            return key, member
    return None


__all__ = ["REFUSED", "Decline", "Parsed", "plan_unions", "read_arguments"]
