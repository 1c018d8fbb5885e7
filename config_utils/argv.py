"""The argument grammar ``config_utils.cli`` accepts in front of tyro.

tyro parses the command line. This module only does what tyro cannot know about:

1. **Built-in flags.** ``--config-file PATH``, ``--wandb-config RUN``, ``--from-run RUN``,
   ``--print-config``, ``--format text|json`` and ``--print-schema`` are taken out of the
   argument list before tyro sees it. Each has a reserved spelling ``--flows:NAME``
   (``--flows:print-config``, ``--flows:from-run=RUN``) that always means the built-in. The
   plain spelling means the built-in unless the config has a top-level field with that flag
   name (``-`` and ``_`` alike): then the field gets it and only ``--flows:NAME`` reaches the
   built-in. A valued built-in takes ``--name VALUE`` or ``--name=VALUE``; an empty value
   is an error. Nothing after a bare ``--`` is taken.

2. **A documented superset of tyro's forms**, used only when tyro refuses the arguments as
   they were given (so every argument list tyro accepts means exactly what it means to tyro):

   - ``--flag=WORD`` and ``--flag WORD`` for a boolean flag, WORD one of the boolean words of
     :mod:`config_utils.convert` (``true/false``, ``yes/no``, ``on/off``, ``1/0``, any case);
   - ``--dims=[1, 2]`` (a Python/JSON list) for a list or tuple field;
   - ``loss.module:loss-module2`` — a variant named by its registered target name (or any
     spelling :func:`config_utils.layers.resolve_variant` accepts), and
     ``--loss.module._type=NAME``, the form W&B sweeps replay from a pushed config;
   - arguments of a union variant given without (or before) its subcommand: they are
     regrouped after the subcommand of the variant chosen on the command line, else the
     one the lower layers chose.

   Enum members by value and the boolean words for value-taking bools are handled by the
   constructor rules in :mod:`config_utils.command_line`, not here.
"""

from __future__ import annotations

import ast
import functools
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from .convert import _FALSE, _TRUE
from .errors import ConfigError, did_you_mean
from .schema import TYPE_KEY, Shape, variant_lacks
from .types import strip_annotated, unwrap_optional

RESERVED_PREFIX = "--flows:"

#: built-in name → (takes a value, attribute of :class:`Builtins`)
BUILTINS: dict[str, tuple[bool, str]] = {
    "config-file": (True, "config_file"),
    "wandb-config": (True, "wandb_config"),
    "from-run": (True, "from_run"),
    "print-config": (False, "print_config"),
    "format": (True, "format"),
    "print-schema": (False, "print_schema"),
}

BUILTIN_HELP: dict[str, tuple[str, str]] = {
    "config-file": ("PATH", "config file layer: .ini, .toml, .yaml or .json (default: defaults.ini when present)"),
    "wandb-config": ("RUN", "a previous run as a layer (same as --from-run; prefigure's name)"),
    "from-run": ("RUN", "a previous run as a layer: run directory, W&B run URL or entity/project/id, MLflow run"),
    "print-config": ("", "print the resolved config with the source of every value, then exit"),
    "format": ("{text,json}", "format of --print-config (default: text)"),
    "print-schema": ("", "print the config's schema as JSON (leaf paths, types, defaults, variants), then exit"),
}


class UsageError(ConfigError):
    """A mistake on the command line (the entry point prints it and exits 2)."""


class Builtins:
    """The built-in flags found on a command line (a plain class: see ``Rewritten``)."""

    def __init__(self) -> None:
        self.config_file: str | None = None
        self.wandb_config: str | None = None
        self.from_run: str | None = None
        self.print_config = False
        self.format = "text"
        self.print_schema = False

    @property
    def run(self) -> str | None:
        return self.from_run if self.from_run is not None else self.wandb_config


def norm_flag(name: str) -> str:
    return name.replace("-", "_")


