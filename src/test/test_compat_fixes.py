"""One test per documented difference from prefigure 0.0.10 (docs/prefigure-differences.md).

Why: each of these is a place where prefigure silently does the wrong thing and a user's
legacy script relies on us doing the right one. prefigure's side of each difference is pinned
in ``test_compat_differential.py``; here only prefigure_compat runs, so these are fast.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

import pytest
from graphql_server import GraphQLServer

import prefigure_compat
from prefigure_compat import get_all_args

ROOT = Path(__file__).resolve().parents[2]


def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, files: dict[str, str], argv: list[str],
        defaults_file: str = "defaults.ini") -> argparse.Namespace:
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", ["train.py", *argv])
    return get_all_args(defaults_file=defaults_file)


def exits(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
          files: dict[str, str], argv: list[str]) -> str:
    """Run, expect exit status 2 and no traceback; return stderr."""
    with pytest.raises(SystemExit) as info:
        run(tmp_path, monkeypatch, files, argv)
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return err


# --- get_all_args ----------------------------------------------------------------------------

def test_reserved_key_in_file_does_not_drop_later_keys(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ns = run(tmp_path, monkeypatch, {"defaults.ini": "[DEFAULTS]\na = 1\nwandb_config = 'x'\nb = 2\n"}, [])
    assert (ns.a, ns.b, ns.wandb_config) == (1, 2, None)


def test_bool_defaults_to_file_value(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ns = run(tmp_path, monkeypatch, {"defaults.ini": "[DEFAULTS]\non = True\noff = False\n"}, [])
    assert ns.on is True and ns.off is False


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["--flag", "False"], False),
        (["--flag", "false"], False),
        (["--flag", "no"], False),
        (["--flag", "0"], False),
        (["--flag=False"], False),
        (["--flag"], True),
        (["--flag", "True"], True),
        (["--flag", "yes"], True),
        ([], True),
    ],
)
def test_bool_option_parses_false(argv: list[str], expected: bool, tmp_path: Path,
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    ns = run(tmp_path, monkeypatch, {"defaults.ini": "[DEFAULTS]\nflag = True\n"}, argv)
    assert ns.flag is expected


def test_bool_option_rejects_other_words(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    err = exits(tmp_path, monkeypatch, capsys, {"defaults.ini": "[DEFAULTS]\nflag = True\n"},
                ["--flag", "maybe"])
    assert err.splitlines()[-1] == "train.py: error: argument --flag: expected True or False, got 'maybe'"


@pytest.mark.parametrize(
    ("value", "argv", "expected"),
    [
        ("[4, 2]", ["--ratios", "[1, 2]"], [1, 2]),
        ("[4, 2]", ["--ratios=1, 2"], [1, 2]),
        ("(3, 32)", ["--ratios", "(1, 2, 3)"], (1, 2, 3)),
        ("{'a': 1}", ["--ratios", "{'b': [2]}"], {"b": [2]}),
    ],
)
def test_container_options_parsed_by_literal_eval(value: str, argv: list[str], expected: Any,
                                                   tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ns = run(tmp_path, monkeypatch, {"defaults.ini": f"[DEFAULTS]\nratios = {value}\n"}, argv)
    assert ns.ratios == expected and type(ns.ratios) is type(expected)


def test_container_option_rejects_other_kinds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    err = exits(tmp_path, monkeypatch, capsys, {"defaults.ini": "[DEFAULTS]\nratios = [4, 2]\n"},
                ["--ratios", "abc"])
    assert err.splitlines()[-1] == (
        "train.py: error: argument --ratios: expected a list literal like [1, 2], got 'abc'"
    )


def test_config_file_reports_the_file_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ns = run(tmp_path, monkeypatch, {"exp.ini": "[DEFAULTS]\nn = 1\n"}, [], defaults_file="exp.ini")
    assert ns.config_file == "exp.ini"


def test_imports_are_names_not_substrings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    files = {
        "defaults.ini": "[DEFAULTS]\nconfig = 'm.json'\nmodel_config = 'm.json'\n"
        "imports = model_config, data_config\n",
        "m.json": json.dumps({"k": 1}),
    }
    ns = run(tmp_path, monkeypatch, files, [])
    assert ns.config == "m.json"
    assert ns.model_config == {"k": 1}


def test_option_only_in_pulled_run_accepted_on_command_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with GraphQLServer() as server:
        server.add_run("ent", "proj", "r1", config={
            "config_file": "defaults.ini", "wandb_config": None, "n": 5, "only_in_run": 3, "tok": "OMITTED",
        })
        server.env(monkeypatch)
        ns = run(tmp_path, monkeypatch, {"defaults.ini": "[DEFAULTS]\nn = 1\ntok = 'secret'\n"},
                 ["--wandb-config", "https://wandb.ai/ent/proj/runs/r1", "--only-in-run", "4"])
    assert (ns.n, ns.only_in_run, ns.tok) == (5, 4, "secret")
    assert ns.wandb_config == "https://wandb.ai/ent/proj/runs/r1"


def test_gin_mode_does_not_pull(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No API key and no server: a pull would exit 2. gin mode returns at once."""
    import gin

    gin.clear_config()
    ns = run(tmp_path, monkeypatch, {"exp.gin": "# nothing bound\n"},
             ["--config-file", "exp.gin", "--wandb-config", "ent/proj/r1"])
    assert vars(ns) == {"config_file": "exp.gin", "wandb_config": "ent/proj/r1"}


