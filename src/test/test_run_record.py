"""Run records (docs/design.md, "Run records"): config → ``save_run`` → ``cli(cls, args=["--wandb-config", run_dir])``
gives back an equal config, union variants included — a hypothesis property over random
nested configs — and the record carries what made the run.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from cli_configs import (
    Color,
    Leaves,
    Level,
    LossModule1Config,
    LossModule2Config,
    OptimConfig,
    RecordConfig,
    TrainConfig,
    VariantA,
    VariantB,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from config_utils import cli, load_run, provenance, save_run
from config_utils.errors import RunSourceError
from config_utils.sources.runs import RECORD_NAME, is_run_dir

text = st.text(st.characters(exclude_categories=["Cs"]), max_size=10)
paths = text.map(Path)
floats = st.floats(allow_nan=False)
ints = st.integers(min_value=-(2**63), max_value=2**63)

leaves = st.builds(
    Leaves,
    i=ints,
    f=floats,
    b=st.booleans(),
    s=text,
    p=paths,
    color=st.sampled_from(list(Color)),
    level=st.sampled_from(list(Level)),
    lit=st.sampled_from(["a", "b"]),
    opt=st.none() | ints,
    opt_s=st.none() | text,
    opt_p=st.none() | paths,
    ints=st.lists(ints, max_size=3),
    colors=st.lists(st.sampled_from(list(Color)), max_size=3),
    paths=st.lists(paths, max_size=3).map(tuple),
    # tyro turns dict entries into flags, so keys must be distinct flag names ("." and ""
    # collide inside tyro); dots are fine and covered by the regression test below
    table=st.dictionaries(st.from_regex(r"[a-z][a-z0-9_.]{0,5}", fullmatch=True), floats, max_size=3),
)
loss_modules = st.builds(LossModule1Config, p1=ints, p2=floats) | st.builds(
    LossModule2Config, p1=ints, p2=floats, p3=st.lists(floats, max_size=3)
)
choices = st.builds(VariantA, x=ints, leaves=leaves) | st.builds(
    VariantB, y=text, levels=st.lists(st.sampled_from(list(Level)), max_size=3), sub=loss_modules
)
configs = st.builds(
    RecordConfig,
    top=leaves,
    choice=choices,
    maybe=st.none() | st.builds(OptimConfig, lr=floats, betas=st.tuples(floats, floats), name=st.sampled_from(["adam", "sgd"])),
    names=st.lists(text, max_size=3),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cfg=configs)
def test_run_record_round_trip(cfg: RecordConfig, tmp_path_factory: pytest.TempPathFactory) -> None:
    run_dir = tmp_path_factory.mktemp("run")
    save_run(cfg, run_dir)
    again = cli(RecordConfig, args=["--wandb-config", str(run_dir)], config_file=None)
    assert again == cfg
    prov = provenance(again)
    assert set(prov.values()) == {f"run:{run_dir}"}
    if isinstance(cfg.choice, VariantB):
        assert prov["choice._type"] == prov["choice.sub._type"] == f"run:{run_dir}"


def test_record_contents(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    cfg = cli(TrainConfig, args=["--seed", "4", "loss.module:loss-module2"], config_file=None)
    path = save_run(cfg, tmp_path / "run", argv=["train.py", "--seed", "4"])
    assert path == tmp_path / "run" / RECORD_NAME and is_run_dir(tmp_path / "run")
    record: dict[str, Any] = json.loads(path.read_text())
    assert record["format"] == "flows-workspace/run-record" and record["version"] == 1
    assert record["config_type"] == "cli_configs:TrainConfig"
    assert record["config"]["loss"]["module"]["_type"] == "LossModule2Config"
    assert record["provenance"]["seed"] == "cli:--seed"
    assert record["argv"] == ["train.py", "--seed", "4"]
    assert set(record["git"]) == {"commit", "dirty"}
    assert record["python"].count(".") == 2 and "tyro" in record["packages"]
    assert record == load_run(tmp_path / "run") | {}


def test_a_users_file_of_that_name_is_never_overwritten(tmp_path: Path) -> None:
    (tmp_path / RECORD_NAME).write_text("my notes", encoding="utf-8")
    with pytest.raises(RunSourceError) as exc:
        save_run(TrainConfig(), tmp_path)
    assert str(exc.value) == (
        f"save_run: {tmp_path / RECORD_NAME} exists and is not a run record; not overwriting it "
        "(choose another run directory)"
    )
    assert (tmp_path / RECORD_NAME).read_text() == "my notes"


def test_load_run_errors(tmp_path: Path) -> None:
    with pytest.raises(RunSourceError) as exc:
        load_run(tmp_path)
    assert str(exc.value) == f"run {tmp_path}: no {RECORD_NAME} found in {tmp_path}"
    (tmp_path / RECORD_NAME).write_text('{"format": "flows-workspace/run-record", "version": 9, "config": {}}')
    with pytest.raises(RunSourceError) as exc:
        load_run(tmp_path)
    assert str(exc.value) == (
        f"run {tmp_path}: record format version 9 is newer than this library reads (1); upgrade flows-workspace"
    )


def test_dict_keys_with_dots_survive_the_round_trip(tmp_path: Path) -> None:
    # found by the property above: flattening into dotted keys must stop at dict-typed fields
    cfg = RecordConfig(top=Leaves(table={"a.b": 2.0, "c": 3.0}), choice=VariantA(leaves=Leaves(table={"x.y": 4.0})))
    save_run(cfg, tmp_path)
    again = cli(RecordConfig, args=["--wandb-config", str(tmp_path)], config_file=None)
    assert again == cfg
