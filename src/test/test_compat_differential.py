"""prefigure_compat against the real prefigure 0.0.10, on the same corpus.

Why: ``prefigure_compat`` promises that changing one import keeps a legacy script's
behaviour. The only trustworthy oracle for "the same behaviour" is prefigure itself, so every
case here runs both implementations in the same working directory with the same ``sys.argv``
(and, for pulls, the same loopback W&B server) and asserts equal Namespaces — same keys, same
order, same values, same types — or the same exit status.

Where prefigure is wrong (docs/prefigure-differences.md), the DIFFERENCES cases pin
both sides: prefigure's known-wrong result and ours; ``test_compat_fixes.py`` has one test per
fix without prefigure.

prefigure is imported once for the module (it imports gradio and wandb: seconds).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from graphql_server import GraphQLServer

import prefigure_compat

SEED_INI = (Path(__file__).resolve().parents[2] / "examples" / "prefigure" / "defaults.ini").read_text()

SIMPLE_INI = """\
[DEFAULTS]
# the run name
name = 'run1'
# batch size
batch_size = 8
# learning rate
lr = 0.001
# be chatty
verbose = False
"""

TYPES_INI = """\
[DEFAULTS]
name = "quoted"
single = 'single'
bare = some words here
count = 3
ratio = 2.5
tiny = 1e-4
neg = -7
ratios = [4, 4, 2]
shape = (3, 32, 32)
table = {'a': 1, 'b': [1, 2]}
nothing = None
flag = False
empty =
empty_quoted = ''
with_comment = 8 # trailing comment
home = ~/datasets/x
"""

JSON_CFG = {
    "name": "jrun",
    "batch_size": 16,
    "lr": 0.01,
    "numeric_string": "123",
    "list_string": "[1, 2]",
    "ratios": [1, 2, 3],
    "nested": {"a": 1, "b": {"c": [1, 2]}},
    "nothing": None,
    "flag": False,
    "words": "two words",
}

WANDB_URL = "https://wandb.ai/ent/proj/runs/{run_id}?workspace=user-ent"


@dataclass
class Case:
    """One input: files written to an empty working directory, the argv, the defaults file."""

    id: str
    files: dict[str, str]
    argv: list[str] = field(default_factory=list)
    defaults_file: str = "defaults.ini"
    wandb: bool = False


def ini(body: str) -> dict[str, str]:
    return {"defaults.ini": body}


CASES: list[Case] = [
    # --- the seed ini -----------------------------------------------------------------------
    Case("seed-no-args", ini(SEED_INI)),
    Case("seed-int", ini(SEED_INI), ["--batch-size", "16"]),
    Case("seed-int-equals", ini(SEED_INI), ["--batch-size=32"]),
    Case("seed-float", ini(SEED_INI), ["--ema-decay", "0.9"]),
    Case("seed-float-from-int-text", ini(SEED_INI), ["--ema-decay", "1"]),
    Case("seed-str", ini(SEED_INI), ["--name", "other"]),
    Case("seed-str-looks-numeric", ini(SEED_INI), ["--name", "123"]),
    Case("seed-path-like-str", ini(SEED_INI), ["--training-dir", "/data/train"]),
    Case("seed-bool-bare-flag", ini(SEED_INI), ["--cache-training-data"]),
    Case("seed-hyphen-key", ini(SEED_INI), ["--accum-batches", "4"]),
    Case("seed-abbreviation", ini(SEED_INI), ["--num-gpus", "2", "--seed", "7"]),
    Case("seed-many", ini(SEED_INI), ["--seed", "1", "--name", "x", "--demo-every", "5", "--ema-decay", "0.5"]),
    Case("seed-last-wins", ini(SEED_INI), ["--seed", "1", "--seed", "2"]),
    # --- typing of ini values -------------------------------------------------------------
    Case("types-defaults", ini(TYPES_INI)),
    Case("types-none-bare", ini(TYPES_INI), ["--nothing"]),
    Case("types-none-value", ini(TYPES_INI), ["--nothing", "5"]),
    Case("types-neg-float", ini(TYPES_INI), ["--ratio", "-1.5", "--neg", "3"]),
    Case("types-sci", ini(TYPES_INI), ["--tiny", "3e-5"]),
    Case("types-empty", ini(TYPES_INI), ["--empty", "filled"]),
    Case(
        "dir-in-value-is-path",
        ini("[DEFAULTS]\nout = /tmp/my_dir\nlog = runs/log_dir/x\n"),
        ["--log", "elsewhere"],
    ),
    Case("case-preserved", ini("[DEFAULTS]\nLR = 0.1\nBatchSize = 4\n"), ["--LR", "0.2"]),
    Case("colon-syntax", ini("[DEFAULTS]\na: 1\nb : 'two'\n")),
    Case("continuation-line", ini("[DEFAULTS]\ntext = first\n  second\nn = 1\n")),
    Case("other-sections-ignored", ini("[model]\nwidth = 3\n[DEFAULTS]\nn = 1\n[data]\nm = 2\n")),
    Case("default-section-merged", ini("[DEFAULT]\nshared = 5\n[DEFAULTS]\nn = 1\n")),
    Case("interpolation", ini("[DEFAULTS]\nroot = /data\nsub = %(root)s/sub\n")),
    Case("config-file-flag", {"defaults.ini": SIMPLE_INI, "other.ini": SEED_INI}, ["--config-file", "other.ini"]),
    Case(
        "config-file-equals-and-override",
        {"defaults.ini": SIMPLE_INI, "other.ini": SEED_INI},
        ["--config-file=other.ini", "--seed", "3"],
    ),
    # --- json ------------------------------------------------------------------------------
    Case("json-defaults", {"c.json": json.dumps(JSON_CFG)}, ["--config-file", "c.json"]),
    Case(
        "json-overrides",
        {"c.json": json.dumps(JSON_CFG)},
        ["--config-file", "c.json", "--batch-size", "2", "--lr", "1", "--name", "j2", "--nothing", "z"],
    ),
    Case(
        "json-flag-over-defaults-file",
        {"cfg.json": json.dumps(JSON_CFG)},
        ["--config-file", "cfg.json", "--words", "w"],
        "absent.ini",
    ),
    # --- imports ---------------------------------------------------------------------------
    Case(
        "imports-ini-and-json",
        {
            "defaults.ini": "[DEFAULTS]\nn = 1\nmodel_config = 'model.ini'\n"
            "dataset_config = 'data.json'\nimports = model_config, dataset_config\n",
            "model.ini": "[DEFAULTS]\nwidth = 64\nact = 'relu'\n",
            "data.json": json.dumps({"path": "/data", "n": 3}),
        },
    ),
    Case(
        "imports-seed-empty-values",
        ini(SEED_INI),
        ["--dataset-config", ""],
    ),
    Case(
        "imports-from-argv",
        {
            "defaults.ini": SEED_INI,
            "m2.ini": "[DEFAULTS]\ndepth = 12\n",
            "d2.json": json.dumps({"sr": 16000}),
        },
        ["--model-config", "m2.ini", "--dataset-config", "d2.json"],
    ),
    Case(
        "imports-list-value",
        {
            "defaults.ini": "[DEFAULTS]\nmodel_config = 'm.json'\nimports = ['model_config']\n",
            "m.json": json.dumps({"k": [1, 2]}),
        },
    ),
    Case(
        "imports-not-listed-not-read",
        {
            "defaults.ini": "[DEFAULTS]\nmodel_config = 'm.json'\nother = 'm.json'\nimports = 'model_config'\n",
            "m.json": json.dumps({"k": 1}),
        },
    ),
    # --- errors: the same exit status ------------------------------------------------------
    Case("err-bad-int", ini(SEED_INI), ["--batch-size", "abc"]),
    Case("err-bad-float", ini(SEED_INI), ["--ema-decay", "fast"]),
    Case("err-unknown-option", ini(SEED_INI), ["--no-such-option", "1"]),
    Case("err-missing-config-file", ini(SEED_INI), ["--config-file", "missing.ini"]),
    Case("err-unknown-extension", {"defaults.ini": SEED_INI, "c.txt": "x"}, ["--config-file", "c.txt"]),
    Case("err-no-defaults-section", ini("[defaults]\nn = 1\n")),
    Case("err-bad-json", {"c.json": "{not json"}, ["--config-file", "c.json"]),
    Case("err-key-before-section", ini("n = 1\n[DEFAULTS]\nm = 2\n")),
    Case("err-garbage-line", ini("[DEFAULTS]\nn = 1\njust some words\n")),
    Case("err-duplicate-key", ini("[DEFAULTS]\nn = 1\nn = 2\n")),
    Case("err-duplicate-section", ini("[DEFAULTS]\nn = 1\n[DEFAULTS]\nm = 2\n")),
]

WANDB_RUN_CONFIG = {
    # order as prefigure pushes it would put config_file/wandb_config first; these runs were
    # pushed by other code, so no reserved key stops prefigure from reading the rest.
    "name": "pulled",
    "batch_size": 64,
    "ema_decay": 0.5,
    "ratios": [8, 8],
    "training_dir": "OMITTED",
    "seed": "OMITTED",
    "new_key": 11,
    "demo_every": "25",
}

WANDB_CASES: list[Case] = [
    Case("wandb-pull", ini(SEED_INI), ["--wandb-config", WANDB_URL.format(run_id="run1")], wandb=True),
    Case(
        "wandb-pull-cli-wins",
        ini(SEED_INI),
        ["--wandb-config", WANDB_URL.format(run_id="run1"), "--batch-size", "5", "--ema-decay", "0.1"],
        wandb=True,
    ),
    Case(
        "wandb-pull-types",
        ini("[DEFAULTS]\nlr = 0.1\nflag = False\nname = 'a'\nlayers = [1]\n"),
        [f"--wandb-config={WANDB_URL.format(run_id='run2')}"],
        wandb=True,
    ),
]


@pytest.fixture(scope="module")
def prefigure() -> Iterator[ModuleType]:
    """The real prefigure 0.0.10, imported once (gradio + wandb: seconds)."""
    import prefigure as real

    assert real.__name__ == "prefigure"
    yield real


@pytest.fixture(scope="module")
def server() -> Iterator[GraphQLServer]:
    with GraphQLServer() as srv:
        srv.add_run("ent", "proj", "run1", config=WANDB_RUN_CONFIG)
        srv.add_run(
            "ent", "proj", "run2",
            config={"lr": 0.5, "flag": False, "name": "b", "layers": [3, 4], "extra": "x"},
        )
        yield srv


Result = tuple[str, Any]


def run_impl(get_all_args: Callable[..., argparse.Namespace], case: Case, workdir: Path,
             monkeypatch: pytest.MonkeyPatch) -> Result:
    """Run one implementation on one case: ('ok', [(key, value, type), ...]) or ('exit', code)."""
    workdir.mkdir()
    for name, text in case.files.items():
        (workdir / name).write_text(text)
    monkeypatch.chdir(workdir)
    monkeypatch.setattr(sys, "argv", ["train.py", *case.argv])
    try:
        ns = get_all_args(defaults_file=case.defaults_file)
    except SystemExit as exc:
        return ("exit", exc.code)
    return ("ok", [(k, v, type(v).__name__) for k, v in vars(ns).items()])


def both(case: Case, prefigure: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
         ) -> tuple[Result, Result]:
    theirs = run_impl(prefigure.get_all_args, case, tmp_path / "prefigure", monkeypatch)
    ours = run_impl(prefigure_compat.get_all_args, case, tmp_path / "compat", monkeypatch)
    return theirs, ours


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_same_namespace(case: Case, prefigure: ModuleType, tmp_path: Path,
                        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    theirs, ours = both(case, prefigure, tmp_path, monkeypatch)
    assert ours == theirs
    if case.id.startswith("err-"):
        assert theirs[0] == "exit" and theirs[1] == 2
        err = capsys.readouterr().err
        assert "Traceback" not in err


@pytest.mark.parametrize("case", WANDB_CASES, ids=[c.id for c in WANDB_CASES])
def test_same_namespace_after_wandb_pull(case: Case, prefigure: ModuleType, server: GraphQLServer,
                                         tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    server.env(monkeypatch)
    theirs, ours = both(case, prefigure, tmp_path, monkeypatch)
    assert theirs[0] == "ok", theirs
    assert ours == theirs


def test_gin_mode_runs_gin_only(prefigure: ModuleType, tmp_path: Path,
                                monkeypatch: pytest.MonkeyPatch) -> None:
    """``--config-file x.gin``: gin parses the file (bindings take effect), nothing else runs."""
    import gin

    @gin.configurable("compat_scale", module="difftest")
    def scale(factor: int = 1) -> int:
        return factor

    case = Case(
        "gin",
        {"defaults.ini": SEED_INI, "exp.gin": "difftest.compat_scale.factor = 7\n"},
        ["--config-file", "exp.gin"],
    )
    gin.clear_config()
    theirs = run_impl(prefigure.get_all_args, case, tmp_path / "prefigure", monkeypatch)
    theirs_factor = scale()
    gin.clear_config()
    assert scale() == 1
    ours = run_impl(prefigure_compat.get_all_args, case, tmp_path / "compat", monkeypatch)
    ours_factor = scale()
    gin.clear_config()
    assert ours == theirs == ("ok", [("config_file", "exp.gin", "str"), ("wandb_config", None, "NoneType")])
    assert ours_factor == theirs_factor == 7


def test_gin_import(prefigure: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An imported ``.gin`` file is parsed by gin and its setting becomes ``{}`` in both."""
    import gin

    @gin.configurable("compat_width", module="difftest")
    def width(w: int = 1) -> int:
        return w

    case = Case(
        "gin-import",
        {
            "defaults.ini": "[DEFAULTS]\nmodel_config = 'm.gin'\nimports = 'model_config'\n",
            "m.gin": "difftest.compat_width.w = 5\n",
        },
    )
    gin.clear_config()
    theirs = run_impl(prefigure.get_all_args, case, tmp_path / "prefigure", monkeypatch)
    assert width() == 5
    gin.clear_config()
    ours = run_impl(prefigure_compat.get_all_args, case, tmp_path / "compat", monkeypatch)
    assert width() == 5
    gin.clear_config()
    assert ours == theirs
    assert dict((k, v) for k, v, _ in ours[1])["model_config"] == {}


