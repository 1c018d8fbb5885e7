"""flow_sweep / config_utils.sweep: spec checks before launch, grid/random/bayes, crashes,
timeouts, SIGKILL and Ctrl-C resume, re-creating a trial from its run directory, report().

Trials run ``src/test/sweep_program.py`` (config_utils.cli with a union field) as real
subprocesses; nothing is mocked.
"""

from __future__ import annotations

import io
import json
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sweep_harness import FLOW_SWEEP, HERE, alive, read_csv, sweep_main, wait_for, write_spec
from sweep_harness import SWEEP_PROGRAM as PROGRAM
from trial_marks import marks

import config_utils
from config_utils.sweep import cli as sweep_cli
from config_utils.sweep.spec import SpecError, load_spec

# ------------------------------------------------------------------------------ spec errors

GRID_HEAD = "method: grid\nmetric: {name: loss, goal: minimize}\nparameters:\n"

SPEC_ERRORS = [
    pytest.param(
        GRID_HEAD + "  width: {values: [8]}\n  optim.lrr: {values: [0.1]}\n",
        "s.yaml:6: parameters: unknown config key 'optim.lrr' in {program} (did you mean 'optim.lr', "
        "'optim.beta' or 'optim._type'?)",
        id="unknown-key"),
    pytest.param(
        GRID_HEAD + "  optim: {values: [0.1]}\n",
        "s.yaml:5: parameters: unknown config key 'optim' in {program} (optim is a union: choose "
        "its variant with optim._type)",
        id="union-path-as-key"),
    pytest.param(
        GRID_HEAD + "  optim._type: {values: [AdamConfig, Adagrad]}\n",
        "s.yaml:5: parameters.optim._type.values[1]: 'Adagrad' is not a variant of optim "
        "(choices: AdamConfig, SGDConfig)",
        id="union-member-not-in-union"),
    pytest.param(
        "method: random\nrun_cap: 2\nmetric: {name: loss}\nparameters:\n"
        "  optim.lr: {distribution: log_uniformm, min: 0.001, max: 0.1}\n",
        "s.yaml:6: parameters.optim.lr: unknown distribution 'log_uniformm' (did you mean "
        "'log_uniform', 'q_log_uniform' or 'inv_log_uniform'?)",
        id="unknown-distribution"),
    pytest.param(
        "method: random\nrun_cap: 2\nmetric: {name: loss}\nparameters:\n"
        "  width: {distribution: uniform, min: 4, max: 32}\n",
        "s.yaml:6: parameters.width: distribution 'uniform' gives floats, but width is int (use "
        "int_uniform, a q_ distribution with an integer q, or values: [...])",
        id="float-distribution-on-int"),
    pytest.param(
        "method: random\nrun_cap: 2\nmetric: {name: loss}\nparameters:\n"
        "  act: {min: 1, max: 3}\n",
        "s.yaml:6: parameters.act: distribution 'int_uniform' gives numbers, but act is "
        "Literal['relu', 'tanh'] (use values: [...])",
        id="numeric-distribution-on-literal"),
    pytest.param(
        "method: random\nrun_cap: 2\nmetric: {name: loss}\nparameters:\n"
        "  optim.lr: {min: 0.1, max: 0.01}\n",
        "s.yaml:6: parameters.optim.lr: max must be greater than min (min 0.1, max 0.01)",
        id="min-above-max"),
    pytest.param(
        GRID_HEAD + "  optim.lr: {distribution: uniform, min: 0.001, max: 0.1}\n",
        "s.yaml:5: parameters.optim.lr: grid search enumerates values, but distribution "
        "'uniform' is continuous (use values: [...], int_uniform or q_uniform)",
        id="grid-continuous"),
    pytest.param(
        GRID_HEAD + "  optim.momentum: {values: [0.5]}\n",
        "s.yaml:5: parameters.optim.momentum: applies only when optim is SGDConfig, but every "
        "trial has AdamConfig (sweep optim._type to include SGDConfig)",
        id="key-of-unchosen-variant"),
    pytest.param(
        GRID_HEAD + "  width: {values: [8]}\ncontroller: {type: local}\n",
        "s.yaml:6: controller: not supported by flow_sweep (the controller is flow_sweep itself)",
        id="unsupported-key"),
    pytest.param(
        "metod: grid\n" + GRID_HEAD[len("method: grid\n"):] + "  width: {values: [8]}\n",
        "s.yaml:2: 'metod' is not a sweep-config key (did you mean 'method'?)",
        id="misspelt-top-key"),
    pytest.param(
        "method: random\nrun_cap: 2\nmetric: {name: loss}\nparameters:\n  optim.lr: {min: 1e-4, max: 0.1}\n",
        "s.yaml:6: parameters.optim.lr.min: expected a number, got '1e-4' (YAML 1.1 reads 1e-4 as text: "
        "a float needs a dot and a signed exponent; write 0.0001 or 1.0e-4)",
        id="yaml-1.1-number-as-text"),
    pytest.param(
        GRID_HEAD + "  width: {values: [8], q: 2}\n",
        "s.yaml:5: parameters.width: 'q' does not belong to distribution 'categorical' (it takes values)",
        id="key-of-other-distribution"),
    pytest.param(
        "method: grid\nparameters:\n  width: {values: [8]}\n  act: {value: tanh}\nmetric: {name: loss, target: 0.1}\n",
        None, id="metric-target"),
]


