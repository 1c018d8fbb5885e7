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
import math
import random
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .check import Checked
from .spec import Param, Spec, SpecError, param_loc

if TYPE_CHECKING:
    from optuna.distributions import BaseDistribution
    from optuna.samplers import BaseSampler

PLAN_LIMIT = 100_000
"""Trials one sweep may plan: grid points (counted before one is built), ``run_cap`` and
``--count``. A larger plan is refused in one line: its state, results and plots would not
be usable anyway, and building it could take the machine's memory."""
GRID_LIMIT = PLAN_LIMIT
PREVIEW_LIMIT = 1000
"""Trials ``--dry-run`` lists one by one; the rest are counted."""
OMITTED = "OMITTED"
"""W&B's marker of a value left out of a run's config; never a value to sweep."""


def grid_size(p: Param) -> int:
    """How many values grid search enumerates for ``p``: computed, never built (an
    ``int_uniform`` from 0 to 10**9, or ``q_uniform`` with ``q: 1e-12``, is one number here)."""
    if p.is_constant:
        return 1
    if p.distribution in ("categorical", "categorical_w_probabilities"):
        return len(p.values)
    if p.distribution == "int_uniform":
        return int(p.max) - int(p.min) + 1
    if p.distribution == "q_uniform":
        span = (p.max - p.min) / (1.0 if p.q is None else p.q)
        if not math.isfinite(span) or span > 10**18:
            return 10**18
        return int(math.floor(span + 1e-9)) + 1
    return len(p.grid_values())  # raises: not enumerable


def grid_value(p: Param, i: int) -> Any:
    """Value ``i`` of :func:`grid_size` values, as ``p.grid_values()[i]`` without the list."""
    if p.distribution == "int_uniform":
        return int(p.min) + i
    if p.distribution == "q_uniform":
        q = 1.0 if p.q is None else p.q
        return p._round(p.min + i * q)
    return p.grid_values()[i]


def vet_spec(spec: Spec, count: int | None = None) -> None:
    """Refuse, before the program is asked or anything is built, a plan larger than
    :data:`PLAN_LIMIT` (the grid's size is the product of :func:`grid_size`, multiplied only
    while under the limit) and a value ``OMITTED`` (the trial would silently get the
    default). One line each, naming the spec's line."""
    for p in spec.params.values():
        values = [p.value] if p.is_constant else list(p.values)
        for i, v in enumerate(values):
            if isinstance(v, str) and v.strip() == OMITTED:
                where = ("value",) if p.is_constant else ("values", i)
                what = "value" if p.is_constant else f"values[{i}]"
                raise SpecError(f"{spec.where(*param_loc(spec, p.key), *where)}: parameters.{p.key}.{what}: "
                                f"{OMITTED!r} is W&B's marker of a value left out, not a value (the trial "
                                "would silently get the default); leave the value out of the spec")
    if spec.run_cap is not None and spec.run_cap > PLAN_LIMIT:
        raise SpecError(f"{spec.where('run_cap')}: run_cap: at most {PLAN_LIMIT:,} trials per sweep, "
                        f"got {spec.run_cap:,}")
    if count is not None and count > PLAN_LIMIT:
        raise SpecError(f"--count: at most {PLAN_LIMIT:,} trials per sweep, got {count:,}")
    if spec.method != "grid":
        return
    size = 1
    for p in spec.params.values():
        size *= grid_size(p)
        if size > PLAN_LIMIT:
            total = 1
            for q in spec.params.values():
                total = min(total * grid_size(q), 10**30)
            shown = f"{total:,}" if total < 10**30 else "more than 10**30"
            raise SpecError(f"{spec.where('parameters')}: parameters: the grid has {shown} points (more "
                            f"than {PLAN_LIMIT:,}); use random or bayes search with a run_cap")


@dataclass
class Plan:
    """What to run: the checked spec, the method's trial count and the Optuna search space."""

    checked: Checked
    seed: int
    planned: int | None  # None: random/bayes with no run_cap and no --count (until Ctrl-C)
    points: list[dict[str, int]] = field(default_factory=list)  # grid only: key -> value index
    axes: dict[str, list[Any]] = field(default_factory=dict)  # grid only: key -> its values
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
                n = grid_size(p) if self.method == "grid" else len(p.values)
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
                out[key] = self.axes[key][params[key]] if key in self.axes else grid_value(p, params[key])
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
        shown = min(self.planned, PREVIEW_LIMIT) if self.planned is not None else 10
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
    vet_spec(spec, count)
    caps = [c for c in (spec.run_cap, count) if c is not None]
    if spec.method != "grid":
        return Plan(checked, seed, min(caps) if caps else None)
    keys = list(spec.params)
    axes = [spec.params[k].grid_values() for k in keys]  # vet_spec: fewer than PLAN_LIMIT points
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
    return Plan(checked, seed, len(points), points, duplicates=duplicates, axes=dict(zip(keys, axes, strict=True)))
