"""A loopback stand-in for the W&B GraphQL API, for testing pulls with the real ``wandb`` client.

Why it exists: every ``wandb.Api`` request goes through the ``wandb-core`` Go process, so
patching ``requests`` in Python intercepts nothing (docs/design.md, "Weights & Biases"). The only honest way to test a
pull without the internet is to point the real client at a real HTTP server. This one speaks
the small GraphQL subset that ``wandb.Api()`` and ``wandb.Api().run(path)`` use (wandb 0.31):

- ``Viewer``: login verification; answers a non-null ``viewer``.
- ``GetDefaultEntity``: ``viewer { id entity }`` (skipped by the client when ``WANDB_ENTITY``
  is set).
- ``Run`` (and any query reading ``project.run``): the run with a mandatory ``state`` and its
  ``config`` as a JSON *string* of ``{key: {"value": v}}`` (W&B's storage format; the client
  unwraps it), or ``null`` when the run is unknown.
- ``RunFiles``-style queries reading ``run.files``: the files registered for the run (see
  ``files=`` below), each with a ``directUrl`` served by this same server under ``/files/``.
- Anything else gets an empty ``data`` object, and is logged in :attr:`GraphQLServer.requests`
  so a failing test shows what the client asked for.

Usage (module-scoped, because each ``wandb.Api`` call starts wandb-core, ~1 s)::

    from graphql_server import GraphQLServer

    @pytest.fixture(scope="module")
    def server():
        with GraphQLServer(runs={("ent", "proj", "abc123"): {"config": {"lr": 0.1}}}) as srv:
            yield srv

    def test_pull(server, monkeypatch):
        server.env(monkeypatch)            # WANDB_BASE_URL + a 40-char WANDB_API_KEY
        cfg = pull_config("ent/proj/abc123")

Modes (``server.mode`` may be changed between tests): ``"ok"``; ``"unauthorized"`` (HTTP 401
on every request); ``"hang"`` (accepts the request and never answers until the server stops);
``"error"`` (HTTP 500). For "server down", use :func:`closed_port_url`.

Stable API (other helpers' tests import it): ``GraphQLServer(runs=None, mode="ok", entity=
"test-entity")``, ``.url``, ``.env(monkeypatch)``, ``.add_run(entity, project, run_id,
config=None, files=None, state="finished")``, ``.requests`` (list of ``(operation_name,
variables)``), ``.mode``, context manager / ``.start()`` / ``.stop()``; ``closed_port_url()``;
``API_KEY``.
"""

from __future__ import annotations

import json
import re
import socket
import threading
from collections.abc import Iterator, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

#: A syntactically valid API key (the client checks for 40 word characters).
API_KEY = "x" * 40

RunKey = tuple[str, str, str]

_OP_RE = re.compile(r"\b(?:query|mutation)\s+(\w+)")


