"""``config_utils.report(**metrics)``: a trial tells its sweep how it did.

Why a file: the sweep (or a person) reads the metrics of a trial from the trial's run
directory whatever ran it — a local subprocess, a Ray task on another node, or a rerun from
the record — with no connection back to the controller. Each call appends one JSON line to
``$FLOWS_RUN_DIR/metrics.jsonl``; the sweep takes the last reported value of its metric (as
W&B's sweep controller takes the run summary). When a W&B run is active, the metrics also go
into its summary, where a W&B sweep would look for them. Outside a sweep and without W&B,
``report`` does nothing and costs nothing, so a script can call it unconditionally.
"""

from __future__ import annotations

import json
import math
import os
import sys
import time
from pathlib import Path
from typing import Any

from ..errors import ConfigError

METRICS_FILE = "metrics.jsonl"
RUN_DIR_ENV = "FLOWS_RUN_DIR"
TRIAL_ENV = "FLOWS_SWEEP_TRIAL"


class ReportError(ConfigError):
    """A metric passed to :func:`report` that is not a number."""


def _number(name: str, value: Any) -> float | int:
    if hasattr(value, "item") and callable(value.item):  # torch / numpy scalars
        try:
            value = value.item()
        except (ValueError, RuntimeError) as exc:
            raise ReportError(f"report: metric {name!r} is not a single number ({exc})") from None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ReportError(f"report: metric {name!r} must be a number, got {type(value).__name__} {value!r}")
    return value


def metrics_line(values: dict[str, float | int], step: int | None = None) -> str:
    """One line of ``metrics.jsonl``, the one format of reported metrics (written by
    :func:`report` and by the OFC's Lightning callback, read by :func:`parse_metrics_line`)."""
    line: dict[str, Any] = {"_time": round(time.time(), 3)}
    if step is not None:
        line["_step"] = step
    line.update({k: (v if math.isfinite(v) else str(v)) for k, v in values.items()})
    return json.dumps(line) + "\n"


def parse_metrics_line(line: str) -> tuple[int | None, dict[str, float]] | None:
    """``(step, {metric: value})`` of one ``metrics.jsonl`` line; None for a line that is not
    one (cut short by a kill, nested past the parser's depth, or not ours). Non-numbers are
    left out. The trial writes this file, so a line is data: nothing in it may raise here,
    where the sweep controller and the OFC plot page read it."""
    try:
        row = json.loads(line)
    except (ValueError, RecursionError):
        return None
    if not isinstance(row, dict):
        return None
    step = row.get("_step")
    if isinstance(step, bool) or not isinstance(step, int):
        step = None
    out: dict[str, float] = {}
    for k, v in row.items():
        if k.startswith("_"):
            continue
        if isinstance(v, str) and v in ("nan", "inf", "-inf"):
            v = float(v)
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            try:
                out[k] = float(v)
            except OverflowError:  # a 400-digit integer is no metric
                continue
    return step, out


def report(step: int | None = None, **metrics: Any) -> dict[str, float | int]:
    """Report this run's metrics (``report(loss=0.12, acc=0.9)``); returns them as numbers.

    ``step`` is recorded beside them. Written to ``$FLOWS_RUN_DIR/metrics.jsonl`` when the
    sweep set that variable, and to the active W&B run's summary when there is one.
    """
    values = {name: _number(name, v) for name, v in metrics.items()}
    run_dir = os.environ.get(RUN_DIR_ENV)
    written: Path | None = None
    if run_dir and values:
        path = Path(run_dir)
        path.mkdir(parents=True, exist_ok=True)
        written = path / METRICS_FILE
        with open(written, "a", encoding="utf-8") as fh:
            fh.write(metrics_line(values, step))
    # a live OFC plots what the run reports (its page reads the OFC's metrics file); never
    # import the OFC for this: only an OFC that exists records anything
    ofc_core = sys.modules.get("config_utils.ofc.core")
    if ofc_core is not None and values:
        ofc_core.record_metrics(values, step, written=written)
    wandb = sys.modules.get("wandb")  # never import wandb for this: only use a run that exists
    run = getattr(wandb, "run", None) if wandb is not None else None
    if run is not None and values:
        try:
            run.summary.update(values)
        except Exception as exc:  # a W&B hiccup must not end a training run
            print(f"warning: report: W&B summary not updated: {exc}", file=sys.stderr)
    return values


METRICS_READ_LIMIT = 64 * 1024 * 1024
"""Bytes of ``metrics.jsonl`` read at once (a year of reports every second is ~2 GB: read in parts)."""


def read_metrics(run_dir: str | Path) -> dict[str, float]:
    """The last reported value of every metric in a run directory (empty when none, or when
    ``metrics.jsonl`` is not a regular file of at most :data:`METRICS_READ_LIMIT` bytes)."""
    from ..readers import ReadProblem, read_bytes

    path = Path(run_dir) / METRICS_FILE
    out: dict[str, float] = {}
    try:
        text = read_bytes(path, limit=METRICS_READ_LIMIT).decode("utf-8", errors="replace")
    except ReadProblem:
        return out
    for line in text.splitlines():
        parsed = parse_metrics_line(line)
        if parsed is not None:
            out.update(parsed[1])
    return out
