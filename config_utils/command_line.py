"""``config_utils.cli``: ``tyro.cli`` with config layers, provenance and run re-creation.

Layers, lowest first: the class defaults < ``default=`` (an instance, as in tyro) < a config
file (``--config-file``, default ``defaults.ini`` when present) < a previous run
(``--from-run`` / ``--wandb-config``: a run directory, an offline W&B run directory, a W&B run
URL or ``entity/project/run_id``, an MLflow run) < the command line, parsed by tyro with the
merged values as its defaults.

Conformance with tyro: every target and keyword argument of ``tyro.cli`` is accepted with
tyro's meaning. The argument list is first given to tyro exactly as written; only when tyro
refuses it are the documented superset forms applied (see :mod:`config_utils.argv`: boolean
words, ``[1, 2]`` lists, registered variant names, regrouped union arguments, and Enum
members by value through a tyro constructor rule). So an argument list tyro accepts means
the same here, and one it refuses is refused here too unless a superset form makes it valid.

Plain overrides take the fast path (:mod:`config_utils.fastpath`), which gives the same config
and provenance without building tyro's parser; tyro is imported only when the tyro path runs.

This module runs the parse; each other job has its module: :mod:`config_utils.targets` (what
was asked for; function targets), :mod:`config_utils.cli_defaults` (the file and run layers
merged into tyro's ``default=``), :mod:`config_utils.tyro_output` (capturing tyro's output),
:mod:`config_utils.constructor_rules` (the superset's value forms), :mod:`config_utils.help_group`
(the built-ins in the help), :mod:`config_utils.print_schema` and
:mod:`config_utils.print_config`.
"""

from __future__ import annotations

import functools
import inspect
import json
import os
import sys
import typing
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from .argv import (
    Builtins,
    Grammar,
    Rewritten,
    UsageError,
    kebab,
    shadowed_builtins,
    split_builtins,
    value_taking_bools,
)
from .cli_defaults import (
    DEFAULT_CONFIG_FILE,
    Built,
    build_default,
    chosen_by,
    file_layers,
    run_layer,
)
from .constructor_rules import superset_registry
from .convert import _FALSE
from .errors import ConfigError, ConversionError
from .help_group import print_help_with_builtins
from .layers import DEFAULT, Layer, RawValue, merge, variant_names
from .print_config import format_config, print_and_exit
from .print_schema import schema_document
from .provenance import set_provenance
from .schema import (
    TYPE_KEY,
    instance_leaves,
    is_config_instance,
    iter_instance,
    shape_of,
    walk,
)
from .targets import UNSET, Target, analyse, finish_call, recorder
from .tree import get_path
from .tyro_output import Refused, captured, refuse, replay, wants_completion, wants_help

if typing.TYPE_CHECKING:
    from .registry import Registry


T = TypeVar("T")


_last_parsed: Any = None


# ------------------------------------------------------------------------------ targets


def last_parsed() -> Any:
    """The arguments of the last function target ``cli`` called, as an instance of a
    generated dataclass (one field per parameter) carrying their provenance — pass it to
    :func:`config_utils.save_run` or :func:`config_utils.provenance`. For a dataclass
    target this is the returned config itself."""
    return _last_parsed


# ------------------------------------------------------------------------------- layers


# ------------------------------------------------------------------------ tyro, twice


def _parse_twice(
    call: Callable[[list[str], bool], Any],
    argv: list[str],
    superset: Callable[[], list[str]],
) -> tuple[Any, list[str]]:
    """tyro on ``argv`` as written; if tyro refuses it, on the superset forms' rewriting.

    Returns (tyro's result, the argument list that produced it). When both refuse, tyro's
    message is shown as tyro rendered it — for the arguments as written, or for the rewritten
    ones when superset forms were rewritten — and the exit status is tyro's. tyro's warnings
    are those of the attempt whose outcome is used, shown once.
    """
    if wants_help(argv):
        return call(argv, False), argv
    first = _Attempt(call, argv, False)
    if first.exit is None:
        first.show()
        return first.result, argv
    if first.exit.code in (0, None):
        first.show()
        raise first.exit
    if not argv:  # nothing to rewrite, no value for a constructor rule: tyro's answer stands
        first.refuse(first.exit.code)
    second_argv = superset()  # may raise UsageError with a clearer message
    second = _Attempt(call, second_argv, True)
    if second.exit is not None:
        # with superset forms rewritten, tyro's first complaint is usually about those forms
        # themselves ("unrecognized --optim._type=Sgd"); the second names the real mistake
        (second if second_argv != argv else first).refuse(first.exit.code)
    second.show()
    return second.result, second_argv


