"""``config_utils.cli`` is ``tyro.cli`` plus layers: with no file or run layer it returns what
tyro returns for the same call, or exits with the same status (docs/cli.md, "Conformance").

tyro itself is the oracle (``tyro_oracle.both`` runs the same call through both). The cases
here are the tyro idioms that broke before: ``default=``, every keyword argument of
``tyro.cli``, ``tyro.conf`` markers, ``__post_init__``, ``InitVar``, cyclic types, top-level
unions and Optionals, functions.
"""

from __future__ import annotations

import dataclasses
from typing import Optional

import pytest
import tyro
from conformance_configs import (
    Act,
    Adam,
    ArgDefault,
    BaseWithMarker,
    ChildOfMarked,
    Counted,
    Cyclic,
    Derived,
    Encoder,
    Omit,
    Plain,
    Required,
    Sgd,
    SubcommandDefault,
    WithFormat,
    WithInitVar,
    WithMarkers,
    WithUnion,
    WithUnionNoDefault,
    main,
)
from tyro_oracle import both, run

import config_utils
from config_utils import provenance


def same(target: object, args: list[str], **kwargs: object) -> object:
    theirs, ours = both(target, args, **kwargs)
    assert theirs.same_as(ours), (theirs, ours)
    return ours.value


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["--lr", "0.5", "--steps", "3"],
        ["--encoder.act", "GELU", "--encoder.use-ema"],
        ["--dims", "4", "5", "6", "--tags", "a", "b"],
        ["--mode", "slow", "--seed", "3", "--out", "x/y"],
        ["--seed", "None"],
        ["--steps", "abc"],
        ["--nope", "1"],
        ["--mode", "medium"],
        ["--encoder.width=9", "--encoder.no-use-ema"],
    ],
)
def test_plain_configs_match_tyro(args: list[str]) -> None:
    same(Plain, args)


def test_default_instance_is_a_layer_above_the_class_defaults() -> None:
    base = Plain(lr=0.7, encoder=Encoder(width=3))
    cfg = same(Plain, ["--steps", "4"], default=base)
    assert isinstance(cfg, Plain)
    assert (cfg.lr, cfg.steps, cfg.encoder.width) == (0.7, 4, 3)
    assert base.steps == 10  # the user's default instance is not changed
    prov = provenance(cfg)
    assert prov["steps"] == "cli:--steps" and prov["lr"] == "default"


def test_default_instance_with_a_config_file_layer(tmp_path: object) -> None:
    from pathlib import Path

    ini = Path(str(tmp_path)) / "c.ini"
    ini.write_text("[DEFAULTS]\nsteps = 8\n", encoding="utf-8")
    cfg = config_utils.cli(Plain, args=["--config-file", str(ini)], default=Plain(lr=0.3), config_file=None)
    assert (cfg.lr, cfg.steps) == (0.3, 8)
    assert provenance(cfg)["steps"] == "c.ini:2"


def test_required_fields_and_their_absence() -> None:
    same(Required, ["--steps", "3"])
    theirs, ours = both(Required, [])
    assert theirs.exit == ours.exit == 2


def test_return_unknown_args() -> None:
    value = same(Plain, ["--lr", "0.2", "--what", "x"], return_unknown_args=True)
    assert value == (Plain(lr=0.2), ["--what", "x"])


@pytest.mark.parametrize(
    "kwargs",
    [
        {"prog": "trainer"},
        {"description": "Something else."},
        {"use_underscores": True},
        {"console_outputs": False},
        {"add_help": False},
        {"compact_help": True},
        {"config": (tyro.conf.FlagConversionOff,)},
    ],
)
def test_every_keyword_argument_keeps_tyros_meaning(kwargs: dict[str, object]) -> None:
    same(Plain, ["--encoder.use-ema", "True"] if "config" in kwargs else ["--encoder.use-ema"], **kwargs)
    same(Plain, ["--steps", "x"], **kwargs)


def test_help_keyword_arguments_shape_the_help_as_in_tyro() -> None:
    theirs, ours = both(Plain, ["--help"], prog="trainer", description="Something else.")
    assert theirs.exit == ours.exit == 0
    assert ours.stdout.startswith(theirs.stdout.rstrip("\n"))
    assert "usage: trainer" in ours.stdout and "Something else." in ours.stdout
    theirs, ours = both(Plain, ["--help"], add_help=False)
    assert theirs.exit == ours.exit == 2


