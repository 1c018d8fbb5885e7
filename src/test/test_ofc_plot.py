"""The OFC live plot: what it draws from a run's files, how it stays bounded, who may read it.

The browser end-to-end run is ``test_ofc_live_plot.py``; here the pieces, each with a real
OFC, real files and (for the login) a real gradio server.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from ofc_config import Cfg
from ofc_editing import edit

import config_utils
from config_utils.ofc import OFC, OFCWarning
from config_utils.ofc.plot import BUCKETS, RunPlot, Series
from config_utils.sweep.report import METRICS_FILE, RUN_DIR_ENV, parse_metrics_line

pytestmark = pytest.mark.filterwarnings("ignore:.*(no_silent_downcasting|copy keyword)")


def make(tmp_path: Path, **kw: Any) -> OFC:
    kw.setdefault("poll_interval", 3600)  # no watcher polling: the tests poll()
    kw.setdefault("use_wandb", False)
    return OFC(Cfg(), ofc_file=tmp_path / "ofc.ini", **kw)


@pytest.fixture
def ofc(tmp_path: Path) -> Iterator[OFC]:
    o = make(tmp_path, plot_png=False)
    yield o
    o.close()


# ---------------------------------------------------------------- downsampling
def test_a_long_series_stays_bounded_and_keeps_its_extremes_and_end() -> None:
    series = Series()
    n = 300_000
    for step in range(n):
        series.add(step, 1.0 if step != 123_457 else 50.0)
    series.add(n, -7.0)
    points = series.points()
    assert len(series._data) <= 2 * BUCKETS
    assert len(points) <= 4 * 2 * BUCKETS
    assert (123_457, 50.0) in points  # a one-step spike survives downsampling
    assert points[-1] == (n, -7.0) and points[0] == (0, 1.0)
    assert series.bounds() == (0, n, -7.0, 50.0)
    assert series.count == n + 1


def test_non_finite_values_are_left_out() -> None:
    series = Series()
    for step, value in enumerate([1.0, float("nan"), float("inf"), 2.0]):
        series.add(step, value)
    assert series.points() == [(0, 1.0), (3, 2.0)] and series.count == 2


# ---------------------------------------------------------------- reading the run's files
def test_report_reaches_the_ofc_metrics_file_at_the_ofc_step(ofc: OFC) -> None:
    ofc.update(step=41)  # a run that passes its steps to update()...
    config_utils.report(step=41, loss=0.5)
    ofc.update()  # ...or lets the OFC count them (its second call: step 2)
    config_utils.report(loss=0.25, acc=1)
    rows = [parse_metrics_line(x) for x in ofc.metrics_file.read_text().splitlines()]
    assert rows == [(41, {"loss": 0.5}), (2, {"loss": 0.25, "acc": 1.0})]
    assert ofc.metrics_file == ofc.ofc_file.with_name("metrics.jsonl")


def test_a_sweep_trials_metrics_file_gets_each_line_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(RUN_DIR_ENV, str(tmp_path))
    with make(tmp_path, plot_png=False) as o:
        config_utils.report(step=1, loss=0.5)
        assert o.metrics_file == tmp_path / METRICS_FILE
    assert len((tmp_path / METRICS_FILE).read_text().splitlines()) == 1


def test_no_ofc_no_metrics_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(RUN_DIR_ENV, raising=False)
    with make(tmp_path, plot_png=False) as o:
        pass
    config_utils.report(step=1, loss=0.5)  # the OFC is closed: nothing is recorded
    assert not o.metrics_file.exists() and list(tmp_path.glob("*.jsonl")) == []


def test_markers_are_applied_changes_only(ofc: OFC) -> None:
    for step in range(5):
        config_utils.report(step=step, loss=1.0 / (step + 1))
    edit(ofc, {"optim.lr": "0.0003", "lam": "not a number"})
    with pytest.warns(OFCWarning, match="lam"):
        assert ofc.update(step=3) == {"optim.lr": 0.0003}  # the bad lam is rejected
    plot = ofc.plot()
    assert plot.refresh()
    assert [(m.step, m.key, m.label) for m in plot.markers] == [
        (3, "optim.lr", "optim.lr 0.001 → 0.0003 (file)")
    ]
    svg = plot.svg()
    assert svg.count('class="ofc-marker"') == 1
    assert 'data-step="3" data-key="optim.lr" data-source="file"' in svg
    assert 'data-metric="loss" data-last-step="4"' in svg


def test_the_plot_is_rebuilt_from_the_files_alone(ofc: OFC) -> None:
    """A GUI relaunch or a new process shows the same plot: nothing lives only in memory."""
    config_utils.report(step=7, loss=2.0)
    assert ofc.submit({"lam": "0.5"}, user="ann") == {}
    ofc.update(step=7)
    config_utils.report(step=8, loss=1.0)
    fresh = RunPlot(ofc.metrics_file, ofc.history_file)
    assert fresh.refresh()
    assert fresh.names == ["loss"]
    assert [m.label for m in fresh.markers] == ["lam 1.0 → 0.5 (page, ann)"]
    assert ofc.plot().refresh()
    assert fresh.svg() == ofc.plot().svg()


def test_a_line_still_being_written_waits_for_its_end(tmp_path: Path) -> None:
    metrics = tmp_path / "metrics.jsonl"
    metrics.write_text('{"_step": 1, "loss": 1.0}\n{"_step": 2, "lo')
    plot = RunPlot(metrics, tmp_path / "none.jsonl")
    plot.refresh()
    assert plot.series["loss"].points() == [(1, 1.0)]
    with metrics.open("a") as fh:
        fh.write('ss": 0.5}\nnot json\n[1, 2]\n{"_step": 3, "loss": "nan", "acc": true}\n')
    plot.refresh()
    assert plot.series["loss"].points() == [(1, 1.0), (2, 0.5)]  # garbage lines are skipped
    assert plot.names == ["loss"]  # a bool is no metric
    # the file replaced by a new run: the plot starts over
    metrics.write_text('{"_step": 0, "val": 3.0}\n')
    plot.refresh()
    assert plot.names == ["val"]


def test_a_fifo_in_place_of_the_metrics_file_is_never_read(tmp_path: Path) -> None:
    metrics = tmp_path / "metrics.jsonl"
    os.mkfifo(metrics)
    plot = RunPlot(metrics, tmp_path / "history.jsonl")
    assert plot.refresh()  # returns at once: a FIFO is not opened for reading blocking
    assert plot.problems == [f"{metrics}: not a regular file; not plotted"]
    assert plot.svg().startswith('<div id="ofc-plot-empty">No metrics yet')


def test_metrics_file_that_cannot_be_written_is_reported_once(tmp_path: Path) -> None:
    (tmp_path / "metrics.jsonl").mkdir()
    with make(tmp_path, plot_png=False) as o:
        with pytest.warns(OFCWarning, match="could not append to .*metrics.jsonl") as rec:
            config_utils.report(step=1, loss=1.0)
            config_utils.report(step=2, loss=1.0)
        assert len(rec) == 1
        assert o.update() == {}


# ---------------------------------------------------------------- the run's log line
def test_each_applied_change_is_one_log_line(ofc: OFC, capsys: pytest.CaptureFixture[str]) -> None:
    edit(ofc, {"optim.lr": "0.0003"})
    ofc.update(step=120)
    assert ofc.submit({"lam": "2.5"}, user="ann") == {}
    ofc.update(step=121)
    assert capsys.readouterr().err.splitlines() == [
        "ofc: optim.lr 0.001 → 0.0003 (file, step 120)",
        "ofc: lam 1.0 → 2.5 (page, ann, step 121)",
    ]
    history = [json.loads(x) for x in ofc.history_file.read_text().splitlines()]
    assert [(h["source"], h.get("user")) for h in history] == [("file", None), ("gui", "ann")]


def test_announce_false_is_silent(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with make(tmp_path, announce=False, plot_png=False) as o:
        edit(o, {"lam": "3.0"})
        assert o.update() == {"lam": 3.0}
    assert capsys.readouterr().err == ""


# ---------------------------------------------------------------- PNG
def _png_size(path: Path) -> tuple[int, int]:
    from PIL import Image

    with Image.open(path) as img:
        assert img.format == "PNG"
        return img.size


def test_closing_a_run_that_reported_writes_the_png_beside_its_files(tmp_path: Path) -> None:
    with make(tmp_path) as o:
        for step in range(20):
            config_utils.report(step=step, loss=1.0 / (step + 1))
    png = tmp_path / "ofc-plot.png"
    assert png.exists() and _png_size(png)[0] > 500
    # a run that reported nothing gets no PNG
    other = tmp_path / "quiet"
    other.mkdir()
    with make(other):
        pass
    assert not (other / "ofc-plot.png").exists()
    assert o.finish_plot() is None  # nothing new since: no second drawing


def test_png_on_demand_from_the_command_line(tmp_path: Path) -> None:
    with make(tmp_path, plot_png=False) as o:
        config_utils.report(step=1, loss=1.0)
        config_utils.report(step=2, loss=0.5)
    cmd = [sys.executable, "-m", "config_utils.ofc.plot"]
    out = subprocess.run([*cmd, str(tmp_path), "--out", str(tmp_path / "p.png")],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == str(tmp_path / "p.png") and _png_size(tmp_path / "p.png")
    assert o.history_file.parent == tmp_path
    for target, why in (
        (tmp_path / "nope", f"{tmp_path / 'nope'}: not a directory (give the run directory)"),
        (tmp_path.parent, f"{tmp_path.parent}: holds no metrics.jsonl file (nothing was "
                          "reported in this run)"),
    ):
        bad = subprocess.run([*cmd, str(target)], capture_output=True, text=True, timeout=120)
        assert (bad.returncode, bad.stderr) == (2, f"python -m config_utils.ofc.plot: error: {why}\n")


# ---------------------------------------------------------------- the page: who may read the plot
@dataclasses.dataclass
class Secret:
    lr: float = 0.001


METRIC = "val/secret_metric_7781"


@pytest.fixture
def guarded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[OFC]:
    monkeypatch.setenv("OFC_USERNAME", "ann")
    monkeypatch.setenv("OFC_PASSWORD", "correct horse")
    o = OFC(Secret(), ofc_file=tmp_path / "ofc.ini", use_wandb=False, gui=True, plot_png=False)
    try:
        config_utils.report(step=3, **{METRIC: 0.125})
        assert o.submit({"lr": "0.5"}, user="ann") == {}
        o.update(step=3)
        yield o
    finally:
        o.close()


def test_login_guards_every_route_that_serves_plot_data(guarded: OFC) -> None:
    import httpx
    from gradio_client import Client

    base = guarded.gradio_url.rstrip("/")
    named = ["/config", "/gradio_api/info", "/gradio_api/call/plot", "/gradio_api/run/plot",
             "/gradio_api/call/save_png", "/gradio_api/queue/join"]
    with httpx.Client(timeout=30) as anon:
        for path in named:
            r = anon.post(base + path, json={"data": [[], []], "fn_index": 0, "session_hash": "x"})
            if r.status_code == 405:
                r = anon.get(base + path)
            assert r.status_code == 401, (path, r.status_code, r.text[:200])
        # every other route of the app: none gives the plot's data to someone not logged in
        app = guarded.gui.demo.server_app
        for route in app.routes:
            path = re.sub(r"\{[^}]*\}", "x", getattr(route, "path", ""))
            for method in sorted(getattr(route, "methods", None) or {"GET"}):
                if method not in ("GET", "POST"):
                    continue
                r = anon.request(method, base + path, json={} if method == "POST" else None)
                assert METRIC not in r.text and "ofc-marker" not in r.text, (method, path)
        # a wrong password gets no session either
        r = anon.post(base + "/login", data={"username": "ann", "password": "battery staple"})
        assert r.status_code == 400
        assert anon.post(base + "/gradio_api/call/plot", json={"data": [[], []]}).status_code == 401

    with pytest.raises(ValueError):
        Client(guarded.gradio_url, verbose=False, analytics_enabled=False)
    client = Client(guarded.gradio_url, auth=("ann", "correct horse"), verbose=False,
                    analytics_enabled=False, download_files=False)
    choice, svg, status = client.predict([], [], api_name="/plot")  # the State stays server-side
    assert choice["choices"] == [[METRIC, METRIC]]
    assert f'data-metric="{METRIC}" data-last-step="3"' in svg
    assert 'data-step="3" data-key="lr" data-source="page, ann"' in svg
    assert status.startswith("1 metric(s), 1 change marker(s)")


def test_without_a_login_the_plot_answers_only_to_the_loopback_host(tmp_path: Path) -> None:
    from gradio_client import Client
    from gradio_client.exceptions import AppError

    with OFC(Secret(), ofc_file=tmp_path / "ofc.ini", use_wandb=False, gui=True,
             plot_png=False) as o:
        config_utils.report(step=1, **{METRIC: 1.0})
        port = o.gradio_url.rstrip("/").rsplit(":", 1)[1]
        evil = Client(o.gradio_url, headers={"Host": f"rebound.evil.example:{port}"},
                      verbose=False, analytics_enabled=False)
        for api, args in (("/plot", ([], [])), ("/save_png", ())):
            with pytest.raises(AppError, match="request refused: Host 'rebound.evil.example"):
                evil.predict(*args, api_name=api)
        assert not (tmp_path / "ofc-plot.png").exists()
        ok = Client(o.gradio_url, verbose=False, analytics_enabled=False)
        assert METRIC in ok.predict([], [], api_name="/plot")[1]
        # "Save PNG" on the page writes the PNG beside the run's files
        assert ok.predict(api_name="/save_png") == f"PNG written: `{tmp_path / 'ofc-plot.png'}`"
        assert (tmp_path / "ofc-plot.png").exists()
