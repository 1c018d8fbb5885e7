"""Running the code blocks of a Markdown page as a newcomer would: in order, in an empty directory.

Used by ``test_readme.py`` (README.md) and ``test_docs.py`` (every page of the site, docs/).
Why: a newcomer copies a page block by block. A block that names a class the page never
defined, a key the page's config does not have, or a run directory the page never wrote stops
them in the first five minutes. These tests are the newcomer.

How blocks are run:

* ``python`` — a block whose first line is ``# NAME.py`` is a file: it is written to ``NAME.py``.
  Every other python block is executed in one long-lived interpreter (one namespace, like a
  notebook or a REPL session), with the work directory as working directory and on
  ``sys.path``, so later blocks see the names earlier blocks defined.
* ``ini``, ``toml``, ``yaml``, ``json`` — a block whose first line names a file
  (``# defaults.ini — ...``; a JSON block cannot, so it is only parsed) is written to that
  file. A block that names no file shows what a file holds: it is parsed by the project's own
  reader for that format, so it cannot show a file the project would refuse.
* ``bash``/``sh``/``shell`` — run by ``bash -euo pipefail`` in the work directory, with the
  test's interpreter first on ``PATH`` (so ``python`` and ``flow_init`` are this environment's).
* A plain block right under ``<!-- output of the block above -->`` must equal the standard
  output of the shell block above it. Other plain blocks (``text``, no language) show output
  or messages and are not code.

A block right under ``<!-- skip: REASON -->`` is not run; the markers are for blocks that need
the network, change the environment (``source``, ``flow_init``'s ``.pth`` file), call ``make``
or run for minutes. Every other block runs.

A page whose blocks continue another page's carries ``<!-- session: OTHER.md -->`` (and says
so in words): its blocks run after OTHER.md's, in the same directory and the same Python
session.
"""

from __future__ import annotations

import json
import os
import queue
import re
import subprocess
import sys
import textwrap
import threading
from dataclasses import dataclass
from pathlib import Path

PYTHON_LANGS = {"python", "py"}
SHELL_LANGS = {"bash", "sh", "shell"}
FILE_LANGS = {"ini", "toml", "yaml", "yml", "json"}
BLOCK_TIMEOUT = 240.0  # seconds per block; the first Lightning + W&B import is the slow one

_FENCE = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|~{3,})(?P<info>[^`]*)$")
_MARKER = re.compile(r"^<!--\s*(?P<kind>skip|output)\b(?P<rest>.*?)-->\s*$")
_SESSION = re.compile(r"^<!--\s*session:\s*(?P<page>[\w./-]+\.md)\s*-->\s*$", re.M)
_FILE_LINE = re.compile(r"^#\s*(?P<name>[\w.\-/]+\.(?:py|ini|toml|ya?ml))\b")


@dataclass
class Block:
    """One fenced code block of a page."""

    lang: str  # the info string's first word, lower case ("" for a plain block)
    code: str
    line: int  # 1-based line of the opening fence
    page: str = "README.md"
    skip: str | None = None  # the reason of a <!-- skip: ... --> marker above it
    output: bool = False  # under <!-- output of the block above -->

    @property
    def where(self) -> str:
        return f"{self.page}:{self.line} ({self.lang or 'plain'} block)"

    @property
    def file_name(self) -> str | None:
        """``NAME.py``/``NAME.ini``/... when the block's first line names the file it is."""
        first = self.code.lstrip("\n").split("\n", 1)[0]
        m = _FILE_LINE.match(first)
        return m["name"] if m else None


def parse_blocks(text: str, page: str = "README.md") -> list[Block]:
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
        lang = info[0].lower().lstrip("{.").rstrip("}") if info else ""
        block = Block(lang=lang, code="\n".join(body) + "\n", line=start + 1, page=page)
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


def session_of(text: str) -> str | None:
    """The page whose blocks this page's blocks continue (``<!-- session: OTHER.md -->``)."""
    m = _SESSION.search(text)
    return m["page"] if m else None


def runnable_kind(block: Block) -> str | None:
    """What the test does with a block: ``python``, ``file``, ``parse``, ``shell``, ``output``
    or None (a plain block that shows output or a message)."""
    if block.output:
        return "output"
    if block.lang in PYTHON_LANGS:
        return "file" if block.file_name else "python"
    if block.lang in FILE_LANGS:
        return "file" if block.file_name else "parse"
    if block.lang in SHELL_LANGS:
        return "shell"
    return None


def parse_shown_file(block: Block) -> None:
    """Read a block that shows a file's content with the project's reader for its format."""
    if block.lang == "ini":
        from config_utils import ini

        ini.read_ini(block.code, source=block.where, strict=True)
    elif block.lang == "toml":
        import tomllib

        tomllib.loads(block.code)
    elif block.lang in ("yaml", "yml"):
        import yaml

        yaml.safe_load(block.code)
    elif block.lang == "json":
        json.loads(block.code)


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


def newcomer_env() -> dict[str, str]:
    """The environment a reader's shell has: this interpreter first on PATH, W&B offline."""
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env.update(
        WANDB_MODE="offline",  # conftest sets it too; a page must never reach the network
        NO_COLOR="1",
        COLUMNS="100",
        PYTHONDONTWRITEBYTECODE="1",
        PYTHONUNBUFFERED="1",
        GRADIO_ANALYTICS_ENABLED="False",
    )
    env.pop("PYTHONPATH", None)  # the page sees what a user's environment has, nothing more
    return env


def run_blocks(blocks: list[Block], work: Path) -> list[str]:
    """Run ``blocks`` in order in ``work`` (one Python session); the places of those that ran.

    Fails (``AssertionError``) at the first block that does not do what the page says.
    """
    env = newcomer_env()
    session = PythonSession(work, env)
    ran: list[str] = []
    last_shell_out: str | None = None
    try:
        for block in blocks:
            kind = runnable_kind(block)
            if block.skip is not None or kind is None:
                continue
            if kind == "file":
                name = block.file_name
                assert name, f"{block.where}: a file block starts with `# NAME.ext`"
                target = work / name
                assert not target.exists(), f"{block.where}: {name} was written by an earlier block"
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(block.code, encoding="utf-8")
            elif kind == "parse":
                try:
                    parse_shown_file(block)
                except Exception as exc:  # any reader's refusal is the page's mistake
                    raise AssertionError(f"{block.where}: not a valid {block.lang} file: {exc}") from None
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
                assert got == want, (
                    f"{block.where}: the page shows other output than the command prints:\n"
                    + "\n".join(got)
                )
            ran.append(block.where)
    finally:
        session.close()
    return ran


# ------------------------------------------------------------------------------------------
# checks of a page's structure (fast; no block runs)
# ------------------------------------------------------------------------------------------
def structure_problems(blocks: list[Block]) -> list[str]:
    """What is wrong with a page's markers, one line each (empty when nothing is)."""
    problems: list[str] = []
    previous: Block | None = None
    for block in blocks:
        if block.skip == "?":
            problems.append(f"{block.where}: say why the block is skipped")
        if block.lang in SHELL_LANGS and block.skip is None:
            for line in block.code.splitlines():
                words = line.split("#", 1)[0].split()
                if words and words[0] in {"make", "source", ".", "flow_init", "pip"}:
                    problems.append(f"{block.where}: `{line.strip()}` needs a <!-- skip: ... --> marker")
        if block.output and (previous is None or runnable_kind(previous) != "shell"):
            problems.append(f"{block.where}: an output block must follow a shell block")
        previous = block
    return problems
