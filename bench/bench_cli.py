"""Benchmark: parse the large config (~500 leaves + a union) with 10 overrides, per contender.

docs/design.md ("Performance targets") targets checked here (PASS/FAIL lines at the end):
- ``config_utils.cli`` with an ini layer: on its fast path (plain overrides, docs/cli.md)
  <= 0.5 x bare ``tyro.cli`` and <= 2.5 x the flat-argparse floor; with the fast path off
  (``FLOWS_FAST_PATH=0``, the tyro path) <= 1.05 x bare ``tyro.cli``; faster than hydra's
  compose API and jsonargparse; ``--help`` <= 1.10 x tyro (hydra's compose API has no ``--help``).
  jsonargparse runs twice: with its defaults (it ignores field docstrings, so its help carries
  no field text) and with attribute docstrings on (the same work tyro does: like for like);
- ``prefigure_compat.get_all_args`` on a flat 500-key ini <= 2 x the flat-argparse floor.

Every contender is a script in ``bench/peers/`` run as a fresh process with the same 10
overrides, each in its own syntax, and prints a checksum of the values it parsed; a run whose
checksum differs from bare tyro's counts as failed, so a fast-but-wrong parser cannot win.
A missing contender (``config_utils.cli`` or ``prefigure_compat`` not importable) is reported
as SKIP. Exit status 1 only when a contender crashed or parsed something else; a missed timing
target shows as a FAIL line (timings move with machine load: compare the min and CPU ratios).

    python bench/bench_cli.py [--repeat 7] [--prefigure] [--no-help] [--only a,b] [--profile]
                              [--json out.json]

Regenerate the config with ``python bench/gen_large_config.py``.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from collections.abc import Callable
from typing import Any

from common import (
    PEERS_DIR,
    Contender,
    Result,
    format_table,
    python_has,
    ratio,
    results_json,
    run_alternating,
    verdict,
    write_json,
)

# The 10 overrides: (dotted path, value). One union variant choice, one list, every type.
OVERRIDES: list[tuple[str, Any]] = [
    ("s00.f00", 7),
    ("s02.f01", 0.125),
    ("s05.f02", True),  # default False; True is also what prefigure's bool flags can express
    ("s06.f03", "adamw"),
    ("s08.f04", "bf16"),  # Literal, default fp32
    ("s10.f05", [3, 4, 5]),
    ("s12.f06", 1024),
    ("s15.f07", 0.0003),
    ("head", "HeadBConfig"),  # the union variant
    ("head.depth", 12),  # a field of the chosen variant
]


def argv_tyro(overrides: list[tuple[str, Any]] | None = None) -> list[str]:
    """tyro (and config_utils.cli): ``--a.b v``, bool flags, lists as items, subcommand.

    ``overrides``: other (path, value) pairs than ``OVERRIDES`` (bench_sizes.py).
    """
    out: list[str] = []
    for path, value in overrides or OVERRIDES:
        if path == "head":
            out.append("head:" + re.sub(r"(?<!^)(?=[A-Z])", "-", value).lower())
        elif isinstance(value, bool):
            sec, _, name = path.rpartition(".")
            out.append(f"--{path}" if value else f"--{sec}.no-{name}")
        elif isinstance(value, list):
            out += [f"--{path}", *map(str, value)]
        else:
            out += [f"--{path}", str(value)]
    return out


def argv_jsonargparse() -> list[str]:
    """jsonargparse: ``--a.b v``, bools as ``true``, lists as JSON, ``--head ClassName``."""
    out: list[str] = []
    for path, value in OVERRIDES:
        if isinstance(value, bool):
            out += [f"--{path}", "true" if value else "false"]
        elif isinstance(value, list):
            out += [f"--{path}", "[" + ",".join(map(str, value)) + "]"]
        else:
            out += [f"--{path}", str(value)]
    return out


def argv_hydra() -> list[str]:
    """hydra: ``a.b=v``, the union as the config group choice ``head=head_b``."""
    out: list[str] = []
    for path, value in OVERRIDES:
        if path == "head":
            out.append(f"head=head_{value[4].lower()}")
        elif isinstance(value, bool):
            out.append(f"{path}={'true' if value else 'false'}")
        elif isinstance(value, list):
            out.append(f"{path}=[" + ",".join(map(str, value)) + "]")
        else:
            out.append(f"{path}={value}")
    return out


def argv_flat(
    *, lists_as_literal: bool, overrides: list[tuple[str, Any]] | None = None
) -> list[str]:
    """Flat argparse / prefigure: ``--s00-f00 v``; the union as ``--head-type`` + prefixed keys."""
    out: list[str] = []
    overrides = overrides or OVERRIDES
    variant = dict(overrides)["head"]
    for path, value in overrides:
        if path == "head":
            out += ["--head-type", value]
            continue
        if path.startswith("head."):
            flag = "--head" + variant[4].lower() + "-" + path.split(".", 1)[1].replace("_", "-")
        else:
            flag = "--" + path.replace(".", "-").replace("_", "-")
        if isinstance(value, bool):
            out.append(flag if value else "--no-" + flag[2:])
        elif isinstance(value, list):
            items = ["[" + ",".join(map(str, value)) + "]"] if lists_as_literal else list(
                map(str, value))
            out += [flag, *items]
        else:
            out += [flag, str(value)]
    return out


CHECKSUM_RE = re.compile(r"checksum=([0-9a-f]{8}) leaves=(\d+)")


def checksum_of(stdout: str) -> str | None:
    m = CHECKSUM_RE.search(stdout)
    return m.group(1) if m else None


def expect_checksum(
    ref: dict[str, str], extra: Callable[[str], str | None] | None = None
) -> Callable[[subprocess.CompletedProcess[str]], str | None]:
    """A check that the run printed the reference checksum (``ref['sum']``, set after warm-up)."""

    def check(proc: subprocess.CompletedProcess[str]) -> str | None:
        got = checksum_of(proc.stdout)
        if got is None:
            return "printed no checksum"
        if ref.get("sum") and got != ref["sum"]:
            return f"checksum {got} != bare tyro's {ref['sum']} (parsed something else)"
        return extra(proc.stdout) if extra else None

    return check


def ini_layer_check(stdout: str) -> str | None:
    """config_utils must report that the ini layer set leaves (provenance), not just exit 0."""
    m = re.search(r"ini_leaves=(\d+)", stdout)
    if not m or int(m.group(1)) < 50:
        return f"ini layer not applied (provenance shows {m.group(1) if m else 'nothing'})"
    return None


def help_check(*needles: str) -> Callable[[subprocess.CompletedProcess[str]], str | None]:
    def check(proc: subprocess.CompletedProcess[str]) -> str | None:
        missing = [n for n in needles if n not in proc.stdout]
        return f"--help output lacks {missing}" if missing else None

    return check


def peer(script: str) -> list[str]:
    return [sys.executable, str(PEERS_DIR / script)]


def tyro_path(argv: list[str]) -> list[str]:
    """The same command with config_utils.cli's fast path off (``env`` costs ~1 ms)."""
    return ["env", "FLOWS_FAST_PATH=0", *argv]


