"""The registry (docs/design.md, "Registry"): the seed API verbatim, per-instance state, every registration
form, lookups, and the errors users meet when they get a name or a field wrong."""

from __future__ import annotations

import dataclasses
import inspect
import linecache
import sys
import types
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import tyro

import config_utils
from config_utils import Registry
from config_utils.errors import (
    DuplicateNameError,
    RegistryError,
    SignatureError,
    UnknownNameError,
)
from config_utils.registry import registry as default_registry

HERE = __file__


def where(obj: Any) -> str:
    """``file:line`` as the registry prints it."""
    code = getattr(obj, "__code__", None)
    if code is not None:
        return f"{code.co_filename}:{code.co_firstlineno}"
    return f"{inspect.getsourcefile(obj)}:{inspect.findsource(obj)[1] + 1}"


def describe(obj: Any) -> str:
    return f"{obj.__module__}.{obj.__qualname__} ({where(obj)})"


@pytest.fixture
def clean_default_registry() -> Iterator[Registry]:
    """Run a test against an empty default registry and give back its previous contents."""
    saved = {k: v for k, v in vars(default_registry).items()}
    for key, value in saved.items():
        setattr(default_registry, key, type(value)())
    try:
        yield default_registry
    finally:
        for key, value in saved.items():
            setattr(default_registry, key, value)


def make_module(name: str, source: str) -> types.ModuleType:
    """A real module object (in sys.modules) whose classes have that module's name."""
    module = types.ModuleType(name)
    module.__file__ = f"<{name}>"
    sys.modules[name] = module
    # Let inspect find the source, as it would for a module on disk.
    linecache.cache[f"<{name}>"] = (len(source), None, source.splitlines(True), f"<{name}>")
    exec(compile(source, f"<{name}>", "exec"), vars(module))
    return module


# ---------------------------------------------------------------- the seed README, verbatim


def test_seed_readme_snippets_verbatim(
    clean_default_registry: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "argv", ["train.py", "--p1", "3", "--p2", "0.5"])

    from config_utils.registry import registry

    @registry.register
    class SomeObject:
        ...

    class_object = registry._clsname2cls['SomeObject']

    from dataclasses import dataclass

    @dataclass
    class LossModule1Config:
        p1: int
        p2: float

    @registry.register_with_config
    class LossModule1:
        def __init__(
                self,
                p1,
                p2,
        ):
            self.p1 = p1
            self.p2 = p2

    loss_config = tyro.cli(LossModule1Config)
    loss_module = registry.configure_submodules(loss_config)

    assert class_object is SomeObject
    assert isinstance(loss_module, LossModule1)
    assert (loss_module.p1, loss_module.p2) == (3, 0.5)
    assert registry._cfgname2cfg == {"LossModule1Config": LossModule1Config}
    assert registry._cfgname2clsname == {"LossModule1Config": "LossModule1"}
    assert registry._clsname2cfgname == {"LossModule1": "LossModule1Config"}
    # The package-level helper uses the same default registry.
    assert isinstance(config_utils.configure_submodules(LossModule1Config(1, 2.0)), LossModule1)


def test_registries_are_independent() -> None:
    a, b = Registry(), Registry()

    @a.register
    class Thing:
        pass

    assert a._clsname2cls == {"Thing": Thing}
    assert b._clsname2cls == {}
    for attr in ("_clsname2cls", "_cfgname2cfg", "_cfgname2clsname", "_clsname2cfgname"):
        assert attr in vars(a), f"{attr} must be per instance"
        assert not hasattr(Registry, attr), f"{attr} must not be shared at class level"
    assert "Thing" in a and "Thing" not in b


def test_register_functions_and_other_names() -> None:
    reg = Registry()

    @reg.register
    def build_head(width: int) -> str:
        return f"head{width}"

    @reg.register(name="tail")
    def build_tail() -> str:
        return "tail"

    @reg.register("alias")
    class Body:
        pass

    assert reg.get("build_head") is build_head
    assert reg.get("tail") is build_tail
    assert reg.get("alias") is Body
    assert build_head(3) == "head3"  # the decorator returns the object unchanged


