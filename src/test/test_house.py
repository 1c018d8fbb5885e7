"""Every job done once (issue "One house"): the OMITTED marker belongs to the tracker pulls
only, a run record of another program's config is said out loud, the run-record writer of a
sweep trial fails in one line, the registry's variant names change with a re-registration,
and one NaN-aware equality. (docs/design.md, "Layers and provenance", "Run records",
"Registry".)"""

from __future__ import annotations

import dataclasses
import json
import math
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, get_type_hints

import pytest
from cli_configs import LossModule1Config, LossModule2Config, TrainConfig

import config_utils
from config_utils.convert import same_value
from config_utils.registry import Registry, dataclass_from_signature
from config_utils.sources.previous import run_layer
from config_utils.sources.runs import save_run


def cli(args: list[str], config_file: Path | None = None, **kw: object) -> TrainConfig:
    return config_utils.cli(TrainConfig, args=args, config_file=config_file, **kw)


def exit_line(capsys: pytest.CaptureFixture[str], args: list[str], **kw: object) -> str:
    with pytest.raises(SystemExit) as info:
        cli(args, **kw)
    assert info.value.code == 2
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1, lines
    return lines[0].split(": error: ", 1)[1]


# ------------------------------------------------------------------------------------ OMITTED
def test_omitted_on_the_command_line_is_the_string() -> None:
    cfg = cli(["--name", "OMITTED"])
    assert cfg.name == "OMITTED"
    assert config_utils.provenance(cfg)["name"] == "cli:--name"


def test_omitted_in_an_ini_file_is_the_string(tmp_path: Path) -> None:
    ini = tmp_path / "defaults.ini"
    ini.write_text("name = OMITTED\nseed = 4\n")
    cfg = cli([], config_file=ini)
    assert (cfg.name, cfg.seed) == ("OMITTED", 4)
    assert config_utils.provenance(cfg)["name"].endswith("defaults.ini:1")


def test_omitted_in_a_saved_run_comes_back_as_the_string(tmp_path: Path) -> None:
    save_run(TrainConfig(name="OMITTED", seed=3), tmp_path / "run")
    cfg = cli(["--from-run", str(tmp_path / "run")])
    assert (cfg.name, cfg.seed) == ("OMITTED", 3)


def test_omitted_in_a_tracker_record_keeps_the_lower_layer(tmp_path: Path) -> None:
    """A record inside a W&B run directory (``files/``) is what a tracker push wrote, with
    ``omit=`` paths as ``OMITTED``: that pull skips them, as prefigure did."""
    run_dir = tmp_path / "wandb" / "offline-run-1"
    save_run(TrainConfig(name="OMITTED", seed=3), run_dir / "files")
    ini = tmp_path / "defaults.ini"
    ini.write_text("name = mine\n")
    cfg = cli(["--from-run", str(run_dir)], config_file=ini)
    assert (cfg.name, cfg.seed) == ("mine", 3)
    assert config_utils.provenance(cfg)["name"].endswith("defaults.ini:1")


def test_the_marker_is_one_constant_in_the_tracker_layer() -> None:
    import config_utils.sources.mlflow as mlflow_source
    import config_utils.sources.push as push
    import config_utils.sources.wandb as wandb_source
    import config_utils.tree as tree

    assert push.OMITTED == "OMITTED"
    assert not hasattr(tree, "OMITTED")
    assert mlflow_source.OMITTED is push.OMITTED
    assert "OMITTED" not in vars(wandb_source)  # uses push's


# ------------------------------------------------------------- a record of another program
@dataclass
class OtherConfig:
    """Another program's config: some keys in common with TrainConfig."""

    name: str = "other"
    seed: int = 0
    width: int = 3


