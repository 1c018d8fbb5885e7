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
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import enum
import functools
import inspect
import io
import json
import os
import sys
import typing
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from .argv import (
    BUILTIN_HELP,
    BUILTINS,
    RESERVED_PREFIX,
    Builtins,
    Grammar,
    Rewritten,
    UsageError,
    kebab,
    shadowed_builtins,
    split_builtins,
    value_taking_bools,
)
from .convert import convert, format_value
from .errors import ConfigError, ConversionError
from .layers import DEFAULT, Layer, RawValue, _Defaults, merge, variant_names
from .provenance import provenance, set_provenance
from .schema import (
    MISSING,
    TYPE_KEY,
    instance_leaves,
    is_config_instance,
    iter_instance,
    schema_of,
    shape_of,
)
from .sources.files import read_file, shown_path
from .tree import get_path, primitive, to_primitives
from .types import describe_type, is_config_type, is_union, strip_annotated

if typing.TYPE_CHECKING:
    from .registry import Registry

T = TypeVar("T")

DEFAULT_CONFIG_FILE = "defaults.ini"

_last_parsed: Any = None


class _Unset:
    """``default=`` not given (tyro's own sentinel needs a tyro import)."""

    def __repr__(self) -> str:
        return "<no default>"


_UNSET: Any = _Unset()


# ------------------------------------------------------------------------------ targets


class _Target:
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


def _analyse(f: Any) -> _Target:
    tp = strip_annotated(f)
    if is_config_type(tp):
        return _Target("class", cls=tp)
    if is_union(tp):
        args = [strip_annotated(a) for a in typing.get_args(tp)]
        configs = tuple(a for a in args if is_config_type(a))
        others = [a for a in args if not is_config_type(a)]
        if configs and others == [type(None)] and len(configs) == 1:
            return _Target("optional", cls=configs[0])
        if configs and not others:
            return _Target("union", members=configs)
        return _Target("other")
    if typing.get_origin(tp) is not None:
        # a parameterised generic (``Args[Triangle]``): a structured type, not a function;
        # tyro resolves its type variables, and layers do not apply (docs/cli.md)
        return _Target("other")
    if callable(tp) and not isinstance(tp, type):
        params = _params_dataclass(tp)
        return _Target("function", cls=params, function=tp)
    return _Target("other")


@functools.lru_cache(maxsize=64)
def _params_dataclass(fn: Callable[..., Any]) -> type | None:
    """A dataclass mirroring ``fn``'s parameters, so layers and provenance work on them.

    None when the signature has ``*args``/``**kwargs`` or cannot be read.
    """
    try:
        sig = inspect.signature(fn)
        hints = typing.get_type_hints(fn, include_extras=True)
    except (TypeError, ValueError, NameError):
        return None
    specs: list[tuple[str, Any, Any]] = []
    for p in sig.parameters.values():
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            return None
        tp = hints.get(p.name, Any)
        if p.default is p.empty:
            specs.append((p.name, tp, dataclasses.field()))
        elif type(p.default).__hash__ is None:
            specs.append((p.name, tp, dataclasses.field(default_factory=functools.partial(copy.deepcopy, p.default))))
        else:
            specs.append((p.name, tp, dataclasses.field(default=p.default)))
    try:
        cls = dataclasses.make_dataclass(f"{getattr(fn, '__name__', 'main')}_arguments", specs, kw_only=True)
    except (TypeError, ValueError):
        return None
    cls.__doc__ = inspect.getdoc(fn) or ""
    cls.__module__ = getattr(fn, "__module__", __name__)
    return cls


def last_parsed() -> Any:
    """The arguments of the last function target ``cli`` called, as an instance of a
    generated dataclass (one field per parameter) carrying their provenance — pass it to
    :func:`config_utils.save_run` or :func:`config_utils.provenance`. For a dataclass
    target this is the returned config itself."""
    return _last_parsed


# ------------------------------------------------------------------------------- layers


