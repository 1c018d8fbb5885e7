"""Fuzz every text reader: any input parses, or gives one line (exit 2 from the command line,
a warning for OFC) — within 2 s of CPU and 200 MB, never a traceback, never a hang.

In-process throughout (``config_utils.cli`` is called with ``args=`` and its ``SystemExit``
caught), so one example costs milliseconds and the suite stays within CI's 3 minutes. CI runs
it derandomized (the ``ci`` hypothesis profile in conftest.py), so a red run is reproducible.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cli_configs import AllTypes, TrainConfig
from fuzz_bounds import FUZZ, FUZZ_CLI, any_char, bounded, hostile_char, hostile_text, one_line
from hypothesis import given
from hypothesis import strategies as st

import config_utils
from config_utils.atomic import write_atomic
from config_utils.convert import convert
from config_utils.errors import ConfigError, SourceError
from config_utils.ofc import OFC, OFCWarning
from config_utils.ofc.core import parse_text
from config_utils.sources.files import read_file
from config_utils.sources.runs import load_run

KEYS = [
    "name", "seed", "out", "level", "tag", "model.hidden", "model.use_bias", "model.dims",
    "model.color", "optim.lr", "optim.betas", "optim.name", "loss.lam", "loss.module._type",
    "loss.module.p1", "loss.module.p3", "model", "optim", "DEFAULTS", "OFC",
]
VALUES = [
    "1", "-0", "1e400", "1" * 400, "9" * 5000, "0.5", "nan", "inf", "True", "no", "None", "''",
    "'x'", '"y', "[1, 2]", "{[1]: 2}", "{1, [2]}", "[" * 300 + "]" * 300, "(1,)", "RED",
    "LossModule2", "a # b", "a ; b", "{'a': 1}", "[[[]]]", "b'x'", "\\", "1_000", "0x10",
]

key_text = st.one_of(st.sampled_from(KEYS), hostile_text)
value_text = st.one_of(st.sampled_from(VALUES), hostile_text)
sep = st.sampled_from([" = ", "=", ": ", " := ", "", " "])
eol = st.sampled_from(["\n", "\r\n", "\n\n", "\r", "\x0c", "\u2028", "", "\n  "])


@st.composite
def ini_texts(draw: st.DrawFn) -> str:
    """Text that is mostly ini-shaped: sections, keys, values, comments, junk."""
    parts = []
    for _ in range(draw(st.integers(0, 12))):
        kind = draw(st.integers(0, 9))
        if kind == 0:
            parts.append(f"[{draw(key_text)}]")
        elif kind == 1:
            parts.append(draw(st.sampled_from(["#", ";", "  #"])) + draw(hostile_text))
        elif kind == 2:
            parts.append(draw(hostile_text))
        else:
            parts.append(draw(key_text) + draw(sep) + draw(value_text))
        parts.append(draw(eol))
    text = "".join(parts)
    if draw(st.booleans()):
        text = "\ufeff" + text
    return text


json_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(), st.text(any_char, max_size=20),
    st.sampled_from(VALUES),
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.one_of(st.sampled_from(KEYS), st.text(any_char, max_size=8)), inner, max_size=4),
    ),
    max_leaves=12,
)


def _deep(kind: str, depth: int) -> str:
    return {"list": "[" * depth + "]" * depth, "dict": '{"a":' * depth + "1" + "}" * depth}[kind]


@contextlib.contextmanager
def _tmpdir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="fuzz-") as d:
        yield Path(d)


def _cli(cls: Any, args: list[str], config_file: Any = None) -> tuple[int, str]:
    """Run ``config_utils.cli`` in-process: (exit status, stderr). 0 when it returned."""
    err, out = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # run-layer unknown keys warn; that is allowed
        try:
            config_utils.cli(cls, args=args, config_file=config_file)
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
    return code, err.getvalue()


def _check_file_reader(path: Path) -> None:
    """read_file: a layer, or one SourceError line; then the command line: 0, or 2 + one line."""
    with bounded(path.name):
        try:
            read_file(path)
        except SourceError as exc:
            assert one_line(str(exc)), repr(str(exc))
    with bounded(f"cli --config-file {path.name}", trace=False):
        code, err = _cli(TrainConfig, [], config_file=path)
    assert code in (0, 2), (code, err)
    if code == 2:
        assert one_line(err.rstrip("\n")) and err.endswith("\n"), repr(err)


def _check_file_text(name: str, text: str) -> None:
    """``text`` saved as it is (no newline translation) as ``name`` in a fresh directory, then read."""
    with _tmpdir() as d:
        path = d / name
        path.write_text(text, encoding="utf-8", newline="")
        _check_file_reader(path)


@FUZZ_CLI
@given(ini_texts())
def test_ini_reader(text: str) -> None:
    _check_file_text("defaults.ini", text)


@FUZZ_CLI
@given(st.one_of(ini_texts(), st.text(hostile_char, max_size=200)))
def test_toml_reader(text: str) -> None:
    _check_file_text("config.toml", text)


@FUZZ_CLI
@given(st.one_of(json_values.map(json.dumps), st.text(hostile_char, max_size=200), ini_texts()))
def test_yaml_reader(text: str) -> None:
    _check_file_text("config.yaml", text)


@FUZZ_CLI
@given(
    st.one_of(
        json_values.map(json.dumps),
        st.dictionaries(st.sampled_from(KEYS), json_values, max_size=6).map(json.dumps),
        st.text(hostile_char, max_size=200),
    )
)
def test_json_reader(text: str) -> None:
    _check_file_text("config.json", text)


@pytest.mark.parametrize("suffix", [".json", ".yaml", ".toml", ".ini"])
@pytest.mark.parametrize("kind", ["list", "dict"])
def test_deep_nesting_in_every_file_format(suffix: str, kind: str, tmp_path: Path) -> None:
    """100,000 levels: one line, bounded, for every format (the fuzzer rarely goes that deep)."""
    text = _deep(kind, 100_000)
    if suffix == ".toml":
        text = "a = " + text.replace('"a":', "a = ")
    elif suffix == ".ini":
        text = "[DEFAULTS]\nname = " + text + "\n"
    path = tmp_path / f"config{suffix}"
    path.write_text(text)
    _check_file_reader(path)


run_records = st.fixed_dictionaries(
    {},
    optional={
        "format": st.one_of(st.just("flows-workspace/run-record"), json_scalars),
        "version": st.one_of(st.just(1), json_scalars),
        "config_type": st.one_of(st.just("cli_configs:TrainConfig"), json_scalars),
        "config": st.one_of(
            st.dictionaries(st.sampled_from(KEYS), json_values, max_size=6), json_values
        ),
        "provenance": json_values,
        "argv": json_values,
    },
)


@FUZZ_CLI
@given(st.one_of(run_records.map(json.dumps), st.text(hostile_char, max_size=200)))
def test_run_record_reader(text: str) -> None:
    with _tmpdir() as d:
        (d / "run_record.json").write_text(text, encoding="utf-8", newline="")
        with bounded("load_run"):
            try:
                load_run(d)
            except ConfigError as exc:
                assert one_line(str(exc)), repr(str(exc))
        with bounded("cli --wandb-config", trace=False):
            code, err = _cli(TrainConfig, ["--wandb-config", str(d)])
        assert code in (0, 2), (code, err)
        if code == 2:
            assert one_line(err.rstrip("\n")), repr(err)


# ------------------------------------------------------------------------------------------ OFC
STEER = ["i", "f", "b", "s", "p", "lit", "color", "opt", "opt_s", "ints", "pair", "many", "weights", "model.hidden"]


def _fresh_ofc(d: Path) -> OFC:
    # the watcher sleeps (poll_interval): the example drives poll() itself
    return OFC(AllTypes(), steerables=STEER, ofc_file=d / "ofc.ini", poll_interval=3600, use_wandb=False)


def _agrees(ofc: OFC, text: str, messages: list[str]) -> None:
    """The file and the config never silently disagree: every key whose file value differs
    from the config's is named by a warning, or the version as a whole was refused aloud."""
    whole = ("incomplete OFC file", "does not end with a line break", "not a regular file", "not UTF-8")
    if any(w in m for m in messages for w in whole):
        return
    parsed = parse_text(text, str(ofc.ofc_file))
    for key, (raw, _line) in parsed.entries.items():
        if key not in ofc.types:
            continue
        try:
            in_file = convert(raw, ofc.types[key], key=key, where="file")
        except ConfigError:
            in_file = object()
        current = ofc.values()[key]
        same = in_file == current or (
            isinstance(current, float) and isinstance(in_file, float) and math.isnan(current) and math.isnan(in_file)
        )
        if not same:
            assert any(f": {key}: " in m for m in messages), (key, raw, current, messages)


