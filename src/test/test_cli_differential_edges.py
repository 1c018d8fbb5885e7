"""The fast path may decline, never differ (docs/cli.md, "Fast path"): the fast path, the tyro
path and bare ``tyro.cli`` on the same argument lists — an edge-token table (21 leaf types ×
the tokens that broke parsers before) and a seeded generator of configs (unions whose
variants share field names with other types, Optional, Enum, Literal, tuple, list, dict, bool,
Path). Config, provenance and exit status must agree (:mod:`cli_differential`).

The generator runs for a fixed time budget (``FLOWS_DIFF_BUDGET`` seconds, default 40) over
seeds 0, 1, 2, …; a failure names its seed, and ``FLOWS_DIFF_SEED=N`` replays one seed.
"""

from __future__ import annotations

import dataclasses
import enum
import os
import random
import time
from dataclasses import field
from pathlib import Path
from typing import Any, Literal, Optional, Union

import pytest
from cli_differential import bare, check, disagreement, ours

from config_utils.argv import kebab


class Act(enum.Enum):
    RELU = "relu"
    GELU = "gelu"


# name → (type, default)
LEAF_TYPES: dict[str, tuple[Any, Any]] = {
    "int": (int, 0),
    "float": (float, 0.0),
    "str": (str, "d"),
    "bool": (bool, False),
    "path": (Path, Path("d")),
    "enum": (Act, Act.RELU),
    "lit_s": (Literal["fast", "slow"], "fast"),
    "lit_i": (Literal[1, 2], 1),
    "opt_i": (Optional[int], 0),  # noqa: UP045 - the spelling tyro users write
    "opt_s": (Optional[str], "d"),  # noqa: UP045
    "opt_f": (Optional[float], 0.0),  # noqa: UP045
    "opt_p": (Optional[Path], None),  # noqa: UP045
    "opt_b": (Optional[bool], None),  # noqa: UP045
    "list_i": (list[int], [0]),
    "list_s": (list[str], ["d"]),
    "list_f": (list[float], [0.0]),
    "list_p": (list[Path], []),
    "list_e": (list[Act], []),
    "tup_ii": (tuple[int, int], (0, 0)),
    "tup_iv": (tuple[int, ...], (0,)),
    "tup_ss": (tuple[str, str], ("a", "b")),
}

# leaf types the fast path leaves to the tyro path (docs/cli.md, "Fast path")
FAST_PATH_DECLINES = {"opt_b"}

EDGE_TOKENS = [
    "-1", "1_000", "0x10", "nan", "", "None", "١٢", "05", "+5", "1e3", "5.0", "-0", "inf", "-inf",
    "True", "False", "true", "yes", "on", "off", "1", "0", "2", "null", "none", "~", "OMITTED",
    "[1, 2]", "[x, y]", "[]", "(1, 2)", "a b", " ", "é", "-x", "-", "a:b", "RELU", "relu", "GELU",
    "fast", "FAST", "1.5", ".5", "5.", "1e-3", "0b11", " 7", "7 ", "²", "NaN", "Infinity", "1,2",
    '{"a": 1}', "a=b", "--", "x", "-1.5", "1e400", "[1]", "['a', 'b']", "ｘ",
]


def _field(default: Any) -> Any:
    if isinstance(default, list):
        return field(default_factory=lambda d=default: list(d))
    return field(default=default)


def _edge_class(name: str) -> type:
    tp, default = LEAF_TYPES[name]
    return dataclasses.make_dataclass(
        f"Edge_{name}", [("v", tp, _field(default)), ("n", int, field(default=0)), ("flag", bool, field(default=False))]
    )


@pytest.mark.parametrize("name", sorted(LEAF_TYPES))
def test_edge_tokens_agree(name: str) -> None:
    """Each token as a value, alone, with `=`, and beside a superset form (`--flag=yes` makes
    the tyro path rewrite the whole list, so the token is read by the second attempt)."""
    cls = _edge_class(name)
    failures: list[str] = []
    answered = 0
    for tok in EDGE_TOKENS:
        for argv in (["--v", tok], [f"--v={tok}"], ["--v", tok, "--n=3", "--flag=yes"]):
            fast, slow, oracle = ours(cls, argv, fast=True), ours(cls, argv, fast=False), bare(cls, argv)
            answered += fast.path == "fast"
            found = disagreement(fast, slow, oracle)
            if found:
                failures.append(f"{argv!r}: {found}")
    assert not failures, "\n".join(failures[:20])
    if name not in FAST_PATH_DECLINES:
        assert answered > 0  # the fast path answers plain tokens of the types it models


