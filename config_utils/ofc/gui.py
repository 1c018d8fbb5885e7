"""The OFC web page: steer a running job from a browser (gradio).

Why it is built this way:

* The OFC file stays the single source of truth. The page never touches the config: Submit
  hands the form's text to :meth:`OFC.submit`, which converts it with the same typed
  conversion as the file (``config_utils.convert.convert``), writes the file atomically and
  stages the changes; the training loop applies them at its next ``update()``. A form with any
  invalid value changes nothing, and each error is shown under its field.
* Only the fields the person edited are sent (each session keeps the text it loaded), so a
  page left open does not revert edits made to the file meanwhile.
* Safety: the server binds 127.0.0.1 on a port chosen beforehand (gradio's ``server_port=0``
  fails). ``OFC_USERNAME``/``OFC_PASSWORD`` turn on gradio's login. Without a login every
  callback checks the request's ``Host`` header, so a web page on another site cannot reach
  the server through DNS rebinding; only ``127.0.0.1``/``localhost`` (any port, so an SSH
  tunnel works) are accepted. The widgets are built empty and filled by a (checked) load
  callback, so gradio's public ``/config`` carries no values (only slider bounds, guessed
  from the start values). A public share link, or binding
  another interface, is refused without a login.
* The training loop never waits on the internet: gradio's ``launch`` (which, with
  ``share=True``, blocks while it sets up the tunnel — 0.4 to 90 s with no internet, and then
  gives no link and no error) runs in a background thread; :meth:`OFCGui.start` waits only for
  the local server and, boundedly, for the share link, and warns when none came. A public link
  expires (72 h): a timer relaunches before that (:func:`needs_relaunch`).
* ``import gradio`` costs ~6 s, so it happens only in :meth:`OFCGui.start` (``gui=True``).

No ``from __future__ import annotations`` here: gradio finds the ``gr.Request`` parameter of a
callback from its evaluated annotation, and ``gr`` is a local name. (The request comes first in
the form callback: gradio cannot pass it after ``*args``.)
"""

import datetime as _dt
import html
import logging
import math
import os
import re
import socket
import sys
import threading
import time
from collections.abc import Mapping
from typing import Any

from ..convert import convert, format_value
from ..errors import ConfigError, OFCError
from ..types import strip_annotated, unwrap_optional

__all__ = [
    "LOCAL_HOSTS",
    "RELAUNCH_MARGIN_S",
    "SHARE_LIFETIME_S",
    "OFCGui",
    "free_port",
    "host_allowed",
    "launch_gui",
    "login_from_env",
    "needs_relaunch",
    "relaunch_delay",
    "section_of",
    "slider_bounds",
    "widget_kind",
]

log = logging.getLogger(__name__)

SHARE_LIFETIME_S = 72 * 3600.0  # gradio share links expire after 72 hours
RELAUNCH_MARGIN_S = 3600.0  # relaunch one hour before that
LOCAL_HOSTS = ("127.0.0.1", "localhost")
TOP_LEVEL = "top level"
HISTORY_ROWS = 20
REFRESH_S = 5.0  # how often an open page refreshes its "current values" and history tables
PLOT_REFRESH_S = 1.0  # how often an open page redraws the live plot (nothing is read without one)

_HOST_RE = re.compile(r"^(?P<name>[^:\[\]]+)(?::(?P<port>\d{1,5}))?$")
_CSS = """
.ofc-error, .ofc-error * { color: #b00020 !important; font-weight: 600; }
.ofc-status { min-height: 1.5em; }
#ofc-plot { overflow-x: auto; }
"""


# ---------------------------------------------------------------------- pure helpers
def needs_relaunch(
    started_at: float,
    now: float,
    lifetime: float = SHARE_LIFETIME_S,
    margin: float = RELAUNCH_MARGIN_S,
) -> bool:
    """True once a share link started at ``started_at`` is within ``margin`` of expiring.

    prefigure relaunched while the link was *younger* than 71 h (the sign reversed), i.e. on
    every check but the one that mattered.
    """
    return now - started_at >= lifetime - margin


