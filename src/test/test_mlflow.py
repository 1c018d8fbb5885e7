"""MLflow as a tracker, against a real ``mlflow server`` on loopback (see ``mlflow_server.py``):
run references, the push (typed ``config.*`` params, the run record artifact, long values,
omitted keys, ranks), pulls that fail (run not found, server down, 5xx, hanging, no server
configured, file store), Lightning's ``MLFlowLogger`` beside its own ``log_hyperparams``, OFC
changes reaching the run, and the one-line messages when an extra is missing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, make_dataclass
from pathlib import Path
from typing import Any, Optional, Union

import pytest
from mlflow_server import QUIET_ENV, MLflowServer, failing_server, free_port, mlflow_server  # noqa: F401
from test_wandb_push import BigModelConfig as BigConfig
from test_wandb_push import DataConfig
from test_wandb_push import SmallModelConfig as SmallConfig

import config_utils
from config_utils.errors import ConfigError, RunSourceError
from config_utils.layers import Layer, RawValue, from_primitives, merge
from config_utils.sources import mlflow as mlflow_source

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class TrainConfig:
    """The W&B push tests' config, plus a text and a dict field (keys with dots)."""

    lr: float = 1e-3
    model: Union[SmallConfig, BigConfig] = field(default_factory=BigConfig)
    data: DataConfig = field(default_factory=DataConfig)
    seed: Optional[int] = None
    note: str = "short"
    tags: dict[str, int] = field(default_factory=lambda: {"a.b": 1})


