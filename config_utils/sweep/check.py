"""Typed before launch: every key of a spec is a config path, every value converts.

The program is asked, not imported: ``python PROGRAM --flows:print-schema`` prints the
config's leaf paths, types, defaults and union variants without running the training, and
``python PROGRAM ARGS --flows:print-config --flows:format=json`` applies the program's own
layers and its one conversion to candidate arguments and exits (0, or 2 with one line). So a
value is accepted exactly when a trial would accept it, and the check works for any script
built on ``config_utils.cli`` whatever it imports.

Probes are packed: one program start checks one value of many keys at once (respecting which
union variant each key lives under), and only a failing probe is split to find the culprit.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import did_you_mean
from .spec import (
    FLOAT_DISTRIBUTIONS,
    Param,
    Spec,
    SpecError,
    param_loc,
)

TYPE_KEY = "_type"
PROBE_TIMEOUT = 300.0
#: Variables a trial gets; a probe must not see them (it would write a run record).
TRIAL_ENV = ("FLOWS_SWEEP_TRIAL", "FLOWS_RUN_DIR")
_CATEGORICAL = ("constant", "categorical", "categorical_w_probabilities")


@dataclass
class Program:
    """How to ask the swept program: ``python PROGRAM ARGS`` (or ``prefix ARGS``, e.g.
    ``python -m pkg.train`` for a spec's ``command``) in ``cwd``."""

    path: Path
    cwd: Path
    python: str = sys.executable
    prefix: list[str] | None = None

    def command(self, args: Sequence[str]) -> list[str]:
        return [*(self.prefix or [self.python, str(self.path)]), *args]

    def run(self, args: Sequence[str], timeout: float = PROBE_TIMEOUT) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if k not in TRIAL_ENV}
        env.setdefault("WANDB_MODE", "disabled")
        try:
            return subprocess.run(self.command(args), cwd=self.cwd, env=env, capture_output=True,
                                  text=True, timeout=timeout, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            raise SpecError(f"{self.path}: no answer to {' '.join(args)} within {timeout:.0f} s") from None
        except OSError as exc:
            raise SpecError(f"{self.path}: cannot start {self.python}: {exc.strerror or exc}") from None


def error_line(proc: subprocess.CompletedProcess[str]) -> str:
    """The program's complaint in one line: ``PROG: error: MESSAGE`` gives ``MESSAGE``; a
    tyro error box gives its title and first section."""
    lines = [ln.strip() for ln in (proc.stderr or "").splitlines() if ln.strip()]
    for ln in reversed(lines):
        m = re.search(r":\s*error:\s*(.*)$", ln)
        if m:
            return m.group(1)
    rules = [i for i, ln in enumerate(lines) if set(ln) <= set("-─━│╭╮╰╯ ")]
    if rules and rules[0] > 0:
        title = lines[0].strip("│╭╮ ─")
        # the first section: between the title and the first rule, or after it when empty
        part = lines[1 : rules[0]] if rules[0] > 1 else lines[rules[0] + 1 : rules[1] if len(rules) > 1 else None]
        body = re.sub(r"\s+", " ", " ".join(ln.strip("│╰╯─ ") for ln in part)).strip()
        return body if body.lower().startswith(title.lower()) else f"{title}: {body}"
    return lines[-1] if lines else f"exit status {proc.returncode}"


@dataclass
class Schema:
    """What ``--flows:print-schema`` says about the program's config class."""

    config_type: str
    leaves: dict[str, dict[str, Any]]
    unions: dict[str, dict[str, Any]]

    @property
    def keys(self) -> list[str]:
        return [*self.leaves, *(u + "." + TYPE_KEY for u in self.unions)]

    def variant(self, union: str, name: Any) -> str | None:
        """The config class that ``name`` selects in ``union`` (class or registered name)."""
        if not isinstance(name, str):
            return None
        choices = self.unions[union]["choices"]
        for cls, names in choices.items():
            if name == cls or name in names:
                return str(cls)
        lowered = name.lower().replace("_", "-")
        for cls, names in choices.items():
            if any(lowered == str(n).lower().replace("_", "-") for n in [cls, *names]):
                return str(cls)
        return None

    def variant_names(self, union: str) -> list[str]:
        out: list[str] = []
        for cls, names in self.unions[union]["choices"].items():
            out += [cls, *(n for n in names if n != cls)]
        return list(dict.fromkeys(out))

    def base_type(self, key: str) -> str:
        """``int`` for ``Optional[int]`` / ``int | None``: the type a value must have."""
        tp = str(self.leaves[key].get("type", ""))
        m = re.fullmatch(r"Optional\[(.*)\]", tp)
        if m:
            return m.group(1)
        parts = [p.strip() for p in tp.split("|")]
        if "None" in parts and len(parts) == 2:
            return next(p for p in parts if p != "None")
        return tp


def read_schema(program: Program) -> Schema:
    proc = program.run(["--flows:print-schema"])
    if proc.returncode != 0:
        raise SpecError(f"{program.path}: --flows:print-schema failed ({error_line(proc)}); "
                        "is it a program built on config_utils.cli?")
    try:
        doc = json.loads(proc.stdout)
        return Schema(str(doc.get("config_type", "")), dict(doc["leaves"]), dict(doc.get("unions", {})))
    except (ValueError, KeyError, TypeError, AttributeError):
        raise SpecError(f"{program.path}: --flows:print-schema did not print a flows-workspace schema") from None


def print_config(program: Program, args: Sequence[str]) -> dict[str, Any]:
    """``{"config": ..., "provenance": ...}`` for ``args``; SpecError with the program's line."""
    proc = program.run([*args, "--flows:print-config", "--flows:format=json"])
    if proc.returncode != 0:
        raise SpecError(error_line(proc))
    try:
        doc = json.loads(proc.stdout)
    except ValueError:
        raise SpecError(f"{program.path}: --flows:print-config printed no JSON") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("config"), dict):
        raise SpecError(f"{program.path}: --flows:print-config printed no config")
    return doc


