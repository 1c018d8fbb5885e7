"""The one answer to "which process of a distributed job is this?".

Why one: the W&B/MLflow push must run on rank 0 only, the OFC file is read and written by
rank 0 only, and a sweep trial's report comes from rank 0 only. Two detectors that read the
launcher variables in different orders disagreed (``LOCAL_RANK=0 SLURM_PROCID=3`` is the
fourth process of the job: global rank 3, although it is the first on its node).

The order of evidence:

1. an initialised ``torch.distributed`` process group (only if torch is already imported:
   asking must not import torch);
2. the launchers' *global* rank variables (``RANK`` from torchrun and Lightning,
   ``SLURM_PROCID``, ``PMI_RANK``, ``OMPI_COMM_WORLD_RANK``, ``JSM_NAMESPACE_RANK``);
3. a non-zero ``LOCAL_RANK`` or ``NODE_RANK`` outweighs a global variable that says 0 (then
   the process is certainly not rank 0: Lightning starts its DDP workers inside one SLURM task,
   so they all inherit ``SLURM_PROCID=0`` and differ only in ``LOCAL_RANK``); a zero local
   rank proves nothing on a multi-node job;
4. Lightning's ``rank_zero_only.rank`` if Lightning is imported (it reads the same
   variables, but only once, at import);
5. otherwise rank 0: a process that no launcher started is the only one.
"""

from __future__ import annotations

import os
import sys

__all__ = ["GLOBAL_RANK_VARS", "is_rank_zero", "process_rank"]

GLOBAL_RANK_VARS = ("RANK", "SLURM_PROCID", "PMI_RANK", "OMPI_COMM_WORLD_RANK", "JSM_NAMESPACE_RANK")
_LOCAL_RANK_VARS = ("LOCAL_RANK", "NODE_RANK")


def _env_int(var: str) -> int | None:
    text = os.environ.get(var, "").strip()
    return int(text) if text.isdigit() and len(text) < 10 else None


def process_rank() -> int:
    """This process's global rank (0 when nothing says otherwise)."""
    dist = sys.modules.get("torch.distributed")
    if dist is not None:
        try:
            if dist.is_available() and dist.is_initialized():
                return int(dist.get_rank())
        except Exception:  # a half-torn-down group: fall back to what the launcher said
            pass
    announced = next((r for r in map(_env_int, GLOBAL_RANK_VARS) if r is not None), None)
    if announced:
        return announced
    local = next((r for r in map(_env_int, _LOCAL_RANK_VARS) if r), None)
    if local:
        return local
    if announced == 0:
        return 0
    for name in ("lightning_fabric.utilities.rank_zero", "pytorch_lightning.utilities.rank_zero"):
        module = sys.modules.get(name)
        rank = getattr(getattr(module, "rank_zero_only", None), "rank", None)
        if isinstance(rank, int):
            return rank
    return 0


def is_rank_zero() -> bool:
    """True on the process that pushes configs, owns the OFC file and reports metrics."""
    return process_rank() == 0
