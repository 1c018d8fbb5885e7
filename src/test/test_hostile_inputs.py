"""One test per hostile input of the "nothing corrupted, nothing hangs, every mistake one line"
issue (config files, run records, W&B, the OFC file and its GUI submit), each message pinned.

W&B server cases (a malformed API key, HTTP 5xx) are in test_wandb_pull.py, beside the
loopback GraphQL server they need.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
import textwrap
import threading
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from cli_configs import TrainConfig

import config_utils
from config_utils import ini
from config_utils.atomic import write_atomic
from config_utils.errors import ConfigError, IniError, RunSourceError
from config_utils.extras import MissingExtraError
from config_utils.ofc import OFC, OFCWarning
from config_utils.sources.runs import save_run
from config_utils.sources.wandb import pull_config, push_config

ROOT = Path(__file__).resolve().parents[2]
BREAKS = ["\r", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029"]


def cli_error(tmp_path: Path, text: str | None, args: list[str] = (), name: str = "defaults.ini") -> str:  # type: ignore[assignment]
    """Run config_utils.cli in-process on a config file; the one stderr line of exit 2."""
    path = tmp_path / name
    if text is not None:
        path.write_text(text)
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        with pytest.raises(SystemExit) as exc:
            config_utils.cli(
                TrainConfig, prog="train.py", args=list(args), config_file=path if text is not None else None
            )
    assert exc.value.code == 2
    out = err.getvalue()
    assert out.count("\n") == 1 and out.endswith("\n"), out
    return out.rstrip("\n")


# ------------------------------------------------------------------------------ config files
def test_duplicate_key_names_both_lines(tmp_path: Path) -> None:
    assert cli_error(tmp_path, "[DEFAULTS]\nname = x\nname = y\n") == (
        "train.py: error: defaults.ini:3: name: set twice (lines 2 and 3); keep one"
    )


def test_same_key_through_a_section_and_a_dotted_key(tmp_path: Path) -> None:
    assert cli_error(tmp_path, "model.hidden = 1\n[model]\nhidden = 2\n") == (
        "train.py: error: defaults.ini:3: model.hidden: set twice (lines 1 and 3); keep one"
    )


def test_duplicate_section_names_both_lines(tmp_path: Path) -> None:
    assert cli_error(tmp_path, "[model]\nhidden = 1\n[model]\nuse_bias = no\n") == (
        "train.py: error: defaults.ini:3: section [model] appears twice (lines 1 and 3); merge "
        "them into one"
    )


@pytest.mark.parametrize("literal", ["{[1]: 2}", "{1, [2]}"])
def test_value_that_is_not_a_valid_literal(tmp_path: Path, literal: str) -> None:
    assert cli_error(tmp_path, f"[model]\ndims = {literal}\n") == (
        f"train.py: error: defaults.ini:2: model.dims: expected list[int], got {literal!r} "
        "(not a valid literal)"
    )


def test_str_field_whose_text_starts_with_a_brace_is_just_text(tmp_path: Path) -> None:
    (tmp_path / "defaults.ini").write_text("name = {[1]: 2}\n")
    cfg = config_utils.cli(TrainConfig, args=[], config_file=tmp_path / "defaults.ini")
    assert cfg.name == "{[1]: 2}"


def test_list_nested_1000_deep(tmp_path: Path) -> None:
    deep = "[" * 1000 + "]" * 1000
    assert cli_error(tmp_path, f"[model]\ndims = {deep}\n") == (
        "train.py: error: defaults.ini:2: model.dims: expected list[int], got "
        f"{repr(deep)[:60]}... (2002 characters) (nested deeper than 100 levels)"
    )


def test_json_nested_100000_deep(tmp_path: Path) -> None:
    text = "[" * 100_000 + "]" * 100_000
    assert cli_error(tmp_path, text, name="c.json") == "train.py: error: c.json: nested deeper than 100 levels"
    assert cli_error(tmp_path, '{"a":' * 100_000 + "1" + "}" * 100_000, name="d.json") == (
        "train.py: error: d.json: nested deeper than 100 levels"
    )


def test_400_digit_number_for_a_float(tmp_path: Path) -> None:
    digits = "1" * 400
    assert cli_error(tmp_path, f"[optim]\nlr = {digits}\n") == (
        f"train.py: error: defaults.ini:2: optim.lr: expected float, got {repr(digits)[:60]}... "
        "(402 characters) (too large for a float)"
    )


def test_5000_digit_int_is_refused_in_one_line(tmp_path: Path) -> None:
    """Valid Python, but beyond Python's int-from-text limit (4300 digits): refused, one line,
    for an int field and for a float field."""
    digits = "1" * 5000
    assert cli_error(tmp_path, f"seed = {digits}\n") == (
        f"train.py: error: defaults.ini:1: seed: expected int, got {repr(digits)[:60]}... (5002 "
        "characters) (5000 digits; Python reads at most 4300 digits of an integer written as text)"
    )
    assert cli_error(tmp_path, f"[optim]\nlr = {digits}\n").endswith("(too large for a float)")
    assert cli_error(tmp_path, f'{{"seed": {digits}}}', name="c.json") == (
        "train.py: error: c.json: not valid JSON: Exceeds the limit (4300 digits) for integer "
        "string conversion: value has 5000 digits; use sys.set_int_max_str_digits() to increase "
        "the limit"
    )


def test_ini_writer_refuses_what_it_could_not_read_back() -> None:
    with pytest.raises(IniError) as exc:
        ini.write_ini([ini.Entry("a b", "1")])
    assert str(exc.value) == (
        "'a b': cannot be written as an ini key (each dotted part must be a name without "
        "spaces, quotes, brackets, '=', ':', '#' or ';')"
    )
    with pytest.raises(IniError) as exc:
        ini.write_ini([ini.Entry("name", "run #3")])
    assert str(exc.value) == (
        "name: the value text 'run #3' would not read back as written; format it with format_value()"
    )


def test_every_line_break_character_round_trips_through_a_generated_ini() -> None:
    """The writer that seeds ``defaults.ini`` (flow_create --from-run) and the reader agree."""
    values = {f"k{i}": f"a{c}b" for i, c in enumerate(BREAKS)} | {"tab": "\t", "empty": ""}
    text = ini.write_ini([ini.Entry(k, ini.format_value(v, str)) for k, v in values.items()])
    doc = ini.read_ini(text, source="defaults.ini")
    assert {e.key: ini.parse_value(e.value_text, str, key=e.key, where="x") for e in doc.entries} == values


# ------------------------------------------------------------------------------- run records
@pytest.mark.parametrize("version", ["abc", None])
def test_run_record_with_a_bad_version(tmp_path: Path, version: Any) -> None:
    run = tmp_path / "run"
    run.mkdir()
    (run / "run_record.json").write_text(
        json.dumps({"format": "flows-workspace/run-record", "version": version, "config": {}})
    )
    assert cli_error(tmp_path, None, ["--wandb-config", str(run)]) == (
        f"train.py: error: run {run}: {run}/run_record.json: record format version must be a "
        f"whole number >= 1, got {version!r}"
    )


@dataclass
class Secrets:
    token: str = "OMITTED"
    blob: bytes = b"abc"
    names: list[str] = field(default_factory=list)


@dataclass
class Named:
    name: str = "default"


def test_save_run_keeps_the_string_omitted(tmp_path: Path) -> None:
    """``OMITTED`` is a marker only between a tracker push and a tracker pull; a run record
    gives the string back (docs/design.md, "Run records")."""
    save_run(Named(name="OMITTED"), tmp_path)
    back = config_utils.cli(Named, args=["--from-run", str(tmp_path)], config_file=None)
    assert back.name == "OMITTED"
    assert config_utils.provenance(back)["name"] == f"run:{tmp_path}"


def test_save_run_refuses_bytes_naming_the_key(tmp_path: Path) -> None:
    with pytest.raises(RunSourceError) as exc:
        save_run(Secrets(token="t"), tmp_path)
    assert str(exc.value) == (
        "save_run: blob: b'abc' cannot be saved in a run record: it would not read back (run "
        "record: blob: expected bytes, got \"b'abc'\")"
    )


def test_push_config_refuses_what_a_pull_could_not_give_back() -> None:
    with pytest.raises(RunSourceError, match=r"^push_config: token: 'OMITTED' is the trackers' marker"):
        push_config(None, Secrets(blob=b""))


# --------------------------------------------------------------------------------------- W&B
@pytest.mark.parametrize("value", ["inf", "nan", "1e309", "soon", "-1", "0"])
def test_flows_wandb_timeout_must_be_a_finite_positive_number(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("FLOWS_WANDB_TIMEOUT", value)
    with pytest.raises(ConfigError) as exc:
        pull_config("ent/proj/abc123")
    assert str(exc.value) == f"FLOWS_WANDB_TIMEOUT: expected a positive number (seconds), got {value!r}"


def test_empty_run_reference() -> None:
    with pytest.raises(RunSourceError) as exc:
        pull_config(" ")
    assert str(exc.value) == (
        "run reference is empty: expected a W&B run URL, ENTITY/PROJECT/RUN_ID or a run directory"
    )


def test_empty_wandb_config_flag_is_an_error(tmp_path: Path) -> None:
    assert cli_error(tmp_path, None, ["--wandb-config="]) == (
        "train.py: error: --wandb-config needs a value, got an empty one"
    )


def test_empty_offline_run_log_names_the_file(tmp_path: Path) -> None:
    run = tmp_path / "wandb" / "offline-run-20261130_000000-abc123"
    run.mkdir(parents=True)
    (run / "run-abc123.wandb").write_bytes(b"")
    with pytest.raises(RunSourceError) as exc:
        pull_config(str(run))
    assert str(exc.value) == (
        f"wandb-offline:{run}: the run log {run}/run-abc123.wandb is empty (the run was stopped "
        "before W&B wrote anything?); it holds no config"
    )


def test_missing_wandb_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "wandb", None)  # import wandb now fails as if not installed
    with pytest.raises(MissingExtraError) as exc:
        push_config(None, Secrets(token="t", blob=b""))
    assert str(exc.value) == "push_config needs the 'wandb' extra: pip install 'flows-workspace[wandb]'"
    monkeypatch.setenv("WANDB_API_KEY", "x" * 40)
    with pytest.raises(MissingExtraError) as exc:
        pull_config("ent/proj/abc123")
    assert str(exc.value) == (
        "pulling a W&B run needs the 'wandb' extra: pip install 'flows-workspace[wandb]'"
    )


# --------------------------------------------------------------------------------------- OFC
@dataclass
class Optim:
    lr: float = 0.1


@dataclass
class Steered:
    name: str = "run"
    steps: int = 1000
    weights: dict[str, float] = field(default_factory=dict)
    optim: Optim = field(default_factory=Optim)


KEYS = ["name", "steps", "weights", "optim.lr"]


def make_ofc(tmp_path: Path, cfg: Any = None, **kw: Any) -> OFC:
    return OFC(cfg or Steered(), KEYS, ofc_file=tmp_path / "ofc.ini", poll_interval=3600, use_wandb=False, **kw)


def settle(ofc: OFC, n: int = 2) -> None:
    for _ in range(n):
        ofc.poll()


def edit(path: Path, key: str, text: str) -> str:
    lines = path.read_text().split("\n")
    (i,) = [n for n, line in enumerate(lines) if line.startswith(f"{key} = ")]
    lines[i] = f"{key} = {text}"
    new = "\n".join(lines)
    write_atomic(path, new)
    return new


@pytest.mark.parametrize("char", BREAKS + ["\t", "'", '"', " #", " ;", "\\"])
def test_steered_string_with_any_line_break_is_never_changed(tmp_path: Path, char: str) -> None:
    """The value nobody edited stays: the file OFC writes reads back to the same string."""
    value = f" a{char}b{char} "
    with make_ofc(tmp_path, Steered(name=value)) as ofc:
        settle(ofc, 3)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            assert ofc.update() == {}
        assert ofc.cfg.name == value and ofc.history == []
        edit(ofc.ofc_file, "steps", "5")  # another key's edit re-reads every line
        settle(ofc)
        assert ofc.update() == {"steps": 5} and ofc.cfg.name == value


def test_one_bad_value_rejects_only_that_key_once(tmp_path: Path) -> None:
    with make_ofc(tmp_path) as ofc:
        path = ofc.ofc_file
        edit(path, "weights", "{[1]: 2}")
        edit(path, "optim.lr", "0.7")
        settle(ofc)
        with pytest.warns(OFCWarning) as rec:
            assert ofc.update() == {"optim.lr": 0.7}
        line = path.read_text().split("\n").index("weights = {[1]: 2}") + 1
        assert [str(w.message) for w in rec] == [
            f"{path}:{line}: weights: expected dict[str, float], got '{{[1]: 2}}' (not a valid "
            "literal); keeping {}"
        ]
        edit(path, "steps", "7")  # the bad line is still there: not reported again
        settle(ofc)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            for _ in range(3):
                ofc.poll()
            assert ofc.update() == {"steps": 7}


def test_file_edit_then_gui_submit_50ms_later_keeps_both(tmp_path: Path) -> None:
    """Concurrent writers: a submit merges into a file edit it has not seen (the watcher has
    not settled it yet) instead of writing its stale copy over it."""
    with make_ofc(tmp_path) as ofc:
        edit(ofc.ofc_file, "steps", "5")
        time.sleep(0.05)
        assert ofc.submit({"optim.lr": "0.5"}) == {}
        text = ofc.ofc_file.read_text()
        assert "steps = 5\n" in text and "optim.lr = 0.5\n" in text
        settle(ofc)
        assert ofc.update() == {"optim.lr": 0.5, "steps": 5}
        assert [(c.key, c.source) for c in ofc.history] == [("optim.lr", "gui"), ("steps", "file")]


def test_gui_submit_refuses_to_merge_into_a_half_written_file(tmp_path: Path) -> None:
    with make_ofc(tmp_path) as ofc:
        path = ofc.ofc_file
        cut = path.read_text().replace("steps = 1000", "steps = 10").rstrip("\n")
        path.write_text(cut)  # a writer still at work: no final line break
        assert ofc.submit({"optim.lr": "0.5"}) == {
            "optim.lr": f"gui: {path} was changed since this page loaded and it does not end with "
            "a line break (still being written?); nothing written, submit again in a moment"
        }
        assert path.read_text() == cut


def test_warnings_as_errors_never_reach_the_training_loop(tmp_path: Path) -> None:
    """``python -W error``: update() applies the valid edit and returns normally; the rejected
    key is reported through logging (the config_utils.ofc logger) instead of raising."""
    script = textwrap.dedent(
        f"""
        import sys
        sys.path.insert(0, {str(Path(__file__).parent)!r})
        from pathlib import Path
        from test_hostile_inputs import Steered, KEYS, edit
        from config_utils.ofc import OFC
        ofc = OFC(Steered(), KEYS, ofc_file=Path({str(tmp_path)!r}) / "ofc.ini", poll_interval=3600)
        edit(ofc.ofc_file, "weights", "{{[1]: 2}}")
        edit(ofc.ofc_file, "optim.lr", "0.7")
        ofc.poll(); ofc.poll()
        print(ofc.update(), ofc.cfg.optim.lr)
        ofc.close()
        """
    )
    done = subprocess.run(
        [sys.executable, "-W", "error", "-c", script],
        capture_output=True, text=True, timeout=60, cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "{'optim.lr': 0.7} 0.7\n"
    applied, line = done.stderr.splitlines()  # the run's log line of the change, then the report
    assert applied.startswith("ofc: optim.lr ") and applied.endswith(" → 0.7 (file, step 1)")
    assert line.endswith("weights: expected dict[str, float], got '{[1]: 2}' (not a valid literal); keeping {}")


def test_fifo_in_place_of_the_file_warns_once_and_recovers(tmp_path: Path) -> None:
    with make_ofc(tmp_path) as ofc:
        path = ofc.ofc_file
        good = path.read_text()
        path.unlink()
        os.mkfifo(path)
        start = time.monotonic()
        settle(ofc, 3)  # never blocks on the FIFO
        assert time.monotonic() - start < 1.0
        with pytest.warns(OFCWarning) as rec:
            assert ofc.update() == {}
        assert [str(w.message) for w in rec] == [
            f"{path}: not a regular file (a FIFO); edits are not read until a regular file is back"
        ]
        path.unlink()
        write_atomic(path, good.replace("steps = 1000", "steps = 3"))
        settle(ofc)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            assert ofc.update() == {"steps": 3}


def test_symlink_to_dev_zero_is_never_read(tmp_path: Path) -> None:
    import tracemalloc

    with make_ofc(tmp_path) as ofc:
        path = ofc.ofc_file
        path.unlink()
        path.symlink_to("/dev/zero")
        tracemalloc.start()
        settle(ofc, 5)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert peak < 5 * 2**20
        with pytest.warns(OFCWarning) as rec:
            ofc.update()
        assert [str(w.message) for w in rec] == [
            f"{path}: not a regular file (a character device); edits are not read until a "
            "regular file is back"
        ]


def test_oversized_file_is_not_read(tmp_path: Path) -> None:
    from config_utils.ofc.core import MAX_FILE_BYTES

    with make_ofc(tmp_path) as ofc:
        path = ofc.ofc_file
        write_atomic(path, path.read_text() + "#" * MAX_FILE_BYTES + "\n")
        settle(ofc)
        with pytest.warns(OFCWarning, match=r"bytes, more than the 1 MiB allowed; ignored"):
            ofc.update()


def test_stalled_writer_never_gets_a_truncated_value_applied(tmp_path: Path) -> None:
    """A writer that writes in place and stalls mid-value longer than any settle time."""
    with make_ofc(tmp_path) as ofc:
        path = ofc.ofc_file
        full = path.read_text().replace("steps = 1000", "steps = 2000")
        cut = full.index("steps = 2000") + len("steps = 20")
        stop = threading.Event()
        with open(path, "w") as fh:  # in place, like `cat > file`
            fh.write(full[:cut])
            fh.flush()
            for _ in range(5):  # many polls (settle time passes several times over)
                settle(ofc)
            assert not any(k == "steps" for k in ofc._staged)
            fh.write(full[cut:])
        stop.set()
        settle(ofc)
        with warnings.catch_warnings(record=True):
            warnings.simplefilter("always")
            applied = ofc.update()
        assert applied == {"steps": 2000} and ofc.cfg.steps == 2000
