"""The OFC web page through gradio_client (fast path; the real browser is test_ofc_browser.py).

A real gradio server runs in a background thread, as in training; each test gets its own
(``import gradio``, ~6 s, is paid once per process; a server start costs about a second).
"""

from __future__ import annotations

import contextlib
import dataclasses
import html
import os
import socket
import subprocess
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from config_utils.errors import OFCError
from config_utils.ofc import OFC, OFCWarning
from config_utils.ofc.gui import (
    OFCGui,
    host_allowed,
    login_from_env,
    needs_relaunch,
    relaunch_delay,
    section_of,
    slider_bounds,
    widget_kind,
)

# gradio's queue calls pandas APIs that pandas 3 deprecates; not ours to fix
pytestmark = pytest.mark.filterwarnings("ignore:.*(no_silent_downcasting|copy keyword)")

STEERABLE = ["optim.lr", "optim.betas", "use_ema", "demo_every", "run_name"]
HOUR = 3600.0


@dataclasses.dataclass
class Optim:
    lr: float = 0.001
    betas: list[float] = dataclasses.field(default_factory=lambda: [0.9, 0.999])
    secret_weight_decay: float = 0.0417


@dataclasses.dataclass
class TrainCfg:
    optim: Optim = dataclasses.field(default_factory=Optim)
    use_ema: bool = True
    demo_every: int = 100
    run_name: str = "baseline"
    data_root_private: str = "/very/private/data/root"


def _client(url: str, **kw: Any) -> Any:
    from gradio_client import Client

    return Client(url, verbose=False, download_files=False, analytics_enabled=False, **kw)


def _port_free(port: int) -> bool:
    """Nothing listens on ``port`` and a server can bind it (as servers do: SO_REUSEADDR,
    since the closed server's connections linger in TIME_WAIT)."""
    with socket.socket() as probe:
        if probe.connect_ex(("127.0.0.1", port)) == 0:
            return False
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


