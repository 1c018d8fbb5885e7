"""configure_submodules (docs/design.md, "Registry"): full call vs partial from the signature, recursion
through containers, shared sub-configs, rebuilt dataclasses, and errors that name the path."""

from __future__ import annotations

import dataclasses
import functools
import subprocess
import sys
from collections import OrderedDict, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, List, NamedTuple, Union  # noqa: UP035 - the seed's spelling

import pytest
import tyro
from tyro.conf import AvoidSubcommands

import config_utils
from config_utils import Registry
from config_utils.errors import InstantiationError

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "tyro_submodules.py"


# ---------------------------------------------------------------- the seed's loss example


@dataclass
class LossModule1Config:
    p1: int
    p2: float


@dataclass
class LossModule2Config:
    p1: int
    p2: float
    p3: List[float]  # noqa: UP006


@dataclass
class LossConfig:
    lam: float
    module: AvoidSubcommands[Union[LossModule1Config, LossModule2Config]]


@dataclass
class TrainConfig:
    loss: LossConfig
    epochs: int = 1


REG = Registry()


@REG.register_with_config
class LossModule1:
    def __init__(self, p1, p2):  # type: ignore[no-untyped-def]
        self.p1 = p1
        self.p2 = p2


@REG.register_with_config
class LossModule2:
    def __init__(self, p1, p2, p3):  # type: ignore[no-untyped-def]
        if not p3:
            raise TypeError("p3 must not be empty")
        self.p1 = p1
        self.p2 = p2
        self.p3 = p3


@REG.register_with_config("LossConfig")
class Loss:
    def __init__(self, lam: float, module: Union[LossModule1, LossModule2]) -> None:
        self.lam = lam
        self.loss_module = module


def test_nested_union_variants_from_the_command_line() -> None:
    cfg = tyro.cli(
        TrainConfig,
        args=["--loss.lam", "0.5", "loss.module:loss-module1-config", "--loss.module.p1", "3",
              "--loss.module.p2", "0.1"],
    )
    train = REG.configure_submodules(cfg)
    assert isinstance(train, TrainConfig)  # unregistered: rebuilt as the same type
    assert isinstance(train.loss, Loss) and train.loss.lam == 0.5
    assert isinstance(train.loss.loss_module, LossModule1)
    assert (train.loss.loss_module.p1, train.loss.loss_module.p2) == (3, 0.1)

    loss_cfg = tyro.cli(
        LossConfig,
        args=["--lam", "0.5", "module:loss-module2-config", "--module.p1", "3",
              "--module.p2", "0.1", "--module.p3", "1", "2", "3"],
    )
    loss = REG.configure_submodules(loss_cfg)
    assert isinstance(loss.loss_module, LossModule2)
    assert loss.loss_module.p3 == [1.0, 2.0, 3.0]


def test_error_inside_a_constructor_names_the_config_path() -> None:
    cfg = TrainConfig(LossConfig(0.5, LossModule2Config(3, 0.1, [])))
    with pytest.raises(InstantiationError) as info:
        REG.configure_submodules(cfg)
    assert str(info.value) == (
        "loss.module: building LossModule2Config -> LossModule2 raised TypeError: "
        "p3 must not be empty"
    )
    assert isinstance(info.value.__cause__, TypeError)
    assert str(info.value.__cause__) == "p3 must not be empty"


def test_error_at_the_root_and_in_containers() -> None:
    with pytest.raises(InstantiationError) as info:
        REG.configure_submodules(LossModule2Config(1, 0.0, []))
    assert str(info.value) == (
        "<root>: building LossModule2Config -> LossModule2 raised TypeError: p3 must not be empty"
    )
    bad = LossModule2Config(1, 0.0, [])
    with pytest.raises(InstantiationError) as info:
        REG.configure_submodules({"heads": [LossModule1Config(1, 0.0), bad], "odd key": bad})
    assert str(info.value).startswith("heads[1]: building LossModule2Config -> LossModule2")
    with pytest.raises(InstantiationError) as info:
        REG.configure_submodules({"odd key": bad})
    assert str(info.value).startswith("['odd key']: building")


