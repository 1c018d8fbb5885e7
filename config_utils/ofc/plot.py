"""The live plot of a steered run: its metrics against the step, every applied OFC change marked.

Why it is built this way:

* **From files, not from memory.** The curves come from the run's ``metrics.jsonl`` (what
  ``config_utils.report`` and the OFC Lightning callback append, in the one format of
  :mod:`config_utils.sweep.report`) and the markers from the OFC history file (applied changes
  only: a rejected edit is never in it). A page reload, a GUI relaunch or a new process shows
  the same plot, and a run directory can be plotted after the run (``flow_plot RUN_DIR``).
* **Bounded, whatever the run's length.** Each metric is kept as at most ``2 * BUCKETS`` min/max
  buckets over the step axis; when the steps outgrow them, neighbouring buckets merge (the
  bucket width doubles). A point costs O(1), memory is constant, and drawing a run of ten
  million steps draws a few thousand points. Each bucket keeps its first, lowest, highest and
  last point, so spikes and the curve's end survive downsampling.
* **Incremental and paced.** :meth:`RunPlot.refresh` reads only what was appended since its
  last call (a partial last line waits for its end), and at most ``budget_s`` of work per call,
  so a page that opens on a long run catches up over a few refreshes instead of holding the
  interpreter (and the training loop in the same process) for seconds. Nothing is read while
  no page asks: the training loop's only cost is appending its line.
* **The drawing is SVG built here** (no plotting library on the page): the browser draws it,
  a test reads the same numbers from the DOM (``data-step``, ``data-last-step``), and
  :meth:`RunPlot.export_png` draws the same buckets and markers with matplotlib for a PNG
  beside the run record.
"""

import errno
import html
import io
import json
import math
import os
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..atomic import write_atomic
from ..readers import open_regular

__all__ = ["BUCKETS", "Marker", "RunPlot", "Series", "describe_origin", "main"]

BUCKETS = 1024
"""Buckets per metric after a merge; between ``BUCKETS`` and ``2 * BUCKETS`` are kept."""
READ_CHUNK = 1 << 20  # bytes read per step of a refresh
MAX_LINE = 1 << 16  # a metrics line longer than this is not one of ours: skipped
MAX_MARKERS = 10_000  # markers kept (the latest); a history longer than that is a script's
LABELS = 24  # markers labelled on the page (the latest); the others show their label on hover
CURVE = "#1f6fb4"
MARKER = "#c2255c"


# ---------------------------------------------------------------------- downsampling
@dataclass
class _Bucket:
    """First, lowest, highest and last point of the steps one bucket covers."""

    first: tuple[int, float]
    low: tuple[int, float]
    high: tuple[int, float]
    last: tuple[int, float]
    count: int = 1

    def add(self, step: int, value: float) -> None:
        if step < self.first[0]:
            self.first = (step, value)
        if step >= self.last[0]:
            self.last = (step, value)
        if value < self.low[1]:
            self.low = (step, value)
        if value > self.high[1]:
            self.high = (step, value)
        self.count += 1

    def merge(self, other: "_Bucket") -> None:
        self.first = min(self.first, other.first, key=lambda p: p[0])
        self.last = max(self.last, other.last, key=lambda p: p[0])
        self.low = min(self.low, other.low, key=lambda p: p[1])
        self.high = max(self.high, other.high, key=lambda p: p[1])
        self.count += other.count

    def points(self) -> list[tuple[int, float]]:
        """The bucket's points in step order, each once."""
        return sorted({self.first, self.low, self.high, self.last})


