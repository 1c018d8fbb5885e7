"""Run ``tyro.cli`` and ``config_utils.cli`` on the same input and report what each did.

tyro is the oracle: with no file or run layer, ``config_utils.cli`` must return what
``tyro.cli`` returns, or exit with the same status (see docs/cli.md, "Conformance").
"""

from __future__ import annotations

import contextlib
import io
from dataclasses import dataclass
from typing import Any

import tyro

import config_utils


@dataclass
class Outcome:
    value: Any = None
    exit: int | None = None  # None: returned normally
    stdout: str = ""
    stderr: str = ""
    error: BaseException | None = None  # an exception other than SystemExit

    def same_as(self, other: Outcome) -> bool:
        if self.error is not None or other.error is not None:
            return type(self.error) is type(other.error)
        if self.exit is not None or other.exit is not None:
            return self.exit == other.exit
        return bool(self.value == other.value) and type(self.value) is type(other.value)


def run(fn: Any, target: Any, args: list[str], **kwargs: Any) -> Outcome:
    out, err = io.StringIO(), io.StringIO()
    outcome = Outcome()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            if fn is config_utils.cli:
                kwargs.setdefault("config_file", None)
            outcome.value = fn(target, args=list(args), **kwargs)
        except SystemExit as exc:
            outcome.exit = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        except Exception as exc:  # recorded: tyro raises for some bad targets, and so must we
            outcome.error = exc
    outcome.stdout, outcome.stderr = out.getvalue(), err.getvalue()
    return outcome


def both(target: Any, args: list[str], **kwargs: Any) -> tuple[Outcome, Outcome]:
    """(tyro's outcome, ours) for the same call."""
    return run(tyro.cli, target, args, **kwargs), run(config_utils.cli, target, args, **kwargs)
