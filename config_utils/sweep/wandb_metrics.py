"""A trial's metric as it goes: from ``config_utils.report`` or from the trial's W&B run files.

Why W&B's files: a W&B user's script logs with ``wandb.log({"val_loss": ...})`` and never
calls ``config_utils.report``. Every W&B mode but ``disabled`` writes the run's transaction log
(``run-<id>.wandb``) beside the run, history and summary included, so the sweep reads the
metric there: its values as they are logged (early termination needs them while the trial
runs) and the summary value at the end (what W&B's own sweeps rank by).

Where: a trial runs with ``WANDB_DIR`` set to its run directory (unless the user set
``WANDB_DIR``) and ``WANDB_RUN_ID`` set to a fresh id, so its W&B run is
``RUN_DIR/wandb/*-<id>/run-<id>.wandb`` (or under the user's ``WANDB_DIR``).

The file is W&B's record log (the LevelDB log format: 32 KiB blocks of checksummed records
after a 7-byte ``:W&B`` header); each record is one of W&B's own protobuf ``Record`` messages,
decoded with the wandb package. The reader is incremental and stops at a record still being
written, so it can follow a running trial.
"""

from __future__ import annotations

import json
import math
import struct
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..readers import open_regular
from .report import METRICS_FILE, parse_metrics_line

_HEADER = struct.Struct("<4sHB")
_RECORD = struct.Struct("<IHB")
_BLOCK = 32 * 1024
_IDENT = b":W&B"
_FULL, _FIRST, _MIDDLE, _LAST = 1, 2, 3, 4
_MAX_READ = 64 * 1024 * 1024  # never hold more than this of one log in memory at once


def find_logs(run_dir: Path, run_id: str | None, wandb_dir: str | None) -> list[Path]:
    """The trial's W&B run logs: its own run (by id) under the run directory or the user's
    ``WANDB_DIR``; else any run log under ``RUN_DIR/wandb`` (a script that chose its own id)."""
    roots = [run_dir / "wandb"] + ([Path(wandb_dir) / "wandb"] if wandb_dir else [])
    if run_id:
        for root in roots:
            found = sorted(root.glob(f"*-{run_id}/run-{run_id}.wandb"))
            if found:
                return found[-1:]
    return sorted((run_dir / "wandb").glob("*run-*/run-*.wandb"))


@dataclass
class WandbLog:
    """Incremental reader of one ``run-<id>.wandb`` file: history values (of ``only``, when
    given: a long run logs many keys; none with ``keep_history=False``), the last history value
    and the summary of every key, in the order logged."""

    path: Path
    only: str | None = None
    keep_history: bool = True
    pos: int = 0
    history: dict[str, list[tuple[int | None, float]]] = field(default_factory=dict)
    summary: dict[str, float] = field(default_factory=dict)
    last: dict[str, float] = field(default_factory=dict)  # the last history value of every key
    keys: set[str] = field(default_factory=set)  # every key seen in the history
    _partial: bytes = b""
    _partial_at: int = 0
    _bad: bool = False

    def read(self) -> None:
        """Read what was appended since the last call (complete records only)."""
        if self._bad:
            return
        try:
            with open_regular(self.path) as fh:  # a FIFO or /dev/zero: OSError
                fh.seek(self.pos)
                data = fh.read(_MAX_READ)
        except OSError:
            return
        base = self.pos
        at = 0
        if base == 0:
            if len(data) < _HEADER.size:
                return
            ident, _magic, _version = _HEADER.unpack_from(data)
            if ident != _IDENT:
                self._bad = True  # not a W&B log: say nothing, read nothing
                return
            at = _HEADER.size
        while True:
            offset = base + at
            left = _BLOCK - offset % _BLOCK
            if left < _RECORD.size:  # the block's tail is padding
                if len(data) - at < left:
                    break
                at += left
                continue
            if len(data) - at < _RECORD.size:
                break
            crc, length, kind = _RECORD.unpack_from(data, at)
            if kind == 0 and length == 0:
                break  # zeros not written yet
            end = at + _RECORD.size + length
            if end > len(data):
                break
            chunk = data[at + _RECORD.size:end]
            if zlib.crc32(chunk, zlib.crc32(bytes([kind]))) & 0xFFFFFFFF != crc:
                break  # being written (or damaged): try again later
            at = end
            if kind == _FULL:
                self._record(chunk)
            elif kind == _FIRST:
                self._partial = chunk
            elif kind == _MIDDLE:
                self._partial += chunk
            elif kind == _LAST:
                self._record(self._partial + chunk)
                self._partial = b""
        self.pos = base + at

    def _record(self, raw: bytes) -> None:
        from wandb.proto import wandb_internal_pb2 as pb

        rec = pb.Record()  # type: ignore[attr-defined]
        try:
            rec.ParseFromString(raw)
        except Exception:  # noqa: BLE001 - a record of a newer W&B: skip it
            return
        kind = rec.WhichOneof("record_type")
        if kind == "history":
            step = rec.history.step.num if rec.history.HasField("step") else None
            for item in rec.history.item:
                key = _key(item)
                self.keys.add(key)
                value = _number(item.value_json)
                if value is None:
                    continue
                self.last[key] = value
                if self.keep_history and (self.only is None or key == self.only):
                    self.history.setdefault(key, []).append((step, value))
        elif kind == "summary":
            for item in rec.summary.update:
                value = _number(item.value_json)
                if value is not None:
                    self.summary[_key(item)] = value


