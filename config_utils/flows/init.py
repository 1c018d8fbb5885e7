"""``flow_init``: turn the current directory into an experiment workspace.

Creates ``flows/__init__.py`` (absolute ``PROJ_ROOT``, ``EXP_ROOT``, ``LOGS_ROOT``,
``DATA_ROOT`` computed from the file's own location), ``logs/``, ``data/`` with a
``.gitignore`` that keeps raw data out of git, and a ``.pth`` file in the running
interpreter's site-packages that puts the project root on ``sys.path`` — so ``import flows``
works from any directory in this environment. The original (pytorch-flows) ran the deprecated
``setup.py develop`` for that; a ``.pth`` line is what editable installs use today, and it is
one small file that is easy to see and remove.

Safety rules (docs/design.md, "Experiment workspaces"): idempotent; never deletes or overwrites a file
it did not write; never prompts (the original asked "Overwrite/Leave/Abort?" and could delete
the whole directory). Generated files start with :data:`~config_utils.flows.paths.GENERATED_MARK`;
``--force`` rewrites only those.
"""

import errno
import hashlib
import importlib.util
import keyword
import os
import sys
import sysconfig
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..atomic import write_atomic
from ..errors import ConfigError, WorkspaceError
from ..readers import ReadProblem, read_text
from .paths import DATA_DIRNAME, GENERATED_MARK, LOGS_DIRNAME, is_generated

PTH_PREFIX = "flows-workspace-"

_INIT_TEMPLATE = '''{mark}. `flow_init --force` may rewrite this file; delete this line to keep your edits.
"""The experiments of this project, and the paths they share.

Every path is absolute and computed from this file's own location, so it is right from any
working directory and on any machine the project is copied to::

    from {package} import DATA_ROOT, LOGS_ROOT
"""

from pathlib import Path

#: The project root: the directory that holds {flow_dir}/, {logs}/ and {data}/.
PROJ_ROOT: Path = Path(__file__).resolve().parents[{depth}]
#: This directory: one sub-directory per experiment (``flow_create --name NAME``).
EXP_ROOT: Path = Path(__file__).resolve().parent
#: Results: ``{flow_dir}/a/b/run.py`` logs to ``{logs}/a/b/run/<run>/`` (``config_utils.run_dir_for``).
LOGS_ROOT: Path = PROJ_ROOT / "{logs}"
#: Shared raw data. Never modify it; derived data belongs to an experiment or a run.
DATA_ROOT: Path = PROJ_ROOT / "{data}"

__all__ = ["DATA_ROOT", "EXP_ROOT", "LOGS_ROOT", "PROJ_ROOT"]
'''

_DATA_GITIGNORE = f"""{GENERATED_MARK}. `flow_init --force` may rewrite this file; delete this line to keep your edits.
# Raw data stays out of git: everything in this directory is ignored except this file.
# Commit the scripts that download or build the data, not the data.
*
!.gitignore
"""


