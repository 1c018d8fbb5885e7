"""The OFC live plot: what reporting costs the training loop with and without the page open,
and how fast a very long run draws.

Targets (docs/live-control.md; PASS/FAIL lines at the end):
- a page that is open adds nothing measurable to a training step: the per-step cost of
  ``ofc.update()`` + ``config_utils.report(...)`` with the page open is within 10 % (or 2 µs)
  of the cost without it;
- a run of 10 million steps draws in under a second (``RunPlot.svg()`` on its downsampled
  state).

Also measured and printed (no target): the per-step cost of reporting with no OFC at all
(``report`` then does nothing), and how fast the page takes in a metrics file it has not read
(lines per second), i.e. how long a page opened on a long run takes to catch up.

"The page open" is the real gradio page of ``OFC(gui=True)`` served in the training process,
polled by a separate process every second exactly as an open page's timer does (``/plot``),
so the server-side work (reading the new lines, drawing) runs while the loop is timed.

    python bench/bench_ofc_plot.py [--steps 20000] [--rounds 3] [--render-steps 10000000]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "src" / "test"))

from ofc_config import Cfg  # noqa: E402  (src/test: the config the OFC tests steer)

import config_utils  # noqa: E402
from config_utils.ofc import OFC  # noqa: E402
from config_utils.ofc.plot import RunPlot, Series  # noqa: E402

POLLER = """
import sys, time
from gradio_client import Client
client = Client(sys.argv[1], verbose=False, analytics_enabled=False, download_files=False)
while True:
    client.predict([], [], api_name="/plot")
    time.sleep(1.0)
"""


def loop(ofc: OFC | None, steps: int, start: int = 0) -> float:
    """µs per step of a loop that checks the OFC and reports two metrics."""
    t0 = time.perf_counter()
    for step in range(start, start + steps):
        if ofc is not None:
            ofc.update(step)
        config_utils.report(step=step, loss=1.0 / (step + 1), acc=step / (step + 1))
    return (time.perf_counter() - t0) / steps * 1e6


def reporting_cost(steps: int, rounds: int) -> dict[str, float]:
    """Median µs/step: no OFC, OFC without a page, OFC with the page open and polled."""
    os.environ.pop("FLOWS_RUN_DIR", None)
    results: dict[str, list[float]] = {"no OFC": [], "OFC, no page": [], "OFC, page open": []}
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        quiet = OFC(Cfg(), ofc_file=base / "quiet" / "ofc.ini", use_wandb=False, plot_png=False)
        os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
        served = OFC(Cfg(), ofc_file=base / "page" / "ofc.ini", use_wandb=False, gui=True,
                     plot_png=False)
        poller = subprocess.Popen([sys.executable, "-c", POLLER, served.gradio_url],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            time.sleep(8.0)  # the poller's import of gradio_client and first request
            step = 0
            for _ in range(rounds):
                for name, ofc in (("no OFC", None), ("OFC, no page", quiet), ("OFC, page open", served)):
                    # report() writes to every live OFC: only the one measured may be live
                    others = [o for o in (quiet, served) if o is not ofc]
                    hidden = [_hide(o) for o in others]
                    try:
                        results[name].append(loop(ofc, steps, step))
                    finally:
                        for o, key in zip(others, hidden, strict=True):
                            _show(o, key)
                    step += steps
        finally:
            poller.kill()
            poller.wait()
            quiet.close()
            served.close()
    return {k: statistics.median(v) for k, v in results.items()}


def _hide(ofc: OFC) -> str:
    """Take an OFC out of report()'s reach for a measurement (it stays open)."""
    from config_utils.ofc import core

    key = str(ofc.ofc_file.resolve())
    with core._OPEN_LOCK:
        core._OPEN_FILES.pop(key, None)
    return key


def _show(ofc: OFC, key: str) -> None:
    from config_utils.ofc import core

    with core._OPEN_LOCK:
        core._OPEN_FILES[key] = ofc


def render_time(steps: int) -> tuple[float, float, int]:
    """(seconds to build the downsampled state, seconds to draw it, points drawn)."""
    plot = RunPlot(Path("/nonexistent/metrics.jsonl"), Path("/nonexistent/history.jsonl"))
    series = plot.series["train/loss"] = Series()
    t0 = time.perf_counter()
    for step in range(steps):
        series.add(step, 1.0 / math.sqrt(step + 1) + (0.05 if step % 1000 == 0 else 0.0))
    built = time.perf_counter() - t0
    t0 = time.perf_counter()
    svg = plot.svg()
    drawn = time.perf_counter() - t0
    return built, drawn, svg.count(" L") + 1


def ingest_rate(lines: int) -> float:
    """Lines per second at which the page reads a metrics file it has not seen."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "metrics.jsonl"
        with path.open("w") as fh:
            for step in range(lines):
                fh.write(json.dumps({"_time": 1.0, "_step": step, "loss": 1.0 / (step + 1),
                                     "acc": step / lines}) + "\n")
        plot = RunPlot(path, Path(tmp) / "history.jsonl")
        t0 = time.perf_counter()
        while not plot.refresh(budget_s=10.0):
            pass
        return lines / (time.perf_counter() - t0)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20_000, help="steps per timed loop")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--render-steps", type=int, default=10_000_000)
    parser.add_argument("--ingest-lines", type=int, default=200_000)
    args = parser.parse_args()

    cost = reporting_cost(args.steps, args.rounds)
    print(f"reporting cost per step (median of {args.rounds} rounds of {args.steps} steps):")
    for name, us in cost.items():
        print(f"  {name:16s} {us:8.2f} µs")
    built, drawn, points = render_time(args.render_steps)
    print(f"{args.render_steps:,} steps: downsampled in {built:.2f} s (as they arrive), drawn in "
          f"{drawn * 1000:.1f} ms ({points} points)")
    rate = ingest_rate(args.ingest_lines)
    print(f"reading an unseen metrics file: {rate:,.0f} lines/s "
          f"({args.render_steps / rate:.0f} s to catch up on {args.render_steps:,} lines, paced "
          "at 0.2 s of work per 1 s refresh)")

    extra = cost["OFC, page open"] - cost["OFC, no page"]
    ok_page = extra <= max(2.0, 0.10 * cost["OFC, no page"])
    ok_draw = drawn < 1.0
    print(f"{'PASS' if ok_page else 'FAIL'}: page open adds {extra:+.2f} µs/step "
          f"(target: within 10 % or 2 µs of {cost['OFC, no page']:.2f} µs)")
    print(f"{'PASS' if ok_draw else 'FAIL'}: {args.render_steps:,} steps drawn in "
          f"{drawn * 1000:.0f} ms (target < 1 s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
