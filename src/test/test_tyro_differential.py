"""Differential property: over generated config classes and argument lists,
``config_utils.cli(T, args=argv, config_file=None)`` equals ``tyro.cli(T, args=argv)``, or both
exit 2 (docs/cli.md, "Conformance").

The generator builds dataclasses the way tyro users write them — nested configs, unions of
configs (also at the top), Optional, Enum, Literal, tuples, lists, paths, defaults and
factories, required fields, ``__post_init__`` derivations, ``InitVar`` and ``tyro.conf``
markers — and argument lists in tyro's own spellings, good and bad. Only tyro-native
spellings are generated, so wherever tyro refuses, we must refuse too.
"""

from __future__ import annotations

import dataclasses
import enum
import itertools
from dataclasses import InitVar, field
from pathlib import Path
from typing import Any, Literal, Optional, Union

import tyro
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tyro_oracle import both


class Shade(enum.Enum):
    DARK = "dark"
    LIGHT = "light"


_names = itertools.count()


@dataclasses.dataclass
class Leaf:
    """How to write one leaf's value on the command line."""

    tp: Any
    tokens: st.SearchStrategy[list[str]]  # good value tokens (tyro's spelling)
    default: st.SearchStrategy[Any]
    bad: st.SearchStrategy[list[str]] = dataclasses.field(default_factory=lambda: st.just(["zz?"]))
    flag: bool = False  # a bool flag: --x / --no-x, no value


_small_int = st.integers(-50, 50)
_word = st.text("abcxyz", min_size=1, max_size=5)
_float = st.floats(-100, 100, allow_nan=False, width=32)


def _leaves(draw: Any) -> Leaf:
    kind = draw(st.sampled_from(["int", "float", "str", "bool", "enum", "literal", "opt", "tuple", "list", "path"]))
    if kind == "int":
        return Leaf(int, _small_int.map(lambda v: [str(v)]), _small_int, st.sampled_from([["1.5"], ["x"]]))
    if kind == "float":
        return Leaf(float, _float.map(lambda v: [repr(v)]), _float, st.just(["nope"]))
    if kind == "str":
        return Leaf(str, _word.map(lambda v: [v]), _word, st.just([]))
    if kind == "bool":
        return Leaf(bool, st.just([]), st.booleans(), st.just(["maybe"]), flag=True)
    if kind == "enum":
        return Leaf(Shade, st.sampled_from([["DARK"], ["LIGHT"]]), st.sampled_from(list(Shade)), st.just(["dim"]))
    if kind == "literal":
        lit = Literal["fast", "slow"]
        return Leaf(lit, st.sampled_from([["fast"], ["slow"]]), st.sampled_from(["fast", "slow"]), st.just(["medium"]))
    if kind == "opt":
        return Leaf(
            Optional[int],  # noqa: UP045 - the spelling tyro users write
            st.one_of(st.just(["None"]), _small_int.map(lambda v: [str(v)])),
            st.one_of(st.none(), _small_int),
            st.just(["nil?"]),
        )
    if kind == "tuple":
        return Leaf(
            tuple[int, int],
            st.tuples(_small_int, _small_int).map(lambda t: [str(t[0]), str(t[1])]),
            st.tuples(_small_int, _small_int),
            st.just(["1"]),
        )
    if kind == "list":
        return Leaf(
            list[int],
            st.lists(_small_int, min_size=1, max_size=3).map(lambda xs: [str(x) for x in xs]),
            st.lists(_small_int, max_size=3),
            st.just(["a"]),
        )
    return Leaf(Path, _word.map(lambda v: [v]), _word.map(Path), st.just([]))


@dataclasses.dataclass
class Spec:
    """A generated config class and how to address its parts."""

    cls: type
    leaves: dict[str, Leaf]  # field name → leaf
    nested: dict[str, Spec]  # field name → nested config
    unions: dict[str, tuple[Spec, ...]]  # field name → variants
    value_bools: set[str]  # bool fields that take a value (FlagConversionOff / required)


