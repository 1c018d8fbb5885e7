"""The plan of a sweep: which trials run, and how each trial's values map onto Optuna.

Every method goes through one Optuna study so that resuming works the same way for all:

- ``grid``: the cartesian product of every parameter's values, in spec order (the last key
  varies fastest), without points that give identical arguments (a key that lives under a
  union variant the point does not choose is left out, so such points coincide), cut at
  ``run_cap``. Trial ``n`` is point ``n``: enqueued into the study before it is asked.
- ``random``: trial ``n`` draws from ``random.Random(f"{seed}/{n}")``, so the plan is fixed by
  the seed alone: ``--dry-run`` shows the exact trials, and a resumed sweep draws the same.
- ``bayes``: Optuna's TPE sampler (seeded; ``constant_liar`` so trials running in parallel are
  not proposed twice), asked only when a slot frees up, so it sees every finished trial.
"""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .check import Checked
from .spec import Param, SpecError

if TYPE_CHECKING:
    from optuna.distributions import BaseDistribution
    from optuna.samplers import BaseSampler

GRID_LIMIT = 100_000


@dataclass
class Plan:
    """What to run: the checked spec, the method's trial count and the Optuna search space."""

    checked: Checked
    seed: int
    planned: int | None  # None: random/bayes with no run_cap and no --count (until Ctrl-C)
    points: list[dict[str, int]] = field(default_factory=list)  # grid only: key -> value index
    duplicates: int = 0  # grid points dropped as identical to an earlier one
    _space: dict[str, BaseDistribution] | None = field(default=None, repr=False)

    @property
    def method(self) -> str:
        return self.checked.spec.method

    @property
    def params(self) -> dict[str, Param]:
        return self.checked.spec.params

    @property
    def swept(self) -> list[Param]:
        return [p for p in self.params.values() if not p.is_constant]

    def space(self) -> dict[str, BaseDistribution]:
        """Optuna distributions of the swept parameters (constants stay out of Optuna)."""
        if self._space is None:
            self._space = self._make_space()
        return self._space

    def _make_space(self) -> dict[str, BaseDistribution]:
        from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

        out: dict[str, BaseDistribution] = {}
        for p in self.swept:
            if self.method == "grid" or p.space == "index":
                n = len(p.grid_values()) if self.method == "grid" else len(p.values)
                out[p.key] = CategoricalDistribution(tuple(range(n)))
            elif p.space == "int":
                out[p.key] = IntDistribution(int(p.min), int(p.max))
            elif p.space == "float":
                lo, hi = p.bounds()
                out[p.key] = FloatDistribution(lo, hi, log=p.log_scale)
            else:
                out[p.key] = FloatDistribution(1e-9, 1.0 - 1e-9)
        return out

    def fixed_params(self, n: int) -> dict[str, Any] | None:
        """Optuna params of trial ``n`` for grid and random (None for bayes: TPE chooses)."""
        if self.method == "grid":
            point = self.points[n]
            return {p.key: point[p.key] for p in self.swept}
        if self.method == "random":
            rng = random.Random(f"{self.seed}/{n}")
            out: dict[str, Any] = {}
            for p in self.swept:
                u = rng.random()
                if p.space == "index":
                    out[p.key] = p.values.index(p.from_unit(u))
                elif p.space == "int":
                    out[p.key] = p.from_unit(u)
                elif p.space == "float":
                    lo, hi = p.bounds()
                    out[p.key] = min(max(p.raw(u), lo), hi)
                else:
                    out[p.key] = min(max(u, 1e-9), 1.0 - 1e-9)
            return out
        return None

    def values(self, params: dict[str, Any]) -> dict[str, Any]:
        """Config values (every key, constants included, spec order) from Optuna params."""
        out: dict[str, Any] = {}
        for key, p in self.params.items():
            if p.is_constant:
                out[key] = p.value
            elif self.method == "grid":
                out[key] = p.grid_values()[params[key]]
            elif p.space == "index":
                out[key] = p.values[params[key]]
            elif p.space == "int":
                out[key] = int(params[key])
            elif p.space == "float":
                out[key] = p.finalize(params[key])
            else:
                out[key] = p.from_unit(params[key])
        return out

    def arguments(self, values: dict[str, Any]) -> list[str]:
        return self.checked.arguments(values)

    def sampler(self) -> BaseSampler:
        import optuna

        if self.method == "bayes":
            startup = max(2, min(10, (self.planned or 30) // 3))
            return optuna.samplers.TPESampler(seed=self.seed, n_startup_trials=startup, constant_liar=True)
        return optuna.samplers.RandomSampler(seed=self.seed)  # every param is fixed beforehand

    def preview(self) -> list[tuple[int, list[str] | None]]:
        """``(n, arguments)`` of every planned trial (the first 10 of an unbounded sweep);
        ``None`` where TPE will choose."""
        shown = self.planned if self.planned is not None else 10
        if self.method == "bayes":
            return [(n, None) for n in range(shown)]
        out: list[tuple[int, list[str] | None]] = []
        for n in range(shown):
            fixed = self.fixed_params(n)
            assert fixed is not None
            out.append((n, self.arguments(self.values(fixed))))
        return out


def make_plan(checked: Checked, seed: int, count: int | None = None) -> Plan:
    """``count`` (``--count``, as ``wandb agent --count``) and ``run_cap``: the smaller wins."""
    spec = checked.spec
    caps = [c for c in (spec.run_cap, count) if c is not None]
    if spec.method != "grid":
        return Plan(checked, seed, min(caps) if caps else None)
    keys = list(spec.params)
    axes = [spec.params[k].grid_values() for k in keys]
    size = 1
    for axis in axes:
        size *= len(axis)
    if size > GRID_LIMIT:
        raise SpecError(f"{spec.path}: parameters: the grid has {size:,} points (more than "
                        f"{GRID_LIMIT:,}); use random or bayes search with a run_cap")
    points: list[dict[str, int]] = []
    seen: set[tuple[str, ...]] = set()
    duplicates = 0
    for combo in itertools.product(*(range(len(axis)) for axis in axes)):
        point = dict(zip(keys, combo, strict=True))
        args = tuple(checked.arguments({k: axes[i][j] for i, (k, j) in enumerate(point.items())}))
        if args in seen:
            duplicates += 1
            continue
        seen.add(args)
        points.append(point)
    if caps:
        points = points[: min(caps)]
    return Plan(checked, seed, len(points), points, duplicates)
