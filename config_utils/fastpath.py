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

The forms it reads are tyro's plus the superset of :mod:`config_utils.argv` that the tyro path
accepts after a refusal: ``--a.b=v`` and ``--a.b v``, ``-`` or ``_`` in names, ``--flag`` and
``--no-flag``, boolean words for flags (``--flag=False``, ``--flag no``), negative numbers,
lists as several values or as ``[1, 2]``, a repeated flag (the last wins), union choices by
subcommand (``optim:sgd``, also by registered name) or ``--optim._type=Sgd``, anywhere on the
line. Set ``FLOWS_FAST_PATH=0`` to turn it off. ``--print-config --format json`` says which path
ran (``"path": "fast"`` or ``"tyro"``).
"""

from __future__ import annotations

import ast
import enum
import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import PurePath
from typing import TYPE_CHECKING, Any, Literal, get_args, get_origin

from .argv import kebab, norm_flag
from .convert import _FALSE, _TRUE
from .schema import TYPE_KEY, shape_of, walk
from .types import is_union, strip_annotated, unwrap_optional

if TYPE_CHECKING:
    pass

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


@dataclass(frozen=True)
class _LeafSpec:
    path: str
    kind: str  # "flag" (bool flag), "bool" (bool that takes a value), "one", "many", "fixed"
    read: Reader | None = None  # for one value, or each item of a list / variadic tuple
    readers: tuple[Reader, ...] = ()  # for each position of a fixed-length tuple
    container: type = list
    optional: bool = False


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
            if any(r is None for r in readers):
                return None
            return _LeafSpec(path, "fixed", readers=tuple(r for r in readers if r is not None), container=tuple)
        item = args[0] if args else None
        read = _scalar_reader(item) if item is not None else None
        if read is None:
            return None
        return _LeafSpec(path, "many", read, container=tuple if origin is tuple else list)
    read = _scalar_reader(inner)
    if read is None:
        return None
    return _LeafSpec(path, "one", read, optional=optional)


@dataclass(frozen=True)
class _Plan:
    """Everything the fast path needs to know about one config class (cached)."""

    flags: dict[str, _LeafSpec]  # normalised flag → leaf
    negated: dict[str, str]  # normalised ``no_`` flag → leaf path
    type_flags: dict[str, str]  # normalised ``union._type`` flag → union path
    unions: dict[str, tuple[type, ...]]
    # a ``__post_init__`` or an ``init=False`` field somewhere: over a default instance tyro
    # keeps derived values from that instance, which the fast path does not imitate
    derives: bool


@functools.lru_cache(maxsize=64)
def _plan(cls: type) -> _Plan | None:
    if "__tyro_markers__" in getattr(cls, "__dict__", {}):
        return None
    flags: dict[str, _LeafSpec] = {}
    negated: dict[str, str] = {}
    shape = shape_of(cls)
    derives = hasattr(cls, "__post_init__")
    for node in walk(cls):
        info = node.field
        if _annotated_anywhere(info.type):
            return None
        for member in info.variants or ((info.config,) if info.config else ()):
            if "__tyro_markers__" in getattr(member, "__dict__", {}):
                return None
            derives = derives or hasattr(member, "__post_init__")
        if not info.init:
            derives = True
        if info.kind != "leaf" or not info.init:
            continue
        if node.path in flags:
            continue  # the same path under another variant: the first variant's type rules
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
    return _Plan(flags, negated, type_flags, dict(shape.unions), derives)


def _annotated_anywhere(tp: Any) -> bool:
    """``Annotated`` at any depth of a type (``Annotated[A, subcommand(...)] | B`` too)."""
    if getattr(tp, "__metadata__", None) is not None:
        return True
    return any(_annotated_anywhere(a) for a in get_args(tp) if a is not Ellipsis)


# ------------------------------------------------------------------------------ reading


@dataclass
class Parsed:
    values: dict[str, Any]  # leaf path → typed value
    set_leaves: dict[str, str]  # leaf path → the flag as written
    variants: dict[str, type]  # union path → chosen class
    set_variants: dict[str, str]  # union path → the token as written


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
    if over_instance and plan.derives:
        raise Decline("derived fields over a default instance")
    aliases = _aliases(cls, variant_names)
    choices = _TokenSet(aliases)
    out = Parsed({}, {}, {}, {})
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
                if not eq:
                    if i >= n:
                        raise Decline("no value")
                    value, i = argv[i], i + 1
                    token = f"--{name}={value}"
                member = aliases.get((union, value)) or aliases.get((union, value.lower()))
                if member is None:
                    raise Decline("variant")
                out.variants[union], out.set_variants[union] = member, token
                continue
            spec = plan.flags.get(key)
            if spec is None:
                path = plan.negated.get(key)
                if path is None or eq:
                    raise Decline("unknown flag")
                out.values[path], out.set_leaves[path] = False, "--" + name
                continue
            if spec.kind == "flag":
                if eq:
                    word = value.strip().lower()
                elif i < n and argv[i].strip().lower() in _TRUE | _FALSE:
                    word, i = argv[i].strip().lower(), i + 1  # `--flag False`
                else:
                    word = "true"
                if word not in _TRUE | _FALSE:
                    raise Decline("flag value")
                out.values[spec.path], out.set_leaves[spec.path] = word in _TRUE, "--" + name
                continue
            if eq:
                texts = [value]
            else:
                texts = []
                while i < n and _is_value(argv[i]) and argv[i] not in choices:
                    texts.append(argv[i])
                    i += 1
                    if spec.kind in ("one", "bool"):
                        break
            out.values[spec.path] = _convert(spec, texts, bool(eq))
            out.set_leaves[spec.path] = "--" + name
            continue
        if ":" in token and not token.startswith("-"):
            found = _variant_token(token, aliases)
            if found is None:
                raise Decline("positional")
            union, member = found
            out.variants[union], out.set_variants[union] = member, token
            i += 1
            continue
        raise Decline("positional")
    return out


def _convert(spec: _LeafSpec, texts: list[str], eq: bool) -> Any:
    try:
        if spec.kind == "bool":
            if len(texts) != 1 or texts[0] not in ("True", "False"):
                raise Decline("bool value")
            return texts[0] == "True"
        if spec.kind == "one":
            if len(texts) != 1 or (not eq and texts[0] == ""):
                raise Decline("one value")
            if spec.optional and texts[0] == "None":
                return None
            assert spec.read is not None
            return spec.read(texts[0])
        if eq and len(texts) == 1 and texts[0].strip().startswith(("[", "(")):
            items = ast.literal_eval(texts[0].strip())
            if not isinstance(items, (list, tuple)):
                raise Decline("list literal")
            texts = [str(x) for x in items]
        if spec.kind == "fixed":
            if len(texts) != len(spec.readers):
                raise Decline("tuple length")
            return tuple(read(t) for read, t in zip(spec.readers, texts, strict=True))
        if not texts:
            raise Decline("empty list")
        read = spec.read
        assert read is not None
        return spec.container(read(t) for t in texts)
    except Decline:
        raise
    except Exception as exc:  # tyro would refuse this value (or the superset might not)
        raise Decline("value") from exc


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


__all__ = ["Decline", "Parsed", "read_arguments"]
