"""Every planned trial ends exactly once: a controller SIGKILLed mid-sweep (once or several
times, at any moment) and resumed never runs a trial again that had run; a trial still running
is adopted and waited for, one that ended unseen is recorded from its run directory, and two
controllers resuming one directory at once never both run it. Also the planning sizes, as
properties.

Trials run ``src/test/sweep_once_program.py`` as real subprocesses (their own sessions, so they
outlive a killed controller, as they would for a user); nothing is mocked.
"""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sweep_harness import FLOW_SWEEP, alive, read_csv, wait_for, write_spec
from sweep_harness import ONCE_PROGRAM as PROGRAM
from trial_marks import marks

from config_utils.sweep.plan import PLAN_LIMIT, grid_size, grid_value, vet_spec
from config_utils.sweep.spec import Param, Spec, SpecError
from config_utils.sweep.state import read_exit_record, trial_dir


def gated_sweep(tmp_path: Path, trials: int = 6, gated: tuple[int, ...] = (1, 3)) -> tuple[list[str], Path, Path]:
    """A grid sweep whose trials in ``gated`` wait for ``GATE/N``: ``(flow_sweep argv, log, gate dir)``."""
    log, gate = tmp_path / "marks.log", tmp_path / "gate"
    gate.mkdir()
    spec = write_spec(tmp_path, "method: grid\nmetric: {name: loss}\nparameters:\n"
                      f"  x: {{values: {list(range(trials))}}}\n  log: {{value: '{log}'}}\n"
                      f"  gate: {{value: '{gate}'}}\n  gated: {{value: {list(gated)}}}\n", program=PROGRAM)
    return [*FLOW_SWEEP, str(spec), "--sweep-dir", str(tmp_path / "sw"), "--parallel", "2"], log, gate


def kill_while_gated(args: list[str], log: Path, cwd: Path) -> None:
    """Run the sweep until trials 1 and 3 are running (waiting at their gates), then SIGKILL
    the controller: 0 and 2 have ended, 1 and 3 are orphans that outlive it."""
    first = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=cwd)
    try:
        wait_for(lambda: {"1", "3"} <= set(marks(log)[0]))
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait()


@pytest.mark.slow
def test_sigkill_then_two_resumes_at_once_adopt_orphans_and_never_run_a_trial_twice(tmp_path: Path) -> None:
    """After the controller is SIGKILLed, trial 1 ends while no controller runs and trial 3 is
    still running. Two controllers then resume the directory at once: the second is refused in
    one line (exit 2) while the first runs; the first records 1 from its run directory, waits
    for 3, runs only 4 and 5, and every trial ends exactly once."""
    args, log, gate = gated_sweep(tmp_path)
    kill_while_gated(args, log, tmp_path)
    starts, ends = marks(log)
    assert sorted(ends) == ["0", "2"]
    orphan3 = starts["3"][-1]
    (gate / "1").touch()  # trial 1 ends unseen
    wait_for(lambda: "1" in marks(log)[1])
    both = [subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path)
            for _ in range(2)]
    try:
        wait_for(lambda: any(p.poll() is not None for p in both))  # the loser: trial 3 is gated
        loser = next(p for p in both if p.poll() is not None)
        winner = next(p for p in both if p is not loser)
        _, err = loser.communicate()
        assert loser.returncode == 2, err
        sweep_id = json.loads((tmp_path / "sw" / "sweep.json").read_text())["id"]
        assert err.strip() == (f"flow_sweep: error: {tmp_path}/sw: another flow_sweep is running sweep "
                               f"{sweep_id} here (it holds .lock); wait for it to end, or stop it with Ctrl-C")
        assert winner.stdout is not None
        lines = []
        for line in winner.stdout:  # the winner may still be between its lock and its resume
            lines.append(line)
            if "resuming:" in line:
                break
        assert alive(orphan3)  # adopted by the winner, not killed
        (gate / "3").touch()
        rest, err = winner.communicate(timeout=120)
        text = "".join(lines) + rest
        assert winner.returncode == 0, text + err
    finally:
        for p in both:
            if p.poll() is None:
                p.kill()
                p.communicate()
    assert "resuming: 2 of 6 trials already ended; 0 were running and run again; 2 adopted" in text
    assert "(re-run)" not in text and "trial 1 started" not in text and "trial 3 started" not in text
    starts, ends = marks(log)
    assert ends == {str(n): 1 for n in range(6)}, ends
    assert {n: len(pids) for n, pids in starts.items()} == {str(n): 1 for n in range(6)}
    rows = {r["trial"]: r for r in read_csv(tmp_path / "sw" / "results.csv")}
    assert [rows[str(n)]["status"] for n in range(6)] == ["complete"] * 6
    assert rows["1"]["adopted"] == ("ended while no sweep process ran: exit status and metrics taken from "
                                    "its run directory")
    assert rows["3"]["adopted"] == "still running when the sweep resumed: waited for, not run again"
    assert rows["1"]["loss"] == "1.0" and rows["3"]["loss"] == "3.0"
    assert not any(r["reruns"] for r in rows.values())
    assert not list((tmp_path / "sw" / "trials").glob("*.attempt-*"))


