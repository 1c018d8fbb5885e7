"""flow_sweep against hostile input: specs that would cost unbounded memory or time, numbers
that are not numbers, damaged sweep state, read-only and full disks, and trials that attack
their controller through their run directory. Each case: one line naming the file (or option)
and what to do, exit status 2, never a traceback or a hang; a hostile trial fails alone.

Trials run ``src/test/sweep_once_program.py`` as real subprocesses; nothing is mocked.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from sweep_harness import FLOW_SWEEP, read_csv, sweep_main
from sweep_harness import ONCE_PROGRAM as PROGRAM

from config_utils.sweep.plan import PLAN_LIMIT, PREVIEW_LIMIT

HEAD = f"program: {PROGRAM}\nmethod: grid\nmetric: {{name: loss}}\nparameters:\n"


def spec_file(tmp_path: Path, body: str, name: str = "s.yaml") -> Path:
    path = tmp_path / name
    path.write_text(body)
    return path


def one_line_error(code: int, err: str) -> str:
    """The one ``flow_sweep: error: ...`` line of a refusal (exit status 2, nothing else)."""
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("flow_sweep: error: "), err
    return lines[0][len("flow_sweep: error: "):]


# ------------------------------------------------------------------ C: planning is bounded

ALIAS_BOMB = (
    "program: {p}\nmethod: grid\nmetric: {{name: loss}}\n"
    "a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
    "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
    "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
    "parameters:\n  x: {{values: *f}}\n"
)


@pytest.mark.parametrize(("body", "expected"), [
    pytest.param(ALIAS_BOMB.format(p=PROGRAM), "s.yaml:9: expands to more than 200000 values (YAML aliases "
                 "repeat what they name)", id="alias-bomb"),
    pytest.param(HEAD + "  x: {min: 0, max: 1000000000}\n", "s.yaml:4: parameters: the grid has "
                 f"1,000,000,001 points (more than {PLAN_LIMIT:,}); use random or bayes search with a run_cap",
                 id="int-uniform-grid-1e9"),
    pytest.param(HEAD + "  x: {distribution: q_uniform, min: 0, max: 1, q: 1.0e-12}\n  sleep: {values: [0, 1]}\n",
                 "s.yaml:4: parameters: the grid has 2,000,000,000,002 points (more than "
                 f"{PLAN_LIMIT:,}); use random or bayes search with a run_cap", id="q-uniform-tiny-q"),
    pytest.param(HEAD + "  x: {min: 0, max: 100000}\n  sleep: {min: 0, max: 100000}\n  log: {values: [a, b]}\n",
                 "s.yaml:4: parameters: the grid has 20,000,400,002 points (more than "
                 f"{PLAN_LIMIT:,}); use random or bayes search with a run_cap", id="product-of-axes"),
    pytest.param(HEAD.replace("grid", "random") + "  x: {min: 0, max: 9}\nrun_cap: 1000000000\n",
                 f"s.yaml:6: run_cap: at most {PLAN_LIMIT:,} trials per sweep, got 1,000,000,000", id="run-cap-1e9"),
])
def test_plans_are_counted_before_anything_is_built(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], body: str, expected: str
) -> None:
    """An alias bomb, a grid of 10**9 points, ``q: 1e-12`` and ``run_cap: 10**9`` used to take
    gigabytes or hang; they are refused from the spec alone, before the program is asked."""
    spec = spec_file(tmp_path, body)
    code, _, err = sweep_main([spec, "--dry-run", "--sweep-dir", tmp_path / "sw"], capsys)
    assert one_line_error(code, err) == f"{tmp_path}/{expected}"
    assert not (tmp_path / "sw").exists()


def test_dry_run_of_a_large_random_plan_lists_the_first_trials_and_counts_the_rest(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = spec_file(tmp_path, HEAD.replace("grid", "random") + "  x: {min: 0, max: 9}\nrun_cap: 5000\n")
    code, out, err = sweep_main([spec, "--dry-run", "--seed", "1"], capsys)
    assert code == 0, err
    assert sum(ln.startswith("  trial ") for ln in out.splitlines()) == PREVIEW_LIMIT
    assert f"  ... and {5000 - PREVIEW_LIMIT:,} more trials" in out


@pytest.mark.parametrize("kind", ["fifo", "dev-zero", "directory"])
def test_a_spec_path_that_is_not_a_regular_file(tmp_path: Path, capsys: pytest.CaptureFixture[str], kind: str) -> None:
    """A FIFO used to hang the reader, /dev/zero to fill the memory."""
    if kind == "fifo":
        path = tmp_path / "s.yaml"
        os.mkfifo(path)
        what = "a FIFO"
    elif kind == "dev-zero":
        path = tmp_path / "s.yaml"
        path.symlink_to("/dev/zero")
        what = "a character device"
    else:
        path = tmp_path / "s.yaml"
        path.mkdir()
        what = "a directory"
    code, _, err = sweep_main([path, "--dry-run"], capsys)
    line = one_line_error(code, err)
    assert line.startswith(f"{path}: ") and what in line, line


def test_an_oversized_spec_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = spec_file(tmp_path, HEAD + "  x: {values: [1]}\n" + "#" * (2 * 1024 * 1024) + "\n")
    line = one_line_error(*sweep_main([spec, "--dry-run"], capsys)[::2])
    assert line == f"{spec}: {spec.stat().st_size} bytes, more than the 1 MiB allowed (reading the sweep spec)"


# ------------------------------------------------------------------ F: silently accepted before


@pytest.mark.parametrize(("body", "expected"), [
    pytest.param(HEAD + "  x: {values: [1]}\n  x: {values: [2]}\n",
                 "s.yaml:6: key 'x' is given twice in one mapping (first on line 5)", id="parameter-twice"),
    pytest.param(HEAD + "  x: {values: [1]}\nmethod: random\n",
                 "s.yaml:6: key 'method' is given twice in one mapping (first on line 2)", id="method-twice"),
    pytest.param(HEAD + "  x.y: {values: [1]}\n  x:\n    parameters:\n      y: {values: [2]}\n",
                 "s.yaml:8: parameters.x.y: the same config path is given twice (dotted and in a nested "
                 "parameters block); keep one", id="dotted-and-nested"),
    pytest.param(HEAD + "  x: {values: [1, OMITTED]}\n",
                 "s.yaml:5: parameters.x.values[1]: 'OMITTED' is W&B's marker of a value left out, not a "
                 "value (the trial would silently get the default); leave the value out of the spec",
                 id="omitted-in-values"),
    pytest.param(HEAD + "  x: {values: [1]}\n  log: {value: OMITTED}\n",
                 "s.yaml:6: parameters.log.value: 'OMITTED' is W&B's marker of a value left out, not a "
                 "value (the trial would silently get the default); leave the value out of the spec",
                 id="omitted-constant"),
])
def test_silently_accepted_specs_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], body: str, expected: str
) -> None:
    spec = spec_file(tmp_path, body)
    code, _, err = sweep_main([spec, "--dry-run"], capsys)
    assert one_line_error(code, err) == f"{tmp_path}/{expected}"


def test_a_key_twice_in_a_json_spec_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = spec_file(tmp_path, '{"program": ' + json.dumps(str(PROGRAM)) + ', "method": "grid", "method": '
                     '"random", "metric": "loss", "parameters": {"x": {"values": [1]}}}', name="s.json")
    line = one_line_error(*sweep_main([spec, "--dry-run"], capsys)[::2])
    assert line == f"{spec}: key 'method' is given twice in one object"


# ------------------------------------------------------------------ G: numbers from flags


@pytest.mark.parametrize(("flag", "value", "expected"), [
    ("--timeout", "nan", "--timeout: expected a number above 0 to 1000000000 (seconds), got 'nan'"),
    ("--timeout", "inf", "--timeout: expected a number above 0 to 1000000000 (seconds), got 'inf'"),
    ("--timeout", "0", "--timeout: expected a number above 0 to 1000000000 (seconds), got '0'"),
    ("--cpus-per-trial", "nan", "--cpus-per-trial: expected a number from 0 to 10000, got 'nan'"),
    ("--gpus-per-trial", "nan", "--gpus-per-trial: expected a number from 0 to 10000, got 'nan'"),
    ("--gpus-per-trial", "-1", "--gpus-per-trial: expected a number from 0 to 10000, got '-1'"),
    ("--seed", "10**30", "--seed: expected a whole number from 0 to 4294967295, got '10**30'"),
    ("--seed", "1" + "0" * 30, "--seed: expected a whole number from 0 to 4294967295, got '1" + "0" * 30 + "'"),
    ("--seed", "-5", "--seed: expected a whole number from 0 to 4294967295, got '-5'"),
    ("--seed", "1.5", "--seed: expected a whole number from 0 to 4294967295, got '1.5'"),
    ("--parallel", "0", "--parallel: expected a whole number from 1 to 10000, got '0'"),
    ("--count", "1e309", f"--count: expected a whole number from 1 to {PLAN_LIMIT}, got '1e309'"),
])
def test_numbers_from_flags_are_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], flag: str, value: str, expected: str
) -> None:
    spec = spec_file(tmp_path, HEAD.replace("grid", "bayes") + "  x: {min: 0, max: 9}\nrun_cap: 3\n")
    code, _, err = sweep_main([spec, flag, value, "--sweep-dir", tmp_path / "sw"], capsys)
    assert one_line_error(code, err) == expected
    assert not (tmp_path / "sw").exists()


def test_a_seed_from_the_api_is_checked_too(tmp_path: Path) -> None:
    import config_utils

    spec = spec_file(tmp_path, HEAD.replace("grid", "bayes") + "  x: {min: 0, max: 9}\nrun_cap: 3\n")
    with pytest.raises(config_utils.ConfigError, match=r"^--seed: expected a whole number from 0 to 4294967295, got '-5'$"):
        config_utils.sweep.run(spec, seed=-5, dry_run=True, sweep_dir=tmp_path / "sw")


# ------------------------------------------------------------------ G: damaged sweep state


@pytest.fixture(scope="module")
def finished_sweep(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A finished one-trial sweep, copied by each test that damages it."""
    root = tmp_path_factory.mktemp("finished")
    spec = spec_file(root, HEAD + "  x: {values: [1]}\n")
    proc = subprocess.run([*FLOW_SWEEP, str(spec), "--sweep-dir", str(root / "sw")], capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return root


@pytest.fixture
def damaged(finished_sweep: Path, tmp_path: Path) -> Iterator[tuple[Path, Path]]:
    """``(spec, sweep_dir)``: a copy of the finished sweep to damage (a copied sweep directory
    resumes: its storage is relative to it)."""
    spec = shutil.copy(finished_sweep / "s.yaml", tmp_path / "s.yaml")
    sweep_dir = tmp_path / "sw"
    shutil.copytree(finished_sweep / "sw", sweep_dir)
    yield Path(spec), sweep_dir


def test_a_copied_sweep_directory_resumes(damaged: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    spec, sweep_dir = damaged
    code, out, err = sweep_main([spec, "--sweep-dir", sweep_dir], capsys)
    assert code == 0, err
    assert "all 1 trials have ended: nothing to run" in out


def _edit_sweep_json(sweep_dir: Path, **changes: object) -> None:
    meta = json.loads((sweep_dir / "sweep.json").read_text())
    for key, value in changes.items():
        if value is None:
            meta.pop(key)
        else:
            meta[key] = value
    (sweep_dir / "sweep.json").write_text(json.dumps(meta))


RESTORE = "restore it from a copy, or start a new sweep with another --sweep-dir"


@pytest.mark.parametrize(("damage", "expected"), [
    pytest.param({"seed": "abc"}, "sweep.json: seed: expected a whole number from 0 to 4294967295, got 'abc'",
                 id="seed-abc"),
    pytest.param({"seed": 10**30}, "sweep.json: seed: expected a whole number from 0 to 4294967295, got "
                 "1000000000000000000000000000000", id="seed-huge"),
    pytest.param({"id": None}, "sweep.json: id: expected the sweep's id (letters, digits, '-', '_', '.'), "
                 "it is missing", id="no-id"),
    pytest.param({"id": "../../etc"}, "sweep.json: id: expected the sweep's id (letters, digits, '-', '_', "
                 "'.'), got '../../etc'", id="id-path"),
    pytest.param({"planned": -3}, "sweep.json: planned: expected a positive whole number or null, got -3",
                 id="planned-negative"),
])
def test_a_damaged_sweep_file_is_one_line(
    damaged: tuple[Path, Path], capsys: pytest.CaptureFixture[str], damage: dict[str, object], expected: str
) -> None:
    spec, sweep_dir = damaged
    _edit_sweep_json(sweep_dir, **damage)
    line = one_line_error(*sweep_main([spec, "--sweep-dir", sweep_dir], capsys)[::2])
    assert line == f"{sweep_dir}/{expected}; {RESTORE}"


def test_a_sweep_file_that_is_not_json_or_not_a_file(damaged: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    spec, sweep_dir = damaged
    (sweep_dir / "sweep.json").write_text('{"format": "flows-workspace/sweep", "id": ')
    line = one_line_error(*sweep_main([spec, "--sweep-dir", sweep_dir], capsys)[::2])
    assert line.startswith(f"{sweep_dir}/sweep.json:1: not valid JSON: ") and line.endswith(RESTORE)
    (sweep_dir / "sweep.json").unlink()
    os.mkfifo(sweep_dir / "sweep.json")
    line = one_line_error(*sweep_main([spec, "--sweep-dir", sweep_dir], capsys)[::2])
    assert line == f"{sweep_dir}/sweep.json: is a FIFO, not a regular file; {RESTORE}"


@pytest.mark.parametrize(("how", "problem"), [
    ("garbage", "file is not a database"),
    ("truncated", "database disk image is malformed"),
])
def test_a_damaged_optuna_database_is_one_line(
    damaged: tuple[Path, Path], capsys: pytest.CaptureFixture[str], how: str, problem: str
) -> None:
    spec, sweep_dir = damaged
    db = sweep_dir / "optuna.db"
    for extra in ("optuna.db-wal", "optuna.db-shm"):
        (sweep_dir / extra).unlink(missing_ok=True)
    if how == "garbage":
        db.write_bytes(b"not a database at all\n" * 100)
    else:
        db.write_bytes(db.read_bytes()[:5000])
    line = one_line_error(*sweep_main([spec, "--sweep-dir", sweep_dir], capsys)[::2])
    assert line == f"{db}: not a usable Optuna storage ({problem}); {RESTORE}"


def test_a_sweep_file_pointing_at_another_sweeps_storage(
    damaged: tuple[Path, Path], finished_sweep: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec, sweep_dir = damaged
    other = finished_sweep / "sw" / "optuna.db"
    _edit_sweep_json(sweep_dir, storage=f"sqlite:///{other}")
    line = one_line_error(*sweep_main([spec, "--sweep-dir", sweep_dir], capsys)[::2])
    assert line == (f"{sweep_dir}/sweep.json: storage: {other} is another sweep's database, not this "
                    f"directory's optuna.db; {RESTORE}")
    # an id that its storage does not hold: never a new, empty study (every trial would run again)
    _edit_sweep_json(sweep_dir, storage="sqlite:///optuna.db", id="someone-else-123")
    line = one_line_error(*sweep_main([spec, "--sweep-dir", sweep_dir], capsys)[::2])
    assert line == (f"{sweep_dir}/sweep.json: storage: {sweep_dir}/optuna.db holds no sweep someone-else-123 "
                    f"(it belongs to another sweep, or was replaced); {RESTORE}")
    (sweep_dir / "optuna.db").unlink()
    _edit_sweep_json(sweep_dir, id=json.loads((finished_sweep / "sw" / "sweep.json").read_text())["id"])
    line = one_line_error(*sweep_main([spec, "--sweep-dir", sweep_dir], capsys)[::2])
    assert line == (f"{sweep_dir}/sweep.json: storage: the database {sweep_dir}/optuna.db does not exist "
                    f"(moved or deleted?); {RESTORE}")
    assert not (sweep_dir / "optuna.db").exists()  # not created in place of the lost one


# ------------------------------------------------------------------ G: read-only and full disks


@pytest.fixture
def tmpfs(tmp_path: Path) -> Iterator[Path]:
    """A small tmpfs mounted here (root only: skipped elsewhere), unmounted after the test."""
    mount = tmp_path / "mnt"
    mount.mkdir()
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a tmpfs needs root")
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount)], capture_output=True)
    if proc.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {proc.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_a_read_only_sweep_directory_fresh_and_on_resume(
    tmpfs: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = spec_file(tmp_path, HEAD + "  x: {values: [1]}\n")
    # in a process of its own: this one would keep the database open, and a remount wait for it
    proc = subprocess.run([*FLOW_SWEEP, str(spec), "--sweep-dir", str(tmpfs / "sw")], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    subprocess.run(["mount", "-o", "remount,ro", str(tmpfs)], check=True)
    line = one_line_error(*sweep_main([spec, "--sweep-dir", tmpfs / "sw"], capsys)[::2])
    assert line == (f"{tmpfs}/sw: cannot write in the sweep directory (Read-only file system); make it "
                    "writable, or choose another --sweep-dir")
    line = one_line_error(*sweep_main([spec, "--sweep-dir", tmpfs / "new"], capsys)[::2])
    assert line == f"{tmpfs}/new: cannot create the sweep directory (Read-only file system); choose another --sweep-dir"


def test_a_full_disk_is_one_line_and_the_sweep_resumes_after(
    tmpfs: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = spec_file(tmp_path, HEAD + "  x: {values: [1, 2]}\n")
    filler = tmpfs / "filler"
    _fill(filler)
    line = one_line_error(*sweep_main([spec, "--sweep-dir", tmpfs / "sw"], capsys)[::2])
    assert line.startswith(f"{tmpfs}/sw") and "free some space, then run the same command again" in line, line
    filler.unlink()
    code, out, err = sweep_main([spec, "--sweep-dir", tmpfs / "sw"], capsys)
    assert code == 0, out + err
    assert [r["status"] for r in read_csv(tmpfs / "sw" / "results.csv")] == ["complete", "complete"]


def _fill(path: Path) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT)
    try:  # to the last byte
        while True:
            os.write(fd, b"\0" * 4096)
    except OSError:
        pass
    finally:
        os.close(fd)


def test_a_disk_that_fills_while_the_sweep_runs(tmpfs: Path, tmp_path: Path) -> None:
    """The controller stops with one line when the storage cannot be written; nothing is lost:
    after space is freed the same command runs the trial that was cut short again, saying why."""
    gate = tmp_path / "gate"
    gate.mkdir()
    spec = spec_file(tmp_path, HEAD + f"  x: {{values: [0, 1]}}\n  gate: {{value: '{gate}'}}\n  gated: {{value: [0]}}\n")
    args = [*FLOW_SWEEP, str(spec), "--sweep-dir", str(tmpfs / "sw"), "--parallel", "1"]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        for line in proc.stdout:  # trial 0 waits at its gate
            if "trial 0 started" in line:
                break
        _fill(tmpfs / "filler")
        (gate / "0").touch()
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 2, err
    line = err.strip()  # the storage or the next trial's directory, whichever meets it first
    assert "\n" not in line and line.startswith(f"flow_sweep: error: {tmpfs}/sw/"), err
    assert "the disk is full (" in line and line.endswith("free some space, then run the same command again to resume")
    (tmpfs / "filler").unlink()
    again = subprocess.run(args, capture_output=True, text=True, timeout=120)
    assert again.returncode == 0, again.stdout + again.stderr
    rows = {r["trial"]: r for r in read_csv(tmpfs / "sw" / "results.csv")}
    assert [rows[n]["status"] for n in ("0", "1")] == ["complete", "complete"]
    assert rows["0"]["reruns"].startswith("the sweep process ended while it ran, and the trial did not finish")


# ------------------------------------------------------------------ D: hostile trials


def test_hostile_trials_fail_alone_and_the_sweep_stays_resumable(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Trials that replace metrics.jsonl with a FIFO (the controller used to hang), link it to
    /dev/zero (2.6 GB read), write a 400-digit number (OverflowError: the sweep could never be
    resumed), print a 50 MB last line, report 5,000 metrics, or turn output.log into a FIFO."""
    spec = spec_file(tmp_path, HEAD + "  x: {values: [1]}\n  hostile: {values: [fifo, zero, huge-int, "
                     "long-line, many-metrics, output-fifo, '']}\n")
    sweep_dir = tmp_path / "sw"
    code, out, err = sweep_main([spec, "--sweep-dir", sweep_dir, "--parallel", "2", "--timeout", "60"], capsys)
    assert code == 0, out + err
    rows = {r["hostile"]: r for r in read_csv(sweep_dir / "results.csv")}
    assert rows[""]["status"] == rows["many-metrics"]["status"] == rows["output-fifo"]["status"] == "complete"
    for kind in ("fifo", "zero", "huge-int"):
        assert rows[kind]["status"] == "failed"
        assert rows[kind]["error"].startswith("exited 0 but never reported 'loss'"), rows[kind]
    long = rows["long-line"]
    assert long["status"] == "failed" and long["exit"] == "1"
    assert long["error"].startswith("exit status 1: xxxx") and long["error"].endswith(" more characters)")
    assert len(long["error"]) <= 2000
    assert max(len(cell) for r in rows.values() for cell in r.values()) <= 10_000
    assert (sweep_dir / "results.csv").stat().st_size < 50_000
    # what the study keeps of a trial is bounded too
    import optuna

    meta = json.loads((sweep_dir / "sweep.json").read_text())
    study = optuna.load_study(study_name=meta["id"], storage=f"sqlite:///{sweep_dir / 'optuna.db'}")
    for t in study.get_trials():
        assert len(json.dumps(t.user_attrs)) < 10_000, t.number
    # and the sweep resumes: nothing to run, the same table
    code, out, err = sweep_main([spec, "--sweep-dir", sweep_dir], capsys)
    assert code == 0, out + err
    assert "all 7 trials have ended: nothing to run" in out