@pytest.mark.parametrize(("body", "expected"), SPEC_ERRORS)
def test_spec_errors_exit_2_with_one_line_before_any_trial(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], body: str, expected: str | None
) -> None:
    spec = write_spec(tmp_path, body)
    sweep_dir = tmp_path / "sw"
    code, _, err = sweep_main([spec, "--sweep-dir", sweep_dir], capsys)
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    if expected is None:
        expected = "s.yaml:6: metric.target: not supported by flow_sweep (the sweep runs its whole plan)"
    assert lines[0] == f"flow_sweep: error: {tmp_path}/" + expected.format(program=PROGRAM)
    assert not sweep_dir.exists()  # nothing started, nothing written


def test_bad_value_is_found_by_the_program_itself(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Values go through the program's own conversion (``--flows:print-config``): the message
    names the spec line, the value, and the program's reason."""
    spec = write_spec(tmp_path, GRID_HEAD + "  optim.lr: {values: [0.01, 0.1]}\n  width: {values: [8, big]}\n"
                      "  act: {values: [relu, tanh]}\n")
    code, _, err = sweep_main([spec, "--sweep-dir", tmp_path / "sw", "--dry-run"], capsys)
    assert code == 2
    line = err.strip()
    assert "\n" not in line
    prefix = f"flow_sweep: error: {spec}:6: parameters.width.values[1]: 'big' is not a valid value for width: "
    assert line.startswith(prefix), line
    assert "--width" in line[len(prefix):] and "'big'" in line[len(prefix):]


def test_bad_value_among_many_is_found_by_the_one_conversion(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Long value lists of plain fields are converted here (the program confirms the type
    with their first and last values), so a 200-value grid costs two probes, not 200."""
    values = ", ".join(str(v) for v in range(100)) + ", 1.5, 200"
    spec = write_spec(tmp_path, GRID_HEAD + f"  width: {{values: [{values}]}}\n  act: {{values: [relu, tanh, sigmoid]}}\n")
    code, _, err = sweep_main([spec, "--dry-run"], capsys)
    assert code == 2
    assert err.strip() == (f"flow_sweep: error: {spec}:5: parameters.width.values[100]: 1.5 is not a valid "
                           "value for width: expected int")
    spec.write_text(spec.read_text().replace("1.5, ", ""))
    code, _, err = sweep_main([spec, "--dry-run"], capsys)
    assert err.strip() == (f"flow_sweep: error: {spec}:6: parameters.act.values[2]: 'sigmoid' is not a valid "
                           "value for act: expected Literal['relu', 'tanh']")


def test_bad_value_under_a_variant(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = write_spec(tmp_path, GRID_HEAD + "  optim._type: {values: [AdamConfig, SGDConfig]}\n"
                      "  optim.momentum: {values: [0.5, fast]}\n")
    code, _, err = sweep_main([spec, "--dry-run", "--sweep-dir", tmp_path / "sw"], capsys)
    assert code == 2
    assert err.startswith(f"flow_sweep: error: {spec}:6: parameters.optim.momentum.values[1]: 'fast' "
                          "is not a valid value for optim.momentum: "), err


def test_program_that_is_not_a_config_utils_program(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A plain script is never run to ask for its schema (it would train instead of answering):
    it runs unchecked, said once. A config_utils program that cannot start is an error."""
    prog = tmp_path / "plain.py"
    prog.write_text("import sys\nsys.exit('no flags here')\n")
    spec = tmp_path / "s.yaml"
    spec.write_text("program: plain.py\n" + GRID_HEAD + "  a: {values: [1]}\n")
    code, out, _ = sweep_main([spec, "--dry-run"], capsys)
    assert code == 0
    assert f"note: no typed checks: {prog.resolve()} is not a config_utils.cli program" in out
    assert "trial 0: --a=1" in out
    prog.write_text("import config_utils\nimport sys\nsys.exit('no flags here')\n")
    code, _, err = sweep_main([spec, "--dry-run"], capsys)
    assert code == 2
    assert err.strip() == (f"flow_sweep: error: {prog.resolve()}: --flows:print-schema failed (no flags here); "
                           "is it a program built on config_utils.cli?")


def test_missing_program_and_bad_yaml(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = tmp_path / "s.yaml"
    spec.write_text("program: nowhere.py\n" + GRID_HEAD + "  a: {values: [1]}\n")
    code, _, err = sweep_main([spec, "--dry-run"], capsys)
    assert code == 2 and err.startswith(f"flow_sweep: error: {spec}:1: program: 'nowhere.py' not found")
    spec.write_text("program: x.py\nparameters: [1, 2\n")
    code, _, err = sweep_main([spec], capsys)
    assert code == 2 and err.startswith(f"flow_sweep: error: {spec}:3: not valid YAML:"), err
    code, _, err = sweep_main([tmp_path / "absent.yaml"], capsys)
    assert (code, err.strip()) == (2, f"flow_sweep: error: {tmp_path}/absent.yaml: no such sweep spec file")


def test_bad_command_line_options(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = write_spec(tmp_path, GRID_HEAD + "  width: {values: [8]}\n")
    assert sweep_main([spec, "--timeout", "0"], capsys)[2].strip() == \
        "flow_sweep: error: --timeout: expected a number above 0 to 1000000000 (seconds), got '0'"
    assert sweep_main([spec, "--ray-address", "127.0.0.1:1"], capsys)[2].strip() == \
        "flow_sweep: error: --ray-address and --ship-program need --engine ray"
    with pytest.raises(SystemExit) as exc:
        sweep_cli.main([str(spec), "--engine", "kubernetes"])
    assert exc.value.code == 2


def test_spec_reading_unit() -> None:
    """Inference of distributions as W&B does it, nested parameter blocks, inverse CDFs."""
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "s.json"
        path.write_text(json.dumps({
            "program": str(PROGRAM), "method": "random", "run_cap": 3, "metric": {"name": "loss"},
            "parameters": {
                "width": {"min": 4, "max": 8},
                "optim": {"parameters": {"lr": {"min": 0.001, "max": 0.1}}},
                "act": {"values": ["relu", "tanh"], "probabilities": [0.0, 1.0]},
                "x": {"distribution": "q_normal", "mu": 10, "sigma": 2, "q": 1},
                "y": {"distribution": "log_uniform_values", "min": 1e-4, "max": 1e-2},
            },
        }))
        spec = load_spec(path)
    p = spec.params
    assert list(p) == ["width", "optim.lr", "act", "x", "y"]
    assert (p["width"].distribution, p["optim.lr"].distribution) == ("int_uniform", "uniform")
    assert p["act"].distribution == "categorical_w_probabilities"
    assert {p["act"].from_unit(u / 10) for u in range(10)} == {"tanh"}
    assert p["x"].from_unit(0.5) == 10 and isinstance(p["x"].from_unit(0.5), int)
    assert p["x"].from_unit(0.8413447) == 12  # one sigma above the mean
    assert math.isclose(p["y"].from_unit(0.5), 1e-3)
    assert p["width"].from_unit(0.0) == 4 and p["width"].from_unit(0.9999) == 8
    assert spec.goal == "minimize"


# ------------------------------------------------------------------------------- running


def test_grid_sweep_end_to_end(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Grid over a union variant and a key of one variant: 5 distinct trials (the Adam points
    that differ only by momentum coincide), results best first, CSV, plots, run records with
    sweep provenance, and a trial re-created from its run directory."""
    spec = write_spec(tmp_path, GRID_HEAD + "  optim._type: {values: [AdamConfig, SGDConfig]}\n"
                      "  optim.lr: {values: [0.01, 0.1]}\n  optim.momentum: {values: [0.0, 0.9]}\n"
                      "  act: {value: tanh}\n")
    sweep_dir = tmp_path / "sw"
    code, out, _ = sweep_main([spec, "--sweep-dir", sweep_dir, "--parallel", "2"], capsys)
    assert code == 0, out
    meta = json.loads((sweep_dir / "sweep.json").read_text())
    rows = read_csv(sweep_dir / "results.csv")
    assert len(rows) == 6 and all(r["status"] == "complete" for r in rows)
    losses = [float(r["loss"]) for r in rows]
    assert losses == sorted(losses)
    best = rows[0]
    assert (best["optim._type"], best["optim.lr"], best["act"]) == ("AdamConfig", "0.01", "tanh")
    assert "best loss=0.5 (trial 0)" in out and "6/6 ended (0 failed)" in out
    assert {p.name for p in sweep_dir.glob("*.png")} == {
        "plot-optim._type.png", "plot-optim.lr.png", "plot-optim.momentum.png"}
    adam = [r for r in rows if r["optim._type"] == "AdamConfig"]
    assert all(r["optim.momentum"] == "" for r in adam)  # not passed to Adam trials: empty
    trial = int(rows[-1]["trial"])
    run_dir = sweep_dir / "trials" / f"{trial:04d}"
    record = json.loads((run_dir / "run_record.json").read_text())
    assert f"WANDB_RUN_GROUP={meta['id']}" in (run_dir / "output.log").read_text()  # one W&B group
    assert record["provenance"]["optim.lr"] == f"sweep:{meta['id']}/trial:{trial}"
    assert record["provenance"]["optim.beta" if "beta" in record["config"]["optim"] else "optim.momentum"] in (
        "default", f"sweep:{meta['id']}/trial:{trial}")
    # a trial re-created from its run directory has exactly the trial's config
    again = subprocess.run([sys.executable, str(PROGRAM), "--flows:from-run", str(run_dir),
                            "--flows:print-config", "--flows:format=json"],
                           capture_output=True, text=True, env={**os.environ, "WANDB_MODE": "disabled"})
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["config"] == record["config"]
    assert record["config"]["optim"]["lr"] == float(rows[-1]["optim.lr"])
    assert record["config"]["act"] == "tanh"


def test_crash_and_timeout_are_recorded_and_the_sweep_goes_on(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = write_spec(tmp_path, GRID_HEAD + "  crash: {values: [false, true]}\n  sleep: {values: [0.0, 30.0]}\n")
    sweep_dir = tmp_path / "sw"
    t0 = time.monotonic()
    code, out, _ = sweep_main([spec, "--sweep-dir", sweep_dir, "--timeout", "4", "--parallel", "2"], capsys)
    assert time.monotonic() - t0 < 25
    assert code == 0
    rows = {(r["crash"], r["sleep"]): r for r in read_csv(sweep_dir / "results.csv")}
    assert rows[("False", "0.0")]["status"] == "complete"
    crashed = rows[("True", "0.0")]
    assert crashed["status"] == "failed" and crashed["exit"] == "3"
    assert crashed["error"] == "exit status 3: something went wrong in the model"
    assert "FAILED after" in out and "exit status 3: something went wrong in the model" in out
    slow = rows[("False", "30.0")]
    assert (slow["status"], slow["error"], slow["exit"]) == ("failed", "timed out after 4 s", "")
    assert float(slow["seconds"]) < 10


def test_all_trials_failing_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = write_spec(tmp_path, "method: grid\nmetric: {name: accuracy, goal: maximize}\n"
                      "parameters:\n  width: {values: [8]}\n")
    code, out, _ = sweep_main([spec, "--sweep-dir", tmp_path / "sw"], capsys)
    assert code == 1
    assert "exited 0 but never reported 'accuracy' (reported: loss, width)" in out


def test_random_and_bayes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Random search: the seed fixes the plan (the dry run shows the trials that then run);
    bayes (TPE) finishes its run_cap; a resumed sweep refuses another seed."""
    spec = write_spec(tmp_path, "method: random\nrun_cap: 4\nmetric: {name: loss}\nparameters:\n"
                      "  optim.lr: {distribution: log_uniform_values, min: 0.001, max: 0.1}\n"
                      "  width: {distribution: q_uniform, min: 4, max: 32, q: 4}\n")
    code, dry, _ = sweep_main([spec, "--sweep-dir", tmp_path / "r", "--seed", "7", "--dry-run"], capsys)
    assert code == 0 and not (tmp_path / "r").exists()
    planned = [ln.split(": ", 1)[1] for ln in dry.splitlines() if ln.startswith("  trial ")]
    assert len(planned) == 4
    code, out, _ = sweep_main([spec, "--sweep-dir", tmp_path / "r", "--seed", "7", "--parallel", "2"], capsys)
    assert code == 0
    ran = [ln.split(" started: ", 1)[1] for ln in out.splitlines() if " started: " in ln]
    assert sorted(ran) == sorted(planned)
    code, _, err = sweep_main([spec, "--sweep-dir", tmp_path / "r", "--seed", "8"], capsys)
    assert code == 2 and "this sweep runs with --seed 7" in err
    bayes = write_spec(tmp_path, "method: bayes\nrun_cap: 5\nmetric: {name: loss}\nparameters:\n"
                       "  optim.lr: {distribution: log_uniform_values, min: 0.001, max: 0.1}\n"
                       "  act: {values: [relu, tanh]}\n", name="b.yaml")
    result = config_utils.sweep.run(bayes, sweep_dir=tmp_path / "b", seed=1, parallel=2, out=io.StringIO())
    assert [r.status for r in result.rows] == ["complete"] * 5
    assert result.best is not None and result.best.value == min(r.value for r in result.rows if r.value is not None)


def test_gpus_are_handed_out_one_per_trial(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """With GPUs visible (here: CUDA_VISIBLE_DEVICES names two), each running trial gets one."""
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0,1")
    spec = write_spec(tmp_path, GRID_HEAD + "  width: {values: [4, 8, 12, 16]}\n  sleep: {value: 0.5}\n")
    code, out, _ = sweep_main([spec, "--sweep-dir", tmp_path / "sw", "--parallel", "4"], capsys)
    assert code == 0
    assert "engine: local, 2 trials at a time, 1 GPU each (2 here)" in out
    seen = []
    for run_dir in sorted((tmp_path / "sw" / "trials").iterdir()):
        line = next(ln for ln in (run_dir / "output.log").read_text().splitlines() if ln.startswith("CUDA_"))
        seen.append(line.split("=", 1)[1])
    assert sorted(set(seen)) == ["0", "1"]


# SIGKILL mid-sweep and resume (orphans adopted, never run twice): src/test/test_sweep_once.py


@pytest.mark.slow
def test_ctrl_c_stops_trials_saves_state_and_resumes(tmp_path: Path) -> None:
    log = tmp_path / "marks.log"
    # trials 0 and 1 hang on their first attempt, so Ctrl-C always stops them mid-run (a trial
    # stopped in the ~0.1 s between its last line and its exit would rightly run again, and
    # write its end mark twice)
    spec = write_spec(tmp_path, GRID_HEAD + "  width: {values: [4, 8, 12, 16]}\n"
                      f"  sleep: {{value: 0.2}}\n  hang: {{value: [0, 1]}}\n  log: {{value: '{log}'}}\n")
    args = [*FLOW_SWEEP, str(spec), "--sweep-dir", str(tmp_path / "sw"), "--parallel", "2"]
    first = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=tmp_path)
    wait_for(lambda: len(marks(log)[0]) >= 2, timeout=60.0)
    first.send_signal(signal.SIGINT)
    out, _ = first.communicate(timeout=30)
    assert first.returncode == 130, out
    assert "interrupted: stopping 2 running trial(s)" in out and "run the same command again to resume" in out
    starts, ends = marks(log)
    assert not any(alive(pids[-1]) for pids in starts.values())
    second = subprocess.run(args, capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert second.returncode == 0, second.stdout + second.stderr
    rows = read_csv(tmp_path / "sw" / "results.csv")
    assert [r["status"] for r in rows] == ["complete"] * 4
    assert sum(1 for r in rows if r["reruns"] == "interrupted (Ctrl-C)") == 2
    assert all(c == 1 for c in marks(log)[1].values())


def test_sweep_directory_that_is_not_ours_is_left_alone(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep")
    spec = write_spec(tmp_path, GRID_HEAD + "  width: {values: [8]}\n")
    code, _, err = sweep_main([spec, "--sweep-dir", tmp_path / "mine"], capsys)
    assert code == 2
    assert err.strip() == (f"flow_sweep: error: {tmp_path}/mine: exists and is not a sweep directory; "
                           "not touching it (choose another --sweep-dir)")
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep"


def test_changed_spec_does_not_resume_into_an_old_sweep(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = write_spec(tmp_path, GRID_HEAD + "  width: {values: [8]}\n")
    assert sweep_main([spec, "--sweep-dir", tmp_path / "sw"], capsys)[0] == 0
    code, out, _ = sweep_main([spec, "--sweep-dir", tmp_path / "sw"], capsys)  # resume: nothing to do
    assert code == 0 and "trial 0 started" not in out and "1 complete, 0 failed of 1 planned" in out
    spec.write_text(spec.read_text().replace("[8]", "[8, 16]"))
    code, _, err = sweep_main([spec, "--sweep-dir", tmp_path / "sw"], capsys)
    assert code == 2 and "holds sweep s-" in err and "of another spec" in err


# ------------------------------------------------------------------------------ report, paths


def test_report_writes_the_run_directory_only_inside_a_sweep(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FLOWS_RUN_DIR", raising=False)
    assert config_utils.report(loss=1.5) == {"loss": 1.5}
    assert not list(tmp_path.iterdir())
    monkeypatch.setenv("FLOWS_RUN_DIR", str(tmp_path / "run"))
    config_utils.report(step=3, loss=0.5, acc=1)
    config_utils.report(loss=0.25)
    lines = [json.loads(ln) for ln in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert [ln.get("_step") for ln in lines] == [3, None]
    assert config_utils.sweep.read_metrics(tmp_path / "run") == {"loss": 0.25, "acc": 1.0}
    with pytest.raises(config_utils.sweep.ReportError, match="report: metric 'loss' must be a number, got str 'low'"):
        config_utils.report(loss="low")


def test_report_goes_to_the_active_wandb_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import wandb

    for var in ("WANDB_DIR", "WANDB_CACHE_DIR", "WANDB_CONFIG_DIR", "WANDB_DATA_DIR"):
        monkeypatch.setenv(var, str(tmp_path / "wandb"))
    monkeypatch.setenv("WANDB_SILENT", "true")
    monkeypatch.setenv("WANDB_ERROR_REPORTING", "false")
    monkeypatch.delenv("FLOWS_RUN_DIR", raising=False)
    run = wandb.init(mode="offline", project="sweep-test", dir=str(tmp_path / "wandb"))
    try:
        config_utils.report(loss=0.125)
        assert run.summary["loss"] == 0.125
    finally:
        run.finish()


def test_run_dir_for_follows_flows_run_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLOWS_RUN_DIR", str(tmp_path / "trial-dir"))
    assert config_utils.run_dir_for(__file__, name="ignored") == tmp_path / "trial-dir"
    assert (tmp_path / "trial-dir").is_dir()
    assert config_utils.run_dir_for(__file__) == tmp_path / "trial-dir"  # the same for every call
    monkeypatch.delenv("FLOWS_RUN_DIR")
    own = config_utils.run_dir_for(__file__, logs_root=tmp_path / "logs", name="r")
    assert own == tmp_path / "logs" / "test_sweep" / "r"


@pytest.mark.slow
def test_lightning_trainer_reports_to_the_sweep(tmp_path: Path) -> None:
    """Inside a sweep trial a Lightning Trainer gets the ReportCallback from the entry point,
    so what the module logs with self.log reaches metrics.jsonl without a code change."""
    script = tmp_path / "fit.py"
    script.write_text(
        "import torch, pytorch_lightning as pl\n"
        "class M(pl.LightningModule):\n"
        "    def __init__(self):\n        super().__init__(); self.w = torch.nn.Linear(2, 1)\n"
        "    def training_step(self, batch, i):\n"
        "        loss = self.w(batch[0]).pow(2).mean(); self.log('train/loss', loss); return loss\n"
        "    def configure_optimizers(self):\n        return torch.optim.SGD(self.parameters(), lr=0.1)\n"
        "data = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.randn(16, 2)), batch_size=4)\n"
        "t = pl.Trainer(max_steps=3, logger=False, enable_checkpointing=False, enable_progress_bar=False,\n"
        "               enable_model_summary=False, accelerator='cpu')\n"
        "print([type(c).__name__ for c in t.callbacks])\n"
        "t.fit(M(), data)\n")
    env = {**os.environ, "FLOWS_SWEEP_TRIAL": "s-1/trial:0", "FLOWS_RUN_DIR": str(tmp_path / "run")}
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "ReportCallback" in proc.stdout
    metrics = config_utils.sweep.read_metrics(tmp_path / "run")
    assert set(metrics) == {"train/loss"} and math.isfinite(metrics["train/loss"])
    env.pop("FLOWS_SWEEP_TRIAL")
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=env, timeout=120)
    assert "ReportCallback" not in proc.stdout  # outside a sweep: no callback added


@pytest.mark.slow
def test_example_sweep_of_the_main_job_checks_against_train_py(capsys: pytest.CaptureFixture[str]) -> None:
    root = HERE.parents[1]
    code, out, err = sweep_main([root / "examples" / "sweep" / "train.yaml", "--dry-run"], capsys)
    assert code == 0, err
    assert "trial 2: --loss.module._type=Huber --loss.module.delta=0.5 --optim.lr=0.003" in out
    assert "trial 0: --loss.module._type=MSE --optim.lr=0.003 --max_steps=80" in out


def test_spec_error_type_is_a_config_error() -> None:
    assert issubclass(SpecError, config_utils.ConfigError)
