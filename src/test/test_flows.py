"""The experiment workspace, driven the way users drive it: the installed console scripts.

``flow_init`` and ``flow_create`` run as subprocesses (``.venv/bin/flow_init``) in a temporary
project; the created experiment's ``run.py`` runs with the venv's Python. ``import flows`` is
proven from another directory in a fresh interpreter, once through ``--site-dir`` (a temporary
directory handed to ``site.addsitedir``, which is how Python reads ``.pth`` files outside
site-packages — ``PYTHONPATH`` entries do not process them) and once through the real
site-packages, whose ``.pth`` file the test removes again.
"""

from __future__ import annotations

import enum
import hashlib
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import pytest

from config_utils.errors import WorkspaceError
from config_utils.flows.paths import GENERATED_MARK, run_dir_for

BIN = Path(sys.executable).parent
FLOW_INIT = str(BIN / "flow_init")
FLOW_CREATE = str(BIN / "flow_create")
PYTHON = sys.executable

NAME_MSG = (
    "flow_create: error: experiment name {name!r} is not a plain identifier: use letters, "
    "digits and '_', not starting with a digit, without slashes or '..' (it becomes the "
    "directory flows/<name> and the module flows.<name>)\n"
)


def run(args: list[str], cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args, cwd=cwd, env=env, capture_output=True, text=True, timeout=120, check=False
    )