def test_use_underscores_in_help_and_arguments() -> None:
    theirs, ours = both(Plain, ["--help"], use_underscores=True)
    assert "--encoder.use_ema" in theirs.stdout and "--encoder.use_ema" in ours.stdout
    same(Plain, ["--encoder.use_ema"], use_underscores=True)


def test_constructor_registry_is_tyros() -> None:
    from tyro.constructors import ConstructorRegistry, PrimitiveConstructorSpec

    reg = ConstructorRegistry()

    @reg.primitive_rule
    def doubled(info):  # type: ignore[no-untyped-def]
        if info.type is not int:
            return None
        return PrimitiveConstructorSpec(
            nargs=1, metavar="INT", instance_from_str=lambda a: 2 * int(a[0]),
            is_instance=lambda x: isinstance(x, int), str_from_instance=lambda x: [str(x)],
        )

    cfg = same(Plain, ["--steps", "4"], registry=reg)
    assert cfg.steps == 8  # type: ignore[attr-defined]


def test_unions_subcommands_and_their_defaults() -> None:
    same(WithUnion, [])
    same(WithUnion, ["optim:sgd", "--optim.momentum", "0.5"])
    same(WithUnion, ["--steps", "2", "optim:adam", "--optim.beta", "0.1"])
    same(WithUnionNoDefault, ["optim:sgd"])
    theirs, ours = both(WithUnionNoDefault, [])
    assert theirs.exit == ours.exit == 2
    same(SubcommandDefault, [])
    same(SubcommandDefault, ["optim:adam"])


def test_top_level_union_and_optional_targets() -> None:
    same(Adam | Sgd, ["sgd", "--momentum", "0.3"])
    same(Adam | Sgd, ["adam"])
    theirs, ours = both(Adam | Sgd, [])
    assert theirs.exit == ours.exit
    same(Optional[Adam], ["--lr", "0.2"])
    value = same(Adam | Sgd, ["sgd", "--lr", "0.5"], default=Sgd(momentum=0.9))
    assert value == Sgd(lr=0.5, momentum=0.9)
    assert provenance(value)["lr"] == "cli:--lr"


def test_post_init_and_init_var_as_in_tyro() -> None:
    value = same(Derived, ["--a", "5"])
    assert value == Derived(a=5, b=10)
    same(Derived, ["--a", "5", "--b", "1"])
    value = same(WithInitVar, ["--base", "4", "--scale", "3"])
    assert value.total == 12  # type: ignore[attr-defined]


def test_markers() -> None:
    same(WithMarkers, ["-c", "3", "--verbose", "True", "--quiet"])
    same(WithMarkers, ["--count", "2", "--verbose", "False"])
    same(WithMarkers, ["--hidden", "3"])
    same(ArgDefault, [])
    same(BaseWithMarker, ["--flag", "True"])
    same(ChildOfMarked, ["--flag", "--no-other"])  # tyro reads markers from the class itself
    theirs, ours = both(ChildOfMarked, ["--flag", "yes", "--other", "False"])  # superset forms
    assert theirs.exit == 2 and ours.value == ChildOfMarked(flag=True, other=False)
    same(Omit, ["--width", "3", "--act", "GELU"])


def test_a_cyclic_config_gets_tyros_answer_not_a_recursion_error() -> None:
    theirs, ours = both(Cyclic, ["--value", "2"])
    assert theirs.same_as(ours), (theirs, ours)
    assert not isinstance(ours.error, RecursionError)


def test_function_targets() -> None:
    assert same(main, ["--a", "3", "--flag"]) == "3-x-True"
    same(main, ["--a", "x"])
    params = config_utils.last_parsed()
    cfg = config_utils.cli(main, args=["--a", "4"], config_file=None)
    assert cfg == "4-x-False"
    params = config_utils.last_parsed()
    assert (params.a, params.b, params.flag) == (4, "x", False)
    assert provenance(params) == {"a": "cli:--a", "b": "default", "flag": "default"}


def test_function_target_with_a_config_file(tmp_path: object) -> None:
    from pathlib import Path

    ini = Path(str(tmp_path)) / "f.ini"
    ini.write_text("[DEFAULTS]\nb = from-file\n", encoding="utf-8")
    out = config_utils.cli(main, args=["--a", "1", "--config-file", str(ini)], config_file=None)
    assert out == "1-from-file-False"
    assert provenance(config_utils.last_parsed())["b"] == "f.ini:2"


