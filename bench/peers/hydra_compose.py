"""Contender: hydra's compose API on the same tree written as yaml (``hydra_conf/``).

OmegaConf structured configs reject ``Literal`` fields and unions of dataclasses, so the tree
is generated as yaml with a ``head`` config group (``head=head_b`` picks the variant); overrides
use hydra's ``key=value`` syntax.
"""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from _checksum import print_checksum  # noqa: E402
from hydra import compose, initialize_config_dir  # noqa: E402
from omegaconf import OmegaConf  # noqa: E402

with initialize_config_dir(config_dir=os.path.join(HERE, "hydra_conf"), version_base=None):
    cfg = compose(config_name="config", overrides=sys.argv[1:])
print_checksum(OmegaConf.to_container(cfg, resolve=True))