def test_example_script_runs_both_variants() -> None:
    one = subprocess.run(
        [sys.executable, str(EXAMPLE), "--lam", "0.5", "module:loss-module1-config",
         "--module.p1", "3", "--module.p2", "0.1"],
        capture_output=True, text=True, timeout=60, cwd=ROOT,
    )
    assert one.returncode == 0, one.stderr
    assert one.stdout.splitlines() == [
        "Loss(lam=0.5, module=LossModule1(p1=3, p2=0.1))",
        "LossModule1(p1=3, p2=0.1)",
    ]
    two = subprocess.run(
        [sys.executable, str(EXAMPLE), "--lam", "0.5", "module:loss-module2-config",
         "--module.p1", "3", "--module.p2", "0.1", "--module.p3", "1", "2", "3"],
        capture_output=True, text=True, timeout=60, cwd=ROOT,
    )
    assert two.returncode == 0, two.stderr
    assert two.stdout.splitlines() == [
        "Loss(lam=0.5, module=LossModule2(p1=3, p2=0.1, p3=[1.0, 2.0, 3.0]))",
        "LossModule2(p1=3, p2=0.1, p3=[1.0, 2.0, 3.0])",
    ]
    # Without the variant, tyro refuses with status 2 and no traceback.
    none = subprocess.run(
        [sys.executable, str(EXAMPLE), "--lam", "0.5", "--module.p1", "3", "--module.p2", "0.1"],
        capture_output=True, text=True, timeout=60, cwd=ROOT,
    )
    assert none.returncode == 2
    assert "Traceback" not in none.stderr and "Unrecognized" in none.stderr + none.stdout


# ---------------------------------------------------------------- full call vs partial


def test_seed_partial_case() -> None:
    reg = Registry()

    @dataclass
    class MyClassConfig:
        a: int
        b: int

    @reg.register_with_config
    class MyClass:
        def __init__(self, a, b, c):  # type: ignore[no-untyped-def]
            self.abc = a + b + c

    built = reg.configure_submodules(MyClassConfig(a=1, b=2))
    assert isinstance(built, functools.partial)
    assert built.func is MyClass and built.keywords == {"a": 1, "b": 2}
    assert built(c=3.).abc == 6.


def test_typeerror_in_a_complete_call_is_not_turned_into_a_partial() -> None:
    reg = Registry()

    @dataclass
    class StrictConfig:
        a: int

    @reg.register_with_config
    class Strict:
        def __init__(self, a: int) -> None:
            raise TypeError("a is wrong")

    with pytest.raises(InstantiationError) as info:
        reg.configure_submodules(StrictConfig(1))
    assert isinstance(info.value.__cause__, TypeError)


def test_functions_with_configs_give_their_return_value_or_a_partial() -> None:
    reg = Registry()

    @dataclass
    class LrConfig:
        base: float
        warmup: int = 0

    @reg.register_with_config("LrConfig")
    def lr_at(base: float, warmup: int, step: int) -> float:
        return base * min(1.0, (step + 1) / (warmup + 1))

    @dataclass
    class SumConfig:
        xs: list[int]

    @reg.register_with_config("SumConfig")
    def total(xs: list[int]) -> int:
        return sum(xs)

    assert reg.configure_submodules(SumConfig([1, 2, 3])) == 6
    schedule = reg.configure_submodules(LrConfig(1.0, warmup=3))
    assert isinstance(schedule, functools.partial)
    assert schedule(step=1) == 0.5


def test_init_false_config_field_is_passed_only_when_accepted() -> None:
    reg = Registry()

    @dataclass
    class AreaConfig:
        w: int
        h: int
        area: int = field(init=False)

        def __post_init__(self) -> None:
            self.area = self.w * self.h

    @reg.register_with_config
    class Area:
        def __init__(self, w: int, h: int, area: int = 0) -> None:
            self.area = area

    @dataclass
    class BoxConfig:
        w: int
        h: int
        area: int = field(init=False)

        def __post_init__(self) -> None:
            self.area = self.w * self.h

    @reg.register_with_config
    class Box:
        def __init__(self, w: int, h: int) -> None:
            self.w, self.h = w, h

    assert reg.configure_submodules(AreaConfig(2, 3)).area == 6
    assert reg.configure_submodules(BoxConfig(2, 3)).w == 2


# ---------------------------------------------------------------- recursion, sharing, rebuilt types


class Pair(NamedTuple):
    left: Any
    right: Any


