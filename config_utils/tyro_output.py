"""Capturing tyro's output, so a refused first attempt prints nothing, and showing it as tyro
rendered it: the buffer answers ``isatty()`` and ``encoding`` like the stream it stands in for,
so tyro draws boxes and colours as it would for the real terminal.
"""

from __future__ import annotations

import contextlib
import io
import sys
from typing import Any


class _Buffer(io.StringIO):
    """Collects output while answering ``isatty()`` like the stream it stands in for, so
    tyro formats (boxes, colours) as it would for the real terminal."""

    def __init__(self, real: Any) -> None:
        super().__init__()
        self._real = real

    def isatty(self) -> bool:
        try:
            return bool(self._real.isatty())
        except (AttributeError, ValueError):
            return False

    @property
    def encoding(self) -> str | None:  # type: ignore[override]
        # tyro draws its boxes only when ``sys.stdout.encoding`` is UTF-8
        return getattr(self._real, "encoding", None)


@contextlib.contextmanager
def captured() -> Any:
    out, err = _Buffer(sys.stdout), _Buffer(sys.stderr)
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        yield out, err


def replay(out: io.StringIO, err: io.StringIO) -> None:
    if out.getvalue():
        sys.stdout.write(out.getvalue())
        sys.stdout.flush()
    if err.getvalue():
        sys.stderr.write(err.getvalue())
        sys.stderr.flush()


def wants_help(argv: list[str]) -> bool:
    for token in argv:
        if token == "--":
            return False
        if token in ("-h", "--help", "--help-verbose") or token.startswith("--tyro-"):
            return True
    return False


def wants_completion(argv: list[str]) -> bool:
    """The first help-like token is tyro's completion flag (``--tyro-print-completion bash``):
    tyro prints a shell script, to which no help group may be added."""
    for token in argv:
        if token == "--":
            return False
        if token in ("-h", "--help", "--help-verbose"):
            return False
        if token.startswith("--tyro-"):
            return True
    return False


def refuse(out: io.StringIO, err: io.StringIO, exit: SystemExit) -> None:
    """tyro refused the arguments: its message exactly as tyro rendered it for this terminal
    (box, unrecognized options with their did-you-mean, missing options, the argument's
    help, the pointer to ``--help``), and its exit status."""
    if out.getvalue():
        sys.stdout.write(out.getvalue())
    raise Refused(err.getvalue(), exit.code)


class Refused(Exception):
    """tyro's refusal; ``cli`` writes tyro's message and exits with tyro's status."""

    def __init__(self, message: str, code: Any) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
