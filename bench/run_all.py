"""Run every benchmark in bench/ and print one summary of their target lines.

    .venv/bin/python bench/run_all.py [--quick] [--prefigure]

Each benchmark runs the peers side by side in one invocation and prints its own table; this
script runs them one after the other (they are timing-sensitive: never in parallel), then
collects every PASS/FAIL verdict into a single table with the machine and the date.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import re
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

BENCHES: list[tuple[str, list[str], list[str]]] = [
    # (script, normal args, --quick args)
    ("bench_import.py", [], ["--repeat", "3"]),
    ("bench_cli.py", [], ["--repeat", "3"]),
    ("bench_sizes.py", [], ["--quick"]),
    ("bench_instantiate.py", [], []),
    ("bench_compat.py", ["--no-prefigure"], ["--repeat", "3", "--no-prefigure"]),
    ("bench_ofc.py", [], ["--repeat", "3", "--no-prefigure"]),
    ("bench_ofc_plot.py", [], ["--steps", "5000", "--rounds", "1", "--render-steps", "1000000"]),
    ("bench_sweep.py", [], ["--trials", "50", "--repeat", "1"]),
]
VERDICT = re.compile(r"\b(PASS|FAIL|SKIP)\b|within target")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer repeats (a rough look, not figures to publish)")
    parser.add_argument("--prefigure", action="store_true", help="also time real prefigure (~8 s a run)")
    opts = parser.parse_args()

    summary: list[tuple[str, str]] = []
    failed: list[str] = []
    for script, normal, quick in BENCHES:
        args = list(quick if opts.quick else normal)
        if opts.prefigure and script in ("bench_cli.py", "bench_import.py"):
            args.append("--prefigure")
        if opts.prefigure and "--no-prefigure" in args:
            args.remove("--no-prefigure")
        print(f"\n===== {script} {' '.join(args)}", flush=True)
        proc = subprocess.run(
            [sys.executable, str(HERE / script), *args],
            text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=HERE.parent,
        )
        print(proc.stdout, end="", flush=True)
        if proc.returncode != 0:
            failed.append(f"{script} exited {proc.returncode}")
        for line in proc.stdout.splitlines():
            if VERDICT.search(line):
                summary.append((script, line.strip()))

    print("\n" + "=" * 78)
    print(
        f"Summary — {dt.date.today().isoformat()}, {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}"
    )
    width = max((len(s) for s, _ in summary), default=10)
    for script, line in summary:
        print(f"  {script:<{width}}  {line}")
    for f in failed:
        print(f"  ERROR: {f}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
