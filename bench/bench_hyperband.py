"""Early termination: the same 27-trial sweep with hyperband and without, best value and cost.

The task is ``examples/sweep/curves.py``: each trial reports its loss every epoch (27 epochs),
and the curves separate early (the loss decays to a floor set by the learning rate), which is
the case hyperband is for. Both sweeps are random search over the learning rate with the same
seed, so they try the same 27 learning rates in the same order, 2 at a time. Cost is counted
in trial-steps (reported epochs summed over trials): wall time on a shared machine says less.

Targets (the issue): hyperband's best within 5 % of the full sweep's best, with at most 40 %
of its trial-steps. Not in CI.

    python bench/bench_hyperband.py                  # 27 trials, about 2 minutes
    python bench/bench_hyperband.py --trials 54 --min-iter 1
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from config_utils.sweep import run  # noqa: E402

CURVES = REPO / "examples" / "sweep" / "curves.py"


def spec_text(trials: int, epochs: int, epoch_seconds: float, early: str) -> str:
    return (f"program: {CURVES}\nmethod: random\nrun_cap: {trials}\nmetric: {{name: loss, goal: minimize}}\n"
            f"{early}parameters:\n"
            "  lr: {distribution: log_uniform_values, min: 1.0e-4, max: 1.0}\n"
            f"  epochs: {{value: {epochs}}}\n  epoch_seconds: {{value: {epoch_seconds}}}\n")


def one(tmp: Path, name: str, text: str, seed: int, parallel: int) -> dict[str, float]:
    spec = tmp / f"{name}.yaml"
    spec.write_text(text)
    t0 = time.monotonic()
    result = run(spec, sweep_dir=tmp / name, seed=seed, parallel=parallel, out=io.StringIO())
    seconds = time.monotonic() - t0
    steps = 0
    for row in result.rows:
        metrics = Path(row.run_dir) / "metrics.jsonl"
        steps += len(metrics.read_text().splitlines()) if metrics.exists() else 0
    best = result.best
    return {"best": best.value if best and best.value is not None else float("nan"), "steps": steps,
            "seconds": seconds, "stopped": sum(r.status == "stopped" for r in result.rows),
            "complete": sum(r.status == "complete" for r in result.rows)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, default=27)
    ap.add_argument("--epochs", type=int, default=27)
    ap.add_argument("--epoch-seconds", type=float, default=0.1)
    ap.add_argument("--min-iter", type=int, default=3)
    ap.add_argument("--eta", type=float, default=3.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--parallel", type=int, default=2)
    ap.add_argument("--json", type=Path, default=None, help="also write the figures here")
    a = ap.parse_args()
    early = f"early_terminate: {{type: hyperband, min_iter: {a.min_iter}, eta: {a.eta}}}\n"
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        full = one(tmp, "full", spec_text(a.trials, a.epochs, a.epoch_seconds, ""), a.seed, a.parallel)
        hb = one(tmp, "hyperband", spec_text(a.trials, a.epochs, a.epoch_seconds, early), a.seed, a.parallel)
    gap = (hb["best"] - full["best"]) / abs(full["best"])
    share = hb["steps"] / full["steps"]
    print(f"{a.trials} trials x {a.epochs} epochs, random search (seed {a.seed}), {a.parallel} at a time; "
          f"hyperband min_iter {a.min_iter}, eta {a.eta:g}")
    print(f"{'':12} {'best loss':>10} {'trial-steps':>12} {'complete':>9} {'stopped':>8} {'seconds':>8}")
    for name, r in (("full sweep", full), ("hyperband", hb)):
        print(f"{name:12} {r['best']:10.5f} {int(r['steps']):12d} {int(r['complete']):9d} {int(r['stopped']):8d} "
              f"{r['seconds']:8.1f}")
    ok_best, ok_steps = gap <= 0.05, share <= 0.40
    print(f"best: hyperband {gap:+.2%} vs the full sweep (target within 5 %): {'met' if ok_best else 'MISSED'}")
    print(f"cost: hyperband {share:.1%} of the full sweep's trial-steps (target at most 40 %): "
          f"{'met' if ok_steps else 'MISSED'}")
    if a.json:
        a.json.write_text(json.dumps({"full": full, "hyperband": hb, "best_gap": gap, "step_share": share}, indent=2))
    return 0 if ok_best and ok_steps else 1


if __name__ == "__main__":
    sys.exit(main())
