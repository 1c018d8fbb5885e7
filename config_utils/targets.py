"""What ``config_utils.cli`` was asked to build, and function targets.

A target is a dataclass, ``Optional[dataclass]``, a top-level union of dataclasses, a function
(its parameters become a generated dataclass, so layers and provenance work on them) or
anything else tyro accepts (no layers). A function target is not called while tyro parses:
tyro gets a stand-in with the same signature, and the real function is called once the
arguments are known.
"""

from __future__ import annotations

import functools
import inspect
import types
import typing
from collections.abc import Callable
from typing import Any

from .schema import schema_of
from .types import is_config_type, is_union, strip_annotated


class _Unset:
    """``default=`` not given (tyro's own sentinel needs a tyro import)."""

    def __repr__(self) -> str:
        return "<no default>"


UNSET: Any = _Unset()


class Target:
    """What ``cli`` was asked to build, seen from the layers.

    ``kind``: ``class`` (a dataclass), ``optional`` (``Optional[dataclass]``), ``union`` (a
    top-level union of dataclasses), ``function`` (its parameters become a generated
    dataclass for the layers), or ``other`` (anything else tyro accepts: no layers).
    ``cls``: the dataclass layers apply to; ``members``: a union's members.
    """

    __slots__ = ("kind", "cls", "members", "function")

    def __init__(
        self,
        kind: str,
        cls: type | None = None,
        members: tuple[type, ...] = (),
        function: Callable[..., Any] | None = None,
    ) -> None:
        self.kind = kind
        self.cls = cls
        self.members = members
        self.function = function

    def field_names(self) -> list[str]:
        classes = [self.cls] if self.cls is not None else list(self.members)
        return [f.name for c in classes for f in schema_of(c).fields]


def analyse(f: Any) -> Target:
    tp = strip_annotated(f)
    if is_config_type(tp):
        return Target("class", cls=tp)
    if is_union(tp):
        args = [strip_annotated(a) for a in typing.get_args(tp)]
        configs = tuple(a for a in args if is_config_type(a))
        others = [a for a in args if not is_config_type(a)]
        if configs and others == [type(None)] and len(configs) == 1:
            return Target("optional", cls=configs[0])
        if configs and not others:
            return Target("union", members=configs)
        return Target("other")
    if typing.get_origin(tp) is not None:
        # a parameterised generic (``Args[Triangle]``): a structured type, not a function;
        # tyro resolves its type variables, and layers do not apply (docs/cli.md)
        return Target("other")
    if isinstance(tp, typing.NewType):  # a type form (`NewType("Pair", tuple[int, int])`)
        return Target("other")
    if callable(tp) and not isinstance(tp, type):
        params = params_dataclass(tp)
        return Target("function", cls=params, function=tp)
    return Target("other")


@functools.lru_cache(maxsize=64)
def params_dataclass(fn: Callable[..., Any]) -> type | None:
    """A dataclass mirroring ``fn``'s parameters, so layers and provenance work on them
    (built by :func:`config_utils.registry.dataclass_from_signature`, the one builder).

    None when the signature has ``*args``/``**kwargs`` or cannot be read, or when its
    annotations do not resolve.
    """
    from .errors import SignatureError
    from .registry import dataclass_from_signature

    try:
        typing.get_type_hints(fn, include_extras=True)
    except (TypeError, ValueError, NameError):
        return None
    try:
        return dataclass_from_signature(
            fn,
            f"{getattr(fn, '__name__', 'main')}_arguments",
            doc=inspect.getdoc(fn) or "",
            keyword_only=True,
            refuse_variadic=True,
        )
    except SignatureError:
        return None


class Deferred:
    """Returned to tyro instead of calling a function target (we call it afterwards)."""

    def __init__(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        self.args = args
        self.kwargs = kwargs


def recorder(fn: Callable[..., Any]) -> Callable[..., Any]:
    """The stand-in tyro parses for ``fn``: tyro reads a ``functools.partial`` (its bound
    arguments, the function's docstring) and a bound method (``Self``, the instance) itself,
    so the stand-in keeps that shape and replaces only the function underneath."""
    if isinstance(fn, functools.partial):
        return functools.partial(recorder(fn.func), *fn.args, **fn.keywords)
    if isinstance(fn, types.MethodType) and _mentions_self(fn.__func__):
        # tyro resolves `Self` from the instance; a generic instance's type variables it
        # resolves from the plain wrapper below (`Config[int](3).method`)
        return types.MethodType(recorder(fn.__func__), fn.__self__)

    @functools.wraps(fn)
    def record(*args: Any, **kwargs: Any) -> Deferred:
        return Deferred(args, kwargs)

    return record


def _mentions_self(fn: Any) -> bool:
    """An annotation of ``fn`` names ``Self`` (``typing.Self`` or the string)."""
    return any("Self" in repr(a) for a in getattr(fn, "__annotations__", {}).values())


def finish_call(target: Target, result: Any) -> tuple[Any, Any]:
    """(the config object provenance attaches to, what ``cli`` returns)."""
    if target.kind != "function":
        return result, result
    assert target.function is not None
    if isinstance(result, Deferred):
        params = _arguments_instance(target, result.args, result.kwargs)
        return params, _underneath(target.function)(*result.args, **result.kwargs)
    # layered: tyro built the generated arguments dataclass
    kwargs = {f.name: getattr(result, f.name) for f in schema_of(type(result)).fields}
    return result, _call_with(target.function, kwargs)


def _underneath(fn: Callable[..., Any]) -> Callable[..., Any]:
    """The function the recorder stood in for: its arguments already hold what a partial
    or a bound method adds."""
    while isinstance(fn, functools.partial) or (
        isinstance(fn, types.MethodType) and _mentions_self(fn.__func__)
    ):
        fn = fn.func if isinstance(fn, functools.partial) else fn.__func__
    return fn


def _call_with(fn: Callable[..., Any], kwargs: dict[str, Any]) -> Any:
    sig = inspect.signature(fn)
    positional = [kwargs.pop(p.name) for p in sig.parameters.values() if p.kind is p.POSITIONAL_ONLY]
    return fn(*positional, **kwargs)


def _arguments_instance(target: Target, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    if target.cls is None or target.function is None:
        return None
    if _underneath(target.function) is not target.function:
        # the recorded arguments include what the partial or the method adds
        try:
            bound = inspect.signature(_underneath(target.function)).bind(*args, **kwargs)
        except TypeError:
            return None
        names = set(inspect.signature(target.function).parameters)
        return _build(target.cls, {k: v for k, v in bound.arguments.items() if k in names})
    bound = inspect.signature(target.function).bind(*args, **kwargs)
    bound.apply_defaults()
    return _build(target.cls, dict(bound.arguments))


def _build(cls: type, arguments: dict[str, Any]) -> Any:
    try:
        return cls(**arguments)
    except TypeError:
        return None
