"""The README runs as written: its python, ini and shell blocks, in order, in an empty directory.

Why: a newcomer copies the tour block by block. A block that names a class the page never
defined, a key the tour's config does not have, or a run directory the tour never wrote stops
them in the first five minutes. This test is the newcomer: it extracts every fenced block of
README.md and runs it, in page order, in one temporary directory.

How blocks are run:

* ``python`` — a block whose first line is ``# NAME.py`` is a file: it is written to ``NAME.py``.
  Every other python block is executed in one long-lived interpreter (one namespace, like a
  notebook or a REPL session), with the temporary directory as working directory and on
  ``sys.path``, so later blocks see the names earlier blocks defined.
* ``ini`` — written to the file named on its first line (``# defaults.ini — ...``).
* ``bash``/``sh``/``shell`` — run by ``bash -euo pipefail`` in the temporary directory, with the
  test's interpreter first on ``PATH`` (so ``python`` and ``flow_init`` are this environment's).
* A plain block right under ``<!-- output of the block above -->`` must equal the standard
  output of the shell block above it.

A block right under ``<!-- skip: REASON -->`` is not run; the markers are for blocks that need
the network, change the environment (``source``, ``flow_init``'s ``.pth`` file) or call
``make``. Every other block runs. W&B is offline and its directories are temporary
(``conftest.hermetic_wandb``).
"""

from __future__ import annotations

import os
import queue
import re
import subprocess
import sys
import textwrap
import threading
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"

PYTHON_LANGS = {"python", "py"}
SHELL_LANGS = {"bash", "sh", "shell"}
INI_LANGS = {"ini"}
BLOCK_TIMEOUT = 240.0  # seconds per block; the first Lightning + W&B import is the slow one