@pytest.fixture(scope="module")
def grid_plan(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """A checked plan of three grid trials (the program asked once for the module)."""
    from config_utils.sweep.check import check_spec
    from config_utils.sweep.plan import make_plan
    from config_utils.sweep.spec import load_spec

    root = tmp_path_factory.mktemp("plan")
    spec_path = write_spec(root, "method: grid\nmetric: {name: loss}\nparameters:\n  x: {values: [0, 1, 2]}\n",
                           program=PROGRAM)
    spec = load_spec(spec_path, cwd=root)
    return make_plan(check_spec(spec, cwd=root), seed=1)


def test_recover_settles_what_a_dead_controller_left(tmp_path: Path, grid_plan: Any) -> None:
    """A recorded trial whose exit record the trial itself garbled runs again, saying why; a
    trial started and never recorded (the controller died between starting it and writing it
    down) that ended is adopted from its run directory and counted, not started again."""
    from config_utils.sweep.engines.local import LocalEngine
    from config_utils.sweep.state import SweepState

    plan = grid_plan
    sweep_dir = tmp_path / "sw"
    state = SweepState.open(sweep_dir, plan)
    first = state.next_trial()
    state.started(first, {"pid": None})
    first.run_dir.mkdir(parents=True)
    (first.run_dir / "exit.json").write_text("garbage")
    second = trial_dir(sweep_dir, 1)
    second.mkdir(parents=True)
    (second / "exit.json").write_text('{"exit": 0}\n')
    (second / "metrics.jsonl").write_text('{"loss": 1.0}\n')
    state.close()

    state = SweepState.open(sweep_dir, plan)
    try:
        again = state.recover()
        assert [s.number for s in again] == [0]
        assert again[0].rerun == (f"the sweep process ended while it ran, and the trial did not finish "
                                  f"({first.run_dir}/exit.json:1: not valid JSON: Expecting value (column 1))")
        assert (sweep_dir / "trials" / "0000.attempt-1" / "exit.json").exists()  # kept, moved aside
        assert set(state.orphans) == {1} and state.orphans[1].pgid is None
        assert state.created == 2 and state.remaining_to_ask() == 1  # trial 1 is in the study now
        engine = state.adopting(LocalEngine(1), None)
        assert engine.free_slots() == 0
        outcomes = engine.poll(0)
        assert [(o.number, o.exit_code, o.error) for o in outcomes] == [(1, 0, None)]
        assert not state.orphans and engine.free_slots() == 1
    finally:
        state.close()


def test_an_adopted_trial_keeps_its_slot_and_its_gpus_until_it_ends(tmp_path: Path, grid_plan: Any) -> None:
    """A trial still running when the controller died holds its GPU: the resumed engine hands
    it to no other trial, and gets it back when the adopted trial ends (its exit recorded)."""
    from config_utils.sweep.engines.local import LocalEngine
    from config_utils.sweep.state import SweepState, trial_command

    sweep_dir = tmp_path / "sw"
    state = SweepState.open(sweep_dir, grid_plan)
    st = state.next_trial()
    st.run_dir.mkdir(parents=True)
    gate = tmp_path / "gate"
    waits = f"import pathlib, time\nwhile not pathlib.Path({str(gate)!r}).exists(): time.sleep(0.02)\n"
    env = {**os.environ, "FLOWS_SWEEP_TRIAL": f"{state.id}/trial:{st.number}", "FLOWS_RUN_DIR": str(st.run_dir)}
    proc = subprocess.Popen(trial_command([sys.executable, "-S", "-c", waits]), env=env, start_new_session=True)
    try:
        state.started(st, {"pid": proc.pid, "pgid": proc.pid, "gpus": ["1"]})
        state.close()  # the controller is gone; its trial runs on

        state = SweepState.open(sweep_dir, grid_plan)
        assert state.recover() == [] and state.orphans[0].pgid == proc.pid
        engine = state.adopting(LocalEngine(2, ["0", "1"], 1), None)
        assert engine.free_slots() == 1 and engine.inner.gpus_free == ["0"]
        assert engine.poll(0) == []  # still running
        gate.touch()
        outcomes: list[Any] = []
        wait_for(lambda: bool(outcomes.extend(engine.poll(0.5)) or outcomes))
        assert [(o.number, o.exit_code, o.error) for o in outcomes] == [(0, 0, None)]
        assert sorted(engine.inner.gpus_free) == ["0", "1"] and engine.free_slots() == 2
        assert read_exit_record(st.run_dir) == (0, "")
    finally:
        state.close()
        if proc.poll() is None:
            proc.kill()
        proc.wait()


def _orphan(tmp_path: Path, grid_plan: Any) -> tuple[Any, subprocess.Popen[bytes]]:
    """Trial 0 of a sweep whose controller is gone, still running (it never ends by itself):
    ``(the sweep directory reopened, the trial's process)``."""
    from config_utils.sweep.state import SweepState, trial_command

    sweep_dir = tmp_path / "sw"
    state = SweepState.open(sweep_dir, grid_plan)
    st = state.next_trial()
    st.run_dir.mkdir(parents=True)
    env = {**os.environ, "FLOWS_SWEEP_TRIAL": f"{state.id}/trial:{st.number}", "FLOWS_RUN_DIR": str(st.run_dir)}
    proc = subprocess.Popen(trial_command([sys.executable, "-S", "-c", "import time; time.sleep(120)"]), env=env,
                            start_new_session=True)
    state.started(st, {"pid": proc.pid, "pgid": proc.pid})
    state.close()
    return SweepState.open(sweep_dir, grid_plan), proc


def test_an_adopted_trial_times_out_from_its_real_start_and_stops_on_ctrl_c(tmp_path: Path, grid_plan: Any) -> None:
    from config_utils.sweep.engines.local import LocalEngine

    state, proc = _orphan(tmp_path / "a", grid_plan)
    try:
        assert state.recover() == []
        engine = state.adopting(LocalEngine(1), timeout=1.0)  # counted from its start, not from now
        outcomes: list[Any] = []
        wait_for(lambda: bool(outcomes.extend(engine.poll(0.5)) or outcomes), timeout=30)
        assert [(o.number, o.timed_out, o.exit_code) for o in outcomes] == [(0, True, None)]
        assert proc.wait(timeout=10) is not None  # killed with its process group
    finally:
        state.close()
        if proc.poll() is None:
            proc.kill()
    # Ctrl-C while an adopted trial runs: stopped with the rest, and run again on resume
    state, proc = _orphan(tmp_path / "b", grid_plan)
    try:
        assert state.recover() == []
        engine = state.adopting(LocalEngine(1), None)
        running = engine.running()
        assert running == [0]
        engine.stop()
        state.interrupted(running)
        assert proc.wait(timeout=10) is not None and not state.orphans
        state.close()
        state = type(state).open(tmp_path / "b" / "sw", grid_plan)
        again = state.recover()
        assert [(s.number, s.rerun) for s in again] == [(0, "interrupted (Ctrl-C)")]
    finally:
        state.close()
        if proc.poll() is None:
            proc.kill()


@pytest.mark.parametrize(("text", "expected"), [
    ('{"exit": 0}\n', (0, "")),
    ('{"exit": 3}', (3, "")),
    ('{"exit": 137}', (-9, "")),  # the wrapper saw the program die of SIGKILL
    ('{"exit": true}', (None, "not an exit record")),
    ('{"exit": ' + "9" * 400 + "}", (None, "not an exit record")),
    ("[1, 2]", (None, "not an exit record")),
])
def test_exit_records_are_data(tmp_path: Path, text: str, expected: tuple[int | None, str]) -> None:
    (tmp_path / "exit.json").write_text(text)
    code, problem = read_exit_record(tmp_path)
    assert (code, problem.rpartition(": ")[2]) == expected
    assert read_exit_record(tmp_path / "nowhere") == (None, "")
    (tmp_path / "exit.json").unlink()
    os.mkfifo(tmp_path / "exit.json")  # never blocks
    assert read_exit_record(tmp_path) == (None, f"{tmp_path}/exit.json: is a FIFO, not a regular file")


# ------------------------------------------------------------------ properties


@pytest.mark.slow
@settings(max_examples=3, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(kills=st.lists(st.tuples(st.integers(0, 4), st.integers(0, 300)), min_size=1, max_size=2))
def test_every_planned_trial_ends_exactly_once_under_sigkill_at_random_moments(
    tmp_path_factory: pytest.TempPathFactory, kills: list[tuple[int, int]]
) -> None:
    """Each kill comes after the trials started so far plus ``k`` more (k = 0: during the
    checks or right after a resume), and ``ms`` milliseconds: any moment of the controller's
    life, between a trial's start and its record too. Then one run to the end."""
    root = tmp_path_factory.mktemp("sigkill")
    log = root / "marks.log"
    spec = write_spec(root, "method: grid\nmetric: {name: loss}\nparameters:\n"
                      f"  x: {{values: [0, 1, 2, 3]}}\n  sleep: {{value: 0.1}}\n  log: {{value: '{log}'}}\n",
                      program=PROGRAM)
    args = [*FLOW_SWEEP, str(spec), "--sweep-dir", str(root / "sw"), "--parallel", "2"]
    for more, ms in kills:
        goal = sum(len(p) for p in marks(log)[0].values()) + more
        proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=root)

        def reached(proc: subprocess.Popen[bytes] = proc, goal: int = goal) -> bool:
            return sum(len(p) for p in marks(log)[0].values()) >= goal or proc.poll() is not None

        try:
            wait_for(reached)
            time.sleep(ms / 1000)  # the random moment itself
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
    final = subprocess.run(args, capture_output=True, text=True, cwd=root, timeout=180)
    assert final.returncode == 0, final.stdout + final.stderr
    starts, ends = marks(log)
    assert ends == {str(n): 1 for n in range(4)}, (kills, ends)
    assert all(len(pids) == 1 for pids in starts.values()), (kills, starts)
    rows = read_csv(root / "sw" / "results.csv")
    assert sorted(int(r["trial"]) for r in rows) == [0, 1, 2, 3]
    assert all(r["status"] == "complete" for r in rows), rows


def _param(draw: st.DrawFn) -> Param:
    kind = draw(st.sampled_from(["constant", "categorical", "int_uniform", "q_uniform"]))
    if kind == "constant":
        return Param("k", "constant", value=draw(st.integers()))
    if kind == "categorical":
        return Param("k", "categorical", values=tuple(draw(st.lists(st.integers(), min_size=1, max_size=30))))
    lo = draw(st.integers(-10**6, 10**6))
    if kind == "int_uniform":
        return Param("k", "int_uniform", min=lo, max=lo + draw(st.integers(1, 3000)))
    q = draw(st.sampled_from([1, 2, 0.5, 0.1, 0.25, 3, 1e-3]))
    span = draw(st.floats(0.001, 2000, allow_nan=False))
    return Param("k", "q_uniform", min=float(lo), max=float(lo) + span, q=q)


params = st.composite(_param)


@settings(max_examples=300, deadline=None)
@given(p=params())
def test_grid_size_is_the_length_of_the_grid_without_building_it(p: Param) -> None:
    if grid_size(p) > 20_000:  # tiny q over a wide range: counted, and too large to build here
        return
    values = p.grid_values()
    assert grid_size(p) == len(values)
    for i in {0, len(values) // 2, len(values) - 1}:
        assert grid_value(p, i) == values[i]


@settings(max_examples=300, deadline=None)
@given(sizes=st.lists(st.integers(1, 10**12), min_size=1, max_size=6), random_search=st.booleans(),
       run_cap=st.one_of(st.none(), st.integers(1, 10**10)))
def test_a_plan_is_refused_exactly_when_it_is_larger_than_the_limit(
    sizes: list[int], random_search: bool, run_cap: int | None
) -> None:
    """Counting is a product of integers, never a list: 10**12 values per key cost nothing."""
    specs = {f"k{i}": Param(f"k{i}", "int_uniform", min=0, max=n - 1) if n > 1 else Param(f"k{i}", "constant", value=0)
             for i, n in enumerate(sizes)}
    spec = Spec(path=Path("s.yaml"), program="p.py", program_path=None, method="random" if random_search else "grid",
                metric="loss", goal="minimize", params=specs, run_cap=run_cap)
    too_many = (run_cap is not None and run_cap > PLAN_LIMIT) or (not random_search and math.prod(sizes) > PLAN_LIMIT)
    if too_many:
        with pytest.raises(SpecError):
            vet_spec(spec)
    else:
        vet_spec(spec)
