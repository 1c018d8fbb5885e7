"""Fuzz the readers of files a trial or a sweep leaves behind: any content is read, or refused
in one line, within the bounds of ``fuzz_bounds`` — never another exception, never a hang.

These files are written by programs the controller does not trust (the trial owns its run
directory) or by a controller that died mid-write: ``metrics.jsonl`` (read by the sweep, by
``read_metrics`` and by the OFC live plot), the OFC history the plot marks, ``exit.json``,
``sweep.json``, the SLURM engine's ``slurm_job.json``/``slurm_result.json`` and journal, a
trial's W&B run log, and the sweep spec itself. A crash in one of them ends a sweep
controller or the plot page for every trial, so each is held to the same bar as the config
readers in ``test_fuzz_readers.py``.
"""

from __future__ import annotations

import json
import struct
import tempfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from fuzz_bounds import FUZZ, bounded, hostile_text, one_line
from hypothesis import given
from hypothesis import strategies as st

from config_utils.errors import ConfigError

#: JSON-ish lines: real ones, real ones cut short, deep nesting, huge numbers, junk.
json_scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True),
                         hostile_text, st.sampled_from(["nan", "inf", "-inf", "9" * 5000]))
json_values = st.recursive(json_scalars, lambda kids: st.one_of(
    st.lists(kids, max_size=4), st.dictionaries(st.one_of(hostile_text, st.sampled_from(
        ["_step", "loss", "acc", "token", "trials", "jobs", "exit", "signal", "id", "seed"])), kids, max_size=4)),
    max_leaves=12)


@st.composite
def json_lines(draw: st.DrawFn) -> str:
    """One line of what a JSON-lines file may hold after a hostile or killed writer."""
    kind = draw(st.integers(0, 5))
    if kind == 0:
        return draw(hostile_text)
    if kind == 1:
        depth = draw(st.integers(1, 60_000))
        return draw(st.sampled_from(["[", '{"a":'])) * depth
    text = json.dumps(draw(json_values))
    if kind == 2:
        return text[: draw(st.integers(0, len(text)))]  # a torn line
    return text


lines_files = st.lists(json_lines(), max_size=8).map(lambda lines: "\n".join(lines))


@contextmanager
def run_dir() -> Iterator[Path]:
    """A fresh directory per example (hypothesis reruns a test function many times)."""
    with tempfile.TemporaryDirectory() as d:
        yield Path(d)


def refused_in_one_line(exc: BaseException) -> None:
    assert isinstance(exc, ConfigError), f"{type(exc).__name__}: {exc}"
    one_line(str(exc))


# ------------------------------------------------------------------ metrics.jsonl and the plot
@FUZZ
@given(lines_files)
def test_metrics_lines(text: str) -> None:
    """``read_metrics`` and the sweep's per-trial follower take any metrics file: numbers
    come out, everything else is skipped."""
    from config_utils.sweep.report import METRICS_FILE, read_metrics
    from config_utils.sweep.wandb_metrics import TrialMetrics

    with run_dir() as d, bounded("metrics.jsonl"):
        (d / METRICS_FILE).write_text(text)
        values = read_metrics(d)
        assert all(isinstance(k, str) and isinstance(v, float) for k, v in values.items())
        follower = TrialMetrics(d, "loss")
        follower.update()
        follower.final()
        follower.history()


@FUZZ
@given(lines_files, lines_files)
def test_live_plot_files(metrics: str, history: str) -> None:
    """The OFC live plot reads a run's metrics and OFC history as they grow: any content
    draws (or shows nothing), and the page keeps serving."""
    from config_utils.ofc.plot import RunPlot

    with run_dir() as d, bounded("plot"):
        (d / "metrics.jsonl").write_text(metrics)
        (d / "ofc-history.jsonl").write_text(history)
        plot = RunPlot(d / "metrics.jsonl", d / "ofc-history.jsonl")
        plot.refresh()
        assert isinstance(plot.svg(), str)


# ------------------------------------------------------------------ a sweep's own state files
@FUZZ
@given(st.one_of(json_lines(), json_values.map(json.dumps)))
def test_exit_record(text: str) -> None:
    """``exit.json`` is the trial's to spoil: an exit status, a signal, or "not a record"."""
    from config_utils.sweep.state import read_exit_record

    with run_dir() as d, bounded("exit.json"):
        (d / "exit.json").write_text(text)
        code, problem = read_exit_record(d)
        assert (code is None) or (-255 <= code <= 255 and problem == "")
        one_line(problem)


@FUZZ
@given(st.one_of(json_lines(), json_values.map(json.dumps),
                 st.fixed_dictionaries({"format": st.just("flows-workspace/sweep")}, optional={
                     "id": json_values, "spec_hash": json_values, "seed": json_values,
                     "storage": json_values, "planned": json_values}).map(json.dumps)))
def test_sweep_file(text: str) -> None:
    """``sweep.json``, damaged or edited: checked field by field, or refused in one line."""
    from config_utils.sweep.state import read_sweep_file

    with run_dir() as d, bounded("sweep.json"):
        (d / "sweep.json").write_text(text)
        try:
            data = read_sweep_file(d)
        except Exception as exc:  # noqa: BLE001 - what is caught is checked
            refused_in_one_line(exc)
        else:
            assert isinstance(data, dict) and isinstance(data["seed"], int)


@FUZZ
@given(st.one_of(json_lines(), json_values.map(json.dumps)))
def test_slurm_job_files(text: str) -> None:
    """``slurm_job.json``/``slurm_result.json`` in a trial's run directory: an object or None."""
    from config_utils.sweep.engines.slurm import read_json

    with run_dir() as d, bounded("slurm_result.json"):
        (d / "slurm_result.json").write_text(text)
        data = read_json(d / "slurm_result.json")
        assert data is None or isinstance(data, dict)


