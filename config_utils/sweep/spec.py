"""Sweep specs in W&B's sweep-configuration format: read, check the format, model parameters.

Why our own checker: W&B's open-source ``sweeps`` package (which ships the format's JSON
schema) requires ``numpy<2``, so it is not a run-time dependency; the format is checked here,
key by key, with the same rules the schema states (allowed keys per distribution, required
fields, types, ``min`` < ``max``, positive ``q`` and ``sigma``), and the tests hold this
checker against the schema itself (``pip install --no-deps sweeps``). What the format allows
and ``flow_sweep`` does not run is refused in one line naming the key, rather than ignored.
docs/sweeps.md lists the refusals with their reasons.

This module knows nothing about the program: whether a key is a config path and whether a
value converts is :mod:`config_utils.sweep.check`'s job.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from statistics import NormalDist
from typing import Any

from ..errors import ConfigError, did_you_mean
from .hyperband import Hyperband


class SpecError(ConfigError):
    """A sweep spec that ``flow_sweep`` refuses (format, program, keys or values)."""


METHODS = ("grid", "random", "bayes")
GOALS = ("minimize", "maximize")

#: Top-level keys of the format that flow_sweep reads.
TOP_KEYS = ("program", "method", "metric", "parameters", "run_cap", "name", "description",
            "project", "entity", "command", "early_terminate")
#: Top-level keys of the format that flow_sweep does not implement, with the reason it gives.
UNSUPPORTED_TOP = {
    "controller": "the controller is flow_sweep itself",
    "metrics": "multi-objective sweeps are not supported",
    "scheduler": "W&B Launch schedulers are not supported",
    "job": "W&B Launch jobs are not supported",
    "image_uri": "W&B Launch images are not supported",
    "apiVersion": "not needed",
    "kind": "not needed",
}
METRIC_KEYS = ("name", "goal")
#: What needs a metric, as in W&B (whose validator takes a spec without one, and whose search
#: and stopping code then raise the error quoted here); grid and random run without one.
NEEDS_METRIC = {
    "method": ("method: bayes needs a metric: it chooses each trial's values by the metric of the trials "
               "before (W&B: 'Bayesian search requires \"metric\" section'); add metric: {name: NAME, "
               "goal: minimize}, or use method: grid or random"),
    "early_terminate": ("early_terminate: needs a metric: hyperband stops the trials whose metric lags the "
                        "others' (W&B: 'Hyperband stopping requires \"metric\" section'); add metric: "
                        "{name: NAME, goal: minimize}, or leave early_terminate out"),
}
UNSUPPORTED_METRIC = {
    "target": "the sweep runs its whole plan",
    "impute": "failed trials are left out of the search",
    "impute_while_running": "failed trials are left out of the search",
}

# distribution -> (required keys, optional keys)
DISTRIBUTIONS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "constant": (("value",), ()),
    "categorical": (("values",), ()),
    "categorical_w_probabilities": (("values", "probabilities"), ()),
    "int_uniform": (("min", "max"), ()),
    "uniform": (("min", "max"), ()),
    "q_uniform": (("min", "max"), ("q",)),
    "log_uniform": (("min", "max"), ()),
    "log_uniform_values": (("min", "max"), ()),
    "q_log_uniform": (("min", "max"), ("q",)),
    "q_log_uniform_values": (("min", "max"), ("q",)),
    "inv_log_uniform": (("min", "max"), ()),
    "inv_log_uniform_values": (("min", "max"), ()),
    "normal": ((), ("mu", "sigma")),
    "q_normal": ((), ("mu", "sigma", "q")),
    "log_normal": ((), ("mu", "sigma")),
    "q_log_normal": ((), ("mu", "sigma", "q")),
}
UNSUPPORTED_DISTRIBUTIONS = {"beta", "q_beta"}
#: W&B's validator refuses these (min and max are exponents of e); the ``_values`` forms replace them.
DEPRECATED_DISTRIBUTIONS = {"log_uniform": "log_uniform_values", "q_log_uniform": "q_log_uniform_values",
                            "inv_log_uniform": "inv_log_uniform_values"}
#: Distributions whose values are enumerable, so grid search can use them.
GRID_DISTRIBUTIONS = ("constant", "categorical", "int_uniform", "q_uniform")
#: Distributions that produce floats (an int field needs int_uniform, q_* with integer q, or values).
FLOAT_DISTRIBUTIONS = ("uniform", "log_uniform", "log_uniform_values", "inv_log_uniform",
                       "inv_log_uniform_values", "normal", "log_normal")

_KEY_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")
# What YAML 1.1 (PyYAML, and so W&B) reads as a float: a dot, and a sign in the exponent.
_YAML11_NUMBER = re.compile(r"^[-+]?([0-9][0-9_]*)?\.[0-9.]*([eE][-+][0-9]+)?$|^[-+]?[0-9][0-9_]*$")
_LOOKS_NUMERIC = re.compile(r"^[-+]?(\d[\d_]*)?\.?\d*([eE][-+]?\d+)?$")
_U_EPS = 1e-12


@dataclass(frozen=True)
class Param:
    """One swept (or fixed) config path and how its values are drawn."""

    key: str
    distribution: str
    value: Any = None
    values: tuple[Any, ...] = ()
    probabilities: tuple[float, ...] = ()
    min: float = 0.0
    max: float = 0.0
    q: float | None = None
    mu: float = 0.0
    sigma: float = 1.0
    where: str = ""  # "spec.yaml:12" of the parameter, for messages
    spelling: str = ""  # the key as the spec writes it, when resolved to another (num-worlds)

    @property
    def is_constant(self) -> bool:
        return self.distribution == "constant"

    @property
    def integral(self) -> bool:
        """True when every value this parameter yields is an int."""
        if self.distribution in ("constant", "categorical", "categorical_w_probabilities"):
            vals = (self.value,) if self.is_constant else self.values
            return all(isinstance(v, int) and not isinstance(v, bool) for v in vals)
        if self.distribution == "int_uniform":
            return True
        if self.distribution in ("q_uniform", "q_log_uniform", "q_log_uniform_values", "q_normal",
                                 "q_log_normal"):
            q = 1 if self.q is None else self.q
            return float(q).is_integer() and (self.distribution != "q_uniform" or float(self.min).is_integer())
        return False

    def grid_values(self) -> list[Any]:
        """Every value grid search enumerates, in order."""
        if self.is_constant:
            return [self.value]
        if self.distribution == "categorical":
            return list(self.values)
        if self.distribution == "int_uniform":
            return list(range(int(self.min), int(self.max) + 1))
        if self.distribution == "q_uniform":
            q = 1.0 if self.q is None else self.q
            n = int(math.floor((self.max - self.min) / q + 1e-9))
            return [self._round(self.min + i * q) for i in range(n + 1)]
        raise SpecError(f"{self.where}: parameters.{self.key}: grid search needs enumerable values")

    def _round(self, v: float) -> Any:
        q = 1.0 if self.q is None else self.q
        out = round(v / q) * q
        if self.integral:
            return int(round(out))
        return float(f"{out:.12g}")  # drop float noise: 0.30000000000000004 -> 0.3

    @property
    def space(self) -> str:
        """How Optuna sees this parameter: ``index`` into the values, ``int``, ``float``
        (a range, see :meth:`bounds`), or ``unit`` (a point in [0, 1) of the inverse CDF, for
        distributions Optuna has no native form of)."""
        d = self.distribution
        if d in ("constant", "categorical", "categorical_w_probabilities"):
            return "index"
        if d == "int_uniform":
            return "int"
        if d in ("normal", "q_normal", "log_normal", "q_log_normal"):
            return "unit"
        return "float"

    @property
    def log_scale(self) -> bool:
        return "log" in self.distribution

    def bounds(self) -> tuple[float, float]:
        """The raw range of a ``float``/``int`` parameter (before quantising)."""
        lo, hi = self.raw(0.0), self.raw(1.0)
        return (min(lo, hi), max(lo, hi))

    def raw(self, u: float) -> float:
        """The unquantised value at ``u`` in [0, 1] of a range distribution."""
        d = self.distribution.removeprefix("q_")
        if d in ("uniform", "int_uniform"):
            return self.min + u * (self.max - self.min)
        if d == "log_uniform":  # min/max are natural-log exponents
            return math.exp(self.min + u * (self.max - self.min))
        if d in ("log_uniform_values", "inv_log_uniform_values"):
            # inv_log_uniform_values: log(1/X) uniform, which is log-uniform on [min, max] too
            return math.exp(math.log(self.min) + u * (math.log(self.max) - math.log(self.min)))
        if d == "inv_log_uniform":  # 1/X with log(X) uniform on [min, max]
            return math.exp(-(self.max - u * (self.max - self.min)))
        raise AssertionError(self.distribution)

    def finalize(self, raw: float) -> Any:
        """The value a raw range sample stands for: quantised for ``q_`` distributions."""
        if self.distribution == "int_uniform":
            return int(raw)
        return self._round(raw) if self.distribution.startswith("q_") else float(raw)

    def from_unit(self, u: float) -> Any:
        """The value at ``u`` in [0, 1) of this parameter's distribution (inverse CDF).

        Random search draws ``u`` uniformly, so the values follow the distribution exactly;
        bayes search lets TPE choose ``u`` for distributions Optuna has no native form of.
        """
        u = min(max(u, _U_EPS), 1.0 - _U_EPS)
        d = self.distribution
        if d == "constant":
            return self.value
        if d == "categorical":
            return self.values[min(int(u * len(self.values)), len(self.values) - 1)]
        if d == "categorical_w_probabilities":
            total = sum(self.probabilities)
            acc = 0.0
            for v, p in zip(self.values, self.probabilities, strict=True):
                acc += p / total
                if u < acc:
                    return v
            return self.values[-1]
        if d == "int_uniform":
            return int(self.min) + min(int(u * (self.max - self.min + 1)), int(self.max - self.min))
        if self.space == "float":
            return self.finalize(self.raw(u))
        z = NormalDist(self.mu, self.sigma).inv_cdf(u) if self.sigma > 0 else self.mu
        if d == "normal":
            return z
        if d == "q_normal":
            return self._round(z)
        if d == "log_normal":
            return math.exp(z)
        return self._round(math.exp(z))  # q_log_normal

    def probe_values(self) -> list[Any]:
        """Values that show whether every value of this parameter converts: all listed
        values, or the ends of a range."""
        if self.is_constant:
            return [self.value]
        if self.distribution in ("categorical", "categorical_w_probabilities"):
            return list(self.values)
        return [self.from_unit(0.0), self.from_unit(1.0)]


@dataclass
class Spec:
    """A parsed sweep spec. ``params`` are keyed by dotted config path."""

    path: Path
    program: str
    program_path: Path | None
    method: str
    metric: str | None  # None: no metric (grid, random): a trial completes when its process exits 0
    goal: str
    params: dict[str, Param]
    run_cap: int | None = None
    name: str | None = None
    project: str | None = None
    entity: str | None = None
    command: list[str] | None = None
    early_terminate: Hyperband | None = None
    raw: dict[str, Any] = field(default_factory=dict)
    lines: dict[tuple[Any, ...], int] = field(default_factory=dict)

    def where(self, *path: Any) -> str:
        """``spec.yaml:LINE`` for a location in the spec (the closest enclosing line known)."""
        for n in range(len(path), 0, -1):
            line = self.lines.get(tuple(path[:n]))
            if line is not None:
                return f"{self.path}:{line}"
        return str(self.path)

    @property
    def swept(self) -> list[Param]:
        return [p for p in self.params.values() if not p.is_constant]

    def digest(self) -> str:
        """A hash of what decides the trials (a resumed sweep must have the same)."""
        body: dict[str, Any] = {"program": str(self.program_path), "method": self.method, "metric": self.metric,
                "goal": self.goal, "run_cap": self.run_cap,
                "params": {k: _param_identity(p) for k, p in sorted(self.params.items())}}
        # only when present, so sweeps started before these keys existed still resume
        if self.command is not None:
            body["command"] = self.command
        if self.early_terminate is not None:
            body["early_terminate"] = [list(self.early_terminate.bands), self.early_terminate.eta,
                                       self.early_terminate.strict]
        return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()[:16]


def _param_identity(p: Param) -> dict[str, Any]:
    return {"d": p.distribution, "value": p.value, "values": list(p.values),
            "probabilities": list(p.probabilities), "min": p.min, "max": p.max, "q": p.q,
            "mu": p.mu, "sigma": p.sigma}


# --------------------------------------------------------------------------------------- reading


def _line_map(text: str) -> dict[tuple[Any, ...], int]:
    """Location in the document (tuple of keys and indices) -> 1-based line, from YAML's
    node marks (JSON reads as YAML for this purpose; a failure just means no line numbers)."""
    try:
        import yaml
    except ImportError:  # pragma: no cover - yaml is part of the [sweep] extra
        return {}
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return {}
    out: dict[tuple[Any, ...], int] = {}

    def walk(node: Any, path: tuple[Any, ...]) -> None:
        out.setdefault(path, node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                key = k.value
                out[path + (key,)] = k.start_mark.line + 1
                walk(v, path + (key,))
                out[path + (key,)] = k.start_mark.line + 1
        elif isinstance(node, yaml.SequenceNode):
            for i, v in enumerate(node.value):
                walk(v, path + (i,))

    if root is not None:
        walk(root, ())
    return out


SPEC_LIMIT = 1024 * 1024
"""Bytes a spec file may hold (a 200-value grid is a few kilobytes; PyYAML reads ~1 MB/s)."""


def read_spec_file(path: str | Path) -> tuple[dict[str, Any], dict[tuple[Any, ...], int]]:
    """The spec document (YAML or JSON) as a dict, and its line map.

    Read with the house's bounded reader: a FIFO, a device (``/dev/zero``), a directory, a
    file over :data:`SPEC_LIMIT`, an alias bomb, nesting deeper than any config, or a key
    given twice in one mapping (``method`` twice, a parameter twice) is one line, never a
    hang, a memory blow-up or a silently dropped key.
    """
    from ..readers import ReadProblem, load_json, load_yaml, read_text

    p = Path(path)
    try:
        text = read_text(p, limit=SPEC_LIMIT)
        if p.suffix.lower() == ".json":
            data = load_json(text, where=p)
        else:
            try:
                data = load_yaml(text, where=p)
            except ModuleNotFoundError:
                raise SpecError(f"{p}: reading YAML specs needs PyYAML (pip install 'flows-workspace[sweep]')") from None
    except ReadProblem as exc:
        if exc.kind == "missing":
            raise SpecError(f"{p}: no such sweep spec file") from None
        raise SpecError(f"{exc} (reading the sweep spec)" if exc.kind in ("not-regular", "too-large", "unreadable")
                        else str(exc)) from None
    if not isinstance(data, dict):
        raise SpecError(f"{p}: a sweep spec is a mapping with program, method, metric and parameters "
                        "(metric optional for grid and random)")
    return data, _line_map(text)


def number_hint(v: Any) -> str:
    """Why a value that looks like a number is text: YAML 1.1's float rule (a dot, and a signed
    exponent: ``1e-4`` and ``1.0e4`` are strings, ``1.0e-4`` is a float)."""
    if isinstance(v, str) and v.strip() and _LOOKS_NUMERIC.match(v.strip()):
        try:
            number = float(v.replace("_", ""))
        except ValueError:
            return ""
        if _YAML11_NUMBER.match(v):
            return " (it is quoted, so it is text: write it without quotes)"
        return (f" (YAML 1.1 reads {v} as text: a float needs a dot and a signed exponent; "
                f"write {number!r} or {_yaml_float(number)})")
    return ""


def _yaml_float(x: float) -> str:
    mantissa, _, exp = f"{x:e}".partition("e")
    mantissa = mantissa.rstrip("0")
    if mantissa.endswith("."):
        mantissa += "0"
    return f"{mantissa}e{'+' if not exp.startswith('-') else '-'}{exp.lstrip('+-').lstrip('0') or '0'}"


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def load_spec(path: str | Path, *, cwd: str | Path | None = None) -> Spec:
    """Read and check a sweep spec file; raise :class:`SpecError` with one line naming the
    file, line and key on the first problem."""
    p = Path(path)
    data, lines = read_spec_file(p)
    spec = Spec(path=p, program="", program_path=None, method="", metric=None, goal="minimize",
                params={}, raw=data, lines=lines)

    def fail(loc: tuple[Any, ...], message: str) -> SpecError:
        return SpecError(f"{spec.where(*loc)}: {message}")

    for key in data:
        if not isinstance(key, str):
            raise fail((), f"keys are strings; got {key!r}")
        if key in UNSUPPORTED_TOP:
            raise fail((key,), f"{key}: not supported by flow_sweep ({UNSUPPORTED_TOP[key]})")
        if key not in TOP_KEYS:
            raise fail((key,), f"{key!r} is not a sweep-config key{did_you_mean(key, TOP_KEYS)}")
    if "command" in data:
        from .command import parse_command, uses

        spec.command = parse_command(data["command"], fail) or None
    needs_program = spec.command is None or uses(spec.command, "program")
    for required in ("program", "method", "parameters"):
        if required not in data and (required != "program" or needs_program):
            why = " (the command runs ${program})" if required == "program" and spec.command else ""
            raise fail((), f"missing {required!r}{why} (a sweep spec needs program, method and parameters)")

    if "program" in data:
        program = data["program"]
        if not isinstance(program, str) or not program.strip():
            raise fail(("program",), "program: expected the path of a Python script")
        spec.program = program
        base = Path(cwd) if cwd is not None else Path.cwd()
        candidates = [p.parent / program, base / program] if not Path(program).is_absolute() else [Path(program)]
        found = next((c for c in candidates if c.is_file()), None)
        if found is None:
            tried = " or ".join(str(c) for c in dict.fromkeys(candidates))
            raise fail(("program",), f"program: {program!r} not found (looked for {tried})")
        spec.program_path = found.resolve()

    method = data["method"]
    if method not in METHODS:
        hint = did_you_mean(str(method), METHODS)
        extra = " ('custom' is not supported)" if method == "custom" else ""
        raise fail(("method",), f"method: expected one of {', '.join(METHODS)}, got {method!r}{hint}{extra}")
    spec.method = method

    if "metric" in data:
        spec.metric, spec.goal = _metric(data["metric"], fail)
    elif method == "bayes" or "early_terminate" in data:
        key = "method" if method == "bayes" else "early_terminate"
        raise fail((key,), NEEDS_METRIC[key])

    if "run_cap" in data:  # optional, as in W&B: without it --count or Ctrl-C ends the sweep
        cap = data["run_cap"]
        if not _is_int(cap) or cap <= 0:
            raise fail(("run_cap",), f"run_cap: expected a positive integer, got {cap!r}{number_hint(cap)}")
        spec.run_cap = cap
    if "early_terminate" in data:
        from .hyperband import parse

        spec.early_terminate = parse(data["early_terminate"], spec.goal == "maximize", fail, number_hint)
    for key in ("name", "description", "project", "entity"):
        if key in data and not isinstance(data[key], str):
            raise fail((key,), f"{key}: expected a string, got {data[key]!r}")
    spec.name, spec.project, spec.entity = data.get("name"), data.get("project"), data.get("entity")

    params = data["parameters"]
    if not isinstance(params, dict) or not params:
        raise fail(("parameters",), "parameters: expected a mapping of config paths to parameter specs")
    for key, loc, body in _flatten_params(params, ("parameters",), "", fail):
        if key in spec.params:  # optim.lr and optim: {parameters: {lr}} both
            raise fail(loc, f"parameters.{key}: the same config path is given twice (dotted and in a nested "
                       "parameters block); keep one")
        spec.params[key] = _parse_param(key, body, loc, spec, fail)
    if method == "grid":
        for param in spec.params.values():
            if param.distribution not in GRID_DISTRIBUTIONS:
                raise fail(param_loc(spec, param.key), f"parameters.{param.key}: grid search enumerates values, "
                           f"but distribution {param.distribution!r} is continuous (use values: [...], "
                           "int_uniform or q_uniform)")
    return spec


def _metric(metric: Any, fail: Any) -> tuple[str, str]:
    """``(name, goal)`` of the spec's ``metric`` (a mapping, or a bare name)."""
    if isinstance(metric, str):
        metric = {"name": metric}
    if not isinstance(metric, dict):
        raise fail(("metric",), "metric: expected a mapping with name and goal")
    for key in metric:
        if key in UNSUPPORTED_METRIC:
            raise fail(("metric", key), f"metric.{key}: not supported by flow_sweep ({UNSUPPORTED_METRIC[key]})")
        if key not in METRIC_KEYS:
            raise fail(("metric", key), f"metric: {key!r} is not a metric key{did_you_mean(str(key), METRIC_KEYS)}")
    if not isinstance(metric.get("name"), str) or not metric["name"]:
        raise fail(("metric",), "metric.name: expected the name of a reported metric")
    goal = metric.get("goal", "minimize")
    if goal not in GOALS:
        raise fail(("metric", "goal"), f"metric.goal: expected minimize or maximize, got {goal!r}{did_you_mean(str(goal), GOALS)}")
    return metric["name"], goal


