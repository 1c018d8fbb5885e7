"""The default ``config_utils.cli`` hands to tyro: the config file and the previous run chosen
from the built-in flags, merged over the class defaults and ``default=`` (lowest first), with
the provenance of every layered value.
"""

from __future__ import annotations

import typing
from pathlib import Path
from typing import Any

from .argv import (
    Builtins,
    UsageError,
)
from .layers import DEFAULT, Layer, _Defaults, merge
from .schema import TYPE_KEY, is_config_instance
from .sources.files import read_file
from .targets import Target

if typing.TYPE_CHECKING:
    from .registry import Registry


DEFAULT_CONFIG_FILE = "defaults.ini"


def run_layer(source: str, cls: type | None = None, registry: Registry | None = None) -> Layer:
    """A previous run's config as a layer (:func:`config_utils.sources.previous.run_layer`:
    a local run directory, an offline W&B run directory, an MLflow run or a W&B run)."""
    from .sources.previous import run_layer as previous_run_layer

    return previous_run_layer(source, cls, registry)


def file_layers(opts: Builtins, config_file: str | Path | None, target: Target) -> list[Layer]:
    explicit = opts.config_file is not None
    if explicit:
        path = Path(str(opts.config_file))
    elif config_file is not None:
        path = Path(config_file)
    else:
        return []
    wanted = explicit or str(config_file) != DEFAULT_CONFIG_FILE
    if not wanted and not path.is_file():
        return []
    if target.cls is None and target.kind != "union":
        if wanted:
            raise UsageError(f"{path}: a config file needs a dataclass (or function) target")
        return []
    return [read_file(path)]


def _take_top_type(layers: list[Layer], members: tuple[type, ...], registry: Registry | None) -> tuple[type | None, str]:
    """For a top-level union target: the variant the highest layer names with ``_type``."""
    from .layers import resolve_variant

    chosen: type | None = None
    source = DEFAULT
    union_type = typing.Union[members]  # type: ignore[valid-type]  # noqa: UP007
    for layer in layers:
        raw = layer.values.pop(TYPE_KEY, None)
        if raw is not None:
            chosen = resolve_variant(raw.value, union_type, key=TYPE_KEY, where=raw.source, registry=registry)
            source = raw.source
    return chosen, source


class Built:
    """The merged default handed to tyro and what provenance needs to know about it.

    ``cls``: the dataclass the layers and the grammar work on; ``default``: what tyro gets as
    ``default=`` (UNSET for none); ``prov``: provenance of the layered values; ``layered``: a
    file or run layer took part; ``union_members``: a top-level union target's members.
    """

    __slots__ = ("cls", "default", "prov", "layered", "chosen_by", "top_type", "union_members", "_defaults")

    def __init__(
        self,
        cls: type | None,
        default: Any,
        prov: dict[str, str],
        layered: bool,
        chosen_by: dict[str, str],
        top_type: tuple[type | None, str] = (None, DEFAULT),
        union_members: tuple[type, ...] = (),
    ) -> None:
        self.cls = cls
        self.default = default
        self.prov = prov
        self.layered = layered
        self.chosen_by = chosen_by
        self.top_type = top_type
        self.union_members = union_members
        self._defaults: _Defaults | None = None

    def current_variant(self, union: str) -> type | None:
        if self.cls is None:
            return None
        if self._defaults is None:
            base = self.default if is_config_instance(self.default) else None
            self._defaults = _Defaults(self.cls, base)
        return self._defaults.class_at(union)


def build_default(
    target: Target, layers: list[Layer], default: Any, strict: bool, registry: Registry | None
) -> Built:
    base = default if is_config_instance(default) else None
    cls = target.cls
    top: tuple[type | None, str] = (None, DEFAULT)
    if target.kind == "union":
        chosen, source = _take_top_type(layers, target.members, registry) if layers else (None, DEFAULT)
        if chosen is None and base is not None and type(base) in target.members:
            chosen = type(base)
        if chosen is not None and base is not None and type(base) is not chosen:
            base = None
        cls = chosen
        top = (chosen, source)
        if cls is None:
            if any(layer.values for layer in layers):
                raise UsageError(
                    f"{layers[-1].name}: the config is one of "
                    f"{', '.join(m.__name__ for m in target.members)}; set {TYPE_KEY} to choose"
                )
            return Built(None, default, {}, False, {}, top, target.members)
    if cls is None or not layers:
        return Built(cls, default, {}, False, {}, top, target.members)
    import tyro

    merged, prov = merge(cls, layers, strict=strict, missing=tyro.MISSING, base=base, registry=registry)
    return Built(cls, merged, prov, True, chosen_by(prov), top, target.members)


def chosen_by(prov: dict[str, str]) -> dict[str, str]:
    """Union path → the layer that chose its variant, from the ``path._type`` provenance."""
    return {k[: -len(TYPE_KEY) - 1]: v for k, v in prov.items() if k.endswith("." + TYPE_KEY)}