@FUZZ
@given(st.data())
def test_ofc_file_reader(data: st.DataObject) -> None:
    """Any text saved as the OFC file: update() never raises (only OFCWarning, one line each),
    and the file and the config agree on every key no warning names."""
    with _tmpdir() as d:
        ofc = _fresh_ofc(d)
        try:
            base = ofc.ofc_file.read_text()
            lines = base.split("\n")
            # mostly edits of the real file (so versions get far), sometimes anything at all
            if data.draw(st.booleans()):
                for _ in range(data.draw(st.integers(1, 4))):
                    i = data.draw(st.integers(0, len(lines) - 1))
                    lines[i] = data.draw(
                        st.one_of(
                            st.builds(lambda k, v: f"{k} = {v}", st.sampled_from(STEER), value_text),
                            ini_texts(),
                        )
                    )
                text = "\n".join(lines)
            else:
                text = data.draw(ini_texts())
            with bounded("ofc"):
                write_atomic(ofc.ofc_file, text)
                with warnings.catch_warnings(record=True) as caught:
                    warnings.simplefilter("always")
                    for _ in range(3):
                        ofc.poll()
                    ofc.update()
            messages = [str(w.message) for w in caught]
            assert all(issubclass(w.category, OFCWarning) for w in caught), messages
            assert all(one_line(m) for m in messages), messages
            _agrees(ofc, text, messages)
        finally:
            ofc.close()


