"""Layering (docs/design.md, "Layers and provenance"): later layers override earlier ones key
by key, every leaf records its source, ``_type`` picks a union variant, and unknown keys get a message that helps.
"""

from __future__ import annotations

import warnings
from typing import Any

import pytest
from cli_configs import (
    LossModule1Config,
    LossModule2Config,
    OptimConfig,
    Required,
    TrainConfig,
    WithOptional,
)

from config_utils.errors import ConversionError, UnknownKeyError
from config_utils.layers import Layer, RawValue, from_primitives, merge
from config_utils.tree import to_primitives


def layer(source: str, values: dict[str, Any], *, lenient: bool = False, text: bool = True) -> Layer:
    return Layer(source, {k: RawValue(v, f"{source}", text=text) for k, v in values.items()}, lenient=lenient)


def test_each_layer_overrides_the_previous_and_provenance_names_it() -> None:
    file = Layer("defaults.ini", {
        "seed": RawValue("1", "defaults.ini:2"),
        "optim.lr": RawValue("0.1", "defaults.ini:3"),
        "model.hidden": RawValue("64", "defaults.ini:5"),
    })
    run = layer("run:runs/a", {"optim.lr": 0.2, "model.dims": [1, 2]}, text=False)
    cfg, prov = merge(TrainConfig, [file, run])
    assert (cfg.seed, cfg.optim.lr, cfg.model.hidden, cfg.model.dims) == (1, 0.2, 64, [1, 2])
    assert prov["seed"] == "defaults.ini:2"
    assert prov["optim.lr"] == "run:runs/a"
    assert prov["model.hidden"] == "defaults.ini:5"
    assert prov["model.dims"] == "run:runs/a"
    assert prov["name"] == "default"
    assert prov["loss.module._type"] == "default"
    assert set(prov) == {
        "name", "seed", "out", "level", "tag", "model.hidden", "model.use_bias", "model.dims", "model.color",
        "optim.lr", "optim.betas", "optim.name", "loss.lam", "loss.module._type", "loss.module.p1", "loss.module.p2",
    }


def test_variant_by_class_name_or_registered_name() -> None:
    for name in ("LossModule2Config", "LossModule2", "loss-module2", "lossmodule2"):
        cfg, prov = merge(TrainConfig, [layer("f.ini:9", {"loss.module._type": name, "loss.module.p3": "1 2"})])
        assert cfg.loss.module == LossModule2Config(p3=[1.0, 2.0]), name
        assert prov["loss.module._type"] == "f.ini:9"
        assert prov["loss.module.p3"] == "f.ini:9"


def test_a_later_variant_choice_drops_keys_the_new_variant_lacks() -> None:
    low = layer("a.ini:1", {"loss.module._type": "LossModule2", "loss.module.p3": "5", "loss.module.p1": "7"})
    high = layer("run:r", {"loss.module._type": "LossModule1Config"}, text=False)
    cfg, prov = merge(TrainConfig, [low, high])
    assert cfg.loss.module == LossModule1Config(p1=7)
    assert prov["loss.module._type"] == "run:r"
    assert prov["loss.module.p1"] == "a.ini:1"
    assert "loss.module.p3" not in prov


def test_required_fields_may_come_from_any_layer() -> None:
    cfg, prov = merge(Required, [layer("defaults.ini:1", {"steps": "10"})])
    assert cfg.steps == 10 and prov["steps"] == "defaults.ini:1"
    cfg, prov = merge(Required, [layer("run:r", {"steps": 11}, text=False)])
    assert cfg.steps == 11 and prov["steps"] == "run:r"
    with pytest.raises(ConversionError) as exc:
        merge(Required, [])
    assert str(exc.value) == "missing required key 'steps'"
    sentinel = object()
    cfg, prov = merge(Required, [], missing=sentinel)
    assert cfg.steps is sentinel and "steps" not in prov