@pytest.fixture(autouse=True)
def quiet_mlflow(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # a client without a tracking URI writes ./mlflow.db: never into the repository
    monkeypatch.chdir(tmp_path)
    for key, value in QUIET_ENV.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.delenv("FLOWS_MLFLOW_TIMEOUT", raising=False)
    monkeypatch.delenv("MLFLOW_ALLOW_FILE_STORE", raising=False)
    for var in ("RANK", "LOCAL_RANK", "SLURM_PROCID", "JSM_NAMESPACE_RANK"):
        monkeypatch.delenv(var, raising=False)
    # a tracking URI set in-process by an earlier test (MLFlowLogger sets it globally)
    from mlflow.tracking import _tracking_service

    monkeypatch.setattr(_tracking_service.utils, "_tracking_uri", None)


@pytest.fixture
def server(mlflow_server: MLflowServer, monkeypatch: pytest.MonkeyPatch) -> MLflowServer:  # noqa: F811
    monkeypatch.setenv("MLFLOW_TRACKING_URI", mlflow_server.url)
    return mlflow_server


@pytest.fixture
def active_run(server: MLflowServer) -> Iterator[Any]:
    import mlflow

    with mlflow.start_run() as run:
        yield run


def _run(run_id: str) -> Any:
    from mlflow.tracking import MlflowClient

    return MlflowClient().get_run(run_id)


def _typed(cls: type, nested: dict[str, Any], label: str) -> Any:
    """What --from-run does with params (text=True): the config class types the strings."""
    from config_utils.layers import flatten_for

    flat = flatten_for(cls, nested)
    layer = Layer(name=label, values={k: RawValue(v, label, text=True) for k, v in flat.items()})
    return merge(cls, [layer])[0]


# --------------------------------------------------------------------------------------------
# references
# --------------------------------------------------------------------------------------------
RUN = "0288dcee45874fdfbfdcbb765c0e6c74"


@pytest.mark.parametrize(
    ("source", "parsed"),
    [
        (f"runs:/{RUN}", (None, RUN)),
        (f"runs:/{RUN}/", (None, RUN)),
        (f"mlflow:{RUN}", (None, RUN)),
        (f"http://127.0.0.1:5000/#/experiments/3/runs/{RUN}", ("http://127.0.0.1:5000", RUN)),
        (
            f"https://ml.example.com/mlflow/#/experiments/12/runs/{RUN}/artifacts?x=1",
            ("https://ml.example.com/mlflow", RUN),
        ),
        (f"http://host:5000/experiments/7/runs/{RUN}", ("http://host:5000", RUN)),
        (
            f"http://host:5000/prefix/experiments/7/runs/{RUN}/overview",
            ("http://host:5000/prefix", RUN),
        ),
    ],
)
def test_references_people_paste(source: str, parsed: tuple[Optional[str], str]) -> None:
    assert mlflow_source.is_reference(source)
    assert mlflow_source.parse_reference(source) == parsed
    assert mlflow_source.run_label(source) == f"mlflow:{RUN}"


@pytest.mark.parametrize(
    "source",
    [
        "me/proj/1m2gh3o1",  # W&B entity/project/id
        "me/proj/runs/1m2gh3o1",
        "https://wandb.ai/me/proj/runs/1m2gh3o1?workspace=user-me",
        "https://wandb.ai/experiments/12/runs/1m2gh3o1",  # W&B's host is never MLflow
        "https://wandb.example.com/experiments/proj/runs/1m2gh3o1",  # project is not a number
        "logs/train/2026-11-22_10-00-00",  # a local run directory
        "http://host:5000/#/experiments/3",  # an experiment, not a run
    ],
)
def test_what_is_not_an_mlflow_reference(source: str) -> None:
    assert not mlflow_source.is_reference(source)


def test_malformed_prefixed_reference_says_what_is_expected() -> None:
    assert mlflow_source.is_reference("runs:/not an id")
    with pytest.raises(RunSourceError) as err:
        mlflow_source.pull_run("runs:/not an id")
    assert str(err.value) == (
        "mlflow run 'runs:/not an id': 'not an id' is not an MLflow run id "
        "(expected runs:/<run_id>, a run id being letters, digits, '_' and '-')"
    )


# --------------------------------------------------------------------------------------------
# push
# --------------------------------------------------------------------------------------------
def test_push_logs_typed_params_record_and_tags(active_run: Any) -> None:
    cfg = TrainConfig(seed=4)
    config_utils.push_config(active_run, cfg)
    run = _run(active_run.info.run_id)
    assert run.data.params == {
        "config.lr": "0.001",
        "config.model._type": "BigModelConfig",
        "config.model.hidden": "256",
        "config.model.act": "GELU",
        "config.data.root": "/data/set",
        "config.data.token": "s3cret",
        "config.data.shape": "[2, 3]",
        "config.seed": "4",
        "config.note": "short",
        "config.tags": "{'a.b': 1}",
    }
    assert run.data.tags["flows.config_type"] == f"{__name__}:TrainConfig"
    assert "flows.params_in_record" not in run.data.tags
    nested, text = mlflow_source.pull_run(f"runs:/{active_run.info.run_id}")
    assert text is False
    assert from_primitives(TrainConfig, nested, where="x") == cfg
    # the params alone re-create it too (typed by the class)
    params = {k[len("config."):]: v for k, v in run.data.params.items()}
    from config_utils.tree import unflatten

    assert _typed(TrainConfig, unflatten(params), "p") == cfg


LONG = "k" * 250  # "config." + LONG is over MLflow's 250-character key limit
LongKeyConfig = make_dataclass("LongKeyConfig", [(LONG, int, field(default=1)), ("lr", float, field(default=0.1))])


def test_a_key_over_the_limit_warns_when_the_run_is_re_created_from_params(
    active_run: Any, server: MLflowServer
) -> None:
    """docs/trackers.md: a key too long to be a param lives in the record only; without the
    record, the value cannot come back, and the pull says so instead of a silent default."""
    config_utils.push_config(active_run, LongKeyConfig(**{LONG: 7, "lr": 0.5}))
    run_id = active_run.info.run_id
    run = _run(run_id)
    assert f"config.{LONG}" not in run.data.params and run.data.tags["flows.params_in_record"] == LONG
    nested, text = mlflow_source.pull_run(f"mlflow:{run_id}")
    assert not text and nested[LONG] == 7  # the record has it
    server.artifact_file(active_run.info.experiment_id, run_id, "run_record.json").unlink()
    with pytest.warns(UserWarning) as caught:
        nested, text = mlflow_source.pull_run(f"mlflow:{run_id}")
    assert text and nested == {"lr": "0.5"}
    assert [str(w.message) for w in caught] == [
        f"mlflow:{run_id}: {LONG!r} was not logged as a param (its name config.{LONG} is longer "
        "than MLflow's 250 characters) and the run has no run_record.json; keeping the value "
        "from the lower layers"
    ]


def test_a_pulled_record_of_another_config_class_is_said(active_run: Any) -> None:
    """#28 F: the record names the class that wrote it; re-creating it as another class
    applies the shared keys with one warning naming both (an error with strict)."""
    from config_utils.sources.previous import run_layer

    config_utils.push_config(active_run, BigConfig(hidden=64))
    run_id = active_run.info.run_id
    layer = run_layer(f"mlflow:{run_id}", TrainConfig)
    assert layer.note == (
        f"mlflow:{run_id}: this run's config is test_wandb_push:BigModelConfig, another "
        "program's config type (this program reads test_mlflow:TrainConfig); only the keys "
        "both have are applied"
    )
    assert run_layer(f"mlflow:{run_id}", BigConfig).note is None


def test_push_twice_is_harmless_a_changed_config_is_one_line(active_run: Any) -> None:
    config_utils.push_config(None, TrainConfig())  # the active run
    config_utils.push_config(active_run, TrainConfig())
    with pytest.raises(ConfigError) as err:
        config_utils.push_config(active_run, TrainConfig(lr=0.5))
    assert str(err.value) == (
        f"push_config: mlflow:{active_run.info.run_id}: param 'config.lr' was already logged "
        "with another value (MLflow params never change: push a changed config to a new run; "
        "steered values are logged as metrics and tags)"
    )


def test_long_values_stay_whole_in_the_record_and_are_marked(
    active_run: Any, server: MLflowServer
) -> None:
    long_note = "n" * 7000
    cfg = TrainConfig(note=long_note)
    config_utils.push_config(active_run, cfg)
    run_id = active_run.info.run_id
    run = _run(run_id)
    param = run.data.params["config.note"]
    assert len(param) == 6000
    assert param.endswith(" … [7000 chars; whole value in run_record.json]")
    assert run.data.tags["flows.params_in_record"] == "note"
    nested, text = mlflow_source.pull_run(f"mlflow:{run_id}")
    assert not text and from_primitives(TrainConfig, nested, where="x").note == long_note

    # the record lost: the params re-create the rest, the cut value is not used
    server.artifact_file(active_run.info.experiment_id, run_id, "run_record.json").unlink()
    with pytest.warns(UserWarning) as caught:
        nested, text = mlflow_source.pull_run(f"mlflow:{run_id}")
    assert text is True and "note" not in nested
    assert [str(w.message) for w in caught] == [
        f"mlflow:{run_id}: param config.note holds only the start of a long value and the run "
        "has no run_record.json; keeping the value from the lower layers"
    ]
    assert _typed(TrainConfig, nested, "p") == TrainConfig()


def test_omitted_keys_are_masked_in_params_record_and_argv(
    active_run: Any, server: MLflowServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "argv", ["train.py", "--data.token", "s3cret"])
    config_utils.push_config(active_run, TrainConfig(), omit=["data.token"])
    run_id = active_run.info.run_id
    assert _run(run_id).data.params["config.data.token"] == "OMITTED"
    record = json.loads(
        server.artifact_file(active_run.info.experiment_id, run_id, "run_record.json").read_text()
    )
    assert record["config"]["data"]["token"] == "OMITTED"
    assert record["argv"] == ["train.py", "--data.token", "OMITTED"]
    assert "s3cret" not in json.dumps(record)
    with pytest.raises(ConfigError, match=r"omit key 'data.tokn' is not in the config"):
        config_utils.push_config(active_run, TrainConfig(), omit=["data.tokn"])


def test_push_is_a_no_op_on_other_ranks(active_run: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RANK", "1")
    config_utils.push_config(active_run, TrainConfig())
    config_utils.push_config(None, TrainConfig())
    assert _run(active_run.info.run_id).data.params == {}


def test_push_without_any_active_run(server: MLflowServer) -> None:
    import mlflow

    assert mlflow.active_run() is None
    with pytest.raises(ConfigError) as err:
        config_utils.push_config(None, TrainConfig())
    assert str(err.value) == (
        "push_config: no W&B or MLflow run is active; call wandb.init() or mlflow.start_run() "
        "first, or pass a WandbLogger, an MLFlowLogger or a run"
    )
    with pytest.raises(ConfigError, match=r"^push_config: expected a WandbLogger, a wandb.Run, "):
        config_utils.push_config("my-run", TrainConfig())


# --------------------------------------------------------------------------------------------
# pull failures: one line, bounded time
# --------------------------------------------------------------------------------------------
def test_unknown_run_id(server: MLflowServer) -> None:
    with pytest.raises(RunSourceError) as err:
        mlflow_source.pull_run("mlflow:0123456789abcdef0123456789abcdef")
    assert str(err.value) == (
        f"mlflow:0123456789abcdef0123456789abcdef: run not found on {server.url}"
    )


def _timed_failure(source: str) -> tuple[str, float]:
    start = time.monotonic()
    with pytest.raises(RunSourceError) as err:
        mlflow_source.pull_run(source)
    return str(err.value), time.monotonic() - start


def test_server_down_fails_at_once() -> None:
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    message, elapsed = _timed_failure(f"{url}/#/experiments/1/runs/{RUN}")
    assert message == f"mlflow:{RUN}: cannot connect to the MLflow server at {url} (server down?)"
    assert elapsed <= 10.0


def test_server_answering_500_fails_at_once_despite_retry_after() -> None:
    with failing_server("500") as url:
        message, elapsed = _timed_failure(f"{url}/#/experiments/1/runs/{RUN}")
    assert message == f"mlflow:{RUN}: the MLflow server at {url} failed (HTTP 500)"
    assert elapsed <= 10.0


def test_hanging_server_is_bounded_by_the_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLOWS_MLFLOW_TIMEOUT", "1")
    with failing_server("hang") as url:
        monkeypatch.setenv("MLFLOW_TRACKING_URI", url)
        message, elapsed = _timed_failure(f"runs:/{RUN}")
    assert message == f"mlflow:{RUN}: the MLflow server at {url} did not answer within 1 s"
    assert elapsed <= 5.0  # two attempts of 1 s
    import os

    assert "MLFLOW_HTTP_REQUEST_MAX_RETRIES" not in os.environ  # bounded for the pull only


def test_credentials_in_the_tracking_uri_never_reach_the_message(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    port = free_port()
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"http://me:pa55@127.0.0.1:{port}")
    message, _ = _timed_failure(f"mlflow:{RUN}")
    assert "pa55" not in message and f"http://127.0.0.1:{port}" in message


@pytest.mark.parametrize("value", ["soon", "inf", "nan", "1e309", "-1", "0"])
def test_bad_timeout_setting(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    """Every FLOWS_* number goes through the one knob parser: finite, in range, one line."""
    monkeypatch.setenv("FLOWS_MLFLOW_TIMEOUT", value)
    with pytest.raises(ConfigError) as err:
        mlflow_source.pull_run(f"mlflow:{RUN}")
    assert str(err.value) == f"FLOWS_MLFLOW_TIMEOUT: expected a positive number (seconds), got {value!r}"


def test_bad_timeout_setting_on_the_command_line_is_one_line(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", "import config_utils, cli_configs as c; config_utils.cli(c.TrainConfig)",
         "--from-run", f"mlflow:{RUN}"],
        capture_output=True, text=True, timeout=120, cwd=tmp_path,
        env={**os.environ, **QUIET_ENV, "FLOWS_MLFLOW_TIMEOUT": "inf", "PYTHONPATH": str(Path(__file__).parent)},
    )
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        "-c: error: FLOWS_MLFLOW_TIMEOUT: expected a positive number (seconds), got 'inf'"
    ]


def test_a_server_that_dribbles_is_bounded_by_the_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """Headers, then a byte every half second: no read ever times out, so the whole pull is
    bounded by the clock (WHOLE_PULL × the timeout) and says so in one line."""
    monkeypatch.setenv("FLOWS_MLFLOW_TIMEOUT", "1")
    with failing_server("dribble") as url:
        monkeypatch.setenv("MLFLOW_TRACKING_URI", url)
        message, elapsed = _timed_failure(f"runs:/{RUN}")
    assert message == (
        f"mlflow:{RUN}: the MLflow server at {url} did not finish answering within 3 s "
        "(3 × the timeout of 1 s; FLOWS_MLFLOW_TIMEOUT)"
    )
    assert elapsed < 30  # the server would dribble on for 100,000 half-seconds


def test_bare_run_id_without_a_tracking_server(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(RunSourceError) as err:
        mlflow_source.pull_run(f"runs:/{RUN}")
    assert str(err.value) == (
        f"mlflow:{RUN}: no MLflow tracking server given: set MLFLOW_TRACKING_URI, or use the "
        "run's page URL (http://HOST/#/experiments/<id>/runs/<run_id>)"
    )
    assert list(tmp_path.iterdir()) == []  # no empty store was made by the attempt


def test_file_store_with_and_without_the_opt_in(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """MLflow ≥ 3.7 refuses ./mlruns-style stores unless MLFLOW_ALLOW_FILE_STORE=true."""
    import mlflow

    uri = (tmp_path / "mlruns").as_uri()
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    cfg = TrainConfig(model=SmallConfig(width=9), seed=2)
    with mlflow.start_run() as run:
        config_utils.push_config(run, cfg)
    nested, text = mlflow_source.pull_run(f"mlflow:{run.info.run_id}")
    assert not text and from_primitives(TrainConfig, nested, where="x") == cfg

    # (mlflow caches a store per URI: the refusal shows on a store not opened before)
    monkeypatch.delenv("MLFLOW_ALLOW_FILE_STORE")
    other = (tmp_path / "other-mlruns").as_uri()
    monkeypatch.setenv("MLFLOW_TRACKING_URI", other)
    with pytest.raises(RunSourceError) as err:
        mlflow_source.pull_run(f"mlflow:{run.info.run_id}")
    assert str(err.value) == (
        f"mlflow:{run.info.run_id}: {other} is a file store, which MLflow refuses unless "
        "MLFLOW_ALLOW_FILE_STORE=true is set"
    )


def test_cli_from_run_errors_exit_2_with_one_line(
    server: MLflowServer, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exc:
        config_utils.cli(
            TrainConfig, args=["--flows:from-run", f"mlflow:{RUN}"], config_file=None, prog="t"
        )
    assert exc.value.code == 2
    assert capsys.readouterr().err == f"t: error: mlflow:{RUN}: run not found on {server.url}\n"


# --------------------------------------------------------------------------------------------
# Lightning and OFC
# --------------------------------------------------------------------------------------------
@pytest.mark.slow
def test_lightning_logger_push_beside_log_hyperparams_and_ofc_changes(
    server: MLflowServer, tmp_path: Path
) -> None:
    """push_config and Lightning's own log_hyperparams share one run without a clash (in both
    orders); OFC changes arrive as metrics (numbers) and tags (the rest)."""
    import pytorch_lightning as pl
    from lightning_fit import WIDTH, LinearModel, fit_on_cpu
    from pytorch_lightning.loggers import MLFlowLogger

    from config_utils.ofc import OFC, OFCCallback

    cfg = TrainConfig(lr=0.5)
    logger = MLFlowLogger(experiment_name="lightning", tracking_uri=server.url)
    logger.log_hyperparams(asdict(cfg))  # Lightning first: keys lr, model/hidden, ...
    config_utils.push_config(logger, cfg)  # then ours: config.lr, config.model.hidden, ...
    logger.log_hyperparams({"cfg": cfg})  # and Lightning again, after ours

    ofc = OFC(cfg, ["lr", "note", "data.root"], tmp_path / "ofc.ini")

    class Model(LinearModel):
        def __init__(self, width: int = WIDTH) -> None:
            super().__init__(lambda: cfg.lr, width=width)
            self.save_hyperparameters()  # Lightning logs these at fit start

    class Submit(pl.Callback):
        def on_train_batch_end(self, trainer: Any, *args: Any) -> None:
            if trainer.global_step == 2:
                assert ofc.submit({"lr": "0.25", "note": "steered", "data.root": "/new"}) == {}

    try:
        fit_on_cpu(Model(), samples=16, max_steps=4, logger=logger,
                   callbacks=[Submit(), OFCCallback(ofc, lr_key="lr")])
    finally:
        ofc.close()
    run = _run(str(logger.run_id))
    params = run.data.params
    assert params["config.lr"] == "0.5" and params["lr"] == "0.5"
    assert params["model/hidden"] == "256" and params["config.model.hidden"] == "256"
    assert params["width"] == "2"  # save_hyperparameters, logged by Lightning at fit start
    from mlflow.tracking import MlflowClient

    history = MlflowClient().get_metric_history(str(logger.run_id), "args/lr")
    assert [(m.step, m.value) for m in history] == [(2, 0.25)]
    assert run.data.tags["args/note"] == "steered"
    assert run.data.tags["args/data.root"] == "/new"
    assert "args/lr" not in run.data.tags
    # the run re-creates the *starting* config (steered values live in the OFC history)
    back = config_utils.cli(
        TrainConfig, args=["--flows:from-run", f"runs:/{logger.run_id}"], config_file=None
    )
    assert back == TrainConfig(lr=0.5)


def test_push_through_a_logger_on_another_rank_does_nothing(
    server: MLflowServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pytorch_lightning.loggers import MLFlowLogger

    monkeypatch.setenv("LOCAL_RANK", "1")
    logger = MLFlowLogger(experiment_name="rank1", tracking_uri=server.url)
    config_utils.push_config(logger, TrainConfig())
    assert logger._run_id is None  # not even a run was created


# --------------------------------------------------------------------------------------------
# without the extras
# --------------------------------------------------------------------------------------------
def _without(modules: list[str], code: str) -> subprocess.CompletedProcess[str]:
    blocker = (
        "import sys\n"
        + "".join(f"sys.modules[{m!r}] = None\n" for m in modules)
        + code
    )
    return subprocess.run(
        [sys.executable, "-c", blocker],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
    )


def test_without_the_mlflow_extra_one_line_names_it(tmp_path: Path) -> None:
    code = (
        "from dataclasses import dataclass\n"
        "import config_utils\n"
        "from config_utils.sources import mlflow as m\n"
        "try:\n"
        "    m.pull_run('mlflow:abc')\n"
        "except config_utils.ConfigError as exc:\n"
        "    print(exc)\n"
        "@dataclass\n"
        "class C:\n"
        "    x: int = 1\n"
        "config_utils.cli(C, args=['--flows:from-run', 'runs:/abc'], config_file=None, prog='p')\n"
    )
    done = _without(["mlflow"], code)
    assert done.stdout == (
        "mlflow:abc: reading an MLflow run needs the 'mlflow' extra: "
        "pip install 'flows-workspace[mlflow]'\n"
    )
    assert done.returncode == 2
    assert done.stderr == (
        "p: error: mlflow:abc: reading an MLflow run needs the 'mlflow' extra: "
        "pip install 'flows-workspace[mlflow]'\n"
    )


def test_without_lightning_ofc_callback_names_the_extra(tmp_path: Path) -> None:
    code = (
        "from dataclasses import dataclass\n"
        "import config_utils\n"
        "@dataclass\n"
        "class C:\n"
        "    lr: float = 0.1\n"
        f"ofc = config_utils.OFC(C(), ['lr'], {str(tmp_path / 'ofc.ini')!r})\n"
        "try:\n"
        "    config_utils.OFCCallback(ofc)\n"
        "except ImportError as exc:\n"
        "    print(type(exc).__name__, exc)\n"
        "finally:\n"
        "    ofc.close()\n"
    )
    done = _without(["pytorch_lightning", "torch"], code)
    assert done.returncode == 0, done.stderr
    assert done.stdout == (
        "MissingExtraError OFCCallback needs the 'lightning' extra: "
        "pip install 'flows-workspace[lightning]'\n"
    )


def test_push_config_entry_point_imports_no_tracker() -> None:
    code = (
        "import sys, config_utils\n"
        "config_utils.push_config\n"
        "heavy = {'mlflow', 'wandb', 'torch', 'pytorch_lightning'} & {m.split('.')[0] for m in sys.modules}\n"
        "print(sorted(heavy))\n"
    )
    done = _without([], code)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "[]\n"
