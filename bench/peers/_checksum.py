"""Checksum of a parsed config, so the benchmark can verify every contender parsed the same thing.

Each peer turns its result (a dataclass instance, a nested dict from hydra/jsonargparse, or a flat
argparse namespace) into the same canonical ``path=value`` lines and prints one line
``checksum=XXXXXXXX leaves=N``. Only stdlib modules that are already loaded or nearly free
(``os``, ``zlib``) are imported, so the helper adds the same negligible cost to every contender.
Set ``BENCH_DUMP=1`` to print the canonical lines too (for finding the odd one out).
"""

from __future__ import annotations

import os
import zlib
from typing import Any

# Paths of union-typed fields: their variant is part of the value (``head._type``).
UNION_PATHS = frozenset({"head"})
# Flat (argparse/prefigure) spelling of the union: ``head_type`` plus per-variant prefixes.
FLAT_HEAD_PREFIX = {"HeadAConfig": "heada_", "HeadBConfig": "headb_"}
FLAT_IGNORED = frozenset({"config_file", "wandb_config"})


def _canon(value: Any) -> str:
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(_canon(v) for v in value) + "]"
    if isinstance(value, str):
        return repr(value)
    return repr(str(value))  # Path and friends


def _flatten(obj: Any, prefix: str, out: dict[str, Any]) -> None:
    fields = getattr(obj, "__dataclass_fields__", None)
    if fields is not None:
        if prefix.rstrip(".") in UNION_PATHS:
            out[prefix + "_type"] = type(obj).__name__
        for name in fields:
            _flatten(getattr(obj, name), prefix + name + ".", out)
        return
    if isinstance(obj, dict):
        for key, val in obj.items():
            _flatten(val, prefix + str(key) + ".", out)
        return
    out[prefix[:-1]] = obj


def _unflat(flat: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    variant = flat.get("head_type")
    if variant is not None:
        out["head._type"] = variant
    keep = FLAT_HEAD_PREFIX.get(str(variant), "")
    for key, val in flat.items():
        if key in FLAT_IGNORED or key == "head_type":
            continue
        if key.startswith(tuple(FLAT_HEAD_PREFIX.values())):
            if keep and key.startswith(keep):
                out["head." + key[len(keep):]] = val
            continue
        sec, _, fld = key.partition("_")
        out[f"{sec}.{fld}" if fld else key] = val
    return out


def checksum(result: Any, *, flat: bool = False) -> tuple[str, int]:
    """Return ``(crc32 hex, number of leaves)`` of a parsed config."""
    leaves: dict[str, Any] = {}
    if flat:
        leaves = _unflat(dict(result))
    else:
        _flatten(result, "", leaves)
    lines = [f"{k}={_canon(v)}" for k, v in sorted(leaves.items())]
    if os.environ.get("BENCH_DUMP"):
        print("\n".join(lines))
    return f"{zlib.crc32(chr(10).join(lines).encode()):08x}", len(lines)


def print_checksum(result: Any, *, flat: bool = False) -> None:
    """Print the line the benchmark reads: ``checksum=XXXXXXXX leaves=N``."""
    digest, n = checksum(result, flat=flat)
    print(f"checksum={digest} leaves={n}")