def relaunch_delay(
    started_at: float,
    now: float,
    lifetime: float = SHARE_LIFETIME_S,
    margin: float = RELAUNCH_MARGIN_S,
) -> float:
    """Seconds from ``now`` until :func:`needs_relaunch` turns true (0 when it already is)."""
    return max(0.0, started_at + lifetime - margin - now)


def host_allowed(host_header: str | None) -> bool:
    """Whether a request's ``Host`` header names this machine's loopback server.

    Any port is accepted (an SSH tunnel maps another local port); any other name — what a
    DNS-rebinding attack sends — is refused, and so is a missing header.
    """
    if not host_header:
        return False
    match = _HOST_RE.match(host_header.strip())
    return bool(match) and match.group("name").lower() in LOCAL_HOSTS  # type: ignore[union-attr]


def login_from_env(environ: Mapping[str, str] | None = None) -> tuple[str, str] | None:
    """``(OFC_USERNAME, OFC_PASSWORD)`` when both are set, None when neither is.

    One without the other is a mistake that would silently leave the page open, so it is an
    error.
    """
    env = os.environ if environ is None else environ
    user = env.get("OFC_USERNAME", "")
    password = env.get("OFC_PASSWORD", "")
    if user and password:
        return user, password
    if user or password:
        have, missing = (
            ("OFC_USERNAME", "OFC_PASSWORD") if user else ("OFC_PASSWORD", "OFC_USERNAME")
        )
        raise OFCError(
            f"OFC GUI: {have} is set but {missing} is not; set both to turn the login on, "
            "or neither to serve the page on 127.0.0.1 without a login"
        )
    return None