def base_variants(schema: Schema, config: dict[str, Any]) -> dict[str, str]:
    """The variant of every union in the program's resolved config without sweep arguments."""
    out: dict[str, str] = {}
    for union in schema.unions:
        node: Any = config
        for part in union.split("."):
            node = node.get(part) if isinstance(node, dict) else None
        if isinstance(node, dict) and isinstance(node.get(TYPE_KEY), str):
            found = schema.variant(union, node[TYPE_KEY])
            if found:
                out[union] = found
    return out


def format_value(value: Any, type_name: str = "") -> str:
    """A value as a W&B agent passes it (``True``, ``[1, 2]``, ``0.001``); an integral float
    for an int field is passed as an int (``q_uniform`` yields floats)."""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and type_name == "int" and value.is_integer():
        return str(int(value))
    return str(value)


@dataclass
class Checked:
    """A spec checked against its program: what a trial needs to build its arguments."""

    spec: Spec
    program: Program
    schema: Schema
    base: dict[str, str]  # union -> variant class in effect without sweep arguments
    under: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    typed: bool = True  # False: a command's program that cannot be asked; values pass unchecked
    unchecked_reason: str = ""

    def arguments(self, values: dict[str, Any]) -> list[str]:
        """``--key=value`` for the keys that apply to this trial's union variants.

        A key that lives under a variant the trial does not choose is left out (it has no
        meaning there), exactly as a W&B user would write a conditional parameter by hand.
        """
        chosen = dict(self.base)
        for key, v in values.items():
            if key.endswith("." + TYPE_KEY):
                union = key[: -len(TYPE_KEY) - 1]
                chosen[union] = self.schema.variant(union, v) or str(v)
        out: list[str] = []
        for key, v in values.items():
            if not self.typed:
                out.append(f"--{key}={format_value(v)}")  # as a W&B agent writes it
                continue
            if not self.applies(key, chosen):
                continue
            type_name = "" if key.endswith("." + TYPE_KEY) else self.schema.base_type(key)
            out.append(f"--{key}={format_value(v, type_name)}")
        return out

    def applies(self, key: str, chosen: dict[str, str]) -> bool:
        if key.endswith("." + TYPE_KEY):
            union = key[: -len(TYPE_KEY) - 1]
            return all(chosen.get(u) in vs for u, vs in self.under.get(union + "." + TYPE_KEY, {}).items())
        return all(chosen.get(u) in vs for u, vs in self.under.get(key, {}).items())


def _under(schema: Schema, key: str) -> dict[str, list[str]]:
    if key.endswith("." + TYPE_KEY):
        union = key[: -len(TYPE_KEY) - 1]
        # a union nested in a variant lives where its first leaf lives, minus itself
        for leaf, info in schema.leaves.items():
            if leaf.startswith(union + "."):
                return {u: list(v) for u, v in (info.get("under") or {}).items() if u != union}
        return {}
    return {u: list(v) for u, v in (schema.leaves[key].get("under") or {}).items()}