@pytest.mark.parametrize(
    ("name", "helper", "args"),
    [
        ("arg_eval-int", "arg_eval", ("8",)),
        ("arg_eval-list", "arg_eval", ("[4, 4, 2]",)),
        ("arg_eval-word", "arg_eval", ("~/data",)),
        ("arg_eval-typed", "arg_eval", (2.5,)),
        ("arg_eval-bad-literal", "arg_eval", ("1 +",)),
    ],
)
def test_same_helper_results(name: str, helper: str, args: tuple[Any, ...], prefigure: ModuleType) -> None:
    assert getattr(prefigure_compat, helper)(*args) == getattr(prefigure, helper)(*args)


def test_read_config_same(prefigure: ModuleType, tmp_path: Path) -> None:
    """``read_config`` returns the same raw dict and the same text lines for ini and json."""
    (tmp_path / "a.ini").write_text(SEED_INI)
    (tmp_path / "b.json").write_text(json.dumps(JSON_CFG))
    for name in ("a.ini", "b.json"):
        path = str(tmp_path / name)
        assert prefigure_compat.read_config(path) == prefigure.read_config(path)


# --- documented differences: prefigure's wrong result and ours, side by side ----------------

def _values(result: Result) -> dict[str, Any]:
    assert result[0] == "ok", result
    return {k: v for k, v, _ in result[1]}


