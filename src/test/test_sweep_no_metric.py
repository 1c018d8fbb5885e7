"""Sweep specs without a metric, as W&B allows them for grid and random: they run as written.

A trial then completes when its process exits 0 and fails as any trial does (a non-zero exit,
a kill, a timeout; ``--retries`` as always). The study records it COMPLETE with the stand-in
value ``inf`` and says so; the results show no value, list the trials in trial order, keep
every metric the trials reported as columns, and draw no plots. Bayes and early termination
need a metric, as in W&B: one line, exit 2.

Real flow_sweep runs (in this process, or as a subprocess where the controller is killed),
real trial processes; nothing is mocked.
"""

from __future__ import annotations

import io
import json
import math
import os
import re
import signal
import subprocess
from pathlib import Path

import pytest
from sweep_harness import (
    FLOW_SWEEP,
    HERE,
    ONCE_PROGRAM,
    alive,
    read_csv,
    sweep_main,
    wait_for,
    write_spec,
)
from trial_marks import marks

import config_utils.sweep

EXAMPLES = HERE.parents[1] / "examples" / "sweep"

#: The spec of the brief, as a user has it: no metric.
PLAIN_GRID = "program: train.py\nmethod: grid\nparameters:\n  lr: {values: [0.1, 0.01]}\n"

#: A config_utils.cli program that reports two metrics, or fails in the way ``mode`` says.
TRAIN = '''\
import os, signal, sys, time
from dataclasses import dataclass
from pathlib import Path

import config_utils


@dataclass
class Config:
    lr: float = 0.1
    mode: str = "ok"  # ok | silent | crash | crash-once | killed | hang


cfg = config_utils.cli(Config, config_file=None)
run_dir = Path(os.environ.get("FLOWS_RUN_DIR", "."))
first_attempt = not run_dir.with_name(run_dir.name + ".attempt-1").exists()
if cfg.mode == "crash" or (cfg.mode == "crash-once" and first_attempt):
    print("crashing on purpose", flush=True)
    sys.exit(3)
if cfg.mode == "killed":
    os.kill(os.getpid(), signal.SIGKILL)
if cfg.mode == "hang":
    time.sleep(60)
if cfg.mode != "silent":
    config_utils.report(loss=cfg.lr * 2, acc=1 - cfg.lr)
'''

CSV_TAIL = ["seconds", "exit", "error", "reruns", "node", "run_dir", "adopted"]


def plain_grid(tmp_path: Path) -> Path:
    """The plain grid spec with ``train.py`` beside it."""
    (tmp_path / "train.py").write_text(TRAIN)
    spec = tmp_path / "s.yaml"
    spec.write_text(PLAIN_GRID)
    return spec


