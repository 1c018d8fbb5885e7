"""On-the-fly control: steer a running job by editing a file (or a web page).

``OFC`` and ``OFCWarning`` are light (standard library only); ``OFCCallback`` needs
Lightning and loads on first access.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .core import OFC, Change, OFCWarning

__all__ = ["OFC", "Change", "OFCCallback", "OFCWarning"]


def __getattr__(name: str) -> Any:
    if name == "OFCCallback":
        from .lightning import OFCCallback

        return OFCCallback
    raise AttributeError(f"module 'config_utils.ofc' has no attribute {name!r}")


if TYPE_CHECKING:
    from .lightning import OFCCallback