def resolve_hyphens(spec: Spec, schema: Schema) -> None:
    """A key written with hyphens (``num-worlds``, as in ``--num-worlds``) names the field the
    program accepts with that spelling (``num_worlds``): the parameter is re-keyed to it."""
    known = set(schema.keys)
    renamed: dict[str, Param] = {}
    for key, param in spec.params.items():
        fixed = key.replace("-", "_")
        if key not in known and "-" in key and fixed in known and fixed not in spec.params:
            renamed[fixed] = dataclasses.replace(param, key=fixed, spelling=key)
        else:
            renamed[key] = param
    spec.params = renamed


def check_keys(spec: Spec, schema: Schema, base: dict[str, str]) -> dict[str, dict[str, list[str]]]:
    """Static checks from the schema alone: keys, variants, distributions against types, and
    keys that no trial could use. Returns each key's variant requirements."""
    resolve_hyphens(spec, schema)
    under: dict[str, dict[str, list[str]]] = {}
    keys = schema.keys
    reachable: dict[str, set[str]] = {}
    for union in schema.unions:
        param = spec.params.get(union + "." + TYPE_KEY)
        if param is not None:
            reachable[union] = {schema.variant(union, v) or "" for v in _candidates(param)}
        elif union in base:
            reachable[union] = {base[union]}
    for key, param in spec.params.items():
        loc = param_loc(spec, key)
        if key.endswith("." + TYPE_KEY):
            union = key[: -len(TYPE_KEY) - 1]
            if union not in schema.unions:
                raise SpecError(f"{spec.where(*loc)}: parameters: unknown config key {key!r} in "
                                f"{spec.program}{_key_hint(key, keys, schema)}")
            if param.distribution not in _CATEGORICAL:
                raise SpecError(f"{spec.where(*loc)}: parameters.{key}: a union variant takes value or "
                                f"values, not distribution {param.distribution!r}")
            names = schema.variant_names(union)
            for i, v in enumerate(_candidates(param)):
                if schema.variant(union, v) is None:
                    sub = ("value",) if param.is_constant else ("values", i)
                    label = "value" if param.is_constant else f"values[{i}]"
                    raise SpecError(f"{spec.where(*loc, *sub)}: parameters.{key}.{label}: {v!r} is not a "
                                    f"variant of {union} (choices: {', '.join(names)})"
                                    f"{did_you_mean(str(v), names)}")
        elif key not in schema.leaves:
            raise SpecError(f"{spec.where(*loc)}: parameters: unknown config key {key!r} in "
                            f"{spec.program}{_key_hint(key, keys, schema)}")
        else:
            _check_distribution(spec, param, schema.base_type(key), loc)
        under[key] = _under(schema, key)
        for union, variants in under[key].items():
            if not reachable.get(union, set()) & set(variants):
                have = sorted(reachable.get(union, set()) - {""}) or ["its default"]
                raise SpecError(
                    f"{spec.where(*loc)}: parameters.{key}: applies only when {union} is "
                    f"{' or '.join(variants)}, but every trial has {' or '.join(have)} "
                    f"(sweep {union}.{TYPE_KEY} to include {variants[0]})")
    return under


def _candidates(param: Param) -> list[Any]:
    return [param.value] if param.is_constant else list(param.values)


def _key_hint(key: str, keys: list[str], schema: Schema) -> str:
    if key in schema.unions:
        return f" ({key} is a union: choose its variant with {key}.{TYPE_KEY})"
    hint = did_you_mean(key, keys)
    if hint:
        return hint
    inside = [k for k in keys if k.startswith(key + ".")]
    if inside:
        return f" ({key} is a section; sweep a key inside it, e.g. {inside[0]!r})"
    return ""


def _check_distribution(spec: Spec, param: Param, type_name: str, loc: tuple[Any, ...]) -> None:
    if param.distribution in _CATEGORICAL:
        return
    where = spec.where(*loc, "distribution") if (*loc, "distribution") in spec.lines else spec.where(*loc)
    if type_name not in ("int", "float"):
        raise SpecError(f"{where}: parameters.{param.key}: distribution {param.distribution!r} gives "
                        f"numbers, but {param.key} is {type_name} (use values: [...])")
    if type_name == "int" and (param.distribution in FLOAT_DISTRIBUTIONS or not param.integral):
        raise SpecError(f"{where}: parameters.{param.key}: distribution {param.distribution!r} gives "
                        f"floats, but {param.key} is int (use int_uniform, a q_ distribution with an "
                        "integer q, or values: [...])")


# ----------------------------------------------------------------------------------- exact probes


@dataclass
class _Pair:
    key: str
    value: Any
    label: str  # "values[2]", "min", "value"
    loc: tuple[Any, ...]