# ----------------------------------------------------------------------- seeded configs

_GOOD: dict[str, list[str]] = {
    "int": ["3", "-2", "05", "1_000", "5.0"],
    "float": ["0.5", "-1e-3", "2", "nan"],
    "str": ["hello", "None", "OMITTED", "5", "x y", "loss-fn:b"],
    "path": ["a/b", "."],
    "enum": ["RELU", "GELU", "gelu"],
    "lit_s": ["fast", "slow"],
    "lit_i": ["1", "2"],
    "opt_i": ["None", "7", "null"],
    "opt_s": ["None", "s", "null", ""],
    "opt_f": ["None", "1.5"],
    "opt_p": ["None", "p"],
    "opt_b": ["True", "None", "false"],
    "list_i": ["1 2", "[1, 2]", "3"],
    "list_s": ["a b", "[1, 2]", "[x, y]", "OMITTED"],
    "list_f": ["1.5 2", "[0.5]"],
    "list_p": ["a b", "['a', 'b']"],
    "list_e": ["RELU GELU", "[RELU]"],
    "tup_ii": ["1 2", "[3, 4]"],
    "tup_iv": ["1 2 3", "[5]"],
    "tup_ss": ["a b", "[x, y]"],
}


@dataclasses.dataclass
class GenSpec:
    cls: type
    leaves: dict[str, str]  # field → leaf type name
    nested: dict[str, GenSpec]
    unions: dict[str, tuple[GenSpec, ...]]


_count = [0, 0]  # seed, classes made for it (names depend on the seed alone)


def _gen_class(rng: random.Random, depth: int = 0) -> GenSpec:
    # a small pool of names, so that union variants share field names with other types
    names = rng.sample(["x", "y", "lr", "tags", "mode"], rng.randint(1, 3))
    fields: list[tuple[str, Any, Any]] = []
    spec = GenSpec(object, {}, {}, {})
    for name in names:
        roll = rng.random()
        if depth < 2 and roll < 0.12:
            sub = _gen_class(rng, depth + 1)
            spec.nested[name] = sub
            fields.append((name, sub.cls, field(default_factory=sub.cls)))
        elif depth < 2 and roll < 0.3:
            variants = tuple(_gen_class(rng, depth + 1) for _ in range(rng.randint(2, 3)))
            spec.unions[name] = variants
            fields.append((name, Union[tuple(v.cls for v in variants)], field(default_factory=variants[0].cls)))  # noqa: UP007
        elif roll < 0.34:
            fields.append((name, dict[str, int], field(default_factory=dict)))
        else:
            kind = rng.choice(sorted(LEAF_TYPES))
            tp, default = LEAF_TYPES[kind]
            spec.leaves[name] = kind
            fields.append((name, tp, _field(default)))
    _count[1] += 1
    spec.cls = dataclasses.make_dataclass(f"S{_count[0]}G{_count[1]}", fields, kw_only=True)
    return spec


def _value_tokens(rng: random.Random, kind: str) -> list[str]:
    text = rng.choice(EDGE_TOKENS) if rng.random() < 0.15 else rng.choice(_GOOD.get(kind, ["1"]))
    return text.split(" ") if " " in text and not text.startswith("[") and rng.random() < 0.8 else [text]