def _key(item: Any) -> str:
    return item.key if item.key else ".".join(item.nested_key)


def _number(text: str) -> float | None:
    try:
        v = json.loads(text)
    except ValueError:
        return None
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return None
    try:
        return float(v)
    except OverflowError:
        return None


@dataclass
class TrialMetrics:
    """One trial's metric: ``config_utils.report`` lines when there are any for the metric,
    else the W&B run. ``update()`` reads what is new; cheap enough to call every poll.

    With no metric (``None``: a spec without one) there is no value to follow: what the trial
    reported and logged is kept for the results (:meth:`reported_metrics`), nothing else."""

    run_dir: Path
    metric: str | None
    run_id: str | None = None
    wandb_dir: str | None = None
    reported: list[tuple[int | None, float]] = field(default_factory=list)
    last_reported: dict[str, float] = field(default_factory=dict)
    _pos: int = 0
    _logs: dict[Path, WandbLog] = field(default_factory=dict)

    def update(self) -> None:
        self._read_reports()
        if not self.reported:
            for path in find_logs(self.run_dir, self.run_id, self.wandb_dir):
                self._logs.setdefault(path, WandbLog(path, self.metric, keep_history=self.metric is not None)).read()

    def _read_reports(self) -> None:
        try:
            with open_regular(self.run_dir / METRICS_FILE) as fh:  # a FIFO or /dev/zero: OSError
                fh.seek(self._pos)
                data = fh.read(_MAX_READ)
        except OSError:
            return
        end = data.rfind(b"\n") + 1  # only whole lines: the last one may be half written
        self._pos += end
        for line in data[:end].decode("utf-8", errors="replace").splitlines():
            parsed = parse_metrics_line(line)
            if parsed is None:
                continue
            step, values = parsed
            self.last_reported.update(values)
            if self.metric is not None and self.metric in values:
                self.reported.append((step, values[self.metric]))

    @property
    def source(self) -> str:
        if self.reported:
            return "report"
        metric = self.metric
        return "wandb" if metric is not None and any(metric in log.history or metric in log.summary
                                                     for log in self._logs.values()) else ""

    def history(self) -> list[tuple[int | None, float]]:
        """``(step, value)`` of every value logged for the metric, in order."""
        if self.reported or self.metric is None:
            return list(self.reported)
        out: list[tuple[int | None, float]] = []
        for log in self._logs.values():
            out += log.history.get(self.metric, [])
        return out

    def final(self) -> float | None:
        """The trial's result: the last reported value; else the W&B summary (as W&B's sweeps
        take it); else the last logged value."""
        if self.reported:
            return self.reported[-1][1]
        if self.metric is None:
            return None
        for log in self._logs.values():
            if self.metric in log.summary:
                return log.summary[self.metric]
        hist = self.history()
        return hist[-1][1] if hist else None

    def seen(self) -> list[str]:
        """Every metric name the trial reported or logged (for the "never reported" message)."""
        names = set(self.last_reported)
        for log in self._logs.values():
            names |= {k for k in (*log.keys, *log.summary) if not k.startswith("_")}
        return sorted(names)

    def reported_metrics(self) -> dict[str, float]:
        """The last value of every metric the trial reported: ``config_utils.report`` lines
        (the Lightning callback's too) over the W&B run's summary, over its last logged values."""
        out: dict[str, float] = {}
        for log in self._logs.values():
            out.update({k: v for k, v in log.last.items() if not k.startswith("_")})
            out.update({k: v for k, v in log.summary.items() if not k.startswith("_")})
        out.update(self.last_reported)
        return out

    def has_wandb_log(self) -> bool:
        return bool(self._logs)


def finite(v: float | None) -> bool:
    return v is not None and math.isfinite(v)