def shadowed_builtins(field_names: Iterable[str]) -> set[str]:
    """Built-ins whose plain spelling a top-level field takes."""
    taken = {norm_flag(n) for n in field_names}
    return {name for name in BUILTINS if norm_flag(name) in taken}


def split_builtins(argv: list[str], shadowed: set[str]) -> tuple[Builtins, list[str]]:
    """Take the built-in flags out of ``argv``; the rest goes to tyro."""
    opts = Builtins()
    plain = {f"--{n}": n for n in BUILTINS if n not in shadowed}
    plain.update({f"--{norm_flag(n)}": n for n in BUILTINS if n not in shadowed})
    rest: list[str] = []
    i = 0
    while i < len(argv):
        token = argv[i]
        if token == "--":
            rest.extend(argv[i:])
            break
        flag, eq, value = token.partition("=")
        name = None
        if flag.startswith(RESERVED_PREFIX):
            name = flag[len(RESERVED_PREFIX):].replace("_", "-")
            if name not in BUILTINS:
                raise UsageError(
                    f"unknown built-in flag {flag!r}{did_you_mean(name, BUILTINS)}; "
                    f"built-ins: {', '.join(RESERVED_PREFIX + n for n in BUILTINS)}"
                )
        elif flag in plain:
            name = plain[flag]
        if name is None:
            rest.append(token)
            i += 1
            continue
        takes_value, attr = BUILTINS[name]
        if takes_value:
            if not eq:
                if i + 1 >= len(argv) or argv[i + 1].startswith("--"):
                    raise UsageError(f"{flag} needs a value")
                value = argv[i + 1]
                i += 1
            if value.strip() == "":
                raise UsageError(f"{flag} needs a value, got an empty one")
            setattr(opts, attr, value)
        elif eq:
            word = value.strip().lower()
            if word not in _TRUE | _FALSE:
                raise UsageError(f"{flag} takes no value (or true/false), got {value!r}")
            setattr(opts, attr, word in _TRUE)
        else:
            setattr(opts, attr, True)
        i += 1
    if opts.format not in ("text", "json"):
        raise UsageError(f"--format: expected 'text' or 'json', got {opts.format!r}")
    if opts.from_run is not None and opts.wandb_config is not None:
        raise UsageError("--from-run and --wandb-config name the same layer; give one of them")
    return opts, rest


_CAMEL_BREAK = re.compile(r"((?<=[a-z0-9])[A-Z]|(?!^)[A-Z](?=[a-z]))")


def list_items(text: str) -> list[str] | None:
    """The superset's list form: ``[1, 2]`` or ``(a, b)`` (a W&B agent writes lists so) as the
    items tyro takes one by one (``['1', '2']``); None when the text is not such a literal."""
    text = text.strip()
    if not text.startswith(("[", "(")):
        return None
    try:
        items = ast.literal_eval(text)
    except (ValueError, SyntaxError, MemoryError, RecursionError, TypeError):
        return None
    return [str(x) for x in items] if isinstance(items, (list, tuple)) else None


def kebab(name: str) -> str:
    """tyro's subcommand spelling of a class name (``LossModule2Config`` → ``loss-module2-config``):
    a hyphen before a capital that follows a lower-case letter or digit, or that starts a
    capitalised word, then all lower case. Kept here so the fast path needs no tyro import;
    ``test_tyro_conformance`` checks it against tyro's own."""
    return _CAMEL_BREAK.sub(r"-\1", name).lower()


def subcommand_token(path: str, class_name: str, underscores: bool = False) -> str:
    """tyro's own spelling of the subcommand choosing ``class_name`` for the union field at
    ``path``: the field path and the class name in kebab case (``loss-fn:huber-loss``), or
    with underscores under tyro's ``use_underscores=True`` (``loss_fn:huber_loss``)."""
    if underscores:
        return f"{path}:{kebab(class_name).replace('-', '_')}"
    return f"{path.replace('_', '-')}:{kebab(class_name)}"


