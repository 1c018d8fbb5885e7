"""prefigure's own usage, unchanged but for the package name: its examples and README patterns.

Why: a drop-in is proven on the peer's code, not on ours. prefigure's repository ships
``examples/ofc_test.py`` (settings, WandbLogger, push, OFC with the GUI and six steerables,
an endless update loop), ``examples/gin_ofc_test.py`` (the same in gin mode),
``examples/defaults.ini`` and ``examples/example.gin``; older scripts import from the
submodules ``prefigure.prefigure`` and ``prefigure.ofc``. Each test below does what one of
those does, in this project's words, against ``prefigure_compat``. The comparison of exported
names and of ``BareParser``'s output against the real prefigure is in
``test_compat_differential.py``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import urllib.request
import warnings
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import ofc_editing
import pytest

import prefigure_compat
from prefigure_compat import OFC as PackageOFC
from prefigure_compat.ofc import OFC
from prefigure_compat.prefigure import get_all_args, push_wandb_config

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "prefigure"
#: prefigure's examples/defaults.ini, kept verbatim in examples/prefigure/
PREFIGURE_INI = (EXAMPLES / "defaults.ini").read_text()
#: the steerables of prefigure's ofc_test.py and README (learning_rate is not in its ini)
OFC_TEST_STEERABLES = ["learning_rate", "demo_every", "demo_steps", "num_demos", "checkpoint_every", "ema_decay"]

pytestmark = pytest.mark.filterwarnings("ignore:.*(no_silent_downcasting|copy keyword)")


@pytest.fixture
def prefigure_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working directory holding prefigure's example defaults.ini, as its examples expect."""
    (tmp_path / "defaults.ini").write_text(PREFIGURE_INI)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def parse(monkeypatch: pytest.MonkeyPatch, *argv: str) -> argparse.Namespace:
    monkeypatch.setattr(sys, "argv", ["ofc_test.py", *argv])
    return get_all_args()


def replace_value(path: Path, key: str, text: str) -> None:
    """Change ``key = ...`` in the OFC file the way an editor saves: a new file renamed over."""
    lines = path.read_text().splitlines()
    lines = [f"{key} = {text}" if line.split("=", 1)[0].strip() == key else line for line in lines]
    tmp = path.with_name(path.name + ".edit")
    tmp.write_text("\n".join(lines) + "\n")
    tmp.replace(path)


def updates_until_change(ofc: Any) -> dict[str, Any]:
    """``update()`` once the OFC has processed the file on disk: its own ``poll()`` drives
    it (src/test/ofc_editing.py), no sleep."""
    return ofc_editing.applied(ofc)


# --- the submodule imports of older scripts ---------------------------------------------------

def test_submodule_imports_are_the_package_objects() -> None:
    from prefigure_compat.ofc import get_all_args as ofc_get_all_args
    from prefigure_compat.prefigure import BareParser, arg_eval, read_config

    assert OFC is PackageOFC
    assert get_all_args is prefigure_compat.get_all_args is ofc_get_all_args
    assert push_wandb_config is prefigure_compat.push_wandb_config
    assert BareParser is prefigure_compat.BareParser
    assert arg_eval("[4, 2]") == [4, 2]
    assert callable(read_config)