class _Attempt:
    """One call of tyro with its output and warnings held back until it is known to be the
    one whose outcome the user sees (a refused first attempt shows nothing)."""

    def __init__(self, call: Callable[[list[str], bool], Any], argv: list[str], superset: bool) -> None:
        self.result: Any = None
        self.exit: SystemExit | None = None
        # tyro's parse-error hook (`tyro._errors.on_parse_error`, a context variable): its
        # events are held back like the output, and given to the hook for the attempt whose
        # outcome the user sees, so the hook is called as often as under bare tyro
        self.events: list[Any] = []
        self.hook_var = getattr(sys.modules.get("tyro._errors"), "_parse_error_hook", None)
        token = None
        if self.hook_var is not None and self.hook_var.get() is not None:
            token = self.hook_var.set(self.events.append)
        try:
            with captured() as (self.out, self.err), warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                try:
                    self.result = call(argv, superset)
                except SystemExit as exc:
                    self.exit = exc
        finally:
            if token is not None and self.hook_var is not None:
                self.hook_var.reset(token)
        self.warnings = list(caught)

    def _warn(self) -> None:
        for w in self.warnings:  # through the user's filters, as tyro's own warning would go
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno, source=w.source)
        hook = self.hook_var.get() if self.hook_var is not None else None
        for event in self.events:  # a hook that raises takes over, as under tyro
            if hook is not None:
                hook(event)

    def show(self) -> None:
        self._warn()
        replay(self.out, self.err)

    def refuse(self, code: Any) -> None:
        """Show this attempt's warnings and tyro's message; exit with ``code`` (tyro's)."""
        self._warn()
        refuse(self.out, self.err, SystemExit(code))


# --------------------------------------------------------------------------------- cli