def value_taking_bools(cls: type, shape: Shape, global_markers: Iterable[Any] = ()) -> frozenset[str]:
    """Bool leaves that tyro parses as ``--flag VALUE`` rather than ``--flag``/``--no-flag``:
    required ones, and those under tyro's ``FlagConversionOff`` marker (on the field, on a
    sub-config field, or on the class that holds it — ``tyro.conf.configure``, which tyro
    reads from the class itself, not from its bases —
    or in ``cli(config=...)``)."""
    from .schema import walk

    off = _flag_conversion_off()
    everywhere = any(m is off for m in global_markers) or _has_marker(cls, off)
    marked: set[str] = set()  # paths of sub-configs whose fields are all marked
    out: set[str] = set()
    for node in walk(cls):
        info = node.field
        parent = node.path.rpartition(".")[0]
        on = (
            everywhere
            or off in getattr(info.type, "__metadata__", ())
            or parent in marked
            or (node.owner is not None and _has_marker(node.owner, off))
        )
        if info.kind != "leaf":
            classes = [info.config] if info.config is not None else list(info.variants)
            if on or any(_has_marker(c, off) for c in classes):
                marked.add(node.path)
        elif _is_bool(info.type) and (on or not info.has_default):
            out.add(node.path)
    return frozenset(out)


def _flag_conversion_off() -> Any:
    import typing

    import tyro

    return typing.get_args(tyro.conf.FlagConversionOff[bool])[1]


def _has_marker(cls: type, marker: Any) -> bool:
    return marker in getattr(cls, "__dict__", {}).get("__tyro_markers__", ())


def _is_bool(tp: Any) -> bool:
    return strip_annotated(tp) is bool


def _is_sequence(tp: Any) -> bool:
    from typing import get_origin

    inner = strip_annotated(unwrap_optional(tp)[0])
    return get_origin(inner) in (list, tuple, set, frozenset) or inner in (list, tuple, set, frozenset)


class Rewritten:
    """An argument list and what it sets. Plain classes, not dataclasses, for the records of
    this module: a dataclass definition costs ~0.8 ms at every program start."""

    __slots__ = ("argv", "set_leaves", "set_variants")

    def __init__(self, argv: list[str], set_leaves: dict[str, str], set_variants: dict[str, str]) -> None:
        self.argv = argv
        self.set_leaves = set_leaves  # leaf path → the flag that set it
        self.set_variants = set_variants  # union path → the token that chose it


