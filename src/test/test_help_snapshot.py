"""``python examples/train.py --help`` is pinned: the text people read before anything else.

Why a snapshot: help text is assembled from three places — tyro, the field docstrings of the
example, and ``config_utils.cli``'s own table of built-in flags — and a change in any of them
(a doubled ``(default: ...)``, a built-in flag missing, a flag renamed) is easy to miss in
review and obvious in a diff of this file. The terminal is fixed (100 columns, no colour,
``TERM=dumb`` for plain ASCII rules), so the text does not depend on who runs the test.

After an intended change, regenerate the expected text and review the diff::

    .venv/bin/python src/test/test_help_snapshot.py      # rewrites src/test/data/train_help.txt
    git diff src/test/data/train_help.txt
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXPECTED = Path(__file__).resolve().parent / "data" / "train_help.txt"
COMMAND = ["examples/train.py", "--help"]  # relative, so the usage line is the same everywhere
_COLOUR_VARS = ("FORCE_COLOR", "PY_COLORS", "CLICOLOR_FORCE", "TTY_COMPATIBLE", "TTY_INTERACTIVE")


def current_help() -> str:
    """The help text at a fixed width and without colour; trailing blanks dropped per line."""
    env = {k: v for k, v in os.environ.items() if k not in _COLOUR_VARS and k != "PYTHONPATH"}
    env.update(COLUMNS="100", LINES="50", NO_COLOR="1", TERM="dumb")
    done = subprocess.run(
        [sys.executable, *COMMAND],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 0, done.stderr
    return "\n".join(line.rstrip() for line in done.stdout.splitlines()).strip("\n") + "\n"


@pytest.fixture(scope="module")
def help_text() -> str:
    return current_help()


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
    joined = re.sub(r"\n\s{10,}", " ", help_text)
    doubled = [line.strip() for line in joined.splitlines() if line.count("(default:") > 1]
    assert not doubled, doubled


if __name__ == "__main__":
    EXPECTED.parent.mkdir(parents=True, exist_ok=True)
    EXPECTED.write_text(current_help(), encoding="utf-8")
    print(f"wrote {EXPECTED.relative_to(ROOT)}")