def parse_contenders(*, prefigure: bool, log: Callable[[str], None]) -> tuple[
        list[Contender], dict[str, str]]:
    ref: dict[str, str] = {}
    cs = [
        Contender("argparse-flat", peer("argparse_flat.py") + argv_flat(lists_as_literal=False),
                  expect_checksum(ref), note="floor: one flat parser, no dataclasses"),
        Contender("tyro", peer("tyro_bare.py") + argv_tyro(), expect_checksum(ref)),
        Contender("hydra-compose", peer("hydra_compose.py") + argv_hydra(), expect_checksum(ref),
                  note="yaml tree + group (OmegaConf rejects Literal/unions)"),
        Contender("jsonargparse", peer("jsonargparse_cli.py") + argv_jsonargparse(),
                  expect_checksum(ref), note="auto_cli, defaults: no field docstrings"),
        Contender("jsonargparse+docs", peer("jsonargparse_docs.py") + argv_jsonargparse(),
                  expect_checksum(ref), note="auto_cli reading field docstrings, like tyro"),
    ]
    if python_has("from config_utils import cli"):
        cs.insert(2, Contender("config_utils.cli", peer("config_utils_cli.py") + argv_tyro(),
                               expect_checksum(ref, ini_layer_check), note="+ ini layer, fast path"))
        cs.insert(3, Contender("config_utils.cli/tyro", tyro_path(peer("config_utils_cli.py")) + argv_tyro(),
                               expect_checksum(ref, ini_layer_check),
                               note="+ ini layer, FLOWS_FAST_PATH=0"))
    else:
        log("  config_utils.cli: not importable yet -> SKIP")
    if python_has("from prefigure_compat import get_all_args"):
        cs.append(Contender("prefigure_compat", peer("prefigure_compat_args.py")
                            + argv_flat(lists_as_literal=True), expect_checksum(ref),
                            note="flat 500-key ini"))
    else:
        log("  prefigure_compat.get_all_args: not importable yet -> SKIP")
    if prefigure:
        cs.append(Contender("prefigure", peer("prefigure_legacy.py")
                            + argv_flat(lists_as_literal=True), expect_checksum({}),
                            note="flat ini; checksum not compared (lists/bools mis-typed)"))
    return cs, ref


