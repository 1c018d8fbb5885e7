"""`make demo`: the whole mission in one minute.

1. trains ``examples/train.py`` (Lightning on CPU, W&B offline, OFC on);
2. re-creates that run from its run record with one override
   (``--wandb-config <run dir> --optim.lr 0.003``) and trains it too;
3. prints ``--print-config`` of the second run, so the layers and the provenance of every
   value are visible, and the difference between the two run records (only the override);
4. ends with what to try next.

Each training run's output is shown as it happens (a line every ``log_every`` steps), not
when the run is over: the run prints where its OFC file is while there is still time to edit
it. The child runs with ``PYTHONUNBUFFERED=1`` because Python buffers a pipe's output.
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO

HERE = Path(__file__).resolve().parent
TRAIN = HERE / "train.py"


QUIET_LIMIT = 10.0  # seconds without a line before the demo says what it is waiting for


def run(args: list[str], note: str = "") -> str:
    """Run ``train.py`` with ``args``, echoing its output line by line as it comes; return it all.

    While the run prints nothing for QUIET_LIMIT seconds (importing torch, Lightning and W&B on
    a busy machine takes 10-20 s before the first line), the demo says what it is waiting for,
    so the terminal is never silent long enough to look hung.
    """
    print(f"\n$ python examples/train.py {' '.join(args)}", flush=True)
    if note:
        print(f"  ({note})", flush=True)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    start = time.monotonic()
    lines: list[str] = []
    with subprocess.Popen(
        [sys.executable, str(TRAIN), *args],
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        env=env,
        bufsize=1,
    ) as proc:
        assert proc.stdout is not None
        incoming: queue.Queue[str | None] = queue.Queue()
        reader = threading.Thread(target=_pump, args=(proc.stdout, incoming), daemon=True)
        reader.start()
        last = time.monotonic()
        while True:
            try:
                line = incoming.get(timeout=1.0)
            except queue.Empty:
                if time.monotonic() - last >= QUIET_LIMIT:
                    doing = "still running" if lines else "starting: Python is importing torch, Lightning and W&B"
                    print(f"  ... {doing} ({time.monotonic() - start:.0f} s)", flush=True)
                    last = time.monotonic()
                continue
            if line is None:
                break
            lines.append(line)
            print(line, end="", flush=True)
            last = time.monotonic()
        status = proc.wait()
        reader.join()
    if status != 0:
        raise SystemExit(f"demo: train.py exited with status {status}")
    print(f"  ({time.monotonic() - start:.1f} s)", flush=True)
    return "".join(lines)


def _pump(stream: IO[str], into: queue.Queue[str | None]) -> None:
    """Hand the child's lines over as they come; None when it closed its output."""
    for line in stream:
        into.put(line)
    into.put(None)


def run_dir_of(output: str) -> Path:
    for line in output.splitlines():
        if line.startswith("run directory:"):
            return Path(line.split(":", 1)[1].strip())
    raise SystemExit("demo: train.py did not print its run directory")


STARTUP_NOTE = "loading torch, Lightning and W&B takes a few seconds before the first step"


def next_steps(first_run: Path) -> str:
    """What to try after the demo; the first command is the one people miss."""
    try:
        shown = first_run.relative_to(Path.cwd())
    except ValueError:
        shown = first_run
    return f"""
== what next
   source .venv/bin/activate     # python, flow_init and flow_create from .venv (the system
                                 # python3 cannot import config_utils); `deactivate` to leave
   python examples/train.py --help
   python examples/train.py --max-steps 20000 --log-every 1000 --run-name steer-me
       # about a minute: meanwhile edit logs/train/steer-me/ofc.ini (optim.lr, loss.lam, log_every)
   python examples/train.py --wandb-config {shown} --loss.lam 0.5 --print-config
   flow_init && flow_create --name exp1      # a workspace of your own (docs/workspaces.md)
   make docs                                 # the documentation site, in site/index.html;
                                             # start with docs/getting-started.md"""


def flat(d: dict, prefix: str = "") -> dict:
    out: dict = {}
    for k, v in d.items():
        if isinstance(v, dict):
            out.update(flat(v, f"{prefix}{k}."))
        else:
            out[prefix + k] = v
    return out


def main() -> None:
    print("== 1. first run: defaults.ini + command line", flush=True)
    first = run_dir_of(run(["--max-steps", "120"], note=STARTUP_NOTE))
    print("\n== 2. second run: re-created from the first run's record, one override", flush=True)
    second = run_dir_of(run(["--wandb-config", str(first), "--optim.lr", "0.003"], note=STARTUP_NOTE))
    print("\n== 3. where each value of the second run came from", flush=True)
    run(["--wandb-config", str(first), "--optim.lr", "0.003", "--print-config"])
    a = flat(json.loads((first / "run_record.json").read_text())["config"])
    b = flat(json.loads((second / "run_record.json").read_text())["config"])
    diff = {k: (a.get(k), b.get(k)) for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)}
    print("\n== 4. run records compared (first → second):")
    for k, (x, y) in diff.items():
        print(f"   {k}: {x!r} → {y!r}")
    if set(diff) - {"optim.lr", "run_name"}:
        raise SystemExit("demo: the re-created run differs by more than the override")
    print("   everything else is identical: the run was re-created exactly.")
    print(next_steps(first), flush=True)


if __name__ == "__main__":
    main()