def test_default_factory_is_called_for_every_config_built() -> None:
    first = config_utils.cli(Counted, args=[], config_file=None)
    second = config_utils.cli(Counted, args=[], config_file=None)
    assert second.ident != first.ident
    first.items.append(1)
    assert second.items == []


def test_default_factory_is_called_per_config_with_layers(tmp_path: object) -> None:
    from pathlib import Path

    ini = Path(str(tmp_path)) / "c.ini"
    ini.write_text("[DEFAULTS]\nitems = 1, 2\n", encoding="utf-8")
    a = config_utils.cli(Counted, args=[], config_file=str(ini))
    b = config_utils.cli(Counted, args=[], config_file=str(ini))
    assert a.ident != b.ident and a.items == b.items == [1, 2] and a.items is not b.items


# ------------------------------------------------------------------ the documented superset


def test_enum_by_value_and_boolean_words_on_the_command_line() -> None:
    theirs, ours = both(Plain, ["--encoder.act", "gelu", "--encoder.use-ema=on"])
    assert theirs.exit == 2 and ours.exit is None
    assert ours.value.encoder == Encoder(act=Act.GELU, use_ema=True)
    assert provenance(ours.value)["encoder.use_ema"] == "cli:--encoder.use-ema"
    ours = run(config_utils.cli, WithMarkers, ["--verbose", "yes"])
    assert ours.value.verbose is True


def test_sweep_forms_and_variant_arguments_without_subcommand() -> None:
    ours = run(config_utils.cli, Plain, ["--dims=[7, 8]", "--encoder.use-ema=False", "--tags=['a']"])
    assert ours.exit is None, ours.stderr
    assert ours.value.dims == (7, 8) and ours.value.tags == ["a"]
    ours = run(config_utils.cli, WithUnion, ["--optim.beta=0.5", "--steps=3"])
    assert ours.value == WithUnion(optim=Adam(beta=0.5), steps=3)
    ours = run(config_utils.cli, WithUnion, ["--optim._type=Sgd", "--optim.momentum=0.2"])
    assert ours.value == WithUnion(optim=Sgd(momentum=0.2))


def test_superset_failures_show_tyros_message_for_what_was_written() -> None:
    theirs, ours = both(Plain, ["--encoder.act", "purple"])
    assert theirs.exit == ours.exit == 2
    assert "purple" in ours.stderr


# ------------------------------------------------------------------------ built-in flags


def test_a_field_named_like_a_built_in_takes_the_plain_spelling(tmp_path: object) -> None:
    value = same(WithFormat, ["--format", "json", "--config-file", "x.yaml", "--print-config"])
    assert value == WithFormat(format="json", config_file="x.yaml", print_config=True)
    ours = run(config_utils.cli, WithFormat, ["--format", "tsv", "--flows:print-config"])
    assert ours.exit == 0
    assert "format       = tsv" in ours.stdout


def test_reserved_spelling_of_an_unknown_built_in_is_one_line() -> None:
    ours = run(config_utils.cli, Plain, ["--flows:print-confg"])
    assert ours.exit == 2
    lines = ours.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("__main__.py: error: unknown built-in flag '--flows:print-confg' (did you mean 'print-config'")
    assert lines[0].endswith("built-ins: --flows:config-file, --flows:wandb-config, --flows:from-run, "
                             "--flows:print-config, --flows:format, --flows:print-schema")


def test_print_schema_lists_leaves_types_defaults_and_variants() -> None:
    import json

    ours = run(config_utils.cli, WithUnion, ["--flows:print-schema"])
    assert ours.exit == 0
    doc = json.loads(ours.stdout)
    assert doc["format"] == "flows-workspace/schema"
    assert doc["leaves"]["optim.momentum"] == {"type": "float", "default": 0.0, "under": {"optim": ["Sgd"]}}
    assert doc["leaves"]["optim.lr"]["under"] == {"optim": ["Adam", "Sgd"]}
    assert doc["leaves"]["steps"] == {"type": "int", "default": 5}
    assert doc["unions"]["optim"] == {"choices": {"Adam": ["Adam"], "Sgd": ["Sgd"]}, "default": "Adam"}


def test_dataclass_fields_unchanged_by_parsing() -> None:
    assert [f.name for f in dataclasses.fields(Plain)][:2] == ["lr", "steps"]


