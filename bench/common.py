"""Shared helpers of the benchmarks in ``bench/``: timing whole processes, fairly, and reporting.

Why whole processes: what a user waits for is ``python train.py ...`` from start to the config,
imports included; in-process timings hide import cost, which is most of a parser's cost.
Why alternating: on a shared 2-core machine the load drifts; running contenders round-robin
(rotating who goes first each round) spreads that drift over all of them instead of punishing
whichever ran last. Each contender runs once untimed first (page cache, ``.pyc`` files).

Only the standard library is used, so any bench script can import this module.
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent
PEERS_DIR = BENCH_DIR / "peers"


@dataclass
class Contender:
    """One command to time: ``argv`` is run as is (``argv[0]`` usually ``sys.executable``).

    ``check`` looks at a finished run and returns an error text, or None when the output is right
    (e.g. the checksum matches); it runs on every timed run, outside the timed region.
    """

    name: str
    argv: list[str]
    check: Callable[[subprocess.CompletedProcess[str]], str | None] | None = None
    note: str = ""


@dataclass
class Result:
    """Timings (seconds) of one contender, plus what went wrong, if anything."""

    name: str
    times: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    error: str | None = None
    stdout: str = ""
    note: str = ""

    @property
    def ok(self) -> bool:
        return self.error is None and bool(self.times)

    @property
    def median(self) -> float:
        return statistics.median(self.times) if self.times else float("nan")

    @property
    def min(self) -> float:
        return min(self.times) if self.times else float("nan")

    @property
    def cpu_median(self) -> float:
        """Median CPU seconds (user + sys) of the process: steadier than wall time under load."""
        return statistics.median(self.cpu) if self.cpu else float("nan")


def bench_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """Environment for contender processes: hermetic and quiet, same for everyone.

    W&B and gradio are switched off (prefigure imports both); help is rendered at a fixed
    width so ``--help`` rounds do the same work in every run; jsonargparse's deprecation
    warnings are silenced so they do not pollute stderr checks.
    """
    env = dict(os.environ)
    env.update(
        {
            "WANDB_MODE": "disabled",
            "WANDB_SILENT": "true",
            "WANDB_ERROR_REPORTING": "false",
            "GRADIO_ANALYTICS_ENABLED": "False",
            "COLUMNS": "100",
            "JSONARGPARSE_DEPRECATION_WARNINGS": "off",
            "PYTHONWARNINGS": "ignore",
        }
    )
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.pop("PYTHONPROFILEIMPORTTIME", None)
    if extra:
        env.update(extra)
    return env


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_once(
    argv: Sequence[str], *, env: dict[str, str] | None = None, cwd: Path | None = None
) -> tuple[float, subprocess.CompletedProcess[str]]:
    """Run ``argv`` to completion in a fresh process; return (wall seconds, the process).

    The process's CPU seconds (user + sys, from ``RUSAGE_CHILDREN``: processes here run one at
    a time) are stored on the returned object as ``cpu_seconds``.
    """
    cpu0 = _children_cpu()
    start = time.perf_counter()
    proc = subprocess.run(
        list(argv),
        capture_output=True,
        text=True,
        env=env if env is not None else bench_env(),
        cwd=str(cwd or BENCH_DIR),
        check=False,
    )
    wall = time.perf_counter() - start
    proc.cpu_seconds = _children_cpu() - cpu0  # type: ignore[attr-defined]
    return wall, proc


def _failure(c: Contender, proc: subprocess.CompletedProcess[str]) -> str | None:
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        return f"exit status {proc.returncode}: " + " | ".join(tail)
    return c.check(proc) if c.check else None


def run_alternating(
    contenders: Sequence[Contender],
    repeat: int = 7,
    *,
    warmup: int = 1,
    env: dict[str, str] | None = None,
    log: Callable[[str], None] | None = None,
) -> dict[str, Result]:
    """Time every contender ``repeat`` times, round-robin, rotating the start each round.

    A contender that fails its warm-up run or a check is dropped from later rounds and its
    result carries the error; the others go on.
    """
    env = env if env is not None else bench_env()
    results = {c.name: Result(c.name, note=c.note) for c in contenders}
    live = list(contenders)
    for _ in range(warmup):
        for c in list(live):
            _, proc = run_once(c.argv, env=env)
            err = _failure(c, proc)
            results[c.name].stdout = proc.stdout
            if err:
                results[c.name].error = err
                live.remove(c)
                if log:
                    log(f"  {c.name}: FAILED in warm-up: {err}")
    for i in range(repeat):
        k = i % len(live) if live else 0
        for c in live[k:] + live[:k]:
            if results[c.name].error:
                continue
            seconds, proc = run_once(c.argv, env=env)
            err = _failure(c, proc)
            if err:
                results[c.name].error = err
                continue
            results[c.name].times.append(seconds)
            results[c.name].cpu.append(proc.cpu_seconds)  # type: ignore[attr-defined]
        if log:
            log(f"  round {i + 1}/{repeat}: " + ", ".join(
                f"{c.name} {results[c.name].times[-1]:.3f}s"
                for c in live if results[c.name].times and not results[c.name].error))
    return results


def ratio(a: Result | None, b: Result | None, of: str = "median") -> float | None:
    """``a.median / b.median`` (or of ``min``/``cpu_median``); None when either is missing/failed."""
    if a is None or b is None or not a.ok or not b.ok:
        return None
    return float(getattr(a, of)) / float(getattr(b, of))


def format_table(
    results: dict[str, Result], baselines: dict[str, str], title: str = ""
) -> str:
    """A plain-text table: wall median, wall min, CPU median, and one ratio column per baseline
    (label -> contender name; ratios of wall medians)."""
    head = ["contender", "median s", "min s", "cpu s", *(f"x {label}" for label in baselines),
            "note"]
    rows: list[list[str]] = []
    for r in sorted(results.values(), key=lambda r: (not r.ok, r.median)):
        if not r.ok:
            rows.append([r.name, "-", "-", "-", *("-" for _ in baselines), f"FAILED: {r.error}"])
            continue
        ratios = []
        for base in baselines.values():
            q = ratio(r, results.get(base))
            ratios.append(f"{q:.2f}" if q is not None else "-")
        rows.append([r.name, f"{r.median:.3f}", f"{r.min:.3f}", f"{r.cpu_median:.3f}", *ratios,
                     r.note])
    widths = [max(len(row[i]) for row in [head, *rows]) for i in range(len(head) - 1)]
    lines = [title] if title else []
    for row in [head, *rows]:
        cells = [cell.ljust(w) if i == 0 else cell.rjust(w) for i, (cell, w) in
                 enumerate(zip(row, widths, strict=False))]
        lines.append("  ".join(cells) + ("  " + row[-1] if row[-1] else ""))
    return "\n".join(lines)


def verdict(label: str, ok: bool | None, detail: str) -> str:
    """One explicit ``PASS``/``FAIL``/``SKIP`` line for a target (SKIP when not measurable)."""
    word = "SKIP" if ok is None else ("PASS" if ok else "FAIL")
    return f"{word}  {label}: {detail}"


def python_has(statement: str) -> bool:
    """Whether ``statement`` runs in a fresh interpreter (probe optional contenders)."""
    proc = subprocess.run(
        [sys.executable, "-c", statement], capture_output=True, text=True,
        env=bench_env(), cwd=str(REPO_DIR), check=False,
    )
    return proc.returncode == 0


def results_json(results: dict[str, Result]) -> dict[str, Any]:
    """JSON-ready form of results (for ``--json`` and a later summary table)."""
    out: dict[str, Any] = {}
    for name, r in results.items():
        d = asdict(r)
        d.pop("stdout")
        d.update(median=r.median if r.ok else None, min=r.min if r.ok else None,
                 cpu_median=r.cpu_median if r.ok else None, ok=r.ok)
        out[name] = d
    return out


def write_json(path: str | Path, payload: dict[str, Any]) -> None:
    """Write the results with the machine facts needed to compare runs later."""
    payload = {
        "python": sys.version.split()[0],
        "cpus": os.cpu_count(),
        "loadavg": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        **payload,
    }
    Path(path).write_text(json.dumps(payload, indent=2, sort_keys=True) + "\n")


def importtime_top(statement: str, n: int = 15) -> list[tuple[int, str]]:
    """The ``n`` slowest imports (cumulative microseconds) of ``statement``, by ``-X importtime``."""
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", statement], capture_output=True, text=True,
        env=bench_env(), cwd=str(BENCH_DIR), check=False,
    )
    rows: list[tuple[int, str]] = []
    for line in proc.stderr.splitlines():
        parts = line.removeprefix("import time:").split("|")
        if len(parts) != 3 or not parts[1].strip().isdigit():
            continue  # the header line or anything else
        rows.append((int(parts[1]), parts[2].rstrip()))
    rows.sort(reverse=True)
    return rows[:n]
