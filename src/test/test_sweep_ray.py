"""The ray engine on a real two-node Ray cluster on loopback.

``ray.cluster_utils.Cluster`` starts a head node and a second node (one CPU each) as real
Ray processes bound to 127.0.0.1; ``flow_sweep --engine ray --ray-address`` joins it as a
driver, ships the program's directory with the job's runtime environment, and the trials
(one CPU each, running at the same time) land on both nodes. Usage statistics and the
dashboard are off; the cluster is shut down at the end and no Ray process is left.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from config_utils.sweep.engines.ray import run_trial_here

HERE = Path(__file__).resolve().parent
PROGRAM = HERE / "sweep_program.py"
# keep every Ray address on loopback: Ray otherwise swaps 127.0.0.1 for the machine's own IP
RAY_ENV = {"RAY_USAGE_STATS_ENABLED": "0", "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0"}


@pytest.fixture(scope="module")
def cluster() -> Iterator[str]:
    saved = {k: os.environ.get(k) for k in RAY_ENV}
    os.environ.update(RAY_ENV)
    from ray.cluster_utils import Cluster

    c = Cluster(initialize_head=True, head_node_args={
        "num_cpus": 1, "include_dashboard": False, "node_ip_address": "127.0.0.1"})
    try:
        c.add_node(num_cpus=1, node_ip_address="127.0.0.1")
        c.wait_for_nodes()
        yield c.address
    finally:
        c.shutdown()
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@pytest.mark.slow
def test_trials_run_on_both_nodes_of_a_ray_cluster(cluster: str, tmp_path: Path) -> None:
    assert cluster.startswith("127.0.0.1:")
    spec = tmp_path / "s.yaml"
    spec.write_text(f"program: {PROGRAM}\nmethod: grid\nmetric: {{name: loss}}\nparameters:\n"
                    "  width: {values: [4, 8, 12, 16]}\n  sleep: {value: 1.0}\n"
                    "  optim._type: {value: SGDConfig}\n  optim.momentum: {value: 0.5}\n")
    proc = subprocess.run(
        [sys.executable, "-m", "config_utils.sweep.cli", str(spec), "--engine", "ray", "--ray-address", cluster,
         "--sweep-dir", str(tmp_path / "sw")],
        capture_output=True, text=True, cwd=tmp_path, timeout=240, env={**os.environ, **RAY_ENV})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"engine: Ray at {cluster}, 2 trials at a time, program shipped from {HERE}" in proc.stdout
    with open(tmp_path / "sw" / "results.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert sorted(int(r["trial"]) for r in rows) == [0, 1, 2, 3]
    assert all(r["status"] == "complete" for r in rows)
    nodes = {r["node"] for r in rows}
    assert len(nodes) == 2, nodes  # one CPU per node, two trials at once: both nodes work
    sweep_id = json.loads((tmp_path / "sw" / "sweep.json").read_text())["id"]
    for r in rows:  # the nodes share this file system: records are written in place
        record = json.loads((Path(r["run_dir"]) / "run_record.json").read_text())
        assert record["config"]["width"] == int(r["width"])
        assert record["config"]["optim"] == {"_type": "SGDConfig", "lr": 0.1, "momentum": 0.5}
        assert record["provenance"]["width"] == f"sweep:{sweep_id}/trial:{r['trial']}"


def test_trial_on_a_node_without_the_sweep_directory_sends_its_files_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A node that does not see the sweep directory runs the trial in a local directory and
    returns the run record, metrics and output (the body of the Ray task, run directly)."""
    import tempfile

    (tmp_path / "node-tmp").mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "node-tmp"))
    sweep_id = "elsewhere-0001"
    result = run_trial_here({
        "command": [sys.executable, str(PROGRAM), "--width=16", "--act=tanh"],
        "env": {"FLOWS_SWEEP_TRIAL": f"{sweep_id}/trial:0", "WANDB_MODE": "disabled"},
        "cwd": str(tmp_path), "run_dir": str(tmp_path / "not-here" / "trials" / "0000"),
        "sweep_dir": str(tmp_path / "not-here"), "sweep_id": sweep_id, "timeout": 60,
    })
    assert result["exit_code"] == 0 and not result["timed_out"]
    assert not (tmp_path / "not-here").exists()
    files = result["files"]
    assert set(files) == {"run_record.json", "metrics.jsonl", "output.log"}
    assert json.loads(files["run_record.json"])["provenance"]["width"] == f"sweep:{sweep_id}/trial:0"
    assert json.loads(files["metrics.jsonl"].splitlines()[-1])["loss"] == 1.0
    assert (tmp_path / "node-tmp" / "flows-sweep" / sweep_id / "0000" / "run_record.json").is_file()
    assert "trial 0:" in files["output.log"]


def test_trial_timeout_inside_the_task(tmp_path: Path) -> None:
    (tmp_path / "sw").mkdir()
    (tmp_path / "sw" / "sweep.json").write_text(json.dumps({"id": "t-1"}))
    result = run_trial_here({
        "command": [sys.executable, str(PROGRAM), "--sleep=30"], "env": {"FLOWS_SWEEP_TRIAL": "t-1/trial:0"},
        "cwd": str(tmp_path), "run_dir": str(tmp_path / "sw" / "trials" / "0000"),
        "sweep_dir": str(tmp_path / "sw"), "sweep_id": "t-1", "timeout": 2.0,
    })
    assert result["timed_out"] and result["exit_code"] is None and result["seconds"] < 8
    assert result["files"] == {}  # shared: written in place
    assert (tmp_path / "sw" / "trials" / "0000" / "output.log").exists()
