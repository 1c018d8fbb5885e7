"""config → W&B push → pull → ``config_utils.cli(..., --wandb-config ...)`` is the identity.

Two trips per random config, both with the real client: (1) the offline run directory
(read after ``wandb.teardown()``: the run record pushed into ``run.dir``), and (2) what W&B
itself stored in the binary run log, served by the loopback GraphQL server and pulled through
``wandb.Api`` by URL (the ``run.config`` path, no record). Plus the example training script
run with a pasted browser URL.
"""

from __future__ import annotations

import enum
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Optional, Union

import pytest
from graphql_server import GraphQLServer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_wandb_push import log_config

import config_utils
from config_utils.sources.wandb import pull_config, push_config

ROOT = Path(__file__).resolve().parents[2]


class Act(enum.Enum):
    RELU = "relu"
    GELU = "gelu-approx"


@dataclass
class AdamConfig:
    lr: float = 1e-3
    betas: tuple[float, float] = (0.9, 0.999)


@dataclass
class SGDConfig:
    lr: float = 0.1
    momentum: Optional[float] = None
    nesterov: bool = False


@dataclass
class ModelConfig:
    hidden: int = 32
    act: Act = Act.RELU
    layers: list[int] = field(default_factory=lambda: [4, 4])
    mode: Literal["fast", "exact"] = "fast"


@dataclass
class RTConfig:
    model: ModelConfig = field(default_factory=ModelConfig)
    optim: Union[AdamConfig, SGDConfig] = field(default_factory=AdamConfig)
    data_root: Path = Path("data")
    checkpoint: Optional[Path] = None
    name: str = "run"
    seed: Optional[int] = 0


_floats = st.floats(
    allow_nan=False, allow_infinity=False, width=64, min_value=-1e12, max_value=1e12
)
_ints = st.integers(min_value=-(2**31), max_value=2**31)
_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=12
).filter(lambda s: s.strip() == s and s != "OMITTED")
_paths = st.lists(
    st.text(alphabet="abcxyz_-.0123456789", min_size=1, max_size=6).filter(
        lambda s: s not in (".", "..")
    ),
    min_size=1,
    max_size=3,
).map(lambda parts: Path("/".join(parts)))

configs = st.builds(
    RTConfig,
    model=st.builds(
        ModelConfig,
        hidden=_ints,
        act=st.sampled_from(Act),
        layers=st.lists(_ints, max_size=4),
        mode=st.sampled_from(["fast", "exact"]),
    ),
    optim=st.one_of(
        st.builds(AdamConfig, lr=_floats, betas=st.tuples(_floats, _floats)),
        st.builds(SGDConfig, lr=_floats, momentum=st.none() | _floats, nesterov=st.booleans()),
    ),
    data_root=_paths,
    checkpoint=st.none() | _paths,
    name=_text,
    seed=st.none() | _ints,
)


@pytest.fixture(scope="module")
def server() -> Iterator[GraphQLServer]:
    with GraphQLServer() as srv:
        yield srv


def _push_offline(cfg: RTConfig, wandb_dir: Path) -> Path:
    """Push into a fresh offline run and flush it to disk; return the run directory."""
    import wandb

    run = wandb.init(project="rt", dir=str(wandb_dir), mode="offline")
    push_config(run, cfg)
    run_dir = Path(run.dir).parent
    run.finish()
    wandb.teardown()
    return run_dir


@settings(
    max_examples=int(os.environ.get("FLOWS_RT_EXAMPLES", "6")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(cfg=configs)
def test_push_pull_cli_is_identity(
    cfg: RTConfig,
    server: GraphQLServer,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    run_dir = _push_offline(cfg, tmp_path_factory.mktemp("rt"))

    # 1. the offline run directory (its run record)
    back = config_utils.cli(RTConfig, args=["--wandb-config", str(run_dir)], config_file=None)
    assert back == cfg

    # 2. what W&B stored in its own log, pulled by URL through wandb.Api
    stored = log_config(run_dir)
    run_id = run_dir.name.rsplit("-", 1)[-1]
    server.add_run("ent", "rt", run_id, config=stored)
    server.env(monkeypatch)
    url = f"https://wandb.ai/ent/rt/runs/{run_id}?workspace=user-x"
    assert pull_config(url) == stored
    back = config_utils.cli(RTConfig, args=["--wandb-config", url], config_file=None)
    assert back == cfg
    assert config_utils.provenance(back)["model.hidden"] == f"wandb:ent/rt/{run_id}"


def test_omitted_values_keep_the_lower_layer(
    server: GraphQLServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    server.add_run(
        "ent", "rt", "omit1", config={"name": "OMITTED", "seed": 5, "optim": {"_type": "SGDConfig"}}
    )
    server.env(monkeypatch)
    ini = tmp_path / "defaults.ini"
    ini.write_text("[DEFAULTS]\nname = from-ini\n")
    cfg = config_utils.cli(
        RTConfig, args=["--wandb-config", "ent/rt/omit1", "--seed", "7"], config_file=ini
    )
    assert cfg.name == "from-ini" and cfg.seed == 7 and isinstance(cfg.optim, SGDConfig)
    prov = config_utils.provenance(cfg)
    assert prov["name"].startswith("defaults.ini:") and prov["seed"] == "cli:--seed"


def _train_example(server: GraphQLServer, tmp_path: Path, run: str, *args: str) -> subprocess.CompletedProcess[str]:
    """``python examples/train.py --config-file defaults.ini --wandb-config RUN ARGS`` in
    ``tmp_path``, against the fake W&B ``server``; ``defaults.ini`` sets ``seed = 3``."""
    ini = tmp_path / "defaults.ini"
    ini.write_text("[DEFAULTS]\nseed = 3\n")
    env = {**os.environ, "WANDB_BASE_URL": server.url, "WANDB_API_KEY": "x" * 40, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, str(ROOT / "examples" / "train.py"), "--config-file", str(ini), "--wandb-config", run, *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )


def test_train_example_with_a_pasted_run_url(server: GraphQLServer, tmp_path: Path) -> None:
    """``python train.py --wandb-config https://wandb.ai/E/P/runs/ID?workspace=user-x``."""
    server.add_run(
        "ent",
        "flows-demo",
        "tr41n",
        config={
            "model": {"hidden": 16, "depth": 1, "activation": "tanh"},
            "loss": {"lam": 2.0, "module": {"_type": "HuberConfig", "delta": 0.5}},
            "optim": {"lr": 0.003, "weight_decay": 0.0},
            "project": "OMITTED",
            "max_steps": 3,
        },
    )
    url = "https://wandb.ai/ent/flows-demo/runs/tr41n?workspace=user-x"
    done = _train_example(server, tmp_path, url, "--print-config", "--format", "json")
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["config"]["loss"] == {"lam": 2.0, "module": {"_type": "HuberConfig", "delta": 0.5}}
    assert out["config"]["project"] == "flows-demo"  # OMITTED: the default stays
    assert out["provenance"]["loss.module.delta"] == "wandb:ent/flows-demo/tr41n"
    assert out["provenance"]["seed"].startswith("defaults.ini:")


def test_train_example_with_a_missing_run_exits_2(server: GraphQLServer, tmp_path: Path) -> None:
    done = _train_example(server, tmp_path, "ent/flows-demo/gone")
    assert done.returncode == 2
    assert done.stderr == (
        f"train.py: error: wandb:ent/flows-demo/gone: run not found on {server.url}\n"
    )