def cli(
    f: Any,
    *,
    prog: str | None = None,
    description: str | None = None,
    args: Sequence[str] | None = None,
    default: Any = UNSET,
    return_unknown_args: bool = False,
    use_underscores: bool = False,
    console_outputs: bool = True,
    add_help: bool = True,
    compact_help: bool = False,
    config: Sequence[Any] | None = None,
    registry: Any = None,
    config_file: str | Path | None = DEFAULT_CONFIG_FILE,
    strict: bool = False,
    config_registry: Registry | None = None,
    **deprecated_kwargs: Any,
) -> Any:
    """``tyro.cli`` on top of the config layers; returns what ``tyro.cli`` returns.

    Every argument of ``tyro.cli`` keeps tyro's meaning (``registry=`` is tyro's
    constructor registry; ``default=`` is a layer just above the class defaults). Ours:

    - ``config_file``: the default of ``--config-file``; the default ``defaults.ini`` is
      skipped when absent, an explicit path that is missing is an error; None: no file.
    - ``strict``: unknown keys in a pulled run are errors instead of warnings.
    - ``config_registry``: the :class:`config_utils.Registry` whose registered names select
      union variants (default: ``config_utils.registry``).

    Mistakes in files, runs or built-in flags print one line and exit with status 2.
    """
    global _last_parsed
    argv = list(sys.argv[1:] if args is None else args)
    target = analyse(f)
    name = prog or Path(sys.argv[0]).name or "python"
    tyro_kwargs: dict[str, Any] = dict(
        prog=prog,
        description=description,
        return_unknown_args=return_unknown_args,
        use_underscores=use_underscores,
        console_outputs=console_outputs,
        add_help=add_help,
        compact_help=compact_help,
        config=config,
        registry=registry,
        **deprecated_kwargs,
    )
    markers = (*(config or ()), *getattr(f, "__metadata__", ()))  # the call's and the target's
    try:
        opts, rest = split_builtins(argv, shadowed_builtins(target.field_names()))
        if opts.print_schema:
            print_and_exit(json.dumps(schema_document(f, target, config_registry), indent=2))
        layers = file_layers(opts, config_file, target)
        if opts.run:
            if target.cls is None and target.kind != "union":
                raise UsageError(f"--from-run {opts.run}: a run layer needs a dataclass (or function) target")
            layers.append(run_layer(opts.run, target.cls, config_registry))
        fast = None
        # markers on the target itself (`tyro.conf.FlagConversionOff[Cfg]`) change how tyro
        # reads every field: the fast path leaves such a target to tyro
        if f is target.cls and _fast_path_may_answer(target, rest, tyro_kwargs):
            fast = _fast_path(target, rest, layers, default, strict, config_registry)
        if fast is None:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                built = build_default(target, layers, default, strict, config_registry)
            for w in caught:
                print(f"warning: {w.message}", file=sys.stderr)
    except ConfigError as exc:
        _exit_usage(exc, name)
    if fast is not None:
        cfg, prov = fast
        set_provenance(cfg, prov)
        _last_parsed = cfg
        return _done(cfg, cfg, opts, argv, "fast")
    if wants_help(rest) and add_help:
        shown = rest
        if built.cls is not None:
            # `loss.module:loss-module2 --help` (a registered name) or `--loss._type=X --help`:
            # the help of the variant named, as for tyro's own spelling
            try:
                shown = _grammar(built.cls, markers, config_registry, use_underscores).rewrite(
                    rest, join_bool_words=False
                ).argv
            except ConfigError as exc:
                _exit_usage(exc, name)
        print_help_with_builtins(
            lambda: _call_tyro(f, target, built, shown, tyro_kwargs, False),
            target,
            config_file,
            with_group=not wants_completion(rest),
        )

    rewrites: list[Rewritten] = []  # the superset's rewriting, when tyro refused ``rest``

    def superset() -> list[str]:
        if built.cls is None:
            return rest
        grammar = _grammar(built.cls, markers, config_registry, use_underscores)
        rewrites.append(grammar.rewrite(rest, join_bool_words=not _has_positionals(target, config)))
        return grammar.regroup(rewrites[-1].argv, built.current_variant, built.chosen_by)

    try:
        result, used = _parse_twice(
            lambda a, extra: _call_tyro(f, target, built, a, tyro_kwargs, extra), rest, superset
        )
    except ConfigError as exc:
        _exit_usage(exc, name)
    except Refused as refused:
        if console_outputs and refused.message:
            sys.stderr.write(refused.message)
            sys.stderr.flush()
        raise SystemExit(refused.code) from None
    unknown: list[str] | None = None
    if return_unknown_args:
        result, unknown = result
    cfg, result = finish_call(target, result)
    if cfg is not None and is_config_instance(cfg):
        # what the command line set, named by the flags as the user wrote them
        if used is rest or not rewrites:
            noted = _grammar(type(cfg), markers, config_registry, use_underscores).noted(rest)
        else:
            noted = rewrites[-1]
        set_provenance(cfg, _provenance(cfg, built, noted))
        _last_parsed = cfg
    result = _done(cfg, result, opts, argv, "tyro")
    return (result, unknown) if return_unknown_args else result


def _done(cfg: Any, result: Any, opts: Builtins, argv: list[str], path: str) -> Any:
    """What every parse ends with: ``--print-config``, the sweep's run record, the result."""
    if opts.print_config:
        print_and_exit(format_config(cfg, fmt=opts.format, path=path) if cfg is not None else repr(result))
    if cfg is not None and os.environ.get("FLOWS_RUN_DIR"):
        from .sources.runs import save_run

        try:
            save_run(cfg, os.environ["FLOWS_RUN_DIR"], argv=[sys.argv[0], *argv])
        except ConfigError as exc:  # FLOWS_RUN_DIR under a file, holding the user's own file...
            _exit_usage(exc, Path(sys.argv[0]).name or "python")
    return result


class _RequiredSentinel:
    def __repr__(self) -> str:
        return "<required>"


_REQUIRED: Any = _RequiredSentinel()


def _fast_path_may_answer(target: Target, rest: list[str], tyro_kwargs: dict[str, Any]) -> bool:
    """The cheap part of the decision: the call itself is one the fast path models."""
    if target.kind != "class" or not _fast_path_enabled() or wants_help(rest):
        return False
    tyro = sys.modules.get("tyro")  # loaded: the program may have set tyro's own options
    options = getattr(tyro, "_experimental_options", None) or {}
    if options.get("enable_timing") or options.get("global_markers"):
        return False  # tyro prints its timing, or applies markers to every field
    modelled = {"prog", "description", "console_outputs", "add_help", "compact_help"}
    return all(
        value in (None, False) or key in modelled
        for key, value in tyro_kwargs.items()
    )


def _tyro_missing() -> Any:
    """``tyro.MISSING`` when tyro is loaded (a config can only hold it then), else a fresh
    object that no value is."""
    tyro = sys.modules.get("tyro")
    return getattr(tyro, "MISSING", _REQUIRED) if tyro is not None else _REQUIRED


