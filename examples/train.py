"""The main job: a small, real PyTorch Lightning run configured by flows-workspace.

What it shows, in order:
  * model and loss parts are registered classes; their ``XConfig`` dataclasses nest into
    one ``TrainConfig``; the loss has a union-typed part (``loss.module``: MSE or Huber);
  * ``config_utils.cli`` layers ``examples/defaults.ini`` < a previous run
    (``--wandb-config RUN``) < the command line, with provenance (``--print-config``);
  * ``registry.configure_submodules`` builds the model and the loss from the config;
  * W&B (offline by default) or MLflow (``--tracker mlflow``) gets the typed config via
    ``push_config``; the run directory holds the run record, the OFC file and its change
    history;
  * on-the-fly control: edit ``ofc.ini`` in the run directory while it trains, and
    ``optim.lr`` / ``loss.lam`` / ``log_every`` / ``max_steps`` change at the next check;
    ``--gui`` serves the same control as a web page that also plots the run's loss live, with a
    marker at every applied change (``ofc-plot.png`` in the run directory at the end).

Try:
    python examples/train.py --print-config
    python examples/train.py --model.hidden 64 loss.module:huber --loss.module.delta 0.5
    python examples/train.py --wandb-config logs/train/<run> --optim.lr 0.003
    python examples/train.py --wandb-mode online --project my-project   # needs a W&B key
    python examples/train.py --tracker mlflow        # MLFLOW_TRACKING_URI, else logs/mlflow.db
    python examples/train.py --from-run http://127.0.0.1:5000/#/experiments/1/runs/<run_id>
    python examples/train.py --gui --max-steps 20000  # steer from a web page, metrics plotted live
"""

from __future__ import annotations

import logging
import os
import sys
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Optional, Union

import config_utils
from config_utils.extras import MissingExtraError, require
from config_utils.registry import registry

HERE = Path(__file__).resolve().parent


# The main job needs torch, Lightning and W&B (`make` installs them; the base install has
# only tyro): say which extra is missing in one line, as the library does, not a traceback.
try:
    for _module, _extra in (("torch", "lightning"), ("pytorch_lightning", "lightning"), ("wandb", "wandb")):
        require(_module, _extra, feature="examples/train.py")
except MissingExtraError as _missing:
    print(f"train.py: error: {_missing}", file=sys.stderr)
    raise SystemExit(2) from None

# --- registered parts: torch at module level, as in a user's model file ---------------------------
import torch  # noqa: E402
from torch import nn  # noqa: E402


@dataclass
class MLPConfig:
    """A multi-layer perceptron."""

    hidden: int = 32
    """width of each hidden layer"""
    depth: int = 2
    """number of hidden layers"""
    activation: Literal["relu", "tanh"] = "relu"
    """non-linearity between layers"""


@registry.register_with_config
class MLP(nn.Module):
    def __init__(self, hidden: int, depth: int, activation: str, in_dim: int = 8, out_dim: int = 1):
        super().__init__()
        act = {"relu": nn.ReLU, "tanh": nn.Tanh}[activation]
        layers: list[nn.Module] = []
        width = in_dim
        for _ in range(depth):
            layers += [nn.Linear(width, hidden), act()]
            width = hidden
        layers.append(nn.Linear(width, out_dim))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


@dataclass
class MSEConfig:
    reduction: Literal["mean", "sum"] = "mean"
    """how to reduce the squared errors"""


