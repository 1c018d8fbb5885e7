"""The package's layering is enforced (docs/design.md, "Layout and imports"): the
import-linter contract in pyproject.toml passes on the tree, and fails on a copy of the tree
with one import cycle planted (``convert`` importing ``layers``, the cycle the package had)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(cwd: Path) -> subprocess.CompletedProcess[str]:
    # import-linter puts the working directory first on the path: it analyses the tree there
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", "pyproject.toml", "--no-cache"],
        cwd=cwd, capture_output=True, text=True, timeout=300,
    )


def test_the_layers_contract_holds() -> None:
    done = lint_imports(ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Contracts: 2 kept, 0 broken." in done.stdout


def test_a_planted_import_cycle_breaks_the_contract(tmp_path: Path) -> None:
    ignore = shutil.ignore_patterns("__pycache__", "template")
    for package in ("config_utils", "prefigure_compat"):
        shutil.copytree(ROOT / package, tmp_path / package, ignore=ignore)
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    convert = tmp_path / "config_utils" / "convert.py"
    convert.write_text(convert.read_text() + "\nfrom .layers import from_primitives  # planted\n")
    done = lint_imports(tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "config_utils is layered: lower modules never import higher ones BROKEN" in done.stdout
    assert "config_utils.convert -> config_utils.layers" in done.stdout