def run_layer(source: str, cls: type | None = None, registry: Registry | None = None) -> Layer:
    """A previous run's config as a layer (:func:`config_utils.sources.previous.run_layer`:
    a local run directory, an offline W&B run directory, an MLflow run or a W&B run)."""
    from .sources.previous import run_layer as previous_run_layer

    return previous_run_layer(source, cls, registry)


def _file_layers(opts: Builtins, config_file: str | Path | None, target: _Target) -> list[Layer]:
    explicit = opts.config_file is not None
    if explicit:
        path = Path(str(opts.config_file))
    elif config_file is not None:
        path = Path(config_file)
    else:
        return []
    wanted = explicit or str(config_file) != DEFAULT_CONFIG_FILE
    if not wanted and not path.is_file():
        return []
    if target.cls is None and target.kind != "union":
        if wanted:
            raise UsageError(f"{path}: a config file needs a dataclass (or function) target")
        return []
    return [read_file(path)]


def _take_top_type(layers: list[Layer], members: tuple[type, ...], registry: Registry | None) -> tuple[type | None, str]:
    """For a top-level union target: the variant the highest layer names with ``_type``."""
    from .layers import resolve_variant

    chosen: type | None = None
    source = DEFAULT
    union_type = typing.Union[members]  # type: ignore[valid-type]  # noqa: UP007
    for layer in layers:
        raw = layer.values.pop(TYPE_KEY, None)
        if raw is not None:
            chosen = resolve_variant(raw.value, union_type, key=TYPE_KEY, where=raw.source, registry=registry)
            source = raw.source
    return chosen, source


# ------------------------------------------------------------------------ tyro, twice


