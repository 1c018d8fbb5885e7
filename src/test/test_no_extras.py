"""A missing extra is one line that names it, never a ``ModuleNotFoundError`` traceback.

The base install (``pip install -e .``: tyro alone, about 30 MB) lacks wandb, torch,
Lightning, gradio, gin and PyYAML. Every feature that needs one of them must stop with one line
such as ``push_config needs the 'wandb' extra: pip install 'flows-workspace[wandb]'`` (a
:class:`config_utils.MissingExtraError`), and a command line must exit 2 with that line. What
needs no extra — re-creating a run from a local run directory — must work there.

Two parts:

* :func:`config_utils.extras.require` itself, tested here in the full environment;
* the features, tested against a *second* environment that has only the base install. Its
  interpreter is named by ``FLOWS_BASE_PYTHON``; without it those tests are skipped. CI
  (``.ci/run``) builds that environment and sets the variable; by hand::

      python3 -m venv /tmp/flows-base && /tmp/flows-base/bin/pip install -q -c constraints.txt -e .
      FLOWS_BASE_PYTHON=/tmp/flows-base/bin/python .venv/bin/python -m pytest src/test/test_no_extras.py -q

  The tests only *run* that interpreter (the test tools stay in this environment), so nothing
  is ever installed into it.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import config_utils
from config_utils.errors import ConfigError
from config_utils.extras import MissingExtraError, install_hint, require

BASE_PYTHON = os.environ.get("FLOWS_BASE_PYTHON", "")
EXTRA_PACKAGES = {
    "wandb": "wandb",
    "torch": "lightning",
    "pytorch_lightning": "lightning",
    "gradio": "gui",
    "gin": "gin",
    "yaml": "yaml",
}


def one_line(extra: str, feature: str = r"\S.*") -> re.Pattern[str]:
    """The message :func:`require` writes for ``extra``."""
    return re.compile(
        rf"^{feature} needs the '{extra}' extra: pip install 'flows-workspace\[{extra}\]'$"
    )


# ------------------------------------------------------------------------------------------
# require(), in this (full) environment
# ------------------------------------------------------------------------------------------
def test_require_returns_the_module_when_it_is_installed() -> None:
    assert require("json", "none") is json
    assert require("os.path", "none") is os.path


def test_require_names_the_extra_in_one_line() -> None:
    with pytest.raises(MissingExtraError) as info:
        require("flows_no_such_package.sub", "wandb", feature="push_config")
    err = info.value
    assert str(err) == "push_config needs the 'wandb' extra: pip install 'flows-workspace[wandb]'"
    assert "\n" not in str(err)
    assert (err.module, err.extra, err.name) == ("flows_no_such_package.sub", "wandb", "flows_no_such_package.sub")
    # one hierarchy for the command lines (exit 2), and still an ImportError for old guards
    assert isinstance(err, ConfigError) and isinstance(err, ImportError)
    assert err.__cause__ is None and err.__context__ is None  # no second traceback


def test_require_without_a_feature_names_the_package() -> None:
    with pytest.raises(MissingExtraError, match=one_line("gin", "flows_no_such_package")):
        require("flows_no_such_package", "gin")


def test_a_broken_installed_package_is_not_reported_as_a_missing_extra(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Installing the extra again would not help: the real cause must surface."""
    pkg = tmp_path / "flows_broken_pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("import flows_missing_dependency\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(ModuleNotFoundError) as info:
        require("flows_broken_pkg", "wandb")
    assert not isinstance(info.value, MissingExtraError)
    assert info.value.name == "flows_missing_dependency"
    sys.modules.pop("flows_broken_pkg", None)