@st.composite
def config_class(draw: Any, depth: int = 0, allow_required: bool = True) -> Spec:
    n = draw(st.integers(1, 4))
    fields: list[tuple[str, Any, Any]] = []
    leaves: dict[str, Leaf] = {}
    nested: dict[str, Spec] = {}
    unions: dict[str, tuple[Spec, ...]] = {}
    value_bools: set[str] = set()
    namespace: dict[str, Any] = {}
    for i in range(n):
        name = f"f{i}"
        roll = draw(st.integers(0, 9)) if depth < 2 else 0
        if roll == 8:
            sub = draw(config_class(depth + 1, allow_required=False))
            nested[name] = sub
            fields.append((name, sub.cls, field(default_factory=sub.cls)))
            continue
        if roll == 9:
            a = draw(config_class(depth + 1, allow_required=False))
            b = draw(config_class(depth + 1, allow_required=False))
            unions[name] = (a, b)
            union_tp = Union[a.cls, b.cls]  # noqa: UP007
            if not allow_required or draw(st.booleans()):
                fields.append((name, union_tp, field(default_factory=a.cls)))
            else:
                fields.append((name, union_tp, field()))
            continue
        leaf = _leaves(draw)
        tp = leaf.tp
        required = allow_required and draw(st.integers(0, 5)) == 0
        if leaf.flag and draw(st.booleans()):
            tp = tyro.conf.FlagConversionOff[bool]
            value_bools.add(name)
        if required and leaf.flag:
            value_bools.add(name)
        if required:
            fields.append((name, tp, field()))
        else:
            default = draw(leaf.default)
            if isinstance(default, list):
                fields.append((name, tp, field(default_factory=lambda d=default: list(d))))
            else:
                fields.append((name, tp, field(default=default)))
        leaves[name] = leaf
    if draw(st.integers(0, 4)) == 0:  # a derived field, as __post_init__ users write
        ints = [n for n, lf in leaves.items() if lf.tp is int]
        if ints:
            src = ints[0]
            fields.append(("derived", int, field(init=False, default=0)))
            if draw(st.booleans()):
                fields.append(("scale", InitVar[int], field(default=2)))

                def post_init(self: Any, scale: int, _src: str = src) -> None:
                    self.derived = getattr(self, _src) * scale
            else:

                def post_init(self: Any, _src: str = src) -> None:  # type: ignore[misc]
                    self.derived = getattr(self, _src) + 1

            namespace["__post_init__"] = post_init
    cls = dataclasses.make_dataclass(f"Gen{next(_names)}", fields, kw_only=True, namespace=namespace)
    return Spec(cls, leaves, nested, unions, value_bools)


def _flag(prefix: str, name: str) -> str:
    return "--" + prefix + name


@st.composite
def arguments(draw: Any, spec: Spec, prefix: str = "") -> list[str]:
    """Arguments for ``spec`` in tyro's spelling; sometimes a bad value or unknown flag."""
    out: list[str] = []
    for name, leaf in spec.leaves.items():
        if not draw(st.integers(0, 2)):
            continue
        flag = _flag(prefix, name)
        if draw(st.integers(0, 12)) == 0:
            out += [flag, *draw(leaf.bad)]
        elif leaf.flag and name not in spec.value_bools:
            out.append(flag if draw(st.booleans()) else _flag(prefix, "no-" + name))
        elif leaf.flag:
            out += [flag, draw(st.sampled_from(["True", "False"]))]
        else:
            out += [flag, *draw(leaf.tokens)]
    for name, sub in spec.nested.items():
        if draw(st.booleans()):
            out += draw(arguments(sub, prefix + name + "."))
    tail: list[str] = []
    for name, variants in spec.unions.items():
        if draw(st.booleans()):
            chosen = draw(st.sampled_from(variants))
            token = f"{prefix}{name}:{_kebab(chosen.cls.__name__)}"
            tail += [token, *draw(arguments(chosen, prefix + name + "."))]
    if draw(st.integers(0, 15)) == 0:
        out.append("--not-a-field")
    return out + tail


def _kebab(name: str) -> str:
    from config_utils.argv import kebab

    return kebab(name)


@st.composite
def targets(draw: Any) -> tuple[Any, list[str]]:
    spec = draw(config_class())
    shape = draw(st.integers(0, 9))
    if shape == 0:
        other = draw(config_class(depth=1))
        variants = (spec, other)
        chosen = draw(st.sampled_from(variants))
        argv = [_kebab(chosen.cls.__name__), *draw(arguments(chosen))] if draw(st.integers(0, 5)) else []
        return Union[spec.cls, other.cls], argv  # noqa: UP007
    if shape == 1:
        return Optional[spec.cls], draw(arguments(spec))  # noqa: UP045
    return spec.cls, draw(arguments(spec))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(targets())
def test_config_utils_cli_equals_tyro_cli(case: tuple[Any, list[str]]) -> None:
    target, argv = case
    theirs, ours = both(target, argv)
    assert theirs.error is None, theirs.error
    assert ours.error is None, ours.error
    if theirs.exit is None:
        assert ours.exit is None, (argv, ours.stderr[-2000:])
        assert ours.value == theirs.value, argv
        assert type(ours.value) is type(theirs.value)
    else:
        assert ours.exit == theirs.exit, (argv, theirs.stderr[-1000:], ours.value)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_default_instance_matches_tyro(data: st.DataObject) -> None:
    spec = data.draw(config_class(allow_required=False))
    base = spec.cls()
    argv = data.draw(arguments(spec))
    theirs, ours = both(spec.cls, argv, default=base)
    if theirs.exit is None:
        assert ours.exit is None, (argv, ours.stderr[-2000:])
        assert ours.value == theirs.value
    else:
        assert ours.exit == theirs.exit, argv
