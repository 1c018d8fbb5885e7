"""Sweep overhead: 200 trivial trials with flow_sweep, Hydra's multirun, and a bare loop.

Contenders, each a whole process timed from start to end, run alternately (bench/common.py):

- **bare loop (floor)**: a loop of subprocesses, 2 at a time, each ``python trivial.py --x=I``
  with its own run directory (so ``config_utils.report`` writes its metrics as in a sweep);
  nothing else: no checks, no state, no results.
- **flow_sweep**: the same 200 trials as a grid spec, 2 at a time (``--parallel 2``), with
  everything a sweep does: the typed check before launch, the Optuna SQLite state, run records,
  progress lines, results table, CSV and the plot.
- **flow_sweep, nothing to do**: the same command on a sweep that has finished: the fixed
  cost alone (checks, plan, opening the state, the results table, CSV and plots), subtracted
  to get the per-trial cost.
- **hydra -m (basic launcher)**: ``python trivial_hydra.py -m x=range(0,200)``; the basic
  launcher runs every job *in the sweep's own process*, one after another: no process start
  per trial, but no isolation either (a crash or a leaked global ends or taints the sweep).
- **hydra -m (joblib, 2 jobs)**: the joblib launcher (loky worker processes, reused between
  jobs), 2 at a time.

The trial itself is the same computation everywhere: read ``x`` and ``y``, compute a metric.
Per-trial cost = wall time / trials; flow_sweep's per trial = (its wall time - its fixed
cost) / trials, compared with the floor's per-trial time. Not in CI.

    python bench/bench_sweep.py                 # 200 trials, 3 rounds (about 10 minutes)
    python bench/bench_sweep.py --trials 50 --repeat 1
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import trivial_sweep  # noqa: E402
from common import Contender, bench_env, format_table, run_alternating  # noqa: E402

TRIVIAL_HYDRA = '''"""The same trial as a Hydra app (structured config)."""
from dataclasses import dataclass

import hydra
from hydra.core.config_store import ConfigStore


@dataclass
class Config:
    x: int = 0
    y: float = 0.5


ConfigStore.instance().store(name="cfg", node=Config)


@hydra.main(version_base=None, config_name="cfg")
def main(cfg: Config) -> float:
    return (cfg.x - 100) ** 2 * cfg.y


if __name__ == "__main__":
    main()
'''


def write_programs(work: Path, trials: int) -> Path:
    (work / "trivial_hydra.py").write_text(TRIVIAL_HYDRA)
    return trivial_sweep.write_trivial(work, trials, centre=100)


def floor(work: Path, trials: int, parallel: int) -> None:
    """The bare loop: ``parallel`` subprocesses in flight, nothing else."""
    runs = Path(tempfile.mkdtemp(prefix="floor-", dir=work))
    running: list[subprocess.Popen[bytes]] = []
    for i in range(trials):
        while len(running) >= parallel:
            for p in running:
                if p.poll() is not None:
                    running.remove(p)
                    break
            else:
                time.sleep(0.005)
        env = dict(os.environ, FLOWS_RUN_DIR=str(runs / f"{i:04d}"))
        running.append(subprocess.Popen([sys.executable, str(work / "trivial.py"), f"--x={i}", "--y=0.5"],
                                        env=env, stdout=subprocess.DEVNULL, cwd=work))
    for p in running:
        p.wait()
    trivial_sweep.check_floor(runs, trials)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--trials", type=int, default=200)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--parallel", type=int, default=2)
    trivial_sweep.add_options(ap)
    args = ap.parse_args()
    if args._floor is not None:
        floor(args._floor, args.trials, args.parallel)
        return 0
    if args._sweep is not None:
        trivial_sweep.flow_sweep(args._sweep, args._done, ["--parallel", str(args.parallel)])
        return 0

    with tempfile.TemporaryDirectory(prefix="bench-sweep-") as tmp:
        work = Path(tmp)
        spec = write_programs(work, args.trials)
        me = [sys.executable, str(Path(__file__).resolve())]
        n, par = args.trials, args.parallel
        hydra = [sys.executable, str(work / "trivial_hydra.py"), "-m", f"x=range(0,{n})", "y=0.5",
                 f"hydra.sweep.dir={work}/hydra/${{now:%H-%M-%S-%f}}", "hydra/job_logging=disabled",
                 "hydra/hydra_logging=disabled"]
        contenders = [
            Contender("bare loop (floor)", [*me, "--_floor", str(work), "--trials", str(n), "--parallel", str(par)]),
            Contender("flow_sweep", [*me, "--_sweep", str(spec), "--trials", str(n), "--parallel", str(par)]),
            Contender("flow_sweep, nothing to do", [*me, "--_sweep", str(spec), "--_done", str(work / "done"),
                                                    "--parallel", str(par)]),
            Contender("hydra -m (basic)", hydra),
            Contender(f"hydra -m (joblib, {par} jobs)",
                      [*hydra, "hydra/launcher=joblib", f"hydra.launcher.n_jobs={par}"]),
        ]
        # compile .pyc files, warm the page cache, and make the finished sweep (untimed)
        subprocess.run([*me, "--_sweep", str(spec), "--_done", str(work / "done"), "--parallel", str(par)],
                       env=bench_env(), capture_output=True, check=True)
        print(f"{n} trivial trials, {par} at a time; {args.repeat} round(s), contenders alternating", flush=True)
        results = run_alternating(contenders, repeat=args.repeat, warmup=0, env=bench_env(),
                                  log=lambda m: print(m, flush=True))
    print()
    print(format_table(results, {"floor": "bare loop (floor)"}, title=f"{n} trivial trials"))
    base, sweep, dry = (results[c] for c in ("bare loop (floor)", "flow_sweep", "flow_sweep, nothing to do"))
    summary = trivial_sweep.per_trial(base, sweep, dry, n)
    if summary:
        per_floor, per_sweep = summary["floor_per_trial_s"], summary["sweep_per_trial_s"]
        summary.update(sweep_overhead_per_trial_ms=(per_sweep - per_floor) * 1000,
                       throughput_floor=n / base.median, throughput_sweep=n / sweep.median)
        print()
        print(f"per trial: floor {per_floor * 1000:.0f} ms, flow_sweep {per_sweep * 1000:.0f} ms "
              f"(+{(per_sweep - per_floor) * 1000:.0f} ms, {per_sweep / per_floor:.2f} x floor; "
              f"fixed cost {dry.median:.1f} s: checks, plan, state, results, plots)")
        print(f"throughput: floor {n / base.median:.1f} trials/s, flow_sweep {n / sweep.median:.1f} trials/s")
        for name in ("hydra -m (basic)", f"hydra -m (joblib, {par} jobs)"):
            r = results[name]
            if r.ok:
                print(f"{name}: {r.median / n * 1000:.0f} ms per trial, {n / r.median:.1f} trials/s")
        verdict = "PASS" if per_sweep / per_floor <= 1.1 else "FAIL"
        print(f"{verdict}: flow_sweep per-trial time {per_sweep / per_floor:.2f} x the bare loop (target <= 1.10)")
    trivial_sweep.write_results(args.json, results, summary)
    return 0


if __name__ == "__main__":
    sys.exit(main())