def study_of(sweep_dir: Path) -> tuple[dict[str, object], list[tuple[int, str, float | None]]]:
    """The sweep's Optuna study as Optuna reads it: its user attributes, and each trial's
    ``(number, state, value)``."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    meta = json.loads((sweep_dir / "sweep.json").read_text())
    study = optuna.load_study(study_name=meta["id"], storage=f"sqlite:///{sweep_dir / 'optuna.db'}")
    return study.user_attrs, [(t.number, t.state.name, t.value) for t in study.trials]


def table_of(out: str) -> list[list[str]]:
    """The results table flow_sweep printed: its header and rows, split into cells."""
    lines = out.splitlines()
    start = next(i for i, ln in enumerate(lines) if ln.startswith("trial  status"))
    body = []
    for ln in lines[start + 2:]:
        if not ln or not ln[0].isdigit():
            break
        body.append(ln.split())
    return [lines[start].split(), *body]


def test_a_plain_grid_spec_without_a_metric_runs_as_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """``flow_sweep s.yaml`` in the spec's directory, the spec unchanged: both trials run and
    complete; no value is shown or ranked anywhere, the reported metrics are columns, the
    plots are skipped in one line, and the study says what its stand-in value is."""
    spec = plain_grid(tmp_path)
    monkeypatch.chdir(tmp_path)
    code, out, err = sweep_main([spec.name], capsys)
    assert code == 0, out + err
    sweep_dir = tmp_path / "sweeps" / "s"
    assert "grid, 2 trials, no metric (a trial completes when its process exits 0), seed " in out
    for n in (0, 1):  # in whichever order they end
        assert re.search(rf"trial {n} complete in [\d.]+s \| [12]/2 ended \(0 failed\), [01] running\n", out), out
    assert "best" not in out and "loss=" not in out
    assert re.search(r"sweep s-[0-9a-f]{6}: 2 complete, 0 failed of 2 planned\n", out), out
    table = table_of(out)  # no rank, no metric column: trial order, with the status
    assert table[0] == ["trial", "status", "lr", "seconds", "note"]
    assert [row[:3] for row in table[1:]] == [["0", "complete", "0.1"], ["1", "complete", "0.01"]]
    assert "no plots: the spec has no metric to plot the trials against\n" in out
    assert not list(sweep_dir.glob("plot-*.png"))
    with open(sweep_dir / "results.csv", newline="") as fh:
        header = fh.readline().strip().split(",")
    assert header == ["trial", "status", "lr", "loss", "acc", *CSV_TAIL]
    rows = read_csv(sweep_dir / "results.csv")
    assert [(r["trial"], r["status"], r["lr"], r["exit"], r["error"]) for r in rows] == [
        ("0", "complete", "0.1", "0", ""), ("1", "complete", "0.01", "0", "")]
    assert [(float(r["loss"]), float(r["acc"])) for r in rows] == [(0.2, 0.9), (0.02, 0.99)]
    attrs, trials = study_of(sweep_dir)
    assert trials == [(0, "COMPLETE", math.inf), (1, "COMPLETE", math.inf)]
    assert "no result" in str(attrs["no_metric"]) and "inf" in str(attrs["no_metric"])
    assert json.loads((sweep_dir / "sweep.json").read_text())["metric"] is None
    # from Python: no best trial, the rows in trial order, and a resume runs nothing
    buf = io.StringIO()
    result = config_utils.sweep.run(spec, sweep_dir=sweep_dir, out=buf)
    assert "all 2 trials have ended: nothing to run" in buf.getvalue()
    assert result.best is None and result.completed == 2
    assert [(r.number, r.status, r.value, r.metrics) for r in result.rows] == [
        (0, "complete", None, {"loss": 0.2, "acc": 0.9}), (1, "complete", None, {"loss": 0.02, "acc": 0.99})]


def test_without_a_metric_the_process_decides_and_retries_work_as_always(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Exit 0 is complete, reported metrics or not; a non-zero exit, a SIGKILL and a timeout
    fail, each after its one retry; a trial whose first attempt crashed completes on its retry.
    The sweep exits 0 when a trial completed, 1 when none did."""
    (tmp_path / "train.py").write_text(TRAIN)
    spec = tmp_path / "s.yaml"
    spec.write_text("program: train.py\nmethod: grid\nparameters:\n"
                    "  mode: {values: [ok, silent, crash, crash-once, killed, hang]}\n")
    code, out, err = sweep_main([spec, "--sweep-dir", tmp_path / "sw", "--parallel", "2", "--retries", "1",
                                 "--timeout", "4"], capsys)
    assert code == 0, out + err
    assert re.search(r"sweep s-[0-9a-f]{6}: 3 complete, 3 failed of 6 planned\n", out), out
    rows = {r["mode"]: r for r in read_csv(tmp_path / "sw" / "results.csv")}
    assert [r["mode"] for r in read_csv(tmp_path / "sw" / "results.csv")] == [
        "ok", "silent", "crash", "crash-once", "killed", "hang"]  # trial order, whatever failed
    assert {m: r["status"] for m, r in rows.items()} == {
        "ok": "complete", "silent": "complete", "crash": "failed", "crash-once": "complete",
        "killed": "failed", "hang": "failed"}
    assert (rows["ok"]["loss"], rows["silent"]["loss"], rows["silent"]["error"]) == ("0.2", "", "")
    assert rows["crash"]["error"] == "exit status 3: crashing on purpose"
    assert rows["killed"]["error"] == "killed by SIGKILL (signal 9)"
    assert rows["hang"]["error"] == "timed out after 4 s"
    for mode in ("crash", "crash-once", "killed", "hang"):  # one retry each, recorded
        assert rows[mode]["reruns"].startswith("retry 1 of 1: attempt 1 failed: "), rows[mode]
    assert not rows["ok"]["reruns"] and not rows["silent"]["reruns"]
    _, trials = study_of(tmp_path / "sw")
    assert [(state, value) for _, state, value in trials] == [
        ("COMPLETE", math.inf), ("COMPLETE", math.inf), ("FAIL", None), ("COMPLETE", math.inf),
        ("FAIL", None), ("FAIL", None)]
    spec.write_text("program: train.py\nmethod: grid\nparameters:\n  mode: {values: [crash]}\n")
    code, out, _ = sweep_main([spec, "--sweep-dir", tmp_path / "sw2"], capsys)
    assert code == 1 and re.search(r": 0 complete, 1 failed of 1 planned\n", out), out