class Series:
    """One metric, downsampled to min/max buckets whose width (in steps) is ``2 ** shift``."""

    def __init__(self, buckets: int = BUCKETS) -> None:
        self.buckets = buckets
        self.shift = 0
        self._data: dict[int, _Bucket] = {}
        self.count = 0  # points added (finite values)
        self.last_step: int | None = None
        self.last_value: float | None = None

    def add(self, step: int, value: float) -> None:
        if not math.isfinite(value):
            return  # a NaN loss has no place on an axis; the curve goes on
        self.count += 1
        if self.last_step is None or step >= self.last_step:
            self.last_step, self.last_value = step, value
        index = step >> self.shift
        bucket = self._data.get(index)
        if bucket is None:
            point = (step, value)
            self._data[index] = _Bucket(point, point, point, point)
            if len(self._data) > 2 * self.buckets:
                self._coarsen()
        else:
            bucket.add(step, value)

    def _coarsen(self) -> None:
        while len(self._data) > self.buckets:
            self.shift += 1
            merged: dict[int, _Bucket] = {}
            for index in sorted(self._data):
                bucket = self._data[index]
                into = merged.get(index >> 1)
                if into is None:
                    merged[index >> 1] = bucket
                else:
                    into.merge(bucket)
            self._data = merged

    def points(self) -> list[tuple[int, float]]:
        """The downsampled curve: at most four points per bucket, in step order."""
        out: list[tuple[int, float]] = []
        for index in sorted(self._data):
            out.extend(self._data[index].points())
        return out

    def bounds(self) -> tuple[int, int, float, float] | None:
        """``(first step, last step, lowest, highest)``, None while empty."""
        if not self._data:
            return None
        buckets = self._data.values()
        return (
            min(b.first[0] for b in buckets),
            max(b.last[0] for b in buckets),
            min(b.low[1] for b in buckets),
            max(b.high[1] for b in buckets),
        )


# ---------------------------------------------------------------------- markers
@dataclass(frozen=True)
class Marker:
    """One applied OFC change, as the plot marks it."""

    step: int
    key: str
    old: Any
    new: Any
    source: str
    user: str | None = None
    time: str = ""

    @property
    def origin(self) -> str:
        return describe_origin(self.source, self.user)

    @property
    def label(self) -> str:
        """``optim.lr 0.001 → 0.0003 (page, ann)``."""
        return f"{self.key} {_text(self.old)} → {_text(self.new)} ({self.origin})"


def describe_origin(source: str, user: str | None = None) -> str:
    """Where a change came from, as the run's log line and the plot's marker say it: ``gui``
    is "the page" to a person, followed by the login name when there was one."""
    where = "page" if source == "gui" else source
    return f"{where}, {user}" if user else where


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, float):
        return repr(value)
    return json.dumps(value)


def _marker(row: Any) -> Marker | None:
    if not isinstance(row, dict):
        return None
    step, key, source = row.get("step"), row.get("key"), row.get("source")
    if isinstance(step, bool) or not isinstance(step, int) or not isinstance(key, str):
        return None
    user = row.get("user")
    return Marker(
        step,
        key,
        row.get("old"),
        row.get("new"),
        source if isinstance(source, str) else "?",
        user if isinstance(user, str) and user else None,
        str(row.get("time", "")),
    )


# ---------------------------------------------------------------------- reading files
@dataclass
class _Tail:
    """Reads what was appended to a file since the last call; starts over when replaced."""

    path: Path
    offset: int = 0
    inode: int | None = None
    partial: bytes = b""
    problem: str | None = None
    size: int = 0  # the file's size at the last look

    def read(self, limit: int) -> tuple[list[bytes], bool]:
        """Complete new lines (at most about ``limit`` bytes of them), and whether the file was
        started over (replaced or truncated: the caller forgets what it read)."""
        try:
            fh = open_regular(self.path)
        except FileNotFoundError:
            self.problem = None
            return [], False
        except OSError as exc:
            if exc.errno == errno.EINVAL:  # a FIFO or /dev/zero is never read
                self.problem = f"{self.path}: not a regular file; not plotted"
            else:
                self.problem = f"{self.path}: cannot be read ({exc.strerror or exc})"
            return [], False
        with fh:
            st = os.fstat(fh.fileno())
            self.problem = None
            restarted = False
            if st.st_ino != self.inode or st.st_size < self.offset:
                restarted = self.inode is not None
                self.inode, self.offset, self.partial = st.st_ino, 0, b""
            self.size = st.st_size
            if st.st_size <= self.offset:
                return [], restarted
            fh.seek(self.offset)
            data = fh.read(min(limit, st.st_size - self.offset))
        self.offset += len(data)
        data = self.partial + data
        cut = data.rfind(b"\n") + 1
        self.partial = data[cut:]
        if len(self.partial) > MAX_LINE:
            self.partial = b""  # no line of ours is that long: drop it, not the memory
        return data[:cut].splitlines(), restarted

    @property
    def behind(self) -> int:
        return max(0, self.size - self.offset)