class _Deferred:
    """Returned to tyro instead of calling a function target (we call it afterwards)."""

    def __init__(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        self.args = args
        self.kwargs = kwargs


def _recorder(fn: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(fn)
    def record(*args: Any, **kwargs: Any) -> _Deferred:
        return _Deferred(args, kwargs)

    return record


def _superset_registry() -> Any:
    """tyro constructor rules for the value forms the one conversion adds: Enum members by
    name or value, the boolean words for arguments that take a value, integral floats for
    ints and the None words. Used only after tyro refused the arguments as written."""
    import tyro
    from tyro.constructors import ConstructorRegistry, PrimitiveConstructorSpec, PrimitiveTypeInfo

    reg = ConstructorRegistry()

    def make(tp: Any, metavar: str) -> Any:
        return PrimitiveConstructorSpec(
            nargs=1,
            metavar=metavar,
            instance_from_str=lambda args: convert(args[0], tp, key="argument", where="command line"),
            is_instance=lambda x: isinstance(x, tp),
            str_from_instance=lambda x: [format_value(x, tp)],
            choices=None,
        )

    @reg.primitive_rule
    def enum_by_name_or_value(info: PrimitiveTypeInfo) -> Any:
        tp = info.type
        if not (inspect.isclass(tp) and issubclass(tp, enum.Enum)):
            return None
        if any(type(m).__name__ == "_EnumChoicesFromValues" or m is tyro.conf.EnumChoicesFromValues for m in info.markers):
            return None
        return make(tp, "{" + ",".join(tp.__members__) + "}")

    @reg.primitive_rule
    def bool_words(info: PrimitiveTypeInfo) -> Any:
        if info.type is not bool:
            return None
        return make(bool, "{True,False}")

    @reg.primitive_rule
    def integral_numbers(info: PrimitiveTypeInfo) -> Any:
        # `5.0` and `1e3` for an int, as in files (W&B stores some ints as floats)
        return make(int, "INT") if info.type is int else None

    @reg.primitive_rule
    def none_words(info: PrimitiveTypeInfo) -> Any:
        # `none`, `null`, `~` as in files
        return make(type(None), "{None}") if info.type is type(None) else None

    return reg


class _Buffer(io.StringIO):
    """Collects output while answering ``isatty()`` like the stream it stands in for, so
    tyro formats (boxes, colours) as it would for the real terminal."""

    def __init__(self, real: Any) -> None:
        super().__init__()
        self._real = real

    def isatty(self) -> bool:
        try:
            return bool(self._real.isatty())
        except (AttributeError, ValueError):
            return False

    @property
    def encoding(self) -> str | None:  # type: ignore[override]
        # tyro draws its boxes only when ``sys.stdout.encoding`` is UTF-8
        return getattr(self._real, "encoding", None)


@contextlib.contextmanager
def _captured() -> Any:
    out, err = _Buffer(sys.stdout), _Buffer(sys.stderr)
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        yield out, err


def _replay(out: io.StringIO, err: io.StringIO) -> None:
    if out.getvalue():
        sys.stdout.write(out.getvalue())
        sys.stdout.flush()
    if err.getvalue():
        sys.stderr.write(err.getvalue())
        sys.stderr.flush()


def _wants_help(argv: list[str]) -> bool:
    for token in argv:
        if token == "--":
            return False
        if token in ("-h", "--help", "--help-verbose") or token.startswith("--tyro-"):
            return True
    return False


def _parse_twice(
    call: Callable[[list[str], bool], Any],
    argv: list[str],
    superset: Callable[[], list[str]],
) -> tuple[Any, list[str]]:
    """tyro on ``argv`` as written; if tyro refuses it, on the superset forms' rewriting.

    Returns (tyro's result, the argument list that produced it). When both refuse, tyro's
    message is shown as one line — for the arguments as written, or for the rewritten ones
    when superset forms were rewritten — and the exit status is tyro's.
    """
    if _wants_help(argv):
        return call(argv, False), argv
    with _captured() as (out, err):
        try:
            result = call(argv, False)
        except SystemExit as exc:
            first_exit: SystemExit | None = exc
        else:
            first_exit = None
    if first_exit is None:
        _replay(out, err)
        return result, argv
    if first_exit.code in (0, None):
        _replay(out, err)
        raise first_exit
    if not argv:  # nothing to rewrite, no value for a constructor rule: tyro's answer stands
        _refuse(out, err, first_exit)
    second = superset()  # may raise UsageError with a clearer message
    with _captured() as (out2, err2):
        try:
            result = call(second, True)
        except SystemExit:
            second_failed = True
        else:
            second_failed = False
    if second_failed:
        # with superset forms rewritten, tyro's first complaint is usually about those forms
        # themselves ("unrecognized --optim._type=Sgd"); the second names the real mistake
        _refuse(out, err2 if second != argv else err, first_exit)
    _replay(out2, err2)
    return result, second


def _refuse(out: io.StringIO, err: io.StringIO, exit: SystemExit) -> None:
    """tyro refused the arguments: its message exactly as tyro rendered it for this terminal
    (box, unrecognized options with their did-you-mean, missing options, the argument's
    help, the pointer to ``--help``), and its exit status."""
    if out.getvalue():
        sys.stdout.write(out.getvalue())
    raise _Refused(err.getvalue(), exit.code)


class _Refused(Exception):
    """tyro's refusal; ``cli`` writes tyro's message and exits with tyro's status."""

    def __init__(self, message: str, code: Any) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


# --------------------------------------------------------------------------------- cli


def cli(
    f: Any,
    *,
    prog: str | None = None,
    description: str | None = None,
    args: Sequence[str] | None = None,
    default: Any = _UNSET,
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
    target = _analyse(f)
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
    try:
        opts, rest = split_builtins(argv, shadowed_builtins(target.field_names()))
        if opts.print_schema:
            _print_and_exit(json.dumps(schema_document(f, target, config_registry), indent=2))
        layers = _file_layers(opts, config_file, target)
        if opts.run:
            if target.cls is None and target.kind != "union":
                raise UsageError(f"--from-run {opts.run}: a run layer needs a dataclass (or function) target")
            layers.append(run_layer(opts.run, target.cls, config_registry))
        fast = None
        if _fast_path_may_answer(target, rest, tyro_kwargs):
            fast = _fast_path(target, rest, layers, default, strict, config_registry)
        if fast is None:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                built = _build_default(target, layers, default, strict, config_registry)
            for w in caught:
                print(f"warning: {w.message}", file=sys.stderr)
    except ConfigError as exc:
        _exit_usage(exc, name)
    if fast is not None:
        cfg, prov = fast
        set_provenance(cfg, prov)
        _last_parsed = cfg
        return _done(cfg, cfg, opts, argv, "fast")
    if _wants_help(rest) and add_help:
        shown = rest
        if built.cls is not None:
            # `loss.module:loss-module2 --help` (a registered name) or `--loss._type=X --help`:
            # the help of the variant named, as for tyro's own spelling
            try:
                shown = _grammar(built.cls, config, config_registry, use_underscores).rewrite(
                    rest, join_bool_words=False
                ).argv
            except ConfigError as exc:
                _exit_usage(exc, name)
        _print_help_with_builtins(
            lambda: _call_tyro(f, target, built, shown, tyro_kwargs, False), target, config_file
        )

    rewrites: list[Rewritten] = []  # the superset's rewriting, when tyro refused ``rest``

    def superset() -> list[str]:
        if built.cls is None:
            return rest
        grammar = _grammar(built.cls, config, config_registry, use_underscores)
        rewrites.append(grammar.rewrite(rest, join_bool_words=not _has_positionals(target, config)))
        return grammar.regroup(rewrites[-1].argv, built.current_variant, built.chosen_by)

    try:
        result, used = _parse_twice(
            lambda a, extra: _call_tyro(f, target, built, a, tyro_kwargs, extra), rest, superset
        )
    except ConfigError as exc:
        _exit_usage(exc, name)
    except _Refused as refused:
        if console_outputs and refused.message:
            sys.stderr.write(refused.message)
            sys.stderr.flush()
        raise SystemExit(refused.code) from None
    unknown: list[str] | None = None
    if return_unknown_args:
        result, unknown = result
    cfg, result = _finish_call(target, built, result)
    if cfg is not None and is_config_instance(cfg):
        # what the command line set, named by the flags as the user wrote them
        if used is rest or not rewrites:
            noted = _grammar(type(cfg), config, config_registry, use_underscores).noted(rest)
        else:
            noted = rewrites[-1]
        set_provenance(cfg, _provenance(cfg, built, noted))
        _last_parsed = cfg
    result = _done(cfg, result, opts, argv, "tyro")
    return (result, unknown) if return_unknown_args else result


def _done(cfg: Any, result: Any, opts: Builtins, argv: list[str], path: str) -> Any:
    """What every parse ends with: ``--print-config``, the sweep's run record, the result."""
    if opts.print_config:
        _print_and_exit(format_config(cfg, fmt=opts.format, path=path) if cfg is not None else repr(result))
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


def _fast_path_may_answer(target: _Target, rest: list[str], tyro_kwargs: dict[str, Any]) -> bool:
    """The cheap part of the decision: the call itself is one the fast path models."""
    if target.kind != "class" or not _fast_path_enabled() or _wants_help(rest):
        return False
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


def _fast_path_enabled() -> bool:
    """``FLOWS_FAST_PATH=0`` (or false/no/off) turns the fast path off."""
    return os.environ.get("FLOWS_FAST_PATH", "1").strip().lower() not in ("0", "false", "no", "off")


def _fast_path(
    target: _Target,
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
    try:
        base = default if is_config_instance(default) else None
        parsed = fastpath.read_arguments(
            cls, rest, lambda c: variant_names(c, registry), over_instance=bool(layers) or base is not None
        )
        if layers:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                merged, prov0 = merge(cls, layers, strict=strict, missing=_REQUIRED, base=base, registry=registry)
            built = _Built(cls, merged, prov0, True, _chosen_by(prov0))
        else:
            caught = []
            merged = base
            built = _Built(cls, default, {}, False, {})
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


def _has_positionals(target: _Target, config: Sequence[Any] | None) -> bool:
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


class _Built:
    """The merged default handed to tyro and what provenance needs to know about it.

    ``cls``: the dataclass the layers and the grammar work on; ``default``: what tyro gets as
    ``default=`` (_UNSET for none); ``prov``: provenance of the layered values; ``layered``: a
    file or run layer took part; ``union_members``: a top-level union target's members.
    """

    __slots__ = ("cls", "default", "prov", "layered", "chosen_by", "top_type", "union_members", "_defaults")

    def __init__(
        self,
        cls: type | None,
        default: Any,
        prov: dict[str, str],
        layered: bool,
        chosen_by: dict[str, str],
        top_type: tuple[type | None, str] = (None, DEFAULT),
        union_members: tuple[type, ...] = (),
    ) -> None:
        self.cls = cls
        self.default = default
        self.prov = prov
        self.layered = layered
        self.chosen_by = chosen_by
        self.top_type = top_type
        self.union_members = union_members
        self._defaults: _Defaults | None = None

    def current_variant(self, union: str) -> type | None:
        if self.cls is None:
            return None
        if self._defaults is None:
            base = self.default if is_config_instance(self.default) else None
            self._defaults = _Defaults(self.cls, base)
        return self._defaults.class_at(union)


def _build_default(
    target: _Target, layers: list[Layer], default: Any, strict: bool, registry: Registry | None
) -> _Built:
    base = default if is_config_instance(default) else None
    cls = target.cls
    top: tuple[type | None, str] = (None, DEFAULT)
    if target.kind == "union":
        chosen, source = _take_top_type(layers, target.members, registry) if layers else (None, DEFAULT)
        if chosen is None and base is not None and type(base) in target.members:
            chosen = type(base)
        if chosen is not None and base is not None and type(base) is not chosen:
            base = None
        cls = chosen
        top = (chosen, source)
        if cls is None:
            if any(layer.values for layer in layers):
                raise UsageError(
                    f"{layers[-1].name}: the config is one of "
                    f"{', '.join(m.__name__ for m in target.members)}; set {TYPE_KEY} to choose"
                )
            return _Built(None, default, {}, False, {}, top, target.members)
    if cls is None or not layers:
        return _Built(cls, default, {}, False, {}, top, target.members)
    import tyro

    merged, prov = merge(cls, layers, strict=strict, missing=tyro.MISSING, base=base, registry=registry)
    return _Built(cls, merged, prov, True, _chosen_by(prov), top, target.members)


def _chosen_by(prov: dict[str, str]) -> dict[str, str]:
    """Union path → the layer that chose its variant, from the ``path._type`` provenance."""
    return {k[: -len(TYPE_KEY) - 1]: v for k, v in prov.items() if k.endswith("." + TYPE_KEY)}


def _call_tyro(
    f: Any, target: _Target, built: _Built, argv: list[str], kwargs: dict[str, Any], superset: bool
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
            tyro_f = _recorder(target.function)
    import tyro

    if built.default is not _UNSET:
        kwargs["default"] = built.default
    if not superset:
        return tyro.cli(tyro_f, args=argv, **kwargs)
    with _superset_registry():
        return tyro.cli(tyro_f, args=argv, **kwargs)


def _finish_call(target: _Target, built: _Built, result: Any) -> tuple[Any, Any]:
    """(the config object provenance attaches to, what ``cli`` returns)."""
    if target.kind != "function":
        return result, result
    assert target.function is not None
    if isinstance(result, _Deferred):
        params = _arguments_instance(target, result.args, result.kwargs)
        return params, target.function(*result.args, **result.kwargs)
    # layered: tyro built the generated arguments dataclass
    kwargs = {f.name: getattr(result, f.name) for f in schema_of(type(result)).fields}
    return result, _call_with(target.function, kwargs)


def _call_with(fn: Callable[..., Any], kwargs: dict[str, Any]) -> Any:
    sig = inspect.signature(fn)
    positional = [kwargs.pop(p.name) for p in sig.parameters.values() if p.kind is p.POSITIONAL_ONLY]
    return fn(*positional, **kwargs)


def _arguments_instance(target: _Target, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    if target.cls is None or target.function is None:
        return None
    bound = inspect.signature(target.function).bind(*args, **kwargs)
    bound.apply_defaults()
    try:
        return target.cls(**bound.arguments)
    except TypeError:
        return None


# --------------------------------------------------------------------------- provenance


def _provenance(cfg: Any, built: _Built, noted: Rewritten) -> dict[str, str]:
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


def _print_help_with_builtins(
    show_help: Callable[[], Any], target: _Target, config_file: str | Path | None = DEFAULT_CONFIG_FILE
) -> None:
    """tyro's help, then the built-in flags in a box of the same style."""
    with _captured() as (out, err):
        try:
            show_help()
        except SystemExit as exc:
            code = exc.code
        else:
            code = 0
    text = out.getvalue()
    if code in (0, None) and text:
        shadowed = shadowed_builtins(target.field_names())
        text = text.rstrip("\n") + "\n" + _builtins_box(text, shadowed, config_file) + "\n"
        out = io.StringIO(text)
    _replay(out, err)
    raise SystemExit(code)


def _builtins_box(
    help_text: str, shadowed: set[str], config_file: str | Path | None = DEFAULT_CONFIG_FILE
) -> str:
    """The built-in flags as one more group of the help, drawn by tyro itself so that it has
    tyro's style and width (``COLUMNS``; boxes only on a UTF-8 stream), titled ``config layers
    (flows-workspace)``. ``--config-file``'s default is the file this program reads
    (``examples/defaults.ini``), not always ``defaults.ini``. A built-in whose plain spelling a
    field of the config takes is listed by its reserved spelling alone."""
    import dataclasses as dc
    from typing import Annotated, Optional

    import tyro

    del help_text  # tyro sizes the group for the terminal, as it sized the help above it
    fields: list[tuple[str, Any, Any]] = []
    for name in BUILTINS:
        metavar, text = BUILTIN_HELP[name]
        if name == "config-file" and str(config_file) != DEFAULT_CONFIG_FILE:
            shown = shown_path(config_file) if config_file is not None else "none"
            text = text.replace(f"default: {DEFAULT_CONFIG_FILE} when present", f"default: {shown}")
        marker = tyro.conf.arg(
            name=RESERVED_PREFIX[2:] + name,
            aliases=() if name in shadowed else (f"--{name}",),
            metavar=metavar or None,
            help=text,
            help_behavior_hint="",
        )
        valued = BUILTINS[name][0]
        tp = Optional[str] if valued else bool  # noqa: UP045
        fields.append((name.replace("-", "_"), Annotated[tp, marker], dc.field(default=None if valued else False)))
    holder = dc.make_dataclass("flows_builtins", fields)
    with _captured() as (out, _err):
        try:
            tyro.cli(holder, args=["--help"], prog="_", config=(tyro.conf.FlagCreatePairsOff,))
        except SystemExit:
            pass
    return _retitle(out.getvalue().splitlines(), "config layers (flows-workspace)")


def _retitle(lines: list[str], title: str) -> str:
    """tyro's ``options`` group from a help text, without ``-h, --help``, titled ``title``."""
    start = next((i for i, line in enumerate(lines) if line.strip(" ╭─").startswith("options")), None)
    if start is None:
        return ""
    helps = ("-h, --help", "show this help message and exit")
    body = [line for line in lines[start:] if not any(h in line for h in helps)]
    while body and not body[-1].strip():
        body.pop()
    top = body[0]
    if top.startswith("╭"):
        width = len(top)
        label = f"╭─ {title} "
        body[0] = label + "─" * max(width - len(label) - 1, 1) + "╮"
        extra = len(body[0]) - width
        if extra > 0:  # a box narrower than the title: widen it
            body[1:-1] = [line[:-1] + " " * extra + line[-1] for line in body[1:-1]]
            body[-1] = body[-1][0] + "─" * (len(body[0]) - 2) + body[-1][-1]
    else:
        body[0] = top.replace("options", title, 1).rstrip().ljust(len(top))
        rule = body[1].strip() if len(body) > 1 else ""
        if rule and set(rule) <= {"-", "─"} and len(rule) < len(title):
            body[1] = body[1].replace(rule, rule[0] * len(title))
    return "\n".join(body)


def schema_document(f: Any, target: _Target | None = None, registry: Registry | None = None) -> dict[str, Any]:
    """What ``--print-schema`` prints: every leaf path under any variant with its type and
    default, and every union field with the names that select each variant."""
    target = target or _analyse(f)
    classes: list[tuple[str, type]] = []
    if target.cls is not None:
        classes.append(("", target.cls))
    elif target.kind == "union":
        classes.extend(("", m) for m in target.members)
    leaves: dict[str, Any] = {}
    unions: dict[str, Any] = {}
    if target.kind == "union":
        unions[""] = {"choices": {m.__name__: variant_names(m, registry) for m in target.members}, "default": None}
    for _, cls in classes:
        shape = shape_of(cls)
        defaults = _Defaults(cls)
        for path, tp in shape.leaves.items():
            entry: dict[str, Any] = {"type": describe_type(tp)}
            under = dict(shape.under.get(path, {}))
            value = _default_for_schema(defaults, path, under)
            if value is not MISSING:
                entry["default"] = value
            if under:
                entry["under"] = {u: [m.__name__ for m in ms] for u, ms in under.items()}
            if target.kind == "union":
                entry.setdefault("under", {})[""] = [cls.__name__]
            leaves.setdefault(path, entry)
        for path, members in shape.unions.items():
            current = defaults.class_at(path)
            unions.setdefault(path, {
                "choices": {m.__name__: variant_names(m, registry) for m in members},
                "default": current.__name__ if current is not None else None,
            })
    name = getattr(strip_annotated(f), "__qualname__", repr(f))
    return {
        "format": "flows-workspace/schema",
        "version": 1,
        "config_type": f"{getattr(strip_annotated(f), '__module__', '')}:{name}",
        "leaves": leaves,
        "unions": unions,
    }


def _default_for_schema(defaults: _Defaults, path: str, under: dict[str, tuple[type, ...]]) -> Any:
    """The default at ``path`` as primitives; MISSING when the leaf is required."""
    for union, members in under.items():
        if defaults.class_at(union) not in members:
            # under another variant than the default one: that variant's class default
            defaults, path = _Defaults(members[0]), path[len(union) + 1:]
            break
    value = defaults.at(path)
    return MISSING if value is MISSING else primitive(value)



def _print_and_exit(text: str) -> None:
    try:
        print(text)
        sys.stdout.flush()
    except BrokenPipeError:  # `| head -1`: the reader has gone, which is fine
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    raise SystemExit(0)


def _exit_usage(exc: BaseException, name: str) -> Any:
    print(f"{name}: error: {exc}", file=sys.stderr)
    raise SystemExit(2)


def format_config(cfg: Any, *, fmt: str = "text", path: str | None = None) -> str:
    """The resolved config with the source of every value (``--print-config``).

    ``path``: which parser produced it (``fast`` or ``tyro``), shown in the JSON form.
    """
    prov = provenance(cfg)
    if fmt == "json":
        doc: dict[str, Any] = {"config": to_primitives(cfg), "provenance": prov}
        if path is not None:
            doc["path"] = path
        return json.dumps(doc, indent=2)
    rows: list[tuple[str, str, str]] = []
    for path in instance_leaves(cfg, with_types=True):
        if path.endswith("." + TYPE_KEY):
            value = type(get_path(cfg, path[: -len(TYPE_KEY) - 1])).__name__
        else:
            value = format_value(get_path(cfg, path))
        rows.append((path, value, prov.get(path, DEFAULT)))
    kw = max((len(r[0]) for r in rows), default=0)
    vw = min(max((len(r[1]) for r in rows), default=0), 40)
    lines = [f"# {type(cfg).__name__}: value, then the layer that set it"]
    lines += [f"{k:<{kw}} = {v:<{vw}}  # {s}" for k, v, s in rows]
    return "\n".join(lines)


__all__ = ["DEFAULT_CONFIG_FILE", "ConversionError", "cli", "format_config", "last_parsed", "run_layer", "schema_document"]