@dataclass
class _Probe:
    pairs: list[_Pair] = field(default_factory=list)
    variants: dict[str, str] = field(default_factory=dict)
    type_args: dict[str, Any] = field(default_factory=dict)

    def keys(self) -> set[str]:
        return {p.key for p in self.pairs} | {u + "." + TYPE_KEY for u in self.type_args}


def _pairs(spec: Spec) -> list[_Pair]:
    out: list[_Pair] = []
    for key, param in spec.params.items():
        loc = param_loc(spec, key)
        if param.is_constant:
            out.append(_Pair(key, param.value, "value", loc + ("value",)))
        elif param.distribution in _CATEGORICAL:
            out += [_Pair(key, v, f"values[{i}]", loc + ("values", i)) for i, v in enumerate(param.values)]
        else:
            lo, hi = param.probe_values()
            out += [_Pair(key, lo, "min", loc + ("min",)), _Pair(key, hi, "max", loc + ("max",))]
    return out


_SIMPLE = {"int": int, "float": float, "bool": bool, "str": str, "Path": Path}


def simple_type(type_name: str) -> Any:
    """The Python type behind a schema type name, for plain scalar fields (``int``,
    ``Optional[float]``, ``Literal['a', 'b']``, ...); None for anything else."""
    import ast
    from typing import Literal, Optional

    m = re.fullmatch(r"Optional\[(.*)\]", type_name)
    if m:
        inner = simple_type(m.group(1))
        return None if inner is None else Optional[inner]  # noqa: UP045 - a runtime type
    if type_name in _SIMPLE:
        return _SIMPLE[type_name]
    m = re.fullmatch(r"Literal\[(.*)\]", type_name)
    if m:
        try:
            args = ast.literal_eval("(" + m.group(1) + ",)")
        except (ValueError, SyntaxError):
            return None
        if all(isinstance(a, (str, int, float, bool)) for a in args):
            return Literal[args]  # type: ignore[valid-type]
    return None


def _local_checks(pairs: list[_Pair], checked: Checked) -> list[_Pair]:
    """Check values of plain scalar fields here, with the project's one conversion applied to
    the text a trial would pass; return the pairs still to probe in the program. Of a key
    checked here only its first and last values are probed (they confirm the program reads
    the type as the schema says), so a grid over 200 values costs two probes, not 200."""
    from ..convert import convert
    from ..errors import ConversionError

    spec = checked.spec
    by_key: dict[str, list[_Pair]] = {}
    for pair in pairs:
        by_key.setdefault(pair.key, []).append(pair)
    out: list[_Pair] = []
    for key, group in by_key.items():
        tp = None if key.endswith("." + TYPE_KEY) else simple_type(checked.schema.base_type(key))
        if tp is None or len(group) <= 2:
            out += group
            continue
        type_name = checked.schema.base_type(key)
        for pair in group:
            try:
                convert(format_value(pair.value, type_name), tp, key=key, where="sweep", text=True)
            except ConversionError:
                raise SpecError(f"{spec.where(*pair.loc)}: parameters.{key}.{pair.label}: {pair.value!r} "
                                f"is not a valid value for {key}: expected "
                                f"{checked.schema.leaves[key].get('type')}") from None
        out += [group[0], group[-1]]
    return out


def _place(probe: _Probe, pair: _Pair, checked: Checked) -> bool:
    """Add ``pair`` to ``probe`` when the union variants it needs fit; True when added."""
    if pair.key in probe.keys():
        return False
    variants = dict(probe.variants)
    type_args = dict(probe.type_args)
    schema = checked.schema
    if pair.key.endswith("." + TYPE_KEY):
        union = pair.key[: -len(TYPE_KEY) - 1]
        v = schema.variant(union, pair.value) or ""
        if variants.get(union, v) != v:
            return False
        variants[union] = v
    for union, allowed in checked.under.get(pair.key, {}).items():
        if union in variants:
            if variants[union] not in allowed:
                return False
            continue
        if checked.base.get(union) in allowed and (union + "." + TYPE_KEY) not in checked.spec.params:
            variants[union] = checked.base[union]
            continue
        param = checked.spec.params.get(union + "." + TYPE_KEY)
        options = [v for v in (_candidates(param) if param else []) if schema.variant(union, v) in allowed]
        if not options:
            if checked.base.get(union) in allowed:
                variants[union] = checked.base[union]
                continue
            return False
        variants[union] = str(schema.variant(union, options[0]))
        type_args[union] = options[0]
    probe.variants, probe.type_args = variants, type_args
    probe.pairs.append(pair)
    return True


