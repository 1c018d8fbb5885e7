"""``config_utils.cli``: tyro on top of layered defaults, with provenance.

Layers, lowest first: dataclass defaults < config file (``--config-file``, default
``defaults.ini`` when present) < a previous run (``--wandb-config``: W&B URL,
``entity/project/run_id``, an offline W&B run directory or a local run directory) < the
command line, parsed by tyro with the merged values as its defaults.

This is the only module that imports tyro at import time.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import json
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TypeVar

import tyro

from .errors import ConfigError, did_you_mean
from .layers import DEFAULT, Layer, RawValue, flatten_for, merge, variant_names
from .provenance import provenance, set_provenance
from .sources.files import read_file
from .tree import OMITTED, TYPE_KEY, flatten, get_path, to_primitives
from .types import field_types, is_config_type, strip_annotated, union_members, unwrap_optional

T = TypeVar("T")

DEFAULT_CONFIG_FILE = "defaults.ini"

_LAYER_HELP = (
    "Config layers, lowest first: dataclass defaults < --config-file PATH (default: "
    "defaults.ini when present) < --wandb-config RUN (a W&B run URL, entity/project/run_id, "
    "an offline W&B run directory or a local run directory) < the command line. "
    "--print-config [--format json] prints the resolved config with the source of every "
    "value and exits."
)


@dataclasses.dataclass
class _Builtins:
    config_file: str | None = None
    wandb_config: str | None = None
    print_config: bool = False
    format: str = "text"


class _UsageError(ConfigError):
    pass


def _take_builtins(argv: list[str]) -> tuple[_Builtins, list[str]]:
    """Remove our own flags from ``argv``; tyro sees the rest."""
    opts = _Builtins()
    rest: list[str] = []
    i = 0
    valued = {"--config-file": "config_file", "--config_file": "config_file",
              "--wandb-config": "wandb_config", "--wandb_config": "wandb_config",
              "--format": "format"}
    while i < len(argv):
        token = argv[i]
        name, eq, value = token.partition("=")
        if name in valued:
            if not eq:
                if i + 1 >= len(argv) or argv[i + 1].startswith("--"):
                    raise _UsageError(f"{name} needs a value")
                value = argv[i + 1]
                i += 1
            setattr(opts, valued[name], value)
        elif token in ("--print-config", "--print_config"):
            opts.print_config = True
        else:
            rest.append(token)
        i += 1
    if opts.format not in ("text", "json"):
        raise _UsageError(f"--format: expected 'text' or 'json', got {opts.format!r}")
    return opts, rest


def run_layer(source: str, cls: type | None = None) -> Layer:
    """Layer 3: a previous run's config, from a local run directory or W&B.

    With ``cls``, dict-typed fields stay whole (their keys may contain dots).
    """
    from .sources.runs import is_run_dir, load_run

    path = Path(source).expanduser()
    if path.exists() and is_run_dir(path):
        nested = load_run(path)["config"]
        label = f"run:{source}"
    else:
        from .sources import wandb as wandb_source

        nested = wandb_source.pull_config(source)
        label = wandb_source.run_label(source)
    values = {
        k: RawValue(v, label, text=False)
        for k, v in (flatten_for(cls, nested) if cls is not None else flatten(nested)).items()
        if not (isinstance(v, str) and v == OMITTED)
    }
    return Layer(name=label, values=values, lenient=True)


@functools.lru_cache(maxsize=64)
def _shape(cls: type) -> tuple[dict[str, Any], dict[str, tuple[type, ...]]]:
    """Every leaf path reachable under any union variant → declared type, and every
    union-typed path → its variants. Cached per config class; treat as read-only."""
    leaves: dict[str, Any] = {}
    unions: dict[str, tuple[type, ...]] = {}

    def walk(c: type, prefix: str) -> None:
        for name, tp in field_types(c).items():
            path = prefix + name
            members = union_members(tp)
            if members:
                unions[path] = members
                for m in members:
                    walk(m, path + ".")
                continue
            inner = strip_annotated(unwrap_optional(tp)[0])
            if is_config_type(inner):
                walk(inner, path + ".")
            else:
                leaves[path] = tp

    walk(cls, "")
    return leaves, unions


def _leaf_types_all_variants(cls: type) -> dict[str, Any]:
    return _shape(cls)[0]


def _variant_fields_of(cls: type) -> dict[str, tuple[type, ...]]:
    return _shape(cls)[1]


def _kebab(name: str) -> str:
    try:
        from tyro._strings import hyphen_separated_from_camel_case

        return str(hyphen_separated_from_camel_case(name))
    except Exception:  # private helper moved: a close approximation
        import re

        return re.sub(r"(?<!^)(?=[A-Z])", "-", name).lower()


def _norm_flag(name: str) -> str:
    return name.replace("-", "_")


def _rewrite_argv(cls: type, argv: list[str]) -> tuple[list[str], dict[str, str], dict[str, str]]:
    """Make sweep-style and registered-name arguments tyro-ready; note what the CLI set.

    - ``--flag=True`` / ``--flag=False`` on a bool field → ``--flag`` / ``--no-flag``;
    - ``--dims=[1, 2]`` on a list/tuple field → ``--dims 1 2``;
    - ``loss.module:loss-module2`` (a registered target name) → tyro's subcommand name.

    Returns the new argv, ``{leaf path: flag}`` and ``{union path: subcommand token}``.
    """
    leaves = _leaf_types_all_variants(cls)
    by_flag = {_norm_flag(p): p for p in leaves}
    variants = _variant_fields_of(cls)
    aliases: dict[str, str] = {}
    for path, members in variants.items():
        for m in members:
            tyro_name = f"{path}:{_kebab(m.__name__)}"
            for n in variant_names(m):
                for alias in (_kebab(n), n, n.lower()):
                    aliases.setdefault(f"{path}:{alias}", tyro_name)
                    aliases.setdefault(f"{_norm_flag(path)}:{alias}", tyro_name)
    type_flags = {_norm_flag(path) + "." + TYPE_KEY: path for path in variants}
    out: list[str] = []
    set_leaves: dict[str, str] = {}
    set_variants: dict[str, str] = {}
    pending_type: str | None = None  # `--loss.module._type NAME`: the name comes next
    for token in _join_bool_values(argv, by_flag, leaves):
        if pending_type is not None:
            target = aliases.get(f"{pending_type}:{token}") or aliases.get(f"{pending_type}:{token.lower()}")
            if target is None:
                raise _UsageError(_bad_variant(pending_type, token, variants[pending_type]))
            set_variants[pending_type] = f"--{pending_type}.{TYPE_KEY}={token}"
            out.append(target)
            pending_type = None
            continue
        if token.startswith("--"):
            name, eq, value = token[2:].partition("=")
            key = _norm_flag(name)
            if key in type_flags:
                # W&B sweeps pass the pushed config's `_type` tags as flags
                union = type_flags[key]
                if not eq:
                    pending_type = union
                    continue
                target = aliases.get(f"{union}:{value}") or aliases.get(f"{union}:{value.lower()}")
                if target is None:
                    raise _UsageError(_bad_variant(union, value, variants[union]))
                set_variants[union] = token
                out.append(target)
                continue
            parent, dot, leaf = key.rpartition(".")
            positive = parent + dot + leaf[3:]
            negated = leaf.startswith("no_") and positive in by_flag and key not in by_flag
            leaf_path = by_flag.get(positive if negated else key)
            if leaf_path is not None:
                set_leaves[leaf_path] = "--" + name
                inner = strip_annotated(leaves[leaf_path])  # Optional[bool] takes a value in tyro
                if eq and inner is bool and not negated:
                    v = value.strip().lower()
                    if v in ("true", "1", "yes"):
                        out.append("--" + name)
                        continue
                    if v in ("false", "0", "no"):
                        parent, dot, leaf = name.rpartition(".")
                        out.append("--" + parent + dot + "no-" + leaf.replace("_", "-"))
                        continue
                if eq and value.strip().startswith(("[", "(")):
                    import ast

                    try:
                        items = ast.literal_eval(value.strip())
                    except (ValueError, SyntaxError):
                        items = None
                    if isinstance(items, (list, tuple)):
                        out.append("--" + name)
                        out.extend(str(x) for x in items)
                        continue
        elif ":" in token and not token.startswith("-"):
            target = aliases.get(token) or aliases.get(_norm_flag(token))
            if target is not None:
                set_variants[target.split(":", 1)[0]] = token
                out.append(target)
                continue
        out.append(token)
    if pending_type is not None:
        raise _UsageError(f"--{pending_type}.{TYPE_KEY} needs a value")
    return out, set_leaves, set_variants


_BOOL_WORDS = {"true", "false", "1", "0", "yes", "no"}


def _join_bool_values(argv: list[str], by_flag: dict[str, str], leaves: dict[str, Any]) -> list[str]:
    """``--flag False`` → ``--flag=False`` for a bool field (prefigure users write it so; tyro's
    bool flags take no value, and prefigure itself read ``--flag False`` as True)."""
    out: list[str] = []
    i = 0
    while i < len(argv):
        token = argv[i]
        if token.startswith("--") and "=" not in token and i + 1 < len(argv):
            if argv[i + 1].strip().lower() in _BOOL_WORDS:
                path = by_flag.get(_norm_flag(token[2:]))
                if path is not None and strip_annotated(leaves[path]) is bool:
                    out.append(f"{token}={argv[i + 1]}")
                    i += 2
                    continue
        out.append(token)
        i += 1
    return out


def _bad_variant(union: str, name: str, members: tuple[type, ...]) -> str:
    choices = [n for m in members for n in variant_names(m)]
    return (
        f"--{union}.{TYPE_KEY}: expected one of {', '.join(choices)}, got {name!r}"
        f"{did_you_mean(name, choices)}"
    )


def _order_for_subcommands(
    argv: list[str], default: Any, cls: type, set_by: dict[str, str] | None = None
) -> list[str]:
    """Put each union field's arguments after its subcommand, adding the default one.

    tyro applies arguments to the directly preceding subcommand, so ``--loss.module.p3 4``
    without ``loss.module:...`` before it fails. W&B sweeps and people pass flat
    ``--key=value`` lists, so arguments are regrouped: the root's first, then for each
    union field (outermost first) its subcommand (the chosen or current variant) and its
    arguments.
    """
    variants = _variant_fields_of(cls)
    if not variants or any(t in ("-h", "--help") for t in argv):
        return argv
    set_by = {} if set_by is None else set_by
    unions = sorted(variants, key=lambda p: p.count("."))
    buckets: dict[str, list[str]] = {"": []}
    chosen: dict[str, str] = {}
    current = ""
    for token in argv:
        if ":" in token and not token.startswith("-") and token.split(":", 1)[0] in variants:
            chosen[token.split(":", 1)[0]] = token
            continue
        if token.startswith("--"):
            key = _norm_flag(token[2:].partition("=")[0])
            owners = [u for u in unions if key.startswith(_norm_flag(u) + ".")]
            current = owners[-1] if owners else ""
        buckets.setdefault(current, []).append(token)
    out = list(buckets.get("", []))
    for union in unions:
        needed = any(b for u, b in buckets.items() if u and (u == union or u.startswith(union + ".")))
        sub = chosen.get(union)
        if sub is None and needed:
            value = _safe_get(default, union)
            if dataclasses.is_dataclass(value):
                sub = f"{union}:{_kebab(type(value).__name__)}"
        if sub is not None:
            out.append(sub)
            _check_variant_flags(union, sub, variants[union], buckets.get(union, []), set_by)
        out.extend(buckets.get(union, []))
    return out


def _check_variant_flags(
    union: str, token: str, members: tuple[type, ...], flags: list[str], set_by: dict[str, str]
) -> None:
    """A flag that the selected variant lacks but another variant has: say which, instead
    of tyro's generic "unrecognized options" listing every variant's flags."""
    by_token = {f"{union}:{_kebab(m.__name__)}": m for m in members}
    current = by_token.get(token)
    if current is None:
        return
    for flag in flags:
        if not flag.startswith("--"):
            continue
        rest = _norm_flag(flag[2:].partition("=")[0])[len(union) + 1 :]
        if rest in _leaf_flags(current):
            continue
        having = [m for m in members if m is not current and rest in _leaf_flags(m)]
        if having:
            names = " or ".join(m.__name__ for m in having)
            verb = "has" if len(having) == 1 else "have"
            raise _UsageError(
                f"unknown flag {flag.partition('=')[0]!r}: {union!r} is {current.__name__} "
                f"(from {set_by.get(union, 'default')}), which has no {rest!r}; {names} {verb} it "
                f"(choose it with {union}:{_kebab(variant_names(having[0])[-1])} "
                f"or --{union}.{TYPE_KEY}={having[0].__name__})"
            )


def _leaf_flags(cls: type) -> set[str]:
    return {_norm_flag(p) for p in _leaf_types_all_variants(cls)}


def _description(cls: type, description: str | None) -> str:
    if description is None:
        doc = inspect.getdoc(cls) or ""
        if doc.startswith(cls.__name__ + "("):  # dataclass's generated signature, not prose
            doc = ""
        description = doc
    return (description + "\n\n" if description else "") + _LAYER_HELP


def cli(
    cls: type[T],
    *,
    args: Sequence[str] | None = None,
    config_file: str | Path | None = DEFAULT_CONFIG_FILE,
    strict: bool = False,
    prog: str | None = None,
    description: str | None = None,
    **tyro_kwargs: Any,
) -> T:
    """Parse the command line on top of the config file and run layers; return a ``cls``.

    ``config_file`` is the default for ``--config-file``; the default ``defaults.ini`` is
    skipped when absent, while an explicit path that is missing is an error. ``strict``
    turns unknown keys in a pulled run into errors instead of warnings. Mistakes in files,
    runs or arguments print a short message and exit with status 2.
    """
    argv = list(sys.argv[1:] if args is None else args)
    try:
        opts, rest = _take_builtins(argv)
        layers: list[Layer] = []
        explicit = opts.config_file is not None
        path = Path(opts.config_file) if opts.config_file is not None else Path(config_file or "")
        if explicit or (config_file is not None and config_file != DEFAULT_CONFIG_FILE):
            layers.append(read_file(path))
        elif config_file is not None and path.is_file():
            layers.append(read_file(path))
        if opts.wandb_config:
            layers.append(run_layer(opts.wandb_config, cls))
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            default, prov = merge(cls, layers, strict=strict, missing=tyro.MISSING)
        for w in caught:
            print(f"warning: {w.message}", file=sys.stderr)
        rest, set_leaves, set_variants = _rewrite_argv(cls, rest)
        chosen_by = {u: f"cli:{t}" for u, t in set_variants.items()}
        for key, source in prov.items():
            if key.endswith("." + TYPE_KEY):
                chosen_by.setdefault(key[: -len(TYPE_KEY) - 1], source)
        rest = _order_for_subcommands(rest, default, cls, chosen_by)
    except ConfigError as exc:
        _exit_usage(exc, prog)
    cfg = tyro.cli(
        cls,
        args=rest,
        default=default,
        prog=prog,
        description=_description(cls, description),
        **tyro_kwargs,
    )
    prov = _cli_provenance(cfg, default, prov, set_leaves, set_variants)
    set_provenance(cfg, prov)
    if opts.print_config:
        print(format_config(cfg, fmt=opts.format))
        raise SystemExit(0)
    return cfg


def _exit_usage(exc: BaseException, prog: str | None) -> Any:
    name = prog or Path(sys.argv[0]).name or "python"
    print(f"{name}: error: {exc}", file=sys.stderr)
    raise SystemExit(2)


def _cli_provenance(
    cfg: Any,
    default: Any,
    prov: dict[str, str],
    set_leaves: dict[str, str],
    set_variants: dict[str, str],
) -> dict[str, str]:
    out: dict[str, str] = {}
    for path, token in set_variants.items():
        out[f"{path}.{TYPE_KEY}"] = f"cli:{token}"
    changed = {
        path for path in set_variants
        if type(_safe_get(cfg, path)) is not type(_safe_get(default, path))
    }
    for path in _current_leaves(cfg):
        if path in set_leaves:
            out[path] = f"cli:{set_leaves[path]}"
        elif any(path.startswith(p + ".") for p in changed):
            out[path] = DEFAULT
        else:
            out[path] = prov.get(path, DEFAULT)
    for path, source in prov.items():
        if path.endswith("." + TYPE_KEY) and path not in out:
            union = path[: -len(TYPE_KEY) - 1]
            if union not in changed:
                out[path] = source
    order = {p: i for i, p in enumerate(_current_leaves(cfg, with_types=True))}
    return dict(sorted(out.items(), key=lambda kv: order.get(kv[0], len(order))))


def _safe_get(obj: Any, path: str) -> Any:
    try:
        return get_path(obj, path)
    except (AttributeError, KeyError):
        return None


def _current_leaves(cfg: Any, prefix: str = "", with_types: bool = False) -> list[str]:
    """Leaf paths of an instance in field order; ``with_types`` adds ``x._type`` entries."""
    out: list[str] = []
    types = field_types(type(cfg))
    for f in dataclasses.fields(cfg):
        value = getattr(cfg, f.name, None)
        path = prefix + f.name
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            if with_types and union_members(types[f.name]):
                out.append(path + "." + TYPE_KEY)
            out.extend(_current_leaves(value, path + ".", with_types))
        else:
            out.append(path)
    return out


def format_config(cfg: Any, *, fmt: str = "text") -> str:
    """The resolved config with the source of every value (``--print-config``)."""
    prov = provenance(cfg)
    if fmt == "json":
        return json.dumps({"config": to_primitives(cfg), "provenance": prov}, indent=2)
    rows: list[tuple[str, str, str]] = []
    for path in _current_leaves(cfg, with_types=True):
        if path.endswith("." + TYPE_KEY):
            value = type(get_path(cfg, path[: -len(TYPE_KEY) - 1])).__name__
        else:
            value = _show(get_path(cfg, path))
        rows.append((path, value, prov.get(path, DEFAULT)))
    kw = max((len(r[0]) for r in rows), default=0)
    vw = min(max((len(r[1]) for r in rows), default=0), 40)
    lines = [f"# {type(cfg).__name__}: value, then the layer that set it"]
    lines += [f"{k:<{kw}} = {v:<{vw}}  # {s}" for k, v, s in rows]
    return "\n".join(lines)


def _show(value: Any) -> str:
    from .convert import format_value

    return format_value(value)
