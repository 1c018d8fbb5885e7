"""``flow_create``: a new experiment directory in ``flows/``, from the template or a copy.

``flow_create --name NAME`` copies the template experiment shipped with this package
(``run.py`` with a ``RunConfig`` parsed by ``config_utils.cli``, a registered class, run
records saved into a per-run log directory; a commented ``defaults.ini``; a README).
``--copy-from EXP`` copies an existing experiment instead, without its logs and caches.
``--from-run`` seeds ``defaults.ini`` with the config of a previous run (a local run directory
saved by ``config_utils.save_run``, or a W&B run), so the new experiment starts where that run
was, with every value visible and editable in one file.

The new directory is assembled next to its final place and renamed into it in one step, so a
failure never leaves half an experiment behind; an existing directory is never touched.
"""

import json
import keyword
import os
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ConfigError, WorkspaceError, did_you_mean
from ..readers import ReadProblem, read_text
from .paths import Workspace, find_workspace, workspace_at

#: The template experiment shipped inside the package (package data).
TEMPLATE_DIR = Path(__file__).resolve().parent / "template"

#: Left behind when copying an experiment: logs, caches and tool state, never source.
COPY_IGNORE = (
    "__pycache__",
    "*.pyc",
    "*.pyo",
    "logs",
    "wandb",
    "lightning_logs",
    "outputs",
    "multirun",
    ".ipynb_checkpoints",
    ".pytest_cache",
    ".mypy_cache",
    ".ruff_cache",
    ".cache",
    "*.egg-info",
    ".DS_Store",
)



#: Longest experiment name: it becomes a directory (file systems allow 255 bytes per name, and
#: the staging directory adds a prefix and suffix) and a module name people type.
MAX_NAME_LENGTH = 100


def _check_name(name: str) -> None:
    if len(name) > MAX_NAME_LENGTH:
        raise WorkspaceError(
            f"experiment name {name[:20]!r}... is {len(name)} characters long; at most "
            f"{MAX_NAME_LENGTH} (it becomes the directory flows/<name> and the module flows.<name>)"
        )
    if not name.isidentifier() or keyword.iskeyword(name):
        raise WorkspaceError(
            f"experiment name {name!r} is not a plain identifier: use letters, digits and '_', "
            "not starting with a digit, without slashes or '..' "
            f"(it becomes the directory flows/<name> and the module flows.<name>)"
        )


def _locate(root: Path, flow_dir: str | Path | None) -> Workspace:
    if flow_dir is not None:
        ws = workspace_at(root / flow_dir)
        if ws is None:
            raise WorkspaceError(
                f"{root / flow_dir} is not an experiments directory made by flow_init "
                "(no generated __init__.py); run flow_init first"
            )
        return ws
    ws = find_workspace(root) or workspace_at(root / "flows")
    if ws is not None:
        return ws
    # a workspace made with --flow-dir (say src/flows): look one and two levels down
    found = sorted(
        {
            w.flows_dir
            for pattern in ("*/__init__.py", "*/*/__init__.py")
            for init in root.glob(pattern)
            if not any(part.startswith(".") for part in init.relative_to(root).parts)
            and (w := workspace_at(init.parent)) is not None
            and w.root == root
        }
    )
    if len(found) == 1:
        ws = workspace_at(found[0])
        assert ws is not None
        return ws
    if found:
        listing = ", ".join(str(f.relative_to(root)) for f in found)
        raise WorkspaceError(f"several experiment directories here ({listing}): pass --flow-dir DIR")
    raise WorkspaceError(
        f"no workspace found: {root} is neither inside a flows/ directory made by flow_init "
        "nor beside one; run flow_init in the project root first (or pass --flow-dir DIR)"
    )


def _experiments(ws: Workspace) -> list[str]:
    try:
        return sorted(
            p.name
            for p in ws.flows_dir.iterdir()
            if p.is_dir() and not p.name.startswith((".", "_"))
        )
    except OSError:
        return []


