"""configure_submodules on a 10,000-node config tree: µs per node, against the seed's algorithm.

Target (docs/design.md, "Performance targets"): ≤ 5 µs per node. The reference is pytorch-flows' algorithm: per node,
``inspect.signature(target).bind(**fields)``, then ``target(**fields)`` or, on
``TypeError``, ``functools.partial`` — written out below so both run in one process on the
same tree.

Tree: an unregistered ``Model`` dataclass holding a list of 3,333 registered ``BlockConfig``
nodes, each with a registered ``ActConfig`` (full call) and ``NormConfig`` (partial: the
target needs ``dim``) → 10,001 container/dataclass nodes (leaves — ints, floats, strings —
are not counted as nodes; they are visited too).

Run: ``.venv/bin/python bench/bench_instantiate.py``
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from config_utils.registry import Registry  # noqa: E402

N_BLOCKS = 3333
REPEATS = 7

reg = Registry()


@dataclass
class ActConfig:
    kind: str = "gelu"
    slope: float = 0.01


@dataclass
class NormConfig:
    eps: float = 1e-5


@dataclass
class BlockConfig:
    width: int
    act: ActConfig
    norm: NormConfig


@dataclass
class Model:
    name: str
    blocks: list[BlockConfig]


@reg.register_with_config
class Act:
    def __init__(self, kind: str, slope: float) -> None:
        self.kind = kind
        self.slope = slope


@reg.register_with_config
class Norm:
    def __init__(self, eps: float, dim: int) -> None:
        self.eps = eps
        self.dim = dim


@reg.register_with_config
class Block:
    def __init__(self, width: int, act: Act, norm: Any) -> None:
        self.width = width
        self.act = act
        self.norm = norm


def make_tree() -> Model:
    return Model(
        "bench",
        [BlockConfig(i, ActConfig(), NormConfig(1e-5 * (i % 7 + 1))) for i in range(N_BLOCKS)],
    )


def count_nodes(x: Any) -> int:
    if dataclasses.is_dataclass(x):
        return 1 + sum(count_nodes(getattr(x, f.name)) for f in dataclasses.fields(x))
    if isinstance(x, (list, tuple)):
        return 1 + sum(count_nodes(v) for v in x)
    if isinstance(x, dict):
        return 1 + sum(count_nodes(v) for v in x.values())
    return 0


def seed_configure(x: Any, registry: Registry) -> Any:
    """The seed's algorithm: bind the signature per node, partial on TypeError."""
    if dataclasses.is_dataclass(x) and not isinstance(x, type):
        fields = {f.name: seed_configure(getattr(x, f.name), registry) for f in dataclasses.fields(x)}
        clsname = registry._cfgname2clsname.get(type(x).__name__)
        if clsname is not None:
            cls = registry._clsname2cls[clsname]
            try:
                inspect.signature(cls).bind(**fields)
                return cls(**fields)
            except TypeError:
                return functools.partial(cls, **fields)
        return type(x)(**fields)
    if isinstance(x, list):
        return [seed_configure(v, registry) for v in x]
    if isinstance(x, tuple):
        return tuple(seed_configure(v, registry) for v in x)
    if isinstance(x, dict):
        return {k: seed_configure(v, registry) for k, v in x.items()}
    return x


def median_seconds(fn: Any, tree: Model) -> float:
    times = []
    for _ in range(REPEATS):
        t0 = time.perf_counter()
        fn(tree)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    tree = make_tree()
    nodes = count_nodes(tree)
    ours = reg.configure_submodules(tree)
    ref = seed_configure(tree, reg)
    # Same result shape from both algorithms (sanity, not a test).
    assert isinstance(ours, Model) and isinstance(ref, Model)
    assert isinstance(ours.blocks[0], Block) and isinstance(ours.blocks[0].norm, functools.partial)
    assert isinstance(ref.blocks[0].norm, functools.partial)

    t_ours = median_seconds(reg.configure_submodules, tree)
    t_seed = median_seconds(lambda t: seed_configure(t, reg), tree)
    us_ours = t_ours / nodes * 1e6
    us_seed = t_seed / nodes * 1e6
    print(f"configure_submodules, {nodes} nodes ({N_BLOCKS} blocks), median of {REPEATS}")
    print(f"  config_utils (plan cache)   {t_ours * 1e3:8.2f} ms  {us_ours:6.2f} µs/node  (target ≤ 5)")
    print(f"  seed (bind per node)        {t_seed * 1e3:8.2f} ms  {us_seed:6.2f} µs/node")
    print(f"  ratio seed / config_utils   {t_seed / t_ours:6.2f}x")
    print(f"  within target: {'yes' if us_ours <= 5 else 'NO'}")


if __name__ == "__main__":
    main()
