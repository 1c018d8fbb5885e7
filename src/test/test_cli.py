"""``config_utils.cli`` (docs/design.md, "Layers and provenance"): defaults < config file < previous run < command line.

Most tests call ``cli(..., args=[...])`` in-process; the exit-status tests run a real script
in a subprocess and check status 2, the pinned one-line message and that no traceback shows.
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import textwrap
import typing
import warnings
from pathlib import Path

import pytest
import tyro
from cli_configs import (
    Color,
    Level,
    LossModule1Config,
    LossModule2Config,
    ModelConfig,
    Required,
    TrainConfig,
)

import config_utils
from config_utils import cli, provenance, save_run

TEST_DIR = Path(__file__).resolve().parent
SCRIPT = TEST_DIR / "data" / "cli" / "train.py"
ROOT = TEST_DIR.parents[1]


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty working directory (``defaults.ini`` is looked up there)."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


def write(path: Path, text: str) -> Path:
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


DEFAULTS_INI = """
[DEFAULTS]
name = "from-file"
seed = 1

[optim]
lr = 0.01

[model]
hidden = 64
"""


def test_no_file_no_args_gives_the_dataclass_defaults(workdir: Path) -> None:
    cfg = cli(TrainConfig, args=[])
    assert cfg == TrainConfig()
    assert set(provenance(cfg).values()) == {"default"}


def test_default_defaults_ini_is_picked_from_the_working_directory(workdir: Path) -> None:
    write(workdir / "defaults.ini", DEFAULTS_INI)
    cfg = cli(TrainConfig, args=[])
    assert (cfg.name, cfg.seed, cfg.optim.lr, cfg.model.hidden) == ("from-file", 1, 0.01, 64)
    prov = provenance(cfg)
    assert prov["name"] == "defaults.ini:2"
    assert prov["optim.lr"] == "defaults.ini:6"
    assert prov["model.hidden"] == "defaults.ini:9"
    assert prov["model.use_bias"] == "default"


def test_layers_override_in_order_with_provenance(workdir: Path) -> None:
    """defaults < file < run dir < CLI, each leaf naming the layer that set it."""
    write(workdir / "defaults.ini", DEFAULTS_INI)
    previous = TrainConfig(seed=2, out=Path("runs/x"), level=Level.HIGH)
    previous.optim.lr = 0.02
    previous.loss.module = LossModule2Config(p3=[9.0])
    save_run(previous, workdir / "run1")
    cfg = cli(TrainConfig, args=["--wandb-config", "run1", "--optim.lr", "0.03", "--model.use-bias", "False"])
    prov = provenance(cfg)
    # the run record holds every leaf, so it overrides the file everywhere
    assert prov["name"] == "run:run1" and cfg.name == "run"
    assert prov["seed"] == "run:run1" and cfg.seed == 2
    assert prov["optim.lr"] == "cli:--optim.lr" and cfg.optim.lr == 0.03
    assert prov["model.use_bias"] == "cli:--model.use-bias" and cfg.model.use_bias is False
    assert prov["loss.module._type"] == "run:run1"
    assert cfg.loss.module == LossModule2Config(p3=[9.0])
    assert cfg.level is Level.HIGH and cfg.out == Path("runs/x")


def test_file_then_cli(workdir: Path) -> None:
    write(workdir / "defaults.ini", DEFAULTS_INI)
    cfg = cli(TrainConfig, args=["--seed", "5"])
    prov = provenance(cfg)
    assert (cfg.seed, prov["seed"]) == (5, "cli:--seed")
    assert (cfg.name, prov["name"]) == ("from-file", "defaults.ini:2")


@pytest.mark.parametrize("suffix", [".toml", ".yaml", ".yml", ".json", ".ini"])
def test_explicit_config_file_of_each_format(workdir: Path, suffix: str) -> None:
    text = {
        ".toml": 'seed = 4\n[loss.module]\n_type = "LossModule2"\np3 = [1.0]\n',
        ".yaml": "seed: 4\nloss:\n  module:\n    _type: LossModule2\n    p3: [1.0]\n",
        ".yml": "seed: 4\nloss:\n  module:\n    _type: LossModule2\n    p3: [1.0]\n",
        ".json": '{"seed": 4,\n "loss": {"module": {"_type": "LossModule2", "p3": [1.0]}}}\n',
        ".ini": "[DEFAULTS]\nseed = 4\n[loss.module]\n_type = LossModule2\np3 = 1.0\n",
    }[suffix]
    write(workdir / f"c{suffix}", text)
    cfg = cli(TrainConfig, args=["--config-file", f"c{suffix}"])
    assert cfg.seed == 4 and cfg.loss.module == LossModule2Config(p3=[1.0])
    assert provenance(cfg)["seed"].startswith(f"c{suffix}")
    assert provenance(cfg)["loss.module._type"].startswith(f"c{suffix}")


def test_config_file_argument_of_cli_sets_the_default_file(workdir: Path) -> None:
    write(workdir / "mine.ini", "[DEFAULTS]\nseed = 8\n")
    assert cli(TrainConfig, args=[], config_file="mine.ini").seed == 8
    assert cli(TrainConfig, args=[], config_file=None).seed == 0


def test_required_fields_from_any_layer(workdir: Path) -> None:
    write(workdir / "defaults.ini", "[DEFAULTS]\nsteps = 10\n")
    cfg = cli(Required, args=[])
    assert cfg.steps == 10 and provenance(cfg)["steps"] == "defaults.ini:2"
    (workdir / "defaults.ini").unlink()
    save_run(Required(steps=11), workdir / "r")
    assert cli(Required, args=["--wandb-config", "r"]).steps == 11
    cfg = cli(Required, args=["--steps", "12"])
    assert cfg.steps == 12 and provenance(cfg)["steps"] == "cli:--steps"


def test_sweep_style_arguments(workdir: Path) -> None:
    cfg = cli(TrainConfig, args=[
        "--optim.lr=0.1", "--model.use_bias=False", "--model.dims=[1,2,3]", "--optim.betas=[0.5, 0.6]",
        "--seed=3", "--tag=None", "--level=HIGH",
    ])
    assert cfg.optim.lr == 0.1 and cfg.model.use_bias is False and cfg.model.dims == [1, 2, 3]
    assert cfg.optim.betas == (0.5, 0.6) and cfg.seed == 3 and cfg.tag is None and cfg.level is Level.HIGH
    assert provenance(cfg)["model.use_bias"] == "cli:--model.use_bias"
    assert cli(TrainConfig, args=["--model.use_bias=True"]).model.use_bias is True
    off = cli(TrainConfig, args=["--model.use-bias=false"])
    assert off.model.use_bias is False


def test_sweep_flag_true_false_on_a_top_level_bool(workdir: Path) -> None:
    from cli_configs import AllTypes

    assert cli(AllTypes, args=["--b=True"]).b is True
    assert cli(AllTypes, args=["--b=False"]).b is False
    assert cli(AllTypes, args=["--b"]).b is True
    assert cli(AllTypes, args=["--ints=[]"]).ints == []


def test_flat_union_variant_arguments_without_the_subcommand(workdir: Path) -> None:
    cfg = cli(TrainConfig, args=["--loss.module.p2=0.7", "--loss.lam=0.3"])
    assert cfg.loss.module == LossModule1Config(p2=0.7) and cfg.loss.lam == 0.3
    prov = provenance(cfg)
    assert prov["loss.module.p2"] == "cli:--loss.module.p2" and prov["loss.module._type"] == "default"
    # the subcommand may come after its arguments, and a sweep can pass the pushed `_type` tag
    cfg = cli(TrainConfig, args=["--loss.module.p3=[1,2]", "--loss.module._type=LossModule2Config"])
    assert cfg.loss.module == LossModule2Config(p3=[1.0, 2.0])
    assert provenance(cfg)["loss.module._type"] == "cli:--loss.module._type=LossModule2Config"
    cfg = cli(TrainConfig, args=["--loss.module.p1=4", "loss.module:loss-module2"])
    assert cfg.loss.module == LossModule2Config(p1=4)


def test_the_seed_command_line(workdir: Path) -> None:
    """``python train.py --model.hidden 256 loss.module:loss-module2 --loss.module.p3 1 2 3``."""
    cfg = cli(TrainConfig, args=["--model.hidden", "256", "loss.module:loss-module2", "--loss.module.p3", "1", "2", "3"])
    assert cfg.model == ModelConfig(hidden=256)
    assert cfg.loss.module == LossModule2Config(p3=[1.0, 2.0, 3.0])
    prov = provenance(cfg)
    assert prov["loss.module._type"] == "cli:loss.module:loss-module2"
    assert prov["loss.module.p3"] == "cli:--loss.module.p3"
    assert prov["loss.module.p1"] == "default"
    for alias in ("loss.module:LossModule2", "loss.module:LossModule2Config", "loss.module:loss-module2-config"):
        assert isinstance(cli(TrainConfig, args=[alias]).loss.module, LossModule2Config)


def test_cli_variant_over_a_file_variant(workdir: Path) -> None:
    write(workdir / "defaults.ini", "[loss.module]\n_type = LossModule2\np1 = 5\np3 = 7\n")
    cfg = cli(TrainConfig, args=[])
    assert cfg.loss.module == LossModule2Config(p1=5, p3=[7.0])
    assert provenance(cfg)["loss.module._type"] == "defaults.ini:2"
    cfg = cli(TrainConfig, args=["loss.module:loss-module1"])
    assert cfg.loss.module == LossModule1Config()
    prov = provenance(cfg)
    assert prov["loss.module._type"] == "cli:loss.module:loss-module1"
    assert prov["loss.module.p1"] == "default"


def test_enum_and_path_on_the_command_line(workdir: Path) -> None:
    cfg = cli(TrainConfig, args=["--model.color", "BLUE", "--out", "a b/c"])
    assert cfg.model.color is Color.BLUE and cfg.out == Path("a b/c")


def test_unknown_run_keys_warn_unless_strict(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    save_run(TrainConfig(seed=6), workdir / "r")
    record = workdir / "r" / "run_record.json"
    record.write_text(record.read_text().replace('"seed": 6', '"seed": 6, "dropped_key": 1'))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the warning goes to stderr, not through `warnings`
        cfg = cli(TrainConfig, args=["--wandb-config", "r"], prog="train.py")
    assert cfg.seed == 6
    assert capsys.readouterr().err == "warning: run:r: unknown key 'dropped_key' (ignored)\n"
    with pytest.raises(SystemExit) as exc:
        cli(TrainConfig, args=["--wandb-config", "r"], strict=True, prog="train.py")
    assert exc.value.code == 2
    assert capsys.readouterr().err == "train.py: error: run:r: unknown key 'dropped_key'\n"


def test_public_names() -> None:
    assert config_utils.cli is cli
    assert config_utils.provenance is provenance


# ----------------------------------------------------------------------------------------
# The command line as a user runs it: exit status 2, one pinned message, no traceback.
# ----------------------------------------------------------------------------------------


def run_script(cwd: Path, *args: str, config: str = "TrainConfig") -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(TEST_DIR), str(ROOT)])
    env["CLI_TEST_CONFIG"] = config
    env["COLUMNS"] = "100"
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=60
    )


ERRORS = [
    ("unknown-key", {"defaults.ini": "[DEFAULTS]\nseed = 1\n\n[optim]\nlrr = 0.1\n"}, [],
     "train.py: error: defaults.ini:5: unknown key 'optim.lrr' (did you mean 'optim.lr', 'optim.name' or 'optim.betas'?)"),
    ("wrong-nesting", {"defaults.ini": "[DEFAULTS]\nlr = 0.1\n"}, [],
     "train.py: error: defaults.ini:2: unknown key 'lr' (did you mean 'optim.lr'?)"),
    ("other-variant", {"defaults.ini": "[loss.module]\np3 = 1 2\n"}, [],
     "train.py: error: defaults.ini:2: unknown key 'loss.module.p3': 'loss.module' is LossModule1Config "
     "(from default), which has no 'p3'; LossModule2Config has it (set loss.module._type = LossModule2Config)"),
    ("other-variant-flag", {}, ["--loss.module.p3", "1"],
     "train.py: error: unknown flag '--loss.module.p3': 'loss.module' is LossModule1Config (from default), "
     "which has no 'p3'; LossModule2Config has it (choose it with loss.module:loss-module2-config or "
     "--loss.module._type=LossModule2Config)"),
    ("bad-value", {"defaults.ini": "[model]\nhidden = wide\n"}, [],
     "train.py: error: defaults.ini:2: model.hidden: expected int, got 'wide'"),
    ("missing-file", {}, ["--config-file", "nope.ini"], "train.py: error: config file not found: nope.ini"),
    ("suffix", {"c.txt": "seed = 1\n"}, ["--config-file", "c.txt"],
     "train.py: error: c.txt: unsupported config file type '.txt'; expected .ini, .toml, .yaml, .yml or .json"),
    ("malformed-ini", {"defaults.ini": "[DEFAULTS]\nseed 3\n"}, [],
     "train.py: error: defaults.ini:2: expected 'key = value' or '[section]', got 'seed 3'"),
    ("no-record", {"emptyrun/notes.txt": "x"}, ["--wandb-config", "emptyrun"],
     "train.py: error: run 'emptyrun': not a run directory (expected a directory with run_record.json, or an "
     "offline W&B run directory wandb/offline-run-* with its run-<id>.wandb log)"),
    ("unknown-type", {"defaults.ini": "[loss.module]\n_type = LossModule3\n"}, [],
     "train.py: error: defaults.ini:2: loss.module._type: expected one of LossModule1Config, LossModule1, "
     "LossModule2Config, LossModule2, got 'LossModule3' (did you mean 'LossModule2', 'LossModule1' or "
     "'LossModule2Config'?)"),
    ("unknown-type-flag", {}, ["--loss.module._type=Nope"],
     "train.py: error: --loss.module._type: expected one of LossModule1Config, LossModule1, LossModule2Config, "
     "LossModule2, got 'Nope'"),
    ("format", {}, ["--print-config", "--format", "xml"], "train.py: error: --format: expected 'text' or 'json', got 'xml'"),
    ("needs-value", {}, ["--config-file"], "train.py: error: --config-file needs a value"),
]


@pytest.mark.parametrize(("files", "args", "message"), [e[1:] for e in ERRORS], ids=[e[0] for e in ERRORS])
def test_errors_exit_2_with_one_message(tmp_path: Path, files: dict[str, str], args: list[str], message: str) -> None:
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text, encoding="utf-8")
    proc = run_script(tmp_path, *args)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr == message + "\n"
    assert proc.stdout == ""


def test_missing_required_field_gets_tyros_message(tmp_path: Path) -> None:
    proc = run_script(tmp_path, config="Required")
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert "Required options" in proc.stderr and "--steps INT" in proc.stderr
    ok = run_script(tmp_path, "--steps=3", config="Required")
    assert ok.returncode == 0 and ok.stdout.startswith("Required(steps=3,")


def test_bad_cli_value_gets_tyros_message(tmp_path: Path) -> None:
    proc = run_script(tmp_path, "--model.hidden", "wide")
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert "Error parsing --model.hidden: invalid literal for int() with base 10: 'wide'" in proc.stderr


def test_help_lists_the_built_in_flags_and_tyros_help(tmp_path: Path) -> None:
    proc = run_script(tmp_path, "--help")
    assert proc.returncode == 0
    out = " ".join(proc.stdout.split())  # tyro wraps the text to the terminal width
    for flag in (
        "--config-file PATH, --flows:config-file PATH",
        "--wandb-config RUN, --flows:wandb-config RUN",
        "--from-run RUN, --flows:from-run RUN",
        "--print-config, --flows:print-config",
        "--format {text,json}, --flows:format {text,json}",
        "--print-schema, --flows:print-schema",
    ):
        assert flag in out
    assert "config layers (flows-workspace)" in out
    assert "Train a small model." in out
    assert "--model.hidden INT" in out and "Width of the hidden layer." in out
    assert "loss.module:loss-module1-config" in out


def test_a_good_run_from_the_shell(tmp_path: Path) -> None:
    write(tmp_path / "defaults.ini", DEFAULTS_INI)
    proc = run_script(tmp_path, "--model.hidden", "256", "loss.module:loss-module2", "--loss.module.p3", "1", "2", "3")
    assert proc.returncode == 0, proc.stderr
    assert "hidden=256" in proc.stdout and "LossModule2Config(p1=1, p2=0.5, p3=[1.0, 2.0, 3.0])" in proc.stdout
    assert "name='from-file'" in proc.stdout


def test_a_variant_named_by_its_registered_name_shows_its_help(tmp_path: Path) -> None:
    """`train.py loss.module:loss-module2 --help` shows the variant's help, as tyro's own
    spelling `loss.module:loss-module2-config --help` does."""
    registered = run_script(tmp_path, "loss.module:loss-module2", "--help")
    own = run_script(tmp_path, "loss.module:loss-module2-config", "--help")
    by_type = run_script(tmp_path, "--loss.module._type=LossModule2Config", "--help")
    assert registered.returncode == own.returncode == by_type.returncode == 0
    assert "--loss.module.p3" in registered.stdout
    assert registered.stdout == own.stdout == by_type.stdout
    top = run_script(tmp_path, "--help")
    assert "--loss.module.p3" not in top.stdout


def test_config_utils_cli_is_a_function_and_a_module_with_tyro_subcommand() -> None:
    """pytorch-flows imports `from config_utils.cli import tyro_subcommand`; calls of
    `config_utils.cli(...)` keep working."""
    import inspect
    from typing import Union

    import tyro

    from config_utils.cli import tyro_subcommand

    @dataclasses.dataclass
    class Opt:
        arg1: int = 0

    @dataclasses.dataclass
    class Other:
        arg2: str = "b"

    choice = Union[  # noqa: UP007 - the spelling pytorch-flows writes
        tyro_subcommand(Opt, name="a1", default=Opt(1), description="Opt with 1"),
        tyro_subcommand(Opt, name="a2", default=Opt(2)),
        tyro_subcommand(Other, name="other"),
    ]
    holder = dataclasses.make_dataclass("Holder", [("o", choice, dataclasses.field(default_factory=lambda: Opt(1)))])
    for argv in (["o:a2"], ["o:other", "--o.arg2", "q"], ["o:a1", "--o.arg1", "5"], []):
        assert config_utils.cli(holder, args=argv, config_file=None) == tyro.cli(holder, args=argv), argv
    assert callable(config_utils.cli) and config_utils.cli.tyro_subcommand is tyro_subcommand
    assert "config_file" in inspect.signature(config_utils.cli).parameters
    with pytest.raises(SystemExit) as exc:
        config_utils.cli(holder, args=["o:a3"], config_file=None, console_outputs=False)
    assert exc.value.code == 2


def test_a_default_holding_tyro_missing_asks_for_the_value(tmp_path: Path) -> None:
    """tyro's "dataclass + defaults" pattern: `default=` with `tyro.MISSING` fields; the fast
    path declines, tyro names the missing flag and exits 2 (both paths)."""
    import contextlib
    import io

    import tyro

    @dataclasses.dataclass
    class Args:
        field1: str
        field2: int = 3

    for fast in ("1", "0"):
        os.environ["FLOWS_FAST_PATH"] = fast
        err = io.StringIO()
        try:
            with contextlib.redirect_stderr(err), pytest.raises(SystemExit) as exc:
                cli(Args, args=["--field2", "4"], default=Args(field1=tyro.MISSING), config_file=None, prog="p")
        finally:
            del os.environ["FLOWS_FAST_PATH"]
        assert exc.value.code == 2
        assert "--field1 STR" in err.getvalue() and "Required options" in err.getvalue()
    cfg = cli(Args, args=["--field1", "x"], default=Args(field1=tyro.MISSING), config_file=None)
    assert cfg == Args(field1="x", field2=3)


T_co = typing.TypeVar("T_co")


@dataclasses.dataclass
class Triangle:
    a: float = 1.0


@dataclasses.dataclass
class Shape(typing.Generic[T_co]):
    shape: T_co
    scale: int = 1


def test_a_parameterised_generic_is_a_structured_target() -> None:
    import tyro

    argv = ["--shape.a", "3", "--scale", "2"]
    assert cli(Shape[Triangle], args=argv, config_file=None) == tyro.cli(Shape[Triangle], args=argv)
    assert cli(Shape[Triangle], args=argv, config_file=None) == Shape(Triangle(3.0), 2)


@dataclasses.dataclass
class MissingChild:
    a: int = 5
    b: int = 3


@dataclasses.dataclass
class MissingParent:
    child: MissingChild


@dataclasses.dataclass
class MissingInDefinition:
    child: MissingChild = tyro.MISSING
    n: int = 1


@pytest.mark.parametrize("fast", ["1", "0"])
def test_tyro_missing_anywhere_is_asked_for(fast: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """`tyro.MISSING` in `default=`, nested in it, as `default=` itself, or as a field default:
    tyro refuses an empty command line and names what is missing; the fast path declines."""
    monkeypatch.setenv("FLOWS_FAST_PATH", fast)
    calls: list[tuple[type, list[str], dict[str, typing.Any]]] = [
        (MissingParent, [], {"default": MissingParent(child=tyro.MISSING)}),
        (MissingParent, [], {"default": tyro.MISSING}),
        (MissingInDefinition, [], {}),
        (MissingInDefinition, ["--n", "2"], {}),
    ]
    for cls, argv, kwargs in calls:
        theirs, ours = both_outcomes(cls, argv, **kwargs)
        assert theirs == ours == 2, (cls, argv, kwargs)
    full = ["--child.a", "1", "--child.b", "2"]
    assert cli(MissingParent, args=full, default=MissingParent(child=tyro.MISSING), config_file=None) == (
        MissingParent(MissingChild(1, 2))
    )


def both_outcomes(cls: type, argv: list[str], **kwargs: typing.Any) -> tuple[int, int]:
    """(tyro's exit status, ours) for a call both refuse."""
    import contextlib
    import io

    codes = []
    for fn in (tyro.cli, cli):
        extra = {"config_file": None} if fn is cli else {}
        with contextlib.redirect_stderr(io.StringIO()), pytest.raises(SystemExit) as exc:
            fn(cls, args=argv, **kwargs, **extra)
        codes.append(int(exc.value.code or 0))
    return codes[0], codes[1]


@dataclasses.dataclass
class WarnA:
    a: int


@dataclasses.dataclass
class WarnB:
    b: int


@dataclasses.dataclass
class WarnC:
    c: int


@pytest.mark.parametrize("argv", [[], ["warn-b", "--b", "5"], ["warn-b", "--b", "5.0"]])
def test_tyros_warnings_reach_the_user_once(argv: list[str]) -> None:
    """tyro warns about a `default=` that is no member of the union; the warning is shown also
    when the arguments needed a superset form (`5.0` for an int: a second attempt), once."""
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        tyro_value = tyro.cli(typing.Union[WarnA, WarnB], default=WarnC(3), args=[a.replace("5.0", "5") for a in argv])
    theirs = [str(w.message) for w in caught]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ours = cli(typing.Union[WarnA, WarnB], default=WarnC(3), args=argv, config_file=None)
    assert ours == tyro_value
    assert [str(w.message) for w in caught] == theirs and len(theirs) == 1
