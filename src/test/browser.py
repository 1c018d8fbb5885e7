"""Headless Chromium for the OFC page's browser tests (Debian ``chromium`` + Python playwright).

Chromium is the system one at :data:`CHROMIUM` (``playwright install`` is never run);
playwright gives every ``launch()`` a fresh temporary profile (user-data dir), removed on
close. Outside CI a test that needs it skips, saying why, when the binary is missing; under
CI (``CI`` set) it fails instead, so a CI machine without the browser cannot pass quietly.

Each test module picks its own fixture scope and wraps :func:`launched_chromium`::

    @pytest.fixture(scope="module")
    def browser() -> Iterator[Any]:
        with launched_chromium() as chromium:
            yield chromium
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT_MS = 30_000  # a page load on a busy 2-core machine


@contextlib.contextmanager
def launched_chromium() -> Iterator[Any]:
    """The system Chromium, launched headless and closed on exit; skips (fails under CI) without it."""
    if not Path(CHROMIUM).exists():
        reason = (
            f"{CHROMIUM} is missing: install Debian's chromium package (apt-get install chromium)"
        )
        if os.environ.get("CI"):
            pytest.fail(f"under CI the browser test must run, but {reason}")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield chromium
        finally:
            chromium.close()