@functools.lru_cache(maxsize=64)
def _declares_missing(cls: type, missing: Any) -> bool:
    """A field default somewhere in ``cls`` (any variant) is ``tyro.MISSING``."""
    return any(node.field.default is missing for node in walk(cls))


def _fast_path_enabled() -> bool:
    """``FLOWS_FAST_PATH=0`` (or false/no/off) turns the fast path off."""
    return os.environ.get("FLOWS_FAST_PATH", "1").strip().lower() not in _FALSE


def _fast_path(
    target: Target,
    rest: list[str],
    layers: list[Layer],
    default: Any,
    strict: bool,
    registry: Registry | None,
) -> tuple[Any, dict[str, str]] | None:
    """(config, provenance) exactly as the tyro path would give them, or None to decline."""
    from . import fastpath
    from .fastpath import plan_unions

    cls = target.cls
    assert cls is not None
    if default is not UNSET and not is_config_instance(default):
        return None  # `default=tyro.MISSING` and the like: tyro's to read
    missing = _tyro_missing()
    if missing is not _REQUIRED and (
        _declares_missing(cls, missing)
        or (default is not UNSET and any(v is missing for _, _, v in iter_instance(default)))
    ):
        return None  # tyro asks for what is MISSING (and names it)
    try:
        base = default if is_config_instance(default) else None
        parsed = fastpath.read_arguments(
            cls, rest, lambda c: variant_names(c, registry), over_instance=bool(layers) or base is not None
        )
        if layers:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                merged, prov0 = merge(cls, layers, strict=strict, missing=_REQUIRED, base=base, registry=registry)
            built = Built(cls, merged, prov0, True, chosen_by(prov0))
        else:
            caught = []
            merged = base
            built = Built(cls, default, {}, False, {})
        for union in plan_unions(cls):
            # a union's arguments without its choice: the tyro path adds the subcommand of
            # the variant the default (or a layer) holds, and has none to add when the union
            # sits under a variant that does not have it
            if union not in parsed.variants and any(p.startswith(union + ".") for p in parsed.set_leaves):
                if built.current_variant(union) is None:
                    return None
        values = {p: RawValue(v, "cli", text=False) for p, v in parsed.values().items()}
        values.update(
            {f"{u}.{TYPE_KEY}": RawValue(m.__name__, f"cli:{parsed.set_variants[u]}", text=False)
             for u, m in parsed.variants.items()}
        )
        cfg, _ = merge(cls, [Layer("cli", values)], base=merged, registry=registry)
        missing = _tyro_missing()
        if any(value is _REQUIRED or value is missing for _, _, value in iter_instance(cfg)):
            return None  # tyro asks for required values (and names them)
        if not all(_fits(info, value) for _, info, value in iter_instance(cfg)):
            return None  # a default that is none of its declared classes: tyro warns about it
        present = set(instance_leaves(cfg, with_types=True))
        if not all(p in present for p in parsed.set_leaves) or not all(
            f"{u}.{TYPE_KEY}" in present for u in parsed.variants
        ):
            return None  # set under a variant that is not the one in use: tyro refuses
        noted = Rewritten(rest, parsed.set_leaves, parsed.set_variants)
        prov = _provenance(cfg, built, noted)
    except fastpath.Decline:
        return None
    except Exception:  # anything unexpected (a __post_init__ that refuses a value, ...): tyro decides
        return None
    for w in caught:
        print(f"warning: {w.message}", file=sys.stderr)
    return cfg, prov


def _fits(info: Any, value: Any) -> bool:
    """A sub-config's value is one of the classes its field declares (or None)."""
    if info.kind == "leaf":
        return True
    if value is None:
        return bool(info.optional)
    classes = tuple(c for c in (*(info.variants or ()), info.config) if isinstance(c, type))
    return not classes or isinstance(value, classes)


def _grammar(
    cls: type, config: Sequence[Any] | None, registry: Registry | None, underscores: bool = False
) -> Grammar:
    """The argument grammar of ``cls`` (cached: building it walks every leaf)."""
    from .registry import registry as default_registry

    reg = default_registry if registry is None else registry
    markers = tuple(config or ())
    try:
        return _grammar_cached(cls, markers, reg, reg.changes, underscores)
    except TypeError:  # unhashable markers or class
        return _make_grammar(cls, markers, reg, underscores)


