"""prefigure's ``OFC`` class: ``config_utils.OFC`` under prefigure's names and file conventions.

Why a wrapper and not a port: the live-steering machinery (watcher thread, ≤ 2 µs unchanged
``update()``, atomic writes, typed edits, history, distributed broadcast, GUI) lives once, in
``config_utils.ofc``. This class only keeps what legacy scripts touch: the constructor
signature, the file name ``<args.name>-ofc.ini`` with its ``[OFC]`` section, ``update()``
returning ``{key: new_value}``, the console line per change, and prefigure's public
attributes and methods (``ofc_file``, ``args``, ``steerables``, ``gradio_url``, ``demo``,
``demo_datetime``, ``columns``, ``args_gui_dict``, ``save``, ``create_gradio_interface``,
``create_gui_element``, ``on_gui_submit``).

Where prefigure's code and README disagree, the README wins: no GUI unless asked for
(``gui=True``/``use_gui=True``, or ``args.use_gui``), and ``steerables=None`` makes every
argument steerable. A steerable name that is not an argument is ignored with a warning (the
README's own example lists ``learning_rate``, which its example ``defaults.ini`` lacks).
Changes are not logged to W&B by this class: prefigure scripts log what ``update()`` returns
themselves (prefigure's README pattern), and logging here too would record each change twice.
Every remaining difference is listed in docs/prefigure-differences.md.
"""

from __future__ import annotations

import argparse
import os
import warnings
from collections import OrderedDict
from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

from ._args import RESERVED_KEYS


def _ofc_path(args: argparse.Namespace, ofc_file: str | os.PathLike[str]) -> Path:
    """prefigure's ``args.name + '-' + ofc_file``; just ``ofc_file`` when ``args`` has no ``name``.

    A directory in ``ofc_file`` stays the directory (``logs/ofc.ini`` -> ``logs/<name>-ofc.ini``),
    and a name with a directory in it (``runs/exp1``) puts the file in that directory
    (``runs/exp1-ofc.ini``, created when missing), as prefigure's string concatenation does.
    """
    path = Path(ofc_file)
    name = getattr(args, "name", None)
    if name is None or name == "":
        return path
    return path.parent / f"{name}-{path.name}"