# ---------------------------------------------------------------- register_with_config forms


@dataclass
class ModuleLevelConfig:
    width: int


MODULE_REG = Registry()


@MODULE_REG.register_with_config
class ModuleLevel:
    def __init__(self, width: int) -> None:
        self.width = width


def test_bare_form_at_module_level() -> None:
    assert MODULE_REG.config_for(ModuleLevel) is ModuleLevelConfig
    assert MODULE_REG.configure_submodules(ModuleLevelConfig(4)).width == 4


def test_bare_form_inside_a_function_uses_the_callers_locals() -> None:
    reg = Registry()

    @dataclass
    class EncoderConfig:
        depth: int

    @reg.register_with_config
    class Encoder:
        def __init__(self, depth: int) -> None:
            self.depth = depth

    assert reg.config_for("Encoder") is EncoderConfig
    assert reg.configure_submodules(EncoderConfig(2)).depth == 2


def test_bare_form_falls_back_to_the_targets_module() -> None:
    module = make_module(
        "flows_test_mod_a",
        "from dataclasses import dataclass\n"
        "@dataclass\n"
        "class DecoderConfig:\n"
        "    depth: int\n"
        "class Decoder:\n"
        "    def __init__(self, depth):\n"
        "        self.depth = depth\n",
    )
    reg = Registry()
    reg.register_with_config(module.Decoder)  # called from here, where DecoderConfig is unknown
    assert reg.config_for(module.Decoder) is module.DecoderConfig


def test_config_by_name_by_class_and_by_keyword() -> None:
    reg = Registry()

    @dataclass
    class HeadSettings:
        n: int

    @dataclass
    class TailConfig:
        n: int

    @dataclass
    class NeckConfig:
        n: int

    @reg.register_with_config("HeadSettings")
    class Head:
        def __init__(self, n: int) -> None:
            self.n = n

    @reg.register_with_config(TailConfig)
    class Tail:
        def __init__(self, n: int) -> None:
            self.n = n

    @reg.register_with_config(config=NeckConfig, name="neck")
    class Neck:
        def __init__(self, n: int) -> None:
            self.n = n

    assert reg.config_for(Head) is HeadSettings
    assert reg.config_for(Tail) is TailConfig
    assert reg.config_for("neck") is NeckConfig
    assert reg.get("neck") is Neck
    assert reg._cfgname2clsname["NeckConfig"] == "neck"


def test_function_registered_with_a_config_name_returns_its_value() -> None:
    reg = Registry()

    @dataclass
    class ScheduleConfig:
        start: float
        factor: float = 0.5

    @reg.register_with_config("ScheduleConfig")
    def make_schedule(start: float, factor: float) -> list[float]:
        return [start, start * factor, start * factor * factor]

    assert reg.configure_submodules(ScheduleConfig(1.0)) == [1.0, 0.5, 0.25]
    assert reg.target_for(ScheduleConfig) is make_schedule


def test_instantiate_false_registers_but_leaves_the_config() -> None:
    reg = Registry()

    @dataclass
    class DataConfig:
        path: str

    @reg.register_with_config(instantiate=False)
    class Data:
        def __init__(self, path: str) -> None:
            self.path = path

    cfg = DataConfig("/data")
    assert reg.configure_submodules(cfg) is cfg
    assert reg.config_for(Data) is DataConfig
    assert reg._no_instantiate == {"DataConfig"}


def test_dataclass_target_is_not_mistaken_for_a_config() -> None:
    reg = Registry()

    @dataclass
    class PointConfig:
        x: int

    @reg.register_with_config
    @dataclass
    class Point:
        x: int

    assert reg.configure_submodules(PointConfig(1)) == Point(1)


