"""SLURM submission overhead: ``flow_sweep --engine slurm`` against a bare ``sbatch --wrap`` loop.

Both run the same N trivial trials (``python trivial.py --x=I``, one CPU each) as SLURM jobs on
the same real one-node cluster on loopback (``src/test/slurm_cluster.py``: munged, slurmctld
and slurmd started here, stopped at the end; needs root and Debian's slurmctld, slurmd,
slurm-client and munge packages). Each contender is a whole process, timed from its start to
the moment every trial has ended, run alternately (bench/common.py):

- **sbatch --wrap loop (floor)**: one ``sbatch --wrap`` per trial, each with its run directory
  (so ``config_utils.report`` writes its metrics), then ``squeue`` until they have all ended.
  Nothing else: no checks, no state, no results.
- **flow_sweep --engine slurm**: the same trials as a grid spec, with everything a SLURM sweep
  does: the typed check, the partition check, the state, one job array through submitit, the
  submitit wrapper on the node (signal handling for requeue), run records, results and plots.
- **flow_sweep, nothing to do**: the same command on a finished sweep: the fixed cost alone,
  subtracted to get the per-trial cost.

Per-trial cost = wall time / N (flow_sweep: (wall - fixed) / N), against the floor's. The
cluster has two CPUs, so both run two trials at a time. Not in CI.

    python bench/bench_slurm.py                  # 20 trials, 2 rounds (about 3 minutes)
    python bench/bench_slurm.py --trials 40 --repeat 3
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "src" / "test"))
import trivial_sweep  # noqa: E402
from common import Contender, bench_env, format_table, run_alternating  # noqa: E402


def floor(work: Path, trials: int) -> None:
    """The bare loop: one ``sbatch --wrap`` per trial, then wait for every job to end."""
    runs = Path(tempfile.mkdtemp(prefix="floor-", dir=work))
    name = runs.name
    for i in range(trials):
        run_dir = runs / f"{i:04d}"
        run_dir.mkdir()
        cmd = f"{sys.executable} {work / 'trivial.py'} --x={i} --y=0.5"
        subprocess.run(["sbatch", "--quiet", f"--job-name={name}", "--cpus-per-task=1",
                        f"--output={run_dir / 'output.log'}", f"--export=ALL,FLOWS_RUN_DIR={run_dir}",
                        f"--wrap={cmd}"], check=True, cwd=work)
    while subprocess.run(["squeue", "--noheader", f"--name={name}"], capture_output=True, text=True,
                         check=True).stdout.strip():
        time.sleep(0.2)
    trivial_sweep.check_floor(runs, trials)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--trials", type=int, default=20)
    ap.add_argument("--repeat", type=int, default=2)
    trivial_sweep.add_options(ap)
    args = ap.parse_args()
    if args._floor is not None:
        floor(args._floor, args.trials)
        return 0
    if args._sweep is not None:
        trivial_sweep.flow_sweep(args._sweep, args._done, ["--engine", "slurm"])
        return 0

    import slurm_cluster

    why = slurm_cluster.unavailable()
    if why:
        print(f"bench_slurm: skipped: {why}")
        return 0
    cluster = slurm_cluster.start()
    try:
        with tempfile.TemporaryDirectory(prefix="bench-slurm-") as tmp:
            work = Path(tmp)
            os.chmod(work, 0o755)
            spec = trivial_sweep.write_trivial(work, args.trials, centre=10)
            me = [sys.executable, str(Path(__file__).resolve())]
            n = args.trials
            contenders = [
                Contender("sbatch --wrap loop (floor)", [*me, "--_floor", str(work), "--trials", str(n)]),
                Contender("flow_sweep --engine slurm", [*me, "--_sweep", str(spec)]),
                Contender("flow_sweep, nothing to do", [*me, "--_sweep", str(spec), "--_done", str(work / "done")]),
            ]
            env = bench_env(cluster.env)
            # compile .pyc files, warm the page cache, and make the finished sweep (untimed)
            subprocess.run([*me, "--_sweep", str(spec), "--_done", str(work / "done")], env=env,
                           capture_output=True, check=True)
            print(f"{n} trivial trials as SLURM jobs on a one-node cluster ({cluster.cpus} CPUs); "
                  f"{args.repeat} round(s), contenders alternating", flush=True)
            results = run_alternating(contenders, repeat=args.repeat, warmup=0, env=env,
                                      log=lambda m: print(m, flush=True))
    finally:
        cluster.stop()
    print()
    print(format_table(results, {"floor": "sbatch --wrap loop (floor)"}, title=f"{n} trivial trials on SLURM"))
    base, sweep, dry = (results[c] for c in ("sbatch --wrap loop (floor)", "flow_sweep --engine slurm",
                                             "flow_sweep, nothing to do"))
    summary = trivial_sweep.per_trial(base, sweep, dry, n)
    if summary:
        per_floor, per_sweep = summary["floor_per_trial_s"], summary["sweep_per_trial_s"]
        print()
        print(f"per trial: sbatch --wrap loop {per_floor * 1000:.0f} ms, flow_sweep --engine slurm "
              f"{per_sweep * 1000:.0f} ms ({per_sweep / per_floor:.2f} x; fixed cost {dry.median:.1f} s: "
              "checks, partition, state, results, plots)")
        verdict = "PASS" if per_sweep / per_floor <= 1.2 else "FAIL"
        print(f"{verdict}: per-trial time {per_sweep / per_floor:.2f} x the sbatch --wrap loop (target <= 1.20)")
    else:
        for r in (base, sweep, dry):
            if r.error:
                print(f"{r.name}: {r.error}")
    trivial_sweep.write_results(args.json, results, summary)
    return 0


if __name__ == "__main__":
    sys.exit(main())