def _make_grammar(cls: type, markers: tuple[Any, ...], registry: Registry, underscores: bool = False) -> Grammar:
    shape = shape_of(cls)
    return Grammar(
        shape, lambda c: variant_names(c, registry), lambda: value_taking_bools(cls, shape, markers), underscores
    )


@functools.lru_cache(maxsize=32)
def _grammar_cached(
    cls: type, markers: tuple[Any, ...], registry: Registry, changes: int, underscores: bool
) -> Grammar:
    # ``changes`` (the registry's change counter) is part of the key: a registration made
    # later adds or re-links variant names
    return _make_grammar(cls, markers, registry, underscores)


def _has_positionals(target: Target, config: Sequence[Any] | None) -> bool:
    """``--flag False`` may be a flag and a positional value when the config has positional
    arguments: then the boolean words are not joined to the flag."""
    markers = list(config or ())
    if any("Positional" in getattr(m, "__name__", type(m).__name__) for m in markers):
        return True
    if target.kind == "function":
        return True  # tyro makes required positional-only parameters positional
    classes = [target.cls] if target.cls is not None else list(target.members)
    for c in classes:
        for node in shape_of(c).nodes.values():
            for meta in getattr(node.type, "__metadata__", ()):
                if "Positional" in repr(meta):
                    return True
    return False


def _call_tyro(
    f: Any, target: Target, built: Built, argv: list[str], kwargs: dict[str, Any], superset: bool
) -> Any:
    kwargs = dict(kwargs)
    tyro_f = f
    if target.kind == "function":
        assert target.function is not None
        if built.layered:
            assert built.cls is not None
            tyro_f = built.cls
            if kwargs.get("description") is None:
                kwargs["description"] = inspect.getdoc(target.function) or None
        else:
            tyro_f = recorder(target.function)
    import tyro

    if built.default is not UNSET:
        kwargs["default"] = built.default
    if not superset:
        return tyro.cli(tyro_f, args=argv, **kwargs)
    with superset_registry():
        return tyro.cli(tyro_f, args=argv, **kwargs)


# --------------------------------------------------------------------------- provenance


def _provenance(cfg: Any, built: Built, noted: Rewritten) -> dict[str, str]:
    label = _cli_label()
    out: dict[str, str] = {}
    top_type, top_source = built.top_type
    if built.cls is None or type(cfg) is not top_type:
        top_type, top_source = None, DEFAULT
    for path, token in noted.set_variants.items():
        out[f"{path}.{TYPE_KEY}"] = label or f"cli:{token}"
    changed = {
        path
        for path in noted.set_variants
        if type(_safe_get(cfg, path)) is not type(_safe_get(built.default, path))
    }
    current = instance_leaves(cfg, with_types=True)
    for path in current:
        if path.endswith("." + TYPE_KEY):
            union = path[: -len(TYPE_KEY) - 1]
            if path not in out:
                out[path] = built.prov.get(path, DEFAULT) if union not in changed else DEFAULT
            continue
        if path in noted.set_leaves:
            out[path] = label or f"cli:{noted.set_leaves[path]}"
        elif any(path.startswith(p + ".") for p in changed):
            out[path] = DEFAULT
        else:
            out[path] = built.prov.get(path, DEFAULT)
    order = {p: i for i, p in enumerate(current)}
    result = dict(sorted(out.items(), key=lambda kv: order.get(kv[0], len(order))))
    if built.union_members:
        token = kebab(type(cfg).__name__)
        if top_type is None and token in noted.argv:
            top_source = label or f"cli:{token}"
        result = {TYPE_KEY: top_source, **result}
    return result


def _cli_label() -> str | None:
    """``sweep:<id>/trial:<n>`` for a sweep trial (the sweep sets FLOWS_SWEEP_TRIAL)."""
    trial = os.environ.get("FLOWS_SWEEP_TRIAL")
    return f"sweep:{trial}" if trial else None


def _safe_get(obj: Any, path: str) -> Any:
    try:
        return get_path(obj, path)
    except (AttributeError, KeyError, TypeError):
        return None


# ----------------------------------------------------------------- help, schema, output


def _exit_usage(exc: BaseException, name: str) -> Any:
    print(f"{name}: error: {exc}", file=sys.stderr)
    raise SystemExit(2)


__all__ = ["DEFAULT_CONFIG_FILE", "ConversionError", "cli", "format_config", "last_parsed", "run_layer", "schema_document"]