@pytest.mark.slow
def test_a_killed_sweep_without_a_metric_resumes_and_runs_nothing_twice(tmp_path: Path) -> None:
    """The controller is SIGKILLed while trials 1 and 3 wait at their gates (0 and 2 have
    ended); trial 1 then ends while no controller runs. The resume records 1 from its run
    directory, adopts 3 and waits for it, runs only 4: every trial starts and ends once, and
    all complete (exit 0 decides; each reported its loss, which results.csv keeps)."""
    log, gate = tmp_path / "marks.log", tmp_path / "gate"
    gate.mkdir()
    spec = write_spec(tmp_path, "method: grid\nparameters:\n  x: {values: [0, 1, 2, 3, 4]}\n"
                      f"  log: {{value: '{log}'}}\n  gate: {{value: '{gate}'}}\n  gated: {{value: [1, 3]}}\n",
                      program=ONCE_PROGRAM)
    args = [*FLOW_SWEEP, str(spec), "--sweep-dir", str(tmp_path / "sw"), "--parallel", "2"]
    first = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=tmp_path)
    try:
        wait_for(lambda: {"1", "3"} <= set(marks(log)[0]), what="trials 1 and 3 at their gates")
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait()
    starts, ends = marks(log)
    assert sorted(ends) == ["0", "2"]
    orphan3 = starts["3"][-1]
    (gate / "1").touch()  # trial 1 ends while no controller runs
    wait_for(lambda: "1" in marks(log)[1], what="trial 1 to end unseen")
    resume = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path)
    try:
        assert resume.stdout is not None
        lines = []
        for line in resume.stdout:
            lines.append(line)
            if "resuming:" in line:
                break
        assert alive(orphan3)  # adopted, not killed and not started again
        (gate / "3").touch()
        rest, err = resume.communicate(timeout=120)
    finally:
        if resume.poll() is None:
            resume.kill()
            resume.communicate()
    text = "".join(lines) + rest
    assert resume.returncode == 0, text + err
    assert "no metric (a trial completes when its process exits 0)" in text
    assert "resuming: 2 of 5 trials already ended; 0 were running and run again; 2 adopted" in text
    assert "(re-run)" not in text and "trial 1 started" not in text and "trial 3 started" not in text
    assert re.search(r": 5 complete, 0 failed of 5 planned\n", text), text
    starts, ends = marks(log)
    assert ends == {str(n): 1 for n in range(5)}, ends
    assert {n: len(pids) for n, pids in starts.items()} == {str(n): 1 for n in range(5)}
    rows = {r["trial"]: r for r in read_csv(tmp_path / "sw" / "results.csv")}
    assert [rows[str(n)]["status"] for n in range(5)] == ["complete"] * 5
    assert [rows[str(n)]["loss"] for n in range(5)] == ["0.0", "1.0", "2.0", "3.0", "4.0"]
    assert rows["1"]["adopted"].startswith("ended while no sweep process ran")
    assert rows["3"]["adopted"] == "still running when the sweep resumed: waited for, not run again"
    assert not any(r["reruns"] for r in rows.values())
    _, trials = study_of(tmp_path / "sw")
    assert trials == [(n, "COMPLETE", math.inf) for n in range(5)]


REFUSALS = [
    pytest.param("method: bayes\n", 2,
                 "method: bayes needs a metric: it chooses each trial's values by the metric of the trials before "
                 "(W&B: 'Bayesian search requires \"metric\" section'); add metric: {name: NAME, goal: minimize}, "
                 "or use method: grid or random", id="bayes"),
    pytest.param("method: grid\nearly_terminate: {type: hyperband, min_iter: 3}\n", 3,
                 "early_terminate: needs a metric: hyperband stops the trials whose metric lags the others' "
                 "(W&B: 'Hyperband stopping requires \"metric\" section'); add metric: {name: NAME, goal: "
                 "minimize}, or leave early_terminate out", id="early-terminate"),
    pytest.param("method: random\nearly_terminate: {type: hyperband, max_iter: 9, s: 2}\n", 3,
                 "early_terminate: needs a metric: hyperband stops the trials whose metric lags the others' "
                 "(W&B: 'Hyperband stopping requires \"metric\" section'); add metric: {name: NAME, goal: "
                 "minimize}, or leave early_terminate out", id="random-early-terminate"),
]


