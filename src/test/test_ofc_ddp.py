"""OFC across processes: torch.distributed (gloo) broadcast, Lightning DDP, and the lr callback.

The multi-process runs are scripts started as real processes (as torchrun / Lightning's DDP
launcher would), each writing what it saw to a JSON file that the test reads back.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env.update(extra)
    return env


GLOO_WORKER = textwrap.dedent(
    """
    import dataclasses, json, os, sys, time, warnings
    import torch.distributed as dist
    from config_utils.ofc import OFC
    from config_utils.atomic import write_atomic
    from config_utils.provenance import provenance

    @dataclasses.dataclass
    class Cfg:
        lr: float = 0.1
        every: int = 5

    out = sys.argv[1]
    rank = int(os.environ["RANK"])
    cfg = Cfg()
    ofc = OFC(cfg, ["lr", "every"], os.path.join(out, "ofc.ini"))  # before the group, as in scripts
    dist.init_process_group("gloo")
    dist.barrier()
    seen, warned = [], []
    for step in range(40):
        if rank == 0 and step == 15:
            # a person edits the file: one good value and one bad one
            text = ofc.ofc_file.read_text()
            write_atomic(ofc.ofc_file, text.replace("lr = 0.1", "lr = 0.02").replace("every = 5", "every = oops"))
            t0 = time.monotonic()
            while not ofc.pending() and time.monotonic() - t0 < 30:
                time.sleep(0.01)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            changes = ofc.update(step=step)
        warned += [str(w.message) for w in caught]
        if changes:
            seen.append([step, changes])
    ofc.close()
    result = {"seen": seen, "warned": warned, "lr": cfg.lr, "prov": provenance(cfg),
              "history": len(ofc.history), "watching": ofc._thread is not None}
    with open(os.path.join(out, f"rank{rank}.json"), "w") as fh:
        json.dump(result, fh)
    dist.barrier()
    dist.destroy_process_group()
    """
)


def test_gloo_two_ranks_apply_same_change_same_step(tmp_path: Path) -> None:
    script = tmp_path / "worker.py"
    script.write_text(GLOO_WORKER)
    port = str(_free_port())
    procs = [
        subprocess.Popen(
            [sys.executable, str(script), str(tmp_path)],
            env=_env(RANK=str(r), WORLD_SIZE="2", MASTER_ADDR="127.0.0.1", MASTER_PORT=port),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for r in range(2)
    ]
    outs = [p.communicate(timeout=240) for p in procs]
    for p, (_, err) in zip(procs, outs, strict=True):
        assert p.returncode == 0, err[-3000:]
    r0, r1 = (json.loads((tmp_path / f"rank{r}.json").read_text()) for r in range(2))
    assert r0["seen"] == r1["seen"] == [[15, {"lr": 0.02}]]
    assert r0["lr"] == r1["lr"] == 0.02
    assert r0["prov"] == r1["prov"] == {"lr": "ofc:step=15"}
    assert r0["history"] == r1["history"] == 1
    path = tmp_path / "ofc.ini"
    line = next(i for i, s in enumerate(path.read_text().splitlines(), 1) if s.startswith("every"))
    assert r0["warned"] == [f"{path}:{line}: every: expected int, got 'oops'; keeping 5"]
    assert r1["warned"] == []  # only rank 0 reads the file and reports
    assert r0["watching"] and not r1["watching"]  # rank 1 never touched the file
    history = (tmp_path / "ofc-history.jsonl").read_text().splitlines()
    assert len(history) == 1  # written by rank 0 only
    assert json.loads(history[0])["step"] == 15


LIGHTNING_SCRIPT = textwrap.dedent(
    """
    import dataclasses, json, os, sys, time
    import torch
    import pytorch_lightning as pl
    from pytorch_lightning.loggers import CSVLogger
    from torch.utils.data import DataLoader, TensorDataset
    from config_utils.ofc import OFC
    from config_utils.atomic import write_atomic
    from config_utils.ofc.lightning import OFCCallback

    EDIT_AT = 8
    out = sys.argv[1]
    devices = int(sys.argv[2])

    @dataclasses.dataclass
    class Optim:
        lr: float = 0.1

    @dataclasses.dataclass
    class Cfg:
        optim: Optim = dataclasses.field(default_factory=Optim)
        width: int = 4

    cfg = Cfg()
    ofc = OFC(cfg, ["optim.lr"], os.path.join(out, "ofc.ini"))

    class Model(pl.LightningModule):
        def __init__(self):
            super().__init__()
            self.layer = torch.nn.Linear(cfg.width, 1)

        def training_step(self, batch, batch_idx):
            x, y = batch
            return torch.nn.functional.mse_loss(self.layer(x), y)

        def configure_optimizers(self):
            opt = torch.optim.SGD(self.parameters(), lr=cfg.optim.lr)
            # a schedule that recomputes lr from base_lrs every step
            sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 1.0)
            return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "step"}}

    class Editor(pl.Callback):
        # rank 0 edits the file mid-training like a person would, then waits for the watcher
        def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
            if trainer.global_rank == 0 and trainer.global_step == EDIT_AT:
                text = ofc.ofc_file.read_text()
                write_atomic(ofc.ofc_file, text.replace("optim.lr = 0.1", "optim.lr = 0.025"))
                t0 = time.monotonic()
                while not ofc.pending() and time.monotonic() - t0 < 30:
                    time.sleep(0.01)

    class Recorder(pl.Callback):
        rows = []

        def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
            lr = trainer.optimizers[0].param_groups[0]["lr"]
            self.rows.append([trainer.global_step, lr, cfg.optim.lr])

        def on_train_end(self, trainer, pl_module):
            with open(os.path.join(out, f"rank{trainer.global_rank}.json"), "w") as fh:
                json.dump({"rows": self.rows, "history": [h.step for h in ofc.history]}, fh)

    torch.manual_seed(0)
    data = TensorDataset(torch.randn(256, cfg.width), torch.randn(256, 1))
    trainer = pl.Trainer(
        strategy="ddp" if devices > 1 else "auto",
        devices=devices,
        accelerator="cpu",
        max_steps=20,
        logger=CSVLogger(out, name="csv"),
        log_every_n_steps=1,
        enable_progress_bar=False,
        enable_checkpointing=False,
        enable_model_summary=False,
        callbacks=[Editor(), OFCCallback(ofc, every_n_steps=1, lr_key="optim.lr"), Recorder()],
    )
    trainer.fit(Model(), DataLoader(data, batch_size=4))
    ofc.close()
    """
)


def _run_lightning(tmp_path: Path, devices: int) -> list[dict[str, Any]]:
    script = tmp_path / "train.py"
    script.write_text(LIGHTNING_SCRIPT)
    env = _env(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(_free_port()), PL_DISABLE_FORK="1")
    proc = subprocess.run(
        [sys.executable, str(script), str(tmp_path), str(devices)],
        env=env,
        capture_output=True,
        text=True,
        timeout=400,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    return [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in range(devices)]


def _first_step_with_lr(rows: list[list[float]], lr: float) -> int:
    return next(int(step) for step, opt_lr, _ in rows if opt_lr == lr)


def _check_lr_rows(rows: list[list[float]]) -> None:
    switch = _first_step_with_lr(rows, 0.025)
    assert switch == 8  # the step at which the edit was made
    for step, opt_lr, cfg_lr in rows:
        expected = 0.1 if step < switch else 0.025
        # the optimizer follows the edit and the LambdaLR schedule does not undo it
        assert (opt_lr, cfg_lr) == (expected, expected), (step, opt_lr, cfg_lr)


def _csv_metric(tmp_path: Path) -> list[tuple[int, float]]:
    import csv

    metrics = next((tmp_path / "csv").rglob("metrics.csv"))
    with metrics.open() as fh:
        return [
            (int(r["step"]), float(r["args/optim.lr"]))
            for r in csv.DictReader(fh)
            if r.get("args/optim.lr")
        ]


def test_lightning_ddp_edit_reaches_both_ranks_same_step(tmp_path: Path) -> None:
    r0, r1 = _run_lightning(tmp_path, devices=2)
    _check_lr_rows(r0["rows"])
    _check_lr_rows(r1["rows"])
    assert r0["history"] == r1["history"] == [8]
    assert len((tmp_path / "ofc-history.jsonl").read_text().splitlines()) == 1
    assert _csv_metric(tmp_path) == [(8, 0.025)]


def test_lightning_single_process_lr_changes(tmp_path: Path) -> None:
    (r0,) = _run_lightning(tmp_path, devices=1)
    _check_lr_rows(r0["rows"])
    assert _csv_metric(tmp_path) == [(8, 0.025)]


def test_callback_in_process_every_n_steps(tmp_path: Path) -> None:
    """``every_n_steps`` spaces the checks; an edit applies at the next multiple."""
    import pytorch_lightning as pl
    import torch
    from lightning_fit import LinearModel, fit_on_cpu

    from config_utils.errors import OFCError
    from config_utils.ofc import OFC, OFCCallback

    @dataclass
    class Cfg:
        lr: float = 0.5

    cfg = Cfg()
    ofc = OFC(cfg, ["lr"], tmp_path / "ofc.ini")
    with pytest.raises(OFCError, match=r"^OFCCallback: every_n_steps must be >= 1, got 0$"):
        OFCCallback(ofc, every_n_steps=0)

    class Submit(pl.Callback):
        def on_train_batch_end(self, trainer: Any, *args: Any) -> None:
            if trainer.global_step == 3:
                assert ofc.submit({"lr": "0.125"}) == {}

    cb = OFCCallback(ofc, every_n_steps=4, lr_key="lr")
    trainer = fit_on_cpu(LinearModel(lambda: cfg.lr, torch.optim.Adam), samples=64, max_steps=10,
                         callbacks=[Submit(), cb])
    ofc.close()
    assert [(h.step, h.new, h.source) for h in ofc.history] == [(4, 0.125, "gui")]
    assert cb.last_changes == {"lr": 0.125}
    assert trainer.optimizers[0].param_groups[0]["lr"] == 0.125


def test_callback_logs_once_through_wandb_logger(tmp_path: Path) -> None:
    """With a WandbLogger the change goes through it; the OFC's own W&B logging pauses."""
    import pytorch_lightning as pl
    from lightning_fit import LinearModel, fit_on_cpu
    from pytorch_lightning.loggers import WandbLogger

    from config_utils.ofc import OFC, OFCCallback

    @dataclass
    class Cfg:
        lr: float = 0.5

    cfg = Cfg()
    ofc = OFC(cfg, ["lr"], tmp_path / "ofc.ini")
    seen_use_wandb: list[bool] = []

    class Submit(pl.Callback):
        def on_train_batch_end(self, trainer: Any, *args: Any) -> None:
            seen_use_wandb.append(ofc.use_wandb)
            if trainer.global_step == 2:
                assert ofc.submit({"lr": "0.25"}) == {}

    logger = WandbLogger(project="ofc-test", save_dir=str(tmp_path), offline=True)
    try:
        trainer = fit_on_cpu(LinearModel(lambda: cfg.lr), samples=32, max_steps=5, logger=logger,
                             callbacks=[Submit(), OFCCallback(ofc, lr_key="lr")])
        assert logger.experiment.summary["args/lr"] == 0.25
        assert set(seen_use_wandb) == {False}  # paused during the fit ...
        assert ofc.use_wandb is True  # ... and restored after
        assert trainer.optimizers[0].param_groups[0]["lr"] == 0.25
    finally:
        ofc.close()
        logger.experiment.finish()