def param_loc(spec: Spec, key: str) -> tuple[Any, ...]:
    """The document location of parameter ``key`` (nested ``parameters`` blocks included)."""
    return ("parameters", *_split_loc(spec, key))


def _split_loc(spec: Spec, key: str) -> tuple[Any, ...]:
    param = spec.params.get(key)
    if param is not None and param.spelling:
        key = param.spelling
    if ("parameters", key) in spec.lines:
        return (key,)
    parts = key.split(".")
    for i in range(len(parts) - 1, 0, -1):
        head, tail = ".".join(parts[:i]), ".".join(parts[i:])
        if ("parameters", head) in spec.lines:
            return (head, "parameters", tail)
    return (key,)


def _flatten_params(params: dict[str, Any], loc: tuple[Any, ...], prefix: str, fail: Any
                    ) -> list[tuple[str, tuple[Any, ...], dict[str, Any]]]:
    """Nested ``parameters`` blocks (the format's param_dict) become dotted keys."""
    out: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []
    for key, body in params.items():
        if not isinstance(key, str) or not _KEY_RE.match(key):
            raise fail(loc + (key,), f"parameters: {key!r} is not a valid parameter name (letters, digits, '_', '.', '-')")
        full = prefix + key
        if not isinstance(body, dict):
            raise fail(loc + (key,), f"parameters.{full}: expected a mapping such as "
                       "{values: [...]}, {value: X} or {min: A, max: B}")
        if "parameters" in body:
            if set(body) != {"parameters"}:
                extra = sorted(set(body) - {"parameters"})
                raise fail(loc + (key,), f"parameters.{full}: a nested 'parameters' block takes no other keys (got {', '.join(extra)})")
            inner = body["parameters"]
            if not isinstance(inner, dict) or not inner:
                raise fail(loc + (key, "parameters"), f"parameters.{full}.parameters: expected a non-empty mapping")
            out.extend(_flatten_params(inner, loc + (key, "parameters"), full + ".", fail))
        else:
            out.append((full, loc + (key,), body))
    return out