def test_optional_sub_config_set_to_none_by_a_file() -> None:
    cfg, prov = merge(WithOptional, [layer("f.ini:2", {"model": "None"})])
    assert cfg.model is None and prov["model"] == "f.ini:2"
    assert cfg.extra is None and prov["extra"] == "default"
    cfg, prov = merge(WithOptional, [layer("f.ini:3", {"extra.lr": "0.5"})])
    assert cfg.extra == OptimConfig(lr=0.5) and prov["extra.lr"] == "f.ini:3"


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"optim.lrr": "1"}, "f.ini:3: unknown key 'optim.lrr' (did you mean 'optim.lr', 'optim.name' or 'optim.betas'?)"),
        ({"lr": "1"}, "f.ini:3: unknown key 'lr' (did you mean 'optim.lr'?)"),
        ({"model.lr": "1"}, "f.ini:3: unknown key 'model.lr' (did you mean 'optim.lr'?)"),
        ({"modle.hidden": "1"}, "f.ini:3: unknown key 'modle.hidden' (did you mean 'model.hidden'?)"),
        ({"model.hidden.x": "1"}, "f.ini:3: unknown key 'model.hidden.x' (did you mean 'model.hidden'?)"),
        ({"zzz.qqq": "1"}, "f.ini:3: unknown key 'zzz.qqq'"),
        ({"loss.module.p3": "1"},
         "f.ini:3: unknown key 'loss.module.p3': 'loss.module' is LossModule1Config (from default), which has "
         "no 'p3'; LossModule2Config has it (set loss.module._type = LossModule2Config)"),
        ({"loss.module._type": "LossModule2", "loss.module.p9": "1"},
         "f.ini:3: unknown key 'loss.module.p9' (did you mean 'loss.module.p3', 'loss.module.p2' or 'loss.module.p1'?)"),
        ({"seed._type": "X"}, "f.ini:3: seed._type: 'seed' is not a union-typed field"),
    ],
)
def test_unknown_keys(values: dict[str, str], message: str) -> None:
    with pytest.raises(UnknownKeyError) as exc:
        merge(TrainConfig, [layer("f.ini:3", values)])
    assert str(exc.value) == message


def test_key_of_another_variant_names_the_layer_that_chose_the_current_one() -> None:
    low = layer("defaults.ini:4", {"loss.module._type": "LossModule1"})
    high = layer("run:r", {"loss.module.p3": [1]}, text=False)
    with pytest.raises(UnknownKeyError) as exc:
        merge(TrainConfig, [low, high])
    assert str(exc.value) == (
        "run:r: unknown key 'loss.module.p3': 'loss.module' is LossModule1Config (from defaults.ini:4), "
        "which has no 'p3'; LossModule2Config has it (set loss.module._type = LossModule2Config)"
    )


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"model.hidden": "wide"}, "f.ini:3: model.hidden: expected int, got 'wide'"),
        ({"level": "MEDIUM"}, "f.ini:3: level: expected Level (one of: LOW, HIGH), got 'MEDIUM'"),
        ({"optim.name": "rmsprop"}, "f.ini:3: optim.name: expected Literal['adam', 'sgd'], got 'rmsprop'"),
        ({"loss.module._type": "LossModule3"},
         "f.ini:3: loss.module._type: expected one of LossModule1Config, LossModule1, LossModule2Config, "
         "LossModule2, got 'LossModule3' (did you mean 'LossModule2', 'LossModule1' or 'LossModule2Config'?)"),
    ],
)
def test_bad_values_name_layer_key_type_and_value(values: dict[str, str], message: str) -> None:
    with pytest.raises(ConversionError) as exc:
        merge(TrainConfig, [layer("f.ini:3", values)])
    assert str(exc.value) == message


def test_unknown_run_keys_warn_and_are_ignored_unless_strict() -> None:
    run = layer("run:old", {"old_key": 1, "seed": 5}, lenient=True, text=False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        cfg, prov = merge(TrainConfig, [run])
    assert [str(w.message) for w in caught] == ["run:old: unknown key 'old_key' (ignored)"]
    assert cfg.seed == 5 and prov["seed"] == "run:old"
    with pytest.raises(UnknownKeyError) as exc:
        merge(TrainConfig, [run], strict=True)
    assert str(exc.value) == "run:old: unknown key 'old_key'"


def test_omitted_is_plain_text_to_the_layers() -> None:
    """Only the tracker pulls skip ``OMITTED`` (sources/previous.py); to merging it is a
    string like any other, whatever layer gives it (docs/design.md, "Layers and provenance")."""
    low = layer("defaults.ini:1", {"name": "keep"})
    high = layer("run:x", {"name": "OMITTED", "seed": 3}, text=False)
    cfg, prov = merge(TrainConfig, [low, high])
    assert cfg.name == "OMITTED" and prov["name"] == "run:x" and cfg.seed == 3


def test_primitives_round_trip_keeps_variants() -> None:
    cfg = TrainConfig(name=" 'odd' ", tag="None")
    cfg.loss.module = LossModule2Config(p1=3, p3=[0.5])
    nested = to_primitives(cfg)
    assert nested["loss"]["module"]["_type"] == "LossModule2Config"
    assert from_primitives(TrainConfig, nested, where="run:x") == cfg


def test_defaults_are_not_shared_between_results() -> None:
    a, _ = merge(TrainConfig, [])
    a.model.dims.append(9)
    b, _ = merge(TrainConfig, [])
    assert b.model.dims == [4, 4]