def test_containers_are_walked_and_rebuilt() -> None:
    cfg: dict[str, Any] = {
        "list": [LossModule1Config(1, 0.0)],
        "tuple": (LossModule1Config(2, 0.0), 5),
        "pair": Pair(LossModule1Config(3, 0.0), "x"),
        "ordered": OrderedDict(a=LossModule1Config(4, 0.0)),
        "default": defaultdict(lambda: None, b=LossModule1Config(5, 0.0)),
        "path": Path("/tmp"),
    }
    out = REG.configure_submodules(cfg)
    assert isinstance(out["list"][0], LossModule1) and out["list"][0].p1 == 1
    assert type(out["tuple"]) is tuple and out["tuple"][0].p1 == 2 and out["tuple"][1] == 5
    assert type(out["pair"]) is Pair and out["pair"].left.p1 == 3
    assert type(out["ordered"]) is OrderedDict and out["ordered"]["a"].p1 == 4
    assert type(out["default"]) is defaultdict and out["default"].default_factory is cfg["default"].default_factory
    assert out["default"]["b"].p1 == 5
    assert out["path"] == Path("/tmp")
    assert isinstance(cfg["list"][0], LossModule1Config)  # the input is not modified


def test_shared_sub_config_builds_one_shared_object() -> None:
    shared = LossModule1Config(1, 0.5)

    @dataclass
    class TwoLosses:
        a: LossConfig
        b: LossConfig

    out = REG.configure_submodules(TwoLosses(LossConfig(1.0, shared), LossConfig(2.0, shared)))
    assert out.a.loss_module is out.b.loss_module
    equal_but_distinct = REG.configure_submodules(
        [LossModule1Config(1, 0.5), LossModule1Config(1, 0.5)]
    )
    assert equal_but_distinct[0] is not equal_but_distinct[1]


def test_cycle_is_reported() -> None:
    @dataclass
    class Node:
        children: list[Any]

    root = Node([])
    root.children.append(root)
    with pytest.raises(InstantiationError) as info:
        Registry().configure_submodules(root)
    assert str(info.value) == (
        "children[0]: the config contains itself (a cycle); configure_submodules needs a tree"
    )


def test_unregistered_dataclasses_keep_type_init_false_and_frozen() -> None:
    calls = []

    @dataclass(frozen=True)
    class Frozen:
        module: Any
        scale: float = 1.0
        derived: float = field(init=False)

        def __post_init__(self) -> None:
            calls.append(1)
            object.__setattr__(self, "derived", self.scale * 2)

    @dataclass(slots=True)
    class Slotted:
        module: Any
        tag: str = "s"

    cfg = Frozen(LossModule1Config(1, 0.0), 3.0)
    calls.clear()
    out = REG.configure_submodules(cfg)
    assert type(out) is Frozen and out is not cfg
    assert isinstance(out.module, LossModule1)
    assert out.derived == 6.0 and out.scale == 3.0
    assert calls == []  # __post_init__ already ran when the config was made
    with pytest.raises(dataclasses.FrozenInstanceError):
        out.scale = 2.0  # type: ignore[misc]

    slotted = REG.configure_submodules(Slotted(LossModule1Config(2, 0.0)))
    assert type(slotted) is Slotted and slotted.module.p1 == 2 and slotted.tag == "s"


def test_instantiate_false_config_is_left_as_it_is_inside_a_tree() -> None:
    reg = Registry()

    @dataclass
    class DataConfig:
        root: str
        inner: LossModule1Config

    @reg.register_with_config(instantiate=False)
    class Data:
        def __init__(self, root: str, inner: Any) -> None:
            raise AssertionError("must not be built")

    reg.register_with_config(LossModule1Config)(LossModule1)
    data = DataConfig("/data", LossModule1Config(1, 0.0))
    out = reg.configure_submodules({"data": data, "loss": LossModule1Config(2, 0.0)})
    assert out["data"] is data
    assert isinstance(out["data"].inner, LossModule1Config)
    assert isinstance(out["loss"], LossModule1)


def test_registration_after_a_build_takes_effect() -> None:
    reg = Registry()

    @dataclass
    class LateConfig:
        n: int

    assert reg.configure_submodules(LateConfig(1)) == LateConfig(1)  # unregistered: rebuilt

    @reg.register_with_config
    class Late:
        def __init__(self, n: int) -> None:
            self.n = n

    assert isinstance(reg.configure_submodules(LateConfig(1)), Late)


def test_package_level_configure_submodules_uses_the_default_registry() -> None:
    from config_utils.registry import registry

    assert config_utils.configure_submodules([1, "a", None]) == [1, "a", None]
    assert config_utils.registry is registry
