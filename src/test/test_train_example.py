"""The README's main job, examples/train.py, run for real: Lightning on CPU, W&B offline, OFC.

An edit to the run's OFC file made while it trains must change the learning rate the
optimizer uses, be recorded in the history file, and the run record must re-create the
config exactly when fed back with --wandb-config.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TRAIN = ROOT / "examples" / "train.py"

pytestmark = pytest.mark.slow


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONUNBUFFERED"] = "1"
    return env


def test_train_with_mid_run_ofc_edit(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, str(TRAIN), "--max-steps", "600", "--log-every", "50", "--ofc-every", "5",
         "--logs-root", str(tmp_path / "logs"), "--run-name", "edited"],
        cwd=tmp_path, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    assert proc.stdout is not None
    lines: list[str] = []
    ofc_file: Path | None = None
    edited = False
    deadline = time.monotonic() + 120
    for line in proc.stdout:
        lines.append(line)
        if line.startswith("OFC file:"):
            ofc_file = Path(line.split(":", 1)[1].split("(")[0].strip())
        if ofc_file is not None and not edited and line.startswith("step"):
            text = ofc_file.read_text()
            new = re.sub(r"^optim\.lr = .*$", "optim.lr = 0.0005", text, flags=re.M)
            tmp = ofc_file.with_suffix(".tmp")
            tmp.write_text(new)
            os.replace(tmp, ofc_file)
            edited = True
        assert time.monotonic() < deadline, "".join(lines)
    assert proc.wait(timeout=60) == 0, "".join(lines)
    out = "".join(lines)
    assert edited, out
    # the optimizer's learning rate changed mid-run, as printed by the training step
    assert re.search(r"lr 0\.0005\b", out), out
    assert re.search(r"lr 0\.01\b", out), out

    run_dir = tmp_path / "logs" / "train" / "edited"
    record = json.loads((run_dir / "run_record.json").read_text())
    assert record["config"]["optim"]["lr"] == 0.01  # the record holds the starting config
    assert record["config"]["loss"]["module"]["_type"] == "HuberConfig"
    history = [json.loads(x) for x in (run_dir / "ofc-history.jsonl").read_text().splitlines()]
    assert [(h["key"], h["old"], h["new"]) for h in history] == [("optim.lr", 0.01, 0.0005)]
    assert history[0]["step"] > 0

    # the record re-creates the run: same config, provenance says where it came from
    again = subprocess.run(
        [sys.executable, str(TRAIN), "--wandb-config", str(run_dir), "--print-config", "--format", "json"],
        cwd=tmp_path, env=_env(), capture_output=True, text=True, timeout=120,
    )
    assert again.returncode == 0, again.stderr
    printed = json.loads(again.stdout)
    assert printed["config"] == record["config"]
    assert printed["provenance"]["optim.lr"] == f"run:{run_dir}"
