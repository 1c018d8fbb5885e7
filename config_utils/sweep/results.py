"""Results of a sweep: a table sorted best first, ``results.csv``, a PNG plot per parameter.

Everything is read back from the Optuna study (not from the controller's memory), so the
same results come out after a resume, and ``flow_sweep --results DIR`` could be a re-read.
"""

from __future__ import annotations

import csv
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .plan import Plan
    from .state import SweepState

RESULTS_CSV = "results.csv"


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


def rows(state: SweepState) -> list[Row]:
    """Every trial of the sweep, best first: completed by the metric (the goal decides the
    order), then failed, then unfinished, each by trial number."""
    from .state import trial_dir

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
            value=t.value if status in ("complete", "stopped") else None,
            values=values,
            seconds=res.get("seconds"), exit=res.get("exit"), error=res.get("error") or "",
            node=res.get("node", ""), reruns=list(t.user_attrs.get("reruns", [])),
            run_dir=str(trial_dir(state.dir, t.number)),
        ))
    sign = -1.0 if state.plan.checked.spec.goal == "maximize" else 1.0
    rank = {"complete": 0, "stopped": 1, "failed": 2, "running": 3, "waiting": 4}

    def key(r: Row) -> tuple[int, float, int]:
        return (rank[r.status], sign * r.value if r.value is not None else 0.0, r.number)

    return sorted(out, key=key)


def _cell(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.6g}"
    return str(v)


def table(result_rows: list[Row], plan: Plan, limit: int | None = None) -> str:
    """A fixed-width table: rank, trial, metric, swept values, seconds, note."""
    spec = plan.checked.spec
    keys = [p.key for p in plan.swept]
    head = ["#", "trial", spec.metric, *keys, "seconds", "note"]
    body: list[list[str]] = []
    shown = result_rows if limit is None else result_rows[:limit]
    for i, r in enumerate(shown, 1):
        note = r.error if r.status in ("failed", "stopped") else ("" if r.status == "complete" else r.status)
        if r.reruns:
            note = (note + "; " if note else "") + f"re-run ({len(r.reruns)}x)"
        body.append([
            str(i) if r.status == "complete" else "-", str(r.number),
            _cell(r.value) if r.value is not None else r.status,
            *(_cell(r.values.get(k, "")) for k in keys),
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
    spec = plan.checked.spec
    keys = list(spec.params)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["trial", "status", spec.metric, *keys, "seconds", "exit", "error", "reruns",
                    "node", "run_dir"])
        for r in result_rows:
            w.writerow([r.number, r.status, "" if r.value is None else repr(r.value),
                        *(_csv_value(r.values.get(k, "")) for k in keys),
                        "" if r.seconds is None else f"{r.seconds:.3f}", "" if r.exit is None else r.exit,
                        r.error, " | ".join(r.reruns), r.node, r.run_dir])
    return path


def _csv_value(v: Any) -> str:
    return repr(v) if isinstance(v, float) else str(v)


def plot_name(key: str) -> str:
    return "plot-" + re.sub(r"[^A-Za-z0-9_.-]", "_", key) + ".png"


def plots(sweep_dir: Path, result_rows: list[Row], plan: Plan) -> list[Path]:
    """One PNG per swept parameter: the metric against the parameter's value (best trial
    starred). Numeric parameters on a log axis when their distribution is logarithmic or
    their values span a decade or more (``optim.lr: {values: [0.003, 0.03]}``); others as
    categories in spec order. With a union variant swept, each variant has its own colour, so
    a variant's trials can be told apart on every plot."""
    done = [r for r in result_rows if r.status == "complete" and r.value is not None and math.isfinite(r.value)]
    if not done or not plan.swept:
        return []
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    spec = plan.checked.spec
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
        fig.savefig(path)
        plt.close(fig)
        out.append(path)
    return out