def test_a_record_of_another_programs_config_is_applied_with_a_warning(tmp_path: Path) -> None:
    save_run(OtherConfig(name="theirs", seed=9, width=5), tmp_path / "run")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        layer = run_layer(str(tmp_path / "run"), TrainConfig)
        cfg, _ = config_utils.layers.merge(TrainConfig, [layer])
    messages = [str(w.message) for w in caught]
    assert messages[0] == (
        f"run:{tmp_path / 'run'}: this run's config is test_house:OtherConfig, another "
        "program's config type (this program reads cli_configs:TrainConfig); only the keys "
        "both have are applied"
    )
    assert f"run:{tmp_path / 'run'}: unknown key 'width' (ignored)" in messages
    assert (cfg.name, cfg.seed) == ("theirs", 9)


def test_with_strict_a_record_of_another_program_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    save_run(OtherConfig(), tmp_path / "run")
    line = exit_line(capsys, ["--from-run", str(tmp_path / "run")], strict=True)
    assert line.startswith(f"run:{tmp_path / 'run'}: this run's config is test_house:OtherConfig")


def test_the_command_line_prints_the_warning_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    save_run(OtherConfig(seed=2), tmp_path / "run")
    cfg = cli(["--from-run", str(tmp_path / "run")])
    assert cfg.seed == 2
    err = capsys.readouterr().err
    assert "warning: run:" in err and "another program's config type" in err
    assert "Traceback" not in err


def test_a_record_of_the_same_class_from_another_module_name_is_quiet(tmp_path: Path) -> None:
    """A script's module is ``__main__`` in one run and its file name in another: the class
    is compared by its qualified name."""
    save_run(TrainConfig(seed=4), tmp_path / "run")
    record = tmp_path / "run" / "run_record.json"
    data = json.loads(record.read_text())
    data["config_type"] = "__main__:TrainConfig"
    record.write_text(json.dumps(data))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        layer = run_layer(str(tmp_path / "run"), TrainConfig)
    assert layer.note is None


# ----------------------------------------------------------------- FLOWS_RUN_DIR (sweep trials)
def test_flows_run_dir_below_a_file_is_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("FLOWS_RUN_DIR", "/dev/null/run")
    assert exit_line(capsys, []) == (
        "save_run: cannot create the run directory /dev/null/run (Not a directory)"
    )


def test_flows_run_dir_holding_the_users_own_record_file_keeps_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    mine = tmp_path / "run_record.json"
    mine.write_text('{"my": "notes"}\n')
    monkeypatch.setenv("FLOWS_RUN_DIR", str(tmp_path))
    assert exit_line(capsys, []) == (
        f"save_run: {mine} exists and is not a run record; not overwriting it (choose another "
        "run directory)"
    )
    assert mine.read_text() == '{"my": "notes"}\n'