def test_a_directory_named_like_the_package_is_not_the_package(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """W&B's run directory ``./wandb`` must not pass for the wandb package."""
    (tmp_path / "flows_stray_dir").mkdir()
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(MissingExtraError, match=one_line("wandb", "push_config")):
        require("flows_stray_dir", "wandb", feature="push_config")
    assert "flows_stray_dir" not in sys.modules


def test_the_error_and_the_hint_are_public() -> None:
    assert config_utils.MissingExtraError is MissingExtraError
    assert "MissingExtraError" in config_utils.__all__
    assert install_hint("all") == "pip install 'flows-workspace[all]'"


# ------------------------------------------------------------------------------------------
# the features, in an environment with only the base install
# ------------------------------------------------------------------------------------------
base_only = pytest.mark.skipif(
    not BASE_PYTHON,
    reason="needs FLOWS_BASE_PYTHON: the python of an environment with only `pip install -e .` (.ci/run sets it)",
)

CONFIG_MODULE = '''
from dataclasses import dataclass, field
from typing import Union

import config_utils


@dataclass
class AdamConfig:
    lr: float = 0.001


@dataclass
class SGDConfig:
    lr: float = 0.1
    momentum: float = 0.9


@dataclass
class TrainConfig:
    steps: int = 10
    optim: Union[AdamConfig, SGDConfig] = field(default_factory=AdamConfig)


if __name__ == "__main__":
    print(config_utils.cli(TrainConfig))
'''


def base(args: list[str], cwd: Path, *, program: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run the base-only interpreter (or one of its scripts, e.g. ``flow_create``)."""
    exe = str(Path(BASE_PYTHON).parent / program) if program else BASE_PYTHON
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update(NO_COLOR="1", WANDB_SILENT="true", WANDB_ERROR_REPORTING="false")
    return subprocess.run(
        [exe, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL
    )


def api_error(snippet: str, cwd: Path) -> dict[str, object]:
    """Run ``snippet`` in the base environment; the exception it raised, as data."""
    (cwd / "tour_config.py").write_text(CONFIG_MODULE)
    code = textwrap.dedent(
        """
        import json, sys
        sys.path.insert(0, ".")
        try:
        {body}
        except BaseException as exc:
            print(json.dumps({{"types": [c.__name__ for c in type(exc).__mro__], "message": str(exc)}}))
        else:
            print(json.dumps(None))
        """
    ).format(body=textwrap.indent(textwrap.dedent(snippet).strip(), "    "))
    done = base(["-c", code], cwd)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result is not None, f"no error raised by:\n{snippet}"
    return dict(result)


def assert_one_line_exit_2(done: subprocess.CompletedProcess[str], pattern: re.Pattern[str]) -> None:
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert done.returncode == 2, (done.returncode, done.stderr)
    assert "Traceback" not in done.stderr
    assert len(lines) == 1, done.stderr
    message = lines[0].split(": error: ", 1)[-1]
    assert pattern.match(message), lines[0]


@base_only
def test_the_base_environment_has_no_extras(tmp_path: Path) -> None:
    code = (
        "import importlib.util, json; "
        f"print(json.dumps({{m: importlib.util.find_spec(m) is not None for m in {list(EXTRA_PACKAGES)!r}}}))"
    )
    done = base(["-c", code], tmp_path)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == dict.fromkeys(EXTRA_PACKAGES, False)
    assert base(["-c", "import config_utils, prefigure_compat, tyro"], tmp_path).returncode == 0


@base_only
@pytest.mark.parametrize(
    ("snippet", "extra"),
    [
        pytest.param(
            "config_utils.pull_config('https://wandb.ai/me/proj/runs/abc123')", "wandb", id="pull_config-url"
        ),
        pytest.param("config_utils.pull_config('me/proj/abc123')", "wandb", id="pull_config-path"),
        pytest.param(
            "import argparse\n"
            "from prefigure_compat import push_wandb_config\n"
            "push_wandb_config(None, argparse.Namespace(lr=0.1))",
            "wandb",
            id="push_wandb_config",
        ),
        pytest.param(
            "from config_utils import OFCCallback\n"
            "ofc = config_utils.OFC(TrainConfig(), steerables=['steps'], ofc_file='ofc.ini')\n"
            "OFCCallback(ofc, every_n_steps=10)",
            "lightning",
            id="OFCCallback",
        ),
    ],
)
def test_a_python_feature_without_its_extra_raises_one_line(snippet: str, extra: str, tmp_path: Path) -> None:
    error = api_error("import config_utils\nfrom tour_config import TrainConfig\n" + snippet, tmp_path)
    assert "MissingExtraError" in error["types"] and "ConfigError" in error["types"], error
    assert one_line(extra).match(str(error["message"])), error["message"]


@base_only
def test_push_config_without_any_tracker_is_one_line(tmp_path: Path) -> None:
    """Without wandb there can be no W&B run to push to; whatever is said, it is one line."""
    error = api_error(
        "import config_utils\nfrom tour_config import TrainConfig\n"
        "config_utils.push_config(None, TrainConfig())",
        tmp_path,
    )
    assert "ConfigError" in error["types"] and "ModuleNotFoundError" not in error["types"], error
    assert "\n" not in str(error["message"]) and "push_config" in str(error["message"])


@base_only
def test_the_gui_without_gradio_names_the_gui_extra(tmp_path: Path) -> None:
    error = api_error(
        "import config_utils\nfrom tour_config import TrainConfig\n"
        "config_utils.OFC(TrainConfig(), steerables=['steps'], ofc_file='ofc.ini', gui=True)",
        tmp_path,
    )
    assert "ConfigError" in error["types"], error
    message = str(error["message"])
    assert "\n" not in message and message.endswith("pip install 'flows-workspace[gui]'"), message


@base_only
@pytest.mark.parametrize(
    "run",
    ["https://wandb.ai/me/proj/runs/abc123?workspace=user-me", "me/proj/abc123"],
)
@pytest.mark.parametrize("flag", ["--wandb-config"])
def test_a_wandb_run_on_the_command_line_exits_2_with_one_line(flag: str, run: str, tmp_path: Path) -> None:
    (tmp_path / "train.py").write_text(CONFIG_MODULE)
    done = base(["train.py", flag, run], tmp_path)
    assert_one_line_exit_2(done, one_line("wandb"))


@base_only
def test_an_offline_wandb_run_directory_needs_the_wandb_extra(tmp_path: Path) -> None:
    """Its config is inside the binary ``.wandb`` log, which only the wandb package can read."""
    (tmp_path / "train.py").write_text(CONFIG_MODULE)
    run = tmp_path / "wandb" / "offline-run-20260101_000000-abc123"
    run.mkdir(parents=True)
    (run / "run-abc123.wandb").write_bytes(b":W&B" + bytes(60))  # not empty: only wandb can say more
    done = base(["train.py", "--wandb-config", str(run)], tmp_path)
    assert_one_line_exit_2(done, one_line("wandb"))


@base_only
def test_a_yaml_config_file_without_pyyaml_exits_2_with_one_line(tmp_path: Path) -> None:
    (tmp_path / "train.py").write_text(CONFIG_MODULE)
    (tmp_path / "other.yaml").write_text("steps: 3\n")
    done = base(["train.py", "--config-file", "other.yaml"], tmp_path)
    assert_one_line_exit_2(done, re.compile(r".*pip install 'flows-workspace\[yaml\]'\)?$"))


@base_only
def test_prefigure_gin_mode_without_gin_exits_2_with_one_line(tmp_path: Path) -> None:
    (tmp_path / "legacy.py").write_text("from prefigure_compat import get_all_args\nprint(get_all_args())\n")
    (tmp_path / "defaults.ini").write_text("[DEFAULTS]\nlr = 0.1\n")
    (tmp_path / "model.gin").write_text("x = 1\n")
    done = base(["legacy.py", "--config-file", "model.gin"], tmp_path)
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
    assert done.stderr.strip().splitlines()[-1].rstrip(")").endswith("pip install 'flows-workspace[gin]'")


@base_only
def test_flow_create_from_a_wandb_run_exits_2_with_one_line(tmp_path: Path) -> None:
    site = tmp_path / "site"  # the .pth file goes here, not into the base environment
    site.mkdir()
    project = tmp_path / "project"
    project.mkdir()
    init = base(["--site-dir", str(site)], project, program="flow_init")
    assert init.returncode == 0, init.stderr
    done = base(
        ["--name", "exp1", "--from-run", "https://wandb.ai/me/proj/runs/abc123"], project, program="flow_create"
    )
    assert_one_line_exit_2(done, one_line("wandb"))
    assert not (project / "flows" / "exp1").exists()


@base_only
def test_a_local_run_directory_recreates_the_run_without_extras(tmp_path: Path) -> None:
    (tmp_path / "train.py").write_text(CONFIG_MODULE)
    save = base(
        [
            "-c",
            "import sys; sys.path.insert(0, '.')\n"
            "import config_utils\n"
            "from train import TrainConfig, SGDConfig\n"
            "config_utils.save_run(TrainConfig(steps=7, optim=SGDConfig(momentum=0.5)), 'runs/first')",
        ],
        tmp_path,
    )
    assert save.returncode == 0, save.stderr
    done = base(["train.py", "--wandb-config", "runs/first", "--optim.lr", "0.3", "--print-config"], tmp_path)
    assert done.returncode == 0, done.stderr
    lines = {line.split("=")[0].strip(): line for line in done.stdout.splitlines() if "=" in line}
    assert "SGDConfig" in lines["optim._type"] and "# run:runs/first" in lines["optim._type"]
    assert "0.5" in lines["optim.momentum"] and "# run:runs/first" in lines["optim.momentum"]
    assert "7" in lines["steps"]
    assert "0.3" in lines["optim.lr"] and "cli:--optim.lr" in lines["optim.lr"]
    rerun = base(["train.py", "--wandb-config", "runs/first"], tmp_path)
    assert rerun.returncode == 0, rerun.stderr
    assert "steps=7" in rerun.stdout and "momentum=0.5" in rerun.stdout


@base_only
def test_the_main_job_without_its_extras_is_one_line(tmp_path: Path) -> None:
    """`python examples/train.py` on the base install names the extra, not torch's traceback."""
    train = Path(__file__).resolve().parents[2] / "examples" / "train.py"
    done = base([str(train)], tmp_path)
    assert_one_line_exit_2(done, one_line("lightning", feature="examples/train.py"))