@pytest.mark.parametrize(("head", "line", "message"), REFUSALS)
def test_bayes_and_early_terminate_without_a_metric_are_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], head: str, line: int, message: str
) -> None:
    spec = write_spec(tmp_path, head + "parameters:\n  width: {values: [4, 8]}\n")
    code, out, err = sweep_main([spec, "--sweep-dir", tmp_path / "sw"], capsys)
    assert (code, err) == (2, f"flow_sweep: error: {spec}:{line}: {message}\n")
    assert out == "" and not (tmp_path / "sw").exists()


def test_a_random_sweep_without_a_metric_runs_count_trials_and_keeps_what_wandb_logged(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """``examples/sweep/wandb_script.yaml`` without its metric: a W&B user's random spec with no
    run_cap, over a script that logs only with ``wandb.log`` (offline, the real wandb client).
    ``--count 2`` runs two trials; a resume with ``--count 3`` runs the third only. What the
    script logged is in results.csv (its W&B summary: the last values)."""
    monkeypatch.delenv("WANDB_DIR")  # each trial's W&B run then lives in its run directory
    spec = tmp_path / "s.yaml"
    spec.write_text(f"program: {EXAMPLES / 'wandb_script.py'}\nmethod: random\nparameters:\n"
                    "  lr: {distribution: log_uniform_values, min: 1.0e-4, max: 0.1}\n"
                    "  batch_size: {values: [16, 32, 64]}\n  epochs: {value: 3}\n")
    argv = [spec, "--sweep-dir", tmp_path / "sw", "--parallel", "2"]
    code, out, err = sweep_main([*argv, "--count", "2", "--seed", "4"], capsys)
    assert code == 0, out + err
    assert "random, 2 trials, no metric (a trial completes when its process exits 0)" in out
    assert re.search(r": 2 complete, 0 failed of 2 planned\n", out), out
    code, out, err = sweep_main([*argv, "--count", "3"], capsys)
    assert code == 0, out + err
    assert "trial 2 started" in out and "trial 0 started" not in out and "trial 1 started" not in out
    assert re.search(r": 3 complete, 0 failed of 3 planned\n", out), out
    with open(tmp_path / "sw" / "results.csv", newline="") as fh:
        header = fh.readline().strip().split(",")
    assert header[:5] == ["trial", "status", "lr", "batch_size", "epochs"]
    assert set(header[5:-len(CSV_TAIL)]) >= {"val_loss", "epoch"} and header[-len(CSV_TAIL):] == CSV_TAIL
    rows = read_csv(tmp_path / "sw" / "results.csv")
    assert [(r["trial"], r["status"]) for r in rows] == [("0", "complete"), ("1", "complete"), ("2", "complete")]
    for r in rows:
        lr, bs = float(r["lr"]), int(r["batch_size"])
        last = (math.log10(lr) + 2.0) ** 2 + abs(math.log2(bs) - 5) * 0.1 + 1.0 / 3
        assert float(r["val_loss"]) == pytest.approx(last) and float(r["epoch"]) == 2.0


@pytest.mark.slow
def test_a_grid_without_a_metric_on_the_ray_engine(tmp_path: Path) -> None:
    """The plain grid spec with ``--engine ray`` (a Ray started here): the same results."""
    spec = plain_grid(tmp_path)
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0", "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0"}
    proc = subprocess.run([*FLOW_SWEEP, str(spec), "--engine", "ray", "--sweep-dir", str(tmp_path / "sw"),
                           "--parallel", "2"], capture_output=True, text=True, cwd=tmp_path, timeout=300, env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "engine: a local Ray, 2 trials at a time" in proc.stdout
    assert re.search(r": 2 complete, 0 failed of 2 planned\n", proc.stdout), proc.stdout
    rows = read_csv(tmp_path / "sw" / "results.csv")
    assert [(r["trial"], r["status"], r["lr"], r["loss"], r["acc"]) for r in rows] == [
        ("0", "complete", "0.1", "0.2", "0.9"), ("1", "complete", "0.01", "0.02", "0.99")]
    assert all(r["node"] for r in rows)
    assert study_of(tmp_path / "sw")[1] == [(0, "COMPLETE", math.inf), (1, "COMPLETE", math.inf)]