def _probe_args(probe: _Probe, checked: Checked) -> list[str]:
    values: dict[str, Any] = {u + "." + TYPE_KEY: v for u, v in probe.type_args.items()}
    values.update({p.key: p.value for p in probe.pairs})
    return checked.arguments(values)


def _pack(pairs: Iterable[_Pair], checked: Checked) -> list[_Probe]:
    probes: list[_Probe] = []
    for pair in pairs:
        if not any(_place(pr, pair, checked) for pr in probes):
            fresh = _Probe()
            if not _place(fresh, pair, checked):  # unreachable after check_keys; be explicit
                raise SpecError(f"{checked.spec.where(*pair.loc)}: parameters.{pair.key}: no trial can use it")
            probes.append(fresh)
    return probes


def check_spec(spec: Spec, *, cwd: str | Path | None = None, parallel: int | None = None,
               python: str = sys.executable) -> Checked:
    """Check ``spec`` against its program; raise :class:`SpecError` (one line) on the first problem.

    Costs a few program starts (schema, base config, one per packed probe), run ``parallel``
    at a time; no trial starts.
    """
    here = Path(cwd) if cwd is not None else Path.cwd()
    prefix = None
    source = spec.program_path
    if spec.command is not None:
        from .command import FLAG_MACROS, probe_prefix, uses

        asked = probe_prefix(spec.command, spec.program_path, python, here)
        if asked is None:
            return _unchecked(spec, here, python, "the command's program cannot be asked for its config")
        if not uses(spec.command, *FLAG_MACROS):
            return _unchecked(spec, here, python, "the command passes values as key=value or JSON, "
                              "which config_utils.cli does not read")
        prefix, source = asked
    if not _uses_config_utils(source):
        # asking means running it: a plain script would train instead of answering
        what = " ".join(prefix[1:]) if prefix else str(spec.program_path)
        return _unchecked(spec, here, python, f"{what} is not a config_utils.cli program")
    program = Program(spec.program_path or here, here, python, prefix)
    workers = max(1, parallel or os.cpu_count() or 1)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        schema_job = pool.submit(read_schema, program)
        base_job = pool.submit(print_config, program, [])
        schema = schema_job.result()
        try:
            base_doc = base_job.result()
        except SpecError as exc:
            raise SpecError(f"{spec.program_path}: the program's own config does not load: {exc}") from None
        base = base_variants(schema, base_doc["config"])
        under = check_keys(spec, schema, base)
        checked = Checked(spec, program, schema, base, under)
        probes = _pack(_local_checks(_pairs(spec), checked), checked)
        failures = list(pool.map(lambda pr: _run_probe(pr, checked), probes))
        for probe, message in zip(probes, failures, strict=True):
            if message is None:
                continue
            pair = probe.pairs[0] if len(probe.pairs) == 1 else None
            if pair is None:  # one value at a time: the program's message may name another key
                singles = []
                for p in probe.pairs:
                    single = _Probe()
                    _place(single, p, checked)
                    singles.append(single)
                for single, msg in zip(singles, pool.map(lambda pr: _run_probe(pr, checked), singles), strict=True):
                    if msg is not None:
                        pair, message = single.pairs[0], msg
                        break
            if pair is None:
                raise SpecError(f"{spec.path}: parameters: {spec.program} rejects "
                                f"{' '.join(_probe_args(probe, checked))}: {message}")
            raise SpecError(f"{spec.where(*pair.loc)}: parameters.{pair.key}.{pair.label}: {pair.value!r} "
                            f"is not a valid value for {pair.key}: {message}")
    return checked


def _uses_config_utils(path: Path | None) -> bool:
    """Whether a script mentions config_utils: only such a program is asked for its schema
    (asking runs it, and a plain W&B script ignores ``--flows:print-schema`` and trains)."""
    from ..readers import ReadProblem, read_head

    if path is None:
        return False
    try:  # the bounded reader: a FIFO or a device in the program's place never blocks
        return b"config_utils" in read_head(path, 1024 * 1024)
    except ReadProblem:
        return False


def _unchecked(spec: Spec, cwd: Path, python: str, reason: str) -> Checked:
    """A spec whose command runs a program that cannot be asked: values go as written."""
    program = Program(spec.program_path or cwd, cwd, python)
    return Checked(spec, program, Schema("", {}, {}), {}, {}, typed=False, unchecked_reason=reason)


def _run_probe(probe: _Probe, checked: Checked) -> str | None:
    try:
        print_config(checked.program, _probe_args(probe, checked))
    except SpecError as exc:
        return str(exc)
    return None
