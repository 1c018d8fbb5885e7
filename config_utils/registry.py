"""The registry: names → classes/functions, and config dataclasses → the target they build.

Seed API (pytorch-flows), kept verbatim::

    from config_utils.registry import registry

    @registry.register
    class SomeObject: ...
    registry._clsname2cls['SomeObject']

    @registry.register_with_config          # finds `LossModule1Config` by naming convention
    class LossModule1: ...

    @registry.register_with_config('LossConfig')
    class Loss: ...

    registry.configure_submodules(tyro.cli(LossConfig))

What changed from the seed, and why:

- State lives on each :class:`Registry` instance (the seed kept it at class level, so two
  registries silently shared everything). The seed's class name ``_Registry`` is an alias of
  :class:`Registry` with that one difference; its ``config_name=`` keyword is accepted. The seed's four mappings stay readable under
  their old names because the seed README documents ``registry._clsname2cls[...]``.
- Mistakes surface at registration time (a config field the target cannot take, a second
  object under a taken name), with did-you-mean and both definitions' ``file:line``,
  instead of a ``TypeError`` deep in a training run.
- ``configure_submodules`` decides "full call or ``functools.partial``" from the target's
  signature once per config type (see :mod:`config_utils.instantiate`), never by catching
  ``TypeError``; ``instantiate=False`` works (in the seed it silently never did).
- Nothing here imports a module path taken from data: variants are resolved by *name*
  among registered configs only (``config_by_name``).

This module is imported by ``import config_utils`` and must stay light: standard library
only.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import inspect
import re
import sys
import typing
from collections.abc import Callable
from types import FrameType
from typing import Any, TypeVar, overload

from . import instantiate as _inst
from .errors import (
    DuplicateNameError,
    RegistryError,
    SignatureError,
    UnknownNameError,
    did_you_mean,
)
from .schema import schema_of

__all__ = ["Registry", "_Registry", "registry"]

T = TypeVar("T")


def _location(obj: Any) -> str:
    """``file:line`` where ``obj`` is defined, as well as Python can tell (error paths only)."""
    code = getattr(obj, "__code__", None)
    if code is not None:
        return f"{code.co_filename}:{code.co_firstlineno}"
    try:
        filename = inspect.getsourcefile(obj) or inspect.getfile(obj)
    except (TypeError, OSError):
        return "unknown location"
    try:
        _, line = inspect.findsource(obj)
    except (OSError, TypeError, IndexError):
        return filename
    return f"{filename}:{line + 1}"


def _describe(obj: Any) -> str:
    """``module.Qualname (file:line)``: enough to find a definition from an error message."""
    module = getattr(obj, "__module__", "?")
    qualname = getattr(obj, "__qualname__", repr(obj))
    return f"{module}.{qualname} ({_location(obj)})"


def _identity(obj: Any) -> tuple[str, str]:
    return (getattr(obj, "__module__", ""), getattr(obj, "__qualname__", ""))


def _is_dataclass_type(obj: Any) -> bool:
    return isinstance(obj, type) and dataclasses.is_dataclass(obj)


def _unknown(kind: str, name: str, candidates: list[str]) -> UnknownNameError:
    """The one message for an unknown name: closest names, the import hint, what exists."""
    listing = sorted(candidates)
    if not listing:
        known = "nothing is registered yet"
    elif len(listing) <= 12:
        known = "registered: " + ", ".join(listing)
    else:
        known = "registered: " + ", ".join(listing[:12]) + f", ... ({len(listing) - 12} more)"
    return UnknownNameError(
        f"unknown {kind} {name!r}{did_you_mean(name, listing)}; the module that registers it "
        f"may not have been imported ({known})"
    )


class Registry:
    """Names → registered classes/functions, and config dataclass ↔ target links.

    ``Registry()`` is independent of every other registry; ``registry`` (module level) is
    the default one that ``config_utils.configure_submodules`` uses.
    """

    def __init__(self) -> None:
        # The seed's four mappings (names only, as in the seed), per instance.
        self._clsname2cls: dict[str, Any] = {}
        self._cfgname2cfg: dict[str, type] = {}
        self._cfgname2clsname: dict[str, str] = {}
        self._clsname2cfgname: dict[str, str] = {}
        self._no_instantiate: set[str] = set()  # config names registered with instantiate=False
        # Per-type plans for configure_submodules; cleared whenever a registration changes.
        self._plans: dict[type, _inst.Plan] = {}
        self._changes = 0

    def _changed(self) -> None:
        self._plans.clear()
        self._changes += 1

    @property
    def changes(self) -> int:
        """How many times a registration changed this registry (a name added, re-linked or
        replaced). Anything cached from the registry's names keys on this, never on its
        size: re-registering a name changes what it means without changing the count."""
        return self._changes

    def variant_names(self, cfg_cls: type) -> tuple[str, ...]:
        """The names that select ``cfg_cls`` as a union variant: its class name, then the
        target name it is registered under when that differs (``LossModule2Config``,
        ``LossModule2``). The one answer for files, runs, the command line and sweeps."""
        name = cfg_cls.__name__
        target = self._cfgname2clsname.get(name)
        return (name, target) if target and target != name else (name,)

    def __repr__(self) -> str:
        return (
            f"<Registry: {len(self._clsname2cls)} targets, "
            f"{len(self._cfgname2cfg)} configs>"
        )

    def __contains__(self, name: object) -> bool:
        return name in self._clsname2cls or name in self._cfgname2cfg

    # ------------------------------------------------------------------ registration

    @overload
    def register(
        self, obj: str | None = None, /, *, name: str | None = None, replace: bool = False
    ) -> Callable[[T], T]: ...
    @overload
    def register(self, obj: T, /, *, name: str | None = None, replace: bool = False) -> T: ...

    def register(
        self, obj: Any = None, /, *, name: str | None = None, replace: bool = False
    ) -> Any:
        """Register a class or function under its ``__name__`` (or ``name``).

        Bare (``@registry.register``) or called (``@registry.register(name="x")``,
        ``@registry.register("x")``). Returns the object unchanged.
        """
        if isinstance(obj, str):
            name, obj = obj, None
        if obj is None:

            def decorator(target: T) -> T:
                self._add_target(target, name or target.__name__, replace)  # type: ignore[attr-defined]
                return target

            return decorator
        self._add_target(obj, name or obj.__name__, replace)
        return obj

    def register_with_config(
        self,
        target_or_config: Any = None,
        /,
        *,
        name: str | None = None,
        instantiate: bool = True,
        replace: bool = False,
        config: type | str | None = None,
        config_name: str | None = None,
    ) -> Any:
        """Register a target and link it to its config dataclass.

        Forms:

        - ``@register_with_config``: the config is ``<TargetName>Config``, looked up in the
          calling scope (so configs defined inside a function work), then in the target's
          module, then among configs already registered here;
        - ``@register_with_config('LossConfig')``: the config by name (needed for
          functions, whose configs rarely follow the naming convention);
        - ``@register_with_config(LossConfig)`` or ``config=LossConfig``: the class itself;
        - ``config_name="LossConfig"``: pytorch-flows' keyword for the config's name (the
          only way upstream to name it explicitly), accepted as it is;
        - ``name=``: register the target under another name; ``instantiate=False``:
          ``configure_submodules`` leaves this config as it is; ``replace=True``: take over
          a name held by a different object.

        A dataclass passed positionally is taken as the *config* when its name ends with
        ``Config``; otherwise it is the target (a dataclass can be a target too).
        """
        if config_name is not None:
            if config is not None:
                raise RegistryError(
                    "register_with_config: the config was given twice "
                    f"(config={config!r} and config_name={config_name!r}); pass it once"
                )
            if not isinstance(config_name, str):
                raise RegistryError(
                    f"register_with_config: config_name must be the config class's name, got "
                    f"{config_name!r}; pass a class as config=..."
                )
            config = config_name
        arg = target_or_config
        if isinstance(arg, str) or (_is_dataclass_type(arg) and arg.__name__.endswith("Config")):
            if config is not None:
                given = f"config_name={config_name!r}" if config_name is not None else f"config={config!r}"
                raise RegistryError(
                    f"register_with_config: the config was given twice ({arg!r} and {given}); "
                    "pass it once"
                )
            config, arg = arg, None
        if arg is None:

            def decorator(target: T) -> T:
                frame = sys._getframe(1)
                try:
                    self._register_linked(target, config, name, instantiate, replace, frame)
                finally:
                    del frame
                return target

            return decorator
        frame = sys._getframe(1)
        try:
            self._register_linked(arg, config, name, instantiate, replace, frame)
        finally:
            del frame
        return arg

    def _register_linked(
        self,
        target: Any,
        config: type | str | None,
        name: str | None,
        instantiate: bool,
        replace: bool,
        frame: FrameType | None,
    ) -> None:
        target_name = name or target.__name__
        if config is None or isinstance(config, str):
            cfg = self._find_config(config or f"{target.__name__}Config", target, frame)
        elif _is_dataclass_type(config):
            cfg = config
        else:
            raise RegistryError(
                f"register_with_config: config for {_describe(target)} must be a dataclass "
                f"or its name, got {config!r}"
            )
        # Validate everything before changing any state: a failed registration leaves
        # the registry as it was.
        self._check_target_name(target, target_name, replace)
        self._check_config(cfg, target_name, replace)
        check_fields(cfg, target, target_name)
        self._store_target(target, target_name)
        self._store_link(cfg, target_name, instantiate)

    def _find_config(self, cfg_name: str, target: Any, frame: FrameType | None) -> type:
        scopes: list[dict[str, Any]] = []
        if frame is not None:
            scopes.append(frame.f_locals)
            scopes.append(frame.f_globals)
        module = sys.modules.get(getattr(target, "__module__", ""), None)
        if module is not None:
            scopes.append(vars(module))
        scopes.append(self._cfgname2cfg)
        for scope in scopes:
            found = scope.get(cfg_name)
            if found is None:
                continue
            if not _is_dataclass_type(found):
                raise RegistryError(
                    f"register_with_config: {cfg_name!r} (for {_describe(target)}) is "
                    f"{type(found).__name__} {found!r}, not a dataclass; a config must be a "
                    "@dataclass"
                )
            return found
        candidates = {
            key
            for scope in scopes
            for key, value in scope.items()
            if isinstance(key, str) and _is_dataclass_type(value)
        }
        raise UnknownNameError(
            f"register_with_config: no config dataclass {cfg_name!r} for "
            f"{_describe(target)}{did_you_mean(cfg_name, candidates)}; define it before the "
            "decorated object, or pass it: @registry.register_with_config(TheConfig)"
        )

    def _check_target_name(self, target: Any, target_name: str, replace: bool) -> None:
        existing = self._clsname2cls.get(target_name)
        if existing is None or existing is target or replace:
            return
        if _identity(existing) == _identity(target):
            return  # module reload / notebook cell re-run: the new definition wins
        raise DuplicateNameError(
            f"{target_name!r} is already registered to {_describe(existing)}; refusing "
            f"{_describe(target)}. Register it under another name "
            "(name=...) or pass replace=True"
        )

    def _check_config(self, cfg: type, target_name: str, replace: bool) -> None:
        cfg_name = cfg.__name__
        existing = self._cfgname2cfg.get(cfg_name)
        if existing is not None and existing is not cfg and not replace:
            if _identity(existing) != _identity(cfg):
                raise DuplicateNameError(
                    f"config name {cfg_name!r} is already registered to {_describe(existing)}; "
                    f"refusing {_describe(cfg)}. Rename one of them or pass replace=True"
                )
        linked = self._cfgname2clsname.get(cfg_name)
        if linked is not None and linked != target_name and not replace:
            other = self._clsname2cls.get(linked)
            raise DuplicateNameError(
                f"config {cfg_name!r} is already linked to {linked!r}"
                f"{' (' + _describe(other) + ')' if other is not None else ''}; a config "
                f"builds one target, so it cannot also build {target_name!r}. Give it its "
                "own config class or pass replace=True"
            )

    def _unlink_target(self, target_name: str) -> None:
        old_cfg = self._clsname2cfgname.pop(target_name, None)
        if old_cfg is not None and self._cfgname2clsname.get(old_cfg) == target_name:
            del self._cfgname2clsname[old_cfg]

    def _store_target(self, target: Any, target_name: str) -> None:
        if self._clsname2cls.get(target_name) is not target:
            self._unlink_target(target_name)
        self._clsname2cls[target_name] = target
        self._changed()

    def _add_target(self, target: Any, target_name: str, replace: bool) -> None:
        self._check_target_name(target, target_name, replace)
        self._store_target(target, target_name)

    def _store_link(self, cfg: type, target_name: str, instantiate: bool) -> None:
        cfg_name = cfg.__name__
        self._unlink_target(target_name)
        previous = self._cfgname2clsname.get(cfg_name)
        if previous is not None and previous != target_name:
            self._clsname2cfgname.pop(previous, None)
        self._cfgname2cfg[cfg_name] = cfg
        self._cfgname2clsname[cfg_name] = target_name
        self._clsname2cfgname[target_name] = cfg_name
        if instantiate:
            self._no_instantiate.discard(cfg_name)
        else:
            self._no_instantiate.add(cfg_name)
        self._changed()

    # ------------------------------------------------------------------ lookups

    def get(self, name: str) -> Any:
        """The class or function registered under ``name``."""
        try:
            return self._clsname2cls[name]
        except KeyError:
            pass
        if name in self._cfgname2clsname:
            raise UnknownNameError(
                f"{name!r} is a config name, not a registered target; its target is "
                f"{self._cfgname2clsname[name]!r} (registry.target_for({name!r}))"
            )
        raise _unknown("name", name, list(self._clsname2cls))

    def config_for(self, target: Any) -> type:
        """The config dataclass linked to a target (given as the object or its name)."""
        if isinstance(target, str):
            target_name = target
            if target_name not in self._clsname2cls:
                raise _unknown("name", target_name, list(self._clsname2cls))
        else:
            found = self._target_name_of(target)
            if found is None:
                raise _unknown(
                    "target", getattr(target, "__name__", repr(target)), list(self._clsname2cls)
                )
            target_name = found
        cfg_name = self._clsname2cfgname.get(target_name)
        if cfg_name is None:
            raise UnknownNameError(
                f"{target_name!r} is registered without a config; link one with "
                "@registry.register_with_config or registry.make_config"
            )
        return self._cfgname2cfg[cfg_name]

    def _target_name_of(self, target: Any) -> str | None:
        name = getattr(target, "__name__", None)
        if name is not None and self._clsname2cls.get(name) is target:
            return name
        for key, value in self._clsname2cls.items():
            if value is target:
                return key
        return None

    def target_for(self, config: Any) -> Any:
        """The target a config builds: config class, config instance, or a name.

        A name may be the config's class name (``LossModule2Config``) or the registered
        target name (``LossModule2``).
        """
        if isinstance(config, str):
            cfg_name = config
            if cfg_name not in self._cfgname2cfg:
                if cfg_name in self._clsname2cfgname:
                    return self._clsname2cls[cfg_name]
                raise _unknown("config", cfg_name, list(self._cfgname2cfg))
        else:
            cfg = config if isinstance(config, type) else type(config)
            found = self.target_name_for_config(cfg)
            if found is None:
                raise _unknown(
                    "config", getattr(cfg, "__name__", repr(cfg)), list(self._cfgname2cfg)
                )
            return self._clsname2cls[found]
        return self._clsname2cls[self._cfgname2clsname[cfg_name]]

    def config_by_name(self, name: str) -> type:
        """A registered config class by its class name or by its target's registered name.

        Used to resolve union variants (``_type`` keys, W&B records) by *name only*: a
        module path coming from data is never imported.
        """
        cfg = self._cfgname2cfg.get(name)
        if cfg is not None:
            return cfg
        cfg_name = self._clsname2cfgname.get(name)
        if cfg_name is not None:
            return self._cfgname2cfg[cfg_name]
        raise _unknown("config", name, [*self._cfgname2cfg, *self._clsname2cfgname])

    def target_name_for_config(self, cfg_cls: type) -> str | None:
        """The registered target name of this exact config class, or None."""
        cfg_name = getattr(cfg_cls, "__name__", None)
        if cfg_name is None or self._cfgname2cfg.get(cfg_name) is not cfg_cls:
            return None
        return self._cfgname2clsname.get(cfg_name)

    # ------------------------------------------------------------------ building

    def configure_submodules(self, struct: Any) -> Any:
        """Build every registered config in ``struct`` (dataclasses, lists, tuples, dicts).

        A registered config becomes ``target(**fields)`` — or ``functools.partial(target,
        **fields)`` when the target has required parameters the config lacks; unregistered
        dataclasses are rebuilt as the same type; a config object met twice gives one
        shared object. A failure raises ``InstantiationError`` naming the path
        (``loss.module``) with the original exception as ``__cause__``.
        """
        return _inst.configure(struct, self._plans, self._make_plan)

    def _make_plan(self, tp: type) -> _inst.Plan:
        plan: _inst.Plan | None
        if issubclass(tp, _inst._ATOM_TYPES):
            plan = _inst.ATOM_PLAN
        elif dataclasses.is_dataclass(tp):
            cfg_name = tp.__name__
            target_name = self._cfgname2clsname.get(cfg_name)
            if self._cfgname2cfg.get(cfg_name) is not tp or target_name is None:
                plan = _inst.rebuild_plan(tp)
            elif cfg_name in self._no_instantiate:
                plan = _inst.KEEP_PLAN
            else:
                plan = _inst.target_plan(tp, self._clsname2cls[target_name], target_name)
        else:
            plan = _inst.container_plan(tp) or _inst.ATOM_PLAN
        self._plans[tp] = plan
        return plan

    # ------------------------------------------------------------------ generated configs

    def make_config(self, target: Any, name: str | None = None) -> type:
        """Generate, register and link the ``<Target>Config`` dataclass of ``target``.

        Fields mirror the keyword-passable parameters (types from annotations, defaults
        from the signature, help from the docstring's parameter section, as field metadata
        ``help`` and in the class docstring, which tyro reads). Users who do not want to
        hand-write mirror dataclasses use this instead. ``name`` is the config class name.
        """
        cfg_name = name or f"{target.__name__}Config"
        target_name = target.__name__
        helps = parse_param_help(_doc_of(target))
        doc = f"Config for {target.__qualname__} (generated by make_config)."
        documented = [(n, helps[n]) for n in _keyword_params(target) if n in helps]
        if documented:
            doc += "\n\nArgs:\n" + "".join(f"    {n}: {h}\n" for n, h in documented)
        cfg = dataclass_from_signature(target, cfg_name, doc=doc, helps=helps, what="make_config")
        assert cfg is not None  # variadic parameters are skipped, not refused
        outer, _, _ = getattr(target, "__qualname__", cfg_name).rpartition(".")
        cfg.__qualname__ = f"{outer}.{cfg_name}" if outer else cfg_name
        self._check_target_name(target, target_name, replace=False)
        self._check_config(cfg, target_name, replace=False)
        self._store_target(target, target_name)
        self._store_link(cfg, target_name, instantiate=True)
        return cfg


def _keyword_params(target: Any) -> list[str]:
    try:
        params = inspect.signature(target).parameters.values()
    except (TypeError, ValueError):
        return []
    return [p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]


def dataclass_from_signature(
    fn: Any,
    name: str,
    *,
    doc: str = "",
    helps: dict[str, str] | None = None,
    keyword_only: bool = False,
    refuse_variadic: bool = False,
    what: str = "",
) -> type | None:
    """The one dataclass built from a function's (or class's) signature: a field per
    parameter that can be passed by keyword, typed by its annotation (``Annotated`` kept, for
    tyro), its default copied per instance when mutable.

    Used by :meth:`Registry.make_config` (a target's ``XConfig``) and by the command line (a
    function target's parameters as a config, so layers and provenance work on them).
    ``keyword_only``: every field keyword-only (fields without defaults may follow ones with);
    ``refuse_variadic``: None when the signature has ``*args``/``**kwargs`` (else they and
    positional-only parameters are skipped); ``helps``: field metadata ``help`` by name.
    Raises :class:`SignatureError` when the signature cannot be read (``what`` names the
    caller); None when the fields do not make a dataclass.
    """
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError) as exc:
        raise SignatureError(f"{what or name}: cannot read the signature of {_describe(fn)}: {exc}") from None
    hints = _type_hints(fn)
    helps = helps or {}
    specs: list[tuple[str, Any, Any]] = []
    for p in sig.parameters.values():
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            if refuse_variadic:
                return None
            continue
        if p.kind is p.POSITIONAL_ONLY and not keyword_only:
            continue
        tp = hints.get(p.name, p.annotation if p.annotation is not p.empty else Any)
        kwargs: dict[str, Any] = {}
        if p.default is not p.empty:
            default = p.default
            if type(default).__hash__ is None:  # list/dict/set: dataclasses refuse these
                kwargs["default_factory"] = functools.partial(copy.deepcopy, default)
            else:
                kwargs["default"] = default
        if keyword_only or p.kind is p.KEYWORD_ONLY:
            kwargs["kw_only"] = True
        if p.name in helps:
            kwargs["metadata"] = {"help": helps[p.name]}
        specs.append((p.name, tp, dataclasses.field(**kwargs)))
    try:
        cls = dataclasses.make_dataclass(name, specs)
    except (TypeError, ValueError):
        return None
    cls.__doc__ = doc
    cls.__module__ = getattr(fn, "__module__", None) or __name__
    return cls


def check_fields(cfg: type, target: Any, target_name: str) -> None:
    """Every ``init`` field of ``cfg`` must be a parameter ``target`` accepts by keyword."""
    info = _inst.signature_info(target)
    if not info.known or info.var_keyword:
        return
    for f in schema_of(cfg).fields:
        if not f.init or f.name in info.keyword_params:
            continue
        accepted = sorted(info.keyword_params)
        if f.name in info.positional_only:
            problem = f"is a positional-only parameter of {target_name}, which a config cannot pass"
        else:
            problem = (
                f"is not a parameter of {target_name}{did_you_mean(f.name, accepted)}"
            )
        raise SignatureError(
            f"config field {cfg.__qualname__}.{f.name} ({_location(cfg)}) {problem}; "
            f"{target_name} ({_location(target)}) accepts: "
            f"{', '.join(accepted) if accepted else 'no keyword parameters'}"
        )


def _type_hints(target: Any) -> dict[str, Any]:
    func = typing.cast(Any, target).__init__ if isinstance(target, type) else target
    try:
        return typing.get_type_hints(func, include_extras=True)
    except Exception:  # unresolvable forward references: fall back to raw annotations
        return {}


def _doc_of(target: Any) -> str:
    doc = inspect.getdoc(target) or ""
    if isinstance(target, type):
        init = typing.cast(Any, target).__init__
        init_doc = init.__doc__ if init is not object.__init__ else None
        if init_doc:
            doc += "\n\n" + inspect.cleandoc(init_doc)
    return doc


_GOOGLE_HEADER = re.compile(r"^(Args|Arguments|Parameters|Params|Keyword Args):\s*$")
_GOOGLE_ITEM = re.compile(r"^(\*{0,2}\w+)\s*(\([^)]*\))?\s*:\s*(.*)$")
_SPHINX_ITEM = re.compile(r"^:param\s+(?:[^:]*\s)?(\w+):\s*(.*)$")
_NUMPY_ITEM = re.compile(r"^(\w+)\s*(:.*)?$")


def parse_param_help(doc: str) -> dict[str, str]:
    """Parameter help from a Google, NumPy or Sphinx style docstring (best effort, cheap)."""
    helps: dict[str, str] = {}
    lines = doc.expandtabs().splitlines()
    i = 0
    while i < len(lines):
        line = lines[i].strip()
        sphinx = _SPHINX_ITEM.match(line)
        if sphinx:
            text = [sphinx.group(2)]
            i += 1
            while i < len(lines) and lines[i].strip() and not lines[i].strip().startswith(":"):
                text.append(lines[i].strip())
                i += 1
            helps[sphinx.group(1)] = " ".join(t for t in text if t).strip()
            continue
        numpy = line in ("Parameters", "Other Parameters") and i + 1 < len(lines) and set(
            lines[i + 1].strip()
        ) == {"-"}
        if _GOOGLE_HEADER.match(line) or numpy:
            base = len(lines[i]) - len(lines[i].lstrip())
            i += 2 if numpy else 1
            current: str | None = None
            item_indent = None
            while i < len(lines):
                raw = lines[i]
                stripped = raw.strip()
                indent = len(raw) - len(raw.lstrip())
                if not stripped:
                    i += 1
                    continue
                if numpy and i + 1 < len(lines) and set(lines[i + 1].strip()) == {"-"}:
                    break  # next numpy section
                if not numpy and indent <= base:
                    break
                if item_indent is None:
                    item_indent = indent
                if indent == item_indent:
                    m = (_NUMPY_ITEM if numpy else _GOOGLE_ITEM).match(stripped)
                    if not m:
                        break
                    current = m.group(1).lstrip("*")
                    helps[current] = "" if numpy else m.group(3).strip()
                elif current is not None:
                    helps[current] = (helps[current] + " " + stripped).strip()
                i += 1
            continue
        i += 1
    return {k: v for k, v in helps.items() if v}


registry = Registry()
"""The default registry (``from config_utils.registry import registry``)."""

_Registry = Registry
"""pytorch-flows' class name, kept so ``from config_utils.registry import _Registry`` works.

One difference: upstream declared its mappings at class level, so every ``_Registry()`` shared
one state (registering with one registered with all). Here each instance has its own state;
code that relied on the sharing should use the module's ``registry`` everywhere."""