def _source_dir(ws: Workspace, copy_from: str | Path | None, root: Path) -> Path:
    if copy_from is None:
        if not TEMPLATE_DIR.is_dir():
            raise WorkspaceError(f"the template experiment is missing from the installation: {TEMPLATE_DIR}")
        return TEMPLATE_DIR
    text = str(copy_from)
    by_name = ws.flows_dir / text
    looks_like_path = os.sep in text or "/" in text or text.startswith(".")
    candidates = [by_name] if not looks_like_path else [root / text]
    for cand in candidates:
        if cand.is_dir():
            return cand.resolve()
    names = _experiments(ws)
    listing = ", ".join(names) if names else "none yet"
    raise WorkspaceError(
        f"--copy-from {text!r}: no such experiment in {ws.flows_dir}{did_you_mean(text, names)}; "
        f"existing experiments: {listing}"
    )


# -- reading a previous run ----------------------------------------------------------------


def _is_key_part(key: object) -> bool:
    """True for a dict key that can be one part of a dotted ini key (a field name is one)."""
    return isinstance(key, str) and (key.isidentifier() or key == "_type")


def _flatten_run(nested: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """A run's primitives as dotted keys, descending only into dicts that can be sub-configs.

    A sub-config's keys are field names (identifiers, and ``_type`` for a union variant). A
    dict whose keys are not all names (``{"a.b": 1}``, ``{"x y": 2}``) can only be the value
    of a ``dict`` field: it stays one value, so the dots in its keys survive re-creation. (The
    run's config class is usually not importable here, often being a script's ``__main__``;
    with it, ``config_utils.layers.flatten_for`` would decide from the schema.)
    """
    out: dict[str, Any] = {}
    for key, value in nested.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict) and value and all(_is_key_part(k) for k in value):
            out.update(_flatten_run(value, path + "."))
        else:
            out[path] = value
    return out


def _run_values(from_run: str, root: Path) -> tuple[dict[str, Any], str]:
    """The run's config as flat dotted keys → JSON primitives, and a label for messages.

    Read as ``--from-run`` reads it (:func:`config_utils.sources.previous.pull_previous`):
    a run directory, an offline W&B run directory, an MLflow run or a W&B run; ``OMITTED``
    skipped only when a tracker holds it.
    """
    from ..sources.previous import pull_previous
    from ..sources.push import drop_omitted

    local = Path(from_run).expanduser()
    if not local.is_absolute():
        local = root / local
    if not local.exists() and from_run.startswith(("/", "./", "../", "~", ".\\")):
        raise WorkspaceError(f"--from-run {from_run!r}: no such run directory ({local})")
    run = pull_previous(str(local) if local.exists() else from_run)
    if local.exists():
        label = f"run {local.resolve()}"
    elif run.label.startswith("wandb:"):
        label = f"W&B run {from_run}"
    else:
        label = f"run {run.label}"
    if not isinstance(run.config, dict):
        raise WorkspaceError(f"--from-run {from_run!r}: the run's config is not a mapping of keys to values")
    flat = _flatten_run(run.config)
    if run.tracker:
        flat = drop_omitted(flat)
    return {k: v for k, v in flat.items() if not k.split(".", 1)[0].startswith("_wandb")}, label


def _read(path: Path) -> str:
    """A file of the experiment (the house's bounded reader); one line when it is not one."""
    try:
        return read_text(path)
    except ReadProblem as exc:
        raise WorkspaceError(str(exc)) from None


def _format(value: Any) -> str:
    """The ini text for one run value; the ini reader + ``convert`` give the value back."""
    from ..ini import cut_inline_comment, format_value

    try:
        text = format_value(value)
    except Exception:  # an exotic value from an old run: readable JSON beats failing
        text = json.dumps(value, default=repr)
    if "\n" in text or cut_inline_comment(text) != text:
        text = repr(value)  # a quoted literal is never cut and never spans lines
    return text


_MULTILINE = "__flow_create_multiline_{}__"


