"""prefigure_compat's start-up cost against a hand-written flat argparse and real prefigure.

Target (docs/design.md, "Performance targets"): ``from prefigure_compat import get_all_args`` + a call on a 500-key ini
≤ 2 × the flat-argparse floor (a script that declares the same 500 options in its source).
Real prefigure takes seconds, most of it importing gradio and wandb.

Whole processes, round-robin, median of 7 (``bench/common.py``); every contender parses the
same 10 overrides and prints the same checksum, which is checked on every run.

    .venv/bin/python bench/bench_compat.py [--repeat 7] [--keys 500] [--no-prefigure] [--json F]
"""

from __future__ import annotations

import argparse
import random
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (  # noqa: E402
    REPO_DIR,
    Contender,
    bench_env,
    format_table,
    ratio,
    results_json,
    run_alternating,
    verdict,
    write_json,
)

CHECK_KEYS = ("key_0", "key_1", "key_2", "key_3", "key_4", "key_5", "key_6", "key_7", "key_8", "key_9")

PRINT = (
    "import json\n"
    "d = vars(args)\n"
    "print(len([k for k in d if k.startswith('key_')]), "
    "json.dumps({k: d[k] for k in " + repr(CHECK_KEYS) + "}, sort_keys=True))\n"
)


def values(n: int) -> list[tuple[str, object]]:
    """``n`` settings of mixed types (int, float, str, bool False, list), reproducible."""
    rng = random.Random(7)
    out: list[tuple[str, object]] = []
    for i in range(n):
        kind = i % 5
        value: object
        if kind == 0:
            value = rng.randint(0, 10_000)
        elif kind == 1:
            value = round(rng.random(), 6)
        elif kind == 2:
            value = f"name{i}"
        elif kind == 3:
            value = False  # prefigure defaults every bool to False: keep the checksum shared
        else:
            value = [rng.randint(0, 9) for _ in range(3)]
        out.append((f"key_{i}", value))
    return out


def write_inputs(where: Path, n: int) -> tuple[Path, list[str]]:
    """The ini, the three scripts; return the ini path and the 10 overrides."""
    items = values(n)
    ini = ["[DEFAULTS]"]
    floor = [
        "import argparse",
        "p = argparse.ArgumentParser()",
    ]
    for key, value in items:
        ini += [f"# help for {key}", f"{key} = {value!r}"]
        flag = "--" + key.replace("_", "-")
        if isinstance(value, bool):
            floor.append(f"p.add_argument({flag!r}, type=lambda s: s.lower() in ('true', '1', 'yes'), "
                         f"nargs='?', const=True, default={value!r}, help='help for {key}')")
        elif isinstance(value, list):
            floor.append(f"p.add_argument({flag!r}, type=json.loads, default={value!r}, help='help for {key}')")
        else:
            floor.append(f"p.add_argument({flag!r}, type={type(value).__name__}, default={value!r}, "
                         f"help='help for {key}')")
    floor.insert(0, "import json")
    floor.append("args = p.parse_args()")
    (where / "defaults.ini").write_text("\n".join(ini) + "\n")
    (where / "floor.py").write_text("\n".join(floor) + "\n" + PRINT)
    for name, module in (("compat.py", "prefigure_compat"), ("real.py", "prefigure")):
        (where / name).write_text(
            f"from {module} import get_all_args\n"
            f"args = get_all_args(defaults_file={str(where / 'defaults.ini')!r})\n" + PRINT
        )
    overrides = []
    for key, value in items[:10]:
        flag = "--" + key.replace("_", "-")
        if isinstance(value, bool):
            overrides.append(flag)
        elif isinstance(value, int):
            overrides += [flag, str(value + 1)]
        elif isinstance(value, float):
            overrides += [flag, str(value / 2)]
        elif isinstance(value, str):
            overrides += [flag, value + "x"]
    return where / "defaults.ini", overrides


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--keys", type=int, default=500)
    ap.add_argument("--no-prefigure", action="store_true", help="skip real prefigure (≈ 8 s a run)")
    ap.add_argument("--json", help="write results here")
    opts = ap.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-compat-") as tmp:
        where = Path(tmp)
        _, overrides = write_inputs(where, opts.keys)
        py = sys.executable
        expected: list[str] = []

        def same_output(proc: subprocess.CompletedProcess[str]) -> str | None:
            out = proc.stdout.strip()
            if not expected:
                expected.append(out)
            if out != expected[0]:
                return f"output differs: {out[:80]!r} != {expected[0][:80]!r}"
            if not out.startswith(f"{opts.keys} "):
                return f"expected {opts.keys} keys, got {out[:40]!r}"
            return None

        contenders = [
            Contender("argparse (flat, floor)", [py, str(where / "floor.py"), *overrides], same_output,
                      f"{opts.keys} options in source"),
            Contender("prefigure_compat", [py, str(where / "compat.py"), *overrides], same_output,
                      "get_all_args on the ini"),
        ]
        if not opts.no_prefigure:
            contenders.append(Contender("prefigure 0.0.10", [py, str(where / "real.py"), *overrides],
                                        same_output, "imports gradio and wandb"))
        env = bench_env({"PYTHONPATH": str(REPO_DIR)})
        print(f"bench_compat: {opts.keys}-key ini, 10 overrides, median of {opts.repeat}, whole process")
        results = run_alternating(contenders, repeat=opts.repeat, env=env,
                                  log=lambda s: print(s, flush=True))

    print()
    print(format_table(results, {"floor": "argparse (flat, floor)"}))
    q = ratio(results.get("prefigure_compat"), results.get("argparse (flat, floor)"))
    print()
    print(verdict("prefigure_compat ≤ 2 × flat argparse", None if q is None else q <= 2.0,
                  "-" if q is None else f"{q:.2f} ×"))
    qp = ratio(results.get("prefigure 0.0.10"), results.get("prefigure_compat"))
    if qp is not None:
        print(f"prefigure 0.0.10 / prefigure_compat: {qp:.1f} ×")
    if opts.json:
        write_json(opts.json, {"bench": "compat", "keys": opts.keys, "results": results_json(results)})


if __name__ == "__main__":
    main()