_FENCE = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|~{3,})(?P<info>[^`]*)$")
_MARKER = re.compile(r"^<!--\s*(?P<kind>skip|output)\b(?P<rest>.*?)-->\s*$")
_FILE_LINE = re.compile(r"^#\s*(?P<name>[\w.\-/]+\.(?:py|ini))\b")


@dataclass
class Block:
    """One fenced code block of the README."""

    lang: str  # the info string's first word, lower case ("" for a plain block)
    code: str
    line: int  # 1-based line of the opening fence
    skip: str | None = None  # the reason of a <!-- skip: ... --> marker above it
    output: bool = False  # under <!-- output of the block above -->

    @property
    def where(self) -> str:
        return f"README.md:{self.line} ({self.lang or 'plain'} block)"

    @property
    def file_name(self) -> str | None:
        """``NAME.py``/``NAME.ini`` when the block's first line names the file it is."""
        first = self.code.lstrip("\n").split("\n", 1)[0]
        m = _FILE_LINE.match(first)
        return m["name"] if m else None


def parse_blocks(text: str) -> list[Block]:
    """Every fenced block in ``text`` with the marker (if any) on the nearest line above it."""
    lines = text.split("\n")
    blocks: list[Block] = []
    i = 0
    while i < len(lines):
        m = _FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        fence, start = m["fence"], i
        info = m["info"].strip().split()
        body: list[str] = []
        i += 1
        while i < len(lines) and not (
            lines[i].strip().startswith(fence[0] * len(fence)) and not lines[i].strip().strip(fence[0])
        ):
            body.append(lines[i][len(m["indent"]):] if lines[i].startswith(m["indent"]) else lines[i])
            i += 1
        i += 1  # the closing fence
        block = Block(lang=info[0].lower() if info else "", code="\n".join(body) + "\n", line=start + 1)
        above = start - 1
        while above >= 0 and not lines[above].strip():
            above -= 1
        marker = _MARKER.match(lines[above].strip()) if above >= 0 else None
        if marker and marker["kind"] == "skip":
            block.skip = marker["rest"].lstrip(":").strip() or "?"
        elif marker and marker["kind"] == "output":
            block.output = True
        blocks.append(block)
    return blocks


def runnable_kind(block: Block) -> str | None:
    """What the test does with a block: ``python``, ``file``, ``shell``, ``output`` or None."""
    if block.output:
        return "output"
    if block.lang in PYTHON_LANGS:
        return "file" if block.file_name else "python"
    if block.lang in INI_LANGS:
        return "file"
    if block.lang in SHELL_LANGS:
        return "shell"
    return None


# ------------------------------------------------------------------------------------------
# a long-lived interpreter for the python blocks
# ------------------------------------------------------------------------------------------
_WORKER = textwrap.dedent(
    r'''
    import os, sys, traceback
    sys.path.insert(0, os.getcwd())
    namespace = {"__name__": "__readme__"}
    for request in sys.stdin:
        path, _, label = request.rstrip("\n").partition("\t")
        status = "ok"
        try:
            with open(path, encoding="utf-8") as f:
                exec(compile(f.read(), label, "exec"), namespace)
        except BaseException:
            traceback.print_exc(file=sys.stdout)
            status = "error"
        sys.stdout.flush()
        sys.stderr.flush()
        print("\0README-BLOCK-DONE " + status, flush=True)
    '''
)
_DONE = "\0README-BLOCK-DONE "


class PythonSession:
    """One interpreter that executes blocks in one namespace; output is collected per block."""

    def __init__(self, cwd: Path, env: dict[str, str]) -> None:
        self.cwd = cwd
        self.proc = subprocess.Popen(
            [sys.executable, "-u", "-c", _WORKER],
            cwd=cwd,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        self.count = 0

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line)
        self.lines.put(None)

    def run(self, block: Block) -> tuple[bool, str]:
        """Execute one block; ``(ok, output)``."""
        self.count += 1
        path = self.cwd / f".readme-block-{self.count}.py"
        path.write_text(block.code, encoding="utf-8")
        assert self.proc.stdin is not None
        self.proc.stdin.write(f"{path}\t{block.where}\n")
        self.proc.stdin.flush()
        out: list[str] = []
        while True:
            try:
                line = self.lines.get(timeout=BLOCK_TIMEOUT)
            except queue.Empty:
                return False, "".join(out) + f"\n(no answer within {BLOCK_TIMEOUT:g} s)"
            if line is None:
                return False, "".join(out) + f"\n(the interpreter exited: {self.proc.wait()})"
            if line.startswith(_DONE):
                path.unlink()
                return line[len(_DONE):].strip() == "ok", "".join(out)
            out.append(line)

    def close(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.reader.join(timeout=5)


# ------------------------------------------------------------------------------------------
# fast checks of the page's structure
# ------------------------------------------------------------------------------------------
BLOCKS = parse_blocks(README.read_text(encoding="utf-8"))


def test_the_readme_has_blocks_to_run() -> None:
    kinds = [runnable_kind(b) for b in BLOCKS if b.skip is None]
    assert kinds.count("python") >= 5 and kinds.count("shell") >= 3 and kinds.count("file") >= 2


def test_every_skip_marker_gives_a_reason() -> None:
    for block in BLOCKS:
        if block.skip is not None:
            assert block.skip != "?", f"{block.where}: say why the block is skipped"


def test_blocks_that_call_make_or_change_the_environment_are_marked() -> None:
    """What the test must not do to the machine it runs on is marked in the page, visibly."""
    for block in BLOCKS:
        if block.lang not in SHELL_LANGS or block.skip is not None:
            continue
        for line in block.code.splitlines():
            words = line.split("#", 1)[0].split()
            assert not (words and words[0] in {"make", "source", ".", "flow_init", "pip"}), (
                f"{block.where}: `{line.strip()}` needs a <!-- skip: ... --> marker"
            )


def test_file_blocks_name_their_file() -> None:
    for block in BLOCKS:
        if block.lang in INI_LANGS and block.skip is None:
            assert block.file_name, f"{block.where}: an ini block starts with `# NAME.ini`"


def test_output_blocks_follow_a_shell_block() -> None:
    previous: Block | None = None
    for block in BLOCKS:
        if block.output:
            assert previous is not None and runnable_kind(previous) == "shell", (
                f"{block.where}: an output block must follow a shell block"
            )
        previous = block


def test_parser_reads_markers_fences_and_file_names() -> None:
    text = (
        "intro\n\n<!-- skip: needs network -->\n```bash\ncurl x\n```\n\n"
        "```python\n# a.py\nx = 1\n```\n\n````ini\n# b.ini — comment\n[DEFAULTS]\n````\n"
        "```bash\necho hi\n```\n<!-- output of the block above -->\n```\nhi\n```\n"
    )
    blocks = parse_blocks(text)
    assert [(b.lang, b.skip, b.output, b.file_name) for b in blocks] == [
        ("bash", "needs network", False, None),
        ("python", None, False, "a.py"),
        ("ini", None, False, "b.ini"),
        ("bash", None, False, None),
        ("", None, True, None),
    ]
    assert blocks[3].code == "echo hi\n" and blocks[0].line == 4


# ------------------------------------------------------------------------------------------
# the tour, run
# ------------------------------------------------------------------------------------------
@pytest.mark.slow
def test_every_readme_block_runs_in_order(tmp_path: Path) -> None:
    work = tmp_path / "tour"
    work.mkdir()
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env.update(
        WANDB_MODE="offline",  # conftest sets it too; the tour must never reach the network
        NO_COLOR="1",
        COLUMNS="100",
        PYTHONDONTWRITEBYTECODE="1",
        PYTHONUNBUFFERED="1",
        GRADIO_ANALYTICS_ENABLED="False",
    )
    env.pop("PYTHONPATH", None)  # the tour sees what a user's environment has, nothing more
    session = PythonSession(work, env)
    ran: list[str] = []
    last_shell_out: str | None = None
    try:
        for block in BLOCKS:
            kind = runnable_kind(block)
            if block.skip is not None or kind is None:
                continue
            if kind == "file":
                name = block.file_name
                assert name, f"{block.where}: an ini block starts with `# NAME.ini`"
                target = work / name
                assert not target.exists(), f"{block.where}: {name} was written by an earlier block"
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(block.code, encoding="utf-8")
            elif kind == "python":
                ok, out = session.run(block)
                assert ok, f"{block.where} failed:\n{block.code}\n--- output ---\n{out}"
            elif kind == "shell":
                done = subprocess.run(
                    ["bash", "-euo", "pipefail", "-c", block.code],
                    cwd=work,
                    env=env,
                    capture_output=True,
                    text=True,
                    timeout=BLOCK_TIMEOUT,
                    stdin=subprocess.DEVNULL,
                )
                assert done.returncode == 0, (
                    f"{block.where} exited {done.returncode}:\n{block.code}\n"
                    f"--- stdout ---\n{done.stdout}\n--- stderr ---\n{done.stderr}"
                )
                last_shell_out = done.stdout
            elif kind == "output":
                assert last_shell_out is not None, f"{block.where}: no shell block ran before it"
                got = [line.rstrip() for line in last_shell_out.strip("\n").splitlines()]
                want = [line.rstrip() for line in block.code.strip("\n").splitlines()]
                assert got == want, f"{block.where}: the page shows other output than the command prints"
            ran.append(block.where)
    finally:
        session.close()
    assert len(ran) >= 10, ran