def _seeded_ini(existing: Path, run_values: dict[str, Any], label: str) -> str:
    """``defaults.ini`` text: the experiment's keys (with their help comments) set to the run's
    values, then any key only the run has. Keys the run omitted keep the experiment's value,
    written exactly as they were (a value continued over several lines stays so).

    Written by the one ini writer (:func:`config_utils.ini.write_ini`) and read back before it
    is returned: a text that would not give every value back is an error, never a file.
    """
    from .. import ini

    kept: dict[str, ini.Entry] = {}
    if existing.is_file():
        text = _read(existing)
        doc = ini.read_ini(text, source=str(existing), strict=True)
        kept = {e.key: e for e in doc.entries}
    # A union field whose variant the run names (``mod._type``): the experiment's keys for
    # another variant would be unknown keys there, so only the run's keys stay.
    variants = [k[: -len("_type")] for k in run_values if k.endswith("._type")]
    for key in [k for k in kept if k not in run_values]:
        if any(key.startswith(prefix) for prefix in variants):
            del kept[key]
    wanted: dict[str, str] = {k: e.value_text for k, e in kept.items()}
    for key, value in run_values.items():
        wanted[key] = _format(value)
    only_file = sorted(set(wanted) - set(run_values))
    header = [
        f"Seeded by flow_create from {label}.",
        "Every value is the run's; edit freely. The command line still overrides this file.",
    ]
    if only_file:
        header.append("Not in the run (kept from the copied defaults.ini): " + ", ".join(only_file))
    multiline: dict[str, str] = {}
    entries = []
    for key, text in wanted.items():
        if "\n" in text:  # only a kept value: continuation lines, restored below
            marker = _MULTILINE.format(len(multiline))
            multiline[marker] = text
            text = marker
        old = kept.get(key)
        entries.append(ini.Entry(key, text, comment_above=old.comment_above if old else ()))
    try:
        out = ini.write_ini(entries, header=header)
    except ConfigError as exc:
        raise WorkspaceError(f"cannot write the seeded defaults.ini: {exc}") from None
    for marker, text in multiline.items():
        first, *rest = text.split("\n")
        out = out.replace(f" = {marker}\n", " = " + "\n    ".join([first, *rest]) + "\n", 1)
    back = {e.key: e.value_text for e in ini.read_ini(out, source="defaults.ini").entries}
    if back != wanted:
        bad = sorted(k for k in wanted if back.get(k) != wanted[k])
        raise WorkspaceError(
            f"cannot write the seeded defaults.ini: {', '.join(bad[:5])} would not read back "
            "as written; nothing was created"
        )
    return out


# -- the command ---------------------------------------------------------------------------

#: Template files whose text names the experiment (``flows/NAME/run.py``).
_NAMED_FILES = ("README.md", "run.py")


def _name_the_template(build: Path, name: str, ws: Workspace) -> None:
    """Put the experiment's real paths where the template says ``flows/NAME`` and ``logs/NAME``."""
    import re

    flows_rel = ws.flows_dir.relative_to(ws.root).as_posix()
    logs_rel = os.path.relpath(ws.logs_root, ws.root).replace(os.sep, "/")
    for file_name in _NAMED_FILES:
        path = build / file_name
        if not path.is_file():
            continue
        text = _read(path)
        text = text.replace("flows/NAME/", f"{flows_rel}/{name}/").replace("logs/NAME/", f"{logs_rel}/{name}/")
        text = text.replace("# Experiment (made by", f"# Experiment `{name}` (made by")
        text = re.sub(r"\bNAME\b", name, text)
        path.write_text(text, encoding="utf-8")




