"""The OFC page's live plot, end to end: the README's main job with ``--gui``, in headless Chromium.

What a person does: start ``examples/train.py --gui``, open the page it announces, watch the
loss curve grow, move the learning rate from the page, see a marker appear at the step the
change was applied, end the run from the page (``max_steps``), and find ``ofc-plot.png``
beside the run record. Checked from the page's DOM (the SVG's ``data-*`` attributes), from a
screenshot's pixels (the marker's colour in the marker's pixel column, the curve's colour on
both sides of it) and from the run's files and log — never from the server's state alone.

``FLOWS_WRITE_DOCS_IMAGES=1`` also writes the page's screenshot to ``docs/img/ofc-live-plot.png``
(the README's picture); otherwise it goes to ``test-artifacts/``.
"""

from __future__ import annotations

import io
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser import TIMEOUT_MS, launched_chromium

from config_utils.ofc.plot import CURVE, MARKER

ROOT = Path(__file__).resolve().parents[2]
TRAIN = ROOT / "examples" / "train.py"
DOCS_IMAGE = ROOT / "docs" / "img" / "ofc-live-plot.png"
RUN_TIMEOUT_S = 300  # start-up (torch, Lightning, gradio imports) on a busy 2-core machine

pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore:.*(no_silent_downcasting|copy keyword)")]


@pytest.fixture
def browser() -> Iterator[Any]:
    with launched_chromium() as chromium:
        yield chromium