@contextlib.contextmanager
def serve_gui(tmp_path_factory: pytest.TempPathFactory, name: str) -> Iterator[OFC]:
    """One OFC(gui=True) over TrainCfg, no login, closed afterwards (shared with the browser tests)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("OFC_USERNAME", raising=False)
        mp.delenv("OFC_PASSWORD", raising=False)
        mp.setenv("GRADIO_ANALYTICS_ENABLED", "False")
        ofc = OFC(
            TrainCfg(),
            steerables=STEERABLE,
            ofc_file=tmp_path_factory.mktemp(name) / "ofc.ini",
            use_wandb=False,
            gui=True,
        )
    try:
        yield ofc
    finally:
        ofc.close()


@pytest.fixture
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[OFC, Any]]:
    """A fresh OFC(gui=True) per test (no login, text widgets): no test sees another's edits,
    so the tests hold in any order."""
    with serve_gui(tmp_path_factory, "ofc-gui") as ofc:
        yield ofc, _client(ofc.gradio_url)


def _submit(client: Any, **values: str) -> dict[str, Any]:
    """Call the page's Submit with the page's current texts, ``values`` replacing some."""
    loaded = client.predict(api_name="/load_values")
    n = len(STEERABLE)
    texts = dict(zip(STEERABLE, loaded[:n], strict=True))
    texts.update(values)
    out = client.predict(*[texts[k] for k in STEERABLE], api_name="/submit")
    errors = {
        k: html.unescape(u["value"])
        for k, u in zip(STEERABLE, out[:n], strict=True)
        if u["visible"]
    }
    return {"errors": errors, "status": out[n], "values": out[n + 1], "history": out[n + 2]}


# ---------------------------------------------------------------- pure decisions
def test_needs_relaunch_only_near_expiry() -> None:
    start = 1_000_000.0
    assert not needs_relaunch(start, start)
    assert not needs_relaunch(start, start + 70 * HOUR)
    assert needs_relaunch(start, start + 71 * HOUR)  # one hour before the 72 h expiry
    assert needs_relaunch(start, start + 80 * HOUR)
    assert not needs_relaunch(start, start + 9 * HOUR, lifetime=10 * HOUR, margin=0.5 * HOUR)
    # the timer fires when the decision turns true
    assert relaunch_delay(start, start) == 71 * HOUR
    assert relaunch_delay(start, start + 70 * HOUR) == HOUR
    assert relaunch_delay(start, start + 75 * HOUR) == 0.0


@pytest.mark.parametrize(
    ("host", "ok"),
    [
        ("127.0.0.1", True),
        ("127.0.0.1:7860", True),
        ("localhost:8080", True),
        ("LOCALHOST", True),
        ("evil.example", False),
        ("evil.example:7860", False),
        ("127.0.0.1.evil.example:7860", False),
        ("localhost.evil.example", False),
        ("127.0.0.1:7860@evil", False),
        ("", False),
        (None, False),
    ],
)
def test_host_allowed(host: str | None, ok: bool) -> None:
    assert host_allowed(host) is ok


def test_widget_choice_and_slider_bounds() -> None:
    assert widget_kind(bool, True, sliders=True) == "radio"
    assert widget_kind(int, 3, sliders=True) == "slider"
    assert widget_kind(int, 3, sliders=False) == "text"
    assert widget_kind(float | None, 0.1, sliders=True) == "text"
    assert widget_kind(list[float], [0.1], sliders=True) == "text"
    assert slider_bounds(0.001, is_int=False) == (0.0, 0.01, 0.00001)
    assert slider_bounds(100, is_int=True) == (0.0, 1000.0, 1.0)
    assert slider_bounds(-2, is_int=True) == (-20.0, 0.0, 1.0)
    assert slider_bounds(0, is_int=True) == (0.0, 10.0, 1.0)
    assert section_of("optim.lr") == "optim" and section_of("demo_every") == "top level"


def test_share_without_login_is_refused(tmp_path: Path) -> None:
    ofc = OFC(TrainCfg(), steerables=STEERABLE, ofc_file=tmp_path / "ofc.ini", use_wandb=False)
    try:
        with pytest.raises(OFCError) as exc:
            OFCGui(ofc, share=True)
        assert str(exc.value) == (
            "OFC GUI: share=True publishes the page on the internet and needs a login: set "
            "OFC_USERNAME and OFC_PASSWORD, or use share=False and reach http://127.0.0.1 "
            "through an SSH tunnel"
        )
    finally:
        ofc.close()


def test_half_a_login_is_an_error() -> None:
    assert login_from_env({}) is None
    assert login_from_env({"OFC_USERNAME": "ann", "OFC_PASSWORD": "pw"}) == ("ann", "pw")
    with pytest.raises(OFCError) as exc:
        login_from_env({"OFC_USERNAME": "ann"})
    assert str(exc.value) == (
        "OFC GUI: OFC_USERNAME is set but OFC_PASSWORD is not; set both to turn the login on, "
        "or neither to serve the page on 127.0.0.1 without a login"
    )


def test_gradio_is_imported_only_when_the_gui_is_on(tmp_path: Path) -> None:
    code = (
        "import sys, config_utils, config_utils.ofc.gui\n"
        "from config_utils.ofc import OFC\n"
        "import argparse\n"
        f"o = OFC(argparse.Namespace(lr=0.1), ofc_file={str(tmp_path / 'o.ini')!r}, use_wandb=False)\n"
        "o.close()\n"
        "print('gradio' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert out.stdout.strip() == "False"


# ---------------------------------------------------------------- the page, built
def test_sliders_radio_and_text_widgets(tmp_path: Path) -> None:
    import gradio as gr

    ofc = OFC(TrainCfg(), steerables=STEERABLE, ofc_file=tmp_path / "ofc.ini", use_wandb=False)
    try:
        demo = OFCGui(ofc, sliders=True).build()
        by_label = {
            b.label: b
            for b in demo.blocks.values()
            if isinstance(b, gr.components.Component) and getattr(b, "label", None)
        }
        lr, every = by_label["optim.lr"], by_label["demo_every"]
        assert isinstance(lr, gr.Slider) and (lr.minimum, lr.maximum) == (0.0, 0.01)
        assert isinstance(every, gr.Slider)
        assert (every.precision, every.step, every.maximum) == (0, 1.0, 1000.0)
        assert isinstance(by_label["use_ema"], gr.Radio)
        assert by_label["use_ema"].choices == [("True", "True"), ("False", "False")]
        assert isinstance(by_label["optim.betas"], gr.Textbox)
        assert isinstance(by_label["run_name"], gr.Textbox)
        sections = [b.label for b in demo.blocks.values() if isinstance(b, gr.Accordion)]
        assert sections == ["optim", "top level"]
        assert not set(by_label) & {"optim.secret_weight_decay", "data_root_private"}
    finally:
        ofc.close()


# ---------------------------------------------------------------- the page, served
def test_url_is_local_and_page_lists_only_steerable_keys(served: tuple[OFC, Any]) -> None:
    import httpx

    ofc, client = served
    assert ofc.gradio_url.startswith("http://127.0.0.1:")
    config = httpx.get(ofc.gradio_url.rstrip("/") + "/config", timeout=10).text
    loaded = client.predict(api_name="/load_values")
    for hidden in ("secret_weight_decay", "0.0417", "data_root_private", "/very/private"):
        assert hidden not in config
        assert hidden not in repr(loaded)
    # values reach the page only through the (Host-checked) load callback, not /config
    assert "baseline" not in config
    assert list(loaded[: len(STEERABLE)]) == ["0.001", "[0.9, 0.999]", "True", "100", "baseline"]
    assert '<p id="ofc-history-empty">No change applied yet.</p>' == loaded[-1]


def test_submit_writes_the_file_and_update_applies_it(served: tuple[OFC, Any]) -> None:
    ofc, client = served
    out = _submit(
        client, **{"optim.lr": "0.0003", "use_ema": "False", "optim.betas": "[0.8, 0.99]"}
    )
    assert out["errors"] == {}
    assert out["status"].startswith("Written to `ofc.ini`: `optim.lr = 0.0003`")
    text = ofc.ofc_file.read_text()
    assert "optim.lr = 0.0003\n" in text and "use_ema = False\n" in text
    assert ofc.update(step=12) == {"optim.lr": 0.0003, "optim.betas": [0.8, 0.99], "use_ema": False}
    assert ofc.cfg.optim.lr == 0.0003
    assert [c.source for c in ofc.history[-3:]] == ["gui"] * 3
    history = client.predict(api_name="/refresh")[1]
    assert (
        "<td><code>optim.lr</code></td><td><code>0.001</code></td><td><code>0.0003</code>"
        in history
    )
    # submitting the same form again changes nothing
    again = _submit(client)
    assert again["status"] == "Nothing changed." and ofc.update() == {}


def test_invalid_value_shows_error_and_changes_nothing(served: tuple[OFC, Any]) -> None:
    ofc, client = served
    before = ofc.ofc_file.read_text()
    out = _submit(client, **{"optim.lr": "0.5", "demo_every": "abc"})
    assert out["errors"] == {"demo_every": "gui: demo_every: expected int, got 'abc'"}
    assert out["status"] == (
        "**Nothing was written:** 1 invalid value(s), marked under the field(s)."
    )
    assert ofc.ofc_file.read_text() == before
    assert ofc.update() == {}


def test_wrong_host_header_is_refused(served: tuple[OFC, Any]) -> None:
    from gradio_client.exceptions import AppError

    ofc, _ = served
    port = ofc.gradio_url.rstrip("/").rsplit(":", 1)[1]
    evil = _client(ofc.gradio_url, headers={"Host": f"rebound.evil.example:{port}"})
    before = ofc.ofc_file.read_text()
    for api, args in (("/load_values", ()), ("/submit", ("0.5", "[1.0]", "True", "1", "x"))):
        with pytest.raises(AppError) as exc:
            evil.predict(*args, api_name=api)
        assert str(exc.value) == (
            f"OFC GUI: request refused: Host 'rebound.evil.example:{port}' is not 127.0.0.1 "
            "or localhost (open the page at its http://127.0.0.1 address)"
        )
    assert ofc.ofc_file.read_text() == before
    # the same request through "localhost" passes
    ok = _client(ofc.gradio_url, headers={"Host": f"localhost:{port}"})
    assert ok.predict(api_name="/load_values")[1] == ofc.text_values()["optim.betas"]


def test_close_frees_the_port_and_a_relaunch_reuses_it(tmp_path: Path) -> None:
    ofc = OFC(
        TrainCfg(), steerables=STEERABLE, ofc_file=tmp_path / "ofc.ini", use_wandb=False, gui=True
    )
    try:
        url = ofc.gradio_url
        port = int(url.rstrip("/").rsplit(":", 1)[1])
        gui = ofc._gui
        assert gui.relaunch() == url  # what the 72 h timer does: same port, same local URL
        assert _client(url).predict(api_name="/load_values")[4] == "baseline"
        gui.close()
        assert _port_free(port)

        # the same port serves again, here with sliders (ints: precision 0, step 1)
        again = OFCGui(ofc, port=port, sliders=True, verbose=False)
        try:
            assert again.start() == url
            client = _client(url)
            lr, _, _, every, _ = client.predict(api_name="/load_values")[:5]
            assert lr == {
                "minimum": 0.0,
                "maximum": 0.01,
                "step": 1e-05,
                "value": 0.001,
                "__type__": "update",
            }
            assert every["value"] == 100 and every["step"] == 1.0
            client.predict(0.0005, "[0.9, 0.999]", "True", 250, "baseline", api_name="/submit")
            changes = ofc.update()
            assert changes == {"optim.lr": 0.0005, "demo_every": 250}
            assert type(changes["demo_every"]) is int
        finally:
            again.close()
        assert _port_free(port)

        with socket.socket() as taken:
            # REUSEADDR: the closed server's connections may linger in TIME_WAIT
            taken.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            taken.bind(("127.0.0.1", port))
            taken.listen()
            with pytest.raises(OFCError) as exc:
                OFCGui(ofc, port=port, verbose=False).start()
        assert str(exc.value) == (
            f"OFC GUI: port {port} on 127.0.0.1 is in use; pass another port, or none to have "
            "a free one chosen"
        )
    finally:
        ofc.close()


def test_share_without_internet_reports_no_link_and_login_guards_the_page(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No internet is mocked by a proxy that refuses connections; the login is real."""
    from gradio_client.exceptions import AppError  # noqa: F401  (client import for timing)

    dead = socket.socket()
    dead.bind(("127.0.0.1", 0))
    dead_port = dead.getsockname()[1]
    dead.close()
    for var in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY"):
        monkeypatch.setenv(var, f"http://127.0.0.1:{dead_port}")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    monkeypatch.setenv("OFC_USERNAME", "ann")
    monkeypatch.setenv("OFC_PASSWORD", "s3cret-pw")
    ofc = OFC(TrainCfg(), steerables=STEERABLE, ofc_file=tmp_path / "ofc.ini", use_wandb=False)
    gui = OFCGui(ofc, share=True, share_timeout=60, verbose=False)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            url = gui.start()
        assert url == gui.local_url and ofc.gradio_url == url and gui.share_url is None
        messages = [str(w.message) for w in caught if issubclass(w.category, OFCWarning)]
        assert messages == [
            "OFC GUI: share=True but gradio gave no public link (no internet, or the share "
            f"server is unreachable); the page is only at {url}"
        ]
        with pytest.raises(ValueError):  # gradio_client's login refusal
            _client(url, auth=("ann", "wrong"))
        logged_in = _client(url, auth=("ann", "s3cret-pw"))
        # behind a login the Host check is off (a share link has a public Host)
        assert logged_in.predict(api_name="/load_values")[0] == "0.001"

        # a link that arrives after start() returned (what gradio's tunnel thread reports)
        gui._share_result(gui._demo, "https://0123abcd.gradio.live")
        assert ofc.gradio_url == gui.url == "https://0123abcd.gradio.live"
        timer = gui._timer
        assert timer is not None and timer.is_alive()
        assert 71 * HOUR - 60 < timer.interval <= 71 * HOUR  # relaunch 1 h before expiry
    finally:
        gui.close()
        ofc.close()
    assert not timer.is_alive()  # close() cancels the relaunch