class RunPlot:
    """The metrics of one run and its applied OFC changes, ready to draw.

    ``refresh()`` takes in what the files gained; ``svg()`` and ``export_png()`` draw.
    Thread-safe: the page's sessions share one instance.
    """

    def __init__(
        self,
        metrics_file: str | os.PathLike[str],
        history_file: str | os.PathLike[str],
        *,
        buckets: int = BUCKETS,
    ) -> None:
        self.metrics_file = Path(metrics_file)
        self.history_file = Path(history_file)
        self.buckets = buckets
        self.series: dict[str, Series] = {}
        self.markers: list[Marker] = []
        self._metrics = _Tail(self.metrics_file)
        self._history = _Tail(self.history_file)
        self._lock = threading.Lock()
        self._rows = 0  # metric lines taken in (a line without a step is plotted at this index)

    @property
    def names(self) -> list[str]:
        """The metrics seen so far, in the order they first appeared."""
        return list(self.series)

    @property
    def behind(self) -> int:
        """Bytes of the metrics file not read yet (a page opened on a long run catches up)."""
        return self._metrics.behind

    def refresh(self, budget_s: float = 0.2) -> bool:
        """Read what the files gained, for at most about ``budget_s`` seconds; True when all
        of it was read."""
        from ..sweep.report import parse_metrics_line  # the one reader of the format

        with self._lock:
            lines, restarted = self._history.read(READ_CHUNK)
            if restarted:
                self.markers = []
            for raw in lines:
                try:
                    mark = _marker(json.loads(raw))
                except (ValueError, RecursionError):
                    continue
                if mark is not None:
                    self.markers.append(mark)
            if len(self.markers) > MAX_MARKERS:
                del self.markers[: len(self.markers) - MAX_MARKERS]
            deadline = time.monotonic() + budget_s
            while True:
                lines, restarted = self._metrics.read(READ_CHUNK)
                if restarted:
                    self.series, self._rows = {}, 0
                for raw in lines:
                    if len(raw) > MAX_LINE:
                        continue
                    parsed = parse_metrics_line(raw.decode("utf-8", "replace"))
                    if parsed is None:
                        continue
                    step, values = parsed
                    self._rows += 1
                    at = self._rows - 1 if step is None else step
                    for name, value in values.items():
                        series = self.series.get(name)
                        if series is None:
                            series = self.series[name] = Series(self.buckets)
                        series.add(at, value)
                if not self._metrics.behind or time.monotonic() >= deadline:
                    break
            return not self._metrics.behind

    @property
    def problems(self) -> list[str]:
        return [p for p in (self._metrics.problem, self._history.problem) if p]

    # ------------------------------------------------------------------ drawing
    def _chosen(self, metrics: Iterable[str] | None) -> list[str]:
        if metrics is None:
            return self.names
        return [m for m in metrics if m in self.series]

    def _x_range(self, names: Sequence[str]) -> tuple[int, int]:
        lows, highs = [], []
        for name in names:
            b = self.series[name].bounds()
            if b is not None:
                lows.append(b[0])
                highs.append(b[1])
        lows += [m.step for m in self.markers]
        highs += [m.step for m in self.markers]
        if not lows:
            return 0, 1
        lo, hi = min(lows), max(highs)
        return lo, max(hi, lo + 1)

    def svg(
        self,
        metrics: Iterable[str] | None = None,
        *,
        width: int = 960,
        panel_height: int = 180,
    ) -> str:
        """The plot as inline SVG: one panel per metric in ``metrics`` (default: all), a shared
        step axis, a vertical marker per applied change (the latest labelled)."""
        with self._lock:
            names = self._chosen(metrics)
            if not names:
                waiting = "No metric chosen." if metrics is not None and self.series else (
                    "No metrics yet: the run's config_utils.report(...) calls (or the OFC "
                    "Lightning callback) appear here."
                )
                return f'<div id="ofc-plot-empty">{html.escape(waiting)}</div>'
            x0, x1 = self._x_range(names)
            left, right, top, gap = 70, 16, 22, 40
            label_rows = 3
            head = 16 * label_rows
            height = head + len(names) * (panel_height + gap) + top
            plot_w = width - left - right

            def sx(step: float) -> float:
                return left + (step - x0) * plot_w / (x1 - x0)

            parts = [
                f'<svg id="ofc-plot-svg" xmlns="http://www.w3.org/2000/svg" width="{width}" '
                f'height="{height}" viewBox="0 0 {width} {height}" data-x0="{x0}" data-x1="{x1}" '
                'style="background:#fff;font:11px sans-serif">'
            ]
            for i, name in enumerate(names):
                series = self.series[name]
                y_top = head + i * (panel_height + gap) + top
                parts.append(self._panel(name, series, sx, left, plot_w, y_top, panel_height))
            # markers: across every panel, the latest LABELS labelled at the top
            y_lo, y_hi = head, height - gap
            shown_x: set[int] = set()
            for n, mark in enumerate(reversed(self.markers)):
                x = sx(mark.step)
                labelled = n < LABELS
                if not labelled and round(x) in shown_x:
                    continue  # thousands of markers in one pixel column draw as one
                shown_x.add(round(x))
                label = html.escape(mark.label)
                text = ""
                if labelled:
                    row = n % label_rows
                    anchor = "end" if x > left + plot_w * 0.6 else "start"
                    dx = -3 if anchor == "end" else 3
                    text = (
                        f'<text x="{x + dx:.1f}" y="{12 + 16 * row}" fill="{MARKER}" '
                        f'text-anchor="{anchor}">{label}</text>'
                    )
                parts.append(
                    f'<g class="ofc-marker" data-step="{mark.step}" data-key="{html.escape(mark.key)}" '
                    f'data-source="{html.escape(mark.origin)}" data-x="{x:.1f}"><title>step '
                    f"{mark.step}: {label}</title>"
                    f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{12 + 16 * (n % label_rows) if labelled else y_lo}" '
                    f'y2="{y_hi}" stroke="{MARKER}" stroke-width="2" stroke-dasharray="6 3"/>'
                    f"{text}</g>"
                )
            parts.append("</svg>")
            return "".join(parts)

    def _panel(
        self,
        name: str,
        series: Series,
        sx: Any,
        left: int,
        plot_w: int,
        y_top: int,
        h: int,
    ) -> str:
        bounds = series.bounds()
        esc = html.escape(name)
        out = [
            f'<g class="ofc-panel" data-metric="{esc}">',
            f'<rect x="{left}" y="{y_top}" width="{plot_w}" height="{h}" fill="none" '
            'stroke="#bbb"/>',
            f'<text x="{left}" y="{y_top - 6}" font-weight="bold">{esc}</text>',
        ]
        if bounds is None:
            out.append("</g>")
            return "".join(out)
        s0, s1, lo, hi = bounds
        if hi <= lo:  # one value: a band around it, wide enough to survive float rounding
            half = max(0.5, abs(lo) * 1e-3)  # at 2**52, lo - 0.5 == lo
            lo, hi = lo - half, hi + half
        pad = (hi - lo) * 0.05
        lo, hi = lo - pad, hi + pad

        def sy(value: float) -> float:
            return y_top + h - (value - lo) * h / (hi - lo)

        for frac in (0.0, 0.5, 1.0):
            value = lo + frac * (hi - lo)
            y = sy(value)
            out.append(
                f'<text x="{left - 4}" y="{y + 4:.1f}" text-anchor="end" fill="#555">'
                f"{_tick(value)}</text>"
            )
        x_lo, x_hi = sx(s0), sx(s1)
        out.append(
            f'<text x="{left}" y="{y_top + h + 14}" fill="#555">step {s0}</text>'
            f'<text x="{left + plot_w}" y="{y_top + h + 14}" fill="#555" text-anchor="end">'
            f"step {s1}</text>"
        )
        points = series.points()
        d = " ".join(
            f"{'M' if k == 0 else 'L'}{sx(step):.1f},{sy(value):.1f}"
            for k, (step, value) in enumerate(points)
        )
        out.append(
            f'<path class="ofc-curve" data-metric="{esc}" data-last-step="{series.last_step}" '
            f'data-last-value="{series.last_value!r}" data-points="{series.count}" '
            f'data-x-first="{x_lo:.1f}" data-x-last="{x_hi:.1f}" d="{d}" fill="none" '
            f'stroke="{CURVE}" stroke-width="1.5"/>'
        )
        out.append("</g>")
        return "".join(out)

    # ------------------------------------------------------------------ PNG
    def export_png(
        self, path: str | os.PathLike[str], metrics: Iterable[str] | None = None
    ) -> Path:
        """Draw the same panels and markers with matplotlib into ``path`` (written atomically);
        returns the path. Reads whatever the files gained first."""
        while not self.refresh(budget_s=5.0):
            pass
        import matplotlib

        matplotlib.use("Agg", force=False)
        from matplotlib.figure import Figure

        target = Path(path)
        with self._lock:
            names = self._chosen(metrics)
            rows = max(1, len(names))
            fig = Figure(figsize=(10, 1.2 + 2.2 * rows), dpi=100)
            axes = fig.subplots(rows, 1, sharex=True, squeeze=False)[:, 0]
            if not names:
                axes[0].text(0.5, 0.5, "no metrics reported", ha="center", va="center")
            for ax, name in zip(axes, names, strict=False):
                points = self.series[name].points()
                ax.plot([p[0] for p in points], [p[1] for p in points], color=CURVE, lw=1.2)
                ax.set_ylabel(name)
                ax.grid(alpha=0.3)
                for mark in self.markers:
                    ax.axvline(mark.step, color=MARKER, ls="--", lw=1.2)
            top = axes[0]
            for n, mark in enumerate(self.markers[-LABELS:]):
                top.annotate(
                    mark.label,
                    xy=(mark.step, 1.0),
                    xycoords=("data", "axes fraction"),
                    xytext=(3, 2 + 11 * (n % 3)),
                    textcoords="offset points",
                    color=MARKER,
                    fontsize=8,
                )
            axes[-1].set_xlabel("step")
            fig.tight_layout()
            png = io.BytesIO()
            fig.savefig(png, format="png")
        write_atomic(target, png.getvalue(), durable=False)
        return target


