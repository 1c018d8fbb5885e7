"""The one parser of numbers that a person sets outside a config: command-line options of the
tools (``flow_sweep --timeout``, ``--cpus-per-trial``, ``--seed``) and ``FLOWS_*`` /
tracker environment variables (timeouts, sizes).

Why one: each knob used to parse its own text, and they disagreed. ``float()`` happily
returns ``nan`` and ``inf`` (``1e309``), a timeout of ``nan`` then never fires, and a seed of
``10**30`` or ``-5`` crashed deep inside a library with a traceback. Here every knob is a
finite number in a stated range, or one line naming the knob, what it takes and what it got.
"""

from __future__ import annotations

import math
import os
from typing import Any

from .errors import ConfigError

__all__ = ["KnobError", "env_number", "parse_number"]


class KnobError(ConfigError, ValueError):
    """A knob's text is not a number in the knob's range; the message names the knob."""


def _expected(integer: bool, minimum: float | None, maximum: float | None, above: bool, unit: str) -> str:
    what = "a whole number" if integer else "a number"
    if minimum is not None and maximum is not None:
        low = f"above {_fmt(minimum)}" if above else f"from {_fmt(minimum)}"
        what += f" {low} to {_fmt(maximum)}"
    elif minimum is not None:
        if minimum == 0 and above:
            what = ("a positive whole number" if integer else "a positive number")
        else:
            what += f" {'>' if above else '≥'} {_fmt(minimum)}"
    elif maximum is not None:
        what += f" ≤ {_fmt(maximum)}"
    if unit:
        what += f" ({unit})"
    return what


def _fmt(x: float) -> str:
    return str(int(x)) if float(x).is_integer() and abs(x) < 1e15 else repr(x)


def parse_number(
    text: Any,
    *,
    knob: str,
    integer: bool = False,
    minimum: float | None = None,
    maximum: float | None = None,
    above: bool = False,
    unit: str = "",
) -> Any:
    """``text`` as a finite number (an ``int`` when ``integer``) in ``[minimum, maximum]``
    (``(minimum, maximum]`` when ``above``). Raises :class:`KnobError`:
    ``KNOB: expected a positive number (seconds), got 'nan'``."""

    def fail() -> KnobError:
        shown = text if isinstance(text, str) else repr(text)
        if isinstance(shown, str) and len(shown) > 40:
            shown = shown[:37] + "..."
        return KnobError(f"{knob}: expected {_expected(integer, minimum, maximum, above, unit)}, got {shown!r}")

    if isinstance(text, bool):
        raise fail()
    if isinstance(text, (int, float)):
        value: float | int = text
    else:
        s = str(text).strip()
        if not s or len(s) > 100:
            raise fail()
        try:
            value = int(s, 10)
        except ValueError:
            try:
                value = float(s)
            except ValueError:
                raise fail() from None
    if isinstance(value, float):
        if not math.isfinite(value):
            raise fail()
        if integer:
            if not value.is_integer():
                raise fail()
            value = int(value)
    if minimum is not None and (value <= minimum if above else value < minimum):
        raise fail()
    if maximum is not None and value > maximum:
        raise fail()
    return value


def env_number(var: str, default: Any, **limits: Any) -> Any:
    """The number in environment variable ``var`` (:func:`parse_number` with ``limits``), or
    ``default`` when the variable is unset or blank."""
    text = os.environ.get(var, "")
    if not text.strip():
        return default
    return parse_number(text, knob=var, **limits)
