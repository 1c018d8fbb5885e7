"""A tyro user sees tyro (docs/cli.md, "Conformance"): programs of our own covering the
patterns of tyro's documentation (``tyro_examples.py``: ``default=`` with ``tyro.MISSING``,
generics, nested subcommands, flags, enums, counters, positional arguments, aliases, mutex
groups, custom constructors, functions), each command line run through ``tyro.cli`` and
``config_utils.cli``: the same exit status, the same stdout and the same stderr. The one
addition is the help's ``config layers (flows-workspace)`` group after tyro's own help.
"""

from __future__ import annotations

from typing import Any

import pytest
from tyro_examples import PROGRAMS
from tyro_oracle import both

CASES = [
    pytest.param(name, argv, id=f"{name}:{' '.join(argv) or '-'}")
    for name, (_, _, lines) in PROGRAMS.items()
    for argv in lines
]


@pytest.mark.parametrize(("name", "argv"), CASES)
def test_same_exit_stdout_and_stderr_as_tyro(name: str, argv: list[str]) -> None:
    target, kwargs, _ = PROGRAMS[name]
    theirs, ours = both(target, argv, prog="prog", **dict(kwargs))
    assert theirs.error is None and ours.error is None, (theirs.error, ours.error)
    assert ours.exit == theirs.exit, (ours.stderr, theirs.stderr)
    assert ours.stderr == theirs.stderr
    if "--help" in argv:
        head = theirs.stdout.rstrip("\n") + "\n"
        assert ours.stdout.startswith(head)
        assert ours.stdout[len(head):].lstrip().startswith("config layers (flows-workspace)")
    else:
        assert ours.stdout == theirs.stdout
        assert _same(ours.value, theirs.value), (ours.value, theirs.value)


def _same(a: Any, b: Any) -> bool:
    return bool(a == b) and type(a) is type(b)