def help_contenders(log: Callable[[str], None]) -> list[Contender]:
    cs = [
        Contender("argparse-flat", peer("argparse_flat.py") + ["--help"],
                  help_check("--s19-f24", "--head-type")),
        Contender("tyro", peer("tyro_bare.py") + ["--help"], help_check("s19.f24", "head")),
        Contender("jsonargparse", peer("jsonargparse_cli.py") + ["--help"],
                  help_check("s19.f24", "head"), note="no field docstrings"),
        Contender("jsonargparse+docs", peer("jsonargparse_docs.py") + ["--help"],
                  help_check("s19.f24", "head", "Integer knob #24 of the callbacks"),
                  note="field docstrings, like tyro"),
    ]
    if python_has("from config_utils import cli"):
        cs.insert(2, Contender("config_utils.cli", peer("config_utils_cli.py") + ["--help"],
                               help_check("s19.f24", "head", "--config-file")))
    else:
        log("  config_utils.cli: not importable yet -> SKIP")
    return cs


def _reference(log: Callable[[str], None], ref: dict[str, str]) -> None:
    """Bare tyro's checksum is the reference every other contender must reproduce."""
    from common import run_once

    _, proc = run_once(peer("tyro_bare.py") + argv_tyro())
    ref["sum"] = checksum_of(proc.stdout) or ""
    if not ref["sum"]:
        log("  tyro printed no checksum: " + proc.stderr.strip()[-300:])
    else:
        log(f"  reference checksum (bare tyro): {ref['sum']}")


def profile_config_utils(top: int = 20) -> str:
    """cProfile one ``config_utils.cli`` run; list config_utils's functions and tyro.cli.

    Cumulative times under the profiler are inflated (~2-5x) but their proportions show where
    config_utils's own share of the run goes.
    """
    code = (
        "import cProfile, pstats, runpy, sys, io\n"
        f"sys.argv = [{str(PEERS_DIR / 'config_utils_cli.py')!r}] + {argv_tyro()!r}\n"
        "pr = cProfile.Profile(); pr.enable()\n"
        "out = io.StringIO(); import contextlib\n"
        "with contextlib.redirect_stdout(out):\n"
        "    runpy.run_path(sys.argv[0], run_name='__main__')\n"
        "pr.disable()\n"
        "st = pstats.Stats(pr); st.sort_stats('cumulative')\n"
        f"st.print_stats(r'config_utils/|tyro/_cli.py.*\\(cli\\)', {top})\n"
    )
    from common import bench_env

    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=bench_env(), check=False)
    if proc.returncode:
        return "profile failed: " + proc.stderr.strip()[-500:]
    lines = [ln for ln in proc.stdout.splitlines() if ln.strip()]
    start = next((i for i, ln in enumerate(lines) if ln.lstrip().startswith("ncalls")), 0)
    return "== cProfile of one config_utils.cli run (cumulative s, profiler-inflated) ==\n" + (
        "\n".join(lines[start:]))


def cmp(a: Result | None, b: Result | None) -> tuple[float | None, str]:
    """(median ratio a/b, its text): the median ratio decides; the min and CPU ratios in the
    text show how much is machine noise. (None, "n/a") when either side failed."""
    q = ratio(a, b)
    if q is None:
        return None, "n/a"
    return q, (f"{q:.2f}x median wall (min {ratio(a, b, 'min'):.2f}x, "
               f"cpu {ratio(a, b, 'cpu_median'):.2f}x)")