@FUZZ
@given(st.dictionaries(st.one_of(st.sampled_from(STEER), hostile_text), value_text, max_size=5))
def test_gui_submit(form: dict[str, str]) -> None:
    """Any form: submit() returns one-line errors and writes nothing, or writes a complete file
    whose values the next update() applies exactly."""
    with _tmpdir() as d:
        ofc = _fresh_ofc(d)
        try:
            before = ofc.ofc_file.read_text()
            with bounded("submit"):
                errors = ofc.submit(form)
                with warnings.catch_warnings():
                    warnings.simplefilter("error")  # a valid submit applies without a word
                    ofc.update()
            if errors:
                assert all(one_line(m) for m in errors.values()), errors
                assert ofc.ofc_file.read_text() == before
                return
            for key, raw in form.items():
                expected = convert(raw, ofc.types[key], key=key, where="form")
                current = ofc.values()[key]
                assert current == expected or (current != current and expected != expected)
            ofc.poll()
            ofc.poll()
            assert not ofc.pending()  # the file it wrote reads back as what it applied
        finally:
            ofc.close()


# ----------------------------------------------------------------------------------------- argv
FLAGS = [
    "--name", "--seed", "--out", "--level", "--tag", "--model.hidden", "--model.use-bias",
    "--model.dims", "--model.color", "--optim.lr", "--optim.betas", "--optim.name", "--loss.lam",
    "--loss.module.p1", "--loss.module.p3", "loss.module:loss-module2", "loss.module:nope",
    "--config-file", "--config-file=", "--wandb-config", "--wandb-config=", "--flows:from-run",
    "--flows:print-config", "--flows:format=json", "--format", "--", "-", "--nope",
]
argv_items = st.one_of(st.sampled_from(FLAGS), st.sampled_from(VALUES), hostile_text)


@FUZZ_CLI
@given(st.lists(argv_items, max_size=8))
def test_argv(args: list[str]) -> None:
    """Any command line: it parses (or prints the config/help and exits 0), or exits 2; never
    another exception."""
    if any(a in ("-h", "--help") for a in args):
        return
    with _tmpdir() as d, bounded("argv", trace=False):
        with contextlib.chdir(d):
            code, _err = _cli(TrainConfig, args)
    assert code in (0, 2)


@FUZZ_CLI
@given(st.lists(argv_items, min_size=1, max_size=6))
def test_argv_errors_are_one_line(args: list[str]) -> None:
    with _tmpdir() as d, contextlib.chdir(d):
        code, err = _cli(TrainConfig, args)
    if code == 2:
        # the project's own mistakes are one line; tyro's refusals are tyro's whole message, as
        # tyro renders it (docs/cli.md, "Help and errors"), never a traceback
        assert "Traceback" not in err, err
        assert one_line(err.rstrip("\n")) or "For full helptext" in err, err
