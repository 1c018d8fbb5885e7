"""Weights & Biases: push a typed config to a run, pull it back from a run.

Why this module exists: a W&B run is the record people keep of an experiment, so it must carry
the config in a form that re-creates it *exactly* (union variants, Enums, Paths), and reading
it back must fail with one clear message instead of a 20-second hang or a login prompt.

Push (:func:`push_config`)
    Serialises the config with :func:`config_utils.tree.to_primitives` (nested JSON
    primitives, ``_type`` tags on union variants, Enum → name, Path → str, tuple → list),
    replaces the ``omit`` paths by the string ``"OMITTED"`` (prefigure's convention; an unknown
    omit path is an error, since a typo there would leak the value it meant to hide), and calls
    ``run.config.update(..., allow_val_change=True)``. It also writes the run record
    (``run_record.json``, see :mod:`config_utils.sources.runs`) into ``run.dir``, so offline
    runs and synced runs carry the exact typed config as a file. In ``disabled`` mode no
    record is written (nothing of a disabled run should reach the disk).

    Rank awareness: on non-zero ranks Lightning's ``WandbLogger.experiment`` is a
    ``DummyExperiment`` whose attributes are all no-op methods (``hasattr(exp, "config")`` is
    true there), so the check is ``isinstance(exp, wandb.Run)``; anything else coming out of a
    logger is a no-op. ``push_config(None, cfg)`` uses ``wandb.run``; when there is none it is
    a no-op on a non-zero rank (:func:`config_utils.rank.process_rank`, the house's one rank
    answer) and a :class:`~config_utils.errors.ConfigError` on rank 0, where
    a missing ``wandb.init()`` is a mistake worth reporting.

Pull (:func:`pull_config`) returns the nested primitives as pushed (``_type`` tags kept,
``"OMITTED"`` values kept as the string: the caller skips them). Sources, in order:

1. an existing local path (it wins over the ``entity/project/run_id`` reading):
   a run directory saved by this framework (``run_record.json``); an offline W&B run
   directory (``wandb/offline-run-*``, its ``files/`` directory, or ``wandb/latest-run``),
   where the run record in ``files/`` is preferred, else the config is read from the binary
   ``run-<id>.wandb`` log with ``python -m wandb leet inspect --summary --json`` (offline
   mode writes no ``config.yaml``);
2. a W&B run: ``https://wandb.ai/E/P/runs/ID`` (with ``?workspace=...``, ``/overview``,
   ``/logs``, a trailing slash...), ``E/P/runs/ID`` or ``E/P/ID``. Through ``wandb.Api``
   the run record file is preferred when the run has one (``run.files(names=[...])`` and a
   download: two more requests, which the loopback test server answers too), else
   ``run.config`` (W&B's ``{key: {"value": v}}`` storage is unwrapped by the Api; the
   internal ``_wandb`` key is dropped).

Failures become one :class:`~config_utils.errors.RunSourceError` naming the run and the
cause: malformed source, run not found, no API key (checked *before* ``wandb.Api`` so that
it never prompts, even on a terminal), key rejected, server down, server not answering.
The wait is bounded by ``timeout`` (default 6 s, or ``FLOWS_WANDB_TIMEOUT``): ``wandb.Api``
gives up on the wandb-core request after that, however many retries wandb-core has left.
wandb-core's own message for both "down" and "hanging" is "the service process is busy", so
the cause is diagnosed afterwards with one TCP connect to the server (≤ 1 s). wandb's retry
settings (``WANDB__GRAPHQL_RETRY_MAX``) are left alone: they are process-global and would also
change how the training run itself talks to W&B.

Measured (loopback server, 2-core machine): a pull ≈ 0.15 s once wandb-core runs (+ ≈ 1 s to
start it); run not found ≈ 0.1 s; server down or hanging = the timeout; reading an offline
run's log with ``leet inspect`` ≈ 1.3 s (the run record, when present, is read instead).

``import wandb`` (≈ 0.9 s) happens only inside these functions.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ..errors import ConfigError, RunSourceError
from ..extras import require
from ..rank import process_rank
from .push import pushed_values

RECORD_NAME = "run_record.json"
DEFAULT_TIMEOUT = 6.0
_LEET_TIMEOUT = 60.0

_RUN_ID = r"[A-Za-z0-9_.\-]+"
_NAME = r"[^/\s?#]+"
_SHORT_RE = re.compile(rf"^(?P<e>{_NAME})/(?P<p>{_NAME})/(?:runs/)?(?P<r>{_RUN_ID})/?$")
_RUN_SUBPAGES = {"overview", "logs", "files", "artifacts", "system", "code", "workspace", ""}


# --------------------------------------------------------------------------------------------
# run paths and labels
# --------------------------------------------------------------------------------------------
def parse_run_path(source: str) -> tuple[str, str, str]:
    """``(entity, project, run_id)`` from a W&B run URL or ``entity/project[/runs]/run_id``.

    ``wandb.Api().run()`` rejects full URLs, and people paste whatever their browser shows:
    ``https://wandb.ai/E/P/runs/ID?workspace=user-x``, ``.../runs/ID/overview``, a trailing
    slash. Raises :class:`RunSourceError` for anything else.
    """
    text = str(source).strip()
    if "://" in text:
        parts = urlsplit(text)
        segments = [s for s in parts.path.split("/") if s]
        if parts.netloc and len(segments) >= 4 and segments[2] == "runs":
            entity, project, run_id, *rest = segments[0], segments[1], segments[3], *segments[4:]
            if (
                len(rest) <= 1
                and (not rest or rest[0] in _RUN_SUBPAGES)
                and re.fullmatch(_RUN_ID, run_id)
            ):
                return entity, project, run_id
    else:
        m = _SHORT_RE.match(text)
        # "E/P/runs/" lacks the run id; it is not a run named "runs"
        if m and not (m["r"] == "runs" and text.rstrip("/").count("/") == 2):
            _refuse_mistyped_run_dir(text)
            return m["e"], m["p"], m["r"]
    raise RunSourceError(
        f"wandb run {text!r}: not a W&B run URL, entity/project/run_id, or existing run "
        "directory (expected https://wandb.ai/ENTITY/PROJECT/runs/RUN_ID or "
        "ENTITY/PROJECT/RUN_ID)"
    )


def _refuse_mistyped_run_dir(text: str) -> None:
    """``logs/train/fro-python`` has the shape of ``entity/project/run_id``; when its parent
    directory exists here it is a mistyped run directory, and "no W&B API key" would send the
    user looking in the wrong place. Raises :class:`RunSourceError` naming the closest run
    directory there."""
    try:
        path = Path(text.rstrip("/")).expanduser()
        if path.parent == Path(".") or not path.parent.is_dir():
            return
        siblings = [entry.name for entry in itertools.islice(path.parent.iterdir(), 1000)]
    except (OSError, ValueError, RuntimeError):  # unreadable, too long, no home directory
        return
    from ..errors import did_you_mean

    raise RunSourceError(
        f"wandb run {text!r}: not a W&B run URL, entity/project/run_id, or existing run "
        f"directory: {path.parent}/ has no {path.name!r}{did_you_mean(path.name, siblings)}"
    )


def run_label(source: str) -> str:
    """The provenance name of a pulled run: ``wandb:E/P/ID``, ``wandb-offline:DIR`` or
    ``run:DIR`` (a run directory saved by this framework)."""
    local = _local_path(source)
    if local is not None:
        kind, run_dir = _classify_local(local, source)
        return f"{'run' if kind == 'record' else 'wandb-offline'}:{run_dir}"
    entity, project, run_id = parse_run_path(source)
    return f"wandb:{entity}/{project}/{run_id}"


# --------------------------------------------------------------------------------------------
# push
# --------------------------------------------------------------------------------------------
def push_config(logger_or_run: Any, cfg: Any, omit: Iterable[str] = ()) -> None:
    """Push ``cfg`` to a W&B run as nested primitives, and write the run record into ``run.dir``.

    ``logger_or_run``: a Lightning ``WandbLogger`` (anything with ``.experiment``), a
    ``wandb.Run`` (offline and disabled runs included) or ``None`` for ``wandb.run``.
    ``omit``: dotted paths (``"data.token"``) pushed as ``"OMITTED"``. A no-op on non-zero
    ranks. See the module docstring for the reasons.
    """
    wandb = require("wandb", "wandb", feature="push_config")
    from .runs import check_recreatable

    check_recreatable(cfg, what="push_config")  # a pushed value must pull back exactly
    run = _resolve_run(logger_or_run, wandb)
    if run is None:
        return
    omit = list(omit)
    values = pushed_values(cfg, omit)
    run.config.update(values, allow_val_change=True)
    if not _is_disabled(run):
        _write_record(cfg, Path(run.dir), omit)


def _resolve_run(logger_or_run: Any, wandb: Any) -> Any:
    """The ``wandb.Run`` to push to, or None when this process must not push (non-zero rank)."""
    if logger_or_run is None:
        if wandb.run is not None:
            return wandb.run
        if process_rank() != 0:
            return None
        raise ConfigError(
            "push_config: no W&B run is active; call wandb.init() first, or pass a "
            "WandbLogger or a wandb.Run"
        )
    if isinstance(logger_or_run, wandb.Run):
        return logger_or_run
    if hasattr(logger_or_run, "experiment"):
        experiment = logger_or_run.experiment
        if isinstance(experiment, wandb.Run):
            return experiment
        # Lightning's DummyExperiment on ranks > 0: every attribute is a no-op method.
        return None
    raise ConfigError(
        f"push_config: expected a WandbLogger, a wandb.Run or None, got "
        f"{type(logger_or_run).__name__}"
    )


def _is_disabled(run: Any) -> bool:
    """True for a disabled-mode run (``NoopRun``): nothing of it should reach the disk."""
    return bool(getattr(run, "disabled", False)) or type(run).__name__ == "NoopRun"


def _write_record(cfg: Any, run_dir: Path, omit: list[str]) -> None:
    """Write the run record into the run's files directory, omitted values masked there too
    (in its config and in the recorded command line)."""
    if not (dataclasses.is_dataclass(cfg) and not isinstance(cfg, type)):
        return  # a record re-creates a config *type*; Namespaces and dicts have none
    from .push import tracker_record
    from .runs import write_record

    write_record(tracker_record(cfg, omit), run_dir)


# --------------------------------------------------------------------------------------------
# pull
# --------------------------------------------------------------------------------------------
def pull_config(source: str, *, timeout: float | None = None) -> dict[str, Any]:
    """The config stored with a run, as nested primitives (``_type`` tags, ``"OMITTED"`` kept).

    ``source``: an existing local run directory (framework or offline W&B), a W&B run URL,
    or ``entity/project/run_id``. ``timeout`` bounds each wait on the W&B server (default
    6 s or ``FLOWS_WANDB_TIMEOUT``). Raises :class:`RunSourceError` naming the run and the
    cause.
    """
    if not str(source).strip():
        raise RunSourceError(
            "run reference is empty: expected a W&B run URL, ENTITY/PROJECT/RUN_ID or a run "
            "directory"
        )
    local = _local_path(source)
    if local is not None:
        kind, run_dir = _classify_local(local, source)
        if kind == "record":
            return _record_config(run_dir / RECORD_NAME)
        return _pull_offline(run_dir)
    entity, project, run_id = parse_run_path(source)
    return _pull_online(entity, project, run_id, _timeout(timeout))


def _timeout(timeout: float | None) -> float:
    """The wait bound: ``timeout``, else ``FLOWS_WANDB_TIMEOUT``, else 6 s; always a finite
    number of seconds > 0 (``inf`` would make a dead server hang the program for good)."""
    from ..knobs import env_number, parse_number

    limits: dict[str, Any] = {"minimum": 0, "above": True, "unit": "seconds"}
    if timeout is None:
        return float(env_number("FLOWS_WANDB_TIMEOUT", DEFAULT_TIMEOUT, **limits))
    return float(parse_number(timeout, knob="timeout", **limits))


def _local_path(source: str) -> Path | None:
    """``source`` as an existing local path, or None (then it is read as a W&B run)."""
    from .runs import local_path

    return local_path(source)


def _classify_local(path: Path, source: str) -> tuple[str, Path]:
    """``("record", dir)`` for a framework run directory, ``("offline", dir)`` for an offline
    W&B run directory (the ``offline-run-*`` directory itself)."""
    path = path.resolve()
    if path.is_file():
        if path.name == RECORD_NAME:
            return "record", path.parent
        if path.suffix == ".wandb":
            return "offline", path.parent
    elif path.is_dir():
        if any(path.glob("run-*.wandb")):
            return "offline", path
        if path.name == "files" and any(path.parent.glob("run-*.wandb")):
            return "offline", path.parent
        if (path / RECORD_NAME).is_file():
            return "record", path
    raise RunSourceError(
        f"run {source!r}: not a run directory (expected a directory with {RECORD_NAME}, "
        "or an offline W&B run directory wandb/offline-run-* with its run-<id>.wandb log)"
    )


def _record_config(path: Path, label: str | None = None) -> dict[str, Any]:
    """The ``config`` of a run record file (read and checked by :func:`runs.load_run`).

    ``label`` names the run when the file's own path would mislead (a downloaded copy).
    """
    from .runs import RecordConfig, load_run

    try:
        record = load_run(path)
    except RunSourceError as exc:
        if label is None:
            raise
        reason = str(exc).split(": ", 1)[-1].replace(str(path), RECORD_NAME)
        raise RunSourceError(f"{label}: {reason}") from None
    return RecordConfig(record["config"], record.get("config_type"))


def _require_wandb_package() -> None:
    """Only the wandb package reads a ``.wandb`` log: without it, say which extra to install.

    Checked without importing wandb (~1 s; the reader runs in a subprocess anyway). A
    directory that merely has the name — W&B's own ``./wandb`` run directory — is not it.
    """
    import importlib.util

    try:
        spec = importlib.util.find_spec("wandb")
    except (ImportError, ValueError):
        spec = None
    if spec is None or spec.origin is None:
        require("wandb", "wandb", feature="reading an offline W&B run")


def _pull_offline(run_dir: Path) -> dict[str, Any]:
    """An offline W&B run's config: its run record if pushed by us, else the ``.wandb`` log."""
    label = f"wandb-offline:{run_dir}"
    record = run_dir / "files" / RECORD_NAME
    if record.is_file():
        return _record_config(record, label)
    logs = sorted(run_dir.glob("run-*.wandb"))
    empty = [log for log in logs if log.is_file() and log.stat().st_size == 0]
    if logs and len(empty) == len(logs):
        raise RunSourceError(
            f"{label}: the run log {empty[0]} is empty (the run was stopped before W&B wrote "
            "anything?); it holds no config"
        )
    _require_wandb_package()
    cmd = [sys.executable, "-m", "wandb", "leet", "inspect", "--summary", "--json", str(run_dir)]
    env = {**os.environ, "WANDB_SILENT": "true", "WANDB_ERROR_REPORTING": "false"}
    try:
        done = subprocess.run(
            cmd,
            capture_output=True,
            text=True,
            timeout=_LEET_TIMEOUT,
            env=env,
            stdin=subprocess.DEVNULL,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise RunSourceError(f"{label}: cannot read the run log: {exc}") from exc
    try:
        summary = json.loads(done.stdout) if done.returncode == 0 else None
    except ValueError:
        summary = None
    if not isinstance(summary, dict) or not isinstance(summary.get("config"), dict):
        detail = (done.stderr or done.stdout).strip().splitlines()
        raise RunSourceError(
            f"{label}: cannot read the config from the run log "
            f"(`wandb leet inspect` exited {done.returncode}"
            + (f": {detail[-1]}" if detail else "")
            + ")"
        )
    config = _drop_internal(summary["config"])
    if not config:
        shown_log = logs[0] if logs else run_dir
        raise RunSourceError(
            f"{label}: the run log {shown_log} holds no config (the run pushed none, or was "
            "stopped before W&B wrote it)"
        )
    return config


def _drop_internal(config: dict[str, Any]) -> dict[str, Any]:
    """W&B's own bookkeeping (``_wandb``) is not part of the user's config."""
    return {k: v for k, v in config.items() if k != "_wandb"}


def _base_url(wandb: Any) -> str:
    """The W&B server the Api will talk to (as ``wandb.Api`` resolves it)."""
    try:
        from wandb import env
        from wandb.sdk import wandb_setup

        url = env.get_base_url(wandb_setup.singleton().settings.base_url)
    except Exception:  # noqa: BLE001 - private API moved: fall back to the documented variable
        url = os.environ.get("WANDB_BASE_URL") or "https://api.wandb.ai"
    return str(url).rstrip("/")


def _malformed_key() -> str:
    """What is wrong with ``WANDB_API_KEY``'s format ("" when nothing is, or it is unset).

    wandb's own check only runs once a request is on its way, and its error then reads like
    a server's answer; a key that cannot be right is the user's to fix, so it is named as such.
    """
    key = os.environ.get("WANDB_API_KEY")
    if key is None:
        return ""
    if key != key.strip():
        return "the W&B API key in WANDB_API_KEY is malformed (it starts or ends with blanks)"
    try:
        from wandb.sdk.lib.wbauth.validation import check_api_key
    except ImportError:  # the private module moved: let wandb report it
        return ""
    try:
        problem = check_api_key(key)
    except Exception:  # noqa: BLE001 - wandb's own check failing is not the user's mistake
        return ""
    if not problem:
        return ""
    return f"the W&B API key in WANDB_API_KEY is malformed ({problem.rstrip('.')})"


def _has_credentials(base_url: str) -> bool | None:
    """Whether wandb finds an API key (env, netrc, settings) without prompting; None = unknown."""
    try:
        from wandb.sdk.lib import wbauth

        auth = wbauth.authenticate_session(
            host=base_url,
            source="config_utils.pull_config",
            no_offline=True,
            prompt=False,
            update_session=False,
        )
    except ImportError:
        return None
    except Exception:  # noqa: BLE001 - a malformed key: let wandb.Api report it below
        return True
    return auth is not None


def _pull_online(entity: str, project: str, run_id: str, timeout: float) -> dict[str, Any]:
    """Read a run through the real ``wandb.Api``; every failure becomes one RunSourceError."""
    wandb = require("wandb", "wandb", feature="pulling a W&B run")
    from wandb.errors import Error as WandbError

    label = f"wandb:{entity}/{project}/{run_id}"
    base_url = _base_url(wandb)
    malformed = _malformed_key()
    if malformed:
        raise RunSourceError(f"{label}: {malformed}; no server was contacted")
    if _has_credentials(base_url) is False:
        raise RunSourceError(
            f"{label}: no W&B API key configured for {base_url} "
            "(set WANDB_API_KEY or run `wandb login`)"
        )
    try:
        api = wandb.Api(timeout=max(1, round(timeout)))
        run = api.run(f"{entity}/{project}/{run_id}")
        record = _online_record(run, label)
        if record is not None:
            return record
        return _drop_internal(dict(run.config))
    except RunSourceError:
        raise
    except (WandbError, ValueError, OSError) as exc:
        raise RunSourceError(f"{label}: {_cause(exc, base_url, timeout)}") from exc


def _online_record(run: Any, label: str) -> dict[str, Any] | None:
    """The run record file uploaded with the run, or None when the run has none."""
    files = [f for f in run.files(names=[RECORD_NAME]) if f.name == RECORD_NAME]
    if not files:
        return None
    with tempfile.TemporaryDirectory(prefix="flows-wandb-") as tmp:
        files[0].download(root=tmp, replace=True)
        return _record_config(Path(tmp) / RECORD_NAME, label)


def _cause(exc: BaseException, base_url: str, timeout: float) -> str:
    """A short cause for a failed ``wandb.Api`` call, for the person who typed the run path."""
    text = str(exc)
    low = text.lower()
    if "could not find run" in low:
        return f"run not found on {base_url}"
    if "no api key" in low or "no authentication configured" in low:
        return f"no W&B API key configured for {base_url} (set WANDB_API_KEY or run `wandb login`)"
    if "connection refused" in low or "no such host" in low or "dial tcp" in low:
        return f"cannot connect to the W&B server at {base_url} (server down?)"
    status = re.search(r"http (5\d\d)", low) or re.search(r"\b(5\d\d) internal", low)
    if status:
        return f"the W&B server at {base_url} failed (HTTP {status[1]})"
    if "did not respond in time" in low or "timeout" in low or "deadline" in low:
        if _refuses_connections(base_url):
            return f"cannot connect to the W&B server at {base_url} (server down?)"
        code = _probe_status(base_url)
        if code is not None and code >= 500:
            return (
                f"the W&B server at {base_url} failed (HTTP {code}, still failing after "
                f"{timeout:g} s of retries)"
            )
        return f"the W&B server at {base_url} did not answer within {timeout:g} s"
    if (
        "401" in low
        or "403" in low
        or "not logged in" in low
        or "unauthori" in low
        or "permission" in low
        or "api key" in low
        or type(exc).__name__ == "AuthenticationError"
    ):
        return f"the W&B server at {base_url} rejected the API key (unauthorised)"
    first = text.strip().splitlines()[0] if text.strip() else type(exc).__name__
    return f"W&B request failed: {first}"


def _probe_status(base_url: str) -> int | None:
    """The HTTP status the server gives a trivial GraphQL request within 1 s (None: no answer).

    wandb-core retries a 5xx answer until the timeout and then reports only the timeout; one
    direct request tells "the server is failing" apart from "the server is not answering".
    """
    import http.client

    parts = urlsplit(base_url)
    host = parts.hostname or ""
    conn_cls = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    conn = conn_cls(host, parts.port, timeout=1.0)
    try:
        conn.request(
            "POST",
            (parts.path.rstrip("/") or "") + "/graphql",
            body=b'{"query": "query Viewer { viewer { id } }"}',
            headers={"Content-Type": "application/json"},
        )
        return int(conn.getresponse().status)
    except (OSError, http.client.HTTPException):
        return None
    finally:
        conn.close()


def _refuses_connections(base_url: str) -> bool:
    """True when nothing accepts a TCP connection at the server's host and port (≤ 1 s)."""
    parts = urlsplit(base_url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        with socket.create_connection((host, port), timeout=1.0):
            return False
    except OSError:
        return True