def test_target_taking_kwargs_accepts_any_field() -> None:
    reg = Registry()

    @dataclass
    class AnyConfig:
        whatever: int
        other: str

    @reg.register_with_config(AnyConfig)
    class Anything:
        def __init__(self, **kwargs: Any) -> None:
            self.kwargs = kwargs

    assert reg.configure_submodules(AnyConfig(1, "x")).kwargs == {"whatever": 1, "other": "x"}


# ---------------------------------------------------------------- lookups


def lookup_registry() -> tuple[Registry, type, type, type]:
    reg = Registry()

    @dataclass
    class LossModule2Config:
        p1: int

    @reg.register_with_config
    class LossModule2:
        def __init__(self, p1: int) -> None:
            self.p1 = p1

    @reg.register
    class Plain:
        pass

    return reg, LossModule2Config, LossModule2, Plain


def test_lookups() -> None:
    reg, cfg, target, plain = lookup_registry()
    assert reg.get("LossModule2") is target
    assert reg.config_for(target) is cfg
    assert reg.config_for("LossModule2") is cfg
    assert reg.target_for(cfg) is target
    assert reg.target_for(cfg(1)) is target
    assert reg.target_for("LossModule2Config") is target
    assert reg.target_for("LossModule2") is target
    assert reg.config_by_name("LossModule2Config") is cfg
    assert reg.config_by_name("LossModule2") is cfg
    assert reg.target_name_for_config(cfg) == "LossModule2"
    assert reg.get("Plain") is plain

    @dataclass
    class LossModule2Config:  # same name, different class: not the registered one
        p1: int

    assert reg.target_name_for_config(LossModule2Config) is None
    assert reg.target_name_for_config(int) is None


def test_unknown_name_lists_closest_and_the_import_hint() -> None:
    reg, cfg, target, plain = lookup_registry()
    with pytest.raises(UnknownNameError) as info:
        reg.get("LossModul2")
    assert str(info.value) == (
        "unknown name 'LossModul2' (did you mean 'LossModule2'?); the module that registers it "
        "may not have been imported (registered: LossModule2, Plain)"
    )
    assert isinstance(info.value, KeyError)
    with pytest.raises(KeyError):  # `except KeyError` keeps working
        reg.get("nothing-like-it")
    with pytest.raises(UnknownNameError) as info:
        Registry().get("x")
    assert str(info.value) == (
        "unknown name 'x'; the module that registers it may not have been imported "
        "(nothing is registered yet)"
    )


def test_unknown_config_and_target_lookups() -> None:
    reg, cfg, target, plain = lookup_registry()
    with pytest.raises(UnknownNameError) as info:
        reg.config_by_name("LossModule3Config")
    assert str(info.value) == (
        "unknown config 'LossModule3Config' (did you mean 'LossModule2Config' or "
        "'LossModule2'?); the module "
        "that registers it may not have been imported (registered: LossModule2, "
        "LossModule2Config)"
    )
    with pytest.raises(UnknownNameError) as info:
        reg.target_for("LossModule2Cfg")
    assert str(info.value) == (
        "unknown config 'LossModule2Cfg' (did you mean 'LossModule2Config'?); the module that "
        "registers it may not have been imported (registered: LossModule2Config)"
    )
    with pytest.raises(UnknownNameError) as info:
        reg.config_for("Plain")
    assert str(info.value) == (
        "'Plain' is registered without a config; link one with "
        "@registry.register_with_config or registry.make_config"
    )
    with pytest.raises(UnknownNameError) as info:
        reg.get("LossModule2Config")
    assert str(info.value) == (
        "'LossModule2Config' is a config name, not a registered target; its target is "
        "'LossModule2' (registry.target_for('LossModule2Config'))"
    )


# ---------------------------------------------------------------- registration errors


def test_missing_config_class_is_reported_with_did_you_mean() -> None:
    reg = Registry()

    @dataclass
    class LossModul3Config:
        p1: int

    class LossModule3:
        def __init__(self, p1: int) -> None:
            pass

    with pytest.raises(UnknownNameError) as info:
        reg.register_with_config(LossModule3)
    assert str(info.value) == (
        f"register_with_config: no config dataclass 'LossModule3Config' for "
        f"{describe(LossModule3)} (did you mean 'LossModul3Config' or 'ModuleLevelConfig'?); "
        "define it before the "
        "decorated object, or pass it: @registry.register_with_config(TheConfig)"
    )
    assert reg._clsname2cls == {}