def free_port(host: str = "127.0.0.1") -> int:
    """A port that is free right now on ``host`` (gradio cannot pick one itself)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def _port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.2):
            return True
    except OSError:
        return False


def section_of(key: str) -> str:
    """The config section a dotted key belongs to (``optim.lr`` → ``optim``)."""
    prefix, _, _ = key.rpartition(".")
    return prefix or TOP_LEVEL


def _number_type(tp: Any) -> type | None:
    inner = strip_annotated(tp)
    if inner is int:
        return int
    if inner is float:
        return float
    return None


def widget_kind(tp: Any, value: Any, sliders: bool) -> str:
    """``"radio"`` (bool), ``"slider"`` (int/float when ``sliders``) or ``"text"``.

    Decided from the declared type; a slider also needs a finite current value to guess its
    bounds from, and Optional numbers stay text (a slider cannot say None).
    """
    inner, optional = unwrap_optional(tp)
    if strip_annotated(inner) is bool:
        return "radio"
    number = _number_type(tp)
    if (
        sliders
        and number is not None
        and not optional
        and isinstance(value, (int, float))
        and not isinstance(value, bool)
        and math.isfinite(value)
    ):
        return "slider"
    return "text"


def slider_bounds(value: float, is_int: bool) -> tuple[float, float, float]:
    """``(minimum, maximum, step)`` guessed from the current value.

    The range runs from 0 to ten times the value (to ten times below for a negative value;
    0..1, or 0..10 for ints, at zero), so the start value sits at a tenth of the track and a
    learning rate can move by an order of magnitude either way in the text box. Ints step by
    1; floats in a thousandth of the range.
    """
    if value > 0:
        lo, hi = 0.0, 10.0 * value
    elif value < 0:
        lo, hi = 10.0 * value, 0.0
    else:
        lo, hi = 0.0, (10.0 if is_int else 1.0)
    if is_int:
        lo, hi = float(math.floor(lo)), float(max(math.ceil(hi), lo + 1))
        return lo, hi, 1.0
    return lo, hi, (hi - lo) / 1000.0


def _slug(key: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "-", key)


def _bool_choices(optional: bool) -> list[str]:
    return ["True", "False", "None"] if optional else ["True", "False"]


# ---------------------------------------------------------------------- the page
class OFCGui:
    """The gradio page of one :class:`~config_utils.ofc.core.OFC` (rank 0 only).

    ``OFCGui(ofc).start()`` returns the URL; ``close()`` stops the server and frees the port.
    ``OFC(..., gui=True)`` does this through :func:`launch_gui`. ``port=None`` picks a free
    port; ``share_timeout`` bounds how long :meth:`start` waits for a public link (the link
    may still come later: :attr:`url` and ``ofc.gradio_url`` then change to it).
    """

    def __init__(
        self,
        ofc: Any,
        *,
        sliders: bool = False,
        share: bool = False,
        host: str = "127.0.0.1",
        port: int | None = None,
        share_timeout: float = 15.0,
        history_rows: int = HISTORY_ROWS,
        verbose: bool = True,
    ) -> None:
        self.ofc = ofc
        self.sliders = sliders
        self.share = share
        self.host = host
        self.port = port
        self.share_timeout = float(share_timeout)
        self.history_rows = history_rows
        self.verbose = verbose
        self.auth = login_from_env()
        if share and self.auth is None:
            raise OFCError(
                "OFC GUI: share=True publishes the page on the internet and needs a login: "
                "set OFC_USERNAME and OFC_PASSWORD, or use share=False and reach "
                "http://127.0.0.1 through an SSH tunnel"
            )
        if host not in LOCAL_HOSTS and self.auth is None:
            raise OFCError(
                f"OFC GUI: host={host!r} serves the page beyond this machine and needs a "
                "login: set OFC_USERNAME and OFC_PASSWORD, or use host='127.0.0.1'"
            )
        self.local_url = ""
        self.share_url: str | None = None
        self.share_started_at: float | None = None
        self._demo: Any = None
        self._thread: threading.Thread | None = None
        self._launch_error: BaseException | None = None
        self._launched = threading.Event()  # gradio's launch() returned (share attempt done)
        self._launched_in_time: bool | None = None  # did the share attempt end within start()?
        self._timer: threading.Timer | None = None
        self._lock = threading.RLock()
        self._closed = False

    # ------------------------------------------------------------------ public state
    @property
    def url(self) -> str:
        """The public link when there is one, else the local URL."""
        return self.share_url or self.local_url

    @property
    def running(self) -> bool:
        return self._demo is not None and not self._closed

    @property
    def demo(self) -> Any:
        """The page's ``gradio.Blocks`` while it is served, else None."""
        return self._demo if self.running else None

    # ------------------------------------------------------------------ lifetime
    def start(self, wait: float = 60.0) -> str:
        """Launch the server in a background thread; return the URL once the page answers.

        Waits at most ``wait`` s for the local server and ``share_timeout`` s for a public
        link. Raises :class:`OFCError` when gradio is missing or the server cannot start.
        """
        if self._closed:
            raise OFCError("OFC GUI: this page was closed; create a new OFCGui to serve again")
        if self._demo is not None:
            return self.url
        os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
        try:
            import gradio  # noqa: F401  (~6 s; only when the GUI is on)
        except ImportError as exc:
            raise OFCError(
                f"OFC(gui=True) needs gradio ({exc}): pip install 'flows-workspace[gui]'"
            ) from None
        fixed_port = self.port
        port = 0
        for _attempt in range(3):
            port = fixed_port if fixed_port is not None else free_port(self.host)
            self._serve(port, wait)
            if self._launch_error is None or fixed_port is not None:
                break
            if not isinstance(self._launch_error, OSError):
                break  # OSError: a port taken between choosing and binding; try another one
        if self._launch_error is not None:
            raise OFCError(self._launch_message(port))
        self.port = port
        if self.share:
            self._await_share(self.share_timeout)
        self._announce()
        return self.url

    def _serve(self, port: int, wait: float) -> None:
        """Build the page and run gradio's launch() in a thread; wait for the local server."""
        self._launch_error = None
        self._launched.clear()
        self._launched_in_time = None
        demo = self.build()
        self._demo = demo
        self.local_url = f"http://{self.host}:{port}/"
        thread = threading.Thread(
            target=self._launch, args=(demo, port), name=f"ofc-gui:{port}", daemon=True
        )
        self._thread = thread
        thread.start()
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            # gradio sets is_running once *its* server is up (before a share tunnel); a
            # mere open port could be another program's
            up = getattr(demo, "is_running", False) and _port_open(self.host, port)
            if up or self._launched.is_set():
                break
            time.sleep(0.05)
        else:
            self.ofc.report(
                f"OFC GUI: the page at {self.local_url} did not answer within {wait:g} s; it "
                "keeps starting in the background"
            )
        if self._launch_error is not None:
            self._demo = None

    def _launch_message(self, port: int) -> str:
        err = self._launch_error
        if isinstance(err, OSError):  # gradio's text points at GRADIO_SERVER_PORT: not ours
            return (
                f"OFC GUI: port {port} on {self.host} is in use; pass another port, or none "
                "to have a free one chosen"
            )
        return f"OFC GUI: the page could not start on {self.host}:{port}: {err!r}"

    def _launch(self, demo: Any, port: int) -> None:
        try:
            demo.launch(
                server_name=self.host,
                server_port=port,
                share=self.share,
                auth=self.auth,
                auth_message="On-the-fly control: log in with OFC_USERNAME / OFC_PASSWORD",
                prevent_thread_lock=True,
                quiet=True,
                show_error=True,
                ssr_mode=False,
                mcp_server=False,
                # gradio's own run history would keep submitted values in the browser and
                # offers to upload them to a Hugging Face bucket; the page has its history
                run_history=False,
                footer_links=["api", "gradio", "settings"],
                css=_CSS,
            )
        except BaseException as exc:  # reported by start(); the thread must not print a trace
            self._launch_error = exc
            return
        finally:
            self._launched.set()
        if self.share:
            self._share_result(demo, getattr(demo, "share_url", None))

    def _await_share(self, timeout: float) -> None:
        self._launched_in_time = self._launched.wait(timeout)
        if not self._launched_in_time:
            self.ofc.report(
                f"OFC GUI: no public share link after {timeout:g} s (no internet?); the page "
                f"is at {self.local_url}, and ofc.gradio_url changes if a link comes later"
            )
        elif self.share_url is None and not self._closed:
            self.ofc.report(
                "OFC GUI: share=True but gradio gave no public link (no internet, or the "
                f"share server is unreachable); the page is only at {self.local_url}"
            )

    def _share_result(self, demo: Any, share_url: str | None) -> None:
        """Called in the launch thread once gradio's tunnel attempt is over."""
        with self._lock:
            if self._closed or not share_url or demo is not self._demo:
                return  # closed, no link, or a server replaced by a relaunch meanwhile
            late = self._launched_in_time is False
            self.share_url = str(share_url)
            self.share_started_at = time.time()
            self._schedule_relaunch()
        try:
            self.ofc.gradio_url = self.url
        except AttributeError:
            pass
        if late:  # start() already returned with the local URL: announce the link now
            self._announce()

    def _schedule_relaunch(self) -> None:
        if self.share_started_at is None or self._closed:
            return
        delay = max(1.0, relaunch_delay(self.share_started_at, time.time()))
        if self._timer is not None:
            self._timer.cancel()
        self._timer = threading.Timer(delay, self._relaunch_if_due)
        self._timer.daemon = True
        self._timer.start()

    def _relaunch_if_due(self) -> None:
        started = self.share_started_at
        if self._closed or started is None:
            return
        if needs_relaunch(started, time.time()):
            try:
                self.relaunch()
            except ConfigError as exc:
                self.ofc.report(f"OFC GUI: relaunch failed: {exc}")
        else:
            self._schedule_relaunch()

    def relaunch(self, wait: float = 60.0) -> str:
        """Restart the server on the same port (a new share link when sharing)."""
        with self._lock:
            if self._closed:
                raise OFCError("OFC GUI: this page was closed; create a new OFCGui to serve again")
            self._stop_server()
            self.share_url = None
            self.share_started_at = None
            assert self.port is not None
            self._serve(self.port, wait)
            if self._launch_error is not None:
                raise OFCError(self._launch_message(self.port))
        if self.share:
            self._await_share(self.share_timeout)
        self._announce()
        return self.url

    def _stop_server(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        demo, self._demo = self._demo, None
        if demo is not None:
            try:
                demo.close(verbose=False)
            except Exception as exc:  # closing must not raise into the training loop
                log.debug("OFC GUI: closing gradio failed: %r", exc)
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=5.0)

    def close(self) -> None:
        """Shut the server down and free its port; idempotent."""
        with self._lock:
            if self._closed:
                return
            self._stop_server()
            self._closed = True

    def __enter__(self) -> "OFCGui":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _announce(self) -> None:
        url = self.url
        try:
            self.ofc.gradio_url = url
        except AttributeError:
            pass
        if self.verbose:
            login = " (login: OFC_USERNAME / OFC_PASSWORD)" if self.auth else ""
            print(f"OFC: steer this run at {url}{login}", file=sys.stderr)
        self._log_wandb(url)

    @staticmethod
    def _log_wandb(url: str) -> bool:
        """Put the link into the active W&B run as HTML; never imports wandb itself."""
        wandb = sys.modules.get("wandb")
        run = getattr(wandb, "run", None) if wandb is not None else None
        if run is None:
            return False
        link = html.escape(url, quote=True)
        try:
            run.log(
                {
                    "ofc/gui": wandb.Html(  # type: ignore[union-attr]
                        f'<p>On-the-fly control: <a href="{link}" target="_blank">{link}</a></p>'
                    )
                },
                commit=False,
            )
        except Exception as exc:
            # logging, not a warning: this can run in gradio's thread, where a warning turned
            # into an error (python -W error) would end the thread with a traceback
            log.warning("OFC GUI: W&B logging of the URL failed (%r)", exc)
            return False
        return True

    # ------------------------------------------------------------------ page content
    def _check(self, request: Any) -> None:
        """Refuse callbacks whose Host is not loopback (DNS rebinding), unless logged in."""
        if self.auth is not None:
            return
        headers = getattr(request, "headers", None) or {}
        host = headers.get("host")
        if not host_allowed(host):
            import gradio as gr

            raise gr.Error(
                f"OFC GUI: request refused: Host {host!r} is not 127.0.0.1 or localhost "
                "(open the page at its http://127.0.0.1 address)"
            )

    def _file_texts(self) -> tuple[dict[str, str], dict[str, str]]:
        """Text of every steerable key as the OFC file holds it, and per-key file problems."""
        return self.ofc.file_state()

    def _widget_text(self, key: str, kind: str, value: Any) -> str:
        """A widget's value as the text the file holds (sliders give numbers)."""
        if kind == "slider" and isinstance(value, (int, float)) and not isinstance(value, bool):
            if _number_type(self.ofc.types[key]) is int:
                return str(int(value)) if float(value).is_integer() else repr(float(value))
            return repr(float(value))
        return "" if value is None else str(value)

    def _values_html(self, file_texts: Mapping[str, str]) -> str:
        rows = []
        for key, value in self.ofc.values().items():
            tp = self.ofc.types[key]
            applied = format_value(value, tp)
            pending = ""
            text = file_texts.get(key, applied)
            try:
                in_file = convert(text, tp, key=key, where="file")
                if not _equal(in_file, value):
                    pending = text
            except ConfigError:
                pending = f"{text} (invalid)"
            rows.append(
                f"<tr><td><code>{html.escape(key)}</code></td>"
                f"<td>{html.escape(self.ofc.describe(key))}</td>"
                f"<td><code>{html.escape(applied)}</code></td>"
                f"<td><code>{html.escape(pending)}</code></td></tr>"
            )
        return (
            '<table id="ofc-values-table"><thead><tr><th>key</th><th>type</th>'
            "<th>value in the run</th><th>in the file, not applied yet</th></tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table>"
        )

    def _history_html(self) -> str:
        history = list(getattr(self.ofc, "history", []))[-self.history_rows :]
        if not history:
            return '<p id="ofc-history-empty">No change applied yet.</p>'
        rows = []
        for change in reversed(history):
            tp = self.ofc.types.get(change.key)
            rows.append(
                f"<tr><td>{html.escape(_short_time(change.time))}</td><td>{change.step}</td>"
                f"<td><code>{html.escape(change.key)}</code></td>"
                f"<td><code>{html.escape(format_value(change.old, tp))}</code></td>"
                f"<td><code>{html.escape(format_value(change.new, tp))}</code></td>"
                f"<td>{html.escape(change.origin)}</td></tr>"
            )
        return (
            '<table id="ofc-history-table"><thead><tr><th>time (UTC)</th><th>step</th>'
            "<th>key</th><th>old</th><th>new</th><th>source</th></tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table>"
        )

    def build(self) -> Any:
        """The ``gr.Blocks`` page (not launched). Widgets are filled by the load callback."""
        import gradio as gr

        ofc = self.ofc
        keys: list[str] = list(ofc.steerables)
        current = ofc.values()
        kinds = {k: widget_kind(ofc.types[k], current[k], self.sliders) for k in keys}
        sections: dict[str, list[str]] = {}
        for key in keys:
            sections.setdefault(section_of(key), []).append(key)

        fields: dict[str, Any] = {}
        errors: dict[str, Any] = {}
        with gr.Blocks(title="On-the-fly control", analytics_enabled=False) as demo:
            gr.Markdown(
                "## On-the-fly control\n"
                f"Edit values and press **Submit**: they are checked, written to "
                f"`{ofc.ofc_file.name}` (the run's OFC file) and applied by the run at its "
                "next `update()`. A form with an invalid value changes nothing.",
                elem_id="ofc-intro",
            )
            gr.Markdown(
                "### Live metrics\nWhat the run reports, against the step; a dashed line marks "
                "each applied change (key, old → new, from the file or this page).",
                elem_id="ofc-plot-intro",
            )
            plot_choice = gr.CheckboxGroup(
                [], value=[], label="metrics to plot", elem_id="ofc-plot-metrics"
            )
            plot_html = gr.HTML("", elem_id="ofc-plot")
            with gr.Row():
                plot_status = gr.Markdown("", elem_id="ofc-plot-status")
                save_png = gr.Button("Save PNG", size="sm", elem_id="ofc-plot-save")
            plot_seen = gr.State([])
            plot_timer = gr.Timer(PLOT_REFRESH_S)
            gr.Markdown("### Steer")
            for section, section_keys in sections.items():
                with gr.Accordion(section, open=True, elem_id=f"ofc-section-{_slug(section)}"):
                    for key in section_keys:
                        fields[key] = self._make_widget(gr, key, kinds[key], current[key])
                        errors[key] = gr.Markdown(
                            "",
                            visible=False,
                            elem_id=f"ofc-error-{_slug(key)}",
                            elem_classes=["ofc-error"],
                        )
            with gr.Row():
                submit = gr.Button("Submit", variant="primary", elem_id="ofc-submit")
                reload = gr.Button("Reload values", elem_id="ofc-reload")
            status = gr.Markdown("", elem_id="ofc-status", elem_classes=["ofc-status"])
            gr.Markdown("### Current values")
            values_html = gr.HTML("", elem_id="ofc-values")
            gr.Markdown("### Recent changes")
            history_html = gr.HTML("", elem_id="ofc-history")
            baseline = gr.State({})
            timer = gr.Timer(REFRESH_S)

            field_list = [fields[k] for k in keys]
            error_list = [errors[k] for k in keys]

            def load_values(request: gr.Request) -> list[Any]:
                self._check(request)
                texts, problems = self._file_texts()
                updates: list[Any] = []
                for key in keys:
                    updates.append(self._fill(gr, key, kinds[key], texts[key]))
                for key in keys:
                    updates.append(_error_update(gr, problems.get(key, "")))
                stamp = _dt.datetime.now().strftime("%H:%M:%S")
                note = f"Values loaded from `{ofc.ofc_file.name}` at {stamp}."
                if problems:
                    note += f" The file holds {len(problems)} invalid value(s), marked below."
                return [
                    *updates,
                    {k: texts[k] for k in keys},
                    note,
                    self._values_html(texts),
                    self._history_html(),
                ]

            def submit_form(request: gr.Request, *args: Any) -> list[Any]:
                self._check(request)
                raw_values, loaded = args[: len(keys)], args[len(keys)]
                loaded = dict(loaded or {})
                texts = {
                    key: self._widget_text(key, kinds[key], value)
                    for key, value in zip(keys, raw_values, strict=True)
                }
                changed = {k: t for k, t in texts.items() if loaded.get(k) != t}
                user = getattr(request, "username", None) or None
                try:
                    problems = ofc.submit(changed, source="gui", user=user) if changed else {}
                except (ConfigError, OSError) as exc:
                    problems, note = {}, f"**Nothing was written:** {exc}"
                    changed = {}
                else:
                    note = ""
                if problems:
                    note = (
                        f"**Nothing was written:** {len(problems)} invalid value(s), "
                        "marked under the field(s)."
                    )
                    new_baseline = loaded
                elif changed:
                    shown = ", ".join(f"`{k} = {t}`" for k, t in changed.items())
                    note = (
                        f"Written to `{ofc.ofc_file.name}`: {shown}. The run applies it at its "
                        "next update()."
                    )
                    new_baseline = {**loaded, **texts}
                else:
                    note = note or "Nothing changed."
                    new_baseline = loaded
                file_texts, _ = self._file_texts()
                return [
                    *[_error_update(gr, problems.get(k, "")) for k in keys],
                    new_baseline,
                    note,
                    self._values_html(file_texts),
                    self._history_html(),
                ]

            def refresh(request: gr.Request) -> list[Any]:
                self._check(request)
                file_texts, _ = self._file_texts()
                return [self._values_html(file_texts), self._history_html()]

            def plot_tick(request: gr.Request, chosen: list[str], seen: list[str]) -> list[Any]:
                self._check(request)
                view = ofc.plot()
                done = view.refresh()
                names = view.names
                new = [n for n in names if n not in (seen or [])]
                chosen = [*(chosen or []), *new]  # a new metric is shown until unticked
                choice = gr.update(choices=names, value=chosen) if new else gr.skip()
                return [choice, [*(seen or []), *new], view.svg(chosen), _plot_status(view, done)]

            def plot_draw(request: gr.Request, chosen: list[str]) -> str:
                self._check(request)
                return str(ofc.plot().svg(chosen or []))

            def plot_save(request: gr.Request) -> str:
                self._check(request)
                try:
                    path = ofc.export_plot()
                except Exception as exc:  # noqa: BLE001 - shown on the page, the run goes on
                    return f"**PNG not written:** {html.escape(str(exc))}"
                return f"PNG written: `{path}`"

            plot_outputs = [plot_choice, plot_seen, plot_html, plot_status]
            demo.load(
                plot_tick, inputs=[plot_choice, plot_seen], outputs=plot_outputs, api_name="plot"
            )
            plot_timer.tick(
                plot_tick,
                inputs=[plot_choice, plot_seen],
                outputs=plot_outputs,
                api_visibility="private",
                show_progress="hidden",
            )
            plot_choice.input(
                plot_draw, inputs=[plot_choice], outputs=[plot_html], api_visibility="private"
            )
            save_png.click(
                plot_save, inputs=None, outputs=[plot_status], api_name="save_png"
            )

            load_outputs = [*field_list, *error_list, baseline, status, values_html, history_html]
            demo.load(load_values, inputs=None, outputs=load_outputs, api_name="load_values")
            reload.click(load_values, inputs=None, outputs=load_outputs, api_visibility="private")
            submit.click(
                submit_form,
                inputs=[*field_list, baseline],
                outputs=[*error_list, baseline, status, values_html, history_html],
                api_name="submit",
            )
            timer.tick(
                refresh,
                inputs=None,
                outputs=[values_html, history_html],
                api_name="refresh",
                show_progress="hidden",
            )
        return demo

    def _make_widget(self, gr: Any, key: str, kind: str, start: Any) -> Any:
        """An empty widget for ``key``; values arrive with the load callback."""
        tp = self.ofc.types[key]
        info = self.ofc.describe(key)
        elem_id = f"ofc-field-{_slug(key)}"
        if kind == "radio":
            _, optional = unwrap_optional(tp)
            return gr.Radio(_bool_choices(optional), label=key, info=info, elem_id=elem_id)
        if kind == "slider":
            # The bounds (not the value) come from the start value: gradio checks a
            # submitted number against the bounds it was built with, before any callback.
            is_int = _number_type(tp) is int
            lo, hi, step = slider_bounds(float(start), is_int)
            return gr.Slider(
                lo,
                hi,
                step=step,
                precision=0 if is_int else None,
                label=key,
                info=info,
                elem_id=elem_id,
            )
        placeholder = (
            "a Python literal, e.g. [1, 2]"
            if info.startswith(("list", "tuple", "dict", "set"))
            else None
        )
        return gr.Textbox(
            label=key, info=info, elem_id=elem_id, max_lines=1, placeholder=placeholder
        )

    def _fill(self, gr: Any, key: str, kind: str, text: str) -> Any:
        if kind != "slider":
            return text
        tp = self.ofc.types[key]
        is_int = _number_type(tp) is int
        try:
            value = convert(text, tp, key=key, where="file")
        except ConfigError:
            value = self.ofc.values()[key]
        lo, hi, step = slider_bounds(float(value), is_int)
        return gr.update(value=value, minimum=lo, maximum=hi, step=step)


