"""``flow_sweep --engine slurm`` against a real one-node SLURM cluster on loopback.

The module's fixture starts munged, slurmctld and slurmd (Debian's packages, as root) in a
temporary directory with ``src/test/slurm_cluster.py`` and stops every one of them at the
end; without root or the packages every test here skips and says why (CI installs them).
Trials are ``src/test/sweep_program.py`` (and, for the time limit, a small resumable program
written by the test), run by real SLURM jobs that submitit submits; nothing is mocked.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import slurm_cluster
from sweep_harness import FLOW_SWEEP, read_csv, wait_for, write_spec
from sweep_harness import SWEEP_PROGRAM as PROGRAM
from trial_marks import marks

from config_utils.sweep.engines.slurm import STOP_GRACE, warning_delay

GRID_HEAD = "method: grid\nmetric: {name: loss, goal: minimize}\nparameters:\n"

@pytest.fixture(scope="module")
def cluster() -> Iterator[slurm_cluster.Cluster]:
    why = slurm_cluster.unavailable()
    if why:
        pytest.skip(why)
    c = slurm_cluster.start()
    pids, conf = c.pids(), c.conf
    try:
        yield c
    finally:
        c.stop()
        left = [pid for pid in pids if Path(f"/proc/{pid}").exists()
                and "zombie" not in Path(f"/proc/{pid}/status").read_text().lower()]
        assert not left, f"daemons left running: {left}"
        assert not slurm_cluster.job_processes(conf), "processes of SLURM jobs left running"


def flow_sweep(args: list[object], cwd: Path, timeout: float = 150) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*FLOW_SWEEP, *map(str, args)], capture_output=True, text=True, cwd=cwd,
                          timeout=timeout, env={**os.environ, "PYTHONUNBUFFERED": "1"})


def journal(sweep_dir: Path) -> list[dict[str, object]]:
    path = sweep_dir / "slurm" / "jobs.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def squeue(*args: str) -> list[list[str]]:
    out = subprocess.run(["squeue", "--noheader", "--array", "--states=all", *args, "--format=%i|%T|%r|%j"],
                         capture_output=True, text=True, check=True).stdout
    return [line.split("|") for line in out.splitlines() if line.strip()]


def diagnosis(cluster: slurm_cluster.Cluster, sweep_dir: Path) -> str:
    """What a failed SLURM case needs to explain itself: every job's times as slurmctld has
    them, its log (allocations, signals, requeues), submitit's logs and the trials' output."""
    jobs = subprocess.run(["scontrol", "show", "job", "--oneliner"], capture_output=True, text=True).stdout
    keep = ("JobId=", "JobState=", "Reason=", "Restarts=", "TimeLimit=", "SubmitTime=", "StartTime=", "EndTime=",
            "ExitCode=")
    parts = ["\n--- jobs (scontrol):"]
    parts += [" ".join(f for f in line.split() if f.startswith(keep)) for line in jobs.splitlines()]
    parts += ["--- slurmctld log (end):", cluster.log("slurmctld")[-2500:]]
    for path in sorted((sweep_dir / "slurm").glob("*_log.*")) + sorted(sweep_dir.glob("trials/*/output.log")):
        parts += [f"--- {path.relative_to(sweep_dir)} (end):", path.read_text(errors="replace")[-1500:]]
    return "\n".join(parts)


# ------------------------------------------------------------------------------ the cases


@pytest.mark.slow
def test_grid_sweep_runs_as_one_job_array(cluster: slurm_cluster.Cluster, tmp_path: Path) -> None:
    """Four grid trials: one sbatch (an array, two at a time); every trial keeps its run
    directory, run record with sweep provenance, metrics, and is re-created from it."""
    spec = write_spec(tmp_path, GRID_HEAD + "  width: {values: [4, 8, 12, 16]}\n"
                      "  optim._type: {value: SGDConfig}\n  optim.momentum: {value: 0.5}\n")
    sweep_dir = tmp_path / "sw"
    proc = flow_sweep([spec, "--engine", "slurm", "--sweep-dir", sweep_dir, "--parallel", "2",
                       "--slurm-mem", "500M", "--slurm-option", "comment=ignored-by-flows"], tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "engine: SLURM partition debug, 2 trial(s) running at a time" in proc.stdout
    entries = journal(sweep_dir)
    assert len(entries) == 2 and entries[0]["trials"] == [0, 1, 2, 3]  # one submission
    ids = entries[1]["jobs"]
    array = str(ids[0]).split("_")[0]  # type: ignore[index]
    assert ids == [f"{array}_{i}" for i in range(4)]
    assert f"submitted 4 trial(s) as SLURM job array {array} (4 tasks, 2 at a time)" in proc.stdout
    rows = read_csv(sweep_dir / "results.csv")
    assert [r["width"] for r in rows] == ["16", "12", "8", "4"]  # best first
    assert all(r["status"] == "complete" for r in rows)
    meta = json.loads((sweep_dir / "sweep.json").read_text())
    for r in rows:
        run_dir = Path(r["run_dir"])
        record = json.loads((run_dir / "run_record.json").read_text())
        assert record["config"]["width"] == int(r["width"])
        assert record["provenance"]["width"] == f"sweep:{meta['id']}/trial:{r['trial']}"
        job = json.loads((run_dir / "slurm_job.json").read_text())
        assert job["job_id"] == f"{array}_{r['trial']}"
        assert "loss" in (run_dir / "metrics.jsonl").read_text()
    # the sbatch options reached SLURM: the memory, the partition
    script = next((sweep_dir / "slurm").glob(f"{array}_*submission.sh"))
    text = script.read_text()
    assert "#SBATCH --mem=500M" in text and "#SBATCH --partition=debug" in text
    assert "#SBATCH --array=0-3%2" in text
    run_dir = Path(rows[0]["run_dir"])
    again = subprocess.run([sys.executable, str(PROGRAM), "--flows:from-run", str(run_dir),
                            "--flows:print-config", "--flows:format=json"],
                           capture_output=True, text=True, env={**os.environ, "WANDB_MODE": "disabled"})
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["config"] == json.loads((run_dir / "run_record.json").read_text())["config"]


@pytest.mark.slow
def test_bad_partition_is_refused_before_any_submission(cluster: slurm_cluster.Cluster, tmp_path: Path) -> None:
    spec = write_spec(tmp_path, GRID_HEAD + "  width: {values: [4, 8]}\n")
    before = squeue()
    proc = flow_sweep([spec, "--engine", "slurm", "--sweep-dir", tmp_path / "sw", "--slurm-partition", "debg"],
                      tmp_path)
    assert proc.returncode == 2
    assert proc.stderr == ("flow_sweep: error: --slurm-partition: no partition 'debg' on this cluster "
                           "(did you mean 'debug'?); partitions: debug\n")
    assert not (tmp_path / "sw").exists()
    assert squeue() == before  # nothing submitted


@pytest.mark.slow
def test_scancelled_trial_fails_then_its_retry_completes(cluster: slurm_cluster.Cluster, tmp_path: Path) -> None:
    """Trial 0 hangs on its first attempt; ``scancel`` kills its job: the attempt counts as
    failed (recorded with the job id), and ``--retries 1`` submits it again, which completes.
    Trial 1 crashes every time: retried once, then failed with both attempts kept."""
    log = tmp_path / "marks.log"
    spec = write_spec(tmp_path, GRID_HEAD + "  crash: {values: [false, true]}\n  hang: {value: [0]}\n"
                      f"  log: {{value: '{log}'}}\n")
    sweep_dir = tmp_path / "sw"
    args = [*FLOW_SWEEP, spec, "--engine", "slurm", "--sweep-dir", sweep_dir, "--retries", "1"]
    ctl = subprocess.Popen([str(a) for a in args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                           cwd=tmp_path, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        wait_for(lambda: marks(log)[0].get("0"), what="trial 0 to start")
        job = json.loads((sweep_dir / "trials" / "0000" / "slurm_job.json").read_text())["job_id"]
        subprocess.run(["scancel", job], check=True)
        out, _ = ctl.communicate(timeout=120)
    finally:
        if ctl.poll() is None:
            ctl.kill()
            ctl.wait()
    assert ctl.returncode == 0, out
    assert "trial 0 FAILED after" in out and f"(job {job}), runs again: retry 1 of 1: attempt 1 failed: SLURM job {job} was cancelled" in out
    rows = {r["trial"]: r for r in read_csv(sweep_dir / "results.csv")}
    assert rows["0"]["status"] == "complete"
    assert rows["0"]["reruns"] == f"retry 1 of 1: attempt 1 failed: SLURM job {job} was cancelled (scancel or an administrator)"
    assert rows["1"]["status"] == "failed" and rows["1"]["error"].startswith("exit status 3")
    assert rows["1"]["reruns"].startswith("retry 1 of 1: attempt 1 failed: exit status 3")
    assert (sweep_dir / "trials" / "0000.attempt-1" / "slurm_job.json").exists()  # the failed attempt, kept
    assert (sweep_dir / "trials" / "0001.attempt-1" / "slurm_result.json").exists()
    assert marks(log)[1] == {"0": 1}  # trial 0 ran to its end once; trial 1 never did
    entries = journal(sweep_dir)
    assert [e["trials"] for e in entries if "trials" in e] in ([[0, 1], [1], [0]], [[0, 1], [0], [1]], [[0, 1], [0, 1]])


@pytest.mark.slow
def test_detach_then_reattach_after_the_controller_was_killed(cluster: slurm_cluster.Cluster, tmp_path: Path) -> None:
    """``--detach`` submits the array and exits; a foreground controller re-attaches and is
    SIGKILLed mid-sweep; the jobs run on; the next one records what ended and follows the rest.
    No trial is submitted or run twice."""
    log = tmp_path / "marks.log"
    spec = write_spec(tmp_path, GRID_HEAD + "  width: {values: [4, 8, 12, 16]}\n  sleep: {value: 3.0}\n"
                      f"  log: {{value: '{log}'}}\n")
    sweep_dir = tmp_path / "sw"
    base = [spec, "--engine", "slurm", "--sweep-dir", sweep_dir, "--parallel", "2"]
    first = flow_sweep([*base, "--detach"], tmp_path)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "detached: 4 trial(s) in SLURM (job " in first.stdout
    ids = journal(sweep_dir)[1]["jobs"]
    # a foreground controller re-attaches; kill it while trials run
    ctl = subprocess.Popen([*FLOW_SWEEP, *map(str, base)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           text=True, cwd=tmp_path, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(iter(ctl.stdout.readline, "")), daemon=True)  # type: ignore[union-attr]
    reader.start()
    try:  # killed once it has recorded a trial's end, while the others run or wait
        wait_for(lambda: any(" complete in " in line for line in lines), what="the controller to record a trial")
        ctl.send_signal(signal.SIGKILL)
        ctl.wait(timeout=30)
    finally:
        if ctl.poll() is None:
            ctl.kill()
            ctl.wait()
    reader.join(timeout=10)
    out = "".join(lines)
    assert "re-attaching: 0 trial(s) ended before, 4 in SLURM" in out
    assert len(marks(log)[1]) < 4, out
    assert any(state in ("PENDING", "RUNNING") for _, state, *_ in squeue(f"--name={json.loads((sweep_dir / 'sweep.json').read_text())['id']}"))
    last = flow_sweep(base, tmp_path)
    assert last.returncode == 0, last.stdout + last.stderr
    assert "re-attaching:" in last.stdout and "submitted" not in last.stdout  # nothing submitted again
    rows = read_csv(sweep_dir / "results.csv")
    assert sorted(r["width"] for r in rows) == ["12", "16", "4", "8"]
    assert all(r["status"] == "complete" and not r["reruns"] for r in rows)
    starts, ends = marks(log)
    assert {n: len(pids) for n, pids in starts.items()} == ends == {str(n): 1 for n in range(4)}  # every trial ran exactly once
    assert [e.get("jobs") for e in journal(sweep_dir) if "jobs" in e] == [ids]  # one submission in all
    again = flow_sweep(base, tmp_path)  # a finished sweep: nothing to do
    assert again.returncode == 0 and "submitted" not in again.stdout


RESUMABLE = '''"""A resumable Lightning trial: STEPS training steps (a second each before a requeue), the last
checkpoint saved in the run directory after every step, and fit(ckpt_path="last"), as
docs/slurm.md says: started again after a requeue, it goes on from the saved step. Lightning
is imported after the command line is read, so the sweep's check of the program is quick."""
import os
import time
from dataclasses import dataclass

