"""prefigure's ``OFC`` class: ``config_utils.OFC`` under prefigure's names and file conventions.

Why a wrapper and not a port: the live-steering machinery (watcher thread, ≤ 2 µs unchanged
``update()``, atomic writes, typed edits, history, distributed broadcast, GUI) lives once, in
``config_utils.ofc``. This class only keeps what legacy scripts touch: the constructor
signature, the file name ``<args.name>-ofc.ini`` with its ``[OFC]`` section, ``update()``
returning ``{key: new_value}``, the console line per change, and the attributes
``ofc_file``, ``args``, ``steerables``, ``gradio_url``.

Where prefigure's code and README disagree, the README wins: no GUI unless asked for
(``gui=True``/``use_gui=True``, or ``args.use_gui``), and ``steerables=None`` makes every
argument steerable. Edits of keys that are not steerable are rejected with a warning.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from ._args import RESERVED_KEYS


def _ofc_path(args: argparse.Namespace, ofc_file: str | os.PathLike[str]) -> Path:
    """``<dir>/<args.name>-<file name>``; just ``ofc_file`` when ``args`` has no ``name``."""
    path = Path(ofc_file)
    name = getattr(args, "name", None)
    if name is None or name == "":
        return path
    return path.with_name(f"{name}-{path.name}")


class OFC:
    """On-the-Fly Control: saves ``args`` to ``<name>-ofc.ini``, applies edits of that file.

    ``ofc = OFC(args)`` then ``changes = ofc.update()`` every so many steps: ``changes`` is
    ``{key: new_value}`` and ``args`` has been updated in place.
    """

    section_name = "OFC"

    def __init__(
        self,
        args: argparse.Namespace,
        ofc_file: str | os.PathLike[str] = "ofc.ini",
        use_gui: bool | None = None,
        sliders: bool = False,
        steerables: Iterable[str] | None = None,
        use_wandb: bool = True,
        debug: bool = False,
        *,
        gui: bool | None = None,
        **options: Any,
    ) -> None:
        from config_utils.ofc.core import OFC as _CoreOFC

        self.args = args
        self.use_gui = bool(gui or use_gui or getattr(args, "use_gui", False) is True)
        self.sliders = sliders
        self.use_wandb, self.debug = use_wandb, debug
        if steerables is None:  # README: "default is all are steerable"
            keys = [k for k in vars(args) if k not in RESERVED_KEYS]
        else:
            keys = list(steerables)
        share = bool(os.environ.get("OFC_USERNAME") and os.environ.get("OFC_PASSWORD"))
        self._ofc = _CoreOFC(
            args,
            steerables=keys,
            ofc_file=_ofc_path(args, ofc_file),
            use_wandb=use_wandb,
            gui=self.use_gui,
            sliders=sliders,
            share=share if self.use_gui else False,
            debug=debug,
            **options,
        )
        self.steerables: list[str] = list(self._ofc.steerables)
        self.ofc_file = str(self._ofc.ofc_file)

    @property
    def gradio_url(self) -> str:
        """The GUI's URL ('' without a GUI); also logged to W&B when a run is active."""
        return str(self._ofc.gradio_url)

    @property
    def history(self) -> list[Any]:
        """Every applied change (time, step, key, old, new, source)."""
        return list(self._ofc.history)

    def update(self, step: int | None = None) -> dict[str, Any]:
        """Apply the edits made to the file since the last call; ``{key: new_value}``."""
        changed = self._ofc.update(step)
        for key, val in changed.items():
            print(f"\n  OFC: {key} has been changed to {val}")
        return changed

    def save(self, args: argparse.Namespace) -> None:
        """Write the steerable values of ``args`` to the OFC file (applied at the next update)."""
        from config_utils.convert import format_value
        from config_utils.errors import OFCError

        texts = {
            key: format_value(getattr(args, key), self._ofc.types[key])
            for key in self.steerables
            if hasattr(args, key)
        }
        errors = self._ofc.submit(texts, source="file")
        if errors:
            raise OFCError("OFC.save: " + "; ".join(errors.values()))

    def on_change(self, key: str, fn: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
        """Call ``fn(new, old)`` after ``key`` changes (e.g. to set an optimizer's lr)."""
        return self._ofc.on_change(key, fn)

    def close(self) -> None:
        """Stop watching the file (and the GUI); the file and its history stay."""
        self._ofc.close()

    def __enter__(self) -> OFC:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"OFC({self.ofc_file!r}, steerables={self.steerables})"
