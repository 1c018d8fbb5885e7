"""W&B sweep specs and W&B scripts as written: ``command`` macros, no ``run_cap`` with
``--count``, metrics from a trial's W&B run log, hyphenated keys, hyperband early termination.

Real parts only: trials are real subprocesses (the examples in ``examples/sweep/``, a real
Hydra app, a real W&B script writing offline run logs with the real wandb client), and the
macro forms and the hyperband rule are compared with W&B's own code (``wandb``'s agent helpers
and the ``sweeps`` package).
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
from pathlib import Path
from typing import Any

import pytest
from sweep_harness import FLOW_SWEEP, HERE, SWEEP_PROGRAM, read_csv, sweep_main, write_spec

from config_utils.sweep.command import MACROS, render
from config_utils.sweep.hyperband import Hyperband
from config_utils.sweep.spec import load_spec
from config_utils.sweep.wandb_metrics import TrialMetrics, WandbLog

ROOT = HERE.parents[1]
EXAMPLES = ROOT / "examples" / "sweep"


# ------------------------------------------------------------------------ command macros


def test_every_macro_gives_what_wandbs_agent_gives() -> None:
    """Our rendering of each macro against W&B's own (``wandb.sdk.launch.sweeps.utils``)."""
    from wandb.sdk.launch.sweeps.utils import create_sweep_command_args

    values = {"lr": 0.001, "use_bias": True, "shuffle": False, "dims": [1, 2], "name": "a b"}
    args = [f"--{k}={v}" for k, v in values.items()]
    theirs = create_sweep_command_args({"args": {k: {"value": v} for k, v in values.items()}})
    for name in MACROS:
        if name in ("env", "interpreter", "program", "args_json_file"):
            continue
        ours = render([f"${{{name}}}"], python="py", program=None, values=values, args=args,
                      run_dir=Path("/nonexistent"), environ={})
        assert ours == theirs[name], name


def test_literals_envvars_and_fixed_macros(tmp_path: Path) -> None:
    command = ["${env}", "${interpreter}", "-u", "${program}", "${args_json_file}", "--out=${envvar:OUT}/x",
               "${envvar:NOPE}"]
    argv = render(command, python="/py", program=Path("/p/train.py"), values={"lr": 0.5},
                  args=["--lr=0.5"], run_dir=tmp_path / "run", environ={"OUT": "/o"})
    json_file = tmp_path / "run" / "sweep-args.json"
    assert argv == ["/usr/bin/env", "/py", "-u", "/p/train.py", str(json_file), "--out=/o/x", "NOPE"]
    assert json.loads(json_file.read_text()) == {"lr": 0.5}


COMMAND_ERRORS = [
    pytest.param("command: ['${env}', '${interpreter}', '${program}', '${arg}']\n",
                 "s.yaml:2: command[3]: unknown macro '${arg}' (did you mean 'args'?) "
                 "(W&B would drop it silently; macros: ${env}, ${interpreter}, ${program}, "
                 "${args}, ${args_no_hyphens}, ${args_no_boolean_flags}, ${args_no_equals}, ${args_json}, "
                 "${args_json_file}, ${args_append_hydra}, ${args_override_hydra})", id="unknown-macro"),
    pytest.param("command: [python, '${program}', '--cfg=${args_json}']\n",
                 "s.yaml:2: command[2]: '--cfg=${args_json}': a macro must be a whole element (W&B passes it "
                 "as literal text)", id="macro-inside-element"),
    pytest.param("command: python train.py\n",
                 "s.yaml:2: command: expected a list such as [${env}, ${interpreter}, ${program}, "
                 "${args}]", id="command-not-a-list"),
    pytest.param("command: [python, '${program}']\n",
                 "s.yaml:2: command: no ${args...} macro, so no trial would get its parameters (add ${args}, "
                 "${args_no_hyphens}, ${args_json}, ...)", id="no-args-macro"),
    pytest.param("command: [python, '${program}', {a: 1}, '${args}']\n",
                 "s.yaml:2: command[2]: expected a string, got {'a': 1}", id="element-not-text"),
]