def flow_create(
    name: str,
    *,
    copy_from: str | Path | None = None,
    from_run: str | None = None,
    root: str | Path | None = None,
    flow_dir: str | Path | None = None,
) -> Path:
    """Create ``flows/<name>`` and return its path.

    ``root`` is where to look for the workspace (default: the working directory; inside
    ``flows/`` or the project root). ``copy_from`` names an experiment in ``flows/`` (or a
    path to a directory); without it the template is copied. ``from_run`` is a local run
    directory (``config_utils.save_run``) or a W&B run (URL or ``entity/project/run_id``).
    Raises :class:`WorkspaceError` for a bad name, an existing target or an unknown source,
    and the sources' own errors (``RunSourceError``) when the run cannot be read.
    """
    _check_name(name)
    here = (Path.cwd() if root is None else Path(root)).resolve()
    ws = _locate(here, flow_dir)
    target = ws.flows_dir / name
    if target.exists() or target.is_symlink():
        raise WorkspaceError(
            f"{target} already exists: flow_create never overwrites an experiment; "
            "choose another --name"
        )
    source = _source_dir(ws, copy_from, here)
    if target.resolve().is_relative_to(source):
        raise WorkspaceError(f"--copy-from {source}: cannot copy a directory into itself ({target})")
    run_values: dict[str, Any] | None = None
    label = ""
    if from_run is not None:
        run_values, label = _run_values(from_run, here)  # before touching the disk

    try:
        staging = Path(tempfile.mkdtemp(prefix=f".{name}.", suffix=".creating", dir=ws.flows_dir))
    except OSError as exc:
        raise WorkspaceError(f"cannot create {target}: {exc.strerror or exc}") from exc
    try:
        build = staging / name
        shutil.copytree(source, build, symlinks=True, ignore=shutil.ignore_patterns(*COPY_IGNORE))
        if source == TEMPLATE_DIR:
            _name_the_template(build, name, ws)
        if run_values is not None:
            ini = build / "defaults.ini"
            text = _seeded_ini(ini, run_values, label)
            ini.write_text(text, encoding="utf-8")
        if target.exists() or target.is_symlink():
            raise WorkspaceError(f"{target} appeared while it was being created; left it as it is")
        os.rename(build, target)
    except OSError as exc:
        raise WorkspaceError(f"cannot create {target}: {exc.strerror or exc}") from exc
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def _args_type() -> type:
    """The command line as a dataclass; built on demand because it needs tyro's annotations."""
    from typing import Annotated

    import tyro

    @dataclass
    class CreateArgs:
        """Create a new experiment in flows/NAME: a copy of the template (run.py, defaults.ini,
        README.md) or of an existing experiment. Run it in the project root or inside flows/.
        Never overwrites anything: an existing flows/NAME is refused."""

        name: Annotated[str, tyro.conf.arg(metavar="NAME")]
        """Name of the new experiment: a Python identifier (letters, digits, '_'); becomes flows/NAME."""
        copy_from: Annotated[str | None, tyro.conf.arg(metavar="EXP")] = None
        """Copy this existing experiment (a name in flows/, or a path) instead of the template; its logs, caches and __pycache__ are left out."""
        from_run: Annotated[str | None, tyro.conf.arg(metavar="URL_OR_DIR")] = None
        """Seed defaults.ini with the config of a previous run: a run directory saved by config_utils.save_run, or a W&B run URL or entity/project/run_id."""
        flow_dir: Annotated[str | None, tyro.conf.arg(metavar="DIR", aliases=("--copy-to-dir",))] = None
        """Advanced: the experiments directory, when it is neither ./flows nor a directory above the current one. (pytorch-flows called it --copy-to-dir; here it must be a directory made by flow_init.)"""

    return CreateArgs


def main(argv: list[str] | None = None) -> int:
    """Console entry point ``flow_create``: exit 0 on success, 2 with a short message on a mistake."""
    import tyro

    args: Any = tyro.cli(_args_type(), args=argv, prog="flow_create")
    try:
        target = flow_create(
            args.name, copy_from=args.copy_from, from_run=args.from_run, flow_dir=args.flow_dir
        )
    except ConfigError as exc:
        print(f"flow_create: error: {exc}", file=sys.stderr)
        return 2
    what = f"a copy of {args.copy_from}" if args.copy_from else "the template"
    print(f"flow_create: created {target} from {what}")
    if args.from_run:
        print(f"  defaults.ini seeded from {args.from_run}")
    if (target / "run.py").is_file():
        print(f"  try: python {os.path.relpath(target / 'run.py')} --help")
    return 0