def test_config_that_is_not_a_dataclass() -> None:
    reg = Registry()

    class NetConfig:
        width = 3

    class Net:
        pass

    with pytest.raises(RegistryError) as info:
        reg.register_with_config(Net)
    assert str(info.value) == (
        f"register_with_config: 'NetConfig' (for {describe(Net)}) is type {NetConfig!r}, "
        "not a dataclass; a config must be a @dataclass"
    )


def test_field_the_target_cannot_take_is_an_error_at_registration() -> None:
    reg = Registry()

    @dataclass
    class LossModule2Config:
        p1: int
        p_3: list[float]

    class LossModule2:
        def __init__(self, p1: int, p2: float = 0.0, p3: list[float] | None = None) -> None:
            pass

    with pytest.raises(SignatureError) as info:
        reg.register_with_config(LossModule2)
    assert str(info.value) == (
        f"config field {LossModule2Config.__qualname__}.p_3 ({where(LossModule2Config)}) is "
        f"not a parameter of LossModule2 (did you mean 'p3'?); LossModule2 "
        f"({where(LossModule2)}) accepts: p1, p2, p3"
    )
    # Nothing was registered by the failed call.
    assert reg._clsname2cls == {} and reg._cfgname2cfg == {}


def test_positional_only_parameter_cannot_come_from_a_config() -> None:
    reg = Registry()

    @dataclass
    class ScaleConfig:
        x: float

    def scale(x: float, /, factor: float = 2.0) -> float:
        return x * factor

    with pytest.raises(SignatureError) as info:
        reg.register_with_config("ScaleConfig")(scale)
    assert str(info.value) == (
        f"config field {ScaleConfig.__qualname__}.x ({where(ScaleConfig)}) is a "
        f"positional-only parameter of scale, which a config cannot pass; scale "
        f"({where(scale)}) accepts: factor"
    )


def test_duplicate_name_names_both_definitions() -> None:
    reg = Registry()
    first = make_module("flows_test_dup_one", "class Model:\n    pass\n").Model
    second = make_module("flows_test_dup_two", "\n\nclass Model:\n    pass\n").Model
    reg.register(first)
    with pytest.raises(DuplicateNameError) as info:
        reg.register(second)
    assert str(info.value) == (
        "'Model' is already registered to flows_test_dup_one.Model (<flows_test_dup_one>:1); "
        "refusing flows_test_dup_two.Model (<flows_test_dup_two>:3). Register it under "
        "another name (name=...) or pass replace=True"
    )
    assert reg.get("Model") is first
    reg.register(second, replace=True)
    assert reg.get("Model") is second
    reg.register(first, name="Model1")
    assert reg.get("Model1") is first


def test_duplicate_config_name_and_config_linked_twice() -> None:
    reg = Registry()

    @dataclass
    class SharedConfig:
        n: int

    @reg.register_with_config("SharedConfig")
    def one(n: int) -> int:
        return n

    def two(n: int) -> int:
        return -n

    with pytest.raises(DuplicateNameError) as info:
        reg.register_with_config("SharedConfig")(two)
    assert str(info.value) == (
        f"config 'SharedConfig' is already linked to 'one' ({describe(one)}); a config "
        "builds one target, so it cannot also build 'two'. Give it its own config class or "
        "pass replace=True"
    )
    assert reg.configure_submodules(SharedConfig(3)) == 3
    reg.register_with_config("SharedConfig", replace=True)(two)
    assert reg.configure_submodules(SharedConfig(3)) == -3
    assert reg._clsname2cfgname == {"two": "SharedConfig"}

    other = make_module(
        "flows_test_dup_cfg",
        "from dataclasses import dataclass\n@dataclass\nclass SharedConfig:\n    n: int\n",
    ).SharedConfig

    def three(n: int) -> int:
        return n

    with pytest.raises(DuplicateNameError) as info:
        reg.register_with_config(other)(three)
    assert str(info.value) == (
        f"config name 'SharedConfig' is already registered to {describe(SharedConfig)}; "
        "refusing flows_test_dup_cfg.SharedConfig (<flows_test_dup_cfg>:2). Rename one of "
        "them or pass replace=True"
    )