DIFFERENCES: list[tuple[Case, dict[str, Any], dict[str, Any]]] = [
    (
        Case("reserved-key-drops-later-keys", ini("[DEFAULTS]\na = 1\nconfig_file = 'x.ini'\nb = 2\n")),
        {"a": 1},  # prefigure: `b` is gone
        {"a": 1, "b": 2},
    ),
    (
        Case("bool-default-true", ini("[DEFAULTS]\nflag = True\n")),
        {"flag": False},
        {"flag": True},
    ),
    (
        Case("bool-false-on-cli", ini("[DEFAULTS]\nflag = False\n"), ["--flag", "False"]),
        {"flag": True},
        {"flag": False},
    ),
    (
        Case("list-on-cli", ini("[DEFAULTS]\nratios = [4, 2]\n"), ["--ratios", "[1, 2]"]),
        {"ratios": ["[", "1", ",", " ", "2", "]"]},
        {"ratios": [1, 2]},
    ),
    (
        Case("config-file-reported", {"exp.ini": "[DEFAULTS]\nn = 1\n"}, [], "exp.ini"),
        {"config_file": "defaults.ini"},
        {"config_file": "exp.ini"},
    ),
    (
        Case(
            "imports-substring",
            {
                "defaults.ini": "[DEFAULTS]\nconfig = 'm.json'\nmodel_config = ''\nimports = model_config\n",
                "m.json": json.dumps({"k": 1}),
            },
        ),
        {"config": {"k": 1}},  # prefigure: 'config' in 'model_config' -> imported
        {"config": "m.json"},
    ),
]


