"""Turning a tree of config dataclasses into built objects (``configure_submodules``).

Why a separate module: the registry only answers "which target belongs to this config
type"; this module owns the walk. It is hot code (a training script may build thousands of
nodes), so every decision that depends only on a node's *type* — which fields to read,
which target to call, whether the target gets all its required parameters (full call) or
not (``functools.partial``) — is made once per type and cached as a *plan*. Per node the
walk does one dict lookup and the calls it must make; it never binds signatures and never
catches ``TypeError`` to guess (a ``TypeError`` raised inside a constructor is a real error
and surfaces, chained inside :class:`~config_utils.errors.InstantiationError` whose
message names the config path, e.g. ``loss.module``).

A node that occurs twice in the tree (the same object) is built once and shared, like
fiddle's ``build``. Unregistered dataclasses are rebuilt as the same type without
re-running ``__init__``/``__post_init__`` (those already ran when the config was made),
which also handles ``init=False`` fields and frozen dataclasses.
"""

from __future__ import annotations

import copy
import enum
import functools
import inspect
import pathlib
from collections.abc import Callable
from typing import Any, NamedTuple

from .errors import InstantiationError
from .schema import schema_of

# Plan kinds. Small ints compare fast and keep plans plain tuples.
ATOM = 0  # returned as is (numbers, strings, paths, enums, unknown objects)
KEEP = 1  # a registered config with instantiate=False: left as it is
CALL = 2  # registered config -> target(**fields)
PARTIAL = 3  # registered config -> functools.partial(target, **fields)
REBUILD = 4  # unregistered dataclass -> same type, fields configured
LIST = 5
TUPLE = 6
NAMEDTUPLE = 7
DICT = 8


class Plan(NamedTuple):
    """What to do with every node of one type (computed once per type, then cached)."""

    kind: int
    target: Any = None
    names: tuple[str, ...] = ()
    label: str = ""  # "LossModule2Config -> LossModule2", for error messages
    has_dict: bool = False  # REBUILD: instances carry a __dict__ to copy


ATOM_PLAN = Plan(ATOM)
KEEP_PLAN = Plan(KEEP)
_LIST_PLAN = Plan(LIST)
_TUPLE_PLAN = Plan(TUPLE)
_NAMEDTUPLE_PLAN = Plan(NAMEDTUPLE)
_DICT_PLAN = Plan(DICT)

_ATOM_TYPES: tuple[type, ...] = (
    int,
    float,
    complex,
    bool,
    str,
    bytes,
    type(None),
    pathlib.PurePath,
    enum.Enum,
    type,
)


class SignatureInfo:
    """What a target accepts, read once from ``inspect.signature``.

    ``known`` is False when Python cannot give a signature (some builtins); then every
    config field is passed and the call is always a full call. (A plain slotted class, not
    a dataclass: generating dataclass code costs milliseconds at ``import config_utils``.)
    """

    __slots__ = (
        "known",
        "keyword_params",
        "positional_only",
        "required",
        "required_positional_only",
        "var_keyword",
    )

    def __init__(
        self,
        known: bool,
        keyword_params: frozenset[str],
        positional_only: frozenset[str],
        required: frozenset[str],
        required_positional_only: bool,
        var_keyword: bool,
    ) -> None:
        self.known = known
        self.keyword_params = keyword_params  # parameters that can be passed by keyword
        self.positional_only = positional_only
        self.required = required  # keyword-passable parameters without a default
        self.required_positional_only = required_positional_only
        self.var_keyword = var_keyword

    def accepts(self, name: str) -> bool:
        return not self.known or self.var_keyword or name in self.keyword_params


_SIGNATURES: dict[Any, SignatureInfo] = {}


def signature_info(target: Any) -> SignatureInfo:
    """The (cached) :class:`SignatureInfo` of a class or function."""
    try:
        return _SIGNATURES[target]
    except (KeyError, TypeError):
        pass
    try:
        sig = inspect.signature(target)
    except (TypeError, ValueError):
        info = SignatureInfo(False, frozenset(), frozenset(), frozenset(), False, True)
    else:
        keyword: set[str] = set()
        pos_only: set[str] = set()
        required: set[str] = set()
        req_pos_only = False
        var_kw = False
        for p in sig.parameters.values():
            if p.kind is p.VAR_KEYWORD:
                var_kw = True
            elif p.kind is p.VAR_POSITIONAL:
                continue
            elif p.kind is p.POSITIONAL_ONLY:
                pos_only.add(p.name)
                req_pos_only = req_pos_only or p.default is p.empty
            else:
                keyword.add(p.name)
                if p.default is p.empty:
                    required.add(p.name)
        info = SignatureInfo(
            True, frozenset(keyword), frozenset(pos_only), frozenset(required), req_pos_only, var_kw
        )
    try:
        _SIGNATURES[target] = info
    except TypeError:  # unhashable callable: just don't cache
        pass
    return info


def container_plan(tp: type) -> Plan | None:
    """Plan for list/tuple/dict types (and their subclasses); None for anything else."""
    if issubclass(tp, list):
        return _LIST_PLAN
    if issubclass(tp, tuple):
        return _NAMEDTUPLE_PLAN if hasattr(tp, "_fields") and tp is not tuple else _TUPLE_PLAN
    if issubclass(tp, dict):
        return _DICT_PLAN
    return None


