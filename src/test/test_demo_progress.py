"""`make demo` shows training progress while the run is still going, and ends with what to try next.

Why: the demo used to hold each training run's output until the run was over (13-25 s of
silence), so its "edit ofc.ini while training" line appeared after training had finished.
The check here is the one a person makes at the terminal: a training step line is on the
screen while the training process is still alive.
"""

from __future__ import annotations

import importlib.util
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "examples" / "demo.py"
STEP_LINE = re.compile(r"^step\s+\d+\s+loss ")


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def _children(pid: int) -> list[tuple[int, str]]:
    """``(pid, command line)`` of the live child processes of ``pid`` (Linux ``/proc``)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) != pid or fields[0] == "Z":  # fields[0]: state, [1]: ppid
                continue
            cmd = (stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (OSError, IndexError, ValueError):
            continue  # the process ended while we looked
        found.append((int(stat.parent.name), cmd))
    return found


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads the process table from /proc")
def test_training_output_arrives_while_the_run_is_going(tmp_path: Path) -> None:
    env = {**os.environ, "NO_COLOR": "1"}
    env.pop("PYTHONUNBUFFERED", None)  # the demo must not rely on the caller's environment
    proc = subprocess.Popen(
        [sys.executable, str(DEMO)],
        cwd=tmp_path,  # the runs' logs/ go here
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        text=True,
        start_new_session=True,  # so the demo and its training child are stopped together
    )
    seen: list[str] = []
    alive_at_step: list[bool] = []
    first_run: list[int] = []  # pid of the demo's first training process
    stop = threading.Event()

    def watch() -> None:
        # The demo starts the next run as soon as one ends, so "some train.py is alive" proves
        # nothing; the first run's own process must be the one still going.
        while not stop.is_set() and not first_run:
            first_run.extend(pid for pid, cmd in _children(proc.pid) if "train.py" in cmd)
            time.sleep(0.02)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    timer = threading.Timer(180, lambda: os.killpg(proc.pid, signal.SIGKILL))
    timer.start()
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            seen.append(line)
            if STEP_LINE.match(line):
                # the line is on our screen: is the training run that printed it still going?
                alive_at_step.append(bool(first_run) and _alive(first_run[0]))
                break
    finally:
        stop.set()
        timer.cancel()
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()
        watcher.join(timeout=5)
    out = "".join(seen)
    assert alive_at_step, f"no training step line from the demo:\n{out}"
    assert alive_at_step[0], f"the step line arrived only after the training run had ended:\n{out}"
    # what was promised before training: where to edit while it trains
    assert "OFC file:" in out and "edit it while training" in out
    # and no false alarms before it: wandb's "anonymous setting" warning (Lightning passes
    # anonymous=None), Lightning's srun hint on machines with SLURM installed
    assert "anonymous setting" not in out and "srun" not in out, out


def test_the_demo_ends_with_what_to_try_next() -> None:
    spec = importlib.util.spec_from_file_location("flows_demo", DEMO)
    assert spec is not None and spec.loader is not None
    demo = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(demo)  # light: the demo only starts processes
    text = demo.next_steps(Path.cwd() / "logs" / "train" / "first")
    lines = [line.strip() for line in text.strip().splitlines()]
    assert lines[0] == "== what next"
    assert lines[1].startswith("source .venv/bin/activate")
    assert "--wandb-config logs/train/first" in text
    assert "ofc.ini" in text and "flow_init" in text


# ------------------------------------------------------------------------------------------
# the install before the demo: tools/pip_progress.py says what pip is installing
# ------------------------------------------------------------------------------------------
PIP_PROGRESS = ROOT / "tools" / "pip_progress.py"


def _wheel(folder: Path, name: str) -> None:
    """A minimal pure-Python wheel of distribution ``name`` 1.0 (what pip installs)."""
    import zipfile

    module = name.replace("-", "_")
    files = {
        f"{module}/__init__.py": "VALUE = 1\n",
        f"{module}-1.0.dist-info/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n",
        f"{module}-1.0.dist-info/WHEEL": "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = f"{module}-1.0.dist-info/RECORD"
    with zipfile.ZipFile(folder / f"{module}-1.0-py3-none-any.whl", "w") as whl:
        for path, text in files.items():
            whl.writestr(path, text)
        whl.writestr(record, "".join(f"{path},,\n" for path in [*files, record]))


@pytest.fixture(scope="module")
def fresh_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A new virtual environment with pip, as `make` starts from."""
    venv = tmp_path_factory.mktemp("venv") / "v"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    return venv / "bin" / "python"


