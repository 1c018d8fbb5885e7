"""What every tracker shares: the config as primitives, omitted keys, and the ``OMITTED``
marker.

W&B (:mod:`.wandb`) and MLflow (:mod:`.mlflow`) push the same typed config the same way; these
helpers are that common part, so neither tracker module reaches into the other.

``OMITTED`` is prefigure's convention for trackers, and only theirs: a pushed key whose value
must not be stored (a token) is stored as the string ``"OMITTED"``, and a pull from a tracker
skips such keys so the lower layers' value stays (:func:`drop_omitted`). Nowhere else is the
string special: ``--name OMITTED``, ``name = OMITTED`` in an ini file and a run record written
by ``save_run`` all mean the text ``OMITTED``.
"""

from __future__ import annotations

import argparse
import dataclasses
from typing import Any

from ..errors import ConfigError, did_you_mean

OMITTED = "OMITTED"
"""The value a tracker push stores for an omitted key; a tracker pull skips it."""


def drop_omitted(flat: dict[str, Any]) -> dict[str, Any]:
    """A tracker pull's flat values without the keys pushed as :data:`OMITTED`."""
    return {k: v for k, v in flat.items() if not (isinstance(v, str) and v == OMITTED)}


def config_primitives(cfg: Any) -> dict[str, Any]:
    """``cfg`` (dataclass, Namespace or mapping) as nested JSON primitives with ``_type`` tags."""
    from ..tree import primitive, to_primitives

    if isinstance(cfg, argparse.Namespace) or (
        dataclasses.is_dataclass(cfg) and not isinstance(cfg, type)
    ):
        return to_primitives(cfg)
    if isinstance(cfg, dict):
        out = primitive(cfg)
        assert isinstance(out, dict)
        return out
    raise ConfigError(
        f"push_config: expected a dataclass config, an argparse.Namespace or a dict, got "
        f"{type(cfg).__name__}"
    )


def pushed_values(cfg: Any, omit: list[str]) -> dict[str, Any]:
    """What a tracker push stores as the config: :func:`config_primitives` with each
    ``omit`` path replaced by :data:`OMITTED` (an unknown path is an error)."""
    values = config_primitives(cfg)
    for path in omit:
        omit_path(values, path)
    return values


def omit_path(values: dict[str, Any], path: str) -> None:
    """Replace the value at dotted ``path`` by ``"OMITTED"``; unknown paths are errors."""
    node: Any = values
    parts = path.split(".")
    for i, part in enumerate(parts):
        if not isinstance(node, dict) or part not in node:
            from ..tree import flatten

            known = {k for k in flatten(values) if not k.endswith("_type")}
            known |= {k.rsplit(".", n)[0] for k in known for n in range(1, k.count(".") + 1)}
            raise ConfigError(
                f"push_config: omit key {path!r} is not in the config{did_you_mean(path, known)}"
            )
        if i == len(parts) - 1:
            node[part] = OMITTED
        else:
            node = node[part]


def tracker_record(cfg: Any, omit: list[str]) -> dict[str, Any]:
    """The run record a tracker push stores: :func:`~config_utils.sources.runs.make_record`
    with the ``omit`` paths as :data:`OMITTED` in its config and masked in its command line,
    as JSON primitives (what the tracker stores is exactly what a pull reads)."""
    import json

    from .runs import make_record

    record = make_record(cfg)
    for key in omit:
        omit_path(record["config"], key)
    if omit:
        record["argv"] = mask_argv(list(record.get("argv") or []), omit)
    out: dict[str, Any] = json.loads(json.dumps(record, default=str))
    return out


def mask_argv(argv: list[str], omit: list[str]) -> list[str]:
    """``--data.token s3cret`` / ``--data.token=s3cret`` → the value replaced by OMITTED."""
    flags = {f"--{p}" for p in omit} | {f"--{p.replace('_', '-')}" for p in omit}
    out: list[str] = []
    mask_next = False
    for arg in argv:
        if mask_next and not arg.startswith("--"):
            out.append(OMITTED)
            continue
        mask_next = arg in flags
        name = arg.split("=", 1)[0]
        out.append(f"{name}={OMITTED}" if "=" in arg and name in flags else arg)
    return out
