"""One real ``mlflow server`` per test session, on 127.0.0.1, and small loopback stand-ins for
servers that fail (one that answers 500, one that never answers).

The server is the real thing (``python -m mlflow server``): SQLite backend store and a local
artifact directory proxied by the server (``--artifacts-destination``), both in a temporary
directory, on a free port, with MLflow's telemetry off. It starts in about 11 s here, so every
test module that needs it shares one instance: :func:`acquire` starts it on first use,
:func:`release` stops it when the last user is done (and an ``atexit`` hook stops it if a
session ends without releasing). It runs in its own process group, which is ended as a
whole, so none of its worker processes is left behind.

Use it in a test module as a fixture::

    from mlflow_server import MLflowServer, mlflow_server  # noqa: F401 (fixture)
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

# MLflow's usage statistics: off for the server and for every client in the tests
QUIET_ENV = {"MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "true"}
_START_TIMEOUT = 120.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class MLflowServer:
    """A real MLflow tracking server in a temporary directory."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="flows-mlflow-server-"))
        self.artifacts = self.root / "artifacts"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = self.root / "server.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> MLflowServer:
        env = {
            **os.environ,
            **QUIET_ENV,
            "PYTHONUNBUFFERED": "1",
            "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false",  # no job-runner process: not used
        }
        cmd = [
            sys.executable, "-m", "mlflow", "server",
            "--host", "127.0.0.1",
            "--port", str(self.port),
            "--workers", "1",
            "--backend-store-uri", f"sqlite:///{self.root / 'mlflow.db'}",
            "--artifacts-destination", str(self.artifacts),
        ]  # fmt: skip
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen(
                cmd,
                cwd=self.root,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: stopped as a whole
            )
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_ready(self) -> None:
        """Ready = the REST API answers a real query (the first one also warms the server up)."""
        deadline = time.monotonic() + _START_TIMEOUT
        probe = f"{self.url}/api/2.0/mlflow/experiments/search?max_results=1"
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise RuntimeError(f"mlflow server exited ({self.proc.returncode}):\n{self._tail()}")
            try:
                with urllib.request.urlopen(probe, timeout=10) as resp:
                    if resp.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.25)
        raise RuntimeError(f"mlflow server not ready after {_START_TIMEOUT:g} s:\n{self._tail()}")

    def _tail(self) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-20:])
        except OSError:
            return ""

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is not None and proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=3)  # uvicorn's graceful shutdown can linger; nothing to save
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
        if proc is not None:
            # workers of the group that outlived the leader
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)
        shutil.rmtree(self.root, ignore_errors=True)

    def artifact_file(self, experiment_id: str, run_id: str, name: str) -> Path:
        """Where the server keeps a run's artifact on disk (to simulate a lost artifact)."""
        return self.artifacts / experiment_id / run_id / "artifacts" / name


_lock = threading.Lock()
_server: MLflowServer | None = None
_users = 0


def acquire() -> MLflowServer:
    """The session's server, started on first use."""
    global _server, _users
    with _lock:
        if _server is None:
            _server = MLflowServer().start()
            atexit.register(_server.stop)
        _users += 1
        return _server


def release() -> None:
    global _server, _users
    with _lock:
        _users -= 1
        if _users <= 0 and _server is not None:
            _server.stop()
            _server = None
            _users = 0


@pytest.fixture(scope="session")
def mlflow_server() -> Iterator[MLflowServer]:
    """The real MLflow server, shared by every module of the session that uses it."""
    server = acquire()
    try:
        yield server
    finally:
        release()


# --------------------------------------------------------------------------------------------
# failing servers
# --------------------------------------------------------------------------------------------
class _Answer500(BaseHTTPRequestHandler):
    def _fail(self) -> None:
        body = b'{"error_code": "INTERNAL_ERROR", "message": "boom"}'
        self.send_response(500)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Retry-After", "120")  # must not be waited for
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _fail

    def log_message(self, *args: object) -> None:
        pass


class _Dribble(BaseHTTPRequestHandler):
    """Headers at once, then one byte of the body every half second: a per-read timeout
    never fires (each read gets its byte), only a bound on the whole pull stops the client."""

    stop = threading.Event()

    def _dribble(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", "100000")
        self.end_headers()
        try:
            while not self.stop.wait(0.5):
                self.wfile.write(b" ")
                self.wfile.flush()
        except OSError:  # the client gave up and closed the connection
            pass

    do_GET = do_POST = _dribble

    def log_message(self, *args: object) -> None:
        pass


class _NeverAnswer(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        time.sleep(30)

    do_POST = do_GET

    def log_message(self, *args: object) -> None:
        pass


@contextlib.contextmanager
def failing_server(kind: str) -> Iterator[str]:
    """A loopback HTTP server that answers every request with 500 (``kind="500"``), never
    answers (``kind="hang"``) or sends headers and then a byte every half second
    (``kind="dribble"``); yields its URL and stops it afterwards."""
    handler = {"500": _Answer500, "hang": _NeverAnswer, "dribble": _Dribble}[kind]
    _Dribble.stop.clear()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        _Dribble.stop.set()
        httpd.shutdown()
        httpd.server_close()