@FUZZ
@given(lines_files)
def test_slurm_journal(text: str) -> None:
    """The SLURM controller's journal after a crash or an edit: the submissions it can read,
    or one line saying why not — a re-attach never ends in a traceback."""
    from config_utils.sweep.slurm_control import _read_journal

    with run_dir() as d, bounded("jobs.jsonl"):
        (d / "jobs.jsonl").write_text(text)
        try:
            found = _read_journal(d / "jobs.jsonl")
        except Exception as exc:  # noqa: BLE001 - what is caught is checked
            refused_in_one_line(exc)
        else:
            for trials, jobs in found.values():
                assert all(isinstance(n, int) for n in trials)
                assert jobs is None or all(j is None or isinstance(j, str) for j in jobs)


# ------------------------------------------------------------------ a trial's W&B run log
_HEADER = struct.Struct("<4sHB")
_RECORD = struct.Struct("<IHB")


@FUZZ
@given(st.lists(st.tuples(st.sampled_from([1, 2, 3, 4, 0, 7]), st.binary(max_size=300)), max_size=8),
       st.binary(max_size=64))
def test_wandb_run_log(records: list[tuple[int, bytes]], tail: bytes) -> None:
    """A ``run-<id>.wandb`` file with W&B's header and records whose checksums hold but whose
    payloads are anything (a killed or foreign writer), then trailing bytes: the follower reads
    what it can and never raises."""
    from config_utils.sweep.wandb_metrics import WandbLog

    body = bytearray(_HEADER.pack(b":W&B", 0xBEE1, 0))
    for kind, payload in records:
        body += _RECORD.pack(zlib.crc32(payload, zlib.crc32(bytes([kind]))) & 0xFFFFFFFF, len(payload), kind)
        body += payload
    body += tail
    with run_dir() as d, bounded("run.wandb", trace=False):
        (d / "run-x.wandb").write_bytes(bytes(body))
        log = WandbLog(d / "run-x.wandb")
        log.read()
        log.read()  # and again, from where it stopped
        assert all(isinstance(v, float) for v in log.summary.values())


# ------------------------------------------------------------------ the sweep spec
spec_keys = st.sampled_from(["program", "method", "metric", "parameters", "run_cap", "command",
                             "early_terminate", "name", "values", "value", "min", "max",
                             "distribution", "goal", "type", "eta", "min_iter", "s"])
spec_docs = st.recursive(
    st.one_of(json_scalars, st.sampled_from(["grid", "random", "bayes", "train.py", "hyperband",
                                             "log_uniform_values", "${args}"])),
    lambda kids: st.one_of(st.lists(kids, max_size=4), st.dictionaries(st.one_of(spec_keys, hostile_text),
                                                                        kids, max_size=5)),
    max_leaves=20)


@FUZZ
@given(st.one_of(spec_docs.map(json.dumps), hostile_text, json_lines()))
def test_sweep_spec(text: str) -> None:
    """Any spec file: a checked spec, or one line naming the file (and line and key)."""
    from config_utils.sweep.spec import load_spec

    with run_dir() as d, bounded("spec"):
        (d / "train.py").write_text("")
        path = d / "s.yaml"
        path.write_text(text)
        try:
            spec: Any = load_spec(path, cwd=d)
        except Exception as exc:  # noqa: BLE001 - what is caught is checked
            refused_in_one_line(exc)
            assert str(path) in str(exc) or "s.yaml" in str(exc), str(exc)
        else:
            assert spec.method in ("grid", "random", "bayes")


# ------------------------------------------------------------------ prefigure_compat's own readers
ini_lines = st.one_of(
    hostile_text,
    st.sampled_from(["[DEFAULTS]", "[defaults]", "[other]", "[DEFAULTS", "x = 1", "x: [1, 2]", "x =",
                     "=", "x = %(y)s", "x = %", "lr = 1e-3", "flag = True", "flag = maybe", "  continued",
                     "x = " + "[" * 300 + "]" * 300, "x = " + "9" * 5000, "imports = other.ini"]),
    st.tuples(st.sampled_from(["lr", "batch_size", "name", "flag", "wandb_config", "config_file", "h"]),
              st.sampled_from([" = ", ": ", "="]), hostile_text).map("".join),
)


@FUZZ
@given(st.lists(ini_lines, max_size=10).map(lambda ls: "\n".join(["[DEFAULTS]", *ls])),
       st.lists(st.sampled_from(["--lr", "0.1", "--flag", "false", "--name", "x", "--bogus", "1"]), max_size=4))
def test_prefigure_defaults_ini(text: str, argv: list[str]) -> None:
    """A prefigure script's ``defaults.ini``, anything in it, and a command line: the settings,
    or exit 2 with one line on stderr — as prefigure users get for their own mistakes."""
    import contextlib
    import io
    import sys

    from prefigure_compat import get_all_args

    with run_dir() as d, bounded("defaults.ini"):
        (d / "defaults.ini").write_text(text)
        err = io.StringIO()
        saved = sys.argv
        sys.argv = ["train.py", "--config-file", str(d / "defaults.ini"), *argv]
        try:
            with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
                get_all_args(str(d / "defaults.ini"))
        except SystemExit as exc:
            assert exc.code == 2, err.getvalue()
            last = err.getvalue().strip().splitlines()[-1]
            assert "error:" in last, err.getvalue()
        finally:
            sys.argv = saved