def test_reregistering_the_same_qualname_replaces_silently() -> None:
    """A module reload or a re-run notebook cell defines new objects with the same name."""
    source = (
        "from dataclasses import dataclass\n"
        "from config_utils import Registry\n"
        "@dataclass\n"
        "class BlockConfig:\n"
        "    n: int\n"
        "def register(reg):\n"
        "    @reg.register_with_config\n"
        "    class Block:\n"
        "        def __init__(self, n):\n"
        "            self.n = n\n"
        "    return Block\n"
    )
    reg = Registry()
    old = make_module("flows_test_reload", source)
    old_block = old.register(reg)
    new = make_module("flows_test_reload", source)  # "reload"
    new_block = new.register(reg)
    assert new_block is not old_block
    assert reg.get("Block") is new_block
    assert reg.config_for("Block") is new.BlockConfig
    built = reg.configure_submodules(new.BlockConfig(2))
    assert isinstance(built, new_block)


# ---------------------------------------------------------------- make_config


class Optimizer:
    """Plain SGD with momentum.

    Args:
        lr: learning rate,
            per step.
        momentum (float): momentum factor
    """

    def __init__(
        self, lr: float, momentum: float = 0.9, betas: list[float] = [0.9, 0.99], *, steps: int  # noqa: B006
    ) -> None:
        self.lr, self.momentum, self.betas, self.steps = lr, momentum, betas, steps


def numpy_style(width: int, depth: int = 2) -> tuple[int, int]:
    """Build a grid.

    Parameters
    ----------
    width : int
        Cells per row.
    depth : int
        Rows.
    """
    return width, depth


def sphinx_style(alpha: float = 0.5) -> float:
    """Smooth.

    :param alpha: smoothing factor
    """
    return alpha


def test_make_config_mirrors_the_signature() -> None:
    reg = Registry()
    cfg = reg.make_config(Optimizer)
    assert cfg.__name__ == "OptimizerConfig"
    assert cfg.__module__ == __name__
    fields = {f.name: f for f in dataclasses.fields(cfg)}
    assert list(fields) == ["lr", "momentum", "betas", "steps"]
    assert fields["lr"].type is float and fields["lr"].default is dataclasses.MISSING
    assert fields["momentum"].default == 0.9
    assert fields["betas"].default_factory() == [0.9, 0.99]  # type: ignore[misc, operator]
    assert fields["steps"].kw_only is True
    assert fields["lr"].metadata["help"] == "learning rate, per step."
    assert fields["momentum"].metadata["help"] == "momentum factor"
    assert reg.config_for(Optimizer) is cfg
    built = reg.configure_submodules(cfg(lr=0.1, steps=10))
    assert (built.lr, built.momentum, built.betas, built.steps) == (0.1, 0.9, [0.9, 0.99], 10)


def test_make_config_help_reaches_tyro(capsys: pytest.CaptureFixture[str]) -> None:
    reg = Registry()
    cfg = reg.make_config(Optimizer, name="OptConfig")
    assert cfg.__name__ == "OptConfig"
    with pytest.raises(SystemExit):
        tyro.cli(cfg, args=["--help"])
    out = capsys.readouterr().out
    assert "learning rate, per step." in out and "momentum factor" in out
    assert tyro.cli(cfg, args=["--lr", "0.5", "--steps", "3"]) == cfg(lr=0.5, steps=3)


