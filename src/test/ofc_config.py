"""The small config an OFC steers in the plot and race tests and the plot bench.

Two steerable values a person changes at the page or in the file: ``optim.lr`` (a nested
float, 0.001) and ``lam`` (a top-level float, 1.0). Tests assert on these defaults (a marker
reads ``lam 1.0 → 0.5``), so a module that needs more fields subclasses :class:`Cfg`.
"""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass
class Optim:
    lr: float = 0.001


@dataclasses.dataclass
class Cfg:
    optim: Optim = dataclasses.field(default_factory=Optim)
    lam: float = 1.0