import config_utils


@dataclass
class Config:
    steps: int = 130


def main() -> None:
    cfg = config_utils.cli(Config, config_file=None)
    import pytorch_lightning as pl
    import torch
    from pytorch_lightning.callbacks import ModelCheckpoint

    class Slow(pl.LightningModule):
        def __init__(self) -> None:
            super().__init__()
            self.layer = torch.nn.Linear(2, 1)

        def on_train_start(self) -> None:
            print(f"starting at step {self.trainer.global_step}", flush=True)

        def training_step(self, batch, batch_idx):
            # a second a step until SLURM's warning; once resumed, quick (so is the test)
            time.sleep(1.0 if os.environ.get("FLOWS_SLURM_RESTARTS") == "0" else 0.05)
            x, y = batch
            loss = torch.nn.functional.mse_loss(self.layer(x), y)
            self.log("loss", loss.detach() * 0 + 1.0 / (self.trainer.global_step + 1))
            return loss

        def configure_optimizers(self):
            return torch.optim.SGD(self.parameters(), lr=0.01)

    run_dir = os.environ["FLOWS_RUN_DIR"]
    data = torch.utils.data.TensorDataset(torch.randn(1000, 2), torch.randn(1000, 1))
    trainer = pl.Trainer(max_steps=cfg.steps, default_root_dir=run_dir, accelerator="cpu", devices=1,
                         logger=False, enable_progress_bar=False, enable_model_summary=False,
                         limit_val_batches=0,
                         callbacks=[ModelCheckpoint(dirpath=f"{run_dir}/checkpoints", save_last=True,
                                                    every_n_train_steps=1)])
    trainer.fit(Slow(), torch.utils.data.DataLoader(data, batch_size=1), ckpt_path="last")