class Run:
    """``examples/train.py`` in a subprocess; its output is collected by a thread."""

    def __init__(self, args: list[str], cwd: Path) -> None:
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        self.proc = subprocess.Popen(
            [sys.executable, str(TRAIN), *args],
            cwd=cwd,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: list[str] = []
        self._done = False
        self._new = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            with self._new:
                self.lines.append(line)
                self._new.notify_all()
        with self._new:
            self._done = True
            self._new.notify_all()

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def wait_for(self, pattern: str, timeout: float = RUN_TIMEOUT_S) -> re.Match[str]:
        """The first output line matching ``pattern``; fails when the run ends without one."""
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout
        with self._new:
            while True:
                found = next((m for x in self.lines if (m := regex.search(x))), None)
                if found:
                    return found
                remaining = deadline - time.monotonic()
                if self._done or remaining <= 0:
                    break
                self._new.wait(remaining)
        raise AssertionError(f"no line matching {pattern!r} in the run's output:\n{self.output}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._reader.join(timeout=10)


def _pixels(png: bytes) -> Any:
    from PIL import Image

    return Image.open(io.BytesIO(png)).convert("RGB")


def _near(rgb: tuple[int, int, int], hex_colour: str, tol: int = 40) -> bool:
    want = tuple(int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return all(abs(a - b) <= tol for a, b in zip(rgb, want, strict=True))


def _columns_with(img: Any, hex_colour: str, min_pixels: int) -> list[int]:
    """x of every pixel column holding at least ``min_pixels`` pixels of the colour."""
    width, height = img.size
    px = img.load()
    out = []
    for x in range(width):
        if sum(_near(px[x, y], hex_colour) for y in range(height)) >= min_pixels:
            out.append(x)
    return out


def _last_step(page: Any) -> int:
    return int(page.locator("#ofc-plot .ofc-curve").first.get_attribute("data-last-step"))


def _wait_past(page: Any, step: int) -> int:
    """Wait until the page's curve (redrawn by the page itself) reaches beyond ``step``."""
    page.wait_for_function(
        "s => { const c = document.querySelector('#ofc-plot .ofc-curve');"
        " return c && Number(c.dataset.lastStep) > s; }",
        arg=step,
        timeout=TIMEOUT_MS * 4,
    )
    return _last_step(page)


def test_live_plot_marks_a_change_made_from_the_page(
    browser: Any, tmp_path: Path, artifacts_dir: Path
) -> None:
    run = Run(
        ["--gui", "--max-steps", "100000", "--ofc-every", "1", "--log-every", "1000",
         "--wandb-mode", "disabled", "--logs-root", str(tmp_path / "logs"), "--run-name", "live"],
        cwd=tmp_path,
    )
    try:
        url = run.wait_for(r"OFC: steer this run at (http://127\.0\.0\.1:\d+/)").group(1)
        run_dir = tmp_path / "logs" / "train" / "live"
        page = browser.new_page(viewport={"width": 1100, "height": 1000})
        page.set_default_timeout(TIMEOUT_MS)
        page.goto(url)

        # the curve is drawn and keeps growing while the page stays open (no reload)
        page.locator("#ofc-plot .ofc-curve[data-metric='train/loss']").wait_for()
        first = _last_step(page)
        before_img = _pixels(page.locator("#ofc-plot-svg").screenshot())
        second = _wait_past(page, first)
        assert second > first
        assert page.locator("#ofc-plot .ofc-marker").count() == 0  # nothing changed yet

        # move the learning rate from the page
        page.locator("#ofc-status").get_by_text(re.compile("Values loaded from")).wait_for()
        page.locator("#ofc-field-optim-lr input").fill("0.0003")
        page.locator("#ofc-submit").click()
        page.locator("#ofc-status").get_by_text(re.compile("Written to")).wait_for()

        # the run announces the change in its log, with the step it applied it at
        applied = run.wait_for(r"ofc: optim\.lr 0\.01 → 0\.0003 \(page, step (\d+)\)")
        step = int(applied.group(1))

        # a marker appears at that step, and the curve goes on past it
        marker = page.locator("#ofc-plot .ofc-marker[data-key='optim.lr']")
        marker.wait_for()
        assert int(marker.get_attribute("data-step")) == step
        assert marker.get_attribute("data-source") == "page"
        assert "optim.lr 0.01 → 0.0003 (page)" in (marker.text_content() or "")
        _wait_past(page, step + 20)
        svg = page.locator("#ofc-plot-svg")
        after_png = svg.screenshot()
        after_img = _pixels(after_png)

        # pixels: the marker's colour stands in the marker's column and nowhere else as a
        # line; the curve's colour lies on both sides of it; the curve is not the one before
        marker_x = float(marker.get_attribute("data-x"))
        lines = _columns_with(after_img, MARKER, min_pixels=40)
        assert lines and all(abs(x - marker_x) <= 2 for x in lines), (marker_x, lines)
        curve = _columns_with(after_img, CURVE, min_pixels=1)
        assert min(curve) < marker_x - 10 and max(curve) > marker_x + 10, (marker_x, curve[:5], curve[-5:])
        assert _columns_with(before_img, MARKER, min_pixels=40) == []
        assert before_img.tobytes() != after_img.tobytes()

        # the run's own record of the change is the one the page marks
        history = [json.loads(x) for x in (run_dir / "ofc-history.jsonl").read_text().splitlines()]
        assert [(h["key"], h["new"], h["source"], h["step"]) for h in history] == [
            ("optim.lr", 0.0003, "gui", step)
        ]

        # a reload shows the same plot (built from the run's files, not from the session)
        page.reload()
        page.locator("#ofc-plot .ofc-marker[data-key='optim.lr']").wait_for()
        assert int(page.locator("#ofc-plot .ofc-marker").get_attribute("data-step")) == step
        page.locator("#ofc-status").get_by_text(re.compile("Values loaded from")).wait_for()
        shot = page.screenshot(full_page=False)
        (artifacts_dir / "ofc-live-plot.png").write_bytes(shot)
        if os.environ.get("FLOWS_WRITE_DOCS_IMAGES"):
            DOCS_IMAGE.parent.mkdir(parents=True, exist_ok=True)
            DOCS_IMAGE.write_bytes(shot)

        # end the run from the page: max_steps below the current step stops it cleanly
        page.locator("#ofc-field-max_steps input").fill("1")
        page.locator("#ofc-submit").click()
        page.locator("#ofc-status").get_by_text(re.compile("Written to")).wait_for()
        page.close()
        assert run.proc.wait(timeout=RUN_TIMEOUT_S) == 0, run.output
    finally:
        run.stop()

    # the same plot, as a PNG beside the run record
    png = run_dir / "ofc-plot.png"
    assert (run_dir / "run_record.json").exists() and png.exists(), run.output
    assert f"plot:          {png}" in run.output
    exported = _pixels(png.read_bytes())
    assert _columns_with(exported, MARKER, min_pixels=40), "no marker line in the exported PNG"
    assert _columns_with(exported, CURVE, min_pixels=1), "no curve in the exported PNG"
