"""Help as tyro renders it, plus the project's group (docs/cli.md, "Help and errors").

Two kinds of pins:

- ``src/test/data/help_program.py`` at ``COLUMNS`` 80 and 120, on a UTF-8 stream (tyro draws
  boxes) and on a non-UTF-8 one (tyro's plain rules): ``config_utils.cli``'s help is tyro's
  own help for the same class, byte for byte, followed by the ``config layers
  (flows-workspace)`` group — which is pinned in ``src/test/data/help_layers_<cols>_<enc>.txt``.
- ``python examples/train.py --help`` at 100 columns (``src/test/data/train_help.txt``): the
  text people read first, assembled from tyro, the example's docstrings and the built-ins.

After an intended change, regenerate and review the diff::

    .venv/bin/python src/test/test_help_snapshot.py
    git diff src/test/data/
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DATA = Path(__file__).resolve().parent / "data"
EXPECTED = DATA / "train_help.txt"
COMMAND = ["examples/train.py", "--help"]  # relative, so the usage line is the same everywhere
PROGRAM = DATA / "help_program.py"
_COLOUR_VARS = ("FORCE_COLOR", "PY_COLORS", "CLICOLOR_FORCE", "TTY_COMPATIBLE", "TTY_INTERACTIVE")
TERMINALS = [(80, "utf-8"), (120, "utf-8"), (80, "ascii"), (120, "ascii")]


def _env(columns: int, encoding: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _COLOUR_VARS and k != "PYTHONPATH"}
    # a non-UTF-8 stream: tyro's own help prints a bullet, so unencodable characters are replaced
    io_encoding = encoding if encoding == "utf-8" else f"{encoding}:replace"
    env.update(COLUMNS=str(columns), LINES="50", NO_COLOR="1", TERM="dumb", PYTHONIOENCODING=io_encoding)
    env["PYTHONPATH"] = str(ROOT)
    return env


def _run(argv: list[str], columns: int, encoding: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, *argv], cwd=ROOT, env=_env(columns, encoding), capture_output=True, timeout=120,
        stdin=subprocess.DEVNULL,
    )


def current_help() -> str:
    """examples/train.py --help at 100 columns, UTF-8, no colour; trailing blanks dropped."""
    done = _run(COMMAND, 100, "utf-8")
    assert done.returncode == 0, done.stderr
    text = done.stdout.decode("utf-8")
    return "\n".join(line.rstrip() for line in text.splitlines()).strip("\n") + "\n"


def program_help(which: str, columns: int, encoding: str, *args: str) -> str:
    done = _run([str(PROGRAM), which, *args, "--help"], columns, encoding)
    assert done.returncode == 0, done.stderr
    return done.stdout.decode(encoding)


def layers_snapshot(columns: int, encoding: str) -> Path:
    return DATA / f"help_layers_{columns}_{encoding.replace('-', '')}.txt"


def layers_group(columns: int, encoding: str, *args: str) -> str:
    """Our help minus tyro's: what the project adds."""
    theirs = program_help("tyro", columns, encoding, *args)
    ours = program_help("ours", columns, encoding, *args)
    head = theirs.rstrip("\n") + "\n"
    assert ours.startswith(head), f"tyro's help is not kept as tyro renders it:\n{ours}\n---\n{theirs}"
    return ours[len(head):]


@pytest.fixture(scope="module")
def help_text() -> str:
    return current_help()


@pytest.mark.parametrize(("columns", "encoding"), TERMINALS)
def test_help_is_tyros_plus_the_layers_group(columns: int, encoding: str) -> None:
    group = layers_group(columns, encoding)
    assert group == layers_snapshot(columns, encoding).read_text(encoding="utf-8")
    lines = group.splitlines()
    assert max(len(line) for line in lines) <= columns  # the group follows COLUMNS
    boxed = encoding == "utf-8"
    assert lines[0].startswith("╭─ config layers (flows-workspace) ") == boxed
    assert all(ord(ch) < 128 for ch in group) != boxed


def test_help_of_a_variant_is_tyros_too() -> None:
    assert layers_group(100, "utf-8", "optim:sgd")  # tyro's variant help, then the same group


@pytest.mark.parametrize(("columns", "encoding"), [(80, "utf-8"), (120, "ascii")])
@pytest.mark.parametrize(
    "argv",
    [[], ["--steps", "3", "--stepz", "3"], ["--steps", "x"], ["--steps", "1", "optim:adamw"],
     ["--steps", "1", "--model.act", "TANH"]],
)
def test_refusals_are_tyros_on_this_terminal(columns: int, encoding: str, argv: list[str]) -> None:
    """A refusal is tyro's message as tyro renders it for the stream (boxes on UTF-8), with
    tyro's exit status: the typo and its did-you-mean, what is missing, the argument's help."""
    theirs = _run([str(PROGRAM), "tyro", *argv], columns, encoding)
    ours = _run([str(PROGRAM), "ours", *argv], columns, encoding)
    assert theirs.returncode == ours.returncode == 2
    assert ours.stderr == theirs.stderr
    assert ours.stderr.startswith("╭".encode()) == (encoding == "utf-8")
    assert b"For full helptext" in ours.stderr


@pytest.mark.slow
def test_train_help_matches_the_snapshot(help_text: str) -> None:
    expected = EXPECTED.read_text(encoding="utf-8")
    assert help_text == expected, (
        "examples/train.py --help changed; if intended, regenerate with "
        "`.venv/bin/python src/test/test_help_snapshot.py` and review the diff"
    )


@pytest.mark.slow
def test_help_is_plain_text_at_the_fixed_width(help_text: str) -> None:
    assert "\x1b[" not in help_text  # no colour codes
    assert max(len(line) for line in help_text.splitlines()) <= 100


@pytest.mark.slow
def test_every_built_in_flag_is_in_the_help(help_text: str) -> None:
    for name in ("config-file", "wandb-config", "from-run", "print-config", "format", "print-schema"):
        assert f"--flows:{name}" in help_text, name
        assert re.search(rf"--{name}\b", help_text), name


@pytest.mark.slow
def test_no_option_states_its_default_twice(help_text: str) -> None:
    # a help entry can wrap over lines: join each option's text before looking
    joined = re.sub(r"\n[│ ]\s{10,}", " ", help_text)
    doubled = [line.strip() for line in joined.splitlines() if line.count("(default:") > 1]
    assert not doubled, doubled


if __name__ == "__main__":
    EXPECTED.write_text(current_help(), encoding="utf-8")
    print(f"wrote {EXPECTED.relative_to(ROOT)}")
    for columns, encoding in TERMINALS:
        path = layers_snapshot(columns, encoding)
        path.write_text(layers_group(columns, encoding), encoding="utf-8")
        print(f"wrote {path.relative_to(ROOT)}")
