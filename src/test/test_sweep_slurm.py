"""``flow_sweep --engine slurm`` against a real one-node SLURM cluster on loopback.

The module's fixture starts munged, slurmctld and slurmd (Debian's packages, as root) in a
temporary directory with ``src/test/slurm_cluster.py`` and stops every one of them at the
end; without root or the packages every test here skips and says why (CI installs them).
Trials are ``src/test/sweep_program.py`` (and, for the time limit, a small resumable program
written by the test), run by real SLURM jobs that submitit submits; nothing is mocked.
"""

from __future__ import annotations

import csv
import json
import os
import signal  # noqa: F401 - SIGKILL in the re-attach case
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
PROGRAM = HERE / "sweep_program.py"
FLOW_SWEEP = [sys.executable, "-m", "config_utils.sweep.cli"]
GRID_HEAD = "method: grid\nmetric: {name: loss, goal: minimize}\nparameters:\n"

sys.path.insert(0, str(HERE))
import slurm_cluster  # noqa: E402

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def cluster() -> Iterator[slurm_cluster.Cluster]:
    why = slurm_cluster.unavailable()
    if why:
        pytest.skip(why)
    c = slurm_cluster.start()
    pids = c.pids()
    try:
        yield c
    finally:
        c.stop()
        left = [pid for pid in pids if Path(f"/proc/{pid}").exists()
                and "zombie" not in Path(f"/proc/{pid}/status").read_text().lower()]
        assert not left, f"daemons left running: {left}"


def write_spec(tmp_path: Path, body: str, program: Path = PROGRAM, name: str = "s.yaml") -> Path:
    path = tmp_path / name
    path.write_text(f"program: {program}\n" + body)
    return path


def flow_sweep(args: list[object], cwd: Path, timeout: float = 150) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*FLOW_SWEEP, *map(str, args)], capture_output=True, text=True, cwd=cwd,
                          timeout=timeout, env={**os.environ, "PYTHONUNBUFFERED": "1"})


def read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def journal(sweep_dir: Path) -> list[dict[str, object]]:
    path = sweep_dir / "slurm" / "jobs.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def squeue(*args: str) -> list[list[str]]:
    out = subprocess.run(["squeue", "--noheader", "--array", "--states=all", *args, "--format=%i|%T|%r|%j"],
                         capture_output=True, text=True, check=True).stdout
    return [line.split("|") for line in out.splitlines() if line.strip()]


def wait_for(cond: Callable[[], object], timeout: float = 90.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what or cond}")


def marks(log: Path) -> tuple[dict[str, int], dict[str, int]]:
    starts: dict[str, int] = {}
    ends: dict[str, int] = {}
    if log.exists():
        for line in log.read_text().splitlines():
            kind, n, *_ = line.split()
            target = starts if kind == "start" else ends
            target[n] = target.get(n, 0) + 1
    return starts, ends


# ------------------------------------------------------------------------------ the cases


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