def test_make_config_reads_numpy_and_sphinx_docstrings() -> None:
    reg = Registry()
    grid = reg.make_config(numpy_style)
    smooth = reg.make_config(sphinx_style)
    helps = {f.name: f.metadata.get("help") for f in dataclasses.fields(grid)}
    assert helps == {"width": "Cells per row.", "depth": "Rows."}
    assert dataclasses.fields(smooth)[0].metadata["help"] == "smoothing factor"
    assert reg.configure_submodules(grid(width=3)) == (3, 2)
    assert config_utils.make_config is not None


def test_default_make_config_helper(clean_default_registry: Registry) -> None:
    cfg = config_utils.make_config(sphinx_style)
    assert clean_default_registry.config_for(sphinx_style) is cfg
    assert config_utils.configure_submodules(cfg(alpha=0.25)) == 0.25


# --- pytorch-flows' own spellings (nishi951/pytorch-flows, src/config_utils/registry.py) ------


def test_upstream_config_name_keyword_and_instantiate_false() -> None:
    """Upstream names a config explicitly only through ``config_name=``; with
    ``instantiate=False`` the config stays a config (upstream never honoured that flag)."""
    reg = Registry()

    @dataclass
    class LossConfig:
        weight: float = 1.0

    @reg.register_with_config(config_name="LossConfig", instantiate=False)
    class WeightedLoss:
        def __init__(self, weight: float) -> None:
            self.weight = weight

    @dataclass
    class ScaleSettings:
        factor: int = 2

    @reg.register_with_config(config_name="ScaleSettings")
    def scale(factor: int) -> int:
        return 10 * factor

    @dataclass
    class Experiment:
        loss: LossConfig = dataclasses.field(default_factory=LossConfig)
        scale: ScaleSettings = dataclasses.field(default_factory=ScaleSettings)

    built = reg.configure_submodules(Experiment())
    assert built.loss == LossConfig(weight=1.0)  # left as it is
    assert built.scale == 20
    assert reg.config_for(WeightedLoss) is LossConfig
    assert reg._clsname2cfgname == {"WeightedLoss": "LossConfig", "scale": "ScaleSettings"}


def test_upstream_partial_and_full_registration() -> None:
    """Upstream's partial-registration test, in this project's words: a config lacking a
    required argument builds a ``functools.partial``; a complete one builds the object."""
    import functools

    reg = Registry()

    @dataclass
    class ProductConfig:
        a: int
        b: int

    @reg.register_with_config
    class Product:
        def __init__(self, a: int, b: int, c: float) -> None:
            self.value = a * b * c

    @dataclass
    class Holder:
        product: ProductConfig

    made = reg.configure_submodules(Holder(product=ProductConfig(a=2, b=3)))
    assert isinstance(made.product, functools.partial)
    assert made.product(c=0.5).value == 3.0


def test_upstream_class_name_is_an_alias_with_per_instance_state() -> None:
    from config_utils.registry import Registry as Current
    from config_utils.registry import _Registry

    assert _Registry is Current
    first, second = _Registry(), _Registry()

    @first.register
    class OnlyInFirst:
        pass

    assert "OnlyInFirst" in first
    assert "OnlyInFirst" not in second  # upstream shared state between instances; not here


def test_config_name_given_twice_or_not_a_name() -> None:
    reg = Registry()

    @dataclass
    class TwiceConfig:
        x: int = 1

    with pytest.raises(RegistryError, match=r"^register_with_config: the config was given twice \("
                       r"config=<class .*TwiceConfig'> and config_name='TwiceConfig'\); pass it once$"):
        reg.register_with_config(config=TwiceConfig, config_name="TwiceConfig")
    with pytest.raises(RegistryError, match=r"^register_with_config: the config was given twice "
                       r"\('TwiceConfig' and config_name='TwiceConfig'\); pass it once$"):
        reg.register_with_config("TwiceConfig", config_name="TwiceConfig")
    with pytest.raises(RegistryError, match=r"^register_with_config: config_name must be the config "
                       r"class's name, got <class .*TwiceConfig'>; pass a class as config=...$"):
        reg.register_with_config(config_name=TwiceConfig)  # type: ignore[arg-type]
