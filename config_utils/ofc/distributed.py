"""Rank 0 reads the OFC file; every rank applies the same change at the same step.

Imported by :meth:`config_utils.ofc.core.OFC.update` only once ``torch.distributed`` is
imported *and* initialised, so ``import config_utils`` never pulls in torch.

Why two collectives: every ``update()`` must agree across ranks on whether something changed,
but a pickled ``broadcast_object_list`` costs several times a one-element tensor broadcast.
So rank 0 first broadcasts a flag (one int64); only when it is set does it broadcast the
change set ``(step, {key: (value, source)})``. All ranks must therefore call ``update()`` at
the same steps — :class:`config_utils.ofc.lightning.OFCCallback` does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .core import OFC

__all__ = ["Broadcaster", "broadcaster_for"]


class Broadcaster:
    """Flag + object broadcast from global rank 0 over the default process group."""

    def __init__(self) -> None:
        import torch
        import torch.distributed as dist

        self._dist = dist
        self.group: Any = dist.group.WORLD
        self.rank: int = dist.get_rank()
        self.world_size: int = dist.get_world_size()
        backend = str(dist.get_backend())
        # NCCL only moves CUDA tensors; gloo/mpi use CPU tensors.
        self.device: Any = (
            torch.device("cuda", torch.cuda.current_device())
            if backend == "nccl"
            else torch.device("cpu")
        )
        self._flag = torch.zeros(1, dtype=torch.int64, device=self.device)

    def exchange(self, payload: Any) -> Any:
        """Rank 0 passes its payload (None = nothing changed); every rank gets rank 0's."""
        flag = self._flag
        if self.rank == 0:
            flag.fill_(0 if payload is None else 1)
        self._dist.broadcast(flag, src=0)
        if not int(flag.item()):
            return None
        box = [payload if self.rank == 0 else None]
        self._dist.broadcast_object_list(box, src=0, device=self.device)
        return box[0]


def broadcaster_for(ofc: OFC) -> Broadcaster | None:
    """The broadcaster for the current default group, or None when world size is 1."""
    import torch.distributed as dist

    group = dist.group.WORLD
    bcast: Broadcaster | None = ofc._bcast
    if bcast is not None and bcast.group is group:
        return bcast
    if dist.get_world_size() <= 1:
        return None
    bcast = Broadcaster()
    ofc._bcast = bcast
    ofc._set_rank(bcast.rank)
    return bcast