def _infer_distribution(body: dict[str, Any]) -> str | None:
    """The distribution W&B assumes when ``distribution`` is left out."""
    if "value" in body:
        return "constant"
    if "probabilities" in body:
        return "categorical_w_probabilities"
    if "values" in body:
        return "categorical"
    if "min" in body and "max" in body:
        return "int_uniform" if _is_int(body["min"]) and _is_int(body["max"]) else "uniform"
    return None


def _parse_param(key: str, body: dict[str, Any], loc: tuple[Any, ...], spec: Spec, fail: Any) -> Param:
    name = f"parameters.{key}"
    dist = body.get("distribution")
    if dist is None:
        dist = _infer_distribution(body)
        if dist is None:
            raise fail(loc, f"{name}: give value, values, min and max, or a distribution")
    if not isinstance(dist, str) or dist not in DISTRIBUTIONS:
        if dist in UNSUPPORTED_DISTRIBUTIONS:
            raise fail(loc + ("distribution",), f"{name}: distribution {dist!r} is not supported by flow_sweep")
        raise fail(loc + ("distribution",), f"{name}: unknown distribution {dist!r}"
                   f"{did_you_mean(str(dist), DISTRIBUTIONS)}")
    if dist in DEPRECATED_DISTRIBUTIONS:
        new = DEPRECATED_DISTRIBUTIONS[dist]
        ends = ""
        if _is_number(body.get("min")) and _is_number(body.get("max")) and max(body["min"], body["max"]) < 700:
            ends = f" (min: {math.exp(body['min']):.6g}, max: {math.exp(body['max']):.6g})"
        raise fail(loc + ("distribution",), f"{name}: distribution {dist!r} is deprecated and refused by W&B's "
                   f"validator (its min and max are exponents of e); use {new}{ends}")
    required, optional = DISTRIBUTIONS[dist]
    allowed = set(required) | set(optional) | {"distribution"}
    for k in body:
        if k not in allowed:
            raise fail(loc + (k,), f"{name}: {k!r} does not belong to distribution {dist!r} "
                       f"(it takes {', '.join(sorted(allowed - {'distribution'}))})")
    for k in required:
        if k not in body:
            raise fail(loc, f"{name}: distribution {dist!r} needs {k!r}")
    where = spec.where(*loc)
    kw: dict[str, Any] = {}
    for k in ("min", "max", "q", "mu", "sigma"):
        if k in body:
            if not _is_number(body[k]):
                raise fail(loc + (k,), f"{name}.{k}: expected a number, got {body[k]!r}{number_hint(body[k])}")
            kw[k] = body[k]
    if dist == "int_uniform":
        for k in ("min", "max"):
            if not _is_int(body[k]):
                raise fail(loc + (k,), f"{name}.{k}: int_uniform needs integers, got {body[k]!r}")
    if "min" in kw and not kw["min"] < kw["max"]:
        raise fail(loc + ("max",), f"{name}: max must be greater than min (min {kw['min']!r}, max {kw['max']!r})")
    if dist.endswith("_values") and kw.get("min", 1) <= 0:
        raise fail(loc + ("min",), f"{name}.min: {dist} needs min > 0, got {kw['min']!r}")
    if "q" in kw and kw["q"] <= 0:
        raise fail(loc + ("q",), f"{name}.q: expected a number > 0, got {kw['q']!r}")
    if "sigma" in kw and kw["sigma"] < 0:
        raise fail(loc + ("sigma",), f"{name}.sigma: expected a number >= 0, got {kw['sigma']!r}")
    if dist == "constant":
        return Param(key, dist, value=body["value"], where=where)
    if dist in ("categorical", "categorical_w_probabilities"):
        values = body["values"]
        if not isinstance(values, list) or not values:
            raise fail(loc + ("values",), f"{name}.values: expected a non-empty list, got {values!r}")
        probs: tuple[float, ...] = ()
        if dist == "categorical_w_probabilities":
            raw = body["probabilities"]
            if (not isinstance(raw, list) or len(raw) != len(values)
                    or not all(_is_number(x) and x >= 0 for x in raw)
                    or not math.isclose(sum(raw), 1.0, rel_tol=1e-5, abs_tol=1e-8)):  # W&B's own test
                raise fail(loc + ("probabilities",), f"{name}.probabilities: expected {len(values)} "
                           "numbers >= 0 (one per value) that sum to 1")
            probs = tuple(float(x) for x in raw)
        return Param(key, dist, values=tuple(values), probabilities=probs, where=where)
    return Param(key, dist, where=where, **kw)