@pytest.mark.parametrize(("command", "expected"), COMMAND_ERRORS)
def test_bad_command_exits_2_with_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                           command: str, expected: str) -> None:
    spec = write_spec(tmp_path, command + "method: grid\nmetric: {name: loss}\nparameters:\n  width: {values: [8]}\n")
    code, _, err = sweep_main([spec, "--sweep-dir", tmp_path / "sw"], capsys)
    assert (code, err.strip()) == (2, f"flow_sweep: error: {tmp_path}/" + expected)
    assert not (tmp_path / "sw").exists()


def test_program_required_only_when_the_command_runs_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = tmp_path / "s.yaml"
    spec.write_text("command: ['${env}', '${interpreter}', '${program}', '${args}']\nmethod: grid\n"
                    "metric: {name: loss}\nparameters:\n  width: {values: [8]}\n")
    code, _, err = sweep_main([spec, "--dry-run"], capsys)
    assert (code, err.strip()) == (2, f"flow_sweep: error: {spec}: missing 'program' (the command runs "
                                   "${program}) (a sweep spec needs program, method and parameters)")
    # a module run with the interpreter needs no program, and is still checked (asked with -m)
    spec.write_text("command: ['${env}', '${interpreter}', -m, sweep_program, '${args}']\nmethod: grid\n"
                    "metric: {name: loss}\nparameters:\n  widht: {values: [8]}\n")
    old = os.getcwd()
    os.chdir(HERE)
    try:
        code, _, err = sweep_main([spec, "--dry-run"], capsys)
    finally:
        os.chdir(old)
    assert code == 2 and "parameters: unknown config key 'widht'" in err and "(did you mean 'width'" in err
    # so is a literal script run with python (W&B passes literals as written)
    spec.write_text("command: [python, sweep_program.py, '${args}']\nmethod: grid\n"
                    "metric: {name: loss}\nparameters:\n  widht: {values: [8]}\n")
    os.chdir(HERE)
    try:
        code, _, err = sweep_main([spec, "--dry-run"], capsys)
    finally:
        os.chdir(old)
    assert code == 2 and "parameters: unknown config key 'widht'" in err


