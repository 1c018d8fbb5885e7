"""Legacy ``prefigure_compat.OFC``: the file users edit, what ``update()`` returns, steerables.

Why: prefigure scripts steer a run by editing ``<name>-ofc.ini`` (an ``[OFC]`` section of
``key = value`` lines) and log what ``ofc.update()`` returns to W&B as ``args/<key>``. These
tests drive the real watcher thread of ``config_utils.OFC`` through the real file.
"""

from __future__ import annotations

import argparse
import configparser
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import ofc_editing
import pytest

from prefigure_compat import OFC, arg_eval


@pytest.fixture
def args(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> argparse.Namespace:
    monkeypatch.chdir(tmp_path)
    return argparse.Namespace(
        config_file="defaults.ini", wandb_config=None, name="myrun", learning_rate=0.001,
        demo_every=50, use_ema=True, ratios=[4, 2], note="hi",
    )


@pytest.fixture
def ofc(args: argparse.Namespace) -> Iterator[OFC]:
    with OFC(args, steerables=["learning_rate", "demo_every", "use_ema", "ratios"], **ofc_editing.MANUAL) as o:
        yield o


def edit(ofc: OFC, **values: str) -> None:
    """Rewrite lines ``key = ...`` like an editor would (whole file replaced)."""
    ofc_editing.edit_file(ofc.ofc_file, **values)


def wait_update(ofc: OFC) -> dict[str, Any]:
    """``update()`` once the OFC has processed the file on disk (its own polls, no sleep)."""
    return ofc_editing.applied(ofc)


def test_file_name_and_format(ofc: OFC, tmp_path: Path) -> None:
    """``<name>-ofc.ini`` with an ``[OFC]`` section holding exactly the steerable keys; a
    configparser reads it and ``arg_eval`` of each value gives the current argument."""
    assert ofc.ofc_file == "myrun-ofc.ini"  # prefigure's args.name + '-' + ofc_file
    assert (tmp_path / "myrun-ofc.ini").is_file()
    parser = configparser.ConfigParser()
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(ofc.ofc_file)
    assert parser.sections() == ["OFC"]
    values = {k: arg_eval(v) for k, v in parser.items("OFC")}
    assert values == {"learning_rate": 0.001, "demo_every": 50, "use_ema": True, "ratios": [4, 2]}
    assert ofc.section_name == "OFC"


def test_update_without_edit_returns_empty_dict(ofc: OFC) -> None:
    """Polled until settled, an untouched file and a file saved again unchanged (a new
    inode, same text) apply nothing; the same polls do apply a real edit."""
    before = Path(ofc.ofc_file).read_text()
    assert not ofc_editing.settle(ofc)
    assert ofc.update() == {}
    edit(ofc)  # saved again, nothing changed
    assert Path(ofc.ofc_file).read_text() == before
    assert not ofc_editing.settle(ofc)
    assert ofc.update() == {}
    edit(ofc, demo_every="51")
    assert ofc_editing.settle(ofc)
    assert ofc.update() == {"demo_every": 51}


def test_update_returns_changes_and_updates_args(ofc: OFC, args: argparse.Namespace,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    edit(ofc, learning_rate="0.0003", use_ema="False")
    changes = wait_update(ofc)
    assert changes == {"learning_rate": 0.0003, "use_ema": False}
    assert args.learning_rate == 0.0003 and args.use_ema is False
    assert "OFC: learning_rate has been changed to 0.0003" in capsys.readouterr().out
    assert ofc.update() == {}  # reported once
    assert [(c.key, c.old, c.new) for c in ofc.history] == [
        ("learning_rate", 0.001, 0.0003), ("use_ema", True, False),
    ]


def test_list_edit_is_applied(ofc: OFC, args: argparse.Namespace) -> None:
    edit(ofc, ratios="[8, 4, 2]")
    assert wait_update(ofc) == {"ratios": [8, 4, 2]}
    assert args.ratios == [8, 4, 2]


def test_bad_value_keeps_old_and_warns(ofc: OFC, args: argparse.Namespace) -> None:
    edit(ofc, demo_every="often", learning_rate="0.01")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        changes = wait_update(ofc)
    assert changes == {"learning_rate": 0.01}
    assert args.demo_every == 50
    messages = [str(w.message) for w in caught]
    assert any("demo_every: expected int, got 'often'; keeping 50" in m for m in messages), messages


def test_non_steerable_key_not_in_file_and_edit_rejected(ofc: OFC, args: argparse.Namespace) -> None:
    assert "note" not in Path(ofc.ofc_file).read_text()
    edit(ofc, note="changed", demo_every="10")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        changes = wait_update(ofc)
    assert changes == {"demo_every": 10}
    assert args.note == "hi"
    assert any("note: not steerable" in str(w.message) for w in caught)


def test_steerables_none_means_all_but_reserved(args: argparse.Namespace) -> None:
    with OFC(args) as ofc:
        assert ofc.steerables == ["name", "learning_rate", "demo_every", "use_ema", "ratios", "note"]
        text = Path(ofc.ofc_file).read_text()
    assert "config_file" not in text and "wandb_config" not in text


def test_steerable_that_is_not_an_argument_warns_and_the_run_goes_on(args: argparse.Namespace) -> None:
    """prefigure ignores such names (its README lists ``learning_rate``, which its example
    ``defaults.ini`` lacks); here each one gets a warning with a did-you-mean."""
    from config_utils.ofc.core import OFCWarning

    with pytest.warns(OFCWarning) as caught:
        ofc = OFC(args, steerables=["learning_rte", "demo_every", "config_file"], **ofc_editing.MANUAL)
    with ofc:
        assert ofc.steerables == ["demo_every"]
        edit(ofc, demo_every="9")
        assert wait_update(ofc) == {"demo_every": 9}
    assert [str(w.message) for w in caught] == [
        "OFC: steerable 'learning_rte' is not an argument (did you mean 'learning_rate'?); "
        "it is ignored",
        "OFC: steerable 'config_file' is set on the command line only (config_file and "
        "wandb_config cannot change); it is ignored",
    ]


def test_prefigure_positional_signature(args: argparse.Namespace, tmp_path: Path) -> None:
    """``OFC(args, ofc_file, use_gui, sliders, steerables, use_wandb, debug)`` as in prefigure."""
    with OFC(args, "steer.ini", False, False, ["demo_every"], False, False) as ofc:
        assert ofc.ofc_file == "myrun-steer.ini"
        assert ofc.steerables == ["demo_every"]
        assert ofc.gradio_url == ""
        assert ofc.use_gui is False


def test_save_writes_file_applied_at_next_update(ofc: OFC, args: argparse.Namespace) -> None:
    """``save(args_copy)`` is how prefigure's GUI submitted: the file changes, update applies."""
    new = argparse.Namespace(**vars(args))
    new.demo_every = 7
    ofc.save(new)
    assert "demo_every = 7" in Path(ofc.ofc_file).read_text()
    assert ofc.update() == {"demo_every": 7}
    assert args.demo_every == 7


def test_on_change_callback(ofc: OFC) -> None:
    seen: list[tuple[Any, Any]] = []
    ofc.on_change("learning_rate", lambda new, old: seen.append((new, old)))
    edit(ofc, learning_rate="0.5")
    wait_update(ofc)
    assert seen == [(0.5, 0.001)]


# --- listed differences from prefigure's OFC (docs/prefigure-differences.md) ------------

def test_file_holds_only_steerable_keys_with_header_and_types_mode_0600(ofc: OFC) -> None:
    """prefigure wrote every argument, bare, with the umask's mode; here only the steerable
    keys, each under a comment naming its type, after a header saying how edits work; the
    file is private to its owner (written as a temp file renamed over)."""
    import stat

    text = Path(ofc.ofc_file).read_text()
    lines = text.splitlines()
    assert lines[0] == "# flows-workspace on-the-fly control (OFC) file"
    body = lines[lines.index("[OFC]") + 1:]
    assert body == [
        "# learning_rate: float", "learning_rate = 0.001",
        "# demo_every: int", "demo_every = 50",
        "# use_ema: bool", "use_ema = True",
        "# ratios: list[int]", "ratios = [4, 2]",
    ]
    assert stat.S_IMODE(Path(ofc.ofc_file).stat().st_mode) == 0o600


def test_an_edit_applies_after_the_watcher_saw_it_settle_not_at_the_very_next_update(
        ofc: OFC, args: argparse.Namespace) -> None:
    """prefigure re-read the file in every ``update()``; here the watcher's polls read it, and
    a version applies once it read the same at two polls (a half-saved file never applies): an
    ``update()`` right after the write, or after one poll, still returns ``{}`` (a
    check-every-N loop sees the edit a check later)."""
    edit(ofc, demo_every="5")
    assert ofc.update() == {}
    core = ofc_editing.core_of(ofc)
    assert core.poll() is False  # seen once: not settled yet
    assert ofc.update() == {} and args.demo_every == 50
    assert core.poll() is True  # the same text again: processed
    assert ofc.update() == {"demo_every": 5}
    assert args.demo_every == 5


def test_a_second_live_process_on_the_same_file_is_refused(tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """prefigure let two runs write one OFC file (last writer wins, each applying the other's
    values); here the second is refused while the first process lives."""
    import subprocess
    import sys

    from config_utils.errors import OFCError

    monkeypatch.chdir(tmp_path)
    holder = (
        "import argparse, sys, time\n"
        "from prefigure_compat import OFC\n"
        "ofc = OFC(argparse.Namespace(name='shared', lr=0.1))\n"
        "print('ready', flush=True)\n"
        "sys.stdin.readline()\n"
        "ofc.close()\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", holder], cwd=tmp_path, text=True,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        with pytest.raises(OFCError, match=rf"^OFC: .*shared-ofc.ini is in use by the running process {proc.pid}; "
                                           r"it was left as it is: pass another ofc_file$"):
            OFC(argparse.Namespace(name="shared", lr=0.1))
    finally:
        assert proc.stdin is not None
        proc.stdin.write("\n")
        proc.stdin.close()
        proc.wait(timeout=20)
    with OFC(argparse.Namespace(name="shared", lr=0.2)) as ofc:  # the first one has ended
        assert "lr = 0.2" in Path(ofc.ofc_file).read_text()