class Grammar:
    """The superset forms for one config class (see the module docstring)."""

    def __init__(
        self,
        shape: Shape,
        variant_names: Callable[[type], list[str]],
        value_bools: frozenset[str] | Callable[[], frozenset[str]] = frozenset(),
        underscores: bool = False,
    ) -> None:
        self.shape = shape
        self._value_bools = value_bools
        self.underscores = underscores
        self.by_flag = {norm_flag(p): p for p in shape.leaves}
        # (normalised union path, name) → tyro's own token; every spelling of a choice
        self._choices: dict[tuple[str, str], str] = {}
        for path, members in shape.unions.items():
            for m in members:
                tyro_name = subcommand_token(path, m.__name__, underscores)
                for n in (m.__name__, *variant_names(m)):
                    for alias in (kebab(n), kebab(n).replace("-", "_"), n, n.lower()):
                        self._choices.setdefault((norm_flag(path), alias), tyro_name)
        self.type_flags = {norm_flag(path) + "." + TYPE_KEY: path for path in shape.unions}
        self.union_of = {norm_flag(path): path for path in shape.unions}
        self.variant_names = variant_names

    def choice(self, token: str) -> str | None:
        """tyro's own token for a union choice in any spelling (``loss_fn:Huber``,
        ``loss-fn:huber``, a registered name), or None when ``token`` is not one."""
        if ":" not in token or token.startswith("-"):
            return None
        union, _, name = token.partition(":")
        key = norm_flag(union)
        return self._choices.get((key, name)) or self._choices.get((key, name.lower()))

    def union_of_choice(self, token: str) -> str:
        """The union path a token returned by :meth:`choice` chooses for."""
        return self.union_of[norm_flag(token.partition(":")[0])]

    @functools.cached_property
    def value_bools(self) -> frozenset[str]:
        """Bool leaves that take a value (not ``--flag``/``--no-flag``); computed on first use:
        it walks the config looking for markers, which reading provenance never needs."""
        found = self._value_bools
        return found() if callable(found) else found

    def leaf_of(self, flag: str) -> tuple[str | None, bool]:
        """(leaf path, negated) for ``--a.b`` / ``--a.no-b`` / ``--no-a`` spellings."""
        key = norm_flag(flag)
        if key in self.by_flag:
            return self.by_flag[key], False
        parent, dot, leaf = key.rpartition(".")
        if leaf.startswith("no_") and parent + dot + leaf[3:] not in self.value_bools:
            positive = parent + dot + leaf[3:]
            if positive in self.by_flag and _is_bool(self.shape.leaves[self.by_flag[positive]]):
                return self.by_flag[positive], True
        return None, False

    def variant_token(self, union: str, name: str) -> str:
        target = self.choice(f"{union}:{name}")
        if target is None:
            members = self.shape.unions[union]
            choices = [n for m in members for n in self.variant_names(m)]
            raise UsageError(
                f"--{union}.{TYPE_KEY}: expected one of {', '.join(choices)}, got {name!r}"
                f"{did_you_mean(name, choices)}"
            )
        return target

    def noted(self, argv: list[str]) -> Rewritten:
        """What ``argv`` sets, as tyro reads it (no rewriting): for provenance."""
        set_leaves: dict[str, str] = {}
        set_variants: dict[str, str] = {}
        for token in argv:
            if token == "--":
                break
            if token.startswith("--"):
                name = token[2:].partition("=")[0]
                path, _ = self.leaf_of(name)
                if path is not None:
                    set_leaves[path] = "--" + name
            else:
                target = self.choice(token)
                if target is not None:
                    set_variants[self.union_of_choice(target)] = token
        return Rewritten(list(argv), set_leaves, set_variants)

    def rewrite(self, argv: list[str], *, join_bool_words: bool = True) -> Rewritten:
        """Turn the superset forms into tyro's; note what the command line set."""
        out: list[str] = []
        set_leaves: dict[str, str] = {}
        set_variants: dict[str, str] = {}
        pending_type: str | None = None  # `--loss.module._type NAME`: the name comes next
        tokens = self._join_bool_words(argv) if join_bool_words else list(argv)
        for index, token in enumerate(tokens):
            if token == "--":
                out.extend(tokens[index:])
                break
            if pending_type is not None:
                out.append(self.variant_token(pending_type, token))
                set_variants[pending_type] = f"--{pending_type}.{TYPE_KEY}={token}"
                pending_type = None
                continue
            if token.startswith("--"):
                name, eq, value = token[2:].partition("=")
                key = norm_flag(name)
                if key in self.type_flags:
                    union = self.type_flags[key]
                    if not eq:
                        pending_type = union
                        continue
                    out.append(self.variant_token(union, value))
                    set_variants[union] = token
                    continue
                path, negated = self.leaf_of(name)
                if path is not None:
                    set_leaves[path] = "--" + name
                    tp = self.shape.leaves[path]
                    if eq and _is_bool(tp) and not negated and path not in self.value_bools:
                        word = value.strip().lower()
                        if word in _TRUE:
                            out.append("--" + name)
                            continue
                        if word in _FALSE:
                            parent, dot, leaf = name.rpartition(".")
                            out.append("--" + parent + dot + "no-" + leaf.replace("_", "-"))
                            continue
                    if eq and _is_sequence(tp):
                        items = list_items(value)
                        if items is not None:
                            out.append("--" + name)
                            out.extend(items)
                            continue
            else:
                target = self.choice(token)
                if target is not None:
                    set_variants[self.union_of_choice(target)] = token
                    out.append(target)
                    continue
            out.append(token)
        if pending_type is not None:
            raise UsageError(f"--{pending_type}.{TYPE_KEY} needs a value")
        return Rewritten(out, set_leaves, set_variants)

    def _join_bool_words(self, argv: list[str]) -> list[str]:
        """``--flag False`` → ``--flag=False`` for a bool field (prefigure users write it so;
        tyro's bool flags take no value)."""
        out: list[str] = []
        i = 0
        words = _TRUE | _FALSE
        while i < len(argv):
            token = argv[i]
            if token == "--":
                out.extend(argv[i:])
                break
            if token.startswith("--") and "=" not in token and i + 1 < len(argv):
                if argv[i + 1].strip().lower() in words:
                    path, negated = self.leaf_of(token[2:])
                    if (
                        path is not None
                        and not negated
                        and _is_bool(self.shape.leaves[path])
                        and path not in self.value_bools
                    ):
                        out.append(f"{token}={argv[i + 1]}")
                        i += 2
                        continue
            out.append(token)
            i += 1
        return out

    def regroup(
        self,
        argv: list[str],
        current_variant: Callable[[str], type | None],
        chosen_by: Mapping[str, str],
    ) -> list[str]:
        """Put each union field's arguments after its subcommand, adding the current one.

        tyro applies arguments to the directly preceding subcommand, so ``--loss.module.p3 4``
        without ``loss.module:...`` before it fails. W&B sweeps and people pass flat
        ``--key=value`` lists, so arguments are regrouped: the root's first, then for each
        union field (outermost first) its subcommand (the chosen or current variant) and
        its arguments.
        """
        unions_map = self.shape.unions
        if not unions_map or "--" in argv:
            return argv
        unions = sorted(unions_map, key=lambda p: p.count("."))
        buckets: dict[str, list[str]] = {"": []}
        chosen: dict[str, str] = {}
        current = ""
        for token in argv:
            if ":" in token and not token.startswith("-") and norm_flag(token.split(":", 1)[0]) in self.union_of:
                chosen[self.union_of[norm_flag(token.split(":", 1)[0])]] = token
                continue
            if token.startswith("--"):
                key = norm_flag(token[2:].partition("=")[0])
                owners = [u for u in unions if key.startswith(norm_flag(u) + ".")]
                current = owners[-1] if owners else ""
            buckets.setdefault(current, []).append(token)
        out = list(buckets.get("", []))
        for union in unions:
            needed = any(b for u, b in buckets.items() if u and (u == union or u.startswith(union + ".")))
            sub = chosen.get(union)
            if sub is None and needed:
                cls = current_variant(union)
                if cls is not None:
                    sub = subcommand_token(union, cls.__name__, self.underscores)
            if sub is not None:
                out.append(sub)
                self._check_variant_flags(union, sub, buckets.get(union, []), chosen_by)
            out.extend(buckets.get(union, []))
        return out

    def _check_variant_flags(self, union: str, token: str, flags: list[str], chosen_by: Mapping[str, str]) -> None:
        """A flag that the selected variant lacks but another variant has: say which, instead
        of tyro's generic "unrecognized options" listing every variant's flags."""
        members = self.shape.unions[union]
        by_token = {subcommand_token(union, m.__name__, self.underscores): m for m in members}
        current = by_token.get(token)
        if current is None:
            return
        for flag in flags:
            if not flag.startswith("--"):
                continue
            rest = norm_flag(flag[2:].partition("=")[0])[len(union) + 1:]
            path = f"{union}.{rest}"
            having = [m for m in self.shape.under.get(self.by_flag.get(norm_flag(path), ""), {}).get(union, ())]
            if not having or current in having:
                continue
            lacks = variant_lacks(union, current, chosen_by.get(union, "default"), rest, having)
            raise UsageError(
                f"unknown flag {flag.partition('=')[0]!r}: {lacks} "
                f"(choose it with {subcommand_token(union, having[0].__name__, self.underscores)} "
                f"or --{union}.{TYPE_KEY}={having[0].__name__})"
            )
