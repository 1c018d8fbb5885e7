"""A prefigure-style training script, switched to flows-workspace by changing one import.

It follows prefigure's README: settings come from ``defaults.ini`` (next to this file),
``--wandb-config <run url>`` pulls a previous run's settings, the command line overrides both;
``push_wandb_config`` archives the settings in W&B; ``OFC`` lets you steer the run by editing
``<name>-ofc.ini`` in the W&B run directory while it trains.

    python examples/prefigure/train.py --batch-size 16 --check-ofc-every 10
    python examples/prefigure/train.py --help

Small on purpose: a linear model on synthetic data, CPU, a few seconds; W&B runs offline
unless WANDB_MODE says otherwise.
"""

from __future__ import annotations

import os
from pathlib import Path

from prefigure_compat import OFC, get_all_args, push_wandb_config

STEPS = 200


def main() -> None:
    # 1. defaults.ini < W&B run (--wandb-config) < command line
    args = get_all_args(defaults_file=str(Path(__file__).with_name("defaults.ini")))

    import torch  # heavy imports after argument parsing, so --help is instant
    import wandb

    os.environ.setdefault("WANDB_MODE", "offline")
    torch.manual_seed(args.seed)
    run = wandb.init(project=str(args.name), config={})
    # 2. archive the settings; the data directory is machine-specific, keep it out of W&B
    push_wandb_config(run, args, omit=["training_dir"])
    # 3. steer learning rate and logging cadence while training
    ofc = OFC(args, ofc_file=os.path.join(run.dir, "ofc.ini"),
              steerables=["ema_decay", "demo_every", "checkpoint_every"])
    print(f"steer this run by editing {ofc.ofc_file}")

    dim = args.latent_dim
    true_w = torch.randn(dim, 1)
    model = torch.nn.Linear(dim, 1)
    ema = [p.detach().clone() for p in model.parameters()]
    opt = torch.optim.SGD(model.parameters(), lr=0.05)
    for step in range(1, STEPS + 1):
        x = torch.randn(args.batch_size, dim)
        loss = torch.nn.functional.mse_loss(model(x), x @ true_w)
        opt.zero_grad()
        loss.backward()
        opt.step()
        with torch.no_grad():
            for e, p in zip(ema, model.parameters(), strict=True):
                e.mul_(args.ema_decay).add_(p.detach(), alpha=1 - args.ema_decay)
        if step % args.check_ofc_every == 0:
            changes = ofc.update(step)  # args updated in place
            if changes:
                run.log({"args/" + k: v for k, v in changes.items()}, step=step)
        if step % args.demo_every == 0:
            print(f"step {step}: loss {loss.item():.4f}")
            run.log({"loss": loss.item()}, step=step)
    ofc.close()
    run.finish()


if __name__ == "__main__":
    main()
