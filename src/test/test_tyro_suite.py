"""tyro's own test suite, with ``tyro.cli`` routed through ``config_utils.cli``.

A tyro user switches by replacing ``tyro.cli(...)`` with ``config_utils.cli(...)`` (no config
file). This runs tyro's tests (from the pinned source distribution on PyPI, downloaded once into
a cache directory) in a subprocess pytest with the plugin ``tyro_route/flows_tyro_route.py``,
which makes ``tyro.cli``, ``from tyro import cli`` and ``from tyro._cli import cli`` call
``config_utils.cli``.

Every routed failure must be a documented difference: the failing test ids must equal the lines
of ``data/tyro_suite_expected_failures.txt`` (``test id  # reason``; ``docs/cli.md``'s
"Deliberate differences" table gives the same reasons). A new failure fails this test, and so
does a listed failure that passes now (remove its line). Tests that fail with bare tyro too
(an optional package missing here, a shell missing) are no differences: the same selection is
run once un-routed and those ids are subtracted (cached per tyro version, Python, selection
and installed packages).

The whole suite (2570 tests) takes 6-8 minutes routed on a 2-core machine (and as long again
bare, once), so by default a subset runs: the files in ``SUBSET`` (every file with a
documented difference or a test that caught a bug fixed since, and the ``MISSING`` tests;
about 100 s). ``FLOWS_TYRO_SUITE=full`` runs every file. ``FLOWS_TYRO_SUITE_CACHE`` moves the
cache (default ``~/.cache/flows-workspace/tyro-suite``).

The tests at the end check each bug the suite found, without the download (tyro the oracle).
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import importlib.metadata
import os
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import Any, Generic, NewType, Optional, Self, TypeVar, Union

import pytest
import tyro
from tyro_oracle import both

import config_utils

TYRO_VERSION = "1.0.16"
HERE = Path(__file__).resolve().parent
EXPECTED = HERE / "data" / "tyro_suite_expected_failures.txt"
PLUGIN_DIR = HERE / "tyro_route"

# the default selection: every file with a documented difference, every file whose tests
# caught a bug fixed here, and the MISSING tests
SUBSET = tuple(f"tests/{name}.py" for name in (
    "test_boolean_optional",
    "test_collection_union_collections",
    "test_completion_bash",
    "test_conf",
    "test_dcargs",
    "test_experimental",
    "test_functools",
    "test_generics_and_serialization",
    "test_missing",
    "test_nested",
    "test_parse_error_hooks",
    "test_partial",
    "test_positional",
    "test_pydantic_with_newtype",
    "test_self_type",
))


def _cache_dir() -> Path:
    root = os.environ.get("FLOWS_TYRO_SUITE_CACHE")
    base = Path(root) if root else Path.home() / ".cache" / "flows-workspace" / "tyro-suite"
    return base / TYRO_VERSION


def _sdist_tree() -> Path:
    """tyro's unpacked sdist (it ships ``tests/``); downloaded with pip once."""
    cache = _cache_dir()
    tree = cache / f"tyro-{TYRO_VERSION}"
    if (tree / "tests" / "conftest.py").is_file():
        return tree
    cache.mkdir(parents=True, exist_ok=True)
    archive = cache / f"tyro-{TYRO_VERSION}.tar.gz"
    if not archive.is_file():
        proc = subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
             f"tyro=={TYRO_VERSION}", "-d", str(cache)],
            capture_output=True, text=True, timeout=300,
        )
        if proc.returncode != 0 or not archive.is_file():
            pytest.skip(f"tyro {TYRO_VERSION}'s source distribution could not be downloaded "
                        f"from PyPI (pip exit {proc.returncode}): {proc.stderr.strip()[-300:]}")
    with tarfile.open(archive) as tar:
        tar.extractall(cache, filter="data")
    return tree


def _selection() -> tuple[str, ...]:
    return ("tests",) if os.environ.get("FLOWS_TYRO_SUITE") == "full" else SUBSET


