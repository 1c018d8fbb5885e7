"""One argument list through three parsers: the fast path, the tyro path (``FLOWS_FAST_PATH=0``)
and bare ``tyro.cli`` — the oracle of the differential tests (docs/cli.md, "Fast path" and
"Conformance").

The rules checked (:func:`disagreement` says which one broke, or None):

- the fast path may decline, never differ: when it answers, the tyro path accepts the same
  argument list with the same config and the same provenance;
- both paths end with the same exit status;
- every argument list tyro accepts means the same here (same config); one tyro refuses is
  refused here too (same status), unless a documented superset form makes it valid.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
from dataclasses import dataclass
from typing import Any

import tyro

import config_utils
from config_utils.tree import to_primitives

PRINT = ["--flows:print-config", "--flows:format=json"]


@dataclass
class Outcome:
    code: int  # exit status (0: accepted)
    config: str | None = None  # canonical JSON of the config (NaN-safe comparison)
    provenance: dict[str, str] | None = None
    path: str | None = None  # "fast" or "tyro" (ours), None for bare tyro
    stderr: str = ""


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=repr)


def ours(cls: Any, argv: list[str], *, fast: bool, **kwargs: Any) -> Outcome:
    """``config_utils.cli`` with ``--print-config --format json`` appended (reserved spellings)."""
    old = os.environ.get("FLOWS_FAST_PATH")
    os.environ["FLOWS_FAST_PATH"] = "1" if fast else "0"
    out, err = io.StringIO(), io.StringIO()
    kwargs.setdefault("config_file", None)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                config_utils.cli(cls, args=[*PRINT, *argv], **kwargs)
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
            else:
                code = -1  # --print-config always exits
    finally:
        if old is None:
            os.environ.pop("FLOWS_FAST_PATH", None)
        else:
            os.environ["FLOWS_FAST_PATH"] = old
    text = out.getvalue()
    if code != 0 or not text.startswith("{"):
        return Outcome(code, stderr=err.getvalue())
    doc = json.loads(text)
    return Outcome(0, _canonical(doc["config"]), doc["provenance"], doc["path"], err.getvalue())


def bare(cls: Any, argv: list[str], **kwargs: Any) -> Outcome:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            value = tyro.cli(cls, args=list(argv), **kwargs)
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
            return Outcome(code, stderr=err.getvalue())
    return Outcome(0, _canonical(to_primitives(value)))


def disagreement(fast: Outcome, slow: Outcome, oracle: Outcome | None) -> str | None:
    """Which rule the three outcomes break, or None."""
    if fast.path == "fast":
        if slow.code != 0:
            return f"the fast path answered, the tyro path exited {slow.code}"
        if fast.config != slow.config:
            return f"configs differ: fast {fast.config} / tyro path {slow.config}"
        if fast.provenance != slow.provenance:
            return f"provenance differs: fast {fast.provenance} / tyro path {slow.provenance}"
    if fast.code != slow.code:
        return f"exit status differs: fast {fast.code} / tyro path {slow.code}"
    if slow.code == 0 and fast.config != slow.config:
        return f"configs differ: fast {fast.config} / tyro path {slow.config}"
    if oracle is not None:
        if oracle.code == 0 and slow.code != 0:
            return f"tyro accepts ({oracle.config}), the tyro path exited {slow.code}: {slow.stderr[-300:]}"
        if oracle.code == 0 and slow.config != oracle.config:
            return f"tyro gives {oracle.config}, the tyro path {slow.config}"
        if oracle.code != 0 and slow.code not in (0, oracle.code):
            return f"tyro exits {oracle.code}, the tyro path {slow.code}"
    return None


def check(cls: Any, argv: list[str], *, with_oracle: bool = True, **kwargs: Any) -> str | None:
    fast = ours(cls, argv, fast=True, **kwargs)
    slow = ours(cls, argv, fast=False, **kwargs)
    oracle = bare(cls, argv) if with_oracle and not kwargs else None
    return disagreement(fast, slow, oracle)
