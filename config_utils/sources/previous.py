"""A previous run as a layer: the one reading of ``--from-run`` (``--wandb-config``).

Why one place: the command line's run layer and ``flow_create --from-run`` read the same
references — a run directory saved by :func:`~config_utils.sources.runs.save_run`, an offline
W&B run directory, an MLflow run, a W&B run — and must agree on what they find there, on the
``OMITTED`` convention, and on a record written for another program.

Rules:

- An existing local path wins. A directory with ``run_record.json`` (or a W&B run directory
  holding it in ``files/``) is read as a record; otherwise the MLflow reference, then W&B.
- ``OMITTED`` is skipped only for what came from a tracker (W&B or MLflow, including a
  record a tracker push wrote into a W&B run directory's ``files/``): that is prefigure's
  convention for trackers. A record written by ``save_run`` holds real values only, so the
  string ``"OMITTED"`` there is the text ``OMITTED``.
- A record names the config class that wrote it (``config_type``). When that is not the
  class being built, the layer carries a note (:attr:`~config_utils.layers.Layer.note`): a
  warning naming both (the keys both have still apply, as for any run layer), an error with
  ``strict=True``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..layers import Layer, RawValue, flatten_for
from ..tree import flatten
from .push import drop_omitted

if TYPE_CHECKING:
    from ..registry import Registry

__all__ = ["PreviousRun", "pull_previous", "run_layer"]


class PreviousRun:
    """What a run reference holds: the nested config, its provenance label, whether values
    are text (MLflow params) or primitives, whether it came from a tracker, and the config
    class that wrote it (``module:QualName``, when the source says)."""

    __slots__ = ("config", "label", "text", "tracker", "config_type")

    def __init__(
        self, config: Any, label: str, *, text: bool, tracker: bool, config_type: str | None
    ) -> None:
        self.config = config
        self.label = label
        self.text = text
        self.tracker = tracker
        self.config_type = config_type


def pull_previous(source: str) -> PreviousRun:
    """Read the run ``source`` names (see the module docstring for the order)."""
    from .runs import load_run, local_path, record_path

    path = local_path(source)
    found = record_path(path) if path is not None else None
    if found is not None:
        record = load_run(path)  # type: ignore[arg-type]  # found implies a path
        kind = record.get("config_type")
        return PreviousRun(
            record["config"],
            f"run:{source}",
            text=False,
            tracker=found.parent.name == "files",  # what a tracker push wrote into a W&B run
            config_type=kind if isinstance(kind, str) else None,
        )
    if path is None and _is_mlflow_reference(source):
        from . import mlflow as mlflow_source

        nested, text = mlflow_source.pull_run(source)
        return PreviousRun(
            nested, mlflow_source.run_label(source), text=text, tracker=True, config_type=_written_by(nested)
        )
    from . import wandb as wandb_source

    nested = wandb_source.pull_config(source)
    return PreviousRun(
        nested, wandb_source.run_label(source), text=False, tracker=True, config_type=_written_by(nested)
    )


def _written_by(nested: Any) -> str | None:
    """The config class a tracker's run record names (None when the pull read no record)."""
    kind = getattr(nested, "config_type", None)
    return kind if isinstance(kind, str) else None


def _is_mlflow_reference(source: str) -> bool:
    try:
        from . import mlflow as mlflow_source
    except ImportError:
        return False
    return bool(mlflow_source.is_reference(source))


def run_layer(source: str, cls: type | None = None, registry: Registry | None = None) -> Layer:
    """A previous run's config as a lenient layer. With ``cls``, dict-typed fields stay whole
    (their keys may contain dots) and a record of another config class gets a note."""
    run = pull_previous(source)
    nested = run.config
    flat = flatten_for(cls, nested, registry=registry) if cls is not None else flatten(nested)
    if run.tracker:
        flat = drop_omitted(flat)
    values = {k: RawValue(v, run.label, text=run.text) for k, v in flat.items()}
    return Layer(name=run.label, values=values, lenient=True, note=_other_program(run, cls))


def _other_program(run: PreviousRun, cls: type | None) -> str | None:
    """The note for a record written by another config class (compared by qualified name:
    the module of a script is ``__main__`` in one run and its file name in another)."""
    if cls is None or run.config_type is None:
        return None
    written = run.config_type.rpartition(":")[2]
    if written == cls.__qualname__:
        return None
    return (
        f"{run.label}: this run's config is {run.config_type}, another program's config type "
        f"(this program reads {cls.__module__}:{cls.__qualname__}); only the keys both have "
        "are applied"
    )
