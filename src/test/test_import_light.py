"""`import config_utils` and `import prefigure_compat` stay light (docs/design.md, "Layout and imports").

Heavy packages cost seconds (wandb ≈ 0.9 s, pytorch_lightning ≈ 4.6 s, gradio ≈ 6 s), and
prefigure imported them all at import time. Each check runs in a fresh interpreter, since
this test process has long imported everything.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("wandb", "torch", "pytorch_lightning", "lightning", "gradio", "gin", "yaml", "mlflow",
         "ray", "optuna", "matplotlib", "sqlalchemy")


def modules_after_import(statement: str) -> set[str]:
    code = f"{statement}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=ROOT
    )
    assert proc.returncode == 0, proc.stderr
    return set(json.loads(proc.stdout.strip().splitlines()[-1]))


def top_level(modules: set[str]) -> set[str]:
    return {m.split(".")[0] for m in modules}


def test_import_config_utils_loads_nothing_heavy_and_not_tyro() -> None:
    loaded = top_level(modules_after_import("import config_utils"))
    assert loaded.isdisjoint(HEAVY), sorted(loaded & set(HEAVY))
    assert "tyro" not in loaded


def test_registry_use_loads_nothing_heavy() -> None:
    statement = (
        "from dataclasses import dataclass\n"
        "from config_utils.registry import registry\n"
        "@dataclass\n"
        "class AConfig:\n"
        "    x: int\n"
        "@registry.register_with_config\n"
        "class A:\n"
        "    def __init__(self, x): self.x = x\n"
        "assert registry.configure_submodules(AConfig(1)).x == 1\n"
        "registry.make_config(lambda y=1: y, name='LambdaConfig')"
    )
    loaded = top_level(modules_after_import(statement))
    assert loaded.isdisjoint((*HEAVY, "tyro")), sorted(loaded & {*HEAVY, "tyro"})


@pytest.mark.skipif(
    importlib.util.find_spec("prefigure_compat") is None, reason="prefigure_compat not built yet"
)
def test_import_prefigure_compat_loads_nothing_heavy_and_not_tyro() -> None:
    loaded = top_level(modules_after_import("import prefigure_compat"))
    assert loaded.isdisjoint((*HEAVY, "tyro")), sorted(loaded & {*HEAVY, "tyro"})


def test_sweep_api_and_report_load_nothing_heavy() -> None:
    """A training script calls config_utils.report every epoch; the sweep API module is
    imported by scripts that only describe sweeps. Optuna, Ray, matplotlib load when a sweep runs."""
    statement = (
        "import config_utils\n"
        "config_utils.report(loss=1.0)\n"
        "assert config_utils.sweep.SpecError\n"
        "from config_utils.sweep.spec import Param\n"
    )
    loaded = top_level(modules_after_import(statement))
    assert loaded.isdisjoint((*HEAVY, "tyro")), sorted(loaded & {*HEAVY, "tyro"})