def _plot_status(view: Any, done: bool) -> str:
    """One line under the plot: what is plotted, or how much is still being read."""
    if view.problems:
        return " ".join(html.escape(p) for p in view.problems)
    if not done:
        return f"Reading the metrics file: {view.behind / 1e6:.1f} MB to go…"
    marks = len(view.markers)
    return f"{len(view.names)} metric(s), {marks} change marker(s); redrawn every {PLOT_REFRESH_S:g} s."


def _error_update(gr: Any, message: str) -> Any:
    return gr.update(value=html.escape(message) if message else "", visible=bool(message))


def _equal(a: Any, b: Any) -> bool:
    from ..convert import same_value  # the house's one NaN-aware equality

    return same_value(a, b)


def _short_time(iso: str) -> str:
    """``2025-01-02T03:04:05.678+00:00`` → ``03:04:05``."""
    try:
        return _dt.datetime.fromisoformat(iso).strftime("%H:%M:%S")
    except ValueError:
        return iso


def launch_gui(ofc: Any, *, sliders: bool = False, share: bool = False) -> OFCGui:
    """Start the page for ``ofc`` (called by ``OFC(..., gui=True)`` on rank 0)."""
    gui = OFCGui(ofc, sliders=sliders, share=share)
    gui.start()
    return gui
