"""Results of a sweep: a table sorted best first, ``results.csv``, a PNG plot per parameter.

Everything is read back from the Optuna study (not from the controller's memory), so the
same results come out after a resume, and ``flow_sweep --results DIR`` could be a re-read.

A sweep whose spec has no metric (grid and random may leave it out) has nothing to rank or
plot: its trials are listed in trial order with their status, ``results.csv`` gets a column
for each metric the trials reported instead of the sweep's metric, and there are no plots.
"""

from __future__ import annotations

import csv
import io
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..atomic import write_atomic

if TYPE_CHECKING:
    from .plan import Plan
    from .state import SweepState

RESULTS_CSV = "results.csv"

ERROR_LIMIT = 2000
"""Characters of a trial's error kept (its last output line can be megabytes)."""
LINE_LIMIT = 400
"""Characters kept of each line of a trial's output tail."""
TAIL_LIMIT = 6000
"""Characters of the output tail kept in all: error and tail stay under 10 kB per trial."""
METRICS_LIMIT = 50
"""Metric names kept per trial (the sweep's metric always)."""
CELL_LIMIT = 2000
"""Characters of one ``results.csv`` cell."""


def clip(text: str, limit: int = ERROR_LIMIT) -> str:
    """``text`` cut to ``limit`` characters, saying how much was cut."""
    if len(text) <= limit:
        return text
    note = f" ... ({len(text) - limit + 40:,} more characters)"
    return text[: max(0, limit - 40)] + note


def bounded_result(result: dict[str, Any], metric: str | None) -> dict[str, Any]:
    """A trial's result as the study keeps it: error, output tail and metric names bounded.

    What a trial wrote is data, never trusted: a 50 MB last line, a million metric names or a
    400-digit number must neither fill the storage nor make the sweep unreadable later.
    """
    out = dict(result)
    if isinstance(out.get("error"), str):
        out["error"] = clip(out["error"])
    lines = [clip(str(ln), LINE_LIMIT) for ln in out.get("tail") or []]
    kept: list[str] = []
    total = 0
    for ln in reversed(lines):  # the last lines matter most
        total += len(ln) + 1
        if total > TAIL_LIMIT:
            break
        kept.append(ln)
    out["tail"] = kept[::-1]
    metrics = out.get("metrics")
    if isinstance(metrics, dict):
        names = ([metric] if metric is not None and metric in metrics else []) + [k for k in metrics if k != metric]
        out["metrics"] = {clip(str(k), 200): _finite_or_text(metrics[k]) for k in names[:METRICS_LIMIT]}
    return out


def _finite_or_text(v: Any) -> Any:
    """JSON keeps finite floats; nan and inf are kept as their names."""
    if isinstance(v, float) and not math.isfinite(v):
        return str(v)
    return v


@dataclass
class Row:
    """One trial as the results show it."""

    number: int
    status: str  # complete | stopped (early termination) | failed | running | waiting
    value: float | None
    values: dict[str, Any]
    seconds: float | None = None
    exit: int | None = None
    error: str = ""
    node: str = ""
    reruns: list[str] = field(default_factory=list)
    run_dir: str = ""
    adopted: str = ""  # why this controller took the trial over from one that died
    metrics: dict[str, Any] = field(default_factory=dict)  # the last value of each reported metric


def rows(state: SweepState) -> list[Row]:
    """Every trial of the sweep, best first: completed by the metric (the goal decides the
    order), then failed, then unfinished, each by trial number. Without a metric: in trial
    order, and no trial has a value (a complete one's value in the study is a stand-in)."""
    from .state import trial_dir

    spec = state.plan.checked.spec
    out: list[Row] = []
    for t in state.trials():
        res = t.user_attrs.get("result") or {}
        info = t.user_attrs.get("trial") or {}
        args = info.get("args") or []
        # keys the trial did not pass (they live under a variant it did not choose) show empty
        values = {k: v for k, v in (info.get("values") or {}).items()
                  if any(a.startswith(f"--{k}=") for a in args)}
        status = {"COMPLETE": "complete", "FAIL": "failed", "RUNNING": "running",
                  "PRUNED": "stopped"}.get(t.state.name, "waiting")
        out.append(Row(
            number=t.number, status=status,
            value=t.value if status in ("complete", "stopped") and spec.metric is not None else None,
            values=values,
            seconds=res.get("seconds"), exit=res.get("exit"), error=res.get("error") or "",
            node=res.get("node", ""), reruns=list(t.user_attrs.get("reruns", [])),
            run_dir=str(trial_dir(state.dir, t.number)), adopted=t.user_attrs.get("adopted") or "",
            metrics=dict(res.get("metrics") or {}),
        ))
    if spec.metric is None:
        return sorted(out, key=lambda r: r.number)
    sign = -1.0 if spec.goal == "maximize" else 1.0
    rank = {"complete": 0, "stopped": 1, "failed": 2, "running": 3, "waiting": 4}

    def key(r: Row) -> tuple[int, float, int]:
        return (rank[r.status], sign * r.value if r.value is not None else 0.0, r.number)

    return sorted(out, key=key)


