"""prefigure 0.0.10's API over config_utils (placeholder, replaced below)."""
from ._args import (
    DEFAULTS_FILE,
    arg_eval,
    get_all_args,
    parse_imports,
    pull_wandb_config,
    read_config,
    read_defaults,
    setup_args,
    setup_gin,
)
from ._wandb import push_wandb_config
