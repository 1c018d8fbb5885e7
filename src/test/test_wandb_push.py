"""Pushing a typed config to W&B with the real client: offline and disabled runs, the current
run, a Lightning ``WandbLogger``, rank-1 behaviour, omitted keys and the run record."""

from __future__ import annotations

import enum
import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from config_utils.errors import ConfigError
from config_utils.sources.wandb import pull_config, push_config


class Act(enum.Enum):
    RELU = "relu"
    GELU = "gelu"


@dataclass
class SmallModelConfig:
    width: int = 3


@dataclass
class BigModelConfig:
    hidden: int = 256
    act: Act = Act.GELU


@dataclass
class DataConfig:
    root: Path = Path("/data/set")
    token: str = "s3cret"
    shape: tuple[int, int] = (2, 3)


@dataclass
class TrainConfig:
    lr: float = 1e-3
    model: SmallModelConfig | BigModelConfig = field(default_factory=BigModelConfig)
    data: DataConfig = field(default_factory=DataConfig)
    seed: int | None = None


PUSHED = {
    "lr": 1e-3,
    "model": {"_type": "BigModelConfig", "hidden": 256, "act": "GELU"},
    "data": {"root": "/data/set", "token": "OMITTED", "shape": [2, 3]},
    "seed": None,
}


@pytest.fixture
def wandb_mod() -> Iterator[Any]:
    """The real wandb module; any run a test leaves open is finished and flushed."""
    import wandb

    yield wandb
    if wandb.run is not None:
        wandb.run.finish()
    wandb.teardown()


def log_config(run_dir: Path) -> dict[str, Any]:
    """The config stored in an offline run's binary log, read by wandb's own tool."""
    out = subprocess.run(
        [sys.executable, "-m", "wandb", "leet", "inspect", "--summary", "--json", str(run_dir)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    config: dict[str, Any] = json.loads(out.stdout)["config"]
    config.pop("_wandb", None)
    return config


def test_offline_push_reaches_the_log_and_the_run_record(wandb_mod: Any) -> None:
    run = wandb_mod.init(project="P", config={"lr": 0.5})
    push_config(run, TrainConfig(), omit=["data.token"])
    assert dict(run.config) == PUSHED  # lr overwritten: allow_val_change
    run_dir = Path(run.dir).parent
    run.finish()
    wandb_mod.teardown()  # finish() may return before the log is flushed (docs/design.md, "Weights & Biases")

    assert log_config(run_dir) == PUSHED
    record = json.loads((run_dir / "files" / "run_record.json").read_text())
    assert record["config"] == PUSHED
    assert record["config_type"].endswith(":TrainConfig")
    assert pull_config(str(run_dir)) == PUSHED


def test_omit_masks_the_command_line_in_the_record(
    wandb_mod: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        sys, "argv", ["train.py", "--data.token", "s3cret", "--lr=0.1", "--data.token=x"]
    )
    run = wandb_mod.init(project="P")
    push_config(run, TrainConfig(), omit=["data.token"])
    record = json.loads((Path(run.dir) / "run_record.json").read_text())
    assert record["argv"] == [
        "train.py",
        "--data.token",
        "OMITTED",
        "--lr=0.1",
        "--data.token=OMITTED",
    ]
    assert "s3cret" not in json.dumps(record)


def test_push_to_current_run_when_none(wandb_mod: Any) -> None:
    run = wandb_mod.init(project="P")
    push_config(None, TrainConfig(model=SmallModelConfig(width=7)))
    assert dict(run.config)["model"] == {"_type": "SmallModelConfig", "width": 7}


def test_disabled_mode_pushes_to_the_noop_run_and_writes_nothing(wandb_mod: Any) -> None:
    run = wandb_mod.init(project="P", mode="disabled")
    push_config(run, TrainConfig(), omit=["data.token"])
    assert dict(run.config) == PUSHED
    assert not (Path(run.dir) / "run_record.json").exists()


def test_no_current_run_on_rank_zero_is_an_error(
    wandb_mod: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    for var in ("RANK", "LOCAL_RANK", "SLURM_PROCID", "JSM_NAMESPACE_RANK"):
        monkeypatch.delenv(var, raising=False)
    assert wandb_mod.run is None
    with pytest.raises(ConfigError) as err:
        push_config(None, TrainConfig())
    assert str(err.value) == (
        "push_config: no W&B run is active; call wandb.init() first, or pass a "
        "WandbLogger or a wandb.Run"
    )


def test_no_current_run_on_another_rank_is_a_noop(
    wandb_mod: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RANK", "1")
    push_config(None, TrainConfig())
    assert wandb_mod.run is None


def test_unknown_omit_key_names_the_closest(wandb_mod: Any) -> None:
    run = wandb_mod.init(project="P", mode="disabled")
    with pytest.raises(ConfigError) as err:
        push_config(run, TrainConfig(), omit=["data.tokn"])
    assert str(err.value) == (
        "push_config: omit key 'data.tokn' is not in the config "
        "(did you mean 'data.token', 'data.root' or 'data'?)"
    )
    assert dict(run.config) == {}  # nothing half-pushed


def test_wrong_target_type(wandb_mod: Any) -> None:
    with pytest.raises(ConfigError) as err:
        push_config("my-run", TrainConfig())
    assert str(err.value) == "push_config: expected a WandbLogger, a wandb.Run or None, got str"


def test_namespace_config_is_pushed_flat(wandb_mod: Any) -> None:
    import argparse

    run = wandb_mod.init(project="P", mode="disabled")
    push_config(run, argparse.Namespace(lr=0.1, root=Path("/x"), key="k"), omit=["key"])
    assert dict(run.config) == {"lr": 0.1, "root": "/x", "key": "OMITTED"}


def test_lightning_wandb_logger_push(wandb_mod: Any, tmp_path: Path) -> None:
    from pytorch_lightning.loggers import WandbLogger

    logger = WandbLogger(project="P", save_dir=str(tmp_path), offline=True)
    push_config(logger, TrainConfig(), omit=["data.token"])
    run = logger.experiment
    assert isinstance(run, wandb_mod.Run)
    assert dict(run.config) == PUSHED
    run_dir = Path(run.dir).parent
    run.finish()
    wandb_mod.teardown()
    assert log_config(run_dir) == PUSHED


def test_lightning_rank_one_is_a_noop(
    wandb_mod: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On rank 1 Lightning hands out its DummyExperiment, whose ``config.update`` would raise."""
    from pytorch_lightning.loggers import WandbLogger
    from pytorch_lightning.utilities.rank_zero import rank_zero_only

    monkeypatch.setattr(rank_zero_only, "rank", 1)
    logger = WandbLogger(project="P", save_dir=str(tmp_path), offline=True)
    assert type(logger.experiment).__name__ == "_DummyExperiment"
    with pytest.raises(AttributeError):  # what a naive push would run into
        logger.experiment.config.update({"a": 1})
    push_config(logger, TrainConfig())
    assert wandb_mod.run is None
    assert not (tmp_path / "wandb").exists()