def _cell(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.6g}"
    return str(v)


def table(result_rows: list[Row], plan: Plan, limit: int | None = None) -> str:
    """A fixed-width table: rank, trial, metric, swept values, seconds, note (without a
    metric: trial, status, swept values, seconds, note)."""
    metric = plan.checked.spec.metric
    keys = [p.key for p in plan.swept]
    head = (["#", "trial", metric] if metric is not None else ["trial", "status"]) + [*keys, "seconds", "note"]
    body: list[list[str]] = []
    shown = result_rows if limit is None else result_rows[:limit]
    for i, r in enumerate(shown, 1):
        note = r.error if r.status in ("failed", "stopped") else ("" if r.status == "complete" else r.status)
        if r.reruns:
            note = (note + "; " if note else "") + f"re-run ({len(r.reruns)}x)"
        lead = ([str(i) if r.status == "complete" else "-", str(r.number),
                 _cell(r.value) if r.value is not None else r.status] if metric is not None
                else [str(r.number), r.status])
        body.append([
            *lead, *(_cell(r.values.get(k, "")) for k in keys),
            f"{r.seconds:.1f}" if r.seconds is not None else "", note[:60],
        ])
    widths = [max(len(h), *(len(row[i]) for row in body)) if body else len(h) for i, h in enumerate(head)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(head, widths, strict=True)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in body]
    if limit is not None and len(result_rows) > limit:
        lines.append(f"... {len(result_rows) - limit} more in {RESULTS_CSV}")
    return "\n".join(lines)


def write_csv(path: Path, result_rows: list[Row], plan: Plan) -> Path:
    """Every trial, one row each; every cell at most :data:`CELL_LIMIT` characters. Written
    beside and then moved over the old file, so a full disk never leaves half a table."""
    from .state import StateError

    metric = plan.checked.spec.metric
    keys = list(plan.params)
    tail = ["seconds", "exit", "error", "reruns", "node", "run_dir", "adopted"]
    reported = _reported(result_rows, ["trial", "status", *keys, *tail]) if metric is None else {}
    text = io.StringIO(newline="")
    w = csv.writer(text)
    w.writerow(["trial", "status", *([metric] if metric is not None else []), *keys, *reported.values(), *tail])
    for r in result_rows:
        w.writerow([r.number, r.status, *([] if metric is None else ["" if r.value is None else repr(r.value)]),
                    *(_csv_value(r.values.get(k, "")) for k in keys),
                    *(_csv_value(r.metrics.get(name, "")) for name in reported),
                    "" if r.seconds is None else f"{r.seconds:.3f}", "" if r.exit is None else r.exit,
                    clip(r.error, CELL_LIMIT), clip(" | ".join(r.reruns), CELL_LIMIT), r.node,
                    r.run_dir, r.adopted])
    try:
        write_atomic(path, text.getvalue(), durable=False)
    except OSError as exc:
        raise StateError(f"{path}: cannot be written ({exc.strerror or exc}); the sweep's state is "
                         "kept: free some space or make the directory writable, then run the same "
                         "command again to see the results") from None
    return path


def _reported(result_rows: list[Row], taken: list[str]) -> dict[str, str]:
    """``{metric name: its column}`` of the metrics the trials reported, in the order first
    reported (trial order), at most :data:`METRICS_LIMIT`. A name that is already a column
    (a parameter, ``status``) gets the column ``metric:NAME``."""
    out: dict[str, str] = {}
    for r in sorted(result_rows, key=lambda r: r.number):
        for name in r.metrics:
            if name not in out and len(out) < METRICS_LIMIT:
                out[name] = f"metric:{name}" if name in taken else name
    return out


