"""The OFC web page in a real headless Chromium (Debian ``chromium`` + Python playwright).

What a person does: open the page, edit a float, a bool and a list, press Submit; the training
loop's next ``update()`` returns exactly those changes. An invalid value is shown under its
field and changes nothing. With ``OFC_USERNAME``/``OFC_PASSWORD`` set, the page asks for a
login and refuses a wrong password.

Chromium is the system one, launched by ``browser.py`` (outside CI the tests skip, saying why,
when ``/usr/bin/chromium`` is missing; under CI (``CI`` set) they must run).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser import TIMEOUT_MS, launched_chromium
from test_ofc_gui import STEERABLE, TrainCfg, serve_gui

from config_utils.ofc import OFC

pytestmark = pytest.mark.filterwarnings("ignore:.*(no_silent_downcasting|copy keyword)")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with launched_chromium() as chromium:
        yield chromium


@pytest.fixture
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OFC]:
    """A fresh training-side OFC serving its page, without a login (one per test: any order)."""
    with serve_gui(tmp_path_factory, "ofc-browser") as ofc:
        yield ofc


def _open(browser: Any, url: str) -> Any:
    page = browser.new_page(viewport={"width": 1100, "height": 900})
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(url)
    return page


def _wait_loaded(page: Any) -> None:
    """The widgets are filled by the page's load callback; wait for it."""
    page.locator("#ofc-status").get_by_text(re.compile("Values loaded from")).wait_for()


def _field(page: Any, key: str) -> Any:
    return page.locator(f"#ofc-field-{key.replace('.', '-')} input")


def test_browser_edits_reach_the_training_loop(
    browser: Any, served: OFC, artifacts_dir: Path
) -> None:
    page = _open(browser, served.gradio_url)
    try:
        _wait_loaded(page)
        assert _field(page, "optim.lr").input_value() == "0.001"
        assert page.locator("#ofc-field-use_ema").get_by_label("True").is_checked()
        # non-steerable keys are not on the page
        body = page.inner_text("body")
        assert "secret_weight_decay" not in body and "data_root_private" not in body

        _field(page, "optim.lr").fill("0.0003")
        page.locator("#ofc-field-use_ema").get_by_label("False").check()
        _field(page, "optim.betas").fill("[0.8, 0.99]")
        page.locator("#ofc-submit").click()
        page.locator("#ofc-status").get_by_text(re.compile("Written to")).wait_for()

        assert served.update(step=7) == {
            "optim.lr": 0.0003,
            "use_ema": False,
            "optim.betas": [0.8, 0.99],
        }
        assert served.cfg.optim.lr == 0.0003 and served.cfg.use_ema is False
        assert served.update() == {}

        # the page shows the applied changes in its history, the latest first (form order)
        page.locator("#ofc-reload").click()
        page.locator("#ofc-history-table").get_by_text("optim.betas").wait_for()
        rows = page.locator("#ofc-history-table tbody tr").all_inner_texts()
        assert [r.split("\t")[1:] for r in rows] == [
            ["7", "use_ema", "True", "False", "page"],
            ["7", "optim.betas", "[0.9, 0.999]", "[0.8, 0.99]", "page"],
            ["7", "optim.lr", "0.001", "0.0003", "page"],
        ]
        page.screenshot(path=str(artifacts_dir / "ofc_gui.png"), full_page=True)
    finally:
        page.close()


def test_browser_invalid_value_is_shown_and_changes_nothing(
    browser: Any, served: OFC, artifacts_dir: Path
) -> None:
    before = served.ofc_file.read_text()
    page = _open(browser, served.gradio_url)
    try:
        _wait_loaded(page)
        _field(page, "optim.lr").fill("0.5")
        _field(page, "demo_every").fill("every epoch")
        page.locator("#ofc-submit").click()
        error = page.locator("#ofc-error-demo_every")
        error.wait_for(state="visible")
        assert error.inner_text().strip() == "gui: demo_every: expected int, got 'every epoch'"
        assert page.locator("#ofc-error-optim-lr").count() == 0  # hidden: no error there
        status = page.locator("#ofc-status").inner_text()
        assert "Nothing was written: 1 invalid value(s), marked under the field(s)." in status
        assert served.ofc_file.read_text() == before
        assert served.update() == {}
        assert served.cfg.optim.lr != 0.5
        page.screenshot(path=str(artifacts_dir / "ofc_gui_error.png"), full_page=True)

        # fixing the value clears the error and submits both edits
        _field(page, "demo_every").fill("250")
        page.locator("#ofc-submit").click()
        page.locator("#ofc-status").get_by_text(re.compile("Written to")).wait_for()
        error.wait_for(state="hidden")
        assert served.update() == {"optim.lr": 0.5, "demo_every": 250}
    finally:
        page.close()


def test_browser_login_refuses_a_wrong_password(
    browser: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OFC_USERNAME", "ann")
    monkeypatch.setenv("OFC_PASSWORD", "correct horse")
    ofc = OFC(
        TrainCfg(), steerables=STEERABLE, ofc_file=tmp_path / "ofc.ini", use_wandb=False, gui=True
    )
    page = _open(browser, ofc.gradio_url)
    try:
        page.get_by_label("username").fill("ann")
        page.get_by_label("password").fill("battery staple")
        page.get_by_role("button", name="Login").click()
        page.get_by_text("Incorrect Credentials").wait_for()
        assert page.locator("#ofc-submit").count() == 0

        page.get_by_label("username").fill("ann")
        page.get_by_label("password").fill("correct horse")
        page.get_by_role("button", name="Login").click()
        _wait_loaded(page)
        _field(page, "run_name").fill("tuned")
        page.locator("#ofc-submit").click()
        page.locator("#ofc-status").get_by_text(re.compile("Written to")).wait_for()
        assert ofc.update() == {"run_name": "tuned"}
    finally:
        page.close()
        ofc.close()
