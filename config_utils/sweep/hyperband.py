"""``early_terminate: {type: hyperband, ...}``: stop trials whose metric lags, with W&B's rule.

W&B's meaning (its open-source ``sweeps`` package), kept exactly:

- bands are counts of the metric's logged values ("iterations"): with ``min_iter`` they are
  ``min_iter * eta**k`` (k = 0, 1, ...); with ``max_iter`` and ``s`` they are
  ``max_iter / eta**k`` for k = 1..s, the ones >= 1, ascending;
- at each band, the threshold is the value at index ``int(n / eta)`` of the sorted values that
  the n trials which reached the band had there (every trial of the sweep counts: running,
  finished, stopped); for ``maximize`` the values are negated first;
- a running trial is stopped when, at the last band it reached, its value there (``strict``,
  the schema's default) or its best value so far (``strict: false``) is worse than the
  threshold.

What the controller adds: the values each trial had at each band are kept in the sweep's
Optuna storage (intermediate values at step = band), so a resumed sweep continues with the
same brackets.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

KEYS = ("type", "min_iter", "max_iter", "s", "eta", "strict")
MAX_BANDS = 100  # W&B's min_iter form lists 100 bands


@dataclass(frozen=True)
class Hyperband:
    """The bands and rule of a spec's ``early_terminate``."""

    bands: tuple[int, ...]
    eta: float
    strict: bool
    maximize: bool = False

    def describe(self) -> str:
        shown = ", ".join(str(b) for b in self.bands[:6]) + (", ..." if len(self.bands) > 6 else "")
        return f"hyperband: bands at {shown} values of the metric, eta {self.eta:g}" + (
            ", strict" if self.strict else "")

    def _key(self, v: float) -> float:
        return -v if self.maximize else v

    def thresholds(self, reached: Iterable[dict[int, float]]) -> dict[int, float]:
        """Band -> threshold from every trial's values at the bands it reached."""
        per_band: dict[int, list[float]] = {b: [] for b in self.bands}
        for trial in reached:
            for band, value in trial.items():
                if band in per_band and math.isfinite(value):
                    per_band[band].append(self._key(value))
        out: dict[int, float] = {}
        for band, vals in per_band.items():
            if vals:
                vals.sort()
                out[band] = vals[int((1.0 / self.eta) * len(vals))]  # W&B's index, float and all
        return out

    def reached(self, history: list[float]) -> dict[int, float]:
        """The trial's value at every band its history reached."""
        return {b: history[b - 1] for b in self.bands if b <= len(history)}

    def verdict(self, history: list[float], thresholds: dict[int, float]) -> tuple[int, float, float] | None:
        """``(band, value, threshold)`` when the trial is to stop, else None."""
        band = max((b for b in self.bands if b <= len(history)), default=None)
        if band is None or band not in thresholds:
            return None
        keyed = [self._key(v) for v in history if math.isfinite(v)]
        if not keyed:
            return None
        cond = self._key(history[band - 1]) if self.strict else min(keyed)
        if cond > thresholds[band]:
            return band, self._key(cond), self._key(thresholds[band])
        return None


def parse(raw: Any, maximize: bool, fail: Callable[[tuple[Any, ...], str], Exception],
          number_hint: Callable[[Any], str]) -> Hyperband:
    """Check ``early_terminate`` as W&B's schema does and compute the bands as W&B does."""
    loc = ("early_terminate",)
    if not isinstance(raw, dict):
        raise fail(loc, "early_terminate: expected a mapping such as {type: hyperband, min_iter: 3}")
    for key in raw:
        if key not in KEYS:
            from ..errors import did_you_mean

            raise fail(loc + (key,), f"early_terminate: {key!r} is not a hyperband key{did_you_mean(str(key), KEYS)}")
    if raw.get("type") != "hyperband":
        raise fail(loc + ("type",), f"early_terminate.type: expected hyperband, got {raw.get('type')!r}")

    def number(key: str, integer: bool) -> Any:
        v = raw[key]
        ok = isinstance(v, int) if integer else isinstance(v, (int, float))
        if isinstance(v, bool) or not ok or (isinstance(v, float) and not math.isfinite(v)):
            kind = "an integer" if integer else "a number"
            raise fail(loc + (key,), f"early_terminate.{key}: expected {kind}, got {v!r}{number_hint(v)}")
        return v

    eta = number("eta", False) if "eta" in raw else 3
    if eta <= 1:
        raise fail(loc + ("eta",), f"early_terminate.eta: expected a number > 1, got {eta!r}")
    strict = raw.get("strict", True)
    if not isinstance(strict, bool):
        raise fail(loc + ("strict",), f"early_terminate.strict: expected true or false, got {strict!r}")
    bands: list[int] = []
    if "max_iter" in raw:
        if "s" not in raw:
            raise fail(loc, "early_terminate: max_iter needs s (the number of bands below max_iter)")
        max_iter = number("max_iter", True)
        s = number("s", False)
        if not float(s).is_integer() or s < 1:
            raise fail(loc + ("s",), f"early_terminate.s: expected a whole number >= 1, got {s!r}")
        band = float(max_iter)
        for _ in range(int(s)):
            band /= eta
            if band < 1:
                break
            bands.append(int(band))
        bands.sort()
    elif "min_iter" in raw:
        min_iter = number("min_iter", True)
        if min_iter < 1:
            raise fail(loc + ("min_iter",), f"early_terminate.min_iter: expected an integer >= 1, got {min_iter!r}")
        band = float(min_iter)
        for _ in range(MAX_BANDS):
            if band > 2**53:
                break
            bands.append(int(band))
            band *= eta
    else:
        raise fail(loc, "early_terminate: give min_iter, or max_iter and s")
    if not bands:
        raise fail(loc, "early_terminate: no band is >= 1 (increase max_iter, or decrease eta or s)")
    return Hyperband(tuple(sorted(set(bands))), float(eta), strict, maximize)


@dataclass
class Brackets:
    """The controller's view: every trial's values at the bands, and the running trials'
    whole histories (the non-strict rule needs their best value)."""

    rule: Hyperband
    reached: dict[int, dict[int, float]] = field(default_factory=dict)

    def thresholds(self) -> dict[int, float]:
        return self.rule.thresholds(self.reached.values())

    def update(self, number: int, history: list[float]) -> dict[int, float]:
        """Record ``history`` of trial ``number``; returns the band values newly reached."""
        now = self.rule.reached(history)
        old = self.reached.setdefault(number, {})
        new = {b: v for b, v in now.items() if old.get(b) != v}
        old.update(now)
        return new