def _gen_argv(rng: random.Random, spec: GenSpec, prefix: str = "") -> list[str]:
    out: list[str] = []
    for name, kind in spec.leaves.items():
        if rng.random() < 0.5:
            continue
        flag = "--" + prefix + (name if rng.random() < 0.7 else name.replace("_", "-"))
        if kind == "bool":
            out += rng.choice([[flag], [f"{flag}=False"], [flag, "no"], ["--" + prefix + "no-" + name], [f"{flag}=on"]])
            continue
        tokens = _value_tokens(rng, kind)
        if len(tokens) == 1 and rng.random() < 0.4:
            out.append(f"{flag}={tokens[0]}")
        else:
            out += [flag, *tokens]
    for name, sub in spec.nested.items():
        if rng.random() < 0.5:
            out += _gen_argv(rng, sub, prefix + name + ".")
    for name, variants in spec.unions.items():
        roll = rng.random()
        chosen = rng.choice(variants)
        path = prefix + name
        if roll < 0.3:
            out.append(f"{path.replace('_', '-')}:{kebab(chosen.cls.__name__)}")  # tyro's own
        elif roll < 0.45:
            out.append(f"{path}:{chosen.cls.__name__}")  # another spelling
        elif roll < 0.65:
            out.append(f"--{path}._type={chosen.cls.__name__}")
        else:
            chosen = variants[0]  # arguments without a choice: the default variant's
        if rng.random() < 0.7:
            out += _gen_argv(rng, chosen, path + ".")
    if rng.random() < 0.05:
        out.append("--" + prefix + "not-a-field")
    if rng.random() < 0.2 and len(out) > 1:
        i, j = rng.randrange(len(out)), rng.randrange(len(out))
        out[i], out[j] = out[j], out[i]
    return out


def test_generated_configs_agree() -> None:
    budget = float(os.environ.get("FLOWS_DIFF_BUDGET", "40"))
    only = os.environ.get("FLOWS_DIFF_SEED")
    seeds = [int(only)] if only else range(10**6)
    deadline = time.monotonic() + budget
    failures: list[str] = []
    cases = answered = 0
    for seed in seeds:
        if time.monotonic() > deadline and cases >= 20:
            break
        rng = random.Random(seed)
        _count[:] = [seed, 0]
        spec = _gen_class(rng)
        for _ in range(8):
            argv = _gen_argv(rng, spec)
            fast, slow = ours(spec.cls, argv, fast=True), ours(spec.cls, argv, fast=False)
            found = disagreement(fast, slow, bare(spec.cls, argv))
            cases += 1
            answered += fast.path == "fast"
            if found:
                fields = {f.name: str(f.type) for f in dataclasses.fields(spec.cls)}
                failures.append(f"seed {seed}: {argv!r} on {fields}: {found}")
    assert not failures, f"{len(failures)} of {cases}:\n" + "\n".join(failures[:10])
    assert only or answered > cases // 10, (answered, cases)  # the fast path takes part


@dataclasses.dataclass
class SharedA:
    x: int = 1
    y: bool = False


@dataclasses.dataclass
class SharedB:
    x: str = "s"
    y: Optional[str] = "t"  # noqa: UP045


@dataclasses.dataclass
class Shared:
    u: Union[SharedA, SharedB] = field(default_factory=SharedA)  # noqa: UP007


def test_union_variants_sharing_a_name_never_differ() -> None:
    """#28 A: `A.x: int` and `B.x: str` — the fast path does not use the first variant's type."""
    for argv in (["u:shared-b", "--u.x", "05"], ["--u._type=SharedB", "--u.x", "05"],
                 ["--u._type=SharedB", "--u.y", "None"], ["u:shared-b", "--u.y", "1"],
                 ["u:shared-a", "--u.x", "05"], ["--u._type=SharedA", "--u.y=1"]):
        assert check(Shared, argv) is None, argv
    slow = ours(Shared, ["u:shared-b", "--u.x", "05"], fast=False)
    assert slow.config == '{"u": {"_type": "SharedB", "x": "05", "y": "t"}}'
    assert ours(Shared, ["--u._type=SharedB", "--u.x", "05"], fast=True).config == slow.config


@dataclasses.dataclass
class Mse:
    w: float = 1.0


@dataclasses.dataclass
class Huber:
    delta: float = 1.0


@dataclasses.dataclass
class Train:
    tags: list[str] = field(default_factory=list)
    loss_fn: Union[Mse, Huber] = field(default_factory=Mse)  # noqa: UP007
    extra: dict[str, int] = field(default_factory=dict)  # the fast path declines dicts