def ok(args: list[str], cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    proc = run(args, cwd, env)
    assert proc.returncode == 0, f"{args} failed:\n{proc.stdout}\n{proc.stderr}"
    return proc


def refused(args: list[str], cwd: Path, env: dict[str, str] | None = None) -> str:
    """Run a command that must refuse: exit 2, nothing on stdout, no traceback; its stderr."""
    proc = run(args, cwd, env)
    assert proc.returncode == 2, f"{args}: exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    assert "Traceback" not in proc.stderr
    return proc.stderr


def tree(root: Path) -> dict[str, str]:
    """Every file under root with its content (for "nothing changed" checks)."""
    return {
        str(p.relative_to(root)): p.read_text() if p.is_file() else "<dir>"
        for p in sorted(root.rglob("*"))
    }


@pytest.fixture
def site(tmp_path: Path) -> Path:
    d = tmp_path / "site"
    d.mkdir()
    return d


@pytest.fixture
def project(tmp_path: Path) -> Path:
    d = tmp_path / "proj"
    d.mkdir()
    return d


@pytest.fixture
def workspace(project: Path, site: Path) -> Path:
    ok([FLOW_INIT, "--site-dir", str(site)], project)
    return project


def pth_for(root: Path, site: Path) -> Path:
    digest = hashlib.sha256(str(root.resolve()).encode()).hexdigest()[:12]
    return site / f"flows-workspace-{digest}.pth"


# -- flow_init -----------------------------------------------------------------------------


def test_init_creates_the_workspace_and_a_second_run_changes_nothing(project: Path, site: Path) -> None:
    first = ok([FLOW_INIT, "--site-dir", str(site)], project)
    pth = pth_for(project, site)
    assert first.stdout.splitlines() == [
        f"flow_init: workspace in {project}",
        "  created   flows/",
        "  created   logs/",
        "  created   data/",
        "  created   flows/__init__.py",
        "  created   data/.gitignore",
        f"  created   {pth}",
        # --site-dir: no promise about "any directory" (only where that directory is read)
        f"  `import flows` works in interpreters that read .pth files from {site} (there: "
        f"{pth.name}); that is not this environment's site-packages, so elsewhere add the "
        "directory with site.addsitedir",
    ]
    assert (project / "logs").is_dir()
    init = (project / "flows" / "__init__.py").read_text()
    assert init.startswith(GENERATED_MARK)
    gitignore = (project / "data" / ".gitignore").read_text().splitlines()
    assert gitignore[-2:] == ["*", "!.gitignore"]
    assert pth.read_text().splitlines()[1:] == [str(project)]
    assert pth.read_text().startswith("#")  # a comment line: site.addpackage skips it

    before = tree(project), pth.read_text()
    second = ok([FLOW_INIT, "--site-dir", str(site)], project)
    assert second.stdout.splitlines()[0] == (
        f"flow_init: nothing changed: the workspace in {project} is already set up."
    )
    assert "created" not in second.stdout
    assert (tree(project), pth.read_text()) == before


def test_import_flows_works_from_another_directory(workspace: Path, site: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    code = (
        "import json, site, sys; site.addsitedir(sys.argv[1]); import flows; "
        "print(json.dumps({k: str(getattr(flows, k)) for k in "
        "('PROJ_ROOT', 'EXP_ROOT', 'LOGS_ROOT', 'DATA_ROOT')}))"
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    out = ok([PYTHON, "-c", code, str(site)], elsewhere, env)
    assert json.loads(out.stdout) == {
        "PROJ_ROOT": str(workspace),
        "EXP_ROOT": str(workspace / "flows"),
        "LOGS_ROOT": str(workspace / "logs"),
        "DATA_ROOT": str(workspace / "data"),
    }
    # without the .pth directory, `flows` is not importable: the .pth file is what does it
    proc = run([PYTHON, "-c", "import flows"], elsewhere, env)
    assert proc.returncode == 1 and "No module named 'flows'" in proc.stderr


@pytest.fixture
def real_site_pth(project: Path) -> Iterator[Path]:
    """The .pth file flow_init writes into the venv's site-packages; removed afterwards."""
    pth = pth_for(project, Path(sysconfig.get_paths()["purelib"]))
    assert not pth.exists()
    try:
        yield pth
    finally:
        pth.unlink(missing_ok=True)


def test_default_install_goes_to_site_packages(project: Path, real_site_pth: Path, tmp_path: Path) -> None:
    out = ok([FLOW_INIT], project)
    assert f"  created   {real_site_pth}" in out.stdout.splitlines()
    assert out.stdout.splitlines()[-1] == (
        f"  `import flows` works from any directory of this environment through {real_site_pth}"
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    found = ok([PYTHON, "-c", "import flows; print(flows.PROJ_ROOT)"], elsewhere, env)
    assert found.stdout.strip() == str(project)


def test_force_rewrites_only_generated_files(workspace: Path, site: Path) -> None:
    init = workspace / "flows" / "__init__.py"
    original = init.read_text()
    init.write_text(original + "EXTRA = 1\n")  # edited, header kept: still ours
    gitignore = workspace / "data" / ".gitignore"
    gitignore.write_text("*.csv\n")  # the user's own file now (no header)

    plain = ok([FLOW_INIT, "--site-dir", str(site)], workspace)
    assert "  kept      flows/__init__.py (edited since flow_init wrote it; --force regenerates it)" in plain.stdout
    assert (
        "  kept      data/.gitignore (not written by flow_init: left as it is, --force never touches it)"
        in plain.stdout
    )
    assert init.read_text().endswith("EXTRA = 1\n")

    forced = ok([FLOW_INIT, "--site-dir", str(site), "--force"], workspace)
    assert "  rewrote   flows/__init__.py" in forced.stdout
    assert init.read_text() == original
    assert gitignore.read_text() == "*.csv\n"


def test_a_users_init_file_is_kept(project: Path, site: Path) -> None:
    (project / "flows").mkdir()
    mine = project / "flows" / "__init__.py"
    mine.write_text("ROOT = 'mine'\n")
    out = ok([FLOW_INIT, "--site-dir", str(site), "--force"], project)
    assert "  kept      flows/__init__.py (not written by flow_init" in out.stdout
    assert mine.read_text() == "ROOT = 'mine'\n"
    assert (project / "data" / ".gitignore").is_file()


def test_a_file_in_the_way_is_refused_before_anything_is_created(project: Path, site: Path) -> None:
    (project / "flows").write_text("not a directory\n")
    err = refused([FLOW_INIT, "--site-dir", str(site)], project)
    assert err == (
        f"flow_init: error: {project / 'flows'} is in the way: flow_init needs a directory there "
        "but it is a file; rename or move it, then run flow_init again\n"
    )
    assert sorted(p.name for p in project.iterdir()) == ["flows"]
    assert list(site.iterdir()) == []


def test_bad_flow_dir_is_refused(project: Path, site: Path) -> None:
    err = refused([FLOW_INIT, "--site-dir", str(site), "--flow-dir", "../elsewhere"], project)
    assert err == (
        "flow_init: error: --flow-dir '../elsewhere': '..' is not a Python identifier; the "
        "directory becomes an importable package, so use letters, digits and '_' (like 'flows')\n"
    )


@pytest.fixture
def shared_tmp() -> Iterator[Path]:
    """A scratch directory whose permissions the test changes (and restores for cleanup)."""
    d = Path(tempfile.mkdtemp(prefix="flows-ro-"))
    try:
        yield d
    finally:
        for p in (d, *d.rglob("*")):
            if p.is_dir():
                p.chmod(0o755)
        shutil.rmtree(d)


def _unprivileged(args: list[str]) -> list[str]:
    """Root ignores permission bits; drop the capabilities that let it (uid stays 0, so the
    Python under /root stays reachable). As an ordinary user, run as is."""
    if os.geteuid() != 0:
        return args
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("running as root without util-linux setpriv: cannot make a directory read-only")
    return [setpriv, "--bounding-set=-dac_override,-dac_read_search,-fowner", *args]


def test_read_only_directories_get_a_clear_message(shared_tmp: Path) -> None:
    ro_project, site = shared_tmp / "ro", shared_tmp / "site"
    ro_project.mkdir()
    site.mkdir()
    ro_project.chmod(0o555)
    err = refused(_unprivileged([FLOW_INIT, "--site-dir", str(site)]), ro_project)
    assert err == (
        f"flow_init: error: cannot create the workspace in {ro_project}: it is read-only for you; "
        "run flow_init in a directory you can write to\n"
    )
    assert list(ro_project.iterdir()) == []

    # a writable project, but a site directory the user cannot write to: nothing is created
    rw_project = shared_tmp / "rw"
    rw_project.mkdir()
    site.chmod(0o555)
    err = refused(_unprivileged([FLOW_INIT, "--site-dir", str(site)]), rw_project)
    assert err == (
        f"flow_init: error: cannot create {pth_for(rw_project, site)}: {site} is read-only for "
        "you; `import flows` needs this .pth file in the environment's site-packages: activate "
        "a virtual environment you own, or pass --site-dir DIR\n"
    )
    assert list(rw_project.iterdir()) == []


# -- flow_create ---------------------------------------------------------------------------


def test_create_from_the_template_and_run_it(workspace: Path, tmp_path: Path) -> None:
    out = ok([FLOW_CREATE, "--name", "exp1"], workspace)
    exp = workspace / "flows" / "exp1"
    assert out.stdout.splitlines()[0] == f"flow_create: created {exp} from the template"
    assert sorted(p.name for p in exp.iterdir()) == ["README.md", "defaults.ini", "run.py"]

    shown = ok([PYTHON, str(exp / "run.py"), "--lr", "0.1", "--model.hidden", "8", "--print-config"], workspace)
    lines = {line.split("=")[0].strip(): line for line in shown.stdout.splitlines() if "=" in line}
    assert lines["lr"].split("#")[1].strip() == "cli:--lr"
    assert "0.1" in lines["lr"]
    assert lines["model.hidden"].split("#")[1].strip() == "cli:--model.hidden"
    assert lines["steps"].split("#")[1].strip().startswith("flows/exp1/defaults.ini:")  # relative to the working directory
    assert lines["run_name"].split("#")[1].strip() == "default"
    assert not (workspace / "logs" / "exp1").exists()  # --print-config only prints

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    args = [PYTHON, str(exp / "run.py"), "--model.activation", "tanh", "--steps", "20", "--run-name", "first"]
    done = ok(args, elsewhere)
    run_dir = workspace / "logs" / "exp1" / "run" / "first"
    assert done.stdout.strip().endswith(f"run directory: {run_dir}")
    record = json.loads((run_dir / "run_record.json").read_text())
    assert record["config"]["model"] == {"hidden": 4, "activation": "tanh"}
    assert record["config"]["steps"] == 20
    assert record["provenance"]["steps"] == "cli:--steps"
    assert (run_dir / "metrics.json").is_file()
    # the same name again: a new directory, never a shared one
    ok(args, elsewhere)
    assert (workspace / "logs" / "exp1" / "run" / "first-1" / "run_record.json").is_file()

    helped = ok([PYTHON, str(exp / "run.py"), "--help"], workspace)
    assert "Number of training steps." in helped.stdout


def test_copy_an_experiment_without_its_logs_and_caches(workspace: Path) -> None:
    ok([FLOW_CREATE, "--name", "exp1"], workspace)
    src = workspace / "flows" / "exp1"
    (src / "notes.md").write_text("my notes\n")
    (src / "lib").mkdir()
    (src / "lib" / "model.py").write_text("X = 1\n")
    for junk in ("__pycache__/run.cpython-311.pyc", "lib/__pycache__/model.pyc", "logs/old.txt",
                 "wandb/run-1/x", ".ipynb_checkpoints/a", "lightning_logs/v0/x"):
        (src / junk).parent.mkdir(parents=True, exist_ok=True)
        (src / junk).write_text("junk")
    out = ok([FLOW_CREATE, "--name", "exp2", "--copy-from", "exp1"], workspace)
    assert out.stdout.splitlines()[0] == f"flow_create: created {workspace / 'flows' / 'exp2'} from a copy of exp1"
    copied = sorted(str(p.relative_to(workspace / "flows" / "exp2")) for p in (workspace / "flows" / "exp2").rglob("*"))
    assert copied == ["README.md", "defaults.ini", "lib", "lib/model.py", "notes.md", "run.py"]
    assert [p.name for p in (workspace / "flows").iterdir() if p.name.startswith(".")] == []


def _saved_run(workspace: Path) -> Path:
    ok([FLOW_CREATE, "--name", "exp1"], workspace)
    run_py = workspace / "flows" / "exp1" / "run.py"
    ok([PYTHON, str(run_py), "--lr", "0.125", "--model.activation", "tanh", "--run-name", "r1"], workspace)
    return workspace / "logs" / "exp1" / "run" / "r1"


def test_create_from_a_saved_run(workspace: Path) -> None:
    run_dir = _saved_run(workspace)
    out = ok([FLOW_CREATE, "--name", "again", "--from-run", str(run_dir)], workspace)
    assert f"  defaults.ini seeded from {run_dir}" in out.stdout
    ini = (workspace / "flows" / "again" / "defaults.ini").read_text()
    assert ini.splitlines()[0] == f"# Seeded by flow_create from run {run_dir}."
    assert "[DEFAULTS]\n# Learning rate.\nlr = 0.125\n" in ini  # the template's help is kept
    assert "[model]\n# Number of weights of the toy model.\nhidden = 4\n" in ini
    assert "activation = tanh\n" in ini
    shown = ok([PYTHON, str(workspace / "flows" / "again" / "run.py"), "--print-config"], workspace)
    lines = {line.split("=")[0].strip(): line for line in shown.stdout.splitlines() if "=" in line}
    assert "0.125" in lines["lr"] and "# flows/again/defaults.ini:" in lines["lr"]
    assert "tanh" in lines["model.activation"]


def test_create_from_a_wandb_run_url(workspace: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from graphql_server import GraphQLServer

    config = {
        "lr": 0.25,
        "steps": 7,
        "seed": "OMITTED",  # pushed with omit=: keep the experiment's value
        "model": {"hidden": 3, "activation": "tanh"},
        "_wandb": {"cli_version": "0.31.0"},
    }
    with GraphQLServer(runs={("ent", "proj", "abc123"): {"config": config}}) as server:
        server.env(monkeypatch)
        monkeypatch.setenv("WANDB_ENTITY", "ent")
        url = "https://wandb.ai/ent/proj/runs/abc123?nw=nwuser"
        ok([FLOW_CREATE, "--name", "fromwb", "--from-run", url], workspace)
        err = refused([FLOW_CREATE, "--name", "lost", "--from-run", "ent/proj/nope"], workspace)
        assert err == f"flow_create: error: wandb:ent/proj/nope: run not found on {server.url}\n"
        assert not (workspace / "flows" / "lost").exists()
    ini = (workspace / "flows" / "fromwb" / "defaults.ini").read_text()
    assert f"# Seeded by flow_create from W&B run {url}." in ini
    assert "lr = 0.25\n" in ini and "steps = 7\n" in ini
    assert "seed = 0\n" in ini  # OMITTED in the run: the template's value stays
    assert "_wandb" not in ini
    shown = ok([PYTHON, str(workspace / "flows" / "fromwb" / "run.py"), "--print-config"], workspace)
    assert "tanh" in shown.stdout and "0.25" in shown.stdout


@pytest.mark.parametrize("name", ["..", "../x", "a/b", "1x", "class", "has space"])
def test_names_that_are_not_plain_identifiers_are_refused(workspace: Path, name: str) -> None:
    before = tree(workspace)
    assert refused([FLOW_CREATE, "--name", name], workspace) == NAME_MSG.format(name=name)
    assert tree(workspace) == before


def test_an_existing_experiment_is_refused(workspace: Path) -> None:
    ok([FLOW_CREATE, "--name", "exp1"], workspace)
    (workspace / "flows" / "exp1" / "run.py").write_text("# mine\n")
    before = tree(workspace)
    err = refused([FLOW_CREATE, "--name", "exp1"], workspace)
    assert err == (
        f"flow_create: error: {workspace / 'flows' / 'exp1'} already exists: flow_create never "
        "overwrites an experiment; choose another --name\n"
    )
    assert tree(workspace) == before


def test_unknown_copy_source_suggests_the_closest(workspace: Path) -> None:
    ok([FLOW_CREATE, "--name", "baseline"], workspace)
    err = refused([FLOW_CREATE, "--name", "new", "--copy-from", "baselin"], workspace)
    assert err == (
        f"flow_create: error: --copy-from 'baselin': no such experiment in {workspace / 'flows'} "
        "(did you mean 'baseline'?); existing experiments: baseline\n"
    )
    assert not (workspace / "flows" / "new").exists()


def test_missing_run_directory_is_refused(workspace: Path) -> None:
    missing = workspace / "logs" / "nope"
    err = refused([FLOW_CREATE, "--name", "new", "--from-run", str(missing)], workspace)
    assert err == f"flow_create: error: --from-run '{missing}': no such run directory ({missing})\n"
    assert not (workspace / "flows" / "new").exists()


def test_a_directory_that_is_not_a_run_is_refused(workspace: Path) -> None:
    err = refused([FLOW_CREATE, "--name", "new", "--from-run", str(workspace / "data")], workspace)
    assert err.startswith(f"flow_create: error: run '{workspace / 'data'}': not a run directory")
    assert not (workspace / "flows" / "new").exists()


def test_create_outside_a_workspace_is_refused(project: Path) -> None:
    err = refused([FLOW_CREATE, "--name", "exp1"], project)
    assert err == (
        f"flow_create: error: no workspace found: {project} is neither inside a flows/ directory "
        "made by flow_init nor beside one; run flow_init in the project root first (or pass "
        "--flow-dir DIR)\n"
    )


def test_create_works_from_inside_flows(workspace: Path) -> None:
    ok([FLOW_CREATE, "--name", "exp1"], workspace / "flows")
    assert (workspace / "flows" / "exp1" / "run.py").is_file()


def test_a_nested_flow_dir_works_end_to_end(project: Path, site: Path) -> None:
    ok([FLOW_INIT, "--site-dir", str(site), "--flow-dir", "src/experiments"], project)
    init = project / "src" / "experiments" / "__init__.py"
    assert "PROJ_ROOT: Path = Path(__file__).resolve().parents[2]" in init.read_text()
    assert pth_for(project / "src", site).read_text().splitlines()[1] == str(project / "src")
    ok([FLOW_CREATE, "--name", "exp1"], project)  # found from the project root
    ok([PYTHON, str(project / "src" / "experiments" / "exp1" / "run.py"), "--run-name", "a"], project)
    assert (project / "logs" / "exp1" / "run" / "a" / "run_record.json").is_file()


def test_two_workspaces_sharing_a_package_name_get_a_warning(tmp_path: Path, site: Path) -> None:
    first, second = tmp_path / "one", tmp_path / "two"
    first.mkdir()
    second.mkdir()
    ok([FLOW_INIT, "--site-dir", str(site)], first)
    out = ok([FLOW_INIT, "--site-dir", str(site)], second)
    assert out.stderr == (
        f"warning: another `flows` package is at {first / 'flows'} (installed by "
        f"{pth_for(first, site)}); `import flows` imports whichever comes first on sys.path, "
        f"which may not be {second / 'flows'}\n"
    )


@pytest.mark.parametrize("cmd", [FLOW_INIT, FLOW_CREATE])
def test_help_explains_every_option(cmd: str, tmp_path: Path) -> None:
    out = ok([cmd, "--help"], tmp_path).stdout
    options = ["--flow-dir", "--force", "--site-dir"] if cmd == FLOW_INIT else [
        "--name", "--copy-from", "--from-run", "--flow-dir"]
    for opt in options:
        assert opt in out
    assert "default" in out


# -- run directories -----------------------------------------------------------------------


def test_run_dir_follows_the_script_path(workspace: Path) -> None:
    script = workspace / "flows" / "a" / "b" / "run.py"
    script.parent.mkdir(parents=True)
    script.write_text("")
    first = run_dir_for(script)
    assert first.parent == workspace / "logs" / "a" / "b" / "run"
    assert first.is_dir()
    named = [run_dir_for(str(script), name="trial") for _ in range(3)]
    assert [p.name for p in named] == ["trial", "trial-1", "trial-2"]
    custom = run_dir_for(script, name="x", logs_root=workspace / "elsewhere")
    assert custom == workspace / "elsewhere" / "a" / "b" / "run" / "x"


def test_run_dir_outside_a_workspace(tmp_path: Path) -> None:
    script = tmp_path / "train.py"
    assert run_dir_for(script, name="r") == tmp_path / "logs" / "train" / "r"


def test_run_name_must_be_plain(tmp_path: Path) -> None:
    with pytest.raises(WorkspaceError) as info:
        run_dir_for(tmp_path / "train.py", name="../escape")
    assert str(info.value) == (
        "run name '../escape' is not a plain name: use letters, digits, '_', '-' or '.', "
        "without slashes and not '.' or '..'"
    )


# -- seeding defaults.ini: config -> run record -> defaults.ini -> config ---------------------


class Color(enum.Enum):
    RED = "r"
    BLUE = "b"


@dataclass
class AConfig:
    p1: int = 1


@dataclass
class BConfig:
    p3: tuple[int, ...] = (1, 2)
    name: str = "x"


@dataclass
class SeedCfg:
    mod: AConfig | BConfig = field(default_factory=AConfig)
    color: Color = Color.RED
    path: Path = Path("a/b")
    maybe: Optional[int] = None
    words: list[str] = field(default_factory=lambda: ["a"])
    text: str = "plain"
    num_text: str = "1"
    flag: bool = False
    mapping: dict[str, int] = field(default_factory=dict)
    lr: float = 0.1


SEEDED = [
    SeedCfg(),
    SeedCfg(
        mod=BConfig(p3=(3, 4, 5), name="two words # not a comment"),
        color=Color.BLUE,
        path=Path("/data/x y"),
        maybe=7,
        words=["a b", "c,d", "[x]", ""],
        text="  padded; semi ",
        num_text="007",
        flag=True,
        mapping={"k": 1},
        lr=1e-4,
    ),
    SeedCfg(text="None", num_text="True", words=[], maybe=0),
]


@pytest.mark.parametrize("cfg", SEEDED)
def test_seeded_defaults_ini_recreates_the_run(tmp_path: Path, cfg: SeedCfg) -> None:
    from config_utils import cli, save_run
    from config_utils.flows import flow_create, flow_init

    flow_init(root=tmp_path, site_dir=tmp_path)
    src = tmp_path / "flows" / "src"
    src.mkdir()
    # the copied experiment's own ini: a help comment, a value of another union variant
    (src / "defaults.ini").write_text("[DEFAULTS]\n# The colour.\ncolor = RED\n\n[mod]\np1 = 5\n")
    run_dir = tmp_path / "logs" / "r"
    save_run(cfg, run_dir)
    exp = flow_create("new", copy_from="src", from_run=str(run_dir), root=tmp_path)
    ini = exp / "defaults.ini"
    assert "# The colour.\ncolor = " in ini.read_text()
    assert cli(SeedCfg, args=[], config_file=ini) == cfg