@dataclass
class InitReport:
    """What :func:`flow_init` did, for the command line to print and for tests to check."""

    root: Path
    flows_dir: Path
    package: str
    pth_path: Path
    created: list[Path] = field(default_factory=list)
    rewritten: list[Path] = field(default_factory=list)
    unchanged: list[Path] = field(default_factory=list)
    #: Files that are the user's (no generated header): left exactly as they are.
    kept: list[Path] = field(default_factory=list)
    #: Generated files that differ from what flow_init writes now (edited): ``--force`` rewrites.
    outdated: list[Path] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    #: False when ``--site-dir`` chose where the .pth file goes (then ``import`` works only
    #: where Python reads .pth files from that directory).
    site_default: bool = True

    @property
    def changed(self) -> bool:
        """True when this call created or rewrote anything."""
        return bool(self.created or self.rewritten)

    def lines(self) -> list[str]:
        """Human-readable report, one line per path, paths relative to the project root."""

        def show(p: Path) -> str:
            try:
                rel = p.relative_to(self.root)
            except ValueError:
                return str(p)
            return f"{rel}/" if p.is_dir() else str(rel)

        out: list[str] = []
        if not self.changed:
            out.append(f"flow_init: nothing changed: the workspace in {self.root} is already set up.")
        else:
            out.append(f"flow_init: workspace in {self.root}")
        for verb, paths in (("created", self.created), ("rewrote", self.rewritten)):
            out.extend(f"  {verb:<9} {show(p)}" for p in paths)
        out.extend(
            f"  kept      {show(p)} (not written by flow_init: left as it is, --force never touches it)"
            for p in self.kept
        )
        out.extend(
            f"  kept      {show(p)} (edited since flow_init wrote it; --force regenerates it)"
            for p in self.outdated
        )
        if self.site_default:
            out.append(
                f"  `import {self.package}` works from any directory of this environment through {self.pth_path}"
            )
        else:
            out.append(
                f"  `import {self.package}` works in interpreters that read .pth files from "
                f"{self.pth_path.parent} (there: {self.pth_path.name}); that is not this "
                "environment's site-packages, so elsewhere add the directory with site.addsitedir"
            )
        out.extend(f"warning: {w}" for w in self.warnings)
        return out


def pth_name(import_root: Path) -> str:
    """The ``.pth`` file name for a workspace: unique per project location, recognisable."""
    digest = hashlib.sha256(str(import_root).encode("utf-8", "surrogateescape")).hexdigest()[:12]
    return f"{PTH_PREFIX}{digest}.pth"


def _check_flow_dir(flow_dir: str | Path) -> Path:
    rel = Path(flow_dir)
    if rel.is_absolute() or not rel.parts:
        raise WorkspaceError(
            f"--flow-dir {str(flow_dir)!r}: expected a directory relative to the project root, like 'flows'"
        )
    for part in rel.parts:
        if not part.isidentifier() or keyword.iskeyword(part):
            raise WorkspaceError(
                f"--flow-dir {str(flow_dir)!r}: {part!r} is not a Python identifier; the directory "
                "becomes an importable package, so use letters, digits and '_' (like 'flows')"
            )
    return rel


def _write_new(path: Path, text: str) -> None:
    """Create ``path``; fails (FileExistsError) rather than replace anything already there."""
    with open(path, "x", encoding="utf-8", newline="\n") as fh:
        fh.write(text)


def _replace(path: Path, text: str) -> None:
    """Replace a generated file (never a user's: the callers check the generated mark)."""
    write_atomic(path, text, durable=False)


_RUN_ELSEWHERE = "run flow_init in a directory you can write to"


def _pth_hint(package: str) -> str:
    return (
        f"`import {package}` needs this .pth file in the environment's site-packages: activate "
        "a virtual environment you own, or pass --site-dir DIR"
    )


def _os_problem(exc: OSError, path: Path, what: str, hint: str = _RUN_ELSEWHERE) -> WorkspaceError:
    reason = exc.strerror or str(exc)
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return WorkspaceError(
            f"cannot create {what} {path}: {reason} ({path.parent} is read-only for you); {hint}"
        )
    return WorkspaceError(f"cannot create {what} {path}: {reason}")


