"""prefigure's OFC example (``examples/ofc_test.py`` in prefigure's repository), on prefigure_compat.

What it does, as prefigure's example does: read the settings (``defaults.ini`` here, which is
prefigure's own example file), open a W&B run through Lightning's ``WandbLogger`` named after
``args.name``, archive the settings without ``training_dir``, start on-the-fly control with the
web GUI for six settings, then check the OFC file every little while, forever (Ctrl-C ends it).
``learning_rate`` is one of the six although prefigure's ``defaults.ini`` has no such key: it
is ignored with a warning, as prefigure ignores it silently.

    cd examples/prefigure && WANDB_MODE=offline python steer.py --name steer-demo
    # then edit steer-demo-ofc.ini here (or use the printed GUI link): "OFC: ... has been changed"

The only line that differs from a prefigure script is the import.
"""

from __future__ import annotations

import time

from prefigure_compat import OFC, get_all_args, push_wandb_config

STEERED = ["learning_rate", "demo_every", "demo_steps", "num_demos", "checkpoint_every", "ema_decay"]


def main() -> None:
    args = get_all_args()  # defaults.ini < --wandb-config RUN < command line
    print("Args =", args, flush=True)

    import pytorch_lightning as pl  # after parsing, so --help stays instant

    logger = pl.loggers.WandbLogger(project=args.name)
    push_wandb_config(logger, args, omit=["training_dir"])
    ofc = OFC(args, use_gui=True, steerables=STEERED, use_wandb=True)
    print(f"ofc.gradio_url = {ofc.gradio_url}", flush=True)
    print(f"edit {ofc.ofc_file} to steer", flush=True)
    while True:
        changes = ofc.update()  # prints "OFC: <key> has been changed to <value>" per change
        if changes:
            print(f"changed: {changes}", flush=True)
        time.sleep(0.2)


if __name__ == "__main__":
    main()