@registry.register_with_config
class MSE(nn.Module):
    def __init__(self, reduction: str):
        super().__init__()
        self.fn = nn.MSELoss(reduction=reduction)

    def forward(self, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return self.fn(pred, target)


@dataclass
class HuberConfig:
    delta: float = 1.0
    """where the loss turns from quadratic to linear"""


@registry.register_with_config
class Huber(nn.Module):
    def __init__(self, delta: float):
        super().__init__()
        self.fn = nn.HuberLoss(delta=delta)

    def forward(self, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return self.fn(pred, target)


@dataclass
class LossConfig:
    lam: float = 1.0
    """weight of the data term (steerable while training)"""
    module: Union[MSEConfig, HuberConfig] = field(default_factory=MSEConfig)
    """the data term: choose with loss.module:mse or loss.module:huber"""


@registry.register_with_config("LossConfig")
class Loss(nn.Module):
    def __init__(self, lam: float, module: nn.Module):
        super().__init__()
        self.lam = lam
        self.module = module

    def forward(self, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return self.lam * self.module(pred, target)


@dataclass
class OptimConfig:
    lr: float = 1e-2
    """learning rate (steerable while training)"""
    weight_decay: float = 0.0
    """AdamW weight decay"""


@dataclass
class TrainConfig:
    """Train a small MLP on synthetic regression data, on CPU."""

    model: MLPConfig = field(default_factory=MLPConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    seed: int = 0
    """random seed for data and weights"""
    max_steps: int = 200
    """training steps (steerable: lengthen or end a run while it trains)"""
    batch_size: int = 32
    """examples per step"""
    log_every: int = 20
    """steps between printed losses (steerable)"""
    ofc_every: int = 10
    """steps between checks of the OFC file"""
    tracker: Literal["wandb", "mlflow"] = "wandb"
    """where the config and metrics go: W&B, or MLflow (the server in MLFLOW_TRACKING_URI,
    else a SQLite store in logs_root)"""
    wandb_mode: Literal["offline", "online", "disabled"] = "offline"
    """W&B mode; online needs a W&B API key"""
    project: str = "flows-demo"
    """W&B project name (the experiment name in MLflow)"""
    run_name: Optional[str] = None
    """name of the run directory; None: the start time (e.g. 2026-11-30_10-00-00)"""
    logs_root: Path = Path("logs")
    """where run directories are created"""
    gui: bool = False
    """serve the OFC page on 127.0.0.1: steer the run, watch its metrics live, changes marked"""


STEERABLES = ["optim.lr", "loss.lam", "log_every", "max_steps"]


def main(argv: list[str] | None = None) -> Path:
    cfg = config_utils.cli(TrainConfig, args=argv, config_file=HERE / "defaults.ini")

    os.environ.setdefault("WANDB_SILENT", "true")
    # keep the demo's output about the run: Lightning's start-up banners are INFO-level
    logging.getLogger("pytorch_lightning.utilities.rank_zero").setLevel(logging.WARNING)
    warnings.filterwarnings("ignore", message=r".*LeafSpec.*")
    # on a machine with SLURM tools installed Lightning suggests `srun`; the demo runs locally
    warnings.filterwarnings("ignore", message=r".*The `srun` command is available.*")
    import pytorch_lightning as pl

    run_dir = config_utils.run_dir_for(__file__, name=cfg.run_name, logs_root=cfg.logs_root)
    record = config_utils.save_run(cfg, run_dir)
    print(f"run directory: {run_dir}")
    print(f"run record:    {record}")

    pl.seed_everything(cfg.seed, verbose=False)
    parts = registry.configure_submodules(cfg)  # TrainConfig is not registered: rebuilt with parts
    model_net, loss_fn = parts.model, parts.loss

    ofc = config_utils.OFC(cfg, steerables=STEERABLES, ofc_file=run_dir / "ofc.ini", gui=cfg.gui)
    print(f"OFC file:      {ofc.ofc_file}  (edit it while training: {', '.join(STEERABLES)})")

    class Regressor(pl.LightningModule):
        def __init__(self) -> None:
            super().__init__()
            self.net = model_net
            self.loss_fn = loss_fn

        def training_step(self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int) -> torch.Tensor:
            x, y = batch
            self.loss_fn.lam = cfg.loss.lam  # steered values are read from cfg each step
            loss = self.loss_fn(self.net(x), y)
            self.log("train/loss", loss, prog_bar=False)
            if self.global_step % max(cfg.log_every, 1) == 0:
                print(f"step {self.global_step:4d}  loss {loss.item():.4f}  lr {cfg.optim.lr:g}")
            return loss

        def configure_optimizers(self) -> torch.optim.Optimizer:
            return torch.optim.AdamW(self.parameters(), lr=cfg.optim.lr, weight_decay=cfg.optim.weight_decay)

    g = torch.Generator().manual_seed(cfg.seed)
    x = torch.randn(1024, 8, generator=g)
    y = (x @ torch.randn(8, 1, generator=g)).tanh() + 0.05 * torch.randn(1024, 1, generator=g)
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), batch_size=cfg.batch_size, shuffle=True)

    logger = _logger(cfg, run_dir)
    config_utils.push_config(logger, cfg)  # W&B or MLflow, decided by the logger's type

    trainer = pl.Trainer(
        max_steps=cfg.max_steps,
        accelerator="cpu",
        devices=1,
        logger=logger,
        callbacks=[config_utils.OFCCallback(ofc, every_n_steps=cfg.ofc_every, lr_key="optim.lr")],
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        log_every_n_steps=10,
    )
    # a steered max_steps moves the end of the run (below the current step: it ends now)
    ofc.on_change("max_steps", lambda new, old: setattr(trainer.fit_loop.epoch_loop, "max_steps", new))
    trainer.fit(Regressor(), loader)
    ofc.close()  # the plot of the run (metrics + changes) is written as ofc-plot.png beside the record
    if ofc.ofc_file.with_name("ofc-plot.png").exists():
        print(f"plot:          {ofc.ofc_file.with_name('ofc-plot.png')}")
    if ofc.history:
        print(f"OFC changes:   {len(ofc.history)} (history: {ofc.history_file})")
    if cfg.tracker == "wandb":
        import wandb

        wandb.finish()
    print(f"done: {run_dir}")
    return run_dir


def _logger(cfg: TrainConfig, run_dir: Path) -> Any:
    """The Lightning logger of the chosen tracker. MLflow: the server in MLFLOW_TRACKING_URI,
    else a local SQLite store beside the run directories (artifacts next to it)."""
    if cfg.tracker == "wandb":
        from pytorch_lightning.loggers import WandbLogger

        wandb = require("wandb", "wandb")
        # The run is started here and handed to Lightning: its WandbLogger passes
        # `anonymous=None` to wandb.init, which makes wandb 0.31 warn on every run that "the
        # anonymous setting has no effect" -- a false alarm in the demo's output.
        run = wandb.init(project=cfg.project, name=run_dir.name, dir=str(run_dir), mode=cfg.wandb_mode)
        return WandbLogger(experiment=run, save_dir=str(run_dir))
    from pytorch_lightning.loggers import MLFlowLogger

    uri = os.environ.get("MLFLOW_TRACKING_URI")
    artifacts = None
    if not uri:
        root = cfg.logs_root.resolve()
        uri = f"sqlite:///{root / 'mlflow.db'}"
        artifacts = (root / "mlartifacts").as_uri()
    logger = MLFlowLogger(experiment_name=cfg.project, run_name=run_dir.name, tracking_uri=uri, artifact_location=artifacts)
    if uri.startswith(("http://", "https://")):
        print(f"MLflow run:    {uri.rstrip('/')}/#/experiments/{logger.experiment_id}/runs/{logger.run_id}")
    else:
        print(f"MLflow run:    runs:/{logger.run_id}  (with MLFLOW_TRACKING_URI={uri})")
    return logger


if __name__ == "__main__":
    main(sys.argv[1:])