@pytest.mark.parametrize(
    ("files", "argv", "message"),
    [
        ({}, ["--config-file", "missing.ini"], "config file 'missing.ini' not found"),
        ({"c.txt": ""}, ["--config-file", "c.txt"],
         "config file 'c.txt': unknown extension '.txt'; expected one of .ini, .json, .gin"),
        ({"c.json": "[1, 2]"}, ["--config-file", "c.json"],
         "c.json: expected a JSON object of settings at the top level, got list"),
        ({"c.json": '{"a": 1,\n "b": }'}, ["--config-file", "c.json"],
         "c.json:2: not valid JSON: Expecting value (column 7)"),
        ({"defaults.ini": "[DEFAULT]\nn = 1\n"}, [],
         "defaults.ini: no [DEFAULTS] section (found: [DEFAULT]) (did you mean 'DEFAULT'?); "
         "prefigure reads its keys from [DEFAULTS]"),
        ({"defaults.ini": "[DEFAULTS]\nn = 1\nn = 2\n"}, [],
         "defaults.ini:3: key 'n' appears twice in [DEFAULTS] (first set on line 2); keep one"),
        ({"defaults.ini": "[DEFAULTS]\nn = 1\n[model]\nw = 1\n[DEFAULTS]\nm = 2\n"}, [],
         "defaults.ini:5: section [DEFAULTS] appears twice (first on line 1); merge them into one"),
        ({"defaults.ini": "n = 1\n[DEFAULTS]\nm = 2\n"}, [],
         "defaults.ini:1: 'n = 1' comes before any [section] header; prefigure reads its keys "
         "from a [DEFAULTS] section"),
        ({"defaults.ini": "[DEFAULTS]\nn = 1\njust words\nm = 2\nmore words\n"}, [],
         "defaults.ini:3: cannot read 'just words': expected 'key = value', a [section] header "
         "or a comment (and 1 more such lines)"),
        ({"defaults.ini": "[DEFAULTS]\npct = 50%\n"}, [],
         "defaults.ini: [DEFAULTS] pct: '%' must be followed by '%' or '(', found: '%' "
         "(write %% for a literal %)"),
        ({"defaults.ini": "[DEFAULTS]\nm = 'nope.ini'\nimports = 'm'\n"}, [],
         "imports: m = 'nope.ini': config file 'nope.ini' not found"),
        ({"exp.gin": "unknown_fn.x = 1\n"}, ["--config-file", "exp.gin"],
         "exp.gin: gin could not parse it: No configurable matching 'unknown_fn'.; "
         'In file "exp.gin", line 1; unknown_fn.x = 1'),
    ],
    ids=["missing", "extension", "json-shape", "json-syntax", "no-section", "duplicate",
         "duplicate-section", "key-before-section", "garbage-lines",
         "percent", "missing-import", "gin"],
)
def test_bad_config_files_exit_2_with_one_line(files: dict[str, str], argv: list[str], message: str,
                                               tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    err = exits(tmp_path, monkeypatch, capsys, files, argv)
    assert err.splitlines()[-1].startswith(f"train.py: error: {message}")
    assert len(err.splitlines()) == 1, err


def test_help_from_comment_above_and_percent(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    ini = ("[DEFAULTS]\n# the batch size\nbatch_size = 8\n\n# keep 50% of the data\nkeep = 0.5\n"
           "# a comment that names batch_size but is not above it\nother = 1\n")
    with pytest.raises(SystemExit) as info:
        run(tmp_path, monkeypatch, {"defaults.ini": ini}, ["--help"])
    assert info.value.code == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "--batch-size BATCH_SIZE the batch size (default: 8)" in out
    assert "--keep KEEP keep 50% of the data (default: 0.5)" in out


# --- W&B push --------------------------------------------------------------------------------

def test_push_omit_typo_warns_and_pushes(tmp_path: Path) -> None:
    import wandb

    run_ = wandb.init(mode="offline", dir=str(tmp_path), project="compat")
    try:
        args = argparse.Namespace(training_dir="/secret", lr=0.1)
        with pytest.warns(UserWarning, match=r"omit key 'training_dri' is not an argument \(did you mean 'training_dir'\?\)"):
            prefigure_compat.push_wandb_config(run_, args, omit=["training_dri"])
        assert dict(run_.config)["lr"] == 0.1
    finally:
        run_.finish()


# --- OFC -------------------------------------------------------------------------------------

def _wait_update(ofc: Any) -> dict[str, Any]:
    """``update()`` once the OFC has processed the file on disk (src/test/ofc_editing.py)."""
    import ofc_editing

    return ofc_editing.applied(ofc)


def _edit(path: str, old: str, new: str) -> None:
    text = Path(path).read_text()
    assert old in text, text
    tmp = Path(path + ".edit")
    tmp.write_text(text.replace(old, new))
    tmp.replace(path)


def test_ofc_rejects_edit_of_key_not_steerable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    args = argparse.Namespace(name="r", lr=0.1, seed=1)
    with prefigure_compat.OFC(args, steerables=["lr"]) as ofc:
        text = Path(ofc.ofc_file).read_text()
        Path(ofc.ofc_file + ".edit").write_text(text.replace("lr = 0.1", "lr = 0.2") + "seed = 9\n")
        Path(ofc.ofc_file + ".edit").replace(ofc.ofc_file)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            changes = _wait_update(ofc)
    assert changes == {"lr": 0.2}
    assert args.seed == 1
    assert any("seed: not steerable (steerable: lr); edit ignored" in str(w.message) for w in caught)


def test_ofc_starts_no_gui_by_default_and_everything_is_steerable(tmp_path: Path) -> None:
    """README: ``OFC(args)`` is optional steering, GUI only on request; None = all steerable."""
    code = (
        "import argparse, sys\n"
        "from prefigure_compat import OFC\n"
        "args = argparse.Namespace(config_file='d.ini', wandb_config=None, name='r', lr=0.1, n=2)\n"
        "ofc = OFC(args)\n"
        "print(ofc.steerables, repr(ofc.gradio_url), 'gradio' in sys.modules)\n"
        "ofc.close()\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True,
                          timeout=60, check=False, env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "['name', 'lr', 'n'] '' False"


def test_ofc_edit_keeps_the_value_type(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """prefigure typed edits by literal_eval: ``name = 123`` made the run name an int, and
    list edits were ignored."""
    monkeypatch.chdir(tmp_path)
    args = argparse.Namespace(name="r", tag="a", ratios=[1, 2])
    with prefigure_compat.OFC(args, steerables=["tag", "ratios"]) as ofc:
        _edit(ofc.ofc_file, "tag = a", "tag = 123")
        _edit(ofc.ofc_file, "ratios = [1, 2]", "ratios = [3, 4, 5]")
        changes = _wait_update(ofc)
    assert changes == {"tag": "123", "ratios": [3, 4, 5]}
    assert args.tag == "123"


@pytest.mark.parametrize(
    ("ns", "ofc_file", "expected"),
    [
        (argparse.Namespace(lr=0.1), "ofc.ini", "ofc.ini"),
        (argparse.Namespace(name="run7", lr=0.1), "sub/ofc.ini", "sub/run7-ofc.ini"),
    ],
)
def test_ofc_file_name_without_name_or_with_directory(ns: argparse.Namespace, ofc_file: str, expected: str,
                                                      tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "sub").mkdir()
    with prefigure_compat.OFC(ns, ofc_file) as ofc:
        assert ofc.ofc_file == expected  # spelled as prefigure spells it: relative
        assert (tmp_path / expected).is_file()


def test_gui_relaunches_before_share_link_expires() -> None:
    """prefigure tested ``start - now >= 71 h``: never true, so the public link expired."""
    from config_utils.ofc.gui import needs_relaunch

    start = 1_000_000.0
    assert not needs_relaunch(start, start + 3600)
    assert not needs_relaunch(start, start + 70 * 3600)
    assert needs_relaunch(start, start + 71 * 3600)


@pytest.mark.slow
def test_gui_has_a_widget_for_every_steerable_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """prefigure put ``len // 3`` keys in each of 3 columns: with 7 keys the 7th had no widget."""
    from config_utils.ofc.gui import OFCGui

    monkeypatch.chdir(tmp_path)
    keys = [f"k{i}" for i in range(7)]
    args = argparse.Namespace(name="r", **{k: i for i, k in enumerate(keys)})
    with prefigure_compat.OFC(args) as ofc:
        demo = OFCGui(ofc._ofc).build()
    ids = {getattr(block, "elem_id", None) for block in demo.blocks.values()}
    assert {f"ofc-field-{k}" for k in ["name", *keys]} <= ids