@pytest.mark.parametrize(
    ("case", "prefigure_says", "compat_says"), DIFFERENCES, ids=[d[0].id for d in DIFFERENCES]
)
def test_documented_difference(case: Case, prefigure_says: dict[str, Any], compat_says: dict[str, Any],
                               prefigure: ModuleType, tmp_path: Path,
                               monkeypatch: pytest.MonkeyPatch) -> None:
    theirs, ours = both(case, prefigure, tmp_path, monkeypatch)
    theirs_v, ours_v = _values(theirs), _values(ours)
    for key, value in prefigure_says.items():
        assert theirs_v.get(key) == value
    for key, value in compat_says.items():
        assert ours_v.get(key) == value
    shared = set(theirs_v) & set(ours_v) - set(prefigure_says) - set(compat_says)
    assert {k: ours_v[k] for k in shared} == {k: theirs_v[k] for k in shared}


def test_wandb_reserved_keys_from_a_prefigure_push(prefigure: ModuleType, server: GraphQLServer,
                                                   tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A run pushed by prefigure starts with config_file/wandb_config: prefigure then drops every
    key the ini does not have; prefigure_compat keeps them."""
    server.add_run("ent", "proj", "pushed", config={
        "config_file": "defaults.ini", "wandb_config": None, "name": "p", "only_in_run": 3,
    })
    server.env(monkeypatch)
    case = Case("wandb-reserved", ini(SIMPLE_INI), ["--wandb-config", WANDB_URL.format(run_id="pushed")])
    theirs, ours = both(case, prefigure, tmp_path, monkeypatch)
    theirs_v, ours_v = _values(theirs), _values(ours)
    assert theirs_v["name"] == ours_v["name"] == "p"
    assert "only_in_run" not in theirs_v
    assert ours_v["only_in_run"] == 3
    assert ours_v["config_file"] == theirs_v["config_file"] == "defaults.ini"


def test_push_same_config_as_prefigure(prefigure: ModuleType, tmp_path: Path) -> None:
    """Both push the Namespace's settings, ``omit`` keys as ``"OMITTED"``; the run configs match.

    A plain holder with ``.experiment`` stands in for Lightning's WandbLogger (that is all
    prefigure reads from it); the runs are real offline wandb runs."""
    import types

    import wandb

    args = argparse.Namespace(config_file="defaults.ini", wandb_config=None, name="r",
                              training_dir="/secret", lr=0.1, ratios=[4, 2], flag=True,
                              model_config={"w": 64}, out=Path("/tmp/out_dir"), nothing=None)
    configs = []
    for push in (prefigure.push_wandb_config, prefigure_compat.push_wandb_config):
        run = wandb.init(mode="offline", dir=str(tmp_path), project="compat", reinit="finish_previous")
        try:
            push(types.SimpleNamespace(experiment=run), args, omit=["training_dir"])
            configs.append({k: v for k, v in dict(run.config).items() if not k.startswith("_")})
        finally:
            run.finish()
    theirs, ours = configs
    assert ours["training_dir"] == theirs["training_dir"] == "OMITTED"
    assert ours == theirs
    assert args.training_dir == "/secret"  # the caller's args are untouched


# --- the modules' exported names, BareParser, keys argparse cannot take ---------------------

def _public(module: ModuleType) -> set[str]:
    return {name for name in vars(module) if not name.startswith("_")}


def _star(module_name: str) -> set[str]:
    namespace: dict[str, Any] = {}
    exec(f"from {module_name} import *", namespace)  # what a script's `import *` receives
    return set(namespace) - {"__builtins__"}


@pytest.mark.parametrize("sub", ["prefigure", "ofc"])
def test_submodules_export_prefigures_names(sub: str, prefigure: ModuleType) -> None:
    """``from prefigure.<sub> import *`` -> ``from prefigure_compat.<sub> import *``: the same
    names (prefigure has no ``__all__``, so its imported modules such as ``wandb`` are among
    them; ours are imported on first use)."""
    import importlib

    theirs = _public(importlib.import_module(f"prefigure.{sub}"))
    assert _star(f"prefigure_compat.{sub}") == theirs
    assert _star("prefigure_compat") == _public(prefigure)


def test_lazy_module_names_are_the_modules(prefigure: ModuleType) -> None:
    import gradio
    import wandb

    from prefigure_compat import ofc as compat_ofc
    from prefigure_compat import prefigure as compat_prefigure

    assert compat_prefigure.wandb.Api is wandb.Api
    assert compat_ofc.gr.Blocks is gradio.Blocks
    assert compat_ofc.gb.Blocks is gradio.blocks.Blocks
    assert compat_prefigure.get_all_args is prefigure_compat.get_all_args
    assert compat_ofc.OFC is prefigure_compat.OFC
    assert compat_ofc.datetime is prefigure.ofc.datetime


def test_bare_parser_error_prints_what_prefigure_prints(prefigure: ModuleType,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    """``BareParser().error(exception, message)``: ``ERROR: message exception``, a blank line,
    the help, exit 2, the same for both."""
    outputs = []
    for cls in (prefigure.BareParser, prefigure_compat.BareParser):
        parser = cls(prog="train.py")
        parser.add_argument("--config-file", default="defaults.ini", help="name of local configuration (.ini) file")
        with pytest.raises(SystemExit) as info:
            parser.error(ValueError("no [DEFAULTS]"), "Trouble reading x.ini")
        captured = capsys.readouterr()
        outputs.append((info.value.code, captured.out, captured.err))
    assert outputs[1] == outputs[0]
    assert outputs[0][2] == "ERROR: Trouble reading x.ini no [DEFAULTS]\n\n"


def test_bare_parser_bad_option_is_argparse_usage_not_a_crash(prefigure: ModuleType,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    """argparse calls ``error(message)`` for a bad option: prefigure's two-argument ``error``
    then raises a TypeError; ours is argparse's usual message and exit 2."""
    with pytest.raises(TypeError):
        prefigure.BareParser(prog="train.py").parse_args(["--nope"])
    capsys.readouterr()
    with pytest.raises(SystemExit) as info:
        prefigure_compat.BareParser(prog="train.py").parse_args(["--nope"])
    assert info.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1] == "train.py: error: unrecognized arguments: --nope"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("help = 1\n", "defaults.ini:2: key 'help' would be the option --help, which is argparse's "
         "help option; rename the key"),
        ("config-file = 'x.ini'\n", "defaults.ini:2: key 'config-file' would be the option "
         "--config-file, which is the option naming the config file; rename the key"),
        ("wandb-config = 'u'\n", "defaults.ini:2: key 'wandb-config' would be the option "
         "--wandb-config, which is the option naming a W&B run to pull; rename the key"),
        ("a_b = 1\na-b = 2\n", "defaults.ini:3: keys 'a_b' (defaults.ini:2) and 'a-b' are both "
         "the option --a-b ('_' and '-' are the same on the command line); rename one of them"),
        ("-- = 3\n", "defaults.ini:2: key '--' cannot be a command-line option (it would be "
         "'----'); use letters, digits, '_' or '-'"),
    ],
    ids=["help", "config-file", "wandb-config", "a_b-and-a-b", "dashes"],
)
def test_key_argparse_cannot_take(body: str, message: str, prefigure: ModuleType, tmp_path: Path,
                                  monkeypatch: pytest.MonkeyPatch,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    """prefigure crashes inside argparse (traceback); prefigure_compat exits 2 naming key and line."""
    case = Case("clash", ini("[DEFAULTS]\n" + body))
    with pytest.raises((argparse.ArgumentError, ValueError)):
        run_impl(prefigure.get_all_args, case, tmp_path / "prefigure", monkeypatch)
    capsys.readouterr()
    assert run_impl(prefigure_compat.get_all_args, case, tmp_path / "compat", monkeypatch) == ("exit", 2)
    err = capsys.readouterr().err
    assert err == f"train.py: error: {message}\n"


def test_utf8_bom_is_read(prefigure: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                          capsys: pytest.CaptureFixture[str]) -> None:
    """A byte-order mark (Notepad writes one): prefigure cannot find the section and exits 2;
    prefigure_compat reads the file."""
    case = Case("bom", ini("\ufeff[DEFAULTS]\nn = 1\n"))
    theirs, ours = both(case, prefigure, tmp_path, monkeypatch)
    assert theirs == ("exit", 2)
    assert _values(ours)["n"] == 1