def test_star_imports_stay_light() -> None:
    """``from prefigure_compat.prefigure import *`` (and ``.ofc``) hands over ``wandb``, ``gr``
    and ``gb`` without importing wandb or gradio; prefigure imported both (~7 s)."""
    code = (
        "import sys, json\n"
        "from prefigure_compat.prefigure import *\n"
        "from prefigure_compat.ofc import *\n"
        "names = [n for n in ('wandb', 'gr', 'gb', 'distutils') if n in globals()]\n"
        "heavy = [m for m in ('wandb', 'gradio', 'torch', 'tyro', 'distutils') if m in sys.modules]\n"
        "print(json.dumps([names, heavy]))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    names, heavy = json.loads(proc.stdout.splitlines()[-1])
    assert names == ["wandb", "gr", "gb", "distutils"]
    assert heavy == []


def test_get_all_args_from_the_submodule_reads_prefigures_example(prefigure_dir: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    args = parse(monkeypatch, "--name", "test-prefigure", "--batch-size", "16")
    assert (args.name, args.batch_size, args.accum_batches) == ("test-prefigure", 16, 2)
    assert args.ratios == [4, 4, 2, 2, 2] and args.ema_decay == 0.995


# --- ofc_test.py: steerables that are not arguments, the update loop -------------------------

def test_ofc_test_loop_with_a_steerable_that_is_not_an_argument(prefigure_dir: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """ofc_test.py steers ``learning_rate``, which prefigure's defaults.ini lacks: a warning
    naming it, then the loop runs and edits of the other five apply."""
    from config_utils.ofc.core import OFCWarning

    args = parse(monkeypatch, "--name", "ofc-test")
    with pytest.warns(OFCWarning, match=r"steerable 'learning_rate' is not an argument"):
        ofc = OFC(args, use_gui=False, steerables=OFC_TEST_STEERABLES, use_wandb=True)
    with ofc:
        assert ofc.steerables == OFC_TEST_STEERABLES[1:]
        assert ofc.ofc_file == "ofc-test-ofc.ini"
        assert ofc.gradio_url == ""
        assert ofc.update() == {}
        replace_value(prefigure_dir / "ofc-test-ofc.ini", "demo_every", "10")
        assert updates_until_change(ofc) == {"demo_every": 10}
        assert args.demo_every == 10
        replace_value(prefigure_dir / "ofc-test-ofc.ini", "ema_decay", "0.9")
        assert updates_until_change(ofc) == {"ema_decay": 0.9}


def test_readme_check_every_pattern(prefigure_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """prefigure's README: ``if step % args.check_ofc_every == 0: changes = ofc.update()``, then
    the script logs ``args/<key>`` itself; the OFC does not log too (no double entries)."""
    import wandb

    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_SILENT", "true")
    args = parse(monkeypatch, "--name", "readme", "--check-ofc-every", "5")
    run = wandb.init(project="readme", dir=str(prefigure_dir), reinit="finish_previous")
    logged: list[dict[str, Any]] = []  # what reaches run.log other than the script's wandb.log
    original_log = run.log

    def recording_log(data: dict[str, Any], *a: Any, **kw: Any) -> None:
        logged.append(dict(data))
        original_log(data, *a, **kw)

    monkeypatch.setattr(run, "log", recording_log)  # wandb.log stays bound to the original
    try:
        with OFC(args, steerables=["demo_every"]) as ofc:
            replace_value(prefigure_dir / "readme-ofc.ini", "demo_every", "3")
            ofc_editing.settle(ofc)  # the watcher has seen the edit (as a while later in training)
            seen: dict[str, Any] = {}
            for step in range(1, 4 * args.check_ofc_every + 1):
                if step % args.check_ofc_every == 0:
                    changes = ofc.update()
                    if changes:
                        seen = changes
                        wandb.log({"args/" + k: v for k, v in changes.items()}, step=step)
                        break
    finally:
        run.finish()
    assert seen == {"demo_every": 3}
    assert logged == []  # the OFC logged nothing itself: the script's one log is the only one


def test_ofc_with_a_run_name_holding_a_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``args.name = "runs/exp1"``: prefigure's ``name + '-' + ofc_file`` is a file in ``runs/``;
    the directory is created."""
    monkeypatch.chdir(tmp_path)
    args = argparse.Namespace(name="runs/exp1", lr=0.1)
    with OFC(args) as ofc:
        assert ofc.ofc_file == "runs/exp1-ofc.ini"
        assert (tmp_path / "runs" / "exp1-ofc.ini").is_file()
        replace_value(tmp_path / "runs" / "exp1-ofc.ini", "lr", "0.5")
        assert updates_until_change(ofc) == {"lr": 0.5}


# --- gin_ofc_test.py: gin mode with an OFC ---------------------------------------------------

def test_gin_mode_with_an_ofc(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``--config-file example.gin``: gin binds the configurables and nothing else is read; the
    script takes its run name from gin and starts an OFC over the few arguments there are."""
    import gin

    @gin.configurable("greeting", module="compat_upstream")
    def greeting(msg: str = "Standard run") -> str:
        return msg

    @gin.configurable("run_name", module="compat_upstream")
    def run_name(name: str | None = None) -> str | None:
        return name

    (tmp_path / "example.gin").write_text(
        "compat_upstream.greeting.msg = 'Now running with gin'\n"
        "compat_upstream.run_name.name = 'gin-run'\n"
    )
    (tmp_path / "defaults.ini").write_text(PREFIGURE_INI)
    monkeypatch.chdir(tmp_path)
    try:
        args = parse(monkeypatch, "--config-file", "example.gin")
        assert vars(args) == {"config_file": "example.gin", "wandb_config": None}
        assert greeting() == "Now running with gin"
        # gin mode has no `name` argument (prefigure's example assumes one and fails there)
        args.name = getattr(args, "name", None) or run_name()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            ofc = OFC(args, gui=False, steerables=OFC_TEST_STEERABLES)
        with ofc:
            assert len(caught) == len(OFC_TEST_STEERABLES)  # none of them is an argument
            assert ofc.steerables == []
            assert ofc.ofc_file == "gin-run-ofc.ini"
            assert ofc.update() == {}
        with OFC(args, gui=False) as every:  # steerables=None: every argument but the reserved
            assert every.steerables == ["name"]
            replace_value(tmp_path / "gin-run-ofc.ini", "name", "gin-run-2")
            assert updates_until_change(every) == {"name": "gin-run-2"}
    finally:
        gin.clear_config()


# --- prefigure's OFC attributes, without a GUI -------------------------------------------------

def test_gui_attributes_without_a_gui(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """As in prefigure before a GUI starts: no demo, no launch time, no columns, an empty
    ``args_gui_dict``; ``on_gui_submit`` still writes values (in steerable order)."""
    monkeypatch.chdir(tmp_path)
    args = argparse.Namespace(name="r", lr=0.1, demo_every=50, use_ema=True)
    with OFC(args, steerables=["lr", "demo_every", "use_ema"]) as ofc:
        assert (ofc.demo, ofc.demo_datetime, ofc.columns, ofc.gradio_url) == (None, None, None, "")
        assert list(ofc.args_gui_dict) == []
        assert ofc.section_name == "OFC"
        ofc.on_gui_submit("0.25", 7)
        assert updates_until_change(ofc) == {"lr": 0.25, "demo_every": 7}
        assert (args.lr, args.demo_every, args.use_ema) == (0.25, 7, True)


def test_on_gui_submit_rejects_a_bad_value_and_too_many_values(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    from config_utils.errors import OFCError

    monkeypatch.chdir(tmp_path)
    args = argparse.Namespace(name="r", lr=0.1, demo_every=50)
    with OFC(args, steerables=["lr", "demo_every"]) as ofc:
        with pytest.raises(OFCError, match=r"^OFC.on_gui_submit: gui:.*demo_every.*'often'"):
            ofc.on_gui_submit("0.2", "often")
        with pytest.raises(OFCError, match=r"^OFC.on_gui_submit: 3 values for 2 GUI keys \(lr, demo_every\); nothing was changed$"):
            ofc.on_gui_submit(0.2, 5, 6)
        before = Path(ofc.ofc_file).read_text()
        ofc_editing.settle(ofc)
        assert ofc.update() == {}
        assert Path(ofc.ofc_file).read_text() == before  # nothing was written either
        assert args.lr == 0.1


# --- missing wandb: one line naming the extra -------------------------------------------------

def test_push_wandb_config_without_wandb_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    from config_utils.extras import MissingExtraError

    monkeypatch.setitem(sys.modules, "wandb", None)  # as if wandb were not installed
    with pytest.raises(MissingExtraError) as info:
        push_wandb_config(None, argparse.Namespace(lr=0.1))
    assert str(info.value) == "push_wandb_config needs the 'wandb' extra: pip install 'flows-workspace[wandb]'"


def test_wandb_config_url_without_wandb_exits_2_naming_the_extra(prefigure_dir: Path,
                                                                 monkeypatch: pytest.MonkeyPatch,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setitem(sys.modules, "wandb", None)
    with pytest.raises(SystemExit) as info:
        parse(monkeypatch, "--wandb-config", "https://wandb.ai/me/proj/runs/abc123")
    assert info.value.code == 2
    assert capsys.readouterr().err == (
        "ofc_test.py: error: --wandb-config with a W&B run needs the 'wandb' extra: "
        "pip install 'flows-workspace[wandb]'\n"
    )


def test_lazy_wandb_name_without_wandb_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    from config_utils.extras import MissingExtraError
    from prefigure_compat._lazy import LazyModule

    monkeypatch.setitem(sys.modules, "wandb", None)
    fresh = LazyModule("wandb", extra="wandb")
    with pytest.raises(MissingExtraError, match=r"^wandb needs the 'wandb' extra: pip install 'flows-workspace\[wandb\]'$"):
        fresh.init()


# --- the GUI attributes with a real gradio page (slow: import gradio ~6 s) ---------------------

@pytest.fixture
def gui_ofc(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[OFC, argparse.Namespace]]:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("OFC_USERNAME", raising=False)
    monkeypatch.delenv("OFC_PASSWORD", raising=False)
    args = argparse.Namespace(name="gui", learning_rate=0.001, demo_every=50, use_ema=True, ratios=[4, 2])
    with OFC(args, gui=True, steerables=["learning_rate", "demo_every", "use_ema", "ratios"]) as ofc:
        yield ofc, args


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return bool(response.status == 200)
    except OSError:
        return False


@pytest.mark.slow
def test_gui_attributes_with_a_gui(gui_ofc: tuple[OFC, argparse.Namespace]) -> None:
    """``OFC(args, gui=True)`` (prefigure's README and gin example; prefigure 0.0.10 itself has
    no ``gui`` keyword): ``demo`` is the gradio page, ``demo_datetime`` its launch time,
    ``columns`` 3, ``args_gui_dict`` the GUI's keys and values; ``on_gui_submit`` takes the
    values in that order and the loop applies them at its next ``update()``;
    ``create_gradio_interface`` relaunches; ``create_gui_element`` makes one widget."""
    import gradio as gr

    ofc, args = gui_ofc
    assert ofc.gradio_url.startswith("http://127.0.0.1:") and _answers(ofc.gradio_url)
    assert isinstance(ofc.demo, gr.Blocks)
    assert isinstance(ofc.demo_datetime, datetime)
    assert ofc.columns == 3
    assert dict(ofc.args_gui_dict) == {"learning_rate": 0.001, "demo_every": 50, "use_ema": True, "ratios": [4, 2]}

    ofc.on_gui_submit(0.01, 60, "False", "[8, 8]")
    assert updates_until_change(ofc) == {"learning_rate": 0.01, "demo_every": 60, "use_ema": False, "ratios": [8, 8]}
    assert (args.learning_rate, args.demo_every, args.use_ema, args.ratios) == (0.01, 60, False, [8, 8])
    assert ofc.args_gui_dict["ratios"] == [8, 8]

    first_demo, first_time = ofc.demo, ofc.demo_datetime
    url = ofc.create_gradio_interface(sliders=True, columns=2)
    assert url == ofc.gradio_url and _answers(url)
    assert ofc.demo is not first_demo and ofc.demo_datetime is not None and ofc.demo_datetime >= first_time
    assert (ofc.columns, ofc.sliders) == (2, True)

    radio = ofc.create_gui_element("use_ema", True)
    slider = ofc.create_gui_element("demo_every", 60, sliders=True)
    text = ofc.create_gui_element("ratios", [8, 8])
    assert isinstance(radio, gr.Radio) and radio.value == "True"
    assert isinstance(slider, gr.Slider) and slider.value == 60
    assert isinstance(text, gr.Textbox) and text.value == "[8, 8]"


@pytest.mark.slow
def test_create_gradio_interface_starts_a_gui_later(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A script may call ``create_gradio_interface()`` itself on an OFC made without a GUI;
    ``close()`` stops that page too."""
    monkeypatch.chdir(tmp_path)
    args = argparse.Namespace(name="late", lr=0.1)
    ofc = OFC(args)
    try:
        assert ofc.demo is None
        url = ofc.create_gradio_interface()
        assert url.startswith("http://127.0.0.1:") and _answers(url)
        assert ofc.demo is not None and ofc.columns == 3 and ofc.use_gui
    finally:
        ofc.close()
    assert ofc.demo is None
    assert not _answers(url)


@pytest.mark.slow
def test_gui_link_goes_to_wandb_as_ofc_gui_uncommitted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """prefigure logged ``gradio_url`` with a committed ``wandb.log`` (one step used up);
    here the link is logged as ``ofc/gui`` with ``commit=False``, so the run's steps stay the
    script's. The page takes a free port, not gradio's 7860."""
    import wandb

    monkeypatch.chdir(tmp_path)
    run = wandb.init(project="gui-link", dir=str(tmp_path), reinit="finish_previous")
    calls: list[tuple[dict[str, Any], dict[str, Any]]] = []
    original_log = run.log

    def recording_log(data: dict[str, Any], *a: Any, **kw: Any) -> None:
        calls.append((dict(data), dict(kw)))
        original_log(data, *a, **kw)

    monkeypatch.setattr(run, "log", recording_log)
    try:
        with OFC(argparse.Namespace(name="link", lr=0.1), gui=True) as ofc:
            url = ofc.gradio_url
    finally:
        run.finish()
    assert not url.startswith("http://127.0.0.1:7860/")
    assert [(sorted(data), kw) for data, kw in calls] == [(["ofc/gui"], {"commit": False})]
    assert url in calls[0][0]["ofc/gui"].html


# --- ofc_test.py end to end: a subprocess, W&B offline, Lightning's WandbLogger, the GUI -------

@pytest.mark.slow
def test_ofc_test_example_runs_with_wandb_offline(tmp_path: Path) -> None:
    """examples/prefigure/steer.py does what prefigure's examples/ofc_test.py does (the README
    says how to run that file itself): it starts, warns about ``learning_rate``, serves the GUI,
    and applies an edit of the OFC file while it loops; then it is stopped as a user would."""
    work = tmp_path / "work"
    work.mkdir()
    (work / "defaults.ini").write_text(PREFIGURE_INI)
    env = {**os.environ, "WANDB_MODE": "offline", "WANDB_SILENT": "true", "WANDB_DIR": str(work),
           "PYTHONUNBUFFERED": "1", "GRADIO_ANALYTICS_ENABLED": "False"}
    env.pop("OFC_USERNAME", None)
    env.pop("OFC_PASSWORD", None)
    proc = subprocess.Popen(
        [sys.executable, str(EXAMPLES / "steer.py"), "--name", "steer-test"],
        cwd=work, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    lines: list[str] = []
    try:
        assert proc.stdout is not None
        deadline = time.monotonic() + 120
        edited = False
        for line in proc.stdout:
            lines.append(line)
            if line.startswith("ofc.gradio_url = ") and not edited:
                assert _answers(line.split("=", 1)[1].strip()), lines
                replace_value(work / "steer-test-ofc.ini", "num_demos", "4")
                edited = True
            if "OFC: num_demos has been changed to 4" in line or time.monotonic() > deadline:
                break
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    text = "".join(lines)
    assert "OFC: num_demos has been changed to 4" in text, text
    assert "steerable 'learning_rate' is not an argument" in text
    assert "Traceback" not in text
    run_dirs = list((work / "wandb").glob("offline-run-*"))
    assert len(run_dirs) == 1


# --- the table of differences (docs/prefigure-differences.md) names tests that exist ---------

def test_every_difference_in_the_docs_names_an_existing_test() -> None:
    """Each row of docs/prefigure-differences.md ends with the test that pins it."""
    import re

    page = (ROOT / "docs" / "prefigure-differences.md").read_text()
    section = page.split("# Differences from prefigure\n", 1)[1].split("\n## ", 1)[0]
    files = {"fixes": "test_compat_fixes.py", "ofc": "test_compat_ofc.py",
             "upstream": "test_compat_upstream.py", "diff": "test_compat_differential.py"}
    rows = [line for line in section.splitlines() if line.startswith("| ") and not line.startswith("| ---")][1:]
    assert len(rows) >= 30
    for row in rows:
        cited = re.findall(r"`(\w+)::(test_\w+)`", row.rsplit("|", 2)[-2])
        assert cited, f"no test named in: {row[:80]}"
        for short, name in cited:
            source = (Path(__file__).parent / files[short]).read_text()
            assert re.search(rf"^def {name}\(", source, re.M), f"{short}::{name} does not exist"
