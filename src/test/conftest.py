"""Shared test set-up: a hermetic W&B environment and the repo root on sys.path."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from hypothesis import settings

ROOT = Path(__file__).resolve().parents[2]
TEST_DIR = Path(__file__).resolve().parent
for p in (str(ROOT), str(TEST_DIR)):
    if p not in sys.path:
        sys.path.insert(0, p)

ARTIFACTS = ROOT / "test-artifacts"

# CI explores the same examples on every run (a red CI must be reproducible); locally each
# run explores new ones, which is how property tests find bugs.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")


@pytest.fixture(autouse=True)
def hermetic_wandb(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own W&B directories, no error reporting, no network by default."""
    base = tmp_path_factory.mktemp("wandb-home")
    for var in ("WANDB_DIR", "WANDB_CACHE_DIR", "WANDB_CONFIG_DIR", "WANDB_DATA_DIR"):
        d = base / var.lower()
        d.mkdir()
        monkeypatch.setenv(var, str(d))
    monkeypatch.setenv("WANDB_ERROR_REPORTING", "false")
    monkeypatch.setenv("WANDB_SILENT", "true")
    monkeypatch.setenv("WANDB_MODE", os.environ.get("FLOWS_TEST_WANDB_MODE", "offline"))
    monkeypatch.setenv("GRADIO_ANALYTICS_ENABLED", "False")
    monkeypatch.setenv("MLFLOW_DISABLE_TELEMETRY", "true")  # MLflow's usage statistics
    monkeypatch.setenv("DO_NOT_TRACK", "true")
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.delenv("WANDB_API_KEY", raising=False)
    monkeypatch.delenv("WANDB_BASE_URL", raising=False)
    monkeypatch.delenv("OFC_USERNAME", raising=False)
    monkeypatch.delenv("OFC_PASSWORD", raising=False)
    return base


@pytest.fixture
def artifacts_dir() -> Path:
    """Where tests leave files for people to look at (screenshots); kept after the run."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    """Tests run in random order (pytest-randomly); the seed is printed even with ``-q`` so
    that an order-dependent failure can be replayed."""
    seed = getattr(config.option, "randomly_seed", None)
    if isinstance(seed, int) and config.pluginmanager.hasplugin("randomly"):
        terminalreporter.write_line(
            f"random order seed: {seed} (replay this order: pytest --randomly-seed={seed})"
        )
