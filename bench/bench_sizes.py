"""Benchmark: parsing 10 plain overrides as the config grows from 50 to 5,000 leaves.

Why a size series: a parser that builds an argparse action per leaf pays per leaf on every run,
whatever the command line says; bench_cli.py shows one size (~500 leaves), this shows the slope.
For every size the config is generated as real source (sections of 25 documented fields, the
mixed types of bench/gen_large_config.py, plus the union-typed ``head``) into a temporary
directory, together with one small script per contender:

- ``argparse-flat``          the floor: one flat argparse parser with every option, no dataclasses
- ``tyro``                   bare ``tyro.cli``
- ``config_utils.cli``       its fast path (docs/cli.md): plain overrides without importing tyro
- ``config_utils.cli/tyro``  the same with ``FLOWS_FAST_PATH=0``: the tyro path

All four get the same 10 overrides (one per type, a list, the union choice and a field of the
chosen variant), each in its own syntax, and run as fresh processes, alternating, the floor in
the same rounds. No config file layer (``config_file=None``). Every run prints a checksum of
the values it parsed; it must equal the checksum computed here from the generator's table and
the overrides, so a fast-but-wrong parser cannot win; ``config_utils.cli`` must also report
whether tyro was imported (not on the fast path, yes on the tyro path), so a silent decline
shows as a failure rather than a slow fast path.

Targets (docs/design.md, "Performance targets"), a PASS/FAIL line per size:
fast path <= 0.5 x bare ``tyro.cli`` and <= 2.5 x the flat-argparse floor; the tyro path
<= 1.05 x bare ``tyro.cli``. The median ratio decides; the min and CPU ratios show the noise.
Exit status 1 only when a contender crashed or parsed something else.

    python bench/bench_sizes.py [--sizes 50,200,500,1000,2000,5000] [--repeat 7] [--quick]
                                [--verify] [--keep DIR] [--json out.json]
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import bench_cli
import gen_large_config as gen
from common import (
    PEERS_DIR,
    Contender,
    Result,
    format_table,
    ratio,
    results_json,
    run_alternating,
    run_once,
    verdict,
    write_json,
)
from peers._checksum import checksum

SIZES = (50, 200, 500, 1000, 2000, 5000)
QUICK_SIZES = (50, 500)
FIELDS_PER_SECTION = 25
VARIANT = "HeadBConfig"  # the union choice of the overrides; ``head.depth`` is one of its fields
VARIANT_DEPTH = 12

FLOOR, TYRO, FAST, TYRO_PATH = "argparse-flat", "tyro", "config_utils.cli", "config_utils.cli/tyro"
CONFIG_MODULE = "size_config"


@dataclass(frozen=True)
class Layout:
    """``sections`` x ``fields`` leaves (plus the union ``head``, not counted in ``leaves``)."""

    sections: int
    fields: int

    @property
    def leaves(self) -> int:
        return self.sections * self.fields


def layout(leaves: int) -> Layout:
    """Sections of 25 fields as in the large config; below that (smoke tests) sections of 10.

    At least 8 fields a section so the 8 section overrides can each hit another type.
    """
    for fields in (FIELDS_PER_SECTION, 10):
        if leaves % fields == 0 and leaves >= fields:
            return Layout(leaves // fields, fields)
    raise SystemExit(f"bench_sizes: error: --sizes {leaves}: expected a multiple of "
                     f"{FIELDS_PER_SECTION} (or of 10 for tiny sizes)")


# ----------------------------------------------------------------------------- overrides


def overrides(lay: Layout) -> list[tuple[str, Any]]:
    """10 overrides: fields f00..f07 (every type twice-ish) spread over the sections, each value
    different from its default, then the union choice and a field of the chosen variant."""
    out: list[tuple[str, Any]] = []
    for i in range(8):
        s = i * lay.sections // 8
        k = gen.kind(i)
        value: Any
        if k == "int":
            value = 1000 + s
        elif k == "float":
            value = 0.125 if i == 1 else 0.0003
        elif k == "bool":
            value = not gen.default(s, i)
        elif k == "str":
            value = "adamw"
        elif k == "literal":
            value = next(p for p in gen.PRECISIONS if p != gen.default(s, i))
        else:
            value = [3, 4, 5]
        out.append((f"{gen.sec(s)}.{gen.fld(i)}", value))
    out += [("head", VARIANT), ("head.depth", VARIANT_DEPTH)]
    return out


def argv_tyro(ovr: list[tuple[str, Any]]) -> list[str]:
    """tyro and config_utils.cli: ``--a.b v``, bool flags, lists as items, the subcommand."""
    return bench_cli.argv_tyro(ovr)


def argv_flat(ovr: list[tuple[str, Any]]) -> list[str]:
    """The flat parser: ``--s00-f00 v``, ``--head-type`` and the variant's prefixed keys."""
    return bench_cli.argv_flat(lists_as_literal=False, overrides=ovr)