def test_flows_run_dir_writes_the_record(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLOWS_RUN_DIR", str(tmp_path / "trial"))
    cli(["--seed", "5"])
    assert json.loads((tmp_path / "trial" / "run_record.json").read_text())["config"]["seed"] == 5


# ---------------------------------------------------------------------------------- registry
def test_variant_names_come_from_the_registry_and_follow_a_re_registration() -> None:
    reg = Registry()
    assert reg.variant_names(LossModule2Config) == ("LossModule2Config",)
    before = reg.changes

    def fancy(p1: int, p2: float, p3: list[float]) -> None: ...

    reg.register_with_config(fancy, config=LossModule2Config)
    assert reg.variant_names(LossModule2Config) == ("LossModule2Config", "fancy")
    count = len(reg._cfgname2clsname)
    changes = reg.changes
    assert changes > before

    def plain(p1: int, p2: float, p3: list[float]) -> None: ...

    reg.register_with_config(plain, name="fancy", config=LossModule2Config, replace=True)
    assert len(reg._cfgname2clsname) == count  # the size alone could not tell
    assert reg.changes > changes


def test_the_command_line_sees_a_name_registered_after_its_first_parse(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The tyro path's argument grammar is cached per registry state: a name linked later
    selects the variant at once (a cache keyed on the registry's size went stale when a name
    was re-linked, which keeps the size)."""
    monkeypatch.setenv("FLOWS_FAST_PATH", "0")  # the grammar is the tyro path's
    reg = Registry()
    first = config_utils.cli(TrainConfig, args=["--loss.module._type", "LossModule2Config"],
                             config_file=None, config_registry=reg)
    assert isinstance(first.loss.module, LossModule2Config)

    def huber(p1: int, p2: float, p3: list[float]) -> None: ...

    reg.register_with_config(huber, config=LossModule2Config)
    cfg = config_utils.cli(TrainConfig, args=["--loss.module._type", "huber", "--loss.module.p1", "7"],
                           config_file=None, config_registry=reg)
    assert isinstance(cfg.loss.module, LossModule2Config) and cfg.loss.module.p1 == 7

    def smooth(p1: int, p2: float, p3: list[float]) -> None: ...

    reg.register_with_config(smooth, name="huber", config=LossModule1Config, replace=True)
    cfg = config_utils.cli(TrainConfig, args=["--loss.module._type", "huber"],
                           config_file=None, config_registry=reg)
    assert isinstance(cfg.loss.module, LossModule1Config)


# ---------------------------------------------------------------------------- one equality
@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        (math.nan, math.nan, True),
        ([1.0, math.nan], [1.0, math.nan], True),
        ({"a": math.nan}, {"a": math.nan}, True),
        (1, True, False),
        (1, 1.0, False),
        ((1, 2), [1, 2], False),
        ("x", "x", True),
    ],
)
def test_one_nan_aware_equality(a: object, b: object, same: bool) -> None:
    assert same_value(a, b) is same


def test_convert_builds_dataclasses_without_importing_layers() -> None:
    """The import cycle is gone (pyproject.toml's contract), yet a mapping still converts to
    a dataclass (the builder layers installs)."""
    from config_utils.convert import convert

    assert convert({"p1": 4}, LossModule1Config, key="m", where="x") == LossModule1Config(p1=4)
    assert "config_utils.layers" in sys.modules  # installed by `import config_utils`




# ------------------------------------------------------- one dataclass from a signature
def test_one_builder_of_a_dataclass_from_a_signature() -> None:
    """``make_config`` and the command line's function targets build their dataclass with
    ``registry.dataclass_from_signature``: keyword fields, mutable defaults per instance,
    ``Annotated`` kept for tyro, ``*args`` refused when asked."""
    def train(data: str, /, steps: int, *, dims: list[int] = [1, 2], lr: Annotated[float, "x"] = 0.1) -> None:  # noqa: B006
        ...

    cls = dataclass_from_signature(train, "train_arguments", keyword_only=True, refuse_variadic=True)
    assert cls is not None
    assert [f.name for f in dataclasses.fields(cls)] == ["data", "steps", "dims", "lr"]
    a, b = cls(data="d", steps=1), cls(data="d", steps=1)
    assert a.dims == [1, 2] and a.dims is not b.dims
    assert get_type_hints(cls, include_extras=True)["lr"] == Annotated[float, "x"]

    def variadic(*args: int, n: int = 1) -> None: ...

    assert dataclass_from_signature(variadic, "v", refuse_variadic=True) is None
    skipped = dataclass_from_signature(variadic, "v")
    assert skipped is not None and [f.name for f in dataclasses.fields(skipped)] == ["n"]


# ------------------------------------------------------------- prefigure's files, bounded
@pytest.mark.parametrize("suffix", [".ini", ".gin"])
def test_prefigure_config_file_that_is_a_fifo_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], suffix: str
) -> None:
    """prefigure_compat reads its config files with the house's bounded reader: a FIFO given
    as the config file is refused at once (an ``open`` would wait for a writer forever)."""
    import os

    from prefigure_compat import get_all_args

    pytest.importorskip("gin")
    fifo = tmp_path / f"cfg{suffix}"
    os.mkfifo(fifo)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", ["train.py", "--config-file", str(fifo)])
    with pytest.raises(SystemExit) as info:
        get_all_args()
    assert info.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].endswith("is a FIFO, not a regular file"), err
    assert len(err) == 1