def _tick(value: float) -> str:
    return f"{value:.4g}"


# ---------------------------------------------------------------------- command line
# (this module has no ``from __future__ import annotations``: tyro reads the options
# dataclass's annotations, which name tyro's markers defined inside ``_args_type``)
PROG = "flow_plot"


def _args_type() -> type:
    """The command line as a dataclass, read by tyro as ``flow_sweep``'s is (one help layout and
    one refusal form for the console scripts); built on demand because it needs tyro."""
    from typing import Annotated

    import tyro

    def arg(metavar: str, hint: str | None = None) -> Any:
        return tyro.conf.arg(metavar=metavar, help_behavior_hint=hint)

    @dataclass
    class PlotArgs:
        """Draw a run's metrics and its applied OFC changes as a PNG.

        The curves come from RUN_DIR/metrics.jsonl, the markers from the OFC history file;
        during the run or after it. Exit status: 0 with the PNG's path printed, 2 for a mistake.
        """

        run_dir: Annotated[tyro.conf.Positional[Path], arg("RUN_DIR")]
        """The run directory (holds metrics.jsonl)."""
        out: Annotated[Path | None, arg("PNG", "(default: RUN_DIR/ofc-plot.png)")] = None
        """Where the PNG goes."""
        history: Annotated[Path | None, arg("FILE", "(default: RUN_DIR/ofc-history.jsonl)")] = None
        """The OFC history file whose applied changes are marked."""

    return PlotArgs