class _Plan:
    """Applies the create/keep/rewrite rules to one path at a time and records the outcome."""

    def __init__(self, report: InitReport, force: bool) -> None:
        self.report = report
        self.force = force

    def in_the_way(self, path: Path, want_dir: bool) -> None:
        """Raise before touching anything when a path is occupied by the wrong kind of entry."""
        if want_dir and (path.exists() or path.is_symlink()) and not path.is_dir():
            raise WorkspaceError(
                f"{path} is in the way: flow_init needs a directory there but it is a file; "
                "rename or move it, then run flow_init again"
            )
        if not want_dir and path.is_dir():
            raise WorkspaceError(
                f"{path} is in the way: flow_init needs to write a file there but it is a directory; "
                "rename or move it, then run flow_init again"
            )

    def directory(self, path: Path) -> None:
        if path.is_dir():
            self.report.unchanged.append(path)
            return
        try:
            path.mkdir()
        except OSError as exc:
            raise _os_problem(exc, path, "directory") from exc
        self.report.created.append(path)

    def file(self, path: Path, text: str, what: str = "file", hint: str = _RUN_ELSEWHERE) -> None:
        if not (path.exists() or path.is_symlink()):
            try:
                _write_new(path, text)
            except FileExistsError:  # appeared meanwhile: treat it as the user's
                self.report.kept.append(path)
            except OSError as exc:
                raise _os_problem(exc, path, what, hint) from exc
            else:
                self.report.created.append(path)
            return
        try:
            current: str | None = read_text(path)
        except ReadProblem:  # not a regular file, not UTF-8...: not what we would write
            current = None
        if current == text:
            self.report.unchanged.append(path)
        elif not is_generated(path) or path.is_symlink():
            self.report.kept.append(path)
        elif not self.force:
            self.report.outdated.append(path)
        else:
            try:
                _replace(path, text)
            except OSError as exc:
                raise _os_problem(exc, path, what, hint) from exc
            self.report.rewritten.append(path)


def _shadow_warnings(package: str, ours: Path, site_dir: Path, pth: Path) -> list[str]:
    """Other places ``import <package>`` could come from, which would win or confuse."""
    found: dict[Path, str] = {}
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        spec = None
    if spec is not None and spec.origin not in (None, "namespace"):
        found[Path(spec.origin).resolve().parent] = "already importable in this environment"
    try:
        others = sorted(site_dir.glob(f"{PTH_PREFIX}*.pth"))
    except OSError:
        others = []
    for other in others:
        if other.name == pth.name:
            continue
        try:
            lines = read_text(other).splitlines()
        except ReadProblem:
            continue
        for line in lines:
            if line and not line.startswith("#"):
                cand = Path(line.strip()) / package
                if (cand / "__init__.py").is_file():
                    found.setdefault(cand.resolve(), f"installed by {other}")
    return [
        f"another `{package}` package is at {where} ({how}); `import {package}` imports whichever "
        f"comes first on sys.path, which may not be {ours}"
        for where, how in found.items()
        if where != ours
    ]


