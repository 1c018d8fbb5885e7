"""``--print-config`` (docs/design.md, "Layers and provenance"): the resolved config with the source of every value, exit 0.

The text form is pinned (people read it, and it is also a valid ini file that re-creates the
config); ``--format json`` carries the same data for machines.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_configs import LossModule2Config, TrainConfig

from config_utils import cli, provenance
from config_utils.command_line import format_config
from config_utils.layers import from_primitives

DEFAULTS_INI = "[DEFAULTS]\nseed = 1\n[loss.module]\n_type = LossModule2\np3 = 1, 2\n"
ARGS = ["--optim.lr=0.5", "--tag", "a b"]

TEXT = """\
# TrainConfig: value, then the layer that set it
name              = run                # default
seed              = 1                  # defaults.ini:2
out               = out                # default
level             = LOW                # default
tag               = a b                # cli:--tag
model.hidden      = 128                # default
model.use_bias    = True               # default
model.dims        = [4, 4]             # default
model.color       = RED                # default
optim.lr          = 0.5                # cli:--optim.lr
optim.betas       = [0.9, 0.999]       # default
optim.name        = adam               # default
loss.lam          = 0.1                # default
loss.module._type = LossModule2Config  # defaults.ini:4
loss.module.p1    = 1                  # default
loss.module.p2    = 0.5                # default
loss.module.p3    = [1.0, 2.0]         # defaults.ini:5
"""


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "defaults.ini").write_text(DEFAULTS_INI, encoding="utf-8")
    return tmp_path


def test_print_config_text_is_pinned_and_exits_0(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        cli(TrainConfig, args=["--print-config", *ARGS])
    assert exc.value.code == 0
    assert capsys.readouterr().out == TEXT


def test_printed_text_is_an_ini_that_recreates_the_config(workdir: Path) -> None:
    cfg = cli(TrainConfig, args=ARGS)
    assert format_config(cfg) + "\n" == TEXT
    (workdir / "printed.ini").write_text(TEXT, encoding="utf-8")
    again = cli(TrainConfig, args=["--config-file", "printed.ini"])
    assert again == cfg
    assert provenance(again)["optim.lr"] == "printed.ini:11"


def test_print_config_json(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        cli(TrainConfig, args=[*ARGS, "--print-config", "--format", "json"])
    assert exc.value.code == 0
    data = json.loads(capsys.readouterr().out)
    assert set(data) == {"config", "provenance", "path"}
    assert data["path"] == "fast"  # plain overrides: no tyro parser was built
    assert data["config"]["loss"]["module"] == {"_type": "LossModule2Config", "p1": 1, "p2": 0.5, "p3": [1.0, 2.0]}
    assert data["config"]["level"] == "LOW" and data["config"]["out"] == "out"
    assert data["provenance"] == {
        "name": "default", "seed": "defaults.ini:2", "out": "default", "level": "default", "tag": "cli:--tag",
        "model.hidden": "default", "model.use_bias": "default", "model.dims": "default", "model.color": "default",
        "optim.lr": "cli:--optim.lr", "optim.betas": "default", "optim.name": "default", "loss.lam": "default",
        "loss.module._type": "defaults.ini:4", "loss.module.p1": "default", "loss.module.p2": "default",
        "loss.module.p3": "defaults.ini:5",
    }
    rebuilt = from_primitives(TrainConfig, data["config"], where="json")
    assert rebuilt.loss.module == LossModule2Config(p3=[1.0, 2.0]) and rebuilt.tag == "a b"


def test_provenance_in_python(workdir: Path) -> None:
    cfg = cli(TrainConfig, args=ARGS)
    prov = provenance(cfg)
    assert prov["seed"] == "defaults.ini:2" and prov["optim.lr"] == "cli:--optim.lr"
    prov["seed"] = "changed"  # a copy: the config's record is untouched
    assert provenance(cfg)["seed"] == "defaults.ini:2"
    assert provenance(TrainConfig()) == {}  # configs not built by cli() have none
    assert cfg == TrainConfig(seed=1, tag="a b", optim=cfg.optim, loss=cfg.loss)  # still a plain dataclass
