"""Lightning glue: apply OFC edits during ``trainer.fit`` every N training steps.

Why a callback: the step at which a change applies must be the same on every DDP rank, and
``on_train_batch_end`` runs at the same ``global_step`` on all of them; the callback passes
that step to :meth:`OFC.update`, so history and provenance read ``ofc:step=<global_step>``.

Learning-rate edits need pushing into live objects (the optimizer copied the lr when it was
built). ``lr_key="optim.lr"`` does that: every param group of every optimizer gets the new
lr, and LR schedulers' ``base_lrs`` follow, so a schedule continues from the new base. For
anything else, register your own callback::

    ofc = OFC(cfg, steerables=["optim.lr", "loss.lam"], ofc_file=run_dir / "ofc.ini")

    @functools.partial(ofc.on_change, "loss.lam")
    def _(new, old):
        model.loss.lam = new

    trainer = Trainer(callbacks=[OFCCallback(ofc, every_n_steps=10, lr_key="optim.lr")])

Changes are logged through the trainer's loggers as ``args/<key>`` (numbers and booleans;
loggers write on rank 0 only). When a W&B logger is among them, the OFC's own direct W&B
logging is switched off during the fit so each change is logged once. An MLflow logger also
gets every other change (text, paths, lists, enums) as the tag ``args/<key>``: MLflow
params never change and its metrics are numbers only, while a tag holds the latest value
(the OFC history file keeps them all). Which tracker a logger belongs to is
:func:`config_utils.sources.trackers.tracker_of`'s answer, the one ``push_config`` acts on.

What the module logs with ``self.log`` (the trainer's ``callback_metrics``) is appended to the
OFC's metrics file every ``metrics_every_n_steps`` steps (default: the trainer's
``log_every_n_steps``) at ``global_step``, so the OFC page plots it with a marker at every
applied change, and at the end of the fit the same plot is written as a PNG beside the OFC
file (``ofc-plot.png``, needs matplotlib; without it, one warning).

Without Lightning installed this module still imports; constructing the callback then says
in one line which extra to install.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..sources.trackers import tracker_of
from .core import OFC

if TYPE_CHECKING:
    import pytorch_lightning as pl

    _Callback = pl.Callback
else:
    try:
        from pytorch_lightning import Callback as _Callback

        _IMPORT_ERROR: ImportError | None = None
    except ImportError as _exc:  # the 'lightning' extra (torch + pytorch-lightning) is missing
        _Callback = object
        _IMPORT_ERROR = _exc

__all__ = ["OFCCallback"]


def _missing_lightning() -> None:
    """Raise the one-line "install the extra" error when Lightning could not be imported."""
    exc = globals().get("_IMPORT_ERROR")
    if exc is None:
        return
    from ..extras import MissingExtraError, install_hint

    top = str(getattr(exc, "name", "") or "").split(".")[0]
    if top not in ("pytorch_lightning", "lightning_fabric", "torch"):
        raise exc  # installed but broken: reinstalling the extra would not help
    raise MissingExtraError(
        f"OFCCallback needs the 'lightning' extra: {install_hint('lightning')}",
        module="pytorch_lightning",
        extra="lightning",
    )


class OFCCallback(_Callback):
    """Call ``ofc.update(step=trainer.global_step)`` every ``every_n_steps`` training steps."""

    def __init__(
        self,
        ofc: OFC,
        every_n_steps: int = 1,
        *,
        lr_key: str | None = None,
        log: bool = True,
        metrics: bool = True,
        metrics_every_n_steps: int | None = None,
        plot_png: bool = True,
    ) -> None:
        _missing_lightning()
        if every_n_steps < 1:
            from ..errors import OFCError

            raise OFCError(f"OFCCallback: every_n_steps must be >= 1, got {every_n_steps}")
        if metrics_every_n_steps is not None and metrics_every_n_steps < 1:
            from ..errors import OFCError

            raise OFCError(
                f"OFCCallback: metrics_every_n_steps must be >= 1, got {metrics_every_n_steps}"
            )
        self.metrics = metrics
        self.metrics_every_n_steps = metrics_every_n_steps
        self.plot_png = plot_png
        self._last_metrics_step = -1
        self.ofc = ofc
        self.every_n_steps = int(every_n_steps)
        self.lr_key = lr_key
        self.log = log
        self.last_changes: dict[str, Any] = {}
        self._trainer: pl.Trainer | None = None
        self._last_step = -1
        self._saved_use_wandb: bool | None = None
        if lr_key is not None:
            ofc.on_change(lr_key, self._set_lr)

    # -- Lightning hooks
    def setup(self, trainer: pl.Trainer, pl_module: pl.LightningModule, stage: str) -> None:
        self._trainer = trainer
        if self.log and any(tracker_of(lg) == "wandb" for lg in trainer.loggers):
            self._saved_use_wandb = self.ofc.use_wandb
            self.ofc.use_wandb = False

    def teardown(self, trainer: pl.Trainer, pl_module: pl.LightningModule, stage: str) -> None:
        if self._saved_use_wandb is not None:
            self.ofc.use_wandb = self._saved_use_wandb
            self._saved_use_wandb = None

    def on_fit_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if self.plot_png and self.metrics and trainer.is_global_zero:
            self.ofc.finish_plot()

    def _record_metrics(self, trainer: pl.Trainer, step: int) -> None:
        """Append what the module logged (scalars) to the OFC's metrics file (rank 0)."""
        every = self.metrics_every_n_steps or max(1, int(getattr(trainer, "log_every_n_steps", 1) or 1))
        if step == self._last_metrics_step or step % every or not trainer.is_global_zero:
            return
        self._last_metrics_step = step
        values: dict[str, float] = {}
        for name, value in trainer.callback_metrics.items():
            try:
                values[str(name)] = float(value)  # a 0-d tensor or a number
            except (TypeError, ValueError, RuntimeError):
                continue  # not a scalar: nothing to plot
        if values:
            self.ofc.record_metrics(values, step)

    def on_train_batch_end(
        self,
        trainer: pl.Trainer,
        pl_module: pl.LightningModule,
        outputs: Any,
        batch: Any,
        batch_idx: int,
    ) -> None:
        step = trainer.global_step
        if self.metrics:
            self._record_metrics(trainer, step)
        if step == self._last_step or step % self.every_n_steps:
            return  # gradient accumulation repeats a step; every rank skips alike
        self._last_step = step
        changes = self.ofc.update(step=step)
        if not changes:
            return
        self.last_changes = changes
        if self.log:
            metrics = {
                f"args/{k}": float(v)
                for k, v in changes.items()
                if isinstance(v, (int, float))  # bool is an int
            }
            if metrics:
                for logger in trainer.loggers:
                    logger.log_metrics(metrics, step=step)
            others = {k: v for k, v in changes.items() if f"args/{k}" not in metrics}
            if others and trainer.is_global_zero:
                for logger in trainer.loggers:
                    if tracker_of(logger) == "mlflow":
                        from ..sources import mlflow as mlflow_source

                        mlflow_source.log_changes(
                            logger, others, step, self.ofc.types, metrics=False
                        )

    # -- lr
    def _set_lr(self, new: Any, old: Any) -> None:
        trainer = self._trainer
        if trainer is None:
            return
        lr = float(new)
        for opt in trainer.optimizers:
            for group in opt.param_groups:
                group["lr"] = lr
        for config in trainer.lr_scheduler_configs:
            sched = config.scheduler
            if hasattr(sched, "base_lrs"):
                sched.base_lrs = [lr for _ in sched.base_lrs]