def targets(parse: dict[str, Result], helps: dict[str, Result] | None) -> list[tuple[str, bool | None, str]]:
    """The targets of docs/design.md ("Performance targets") as (label, passed or None when not measurable, detail)."""
    out: list[tuple[str, bool | None, str]] = []
    q, text = cmp(parse.get("config_utils.cli/tyro"), parse.get("tyro"))
    out.append(("parse: config_utils.cli, tyro path <= 1.05 x bare tyro.cli",
                None if q is None else q <= 1.05, text))
    q, text = cmp(parse.get("config_utils.cli"), parse.get("tyro"))
    out.append(("parse: config_utils.cli, fast path <= 0.5 x bare tyro.cli",
                None if q is None else q <= 0.5, text))
    q, text = cmp(parse.get("config_utils.cli"), parse.get("argparse-flat"))
    out.append(("parse: config_utils.cli, fast path <= 2.5 x flat-argparse floor",
                None if q is None else q <= 2.5, text))
    for round_name, res in (("parse", parse), ("--help", helps or {})):
        if round_name == "--help" and helps is None:
            continue
        cu = res.get("config_utils.cli")
        if round_name == "--help":
            q, text = cmp(cu, res.get("tyro"))
            out.append(("--help: config_utils.cli <= 1.10 x bare tyro.cli",
                        None if q is None else q <= 1.10, text))
        peers: tuple[str, ...] = ("hydra-compose",) if round_name == "parse" else ()
        peers += ("jsonargparse", "jsonargparse+docs")
        for other in peers:
            q, text = cmp(cu, res.get(other))
            out.append((f"{round_name}: config_utils.cli faster than {other}",
                        None if q is None else q < 1.0, text))
    q, text = cmp(parse.get("prefigure_compat"), parse.get("argparse-flat"))
    out.append(("parse: prefigure_compat.get_all_args <= 2 x flat-argparse floor",
                None if q is None else q <= 2.0, text))
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=7, help="timed runs per contender (median)")
    ap.add_argument("--prefigure", action="store_true",
                    help="also time prefigure 0.0.10 itself (~8 s a run: imports gradio, wandb)")
    ap.add_argument("--no-help", action="store_true", help="skip the --help round")
    ap.add_argument("--only", metavar="NAMES",
                    help="comma-separated contenders to run (e.g. tyro,config_utils.cli)")
    ap.add_argument("--profile", action="store_true",
                    help="after timing, cProfile one config_utils.cli run and list its own "
                         "functions (cumulative) next to tyro.cli")
    ap.add_argument("--json", metavar="PATH", help="write the results as JSON")
    ns = ap.parse_args(argv)
    only = set(ns.only.split(",")) if ns.only else None

    def log(msg: str) -> None:
        print(msg, flush=True)

    log(f"parse round: large config, 10 overrides, median of {ns.repeat}, alternating")
    contenders, ref = parse_contenders(prefigure=ns.prefigure, log=log)
    if only:
        contenders = [c for c in contenders if c.name in only]
    _reference(log, ref)
    parse = run_alternating(contenders, ns.repeat, log=log)
    baselines = {"tyro": "tyro", "floor": "argparse-flat"}
    print()
    print(format_table(parse, baselines, "== parse (whole process) =="))
    helps = None
    if not ns.no_help:
        print()
        log(f"--help round: median of {ns.repeat}, alternating")
        hcs = [c for c in help_contenders(log) if not only or c.name in only]
        helps = run_alternating(hcs, ns.repeat, log=log)
        print()
        print(format_table(helps, baselines, "== --help (whole process) =="))
    print()
    verdicts = targets(parse, helps)
    for label, ok, detail in verdicts:
        print(verdict(label, ok, detail))
    if ns.profile:
        print()
        print(profile_config_utils())
    if ns.json:
        write_json(ns.json, {
            "benchmark": "cli",
            "repeat": ns.repeat,
            "overrides": OVERRIDES,
            "parse": results_json(parse),
            "help": results_json(helps) if helps is not None else None,
            "targets": [{"target": lab, "pass": ok, "detail": d} for lab, ok, d in verdicts],
        })
        print(f"\nwrote {ns.json}")
    # Exit 1 only when a contender failed (crashed or parsed something else); a missed timing
    # target is reported by its FAIL line, not the exit status (timings vary with machine load).
    return 1 if any(r.error for r in [*parse.values(), *(helps or {}).values()]) else 0


if __name__ == "__main__":
    sys.exit(main())