def main(argv: list[str] | None = None, prog: str = PROG) -> int:
    """Console entry point ``flow_plot RUN_DIR [--out PNG]`` (also ``python -m
    config_utils.ofc.plot``): the PNG of a run, on demand.

    tyro refuses what it parses (an unknown option, no RUN_DIR) in its own form, exit 2; a
    mistake this command names itself (no such directory, nothing reported in it, no
    matplotlib, a PNG that cannot be written) is one line ``PROG: error: ...``, exit 2.
    """
    import sys

    import tyro

    args: Any = tyro.cli(_args_type(), args=argv, prog=prog, config=(tyro.conf.FlagCreatePairsOff,))
    run_dir: Path = args.run_dir
    metrics = run_dir / "metrics.jsonl"
    problem = ""
    if not run_dir.is_dir():
        problem = f"{run_dir}: not a directory (give the run directory)"
    elif not metrics.is_file():
        problem = f"{run_dir}: holds no metrics.jsonl file (nothing was reported in this run)"
    else:
        from ..extras import MissingExtraError, require

        try:
            require("matplotlib", "sweep", feature="drawing the PNG")
        except MissingExtraError as exc:
            problem = str(exc)
    if problem:
        print(f"{prog}: error: {problem}", file=sys.stderr)
        return 2
    plot = RunPlot(metrics, args.history or run_dir / "ofc-history.jsonl")
    try:
        out = plot.export_png(args.out or run_dir / "ofc-plot.png")
    except OSError as exc:
        print(f"{prog}: error: cannot write the PNG: {exc}", file=sys.stderr)
        return 2
    print(out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(prog="python -m config_utils.ofc.plot"))