@pytest.mark.parametrize(
    "name", ["LossModule2Config", "A", "HTTPServer", "MyHTTPServer2", "adam", "SGD", "Conv2dBlock", "X1Y2"]
)
def test_subcommand_spelling_matches_tyros(name: str) -> None:
    """Against tyro's spelling under its default delimiter, set here: tyro keeps the delimiter
    module-wide and leaves it at ``_`` when a ``use_underscores=True`` parse ends in
    SystemExit (another test's), until its next parse sets it again."""
    from tyro._strings import delimiter_context, hyphen_separated_from_camel_case

    from config_utils.argv import kebab

    with delimiter_context("-"):
        assert kebab(name) == hyphen_separated_from_camel_case(name)


def test_a_file_layer_chooses_the_variant_of_a_top_level_union(tmp_path: object) -> None:
    from pathlib import Path

    ini = Path(str(tmp_path)) / "u.ini"
    ini.write_text("[DEFAULTS]\n_type = Sgd\nmomentum = 0.7\n", encoding="utf-8")
    cfg = config_utils.cli(Adam | Sgd, args=["sgd", "--lr", "0.2"], config_file=str(ini))
    assert cfg == Sgd(lr=0.2, momentum=0.7)
    assert provenance(cfg) == {"_type": "u.ini:2", "lr": "cli:--lr", "momentum": "u.ini:3"}
    ini.write_text("[DEFAULTS]\nmomentum = 0.7\n", encoding="utf-8")
    ours = run(config_utils.cli, Adam | Sgd, [], config_file=str(ini))
    assert ours.exit == 2
    assert ours.stderr.strip().endswith("u.ini: the config is one of Adam, Sgd; set _type to choose")


def test_a_file_layer_applies_to_an_optional_target(tmp_path: object) -> None:
    from pathlib import Path

    ini = Path(str(tmp_path)) / "o.ini"
    ini.write_text("[DEFAULTS]\nbeta = 0.5\n", encoding="utf-8")
    cfg = config_utils.cli(Optional[Adam], args=["adam", "--lr", "0.3"], config_file=str(ini))
    assert cfg == Adam(lr=0.3, beta=0.5)
    assert provenance(cfg) == {"lr": "cli:--lr", "beta": "o.ini:2"}


@pytest.mark.parametrize(
    ("target", "argv", "holds"),
    [
        (Plain, ["--steps", "x"], ["Error parsing --steps: invalid literal for int() with base 10: 'x'",
                                   "Argument helptext:", "--steps INT", "For full helptext"]),
        (Plain, ["--stepz", "1"], ["Unrecognized options: --stepz", "Perhaps you meant:", "--steps INT"]),
        (Plain, ["--mode", "medium"], ["invalid choice 'medium' for argument '--mode'", "'fast',"]),
        (WithUnion, ["optim:adamw"], ["Unrecognized options: optim:adamw", "optim:adam", "optim:sgd"]),
        (Required, [], ["Required options", "Missing from trainer:", "--steps INT", "(required)"]),
    ],
)
def test_tyros_refusals_are_shown_as_tyro_shows_them(target: object, argv: list[str], holds: list[str]) -> None:
    """The whole of tyro's message (the typo with its did-you-mean, the missing options, the
    argument's help, the pointer to --help), byte for byte, and tyro's exit status."""
    theirs, ours = both(target, argv, prog="trainer")
    assert theirs.exit == ours.exit == 2
    assert ours.stderr == theirs.stderr
    for text in holds:
        assert text in ours.stderr, (text, ours.stderr)
    assert ",?" not in ours.stderr  # (the condensed form once ended in `did you mean --flag,?`)


def test_a_typo_beside_a_missing_option_names_the_typo() -> None:
    """`--fiel1 hello` for a required `--steps`: tyro names the unrecognized option too."""
    theirs, ours = both(Required, ["--stepz", "3"], prog="trainer")
    assert ours.exit == theirs.exit == 2
    assert ours.stderr == theirs.stderr
    assert "--stepz" in ours.stderr and "--steps INT" in ours.stderr


def test_a_bad_value_under_a_variant_chosen_by_type_flag_names_the_value() -> None:
    ours = run(config_utils.cli, WithUnion, ["--optim._type=Sgd", "--optim.momentum=fast"], prog="p")
    assert ours.exit == 2
    # tyro's message for the rewritten arguments: it names the value, not the `_type` form
    assert "Error parsing --optim.momentum: could not convert string to float: 'fast'" in ours.stderr
    assert "_type" not in ours.stderr
