"""flow_init / flow_create as pytorch-flows users call them, and re-creation edge cases.

Why: pytorch-flows' scripts (``src/flow_utils/flow_init.py``, ``flow_create.py``) take
``--flow-dir-name`` and ``--copy-to-dir``; people who switch keep typing them. The generated
experiment must name itself (not ``flows/NAME``), a name too long for a directory must be one
line, and ``--copy-from`` with ``--from-run`` must give every value back exactly: values the
copied ``defaults.ini`` continues over several lines, strings with line breaks, dict keys
with dots.
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from config_utils import cli, save_run
from config_utils.errors import ConfigError
from config_utils.flows import flow_create, flow_init

BIN = Path(sys.executable).parent
FLOW_INIT = str(BIN / "flow_init")
FLOW_CREATE = str(BIN / "flow_create")


def run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=120, check=False)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    root.mkdir()
    return root


# -- pytorch-flows' flags ------------------------------------------------------------------


def test_upstream_flags_flow_dir_name_and_copy_to_dir(project: Path, tmp_path: Path) -> None:
    """``flow_init --flow-dir-name exps`` and ``flow_create --copy-to-dir exps`` as upstream."""
    site = tmp_path / "site"
    site.mkdir()
    init = run([FLOW_INIT, "--flow-dir-name", "exps", "--site-dir", str(site)], project)
    assert init.returncode == 0, init.stderr
    assert (project / "exps" / "__init__.py").is_file()
    made = run([FLOW_CREATE, "--name", "first", "--copy-to-dir", "exps"], project)
    assert made.returncode == 0, made.stderr
    assert (project / "exps" / "first" / "run.py").is_file()
    assert made.stdout.splitlines()[0] == f"flow_create: created {project / 'exps' / 'first'} from the template"


def test_copy_to_dir_that_is_not_a_workspace_says_what_to_do(project: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    flow_init(root=project, site_dir=site)
    (project / "plain").mkdir()
    proc = run([FLOW_CREATE, "--name", "x", "--copy-to-dir", "plain"], project)
    assert proc.returncode == 2
    assert proc.stderr == (
        f"flow_create: error: {project / 'plain'} is not an experiments directory made by flow_init "
        "(no generated __init__.py); run flow_init first\n"
    )


def test_help_shows_the_upstream_spellings(project: Path) -> None:
    init_help = run([FLOW_INIT, "--help"], project).stdout
    create_help = run([FLOW_CREATE, "--help"], project).stdout
    assert "--flow-dir-name DIR" in init_help and "--flow-dir DIR" in init_help
    assert "--copy-to-dir DIR" in create_help and "--flow-dir DIR" in create_help


# -- names ---------------------------------------------------------------------------------


def test_a_300_character_name_is_one_line(project: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    flow_init(root=project, site_dir=site)
    proc = run([FLOW_CREATE, "--name", "a" * 300], project)
    assert proc.returncode == 2
    assert proc.stderr == (
        "flow_create: error: experiment name 'aaaaaaaaaaaaaaaaaaaa'... is 300 characters long; "
        "at most 100 (it becomes the directory flows/<name> and the module flows.<name>)\n"
    )
    assert sorted(p.name for p in (project / "flows").iterdir()) == ["__init__.py"]


@pytest.mark.parametrize("flow_dir", ["flows", "src/flows"])
def test_the_template_names_the_experiment(project: Path, tmp_path: Path, flow_dir: str) -> None:
    """The generated README and run.py show the experiment's real paths, not ``flows/NAME``."""
    flow_init(flow_dir, root=project, site_dir=tmp_path)
    exp = flow_create("baseline", root=project)
    readme = (exp / "README.md").read_text()
    script = (exp / "run.py").read_text()
    assert readme.startswith("# Experiment `baseline` (made by `flow_create`)")
    for text in (readme, script):
        assert "NAME" not in text
        assert f"python {flow_dir}/baseline/run.py --help" in text
        assert "logs/baseline/run/" in text
    assert "--copy-from baseline --from-run logs/baseline/run/<run>" in readme


# -- re-creating a run through a seeded defaults.ini ----------------------------------------


@dataclass
class OldConfig:
    lr: float = 0.1
    title: str = "t"


@dataclass
class NewConfig:
    lr: float = 0.1
    title: str = "t"
    notes: str = "none"
    table: dict[str, int] = field(default_factory=dict)


def test_copy_from_with_from_run_keeps_a_multi_line_value(project: Path, tmp_path: Path) -> None:
    """The copied experiment continues ``notes`` over two lines; the run (older code) has no
    ``notes``: the seeded file keeps both lines, and a string with a line break from the run
    comes back exactly."""
    flow_init(root=project, site_dir=tmp_path)
    src = project / "flows" / "src"
    src.mkdir()
    (src / "defaults.ini").write_text(
        "[DEFAULTS]\n# Free text about the run.\nnotes = first line\n    second line\nlr = 0.5\n"
    )
    run_dir = project / "logs" / "old"
    save_run(OldConfig(lr=0.01, title="two\nlines # and a hash"), run_dir)
    exp = flow_create("seeded", copy_from="src", from_run=str(run_dir), root=project)
    text = (exp / "defaults.ini").read_text()
    assert "# Free text about the run.\nnotes = first line\n    second line\n" in text
    cfg = cli(NewConfig, args=[], config_file=exp / "defaults.ini")
    assert cfg == NewConfig(lr=0.01, title="two\nlines # and a hash", notes="first line\nsecond line")


@pytest.mark.parametrize(
    "table",
    [{"a.b": 1, "c": 2}, {"x y": 3}, {"k": 4}, {}],
    ids=["dotted-key", "space-key", "plain-key", "empty"],
)
def test_dict_keys_with_dots_recreate(project: Path, tmp_path: Path, table: dict[str, int]) -> None:
    flow_init(root=project, site_dir=tmp_path)
    src = project / "flows" / "src"
    src.mkdir()
    (src / "defaults.ini").write_text("[DEFAULTS]\nlr = 0.5\n")
    cfg = NewConfig(lr=0.2, table=table)
    run_dir = project / "logs" / "dots"
    save_run(cfg, run_dir)
    exp = flow_create("dots", copy_from="src", from_run=str(run_dir), root=project)
    assert cli(NewConfig, args=[], config_file=exp / "defaults.ini") == cfg


def test_a_copied_defaults_ini_that_cannot_be_read_is_one_error(project: Path, tmp_path: Path) -> None:
    flow_init(root=project, site_dir=tmp_path)
    src = project / "flows" / "broken"
    src.mkdir()
    (src / "defaults.ini").write_text("[DEFAULTS]\nlr = 1\nlr = 2\n")
    run_dir = project / "logs" / "r"
    save_run(OldConfig(), run_dir)
    with pytest.raises(ConfigError) as info:  # the ini reader's own one-line error
        flow_create("fromBroken", copy_from="broken", from_run=str(run_dir), root=project)
    assert "lr: set twice (lines 2 and 3); keep one" in str(info.value)
    assert not (project / "flows" / "fromBroken").exists()