def expected_checksum(lay: Layout, ovr: list[tuple[str, Any]]) -> str:
    """The checksum every contender must print, computed from the generator's table alone."""
    tree: dict[str, Any] = {
        gen.sec(s): {gen.fld(f): gen.default(s, f) for f in range(lay.fields)}
        for s in range(lay.sections)
    }
    tree["head"] = {"_type": VARIANT, **{name: d for name, _t, d, _doc in gen.HEAD_VARIANTS[VARIANT]}}
    for path, value in ovr:
        if path != "head":
            section, _, name = path.partition(".")
            tree[section][name] = value
    return checksum(tree)[0]


# ----------------------------------------------------------------------------- generation

_PRELUDE = """import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
"""

SCRIPTS = {
    TYRO: _PRELUDE + f"""
import tyro  # noqa: E402
from _checksum import print_checksum  # noqa: E402
from {CONFIG_MODULE} import LargeConfig  # noqa: E402

print_checksum(tyro.cli(LargeConfig))
""",
    FAST: _PRELUDE + f"""
from _checksum import print_checksum  # noqa: E402
from {CONFIG_MODULE} import LargeConfig  # noqa: E402

from config_utils import cli  # noqa: E402

print_checksum(cli(LargeConfig, config_file=None))
print(f"tyro_imported={{'tyro' in sys.modules}}")
""",
}
# The tyro path: the same script with the fast path switched off before config_utils loads
# (in the script rather than by ``env``, which would add a process start to its timings).
SCRIPTS[TYRO_PATH] = SCRIPTS[FAST].replace(
    "\nfrom config_utils import", '\nos.environ["FLOWS_FAST_PATH"] = "0"\nfrom config_utils import')
SCRIPT_FILES = {FLOOR: "argparse_flat.py", TYRO: "tyro_bare.py", FAST: "cu_fast.py",
                TYRO_PATH: "cu_tyro.py"}


