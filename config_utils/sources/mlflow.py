"""MLflow: push a typed config to a run, pull it back from a run.

Why this module exists: many teams keep their experiments in MLflow, often on their own
tracking server, and re-creating a past run exactly must not depend on which tracker a team
uses. MLflow stores a run's settings as *params*: flat string key/value pairs that can never
change once logged and are at most 6000 characters long. So the exact, typed config travels
as the run record artifact, and the params are the readable, searchable copy.

Push (:func:`push_config`)
    ``push_config(logger_or_run, cfg, omit=())`` accepts Lightning's ``MLFlowLogger``, an
    active ``mlflow`` run (``mlflow.start_run()``'s ``ActiveRun``, or a ``Run`` entity, read
    through the current tracking URI) or ``None`` for ``mlflow.active_run()``. It logs:

    * one param per config leaf, under the prefix ``config.``: ``config.optim.lr``,
      ``config.optim._type`` (the variant of a union field), ... Values are written in the
      same text form as ini files (:func:`config_utils.convert.format_value`), so that the
      declared field types read them back exactly. The prefix keeps these keys apart from
      Lightning's own ``log_hyperparams`` keys (``lr``, ``model/hidden``): MLflow refuses to
      change a logged param, so two writers of one key with different spellings of a value
      (``Act.RELU`` vs ``RELU``) would clash; with the prefix they never share a key.
    * a value longer than MLflow's limit is kept whole in the run record and its param holds
      the start of the text followed by ``… [N chars; whole value in run_record.json]``; the
      tag ``flows.params_in_record`` lists those keys (and keys longer than MLflow's key
      limit, which get no param). Nothing is cut silently.
    * the run record (:func:`config_utils.sources.runs.make_record`) as the artifact
      ``run_record.json``, and the tag ``flows.config_type`` (``module:QualName``).

    ``omit`` paths are logged as ``OMITTED`` (in the params, the record and the recorded
    command line), as for W&B. On ranks > 0 (:func:`config_utils.rank.process_rank`, the
    house's one rank answer) it does nothing. Pushing the same config twice is harmless; pushing a
    different config to the same run is an error naming the param (MLflow params cannot
    change; steered values go to metrics and tags, see :func:`log_changes`).

Pull (:func:`pull_run`)
    A run reference is ``runs:/<run_id>``, ``mlflow:<run_id>`` or the run's page URL on an
    MLflow server (``http://host:5000/#/experiments/<exp>/runs/<run_id>``, with anything
    after the run id). The tracking server is the URL's, else ``MLFLOW_TRACKING_URI`` (or
    ``mlflow.set_tracking_uri``); MLflow's own authentication variables
    (``MLFLOW_TRACKING_USERNAME``/``PASSWORD``, ``MLFLOW_TRACKING_TOKEN``, ...) apply.
    The run record artifact gives the config as JSON primitives (``text=False``); a run
    without one (logged by other code, or whose artifacts were lost) gives its params as
    nested strings (``text=True``) that the config class types. There, the ``config.*``
    params are used when the run has them, else every param with Lightning's ``/`` read as
    ``.``; values that were too long for a param are skipped with a warning (the lower
    layers keep theirs).

    Every failure is one :class:`~config_utils.errors.RunSourceError` naming the run and the
    cause, in bounded time: while pulling, MLflow's HTTP client makes at most one retry, with
    no back-off and no ``Retry-After`` wait, and each attempt waits at most
    ``FLOWS_MLFLOW_TIMEOUT`` seconds (default 4): a server that is down or answers 5xx fails
    at once, one that hangs in ≤ 8 s. (MLflow's defaults, 7 retries with back-off and a
    120 s timeout, take minutes.) Pushes keep MLflow's defaults: a training run should ride
    out a brief server hiccup.

File store: MLflow ≥ 3.7 refuses the plain ``file:`` store (``./mlruns``) unless
``MLFLOW_ALLOW_FILE_STORE=true`` is set; with it, push and pull work there too (tested), and
without it the error says to set it. ``import mlflow`` (≈ 1.6 s) happens only inside these
functions.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import os
import re
import tempfile
import threading
import warnings
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ..errors import ConfigError, RunSourceError
from .push import OMITTED

__all__ = [
    "PARAM_PREFIX",
    "RECORD_NAME",
    "is_reference",
    "log_changes",
    "parse_reference",
    "pull_run",
    "push_config",
    "run_label",
]

RECORD_NAME = "run_record.json"
PARAM_PREFIX = "config."
IN_RECORD_TAG = "flows.params_in_record"
CONFIG_TYPE_TAG = "flows.config_type"
DEFAULT_TIMEOUT = 4.0
WHOLE_PULL = 3
"""A pull takes at most this many times the timeout of one request, by the clock."""

# MLflow's limits (mlflow.utils.validation), used when mlflow does not say otherwise
_MAX_PARAM_VALUE = 6000
_MAX_KEY = 250
_MAX_TAG_VALUE = 8000

# MLflow's own run-id rule (mlflow.utils.validation._RUN_ID_REGEX)
_RUN_ID = r"[A-Za-z0-9][\w\-]{0,255}"
_RUN_ID_RE = re.compile(rf"^{_RUN_ID}$")
_PREFIXES = ("runs:/", "mlflow:")


# --------------------------------------------------------------------------------------------
# references
# --------------------------------------------------------------------------------------------
def is_reference(source: str) -> bool:
    """True when ``source`` names an MLflow run (the caller checks local paths first).

    ``runs:/…`` and ``mlflow:…`` always count (a malformed one then fails in
    :func:`pull_run` with an MLflow message, not a W&B one). A URL counts when its fragment
    (``#/experiments/1/runs/<id>``, MLflow's UI) or its path holds
    ``experiments/<digits>/runs/<run_id>``; W&B's ``wandb.ai/ENTITY/PROJECT/runs/ID`` has no
    ``experiments/<digits>`` before ``runs`` (a W&B entity named ``experiments`` with a
    numeric project name is the one reading given to MLflow).
    """
    text = str(source).strip()
    if text.startswith(_PREFIXES):
        return True
    return _parse_url(text) is not None


def parse_reference(source: str) -> tuple[str | None, str]:
    """``(tracking_uri or None, run_id)`` of an MLflow run reference.

    ``None`` means "the configured tracking URI" (``MLFLOW_TRACKING_URI``). Raises
    :class:`RunSourceError` for anything that is not a reference.
    """
    text = str(source).strip()
    for prefix in _PREFIXES:
        if text.startswith(prefix):
            run_id = text[len(prefix):].rstrip("/")
            if _RUN_ID_RE.match(run_id):
                return None, run_id
            raise RunSourceError(
                f"mlflow run {text!r}: {run_id!r} is not an MLflow run id "
                f"(expected {prefix}<run_id>, a run id being letters, digits, '_' and '-')"
            )
    parsed = _parse_url(text)
    if parsed is None:
        raise RunSourceError(
            f"mlflow run {text!r}: not an MLflow run reference (expected runs:/<run_id>, "
            "mlflow:<run_id> or http(s)://HOST/#/experiments/<id>/runs/<run_id>)"
        )
    return parsed


def _parse_url(text: str) -> tuple[str, str] | None:
    """``(tracking_uri, run_id)`` from an MLflow run page URL, or None."""
    if "://" not in text:
        return None
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    if parts.hostname and parts.hostname.endswith("wandb.ai"):
        return None
    fragment = parts.fragment.split("?", 1)[0]
    for where, route in (("fragment", fragment), ("path", parts.path)):
        segments = route.split("/")
        for i in range(len(segments) - 3):
            if (
                segments[i] == "experiments"
                and segments[i + 1].isdigit()
                and segments[i + 2] == "runs"
                and _RUN_ID_RE.match(segments[i + 3])
            ):
                if where == "fragment":
                    base = parts.path
                else:
                    base = "/".join(segments[:i])
                return f"{parts.scheme}://{parts.netloc}{base}".rstrip("/"), segments[i + 3]
    return None


def run_label(source: str) -> str:
    """The provenance name of a pulled MLflow run: ``mlflow:<run_id>``."""
    return f"mlflow:{parse_reference(source)[1]}"


# --------------------------------------------------------------------------------------------
# push
# --------------------------------------------------------------------------------------------
def push_config(logger_or_run: Any, cfg: Any, omit: Iterable[str] = ()) -> None:
    """Log ``cfg`` to an MLflow run as typed ``config.*`` params plus the run record artifact.

    ``logger_or_run``: a Lightning ``MLFlowLogger``, an ``mlflow`` run, or ``None`` for
    ``mlflow.active_run()``. ``omit``: dotted paths logged as ``OMITTED``. A no-op on
    non-zero ranks. See the module docstring for the choices made.
    """
    from ..extras import require

    require("mlflow", "mlflow", feature="push_config to MLflow")
    target = _resolve_target(logger_or_run)
    if target is None:
        return
    client, run_id = target
    from .push import pushed_values

    omit = list(omit)
    values = pushed_values(cfg, omit)
    params, in_record = _params(cfg, values)
    from mlflow.entities import Param, RunTag

    tags = []
    if _is_config(cfg):
        cls = type(cfg)
        tags.append(RunTag(CONFIG_TYPE_TAG, f"{cls.__module__}:{cls.__qualname__}"))
    if in_record:
        tags.append(RunTag(IN_RECORD_TAG, _clip(",".join(in_record), _tag_limit())))
    label = f"mlflow:{run_id}"
    try:
        client.log_batch(run_id, params=[Param(k, v) for k, v in params.items()], tags=tags)
        if _is_config(cfg):
            client.log_dict(run_id, _record(cfg, omit), RECORD_NAME)
    except Exception as exc:  # noqa: BLE001 - every MLflow failure becomes one line
        raise ConfigError(f"push_config: {label}: {_push_cause(exc, client)}") from exc


def _resolve_target(logger_or_run: Any) -> tuple[Any, str] | None:
    """``(MlflowClient, run_id)`` to log to, or None on a non-zero rank."""
    import mlflow
    from mlflow.tracking import MlflowClient

    from ..rank import process_rank as _process_rank

    if _process_rank() != 0:
        return None  # only rank 0 logs, whatever it was handed
    if logger_or_run is None:
        active = mlflow.active_run()
        if active is None:
            raise ConfigError(
                "push_config: no MLflow run is active; call mlflow.start_run() first, or "
                "pass an MLFlowLogger or an mlflow run"
            )
        return MlflowClient(), active.info.run_id
    if any(c.__name__ == "MLFlowLogger" for c in type(logger_or_run).__mro__):
        client = logger_or_run.experiment  # creates the experiment and run on first use
        run_id = logger_or_run.run_id
        if not isinstance(client, MlflowClient) or not run_id:
            return None  # Lightning's DummyExperiment on ranks > 0
        return client, str(run_id)
    info = getattr(logger_or_run, "info", None)
    if isinstance(logger_or_run, mlflow.entities.Run) and info is not None:
        return MlflowClient(), info.run_id
    raise ConfigError(
        "push_config: expected an MLFlowLogger, an mlflow run or None, got "
        f"{type(logger_or_run).__name__}"
    )


def _is_config(cfg: Any) -> bool:
    return dataclasses.is_dataclass(cfg) and not isinstance(cfg, type)


def _limits() -> tuple[int, int]:
    """(longest param value, longest key) as the installed mlflow states them."""
    try:
        from mlflow.utils import validation

        return (
            int(getattr(validation, "MAX_PARAM_VAL_LENGTH", _MAX_PARAM_VALUE)),
            int(getattr(validation, "MAX_ENTITY_KEY_LENGTH", _MAX_KEY)),
        )
    except ImportError:  # pragma: no cover - ships with mlflow
        return _MAX_PARAM_VALUE, _MAX_KEY


def _tag_limit() -> int:
    try:
        from mlflow.utils import validation

        return int(getattr(validation, "MAX_TAG_VAL_LENGTH", _MAX_TAG_VALUE))
    except ImportError:  # pragma: no cover
        return _MAX_TAG_VALUE


def _clip(text: str, limit: int) -> str:
    """``text`` if it fits in ``limit`` characters, else its start and a marker saying where
    the whole value is."""
    if len(text) <= limit:
        return text
    marker = f" … [{len(text)} chars; whole value in {RECORD_NAME}]"
    return text[: max(0, limit - len(marker))] + marker


def _params(cfg: Any, values: dict[str, Any]) -> tuple[dict[str, str], list[str]]:
    """The ``config.*`` params of a config (already turned into ``values``, omit applied),
    and the keys whose whole value lives only in the run record.

    Keys follow sub-configs only (a ``dict`` field is one param, its keys may hold dots).
    Values are the ini text of the real value under its declared type, which
    :func:`config_utils.convert.convert` reads back exactly.
    """
    from ..convert import format_value
    from ..tree import TYPE_KEY, flatten, get_path, leaf_types

    if _is_config(cfg):
        from ..layers import flatten_for

        flat = flatten_for(type(cfg), values)
        types = leaf_types(cfg)
    elif isinstance(cfg, argparse.Namespace):
        flat, types = flatten(values), leaf_types(cfg)
    else:
        flat, types = flatten(values), {}
    max_value, max_key = _limits()
    params: dict[str, str] = {}
    in_record: list[str] = []
    for key, raw in flat.items():
        if isinstance(raw, str) and (raw == OMITTED or key.rsplit(".", 1)[-1] == TYPE_KEY):
            text = raw
        elif key in types:
            text = format_value(get_path(cfg, key), types[key])
        else:
            text = format_value(raw)
        name = PARAM_PREFIX + key
        if len(name) > max_key:
            in_record.append(key)
            continue
        if len(text) > max_value:
            in_record.append(key)
            text = _clip(text, max_value)
        params[name] = text
    return params, in_record


def _record(cfg: Any, omit: list[str]) -> dict[str, Any]:
    """The run record of ``cfg``, omitted values masked in its config and its command line."""
    from .push import tracker_record

    return tracker_record(cfg, omit)


def _push_cause(exc: BaseException, client: Any) -> str:
    text = str(exc)
    if "changing param values is not allowed" in text.lower():
        # one param (log_param) or a list of them (log_batch) in MLflow's message
        keys = re.findall(r"Param with key='([^']*)'|'key': '([^']*)'", text)
        names = [a or b for a, b in keys]
        which = f"param {names[0]!r}" if names else "a param"
        more = f" (and {len(names) - 1} more)" if len(names) > 1 else ""
        return (
            f"{which}{more} was already logged with another value (MLflow params never "
            "change: push a changed config to a new run; steered values are logged as "
            "metrics and tags)"
        )
    return _cause(exc, _tracking_uri(client), None)


# --------------------------------------------------------------------------------------------
# OFC changes
# --------------------------------------------------------------------------------------------
def log_changes(
    logger_or_run: Any,
    changes: Mapping[str, Any],
    step: int,
    types: Mapping[str, Any] | None = None,
    *,
    metrics: bool = True,
) -> None:
    """Log steered values to an MLflow run (params cannot change, so they go elsewhere).

    Numbers and booleans become the metric ``args/<key>`` at ``step`` (a curve of the value
    over the run); every other value becomes the tag ``args/<key>`` holding its ini text (a
    tag keeps the latest value; the full history is in the OFC history file). With
    ``metrics=False`` only the tags are written (the Lightning callback logs the metrics
    through all of the trainer's loggers itself). A no-op on non-zero ranks.
    """
    target = _resolve_target(logger_or_run)
    if target is None:
        return
    client, run_id = target
    from mlflow.entities import Metric, RunTag

    from ..convert import format_value

    found: list[Any] = []
    tags: list[Any] = []
    millis = _now_ms()
    for key, value in changes.items():
        if isinstance(value, (bool, int, float)):
            if metrics:
                found.append(Metric(f"args/{key}", float(value), millis, int(step)))
        else:
            tp = (types or {}).get(key, Any)
            tags.append(RunTag(f"args/{key}", _clip(format_value(value, tp), _tag_limit())))
    if found or tags:
        client.log_batch(run_id, metrics=found, tags=tags)


def _now_ms() -> int:
    import time

    return int(time.time() * 1000)


# --------------------------------------------------------------------------------------------
# pull
# --------------------------------------------------------------------------------------------
def pull_run(source: str, *, timeout: float | None = None) -> tuple[dict[str, Any], bool]:
    """The config stored with an MLflow run: ``(nested, text)``.

    ``text`` is False when ``nested`` holds JSON primitives from the run record (``_type``
    tags, ``"OMITTED"`` kept as the string), True when it holds the params' strings for the
    config class to convert. ``timeout`` bounds each HTTP attempt (default 4 s or
    ``FLOWS_MLFLOW_TIMEOUT``), and :data:`WHOLE_PULL` times it bounds the whole pull by the
    clock: a server that sends its headers and then one byte a second never resets a
    per-read timeout, so only a wall-clock bound stops it. Raises :class:`RunSourceError`
    naming the run and the cause.
    """
    uri, run_id = parse_reference(source)
    label = f"mlflow:{run_id}"
    from ..extras import require

    require("mlflow", "mlflow", feature=f"{label}: reading an MLflow run")
    seconds = _timeout(timeout)
    import mlflow.tracking  # noqa: F401 - imported before the clock starts (seconds on a cold start)

    uri = uri or _configured_uri(label)
    bound = WHOLE_PULL * seconds
    box: list[Any] = []

    def pull() -> None:
        try:
            box.append((True, _pull(uri, run_id, label, seconds)))
        except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread
            box.append((False, exc))

    with _bounded_http(seconds):
        worker = threading.Thread(target=pull, name=f"flows-{label}", daemon=True)
        worker.start()
        worker.join(bound)
    if not box:  # the thread is left to its socket; nothing waits for it
        raise RunSourceError(
            f"{label}: the MLflow server at {_shown_uri(uri)} did not finish answering within "
            f"{bound:g} s ({WHOLE_PULL} × the timeout of {seconds:g} s; FLOWS_MLFLOW_TIMEOUT)"
        )
    ok, value = box[0]
    if not ok:
        raise value
    return value  # type: ignore[no-any-return]


def _pull(uri: str, run_id: str, label: str, seconds: float) -> tuple[dict[str, Any], bool]:
    """The pull itself (in :func:`pull_run`'s worker thread)."""
    from mlflow.exceptions import MlflowException
    from mlflow.tracking import MlflowClient

    try:
        client = MlflowClient(tracking_uri=uri)
        run = client.get_run(run_id)
    except MlflowException as exc:
        raise RunSourceError(f"{label}: {_cause(exc, uri, seconds)}") from None
    except Exception as exc:  # noqa: BLE001 - a store that fails in its own way
        raise RunSourceError(f"{label}: {_cause(exc, uri, seconds)}") from None
    record = _pull_record(client, run_id, label, uri, seconds)
    if record is not None:
        return record, False
    return _params_config(dict(run.data.params), dict(run.data.tags), label), True


def _timeout(timeout: float | None) -> float:
    """The bound of each request: ``timeout``, else ``FLOWS_MLFLOW_TIMEOUT``, else 4 s; a
    finite number of seconds > 0 (``inf``, ``nan`` and ``1e309`` are one line, not a wait
    without end)."""
    from ..knobs import env_number, parse_number

    limits: dict[str, Any] = {"minimum": 0, "above": True, "unit": "seconds"}
    if timeout is None:
        return float(env_number("FLOWS_MLFLOW_TIMEOUT", DEFAULT_TIMEOUT, **limits))
    return float(parse_number(timeout, knob="timeout", **limits))


@contextlib.contextmanager
def _bounded_http(seconds: float) -> Iterator[None]:
    """MLflow's HTTP client bounded while pulling: one retry, no back-off, no ``Retry-After``
    wait, ``seconds`` per attempt, no progress bars. MLflow reads these variables at every
    request, so they are set for the pull only and restored afterwards."""
    bounded = {
        "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "1",
        "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "0",
        "MLFLOW_HTTP_REQUEST_BACKOFF_JITTER": "0",
        "MLFLOW_HTTP_REQUEST_TIMEOUT": str(max(1, int(-(-seconds // 1)))),
        "MLFLOW_HTTP_RESPECT_RETRY_AFTER_HEADER": "false",
        "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR": "false",
    }
    saved = {k: os.environ.get(k) for k in bounded}
    os.environ.update(bounded)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _configured_uri(label: str) -> str:
    """The tracking URI a bare run id refers to; never a new, empty store made by a pull."""
    import mlflow

    try:
        from mlflow.tracking import _tracking_service

        utils = _tracking_service.utils
        if utils.is_tracking_uri_set():
            return str(utils.get_tracking_uri())
        default = str(utils._get_default_tracking_uri())
    except (ImportError, AttributeError):  # private helpers moved: mlflow's own answer
        return str(mlflow.get_tracking_uri())
    local = default.split("sqlite:///", 1)[-1] if default.startswith("sqlite:///") else default
    if Path(local).exists():
        return default
    raise RunSourceError(
        f"{label}: no MLflow tracking server given: set MLFLOW_TRACKING_URI, or use the "
        "run's page URL (http://HOST/#/experiments/<id>/runs/<run_id>)"
    )


def _pull_record(
    client: Any, run_id: str, label: str, uri: str, seconds: float
) -> dict[str, Any] | None:
    """The ``config`` of the run's record artifact, or None when the run has none (or its
    artifact store cannot be read, which is warned about: the params are the fallback)."""
    try:
        names = {Path(f.path).name for f in client.list_artifacts(run_id) if not f.is_dir}
        if RECORD_NAME not in names:
            return None
        with tempfile.TemporaryDirectory(prefix="flows-mlflow-") as tmp:
            path = client.download_artifacts(run_id, RECORD_NAME, tmp)
            from .wandb import _record_config

            return _record_config(Path(path), label)
    except RunSourceError:
        raise
    except Exception as exc:  # noqa: BLE001 - the artifact store is one of many kinds
        cause = _cause(exc, uri, seconds)
        if "server down" in cause or "did not answer" in cause:
            raise RunSourceError(f"{label}: {cause}") from None
        warnings.warn(
            f"{label}: cannot read the artifact {RECORD_NAME} ({cause}); using the run's "
            "params",
            stacklevel=3,
        )
        return None


def _params_config(params: dict[str, str], tags: dict[str, str], label: str) -> dict[str, Any]:
    """Nested strings from a run's params: the ``config.*`` ones when present (this module's
    push), else all of them with Lightning's ``/`` separator read as ``.``."""
    from ..tree import unflatten

    ours = {k[len(PARAM_PREFIX):]: v for k, v in params.items() if k.startswith(PARAM_PREFIX)}
    if not ours:
        ours = {k.replace("/", "."): v for k, v in params.items()}
    in_record = {k for k in tags.get(IN_RECORD_TAG, "").split(",") if k}
    marker = re.compile(rf" … \[\d+ chars; whole value in {re.escape(RECORD_NAME)}\]$")
    flat: dict[str, str] = {}
    for key, value in sorted(ours.items()):
        if key in in_record or marker.search(value):
            warnings.warn(
                f"{label}: param {PARAM_PREFIX}{key} holds only the start of a long value and "
                f"the run has no {RECORD_NAME}; keeping the value from the lower layers",
                stacklevel=3,
            )
            continue
        flat[key] = value
    for key in sorted(in_record - set(ours)):  # never logged: its param name was too long
        warnings.warn(
            f"{label}: {key!r} was not logged as a param (its name {PARAM_PREFIX}{key} is longer "
            f"than MLflow's {_MAX_KEY} characters) and the run has no {RECORD_NAME}; keeping "
            "the value from the lower layers",
            stacklevel=3,
        )
    return unflatten(flat)


def _tracking_uri(client: Any) -> str:
    return str(getattr(client, "tracking_uri", None) or getattr(client, "_tracking_uri", "") or "")


def _shown_uri(uri: str) -> str:
    """A tracking URI fit for a message: credentials in it are never printed."""
    parts = urlsplit(uri)
    if parts.username or parts.password:
        host = parts.hostname or ""
        if parts.port:
            host += f":{parts.port}"
        return parts._replace(netloc=host).geturl()
    return uri


def _cause(exc: BaseException, uri: str, seconds: float | None) -> str:
    """A short cause of a failed MLflow call, for the person who typed the run reference."""
    where = _shown_uri(uri) or "the MLflow tracking store"
    text = str(exc)
    low = text.lower()
    code = str(getattr(exc, "error_code", "") or "")
    if code == "RESOURCE_DOES_NOT_EXIST" or re.search(r"run .*not found", low):
        return f"run not found on {where}"
    if "mlflow_allow_file_store" in low:
        return (
            f"{where} is a file store, which MLflow refuses unless MLFLOW_ALLOW_FILE_STORE=true "
            "is set"
        )
    if (
        "connection refused" in low
        or "failed to establish a new connection" in low
        or "name or service not known" in low
        or "failed to resolve" in low
    ):
        return f"cannot connect to the MLflow server at {where} (server down?)"
    if "timed out" in low or "timeout" in low:
        limit = f" within {seconds:g} s" if seconds is not None else ""
        return f"the MLflow server at {where} did not answer{limit}"
    status = re.search(r"too many (5\d\d) error responses|error code (5\d\d)", low)
    if status:
        return f"the MLflow server at {where} failed (HTTP {status[1] or status[2]})"
    if (
        code in ("UNAUTHENTICATED", "PERMISSION_DENIED")
        or re.search(r"\b(401|403)\b", low)
        or "unauthorized" in low
    ):
        return (
            f"the MLflow server at {where} refused access (set MLFLOW_TRACKING_USERNAME and "
            "MLFLOW_TRACKING_PASSWORD, or MLFLOW_TRACKING_TOKEN)"
        )
    first = text.strip().splitlines()[0] if text.strip() else type(exc).__name__
    if len(first) > 200:
        first = first[:197] + "..."
    return f"MLflow request failed: {first}"