def rebuild_plan(tp: type) -> Plan:
    """Plan for an unregistered dataclass: copy every field, configured."""
    names = tuple(f.name for f in schema_of(tp).fields)
    # Instances carry a __dict__ unless every class in the MRO declares __slots__.
    has_dict = any("__dict__" in vars(base) for base in tp.__mro__ if base is not object)
    return Plan(REBUILD, names=names, label=tp.__qualname__, has_dict=has_dict)


def target_plan(cfg: type, target: Any, target_name: str) -> Plan:
    """Plan for a registered config: which fields go to the target, full call or partial.

    ``init=True`` fields are the target's parameters (checked at registration);
    ``init=False`` fields are derived values and are passed only when the target accepts
    that name. Partial when a required parameter of the target is not among the fields.
    """
    info = signature_info(target)
    names: list[str] = []
    for f in schema_of(cfg).fields:
        if f.init or info.accepts(f.name):
            names.append(f.name)
    partial = info.known and (bool(info.required - set(names)) or info.required_positional_only)
    label = f"{cfg.__qualname__} -> {target_name}"
    return Plan(PARTIAL if partial else CALL, target, tuple(names), label)


class _Failure(Exception):
    """Internal: carries the original exception up the walk, collecting the path."""

    def __init__(self, exc: BaseException, label: str, message: str | None = None) -> None:
        super().__init__()
        self.exc = exc
        self.label = label
        self.message = message
        self.parts: list[str] = []


_BUSY = object()
_MISSING = object()
_EMPTY: dict[str, Any] = {}


def _key_part(key: Any) -> str:
    if isinstance(key, str) and key.isidentifier():
        return "." + key
    return f"[{key!r}]"


def format_path(parts: list[str]) -> str:
    """Join path parts collected innermost-first into ``loss.module`` / ``blocks[2].act``."""
    text = "".join(reversed(parts)).lstrip(".")
    return text or "<root>"


class _Walker:
    """One ``configure_submodules`` call: the plan cache, plan maker and the share memo."""

    __slots__ = ("plans", "make_plan", "memo")

    def __init__(self, plans: dict[type, Plan], make_plan: Callable[[type], Plan]) -> None:
        self.plans = plans
        self.make_plan = make_plan
        self.memo: dict[int, Any] = {}

    def build(self, node: Any) -> Any:
        tp = node.__class__
        plan = self.plans.get(tp)
        if plan is None:
            plan = self.make_plan(tp)
        kind = plan.kind
        if kind == ATOM:
            return node
        memo = self.memo
        key = id(node)
        done = memo.get(key, _MISSING)
        if done is not _MISSING:
            if done is _BUSY:
                raise _Failure(
                    RecursionError("cycle"),
                    plan.label,
                    "the config contains itself (a cycle); configure_submodules needs a tree",
                )
            return done
        if kind == KEEP:
            memo[key] = node
            return node
        memo[key] = _BUSY
        build = self.build
        if kind >= CALL and kind <= REBUILD:
            values: dict[str, Any] = {}
            plans_get = self.plans.get
            # Reading the instance dict is faster than getattr; getattr covers slots and
            # descriptors.
            state = getattr(node, "__dict__", _EMPTY)
            for name in plan.names:
                value = state.get(name, _MISSING)
                if value is _MISSING:
                    value = getattr(node, name, _MISSING)
                    if value is _MISSING:  # init=False field never set
                        continue
                vplan = plans_get(value.__class__)
                if vplan is not None and vplan.kind == ATOM:
                    values[name] = value
                    continue
                try:
                    values[name] = build(value)
                except _Failure as failure:
                    failure.parts.append("." + name)
                    raise
            if kind == CALL:
                try:
                    result = plan.target(**values)
                except Exception as exc:
                    raise _Failure(exc, plan.label) from exc
            elif kind == PARTIAL:
                result = functools.partial(plan.target, **values)
            else:
                result = object.__new__(tp)
                if plan.has_dict:
                    state = dict(node.__dict__)
                    state.update(values)
                    object.__setattr__(result, "__dict__", state)
                else:
                    for name, value in values.items():
                        object.__setattr__(result, name, value)
        elif kind == LIST or kind == TUPLE or kind == NAMEDTUPLE:
            items = []
            for i, value in enumerate(node):
                try:
                    items.append(build(value))
                except _Failure as failure:
                    failure.parts.append(f"[{i}]")
                    raise
            if kind == NAMEDTUPLE:
                result = tp._make(items)
            elif tp is list:
                result = items
            elif tp is tuple:
                result = tuple(items)
            elif kind == LIST:
                result = copy.copy(node)
                result[:] = items
            else:
                result = tp(items)
        else:  # DICT
            out = {}
            for k, value in node.items():
                try:
                    out[k] = build(value)
                except _Failure as failure:
                    failure.parts.append(_key_part(k))
                    raise
            if tp is dict:
                result = out
            else:
                result = copy.copy(node)
                result.clear()
                result.update(out)
        memo[key] = result
        return result


def configure(struct: Any, plans: dict[type, Plan], make_plan: Callable[[type], Plan]) -> Any:
    """Build ``struct`` (see the module docstring); ``make_plan`` fills ``plans`` on a miss."""
    try:
        return _Walker(plans, make_plan).build(struct)
    except _Failure as failure:
        path = format_path(failure.parts)
        exc = failure.exc
        if failure.message is not None:
            message = f"{path}: {failure.message}"
        else:
            message = f"{path}: building {failure.label} raised {type(exc).__name__}: {exc}"
        raise InstantiationError(message) from exc