def test_a_list_before_a_union_choice_stays_a_list() -> None:
    """#28 B: `--tags x --loss_fn._type=Huber` chooses Huber, it is not a list item."""
    want = '{"extra": {}, "loss_fn": {"_type": "Huber", "delta": 1.0}, "tags": ["x"]}'
    for argv in (["--tags", "x", "--loss_fn._type=Huber"], ["--tags=x", "--loss-fn._type", "Huber"],
                 ["--tags", "x", "loss-fn:huber"], ["--tags", "x", "--loss_fn._type=huber"]):
        slow = ours(Train, argv, fast=False)
        assert slow.config == want, argv
        assert slow.provenance is not None and slow.provenance["loss_fn._type"].startswith("cli:"), slow.provenance
    # tyro's own reading of a token it does not know as a choice: a list item, on both paths
    assert check(Train, ["--tags", "x", "loss_fn:huber"]) is None
    assert ours(Train, ["--tags", "x", "loss_fn:huber"], fast=False).config == (
        '{"extra": {}, "loss_fn": {"_type": "Mse", "w": 1.0}, "tags": ["x", "loss_fn:huber"]}'
    )


@dataclasses.dataclass
class InnerC:
    k: int = 0


@dataclasses.dataclass
class InnerD:
    k: int = 0
    m: int = 0


@dataclasses.dataclass
class OuterA:
    x: int = 1


@dataclasses.dataclass
class OuterB:
    v: Union[InnerC, InnerD] = field(default_factory=InnerC)  # noqa: UP007


@dataclasses.dataclass
class Outer:
    u: Union[OuterA, OuterB] = field(default_factory=OuterA)  # noqa: UP007


def test_nested_union_arguments_need_the_inner_choice_on_both_paths() -> None:
    for argv in (["u:outer-b", "--u.v.k", "3"], ["--u._type=OuterB", "--u.v.k=3"],
                 ["u:outer-b", "u.v:inner-d", "--u.v.m", "3"]):
        fast, slow = ours(Outer, argv, fast=True), ours(Outer, argv, fast=False)
        assert disagreement(fast, slow, bare(Outer, argv)) is None, argv
    assert ours(Outer, ["u:outer-b", "--u.v.k", "3"], fast=True).code == 2
    assert ours(Outer, ["u:outer-b", "u.v:inner-d", "--u.v.m", "3"], fast=True).path == "fast"


def test_omitted_on_the_command_line_is_the_string() -> None:
    """`--name OMITTED` means the string; only the tracker pull layers skip the word."""
    cls = _edge_class("str")
    for fast in (True, False):
        got = ours(cls, ["--v", "OMITTED"], fast=fast)
        assert got.config == '{"flag": false, "n": 0, "v": "OMITTED"}'
        assert got.path == ("fast" if fast else "tyro")
    assert check(cls, ["--v=OMITTED", "--flag=yes"]) is None


def test_under_use_underscores_the_choice_is_spelled_with_underscores() -> None:
    """tyro's own token under `use_underscores=True` is `loss_fn:huber`; `--loss_fn._type` is
    rewritten to it, and `loss-fn:huber` after a list is a list item, as tyro reads it."""
    want = '{"extra": {}, "loss_fn": {"_type": "Huber", "delta": 1.0}, "tags": ["x"]}'
    for argv in (["--tags", "x", "--loss_fn._type=Huber"], ["--tags", "x", "loss_fn:huber"]):
        assert ours(Train, argv, fast=False, use_underscores=True).config == want, argv
    argv = ["--tags", "x", "loss-fn:huber"]
    assert ours(Train, argv, fast=False, use_underscores=True).config == bare(Train, argv, use_underscores=True).config


@dataclasses.dataclass
class Flagged:
    x: bool = False
    n: int = 0


def test_markers_on_the_target_itself_are_tyros() -> None:
    """`tyro.conf.FlagConversionOff[Cfg]` makes `--x` take a value: the fast path declines
    (it answered `--x` and `--no-x`, which tyro refuses there)."""
    import tyro

    target = tyro.conf.FlagConversionOff[Flagged]
    for argv in (["--x"], ["--no-x"], ["--x", "True"], ["--x=yes"], ["--n", "2"]):
        fast, slow, oracle = ours(target, argv, fast=True), ours(target, argv, fast=False), bare(target, argv)
        assert disagreement(fast, slow, oracle) is None, argv
        assert fast.path != "fast", argv
    assert ours(target, ["--x"], fast=True).code == 2
    assert ours(target, ["--x", "True", "--n", "2"], fast=True).config == '{"n": 2, "x": true}'