def generate(directory: Path, lay: Layout) -> dict[str, Path]:
    """Write the config module and the contender scripts of one size; return name -> script."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / f"{CONFIG_MODULE}.py").write_text(gen.gen_config_module(lay.sections, lay.fields))
    shutil.copyfile(PEERS_DIR / "_checksum.py", directory / "_checksum.py")
    texts = {FLOOR: gen.gen_argparse_flat(lay.sections, lay.fields), **SCRIPTS}
    scripts = {}
    for name, text in texts.items():
        scripts[name] = directory / SCRIPT_FILES[name]
        scripts[name].write_text(text)
    return scripts


# ----------------------------------------------------------------------------- contenders

CHECKSUM_RE = re.compile(r"checksum=([0-9a-f]{8}) leaves=(\d+)")


def make_check(expected: str, tyro_imported: bool | None) -> Callable[
        [subprocess.CompletedProcess[str]], str | None]:
    """The run printed the expected checksum (and, for config_utils.cli, took the right path)."""

    def check(proc: subprocess.CompletedProcess[str]) -> str | None:
        m = CHECKSUM_RE.search(proc.stdout)
        if m is None:
            return "printed no checksum"
        if m.group(1) != expected:
            return f"checksum {m.group(1)} != expected {expected} (parsed something else)"
        if tyro_imported is not None and f"tyro_imported={tyro_imported}" not in proc.stdout:
            return ("the fast path declined (tyro was imported)" if not tyro_imported
                    else "FLOWS_FAST_PATH=0 did not reach the tyro path")
        return None

    return check


def contenders(directory: Path, lay: Layout) -> list[Contender]:
    ovr = overrides(lay)
    expected = expected_checksum(lay, ovr)
    scripts = generate(directory, lay)
    py = sys.executable
    return [
        Contender(FLOOR, [py, str(scripts[FLOOR]), *argv_flat(ovr)], make_check(expected, None),
                  note="floor: one flat parser"),
        Contender(TYRO, [py, str(scripts[TYRO]), *argv_tyro(ovr)], make_check(expected, None)),
        Contender(FAST, [py, str(scripts[FAST]), *argv_tyro(ovr)], make_check(expected, False),
                  note="fast path, tyro not imported"),
        Contender(TYRO_PATH, [py, str(scripts[TYRO_PATH]), *argv_tyro(ovr)],
                  make_check(expected, True), note="FLOWS_FAST_PATH=0"),
    ]


def verify(directory: Path, lay: Layout) -> dict[str, str | None]:
    """Run every contender once (untimed): name -> error, or None when its checksum is right."""
    out: dict[str, str | None] = {}
    for c in contenders(directory, lay):
        _, proc = run_once(c.argv)
        if proc.returncode:
            tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
            out[c.name] = f"exit status {proc.returncode}: " + " | ".join(tail)
        else:
            out[c.name] = c.check(proc) if c.check else None
    return out


# ----------------------------------------------------------------------------- reporting


def table_with_per_leaf(results: dict[str, Result], leaves: int) -> str:
    """format_table's table (median, min, CPU, x tyro, x floor) with a µs-per-leaf column in
    front of the note: median wall time divided by the leaves, imports included."""
    for r in results.values():
        if r.ok:
            r.note = f"{r.median / leaves * 1e6:7.1f}  {r.note}".rstrip()
    lines = format_table(results, {"tyro": TYRO, "floor": FLOOR},
                         f"== {leaves} leaves (whole process) ==").splitlines()
    lines[1] = lines[1].removesuffix("note") + "µs/leaf  note"
    return "\n".join(lines)


def targets(leaves: int, res: dict[str, Result]) -> list[tuple[str, bool | None, str]]:
    out: list[tuple[str, bool | None, str]] = []
    for label, a, b, limit in (
        ("fast path <= 0.5 x bare tyro.cli", FAST, TYRO, 0.5),
        ("fast path <= 2.5 x flat-argparse floor", FAST, FLOOR, 2.5),
        ("tyro path <= 1.05 x bare tyro.cli", TYRO_PATH, TYRO, 1.05),
    ):
        q, text = bench_cli.cmp(res.get(a), res.get(b))
        out.append((f"{leaves} leaves: config_utils.cli, {label}",
                    None if q is None else q <= limit, text))
    return out


def slope(points: list[tuple[int, float]]) -> tuple[float, float] | None:
    """Least-squares (µs per leaf, intercept s) of median wall time against leaves."""
    if len(points) < 2:
        return None
    n = len(points)
    mx = sum(x for x, _ in points) / n
    my = sum(y for _, y in points) / n
    sxx = sum((x - mx) ** 2 for x, _ in points)
    if not sxx:
        return None
    b = sum((x - mx) * (y - my) for x, y in points) / sxx
    return b * 1e6, my - b * mx


def summary(per_size: dict[int, dict[str, Result]]) -> str:
    """One row per size (median wall s, ratios of the fast path), then the fitted slopes."""
    names = (FLOOR, TYRO, FAST, TYRO_PATH)
    head = ["leaves", *names, "fast x tyro", "fast x floor"]
    rows = []
    for leaves, res in per_size.items():
        cells = [str(leaves)]
        cells += [f"{res[n].median:.3f}" if n in res and res[n].ok else "-" for n in names]
        for base in (TYRO, FLOOR):
            q = ratio(res.get(FAST), res.get(base))
            cells.append(f"{q:.2f}" if q is not None else "-")
        rows.append(cells)
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]
    lines = ["== size series: median wall s (whole process) =="]
    lines += ["  ".join(c.rjust(w) for c, w in zip(r, widths, strict=True)) for r in [head, *rows]]
    lines.append("")
    lines.append("marginal cost (least-squares fit of the medians over the sizes):")
    for n in names:
        fit = slope([(k, res[n].median) for k, res in per_size.items() if n in res and res[n].ok])
        if fit:
            lines.append(f"  {n:<22} {fit[0]:7.1f} µs per leaf + {fit[1]:.3f} s")
    return "\n".join(lines)


def parse_sizes(text: str) -> list[int]:
    try:
        return [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise SystemExit(f"bench_sizes: error: --sizes {text!r}: expected numbers like "
                         "50,500,5000") from None


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default=",".join(map(str, SIZES)),
                    help="comma-separated leaf counts (multiples of 25); default %(default)s")
    ap.add_argument("--repeat", type=int, default=7, help="timed runs per contender (median)")
    ap.add_argument("--quick", action="store_true",
                    help=f"smoke run: sizes {','.join(map(str, QUICK_SIZES))}, 3 repeats")
    ap.add_argument("--verify", action="store_true",
                    help="no timing: run every contender once per size and check its checksum")
    ap.add_argument("--keep", metavar="DIR",
                    help="generate into DIR and keep it (default: a temporary directory)")
    ap.add_argument("--json", metavar="PATH", help="write the results as JSON")
    ns = ap.parse_args(argv)
    sizes = list(QUICK_SIZES) if ns.quick else parse_sizes(ns.sizes)
    repeat = 3 if ns.quick else ns.repeat
    layouts = [layout(n) for n in sizes]

    def log(msg: str) -> None:
        print(msg, flush=True)

    tmp = None
    if ns.keep:
        root = Path(ns.keep)
    else:
        tmp = tempfile.TemporaryDirectory(prefix="bench_sizes_")
        root = Path(tmp.name)
    try:
        if ns.verify:
            bad = 0
            for lay in layouts:
                for name, err in verify(root / f"n{lay.leaves}", lay).items():
                    bad += err is not None
                    log(f"{lay.leaves} leaves: {name}: {err or 'checksum ok'}")
            return 1 if bad else 0
        per_size: dict[int, dict[str, Result]] = {}
        verdicts: list[tuple[str, bool | None, str]] = []
        for lay in layouts:
            log(f"\n{lay.leaves} leaves ({lay.sections} sections x {lay.fields} fields + a union),"
                f" 10 overrides, median of {repeat}, alternating")
            res = run_alternating(contenders(root / f"n{lay.leaves}", lay), repeat, log=log)
            per_size[lay.leaves] = res
            print()
            print(table_with_per_leaf(res, lay.leaves))
            verdicts += targets(lay.leaves, res)
        print()
        print(summary(per_size))
        print()
        for label, ok, detail in verdicts:
            print(verdict(label, ok, detail))
        if ns.json:
            write_json(ns.json, {
                "benchmark": "sizes",
                "repeat": repeat,
                "sizes": {str(k): results_json(v) for k, v in per_size.items()},
                "targets": [{"target": lab, "pass": ok, "detail": d} for lab, ok, d in verdicts],
            })
            print(f"\nwrote {ns.json}")
        return 1 if any(r.error for res in per_size.values() for r in res.values()) else 0
    finally:
        if tmp is not None:
            tmp.cleanup()


if __name__ == "__main__":
    sys.exit(main())