def closed_port_url() -> str:
    """A ``http://127.0.0.1:PORT`` URL where nothing listens (a "server down" stand-in)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"


class GraphQLServer:
    """A threaded HTTP server on 127.0.0.1 (free port) answering W&B GraphQL queries."""

    def __init__(
        self,
        runs: Mapping[RunKey, Mapping[str, Any]] | None = None,
        mode: str = "ok",
        entity: str = "test-entity",
    ) -> None:
        self.mode = mode
        self.entity = entity
        self.runs: dict[RunKey, dict[str, Any]] = {}
        for (e, p, r), spec in (runs or {}).items():
            self.add_run(e, p, r, **dict(spec))
        self.requests: list[tuple[str, dict[str, Any]]] = []
        self._release = threading.Event()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- data -------------------------------------------------------------------------------
    def add_run(
        self,
        entity: str,
        project: str,
        run_id: str,
        config: Mapping[str, Any] | None = None,
        files: Mapping[str, bytes | str] | None = None,
        state: str = "finished",
    ) -> None:
        """Register a run. ``config`` is the plain ``{key: value}`` dict (wrapped on the wire);
        ``files`` maps file names to contents, downloadable through ``run.file(name)``."""
        self.runs[(entity, project, run_id)] = {
            "config": dict(config or {}),
            "files": {k: v.encode() if isinstance(v, str) else v for k, v in (files or {}).items()},
            "state": state,
        }

    # -- lifecycle --------------------------------------------------------------------------
    @property
    def url(self) -> str:
        """Base URL for ``WANDB_BASE_URL``."""
        if self._httpd is None:
            raise RuntimeError("GraphQLServer is not started")
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> GraphQLServer:
        handler = _make_handler(self)
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._httpd.daemon_threads = True
        self._release.clear()
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._release.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> GraphQLServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def env(self, monkeypatch: Any, *, api_key: str | None = API_KEY) -> None:
        """Point the wandb client at this server for one test (``monkeypatch`` fixture)."""
        monkeypatch.setenv("WANDB_BASE_URL", self.url)
        if api_key is None:
            monkeypatch.delenv("WANDB_API_KEY", raising=False)
        else:
            monkeypatch.setenv("WANDB_API_KEY", api_key)

    # -- answers ----------------------------------------------------------------------------
    def _answer(self, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        if "viewer" in query and "project(" not in query:
            return {
                "viewer": {
                    "id": "VXNlcjox",
                    "entity": self.entity,
                    "username": self.entity,
                    "flags": "{}",
                    "teams": {"edges": []},
                }
            }
        if "project(" in query and "run(" in query:
            key = (
                str(variables.get("entity")),
                str(variables.get("project")),
                str(variables.get("name") or variables.get("run") or variables.get("runName")),
            )
            run = self.runs.get(key)
            if run is None:
                return {"project": {"run": None}}
            return {"project": {"run": self._run_json(key, run, query)}}
        return {}

    def _run_json(self, key: RunKey, run: dict[str, Any], query: str) -> dict[str, Any]:
        entity, project, run_id = key
        wrapped = {k: {"value": v, "desc": None} for k, v in run["config"].items()}
        out: dict[str, Any] = {
            "id": f"UnVuOj{run_id}",
            "tags": [],
            "name": run_id,
            "displayName": run_id,
            "sweepName": None,
            "state": run["state"],
            "config": json.dumps(wrapped),
            "group": None,
            "jobType": None,
            "commit": None,
            "readOnly": False,
            "createdAt": "2024-01-01T00:00:00",
            "heartbeatAt": "2024-01-01T00:00:00",
            "description": None,
            "notes": None,
            "systemMetrics": "{}",
            "summaryMetrics": "{}",
            "historyLineCount": 0,
            "user": {"name": entity, "username": entity},
            "historyKeys": None,
            "projectId": "1",
        }
        if "files" in query:
            edges = [
                {
                    "node": {
                        "id": f"RmlsZTo{i}",
                        "name": name,
                        "url": f"{self.url}/files/{entity}/{project}/{run_id}/{name}",
                        "directUrl": f"{self.url}/files/{entity}/{project}/{run_id}/{name}",
                        "sizeBytes": len(data),
                        "mimetype": "application/json",
                        "updatedAt": "2024-01-01T00:00:00",
                        "md5": "",
                    }
                }
                for i, (name, data) in enumerate(run["files"].items())
            ]
            out["fileCount"] = len(edges)
            out["files"] = {
                "edges": edges,
                "pageInfo": {"endCursor": None, "hasNextPage": False},
            }
        return out

    def _file(self, path: str) -> bytes | None:
        parts = path.split("/", 5)  # "", "files", e, p, r, name
        if len(parts) != 6:
            return None
        run = self.runs.get((parts[2], parts[3], parts[4]))
        if run is None:
            return None
        data: bytes | None = run["files"].get(parts[5])
        return data


def _make_handler(server: GraphQLServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # quiet test output
            pass

        def _gate(self) -> bool:
            """Apply the server mode; True when the request should be answered normally."""
            if server.mode == "hang":
                server._release.wait()
                return False
            if server.mode == "unauthorized":
                self._send(401, {"errors": [{"message": "user is not logged in"}]})
                return False
            if server.mode == "error":
                self._send(500, {"errors": [{"message": "internal server error"}]})
                return False
            return True

        def _send(self, status: int, payload: Any, raw: bytes | None = None) -> None:
            body = raw if raw is not None else json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            if not self._gate():
                return
            data = server._file(self.path.split("?", 1)[0])
            if data is None:
                self._send(404, {"error": "not found"})
            else:
                self._send(200, None, raw=data)

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b"{}"
            try:
                req = json.loads(body or b"{}")
            except ValueError:
                req = {}
            query = str(req.get("query") or "")
            variables = dict(req.get("variables") or {})
            m = _OP_RE.search(query)
            op = req.get("operationName") or (m.group(1) if m else "")
            server.requests.append((str(op), variables))
            if not self._gate():
                return
            if not self.path.startswith("/graphql"):
                self._send(404, {"error": "not found"})
                return
            self._send(200, {"data": server._answer(query, variables)})

    return Handler


def iter_operations(server: GraphQLServer) -> Iterator[str]:
    """The operation names received so far (handy in assertion messages)."""
    for op, _ in server.requests:
        yield op