def _steerable_keys(args: argparse.Namespace, steerables: Iterable[str] | None) -> list[str]:
    """The keys to steer; names that are not arguments are dropped with a warning each."""
    names = [k for k in vars(args) if k not in RESERVED_KEYS]
    if steerables is None:  # README: "default is all are steerable"
        return names
    if isinstance(steerables, str):
        from config_utils.errors import OFCError

        raise OFCError(f"OFC: steerables must be a list of names, got the string {steerables!r}")
    keys: list[str] = []
    for key in dict.fromkeys(steerables):
        if key in names:
            keys.append(key)
            continue
        from config_utils.errors import did_you_mean
        from config_utils.ofc.core import OFCWarning

        why = (
            "is set on the command line only (config_file and wandb_config cannot change)"
            if key in RESERVED_KEYS
            else f"is not an argument{did_you_mean(key, names)}"
        )
        warnings.warn(f"OFC: steerable {key!r} {why}; it is ignored", OFCWarning, stacklevel=3)
    return keys


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
        #: prefigure's GUI layout setting: ``None`` until a GUI starts, then the columns asked for.
        self.columns: int | None = None
        #: when the GUI was (re)started (``None`` without a GUI), as in prefigure.
        self.demo_datetime: datetime | None = None
        #: the GUI's keys and the values it last showed or received, in widget order.
        self.args_gui_dict: OrderedDict[str, Any] = OrderedDict()
        self._own_gui: Any = None
        keys = _steerable_keys(args, steerables)
        self._share = bool(os.environ.get("OFC_USERNAME") and os.environ.get("OFC_PASSWORD"))
        path = _ofc_path(args, ofc_file)
        self._ofc = _CoreOFC(
            args,
            steerables=keys,
            ofc_file=path,
            use_wandb=False,  # the script logs what update() returns (prefigure's pattern)
            gui=self.use_gui,
            sliders=sliders,
            share=self._share if self.use_gui else False,
            debug=debug,
            **options,
        )
        self.steerables: list[str] = list(self._ofc.steerables)
        #: the file to edit, spelled as prefigure spells it (``<name>-ofc.ini``, relative).
        self.ofc_file = str(path)
        if self.use_gui and self._ofc.gradio_url:
            self._gui_started(columns=3)

    # ------------------------------------------------------------------ the file

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
            if key in self.args_gui_dict:
                self.args_gui_dict[key] = val
        return changed

    def _texts(self, values: dict[str, Any]) -> dict[str, str]:
        """The file text of each value (text typed into a GUI box is passed as it is)."""
        from config_utils.convert import format_value

        return {
            key: value if isinstance(value, str) else format_value(value, self._ofc.types[key])
            for key, value in values.items()
        }

    def _submit(self, values: dict[str, Any], source: str, what: str) -> None:
        from config_utils.errors import OFCError

        errors = self._ofc.submit(self._texts(values), source=source)
        if errors:
            raise OFCError(f"OFC.{what}: " + "; ".join(errors.values()))

    def save(self, args: argparse.Namespace) -> None:
        """Write the steerable values of ``args`` to the OFC file (applied at the next update)."""
        from config_utils.convert import format_value

        values = {
            key: format_value(getattr(args, key), self._ofc.types[key])
            for key in self.steerables
            if hasattr(args, key)
        }
        self._submit(values, "file", "save")

    def on_change(self, key: str, fn: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
        """Call ``fn(new, old)`` after ``key`` changes (e.g. to set an optimizer's lr)."""
        return self._ofc.on_change(key, fn)

    # ------------------------------------------------------------------ the GUI

    def _gui(self) -> Any:
        """The running page (``config_utils.ofc.gui.OFCGui``), or None."""
        gui = self._own_gui if self._own_gui is not None else self._ofc.gui
        return gui if gui is not None and gui.running else None

    @property
    def demo(self) -> Any:
        """The GUI's ``gradio.Blocks`` while it runs, else None (as in prefigure)."""
        gui = self._gui()
        return gui.demo if gui is not None else None

    def _gui_started(self, columns: int) -> None:
        self.columns = columns
        self.demo_datetime = datetime.now()
        values = self._ofc.values()
        self.args_gui_dict = OrderedDict((k, values[k]) for k in self.steerables)

    def create_gradio_interface(self, sliders: bool = False, columns: int = 3) -> str:
        """Start the GUI, or restart it when it runs (prefigure relaunches a public link so).

        Returns the URL (also in :attr:`gradio_url`). ``columns`` is recorded in
        :attr:`columns`; the page groups its widgets by config section instead of columns.
        """
        self.sliders = sliders
        gui = self._gui()
        if gui is not None:
            gui.sliders = sliders
            gui.relaunch()
        else:
            from config_utils.ofc.gui import launch_gui

            self._own_gui = launch_gui(self._ofc, sliders=sliders, share=self._share)
        self.use_gui = True
        self._gui_started(columns)
        return self.gradio_url

    def create_gui_element(self, key: str, value: Any, sliders: bool = False) -> Any:
        """One gradio widget for ``key`` holding ``value``: a radio for a bool, a slider for a
        number when ``sliders``, else a text box (lists and dicts as Python literals)."""
        from config_utils.convert import format_value
        from config_utils.ofc.gui import slider_bounds, widget_kind

        from ._lazy import LazyModule

        gr: Any = LazyModule("gradio", extra="gui")
        tp = self._ofc.types.get(key, Any if value is None else type(value))
        kind = widget_kind(tp, value, sliders)
        if kind == "radio":
            return gr.Radio(["True", "False"], value=str(bool(value)), label=key)
        if kind == "slider":
            is_int = isinstance(value, int)
            lo, hi, step = slider_bounds(float(value), is_int)
            return gr.Slider(minimum=lo, maximum=hi, step=step, value=value, label=key)
        return gr.Textbox(value=format_value(value, tp), label=key)

    def on_gui_submit(self, *gui_values: Any) -> None:
        """Submit values for the GUI's keys, in :attr:`args_gui_dict` order (prefigure's form).

        They are checked and written to the OFC file; the training loop applies them at its
        next ``update()`` (prefigure applied them inside this call, from the GUI's thread).
        An invalid value raises ``OFCError`` naming it and changes nothing.
        """
        keys = list(self.args_gui_dict) or list(self.steerables)
        if len(gui_values) > len(keys):
            from config_utils.errors import OFCError

            raise OFCError(
                f"OFC.on_gui_submit: {len(gui_values)} values for {len(keys)} GUI keys "
                f"({', '.join(keys)}); nothing was changed"
            )
        values = dict(zip(keys, gui_values, strict=False))  # fewer values: the first keys
        self._submit(values, "gui", "on_gui_submit")
        self.args_gui_dict.update(values)

    # ------------------------------------------------------------------ lifetime

    def close(self) -> None:
        """Stop watching the file (and the GUI); the file and its history stay."""
        if self._own_gui is not None:
            self._own_gui.close()
        self._ofc.close()

    def __enter__(self) -> OFC:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"OFC({self.ofc_file!r}, steerables={self.steerables})"
