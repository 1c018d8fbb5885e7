"""Where every value came from: ``default``, ``defaults.ini:12``, ``cli:--loss.lam``, ``ofc:step=1200``.

Provenance is kept beside the config object, not inside it, so user dataclasses stay plain
(equality, ``asdict`` and pickling are unaffected). Configs are weakly referenced; objects
that cannot be (slotted classes) fall back to an id-keyed table.
"""

from __future__ import annotations

import weakref
from typing import Any

_BY_OBJECT: weakref.WeakKeyDictionary[Any, dict[str, str]] = weakref.WeakKeyDictionary()
_BY_ID: dict[int, tuple[Any, dict[str, str]]] = {}


def _table(cfg: Any, create: bool) -> dict[str, str] | None:
    try:
        table = _BY_OBJECT.get(cfg)
        if table is None and create:
            table = _BY_OBJECT[cfg] = {}
        return table
    except TypeError:  # not weak-referenceable
        entry = _BY_ID.get(id(cfg))
        if entry is not None and entry[0] is cfg:
            return entry[1]
        if not create:
            return None
        table = {}
        _BY_ID[id(cfg)] = (cfg, table)
        return table


def provenance(cfg: Any) -> dict[str, str]:
    """Dotted leaf path → the source that set it (a copy). Empty for configs not built here."""
    table = _table(cfg, create=False)
    return dict(table) if table else {}


def set_provenance(cfg: Any, mapping: dict[str, str]) -> None:
    """Replace the provenance of ``cfg``."""
    table = _table(cfg, create=True)
    assert table is not None
    table.clear()
    table.update(mapping)


def record(cfg: Any, path: str, source: str) -> None:
    """Note that ``path`` was just set by ``source`` (e.g. an OFC edit)."""
    table = _table(cfg, create=True)
    assert table is not None
    table[path] = source