if __name__ == "__main__":
    main()
'''


@pytest.mark.slow
def test_trial_past_its_time_limit_is_requeued_and_resumes(cluster: slurm_cluster.Cluster, tmp_path: Path) -> None:
    """A 130-step Lightning trial (a second a step) asks for the warning 100 s before its limit.
    Once it trains (its first checkpoint saved), its limit is cut, as an administrator can, to
    the whole minutes that put the warning in the past but leave at least 40 s to run: SLURM,
    which looks at limits every 30 s, warns the job at its next look, while it trains, however
    long the program took to start on a loaded machine (with a fixed short limit a slow start
    was warned before its first step and started over from step 0). submitit requeues the job;
    the program is stopped and later resumes from its last checkpoint in the same run directory
    (Lightning's own restore, ``ckpt_path="last"``); the trial completes once, with its metric."""
    program = tmp_path / "resumable.py"
    program.write_text(RESUMABLE)
    spec = write_spec(tmp_path, GRID_HEAD + "  steps: {value: 130}\n", program=program)
    sweep_dir = tmp_path / "sw"
    run_dir = sweep_dir / "trials" / "0000"
    ctl = subprocess.Popen([*FLOW_SWEEP, str(spec), "--engine", "slurm", "--sweep-dir", str(sweep_dir),
                            "--slurm-time", "10", "--slurm-option", "signal=USR2@100"],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=tmp_path,
                           env={**os.environ, "PYTHONUNBUFFERED": "1", "FLOWS_SLURM_STOP_GRACE": "3"})
    released: list[str] = []
    cut = False
    try:
        deadline = time.monotonic() + 170
        while ctl.poll() is None and time.monotonic() < deadline:
            if not cut and (run_dir / "checkpoints" / "last.ckpt").exists():
                job = json.loads((run_dir / "slurm_job.json").read_text())
                ran = time.time() - job["started"]
                minutes = int((ran + 100) // 60)  # limit - 100 s <= now, limit >= now + 41 s
                subprocess.run(["scontrol", "update", f"JobId={job['job_id']}", f"TimeLimit={minutes}"],
                               check=True)
                cut = True
            # SLURM holds a requeued job (reason BeginTime) for a while before it may start again;
            # let it start at once, as an administrator can, so the test does not wait for that,
            # with a longer limit, so the resumed run is not warned again before it ends (on a real
            # cluster it would be, and go on the same way, a limit's worth at a time)
            for job_id, state, reason, _ in squeue():
                if state == "PENDING" and reason == "BeginTime":
                    subprocess.run(["scontrol", "update", f"JobId={job_id}", "StartTime=now", "TimeLimit=10"],
                                   check=True)
                    released.append(job_id)
            time.sleep(0.5)
        out, _ = ctl.communicate(timeout=30)
    finally:
        if ctl.poll() is None:
            ctl.kill()
            ctl.wait()
    why = out + diagnosis(cluster, sweep_dir)
    assert ctl.returncode == 0, why
    assert cut and released, why
    assert f"trial 0: SLURM requeued job {released[0]} (time limit or preemption; requeue 1)" in out
    rows = read_csv(sweep_dir / "results.csv")
    assert [(r["status"], r["reruns"]) for r in rows] == [("complete", "")]
    assert abs(float(rows[0]["loss"]) - 1 / 130) < 1e-6  # logged at the last of the 130 steps
    assert Path(rows[0]["run_dir"]) == run_dir
    log = (run_dir / "output.log").read_text()
    starts = [int(line.split()[-1]) for line in log.splitlines() if line.startswith("starting at step")]
    assert len(starts) == 2 and starts[0] == 0 and 0 < starts[1] < 130, log  # resumed, not restarted
    assert (run_dir / "checkpoints" / "last.ckpt").exists()
    assert "SLURM signalled the job (time limit or preemption)" in log
    assert json.loads((run_dir / "slurm_job.json").read_text())["restarts"] == 1
    assert json.loads((run_dir / "slurm_result.json").read_text())["exit_code"] == 0


# ------------------------------------------------------------------------------ without a cluster

BAD_OPTIONS = [
    pytest.param(["--detach"], "--detach: only with --engine slurm", id="detach-local"),
    pytest.param(["--slurm-time", "1", "--slurm-mem", "2G"], "--slurm-time, --slurm-mem: only with --engine slurm",
                 id="slurm-options-local"),
    pytest.param(["--engine", "slurm", "--slurm-time", "1h"],
                 "--slurm-time: expected a SLURM time (MINUTES, H:M:S or D-H:M:S), got '1h'", id="time"),
    pytest.param(["--engine", "slurm", "--slurm-mem", "lots"],
                 "--slurm-mem: expected a SLURM memory size such as 4G or 500M, got 'lots'", id="mem"),
    pytest.param(["--engine", "slurm", "--slurm-option", "array=0-9"],
                 "--slurm-option array: set by flow_sweep itself; it cannot be changed", id="option-taken"),
    pytest.param(["--engine", "slurm", "--slurm-option", "=x"],
                 "--slurm-option: expected KEY=VALUE (an sbatch option such as qos=high or --constraint=a100), "
                 "got '=x'", id="option-malformed"),
    pytest.param(["--engine", "slurm", "--gpus-per-trial", "0.5"],
                 "--gpus-per-trial: SLURM hands out whole GPUs, got 0.5", id="fractional-gpu"),
    pytest.param(["--retries", "-1"], "--retries: expected a whole number from 0 to 100, got '-1'",
                 id="retries"),
]


@pytest.mark.parametrize(("extra", "message"), BAD_OPTIONS)
def test_bad_slurm_options_are_one_line_and_exit_2(tmp_path: Path, extra: list[str], message: str) -> None:
    from config_utils.sweep import cli

    spec = write_spec(tmp_path, GRID_HEAD + "  width: {values: [4]}\n")
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            code = cli.main([str(spec), "--sweep-dir", str(tmp_path / "sw"), *extra])
        except SystemExit as exc:  # tyro's refusals
            code = int(exc.code or 0)
    assert code == 2
    lines = err.getvalue().splitlines()
    assert lines[-1] == f"flow_sweep: error: {message}", err.getvalue()
    assert not (tmp_path / "sw").exists()


@pytest.mark.parametrize("minutes", [1, 2, 3, 5, 6, 10, 60, 24 * 60])
def test_the_warning_leaves_time_to_stop_and_requeue(minutes: int) -> None:
    """SLURM warns up to 30 s after the asked moment (it looks at limits every 30 s): at the
    latest the warning must still leave 15 s before the limit (and, from 2 minutes up, the
    program's whole stop grace), and at the earliest it must not come in the job's first 15 s,
    while the program is still starting."""
    delay = warning_delay(minutes)
    latest = delay - 30  # seconds left before the limit when the warning comes last
    assert latest >= 15, (minutes, delay)
    if minutes >= 2:
        assert latest >= STOP_GRACE, (minutes, delay)
    assert minutes * 60 - delay >= 15, (minutes, delay)
    assert warning_delay(0) == 90  # no limit: submitit's default, for preemption


def test_retries_on_the_local_engine(tmp_path: Path) -> None:
    """``--retries`` on the local engine: trial 0 hangs on its first attempt and is killed at
    its timeout, then completes; trial 1 crashes on every attempt and fails after two
    retries. Each failed attempt keeps its run directory and is listed in the results."""
    spec = write_spec(tmp_path, GRID_HEAD + "  crash: {values: [false, true]}\n  hang: {value: [0]}\n")
    sweep_dir = tmp_path / "sw"
    proc = flow_sweep([spec, "--sweep-dir", sweep_dir, "--retries", "2", "--timeout", "4", "--parallel", "2"],
                      tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    rows = {r["trial"]: r for r in read_csv(sweep_dir / "results.csv")}
    assert rows["0"]["status"] == "complete"
    assert rows["0"]["reruns"] == "retry 1 of 2: attempt 1 failed: timed out after 4 s"
    assert rows["1"]["status"] == "failed"
    assert rows["1"]["reruns"].count("retry ") == 2 and "attempt 2 failed: exit status 3" in rows["1"]["reruns"]
    assert sorted(p.name for p in (sweep_dir / "trials").iterdir()) == [
        "0000", "0000.attempt-1", "0001", "0001.attempt-1", "0001.attempt-2"]
    assert "trial 0 FAILED after" in proc.stdout and "runs again: retry 1 of 2" in proc.stdout


@pytest.mark.slow
def test_one_run_of_a_program_keeps_its_layers_and_provenance(cluster: slurm_cluster.Cluster, tmp_path: Path) -> None:
    """The documented single run: a spec of constants, with no metric (one run is ranked
    against nothing), whose command adds a --config-file layer, submitted with --detach; the
    same command later re-attaches and records the run. The run record has the file's layer
    and the sweep's, and re-creates the run."""
    (tmp_path / "layer.ini").write_text("[DEFAULT]\nwidth = 12\n")
    spec = write_spec(tmp_path, "method: grid\n"
                      "command: ['${interpreter}', '${program}', --config-file, layer.ini, '${args}']\n"
                      "parameters:\n  act: {value: tanh}\n", name="one_run.yaml")
    first = flow_sweep([spec, "--engine", "slurm", "--detach"], tmp_path)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "submitted 1 trial(s) as SLURM job " in first.stdout and "detached: 1 trial(s) in SLURM" in first.stdout
    run_dir = tmp_path / "sweeps" / "one_run" / "trials" / "0000"
    wait_for(lambda: (run_dir / "slurm_result.json").exists(), what="the run to end")
    last = flow_sweep([spec, "--engine", "slurm"], tmp_path)
    assert last.returncode == 0, last.stdout + last.stderr
    assert "trial 0 complete in" in last.stdout and "no metric" in last.stdout
    assert "loss" in read_csv(tmp_path / "sweeps" / "one_run" / "results.csv")[0]  # what it reported, kept
    record = json.loads((run_dir / "run_record.json").read_text())
    sweep_id = json.loads((tmp_path / "sweeps" / "one_run" / "sweep.json").read_text())["id"]
    assert record["config"]["width"] == 12 and record["config"]["act"] == "tanh"
    assert record["provenance"]["width"] == "layer.ini:2"
    assert record["provenance"]["act"] == f"sweep:{sweep_id}/trial:0"
    again = subprocess.run([sys.executable, str(PROGRAM), "--flows:from-run", str(run_dir),
                            "--flows:print-config", "--flows:format=json"],
                           capture_output=True, text=True, env={**os.environ, "WANDB_MODE": "disabled"})
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["config"] == record["config"]


@pytest.mark.slow
def test_an_option_only_sbatch_can_judge_fails_the_submission_in_one_line(
    cluster: slurm_cluster.Cluster, tmp_path: Path
) -> None:
    spec = write_spec(tmp_path, GRID_HEAD + "  width: {values: [4, 8]}\n")
    proc = flow_sweep([spec, "--engine", "slurm", "--sweep-dir", tmp_path / "sw", "--slurm-option",
                       "constraint=a100"], tmp_path)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert proc.stderr == "flow_sweep: error: sbatch refused the submission: sbatch: error: Batch job submission " \
                          "failed: Invalid feature specification\n"
    assert not (tmp_path / "sw" / "trials").exists()


@pytest.mark.slow
def test_a_submission_the_controller_never_recorded_is_adopted_not_repeated(
    cluster: slurm_cluster.Cluster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The controller dies right after ``sbatch`` returned, before it wrote the job ids down:
    the next controller finds the jobs by their submission's token and follows them; no
    trial is submitted or run twice."""
    import config_utils.sweep
    from config_utils.sweep import slurm_control

    log = tmp_path / "marks.log"
    spec = write_spec(tmp_path, GRID_HEAD + "  width: {values: [4, 8]}\n  sleep: {value: 1.0}\n"
                      f"  log: {{value: '{log}'}}\n")
    sweep_dir = tmp_path / "sw"
    journal_line = slurm_control._Controller._journal

    def killed_after_sbatch(self: slurm_control._Controller, entry: dict[str, object]) -> None:
        if "jobs" in entry:
            raise SystemExit("controller killed after sbatch")
        journal_line(self, entry)

    monkeypatch.setattr(slurm_control._Controller, "_journal", killed_after_sbatch)
    with pytest.raises(SystemExit):
        config_utils.sweep.run(spec, engine="slurm", sweep_dir=sweep_dir, detach=True, cwd=tmp_path,
                               out=io.StringIO())
    monkeypatch.undo()
    assert [sorted(e) for e in journal(sweep_dir)] == [["at", "token", "trials"]]  # no ids written
    proc = flow_sweep([spec, "--engine", "slurm", "--sweep-dir", sweep_dir], tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "re-attaching: 0 trial(s) ended before, 2 in SLURM (2 adopted from an unrecorded submission)" in proc.stdout
    assert "submitted" not in proc.stdout
    rows = read_csv(sweep_dir / "results.csv")
    assert sorted(r["status"] for r in rows) == ["complete", "complete"]
    starts, ends = marks(log)
    assert {n: len(pids) for n, pids in starts.items()} == ends == {"0": 1, "1": 1}


CURVES = Path(__file__).resolve().parents[2] / "examples" / "sweep" / "curves.py"
HYPERBAND_HEAD = ("method: grid\nmetric: {name: loss, goal: minimize}\n"
                  "early_terminate: {type: hyperband, min_iter: 3, eta: 3}\nparameters:\n")


@pytest.mark.slow
def test_hyperband_stops_lagging_trials_with_scancel(cluster: slurm_cluster.Cluster, tmp_path: Path) -> None:
    """A hyperband spec runs unchanged on SLURM: the foreground controller follows each job's
    metrics in its run directory, cancels the laggards' jobs (CANCELLED in SLURM) and records
    them as stopped, never failed and never retried (even with --retries 1); the best learning
    rate runs to its end, and every trial is submitted once."""
    spec = write_spec(tmp_path, HYPERBAND_HEAD + "  lr: {values: [0.01, 1.0, 0.0001]}\n  epochs: {value: 27}\n"
                      "  epoch_seconds: {value: 0.3}\n", program=CURVES)
    sweep_dir = tmp_path / "sw"
    proc = flow_sweep([spec, "--engine", "slurm", "--sweep-dir", sweep_dir, "--parallel", "2", "--retries", "1"],
                      tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr + diagnosis(cluster, sweep_dir)
    out = proc.stdout
    assert "early termination: hyperband: bands at 3, 9, 27, 81, 243, 729, ... values of the metric, eta 3" in out
    rows = read_csv(sweep_dir / "results.csv")
    assert (rows[0]["trial"], rows[0]["status"]) == ("0", "complete")  # lr 0.01: the best, ran to its end
    assert len((sweep_dir / "trials" / "0000" / "metrics.jsonl").read_text().splitlines()) == 27
    stopped = [r for r in rows if r["status"] == "stopped"]
    assert sorted(r["trial"] for r in stopped) == ["1", "2"], out
    sweep_id = json.loads((sweep_dir / "sweep.json").read_text())["id"]
    states = {job: state for job, state, *_ in squeue(f"--name={sweep_id}")}
    for r in stopped:
        assert r["error"].startswith("stopped early by hyperband at band ") and "; ended at iteration " in r["error"]
        assert not r["reruns"]
        run_dir = Path(r["run_dir"])
        reported = run_dir.joinpath("metrics.jsonl").read_text().splitlines()
        assert 3 <= len(reported) < 27 and float(r["loss"]) == json.loads(reported[-1])["loss"]
        job = json.loads((run_dir / "slurm_job.json").read_text())["job_id"]
        assert states[job] == "CANCELLED"  # by the controller's scancel
        assert f"trial {r['trial']} stopping: stopped early by hyperband" in out
    assert "2 stopped early, 0 failed of 3 planned" in out
    assert "FAILED" not in out and "runs again" not in out
    assert [e["trials"] for e in journal(sweep_dir) if "trials" in e] == [[0, 1, 2]]  # nothing submitted twice
    assert sorted(p.name for p in (sweep_dir / "trials").iterdir()) == ["0000", "0001", "0002"]  # no retry


@pytest.mark.slow
def test_hyperband_with_detach_says_nobody_follows(cluster: slurm_cluster.Cluster, tmp_path: Path) -> None:
    """``--detach`` with early termination submits as usual and says, once, that trials run to
    their end while no controller is attached; a re-attached controller records them."""
    spec = write_spec(tmp_path, HYPERBAND_HEAD + "  lr: {values: [0.01]}\n  epochs: {value: 3}\n"
                      "  epoch_seconds: {value: 0.05}\n", program=CURVES)
    sweep_dir = tmp_path / "sw"
    first = flow_sweep([spec, "--engine", "slurm", "--sweep-dir", sweep_dir, "--detach"], tmp_path)
    assert first.returncode == 0, first.stdout + first.stderr
    line = "early termination needs an attached controller; trials run to their end while none is attached"
    assert first.stdout.count(line) == 1 and "detached: 1 trial(s) in SLURM" in first.stdout
    last = flow_sweep([spec, "--engine", "slurm", "--sweep-dir", sweep_dir], tmp_path)
    assert last.returncode == 0, last.stdout + last.stderr
    assert line not in last.stdout and "trial 0 complete in" in last.stdout


@pytest.mark.slow
def test_a_stop_decided_by_a_controller_that_died_is_honoured(
    cluster: slurm_cluster.Cluster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The controller dies right after hyperband's decision is in the study, before its
    ``scancel``: the next controller cancels the job and records the trial as stopped, not
    failed, and does not run it again (even with --retries 1)."""
    import config_utils.sweep
    from config_utils.sweep import slurm_control

    def died_before_scancel(self: slurm_control._Controller, n: int) -> None:
        raise SystemExit("controller killed before scancel")

    spec = write_spec(tmp_path, HYPERBAND_HEAD + "  lr: {values: [0.01, 1.0]}\n  epochs: {value: 27}\n"
                      "  epoch_seconds: {value: 0.3}\n", program=CURVES)
    sweep_dir = tmp_path / "sw"
    monkeypatch.setattr(slurm_control._Controller, "_stop", died_before_scancel)
    with pytest.raises(SystemExit):
        config_utils.sweep.run(spec, engine="slurm", sweep_dir=sweep_dir, parallel=2, cwd=tmp_path,
                               out=io.StringIO())
    monkeypatch.undo()
    proc = flow_sweep([spec, "--engine", "slurm", "--sweep-dir", sweep_dir, "--retries", "1"], tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr + diagnosis(cluster, sweep_dir)
    assert "trial 1 stopping (decided by an earlier controller): stopped early by hyperband at band " in proc.stdout
    rows = {r["trial"]: r for r in read_csv(sweep_dir / "results.csv")}
    assert rows["0"]["status"] == "complete"
    assert rows["1"]["status"] == "stopped" and not rows["1"]["reruns"], proc.stdout
    job = json.loads((sweep_dir / "trials" / "0001" / "slurm_job.json").read_text())["job_id"]
    sweep_id = json.loads((sweep_dir / "sweep.json").read_text())["id"]
    assert dict((j, s) for j, s, *_ in squeue(f"--name={sweep_id}"))[job] == "CANCELLED"
    assert "submitted" not in proc.stdout and "FAILED" not in proc.stdout