def test_url_goes_to_an_active_wandb_run_as_html(tmp_path: Path) -> None:
    import wandb

    run = wandb.init(project="ofc-gui", mode="offline", dir=str(tmp_path))
    try:
        assert OFCGui._log_wandb("http://127.0.0.1:4321/") is True
        pages = list(Path(run.dir).glob("media/html/ofc/gui_*.html"))
        assert len(pages) == 1
        assert '<a href="http://127.0.0.1:4321/" target="_blank">' in pages[0].read_text()
    finally:
        run.finish()
    assert OFCGui._log_wandb("http://127.0.0.1:4321/") is False  # no active run
    assert os.environ["WANDB_MODE"] == "offline"


def test_legacy_namespace_config_gets_one_section(tmp_path: Path) -> None:
    """prefigure-style flat ``argparse.Namespace`` configs: widgets typed by the values."""
    import argparse

    import gradio as gr

    args = argparse.Namespace(lr=0.01, use_ema=False, sizes=[1, 2], name="x")
    ofc = OFC(args, ofc_file=tmp_path / "ofc.ini", use_wandb=False)
    try:
        demo = OFCGui(ofc, sliders=True).build()
        kinds = {
            b.label: type(b).__name__
            for b in demo.blocks.values()
            if isinstance(b, gr.components.Component) and getattr(b, "label", None)
        }
        assert kinds == {
            "lr": "Slider",
            "use_ema": "Radio",
            "sizes": "Textbox",
            "name": "Textbox",
            "metrics to plot": "CheckboxGroup",  # the live plot's choice, not a config key
        }
        sections = [b.label for b in demo.blocks.values() if isinstance(b, gr.Accordion)]
        assert sections == ["top level"]
    finally:
        ofc.close()