def test_args_no_boolean_flags_on_a_checked_program(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """W&B's meaning: True becomes ``--use_bias``, False leaves the flag out, so the program's
    default applies. The program is still asked (the command runs ``${program}``): a bad value
    is refused before launch."""
    body = ("command: ['${env}', '${interpreter}', '${program}', '${args_no_boolean_flags}']\nmethod: grid\n"
            "metric: {name: loss}\nparameters:\n  use_bias: {values: [true, false]}\n  width: {values: [8]}\n")
    spec = write_spec(tmp_path, body)
    code, out, err = sweep_main([spec, "--sweep-dir", tmp_path / "sw", "--parallel", "2"], capsys)
    assert code == 0, out + err
    assert "no typed checks" not in out
    assert "started: /usr/bin/env python " + str(SWEEP_PROGRAM) + " --use_bias --width=8" in out
    assert "started: /usr/bin/env python " + str(SWEEP_PROGRAM) + " --width=8" in out
    records = [json.loads((d / "run_record.json").read_text()) for d in sorted((tmp_path / "sw" / "trials").iterdir())]
    assert [r["config"]["use_bias"] for r in records] == [True, True]  # False omitted: the default
    spec.write_text(spec.read_text().replace("width: {values: [8]}", "width: {values: [8, wide]}"))
    code, _, err = sweep_main([spec, "--sweep-dir", tmp_path / "sw2", "--dry-run"], capsys)
    assert code == 2 and f"{spec}:7: parameters.width.values[1]: 'wide' is not a valid value for width" in err


def test_example_hydra_app_with_args_no_hyphens(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``examples/sweep/hydra_app.yaml``: a real Hydra app gets ``key=value`` overrides and
    literal arguments; runs unchecked (said once, before launch); every trial has its run
    directory and state entry."""
    code, out, err = sweep_main([EXAMPLES / "hydra_app.yaml", "--sweep-dir", tmp_path / "sw", "--parallel", "2"], capsys)
    assert code == 0, out + err
    assert out.count("note: no typed checks:") == 1
    assert "the command passes values as key=value or JSON, which config_utils.cli does not read" in out
    rows = read_csv(tmp_path / "sw" / "results.csv")
    assert [r["status"] for r in rows] == ["complete"] * 6
    assert (rows[0]["optim.lr"], rows[0]["depth"], rows[0]["loss"]) == ("0.01", "3", "0.0")
    best = tmp_path / "sw" / "trials" / f"{int(rows[0]['trial']):04d}"
    log = (best / "output.log").read_text()
    assert "optim.lr=0.01 depth=3 loss=0.0000" in log
    assert (best / "hydra" / ".hydra" / "overrides.yaml").is_file()  # ${envvar:FLOWS_RUN_DIR} literal
    assert "optim.lr=0.01" in (best / "hydra" / ".hydra" / "overrides.yaml").read_text()


# --------------------------------------------------------------------------- run_cap, --count


def test_no_run_cap_runs_until_count_and_resume_keeps_the_total(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    body = ("method: random\nmetric: {name: loss}\nparameters:\n"
            "  optim.lr: {distribution: log_uniform_values, min: 1.0e-3, max: 0.1}\n")
    spec = write_spec(tmp_path, body)
    code, out, _ = sweep_main([spec, "--dry-run", "--seed", "1"], capsys)
    assert code == 0
    assert "random, trials until --count or Ctrl-C" in out and "... (no run_cap: more trials until --count N" in out
    code, out, _ = sweep_main([spec, "--sweep-dir", tmp_path / "sw", "--seed", "1", "--count", "2"], capsys)
    assert code == 0 and "2 complete, 0 failed of 2 planned" in out
    code, out, _ = sweep_main([spec, "--sweep-dir", tmp_path / "sw"], capsys)  # resume: the same total
    assert code == 0 and "all 2 trials have ended: nothing to run" in out
    code, out, _ = sweep_main([spec, "--sweep-dir", tmp_path / "sw", "--count", "3"], capsys)
    assert code == 0 and "trial 2 started" in out and "3 complete, 0 failed of 3 planned" in out
    # with a run_cap, the smaller of the two wins
    capped = write_spec(tmp_path, body.replace("method: random\n", "method: random\nrun_cap: 2\n"), name="c.yaml")
    code, out, _ = sweep_main([capped, "--dry-run", "--seed", "1", "--count", "5"], capsys)
    assert code == 0 and "random, 2 trials" in out and "  trial 1:" in out and "  trial 2:" not in out
    code, _, err = sweep_main([capped, "--count", "0"], capsys)
    assert code == 2 and err.startswith("flow_sweep: error: --count: ") and "0" in err and err.count("\n") == 1


# --------------------------------------------------------------------------- no metric

NO_METRIC = [
    pytest.param({"method": "grid"}, id="grid"),
    pytest.param({"method": "random"}, id="random"),
    pytest.param({"method": "bayes"}, id="bayes"),
    pytest.param({"method": "grid", "early_terminate": {"type": "hyperband", "min_iter": 3}}, id="grid-hyperband"),
    pytest.param({"method": "random", "early_terminate": {"type": "hyperband", "max_iter": 9, "s": 2}},
                 id="random-hyperband"),
]


def _wandb_refusal(config: dict[str, Any]) -> str | None:
    """None when W&B's sweep engine (the ``sweeps`` package) proposes a run for ``config`` and,
    with early_terminate, decides which runs to stop; else its error."""
    import sweeps

    try:
        sweeps.next_run(config, [])
        if "early_terminate" in config:
            sweeps.stop_runs(config, [])
    except ValueError as exc:
        return str(exc)
    return None


@pytest.mark.parametrize("shape", NO_METRIC)
def test_specs_without_a_metric_run_where_wandb_runs_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], shape: dict[str, Any]
) -> None:
    """W&B's validator takes every spec here. W&B's engine runs grid and random without a
    metric and refuses bayes and hyperband ('requires "metric" section'); flow_sweep plans the
    first (they run in test_sweep_no_metric.py) and refuses the others in one line, exit 2,
    with the reason docs/sweeps.md lists (test_sweep_schema.py holds the list to the page)."""
    import sweeps.config

    config = {**shape, "parameters": {"width": {"values": [4, 8]}}}
    assert list(sweeps.config.schema_violations_from_proposed_config(config)) == []
    theirs = _wandb_refusal(config)
    spec = tmp_path / "s.json"
    spec.write_text(json.dumps({"program": str(SWEEP_PROGRAM), **config}))
    code, out, err = sweep_main([spec, "--dry-run", "--count", "2"], capsys)
    if theirs is None:
        assert code == 0, err
        assert "; no metric (a trial completes when its process exits 0);" in out
    else:
        assert 'requires "metric" section' in theirs
        assert code == 2 and err.count("\n") == 1 and 'needs a metric' in err, err
        assert 'requires "metric" section' in err  # W&B's own words, quoted


# --------------------------------------------------------------------- metrics from wandb.log


def test_example_wandb_script_logs_only_with_wandb_log(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """``examples/sweep/wandb_script.yaml``: a W&B user's spec (no run_cap, no command) and a
    script that reads ``wandb.config`` and logs with ``wandb.log`` (offline, real wandb
    client). The metric comes from each trial's W&B run log; the values reach wandb.config."""
    monkeypatch.delenv("WANDB_DIR")  # the sweep then puts each trial's W&B run in its run directory
    code, out, err = sweep_main([EXAMPLES / "wandb_script.yaml", "--sweep-dir", tmp_path / "sw", "--count", "2",
                                 "--parallel", "2", "--seed", "4"], capsys)
    assert code == 0, out + err
    assert f"note: no typed checks: {EXAMPLES / 'wandb_script.py'} is not a config_utils.cli program" in out
    rows = read_csv(tmp_path / "sw" / "results.csv")
    assert [r["status"] for r in rows] == ["complete", "complete"]
    for row in rows:
        run_dir = Path(row["run_dir"])
        tm = TrialMetrics(run_dir, "val_loss")
        tm.update()
        lr, bs = float(row["lr"]), int(row["batch_size"])
        import math

        expected = [(math.log10(lr) + 2.0) ** 2 + abs(math.log2(bs) - 5) * 0.1 + 1.0 / (e + 1) for e in range(3)]
        assert [s for s, _ in tm.history()] == [0, 1, 2]  # W&B's history steps
        assert [v for _, v in tm.history()] == pytest.approx(expected)  # the values the script logged
        assert float(row["val_loss"]) == pytest.approx(expected[-1])  # the summary: the last value
        assert tm.source == "wandb"
        (log,) = (run_dir / "wandb").glob("offline-run-*/run-*.wandb")
    # followed while it is written: the log read as it grows, a few bytes at a time (records
    # cut anywhere), gives the same history as read at once
    data = log.read_bytes()
    growing = tmp_path / "growing.wandb"
    growing.write_bytes(b"")
    follower = WandbLog(growing)
    for end in range(0, len(data) + 97, 97):
        growing.write_bytes(data[:end])
        follower.read()
    whole = WandbLog(log)
    whole.read()
    assert follower.history == whole.history and follower.summary == whole.summary
    assert [v for _, v in whole.history["val_loss"]] == [v for _, v in tm.history()]


def test_hyperband_follows_the_wandb_history_of_running_trials(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Early termination driven by what a W&B script logs with ``wandb.log`` (offline, real
    wandb client): the lagging trial is stopped while it runs, from its W&B run log."""
    script = tmp_path / "wb_curves.py"
    script.write_text(
        "import math, time, wandb\n"
        "run = wandb.init(project='hb', config={'lr': 0.01, 'epochs': 16})\n"
        "for epoch in range(wandb.config.epochs):\n"
        "    time.sleep(0.25)\n"
        "    wandb.log({'loss': 0.1 + (math.log10(wandb.config.lr) + 2.0) ** 2 + 2.0 * math.exp(-epoch / 4.0)})\n"
        "run.finish()\n")
    spec = tmp_path / "s.yaml"
    spec.write_text(f"program: {script}\nmethod: grid\nmetric: {{name: loss}}\n"
                    "early_terminate: {type: hyperband, min_iter: 3, eta: 3}\n"
                    "parameters:\n  lr: {values: [0.01, 1.0]}\n")
    code, out, err = sweep_main([spec, "--sweep-dir", tmp_path / "sw", "--parallel", "2"], capsys)
    assert code == 0, out + err
    rows = {r["lr"]: r for r in read_csv(tmp_path / "sw" / "results.csv")}
    assert rows["0.01"]["status"] == "complete"
    assert rows["1.0"]["status"] == "stopped", out
    ended = re.search(r"ended at iteration (\d+)", rows["1.0"]["error"])
    assert ended is not None and 3 <= int(ended.group(1)) < 16  # stopped while it ran, not after it ended


def test_wandb_disabled_trial_says_where_the_metric_was_looked_for(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WANDB_MODE", "disabled")
    spec = tmp_path / "s.yaml"
    spec.write_text(f"program: {EXAMPLES / 'wandb_script.py'}\nmethod: grid\nmetric: {{name: val_loss}}\n"
                    "parameters:\n  lr: {value: 0.01}\n  epochs: {value: 1}\n")
    code, out, _ = sweep_main([spec, "--sweep-dir", tmp_path / "sw"], capsys)
    assert code == 1
    assert ("exited 0 but never reported 'val_loss' (call config_utils.report(...), log it with self.log in "
            "Lightning, or with wandb.log in a W&B run that is not disabled)") in out


# ------------------------------------------------------------------ hyphens, YAML 1.1 numbers


def test_hyphenated_key_resolves_to_the_field(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = write_spec(tmp_path, "method: grid\nmetric: {name: loss}\nparameters:\n"
                      "  use-bias: {values: [true, false]}\n  width: {values: [8, 12]}\n")
    code, out, err = sweep_main([spec, "--dry-run"], capsys)
    assert code == 0, err
    assert "trial 1: --use_bias=True --width=12" in out
    spec.write_text(spec.read_text().replace("[true, false]", "[true, maybe]"))
    code, _, err = sweep_main([spec, "--dry-run"], capsys)
    assert code == 2 and f"{spec}:5: parameters.use_bias.values[1]: 'maybe' is not a valid value for use_bias" in err


# ------------------------------------------------------------------------------- hyperband


def _wandb_stops(histories: dict[str, list[float]], running: set[str], et: dict[str, Any], goal: str) -> set[str]:
    from sweeps.hyperband_stopping import hyperband_stop_runs
    from sweeps.run import RunState, SweepRun

    runs = [SweepRun(name=n, state=RunState.running if n in running else RunState.finished,
                     history=[{"loss": v} for v in h]) for n, h in histories.items()]
    config = {"method": "grid", "metric": {"name": "loss", "goal": goal}, "early_terminate": et,
              "parameters": {"a": {"values": [1]}}}
    return {r.name for r in hyperband_stop_runs(runs, config)}


@pytest.mark.parametrize("et", [
    {"type": "hyperband", "min_iter": 2, "eta": 2},
    {"type": "hyperband", "min_iter": 1, "eta": 3, "strict": False},
    {"type": "hyperband", "max_iter": 9, "s": 2, "eta": 3},
    {"type": "hyperband", "max_iter": 20, "s": 3, "eta": 2.5, "strict": False},
])
@pytest.mark.parametrize("goal", ["minimize", "maximize"])
def test_hyperband_decides_as_wandbs_sweeps_package(et: dict[str, Any], goal: str, tmp_path: Path) -> None:
    """The same histories through W&B's ``hyperband_stop_runs`` and through ours: the same
    trials are stopped (random histories of random lengths, every trial counted)."""
    import random

    spec = tmp_path / "s.yaml"
    prog = tmp_path / "p.py"
    prog.write_text("")
    rng = random.Random(f"{et}/{goal}")
    for _ in range(40):
        spec.write_text(json.dumps({"program": str(prog), "method": "grid", "metric": {"name": "loss", "goal": goal},
                                    "early_terminate": et, "parameters": {"a": {"values": [1]}}}))
        rule = load_spec(spec).early_terminate
        assert isinstance(rule, Hyperband)
        histories = {f"r{i}": [round(rng.uniform(0, 10), 1) for _ in range(rng.randint(0, 25))] for i in range(8)}
        running = {n for n in histories if rng.random() < 0.6}
        thresholds = rule.thresholds(rule.reached(h) for h in histories.values())
        ours = {n for n in running if rule.verdict(histories[n], thresholds) is not None}
        assert ours == _wandb_stops(histories, running, et, goal), (histories, running)


HYPERBAND_ERRORS = [
    pytest.param("{type: hyperband, max_iter: 27}", "s.yaml:6: early_terminate: max_iter needs s (the number of bands "
                 "below max_iter)", id="max-iter-without-s"),
    pytest.param("{type: hyperband, min_iter: 3, eta: 1}", "s.yaml:6: early_terminate.eta: expected a number > 1, got 1",
                 id="eta-not-above-1"),
    pytest.param("{type: hyperband}", "s.yaml:6: early_terminate: give min_iter, or max_iter and s", id="no-iter"),
    pytest.param("{type: hyperbnd, min_iter: 3}", "s.yaml:6: early_terminate.type: expected hyperband, got 'hyperbnd'",
                 id="type"),
    pytest.param("{type: hyperband, min_iter: 3, etaa: 2}", "s.yaml:6: early_terminate: 'etaa' is not a hyperband "
                 "key (did you mean 'eta'?)", id="misspelt-key"),
    pytest.param("{type: hyperband, max_iter: 2, s: 1, eta: 3}", "s.yaml:6: early_terminate: no band is >= 1 "
                 "(increase max_iter, or decrease eta or s)", id="no-band"),
    pytest.param("{type: hyperband, min_iter: 3, eta: 3e0}", "s.yaml:6: early_terminate.eta: expected a number, "
                 "got '3e0' (YAML 1.1 reads 3e0 as text: a float needs a dot and a signed exponent; write 3.0 or "
                 "3.0e+0)", id="yaml-number"),
]


@pytest.mark.parametrize(("et", "expected"), HYPERBAND_ERRORS)
def test_bad_early_terminate_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str], et: str, expected: str) -> None:
    spec = write_spec(tmp_path, f"method: grid\nmetric: {{name: loss}}\nparameters:\n  width: {{values: [8]}}\n"
                      f"early_terminate: {et}\n")
    code, _, err = sweep_main([spec, "--dry-run"], capsys)
    assert (code, err.strip()) == (2, f"flow_sweep: error: {tmp_path}/" + expected)


def test_early_termination_needs_an_engine_that_stops_one_trial(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = write_spec(tmp_path, "method: grid\nmetric: {name: loss}\nparameters:\n  width: {values: [8]}\n"
                      "early_terminate: {type: hyperband, min_iter: 3}\n")
    code, _, err = sweep_main([spec, "--engine", "ray", "--sweep-dir", tmp_path / "sw"], capsys)
    assert (code, err.strip()) == (2, f"flow_sweep: error: {spec}:6: early_terminate: the ray engine cannot stop one "
                                   "trial; use --engine local")
    assert not (tmp_path / "sw").exists()  # refused before Ray starts or anything is written


def test_example_hyperband_stops_the_laggards(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``examples/sweep/hyperband.yaml``: trials that lag at a band are stopped (SIGTERM),
    recorded as stopped with the iteration and value they reached, never as failed; the best
    learning rate runs to the end."""
    code, out, err = sweep_main([EXAMPLES / "hyperband.yaml", "--sweep-dir", tmp_path / "sw", "--parallel", "2"], capsys)
    assert code == 0, out + err
    assert "early termination: hyperband: bands at 3, 9, 27, 81, 243, 729, ... values of the metric, eta 3, strict" in out
    rows = read_csv(tmp_path / "sw" / "results.csv")
    assert len(rows) == 9 and {r["status"] for r in rows} <= {"complete", "stopped"}
    assert (rows[0]["status"], rows[0]["lr"]) == ("complete", "0.01")
    stopped = [r for r in rows if r["status"] == "stopped"]
    assert stopped, out
    for r in stopped:
        assert r["error"].startswith("stopped early by hyperband at band ") and "; ended at iteration " in r["error"]
        reported = (Path(r["run_dir"]) / "metrics.jsonl").read_text().splitlines()
        assert r["exit"] != "0"  # ended by the stop (one that finished first would be complete)
        assert float(r["loss"]) == json.loads(reported[-1])["loss"]  # the value it reached
    assert f"{len(stopped)} stopped early, 0 failed of 9 planned" in out


@pytest.mark.slow
def test_sigkill_during_hyperband_then_resume(tmp_path: Path) -> None:
    """Kill the controller while trials run, resume: every trial ends exactly once, trials
    stopped before the kill stay stopped, and the brackets go on from the values the first
    controller kept (a trial after the resume is stopped against the first part's values)."""
    import time

    spec = tmp_path / "s.yaml"
    spec.write_text(f"program: {EXAMPLES / 'curves.py'}\nmethod: grid\nmetric: {{name: loss}}\n"
                    "early_terminate: {type: hyperband, min_iter: 3, eta: 3}\nparameters:\n"
                    "  lr: {values: [0.01, 0.03, 1.0, 0.0001, 0.1, 0.3, 0.001, 3.0, 0.0003, 10.0]}\n"
                    "  epochs: {value: 12}\n  epoch_seconds: {value: 0.1}\n")
    args = [*FLOW_SWEEP, str(spec), "--sweep-dir", str(tmp_path / "sw"), "--parallel", "2"]
    first = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=tmp_path)
    assert first.stdout is not None
    seen: list[str] = []
    deadline = time.monotonic() + 120
    for line in first.stdout:  # kill it once two trials were stopped and others run
        seen.append(line)
        if sum(" stopped after " in ln for ln in seen) >= 2 and "started" in line:
            break
        assert time.monotonic() < deadline, "".join(seen)
    first.send_signal(signal.SIGKILL)
    first.wait()
    first.stdout.close()
    stopped_before = {m.group(1) for ln in seen for m in [re.search(r"trial (\d+) stopped after ", ln)] if m}
    second = subprocess.run(args, capture_output=True, text=True, cwd=tmp_path, timeout=180)
    assert second.returncode == 0, second.stdout + second.stderr
    assert "resuming:" in second.stdout
    rows = read_csv(tmp_path / "sw" / "results.csv")
    assert sorted(int(r["trial"]) for r in rows) == list(range(10))  # none lost, none doubled
    assert {r["status"] for r in rows} <= {"complete", "stopped"}
    by = {r["trial"]: r for r in rows}
    assert all(by[n]["status"] == "stopped" and not by[n]["reruns"] for n in stopped_before)
    for n in stopped_before:  # not started again by the second controller
        assert f"trial {n} started" not in second.stdout
    later = re.findall(r"trial (\d+) stopped after ", second.stdout)
    assert later, second.stdout  # the brackets went on after the resume
    import optuna  # the band values of the trials that ended before the kill are still there

    from config_utils.sweep.state import storage_url

    meta = json.loads((tmp_path / "sw" / "sweep.json").read_text())
    study = optuna.load_study(study_name=meta["id"], storage=storage_url(meta["storage"], tmp_path / "sw"))
    for t in study.get_trials(deepcopy=False):
        if str(t.number) in stopped_before:
            assert 3 in t.intermediate_values, t.number
    for run_dir in (tmp_path / "sw" / "trials").iterdir():  # one attempt's lines per trial directory
        lines = (run_dir / "metrics.jsonl").read_text().splitlines() if (run_dir / "metrics.jsonl").exists() else []
        steps = [json.loads(ln)["_step"] for ln in lines]
        assert steps == list(range(len(steps))), run_dir