def _failures(tree: Path, selection: tuple[str, ...], routed: bool, report: Path) -> set[str]:
    """The ids of the tests that fail in ``selection``, with or without the routing."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PLUGIN_DIR), env.get("PYTHONPATH")]))
    env["FLOWS_TYRO_ROUTE"] = "1" if routed else "0"
    env["FLOWS_TYRO_ROUTE_REPORT"] = str(report)
    env.pop("FLOWS_RUN_DIR", None)
    env.pop("FLOWS_SWEEP_TRIAL", None)
    env.setdefault("COLUMNS", "80")
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", *selection, "-q", "-p", "no:randomly",
         "-p", "no:cacheprovider", "-p", "flows_tyro_route", "--backend=tyro",
         "--continue-on-collection-errors", "-W", "ignore::DeprecationWarning"],
        cwd=tree, env=env, capture_output=True, text=True, timeout=3600,
    )
    if not report.is_file():  # pytest did not reach the end: show why
        raise AssertionError(f"tyro's suite did not run (exit {proc.returncode}):\n"
                             f"{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return set(report.read_text(encoding="utf-8").split("\n")) - {""}


def _expected(selection: tuple[str, ...]) -> dict[str, str]:
    """The documented differences (test id -> reason) inside ``selection``."""
    out: dict[str, str] = {}
    for line in EXPECTED.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        test_id, _, reason = line.partition("  # ")
        test_id = test_id.strip()
        assert reason.strip(), f"{EXPECTED.name}: {test_id} has no reason"
        if any(test_id == s or test_id.startswith(s.rstrip("/") + "/") or
               test_id.startswith(s + "::") for s in selection):
            out[test_id] = reason.strip()
    return out


@pytest.mark.slow
def test_routed_tyro_suite_fails_only_where_documented(tmp_path: Path) -> None:
    tree = _sdist_tree()
    selection = _selection()
    # the environment's failures depend on the Python, the selection and what is installed
    installed = sorted(f"{d.metadata['Name']}=={d.version}" for d in importlib.metadata.distributions())
    key = hashlib.sha256(
        "\n".join((sys.version, *selection, *installed)).encode()).hexdigest()[:12]
    bare_cache = _cache_dir() / f"bare-failures-{key}.txt"
    if not bare_cache.is_file():  # bare tyro runs once per key
        bare = _failures(tree, selection, routed=False, report=tmp_path / "bare.txt")
        bare_cache.write_text("".join(f"{t}\n" for t in sorted(bare)), encoding="utf-8")
    bare = set(bare_cache.read_text(encoding="utf-8").split("\n")) - {""}
    routed = _failures(tree, selection, routed=True, report=tmp_path / "routed.txt")
    expected = _expected(selection)
    new = sorted(routed - bare - set(expected))
    fixed = sorted(set(expected) - routed)
    assert not new and not fixed, (
        f"tyro's suite routed through config_utils.cli ({' '.join(selection)}):\n"
        f"failing, not documented in {EXPECTED.name} ({len(new)}):\n  " + "\n  ".join(new)
        + f"\ndocumented but passing now, remove the line ({len(fixed)}):\n  "
        + "\n  ".join(fixed)
    )


def test_every_documented_reason_is_in_docs_cli() -> None:
    """The data file's reasons are the rows of docs/cli.md's table of deliberate differences."""
    docs = (HERE.parent.parent / "docs" / "cli.md").read_text(encoding="utf-8")
    reasons = set(_expected(("tests",)).values())
    assert reasons, f"{EXPECTED.name} lists no difference"
    missing = sorted(r for r in reasons if r not in docs)
    assert not missing, f"reasons in {EXPECTED.name} not found in docs/cli.md: {missing}"


# ------------------------------------------------------------------------------------------
# The bugs tyro's suite found, each checked here without the download (tyro is the oracle).


def _same(target: Any, args: list[str], **kwargs: Any) -> Any:
    theirs, ours = both(target, args, **kwargs)
    assert theirs.same_as(ours), (theirs, ours)
    assert (theirs.stdout, theirs.stderr) == (ours.stdout, ours.stderr)
    return ours.value


@dataclasses.dataclass
class Derived:
    x: int = 3
    y: Optional[int] = None

    def __post_init__(self) -> None:
        if self.y is None:
            self.y = self.x


@dataclasses.dataclass
class HoldsDerived:
    inner: Derived = dataclasses.field(default_factory=Derived)


def test_a_nested_default_factory_is_re_derived_as_in_tyro() -> None:
    assert _same(HoldsDerived, ["--inner.x", "5"]) == HoldsDerived(Derived(5, 5))


@dataclasses.dataclass
class Http:
    y: int = 0


@dataclasses.dataclass
class Smtp:
    z: int = 0


@dataclasses.dataclass
class BadUnionDefault:
    x: int
    bc: Union[Http, Smtp] = dataclasses.field(default_factory=lambda: 5)  # type: ignore[arg-type,assignment]


def test_a_union_default_of_no_member_warns_as_in_tyro() -> None:
    with pytest.warns(UserWarning):
        assert config_utils.cli(BadUnionDefault, args=["--x", "1"], config_file=None).bc == 5


@dataclasses.dataclass
class Flagged:
    flag: bool = False


def test_tyros_global_options_are_honoured(capsys: pytest.CaptureFixture[str]) -> None:
    options = tyro._experimental_options
    try:
        options["enable_timing"] = True
        config_utils.cli(Flagged, args=["--flag"], config_file=None)
        assert "took" in capsys.readouterr().err
        options["enable_timing"] = False
        options["global_markers"] = "FlagConversionOff"
        theirs, ours = both(Flagged, ["--no-flag"])
        assert theirs.exit == ours.exit == 2
        assert _same(Flagged, ["--flag", "True"]) == Flagged(True)
    finally:
        options["enable_timing"] = False
        options["global_markers"] = ""


def _documented(a: int, b: str) -> str:
    """Hello!

    Args:
        a: Argument.
        b: Argument.
    """
    return b * a


def test_partial_targets_show_the_functions_help() -> None:
    target = functools.partial(_documented, b="3")
    assert _same(target, ["--a", "2"]) == "33"
    theirs, ours = both(target, ["--help"])
    assert ours.exit == theirs.exit == 0
    assert ours.stdout.startswith(theirs.stdout.rstrip("\n"))  # then the layers group
    assert "Hello!" in ours.stdout and "partial(" not in ours.stdout


class Point:
    def __init__(self, a: int, b: int) -> None:
        self.a, self.b = a, b

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Point) and (self.a, self.b) == (other.a, other.b)

    def same_kind(self, x: Self) -> Self:
        return x


T = TypeVar("T")


class Box(Generic[T]):
    def __init__(self, a: T) -> None:
        self.a = a

    def method(self, a: T) -> T:
        return a


def test_method_targets_with_self_and_type_variables() -> None:
    assert _same(Point(0, 0).same_kind, ["--x.a", "3", "--x.b", "4"]) == Point(3, 4)
    assert _same(Box[int](3).method, ["--a", "5"]) == 5


Pair = NewType("Pair", tuple[int, int])


def test_newtype_targets_are_types() -> None:
    assert _same(Pair, ["1", "2"]) == (1, 2)


def test_completion_script_has_no_help_group() -> None:
    theirs, ours = both(Flagged, ["--tyro-print-completion", "bash"])
    assert (ours.exit, ours.stdout) == (theirs.exit, theirs.stdout)
    assert "config layers" not in ours.stdout


@dataclasses.dataclass
class Needs:
    token: str
    number: int


def test_parse_error_hook_is_called_once() -> None:
    from tyro import _errors

    for args in (["--token", "t"], ["--token", "t", "--number", "x", "--flag=yes"]):
        seen: list[Any] = []
        with _errors.on_parse_error(seen.append):
            theirs, ours = both(Needs, args)
        assert theirs.exit == ours.exit == 2
        assert len(seen) == 2, seen  # once for tyro.cli, once for config_utils.cli