def _csv_value(v: Any) -> str:
    return clip(repr(v) if isinstance(v, float) else str(v), CELL_LIMIT)


def plot_name(key: str) -> str:
    return "plot-" + re.sub(r"[^A-Za-z0-9_.-]", "_", key) + ".png"


def plots(sweep_dir: Path, result_rows: list[Row], plan: Plan) -> list[Path]:
    """One PNG per swept parameter: the metric against the parameter's value (best trial
    starred). Numeric parameters on a log axis when their distribution is logarithmic or
    their values span a decade or more (``optim.lr: {values: [0.003, 0.03]}``); others as
    categories in spec order. With a union variant swept, each variant has its own colour, so
    a variant's trials can be told apart on every plot."""
    spec = plan.checked.spec
    done = [r for r in result_rows if r.status == "complete" and r.value is not None and math.isfinite(r.value)]
    if not done or not plan.swept or spec.metric is None:
        return []
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    best = done[0]
    out: list[Path] = []
    for p in plan.swept:
        pts = [(r.values[p.key], float(r.value or 0.0), r is best) for r in done if p.key in r.values]
        if len({repr(x) for x, _, _ in pts}) < 2:  # one value: nothing to plot against
            continue
        fig, ax = plt.subplots(figsize=(5.0, 3.4), dpi=100)
        numeric = p.space in ("int", "float", "unit") or all(
            isinstance(x, (int, float)) and not isinstance(x, bool) for x, _, _ in pts)
        if numeric:
            xs = [float(x) for x, _, _ in pts]
            spread = all(x > 0 for x in xs) and max(xs) >= 10 * min(xs)
            if (p.log_scale or spread) and all(x > 0 for x in xs):
                ax.set_xscale("log")
                # a decade or two: label the swept values, not crowded minor ticks (3×10⁻³ 4×10⁻³)
                from matplotlib.ticker import NullFormatter

                ax.xaxis.set_minor_formatter(NullFormatter())
                shown = sorted(set(xs))
                if len(shown) <= 8:
                    ax.set_xticks(shown, [f"{v:g}" for v in shown])
        else:
            order = [str(v) for v in (p.values or (p.value,))]
            labels = list(dict.fromkeys(order + [str(x) for x, _, _ in pts]))
            xs = [float(labels.index(str(x))) for x, _, _ in pts]
            ax.set_xticks(range(len(labels)), labels, rotation=20 if len(labels) > 4 else 0)
            ax.set_xlim(-0.5, len(labels) - 0.5)
        ys = [y for _, y, _ in pts]
        variant_keys = [q.key for q in plan.swept if q.key.endswith("._type")]
        groups = [" / ".join(str(r.values.get(k, "-")) for k in variant_keys) or "trial"
                  for r in done if p.key in r.values]
        palette = ["#3a6ea5", "#e07a1f", "#2a9d5c", "#8e5ea2", "#8c6d31", "#17becf"]
        for i, group in enumerate(dict.fromkeys(groups)):
            sel = [j for j, g in enumerate(groups) if g == group]
            ax.scatter([xs[j] for j in sel], [ys[j] for j in sel], s=28, alpha=0.8,
                       color=palette[i % len(palette)], label=group)
        bx = [x for x, (_, _, b) in zip(xs, pts, strict=True) if b]
        by = [y for y, (_, _, b) in zip(ys, pts, strict=True) if b]
        ax.scatter(bx, by, s=160, marker="*", color="#d1495b", label=f"best (trial {best.number})", zorder=3)
        ax.set_xlabel(p.key)
        ax.set_ylabel(spec.metric)
        ax.set_title(f"{spec.metric} vs {p.key} ({len(pts)} trials, {spec.goal})", fontsize=10)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc="best")
        fig.tight_layout()
        path = sweep_dir / plot_name(p.key)
        try:
            fig.savefig(path)
        except OSError:  # a full disk: results.csv has said so already
            plt.close(fig)
            continue
        plt.close(fig)
        out.append(path)
    return out