@pytest.mark.slow
def test_the_install_names_each_package_as_pip_installs_it(fresh_venv: Path, tmp_path: Path) -> None:
    for name in ("demo-alpha", "demo-beta"):
        _wheel(tmp_path, name)
    done = subprocess.run(
        [str(fresh_venv), str(PIP_PROGRESS), "install", "--progress-bar", "off", "--no-index",
         "--find-links", str(tmp_path), "demo-alpha", "demo-beta"],
        capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    lines = [line.strip() for line in done.stdout.splitlines()]
    assert any(line.startswith("installing 2 packages into v/") for line in lines), lines
    installed = sorted(line for line in lines if line.startswith("installed "))
    assert installed in (
        ["installed demo-alpha (1/2)", "installed demo-beta (2/2)"],
        ["installed demo-alpha (2/2)", "installed demo-beta (1/2)"],
    ), lines
    assert subprocess.run([str(fresh_venv), "-c", "import demo_alpha, demo_beta"], timeout=60).returncode == 0


@pytest.mark.slow
def test_a_failed_install_shows_pips_error_and_its_status(fresh_venv: Path, tmp_path: Path) -> None:
    done = subprocess.run(
        [str(fresh_venv), str(PIP_PROGRESS), "install", "--no-index", "--find-links", str(tmp_path),
         "no-such-package-here"],
        capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL,
    )
    assert done.returncode != 0
    assert "ERROR: Could not find a version that satisfies the requirement no-such-package-here" in done.stdout
    assert f"pip exited with status {done.returncode}; its last lines:" in done.stderr


def test_setuptools_editable_box_becomes_one_line_saying_it_is_harmless(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The box setuptools prints for every editable install looks like a failure; it is not."""
    spec = importlib.util.spec_from_file_location("pip_progress", PIP_PROGRESS)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    progress = module.Progress(tmp_path)
    box = [
        "  /tmp/pip-build-env-x/overlay/lib/python3.11/site-packages/setuptools/command/"
        "editable_wheel.py:354: BuildBackendWarning: Editable installation.",
        "  !!",
        "  ",
        "          " + "*" * 80,
        "          Please be careful with folders in your working directory with the same",
        "          name as your package as they may take precedence during imports.",
        "          " + "*" * 80,
        "  ",
        "  !!",
        "    with strategy, WheelFile(wheel_path, \"w\") as wheel_obj:",
        "ERROR: something real",
    ]
    for line in box:
        progress.pip_line(line)
    assert capsys.readouterr().out.splitlines() == [
        "     (setuptools' 'Editable installation' warning: harmless)",
        "ERROR: something real",
    ]


def test_a_silent_training_start_is_announced_not_left_blank(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Importing torch, Lightning and W&B can take 20 s before train.py's first line; the demo
    says what it waits for instead of leaving the terminal blank (here with a 1 s limit and a
    program that is silent for 3 s, then prints)."""
    spec = importlib.util.spec_from_file_location("flows_demo_quiet", DEMO)
    assert spec is not None and spec.loader is not None
    demo = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(demo)
    slow = tmp_path / "slow_start.py"
    slow.write_text("import time\ntime.sleep(3)\nprint('run directory: logs/x')\n")
    monkeypatch.setattr(demo, "TRAIN", slow)
    monkeypatch.setattr(demo, "QUIET_LIMIT", 1.0)
    output = demo.run(["--max-steps", "1"])
    printed = capsys.readouterr().out.splitlines()
    assert output == "run directory: logs/x\n"
    waits = [line for line in printed if line.startswith("  ... starting: Python is importing torch")]
    assert waits, printed
    assert printed.index(waits[0]) < printed.index("run directory: logs/x")