def flow_init(
    flow_dir: str | Path = "flows",
    *,
    root: str | Path | None = None,
    force: bool = False,
    site_dir: str | Path | None = None,
) -> InitReport:
    """Create (or complete) the workspace in ``root`` (default: the working directory).

    ``flow_dir`` is relative to ``root``; its last part is the package name (``import flows``).
    ``site_dir`` is where the ``.pth`` file goes: by default the running interpreter's
    site-packages (``sysconfig.get_paths()["purelib"]``). Another directory only helps if
    Python reads ``.pth`` files from it (``site.addsitedir``) — tests use that to leave the
    environment untouched. Raises :class:`WorkspaceError` when something is in the way or a
    directory is read-only; never deletes or overwrites a file it did not generate.
    """
    root_path = Path.cwd() if root is None else Path(root)
    root_path = root_path.resolve()
    rel = _check_flow_dir(flow_dir)
    if not root_path.is_dir():
        raise WorkspaceError(f"project root {root_path} is not a directory")
    flows = root_path / rel
    package = rel.parts[-1]
    import_root = flows.parent
    site = Path(sysconfig.get_paths()["purelib"] if site_dir is None else site_dir).resolve()
    if not site.is_dir():
        raise WorkspaceError(f"--site-dir {site}: not a directory")
    if "\n" in str(import_root) or "\r" in str(import_root):
        raise WorkspaceError(f"{import_root}: a path with a line break cannot go into a .pth file")
    pth = site / pth_name(import_root)

    report = InitReport(
        root=root_path, flows_dir=flows, package=package, pth_path=pth, site_default=site_dir is None
    )
    plan = _Plan(report, force)
    logs, data = root_path / LOGS_DIRNAME, root_path / DATA_DIRNAME
    dirs = [*(root_path / Path(*rel.parts[:i]) for i in range(1, len(rel.parts) + 1)), logs, data]
    files = {
        flows / "__init__.py": _INIT_TEMPLATE.format(
            mark=GENERATED_MARK,
            package=package,
            flow_dir=rel.as_posix(),
            logs=LOGS_DIRNAME,
            data=DATA_DIRNAME,
            depth=len(rel.parts),
        ),
        data / ".gitignore": _DATA_GITIGNORE,
    }
    pth_text = (
        f"{GENERATED_MARK} for the workspace in {root_path}: puts it on sys.path so that "
        f"`import {package}` works from any directory. Remove this file to undo.\n{import_root}\n"
    )
    # Check everything first: a file in the way must stop us before anything is created.
    for d in dirs:
        plan.in_the_way(d, want_dir=True)
    for f in (*files, pth):
        plan.in_the_way(f, want_dir=False)
    if not os.access(root_path, os.W_OK) and not all(d.is_dir() for d in dirs):
        raise WorkspaceError(f"cannot create the workspace in {root_path}: it is read-only for you; {_RUN_ELSEWHERE}")
    if not pth.exists() and not os.access(site, os.W_OK):
        raise WorkspaceError(f"cannot create {pth}: {site} is read-only for you; {_pth_hint(package)}")
    for d in dirs:
        plan.directory(d)
    for f, text in files.items():
        plan.file(f, text)
    plan.file(pth, pth_text, what=".pth file", hint=_pth_hint(package))
    if pth in report.kept or pth in report.outdated:
        report.warnings.append(
            f"{pth} exists with other content; `import {package}` may not point at {root_path}"
        )
    report.warnings.extend(_shadow_warnings(package, flows.resolve(), site, pth))
    return report


def _args_type() -> type:
    """The command line as a dataclass; built on demand because it needs tyro's annotations."""
    from typing import Annotated

    import tyro

    @dataclass
    class InitArgs:
        """Set up an experiment workspace in the current directory.

        Creates flows/ (experiments, with an __init__.py defining PROJ_ROOT, EXP_ROOT, LOGS_ROOT
        and DATA_ROOT), logs/ (one directory per run) and data/ (raw data, git-ignored), and
        a .pth file in this Python's site-packages so that `import flows` works from any
        directory. Safe to run again: existing files are kept, and a second run changes nothing.
        """

        flow_dir: Annotated[str, tyro.conf.arg(metavar="DIR", aliases=("--flow-dir-name",))] = "flows"
        """Experiments directory, relative to the current directory; its name is the package to import. (--flow-dir-name is pytorch-flows' name for it.)"""
        force: bool = False
        """Rewrite the files flow_init generated before (their first line says so), even if edited. Files you wrote are never touched."""
        site_dir: Annotated[str | None, tyro.conf.arg(metavar="DIR")] = None
        """Advanced: directory for the .pth file instead of this Python's site-packages. It only helps if Python reads .pth files from it (site-packages, or site.addsitedir)."""

    return InitArgs


def main(argv: list[str] | None = None) -> int:
    """Console entry point ``flow_init``: exit 0 on success, 2 with a short message on a mistake."""
    import tyro

    args: Any = tyro.cli(
        _args_type(), args=argv, prog="flow_init", config=(tyro.conf.FlagCreatePairsOff,)
    )
    try:
        report = flow_init(args.flow_dir, force=args.force, site_dir=args.site_dir)
    except ConfigError as exc:
        print(f"flow_init: error: {exc}", file=sys.stderr)
        return 2
    for line in report.lines():
        print(line, file=sys.stderr if line.startswith("warning:") else sys.stdout)
    return 0
