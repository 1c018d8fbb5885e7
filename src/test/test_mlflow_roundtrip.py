"""config → MLflow push → ``config_utils.cli(..., --flows:from-run RUN)`` is the identity, against
the real ``mlflow server`` (the same hypothesis property, and the same random configs, as the
W&B round trip). Two trips per config: through the run record artifact, and — the artifact
lost — through the typed params alone. Plus the main job logging to MLflow and re-created
from the run's page URL."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from mlflow_server import QUIET_ENV, MLflowServer, mlflow_server  # noqa: F401
from test_wandb_roundtrip import RTConfig, configs

import config_utils

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def quiet_mlflow(
    mlflow_server: MLflowServer,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.chdir(tmp_path)  # a client without a tracking URI writes ./mlflow.db
    for key, value in QUIET_ENV.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", mlflow_server.url)
    from mlflow.tracking import _tracking_service

    monkeypatch.setattr(_tracking_service.utils, "_tracking_uri", None)


@settings(
    max_examples=int(os.environ.get("FLOWS_RT_EXAMPLES", "8")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(cfg=configs)
def test_push_pull_cli_is_identity(
    cfg: RTConfig,
    mlflow_server: MLflowServer,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import mlflow

    # hypothesis runs every example in one function-scoped fixture set: set the server anew
    monkeypatch.setenv("MLFLOW_TRACKING_URI", mlflow_server.url)
    with mlflow.start_run() as run:
        config_utils.push_config(run, cfg)
    run_id, experiment = run.info.run_id, run.info.experiment_id

    # 1. the run record artifact, by run id (server from MLFLOW_TRACKING_URI)
    back = config_utils.cli(RTConfig, args=["--flows:from-run", f"runs:/{run_id}"], config_file=None)
    assert back == cfg
    assert config_utils.provenance(back)["model.hidden"] == f"mlflow:{run_id}"

    # 2. the artifact lost: the params, typed by the class; by the page URL (server from it)
    mlflow_server.artifact_file(experiment, run_id, "run_record.json").unlink()
    monkeypatch.delenv("MLFLOW_TRACKING_URI")
    url = f"{mlflow_server.url}/#/experiments/{experiment}/runs/{run_id}"
    back = config_utils.cli(RTConfig, args=["--flows:from-run", url], config_file=None)
    assert back == cfg
    assert config_utils.provenance(back)["name"] == f"mlflow:{run_id}"


@pytest.mark.slow
def test_main_job_logs_to_mlflow_and_is_re_created_from_the_run_url(
    mlflow_server: MLflowServer,  # noqa: F811
    tmp_path: Path,
) -> None:
    """``python examples/train.py --tracker mlflow``, then ``--from-run <page URL>``."""
    env = {
        **os.environ,
        **QUIET_ENV,
        "MLFLOW_TRACKING_URI": mlflow_server.url,
        "PYTHONPATH": str(ROOT),
    }
    script = str(ROOT / "examples" / "train.py")
    common = ["--config-file", str(ROOT / "examples" / "defaults.ini")]
    done = subprocess.run(
        [
            sys.executable, script, *common,
            "--tracker", "mlflow",
            "--max-steps", "3",
            "--logs-root", str(tmp_path / "logs"),
            "loss.module:huber", "--loss.module.delta", "0.25",
        ],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300,
        stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    urls = [line.split()[-1] for line in done.stdout.splitlines() if line.startswith("MLflow run:")]
    assert len(urls) == 1, done.stdout
    url = urls[0]
    assert url.startswith(f"{mlflow_server.url}/#/experiments/")

    env.pop("MLFLOW_TRACKING_URI")  # the URL names the server
    again = subprocess.run(
        [sys.executable, script, *common, "--from-run", url, "--optim.lr", "0.003",
         "--print-config", "--format", "json"],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300,
        stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert again.returncode == 0, again.stderr
    out = json.loads(again.stdout)
    run_id = url.rstrip("/").rsplit("/", 1)[-1]
    assert out["config"]["loss"]["module"] == {"_type": "HuberConfig", "delta": 0.25}
    assert out["config"]["tracker"] == "mlflow"
    assert out["provenance"]["loss.module.delta"] == f"mlflow:{run_id}"
    assert out["provenance"]["optim.lr"] == "cli:--optim.lr"
