"""Benchmark: the cost of ``import`` alone, whole process, against the peers.

docs/design.md ("Performance targets") target: ``import config_utils`` <= ``import tyro`` + 30 ms (config_utils must load
tyro only when ``cli`` is used). Also shown: ``python -c pass`` (interpreter start, the floor),
jsonargparse, hydra's compose API, ``from prefigure_compat import get_all_args`` (the legacy
path must stay light) and, with ``--prefigure``, prefigure itself (imports gradio and wandb).

After timing, the script lists which heavy modules each config_utils import pulls in and, with
``--importtime``, the slowest imports (``python -X importtime``) of ``import config_utils``.

    python bench/bench_import.py [--repeat 7] [--prefigure] [--importtime] [--json out.json]
"""

from __future__ import annotations

import argparse
import subprocess
import sys

from common import (
    REPO_DIR,
    Contender,
    bench_env,
    format_table,
    importtime_top,
    python_has,
    results_json,
    run_alternating,
    verdict,
    write_json,
)

# The repository goes first on sys.path (an editable install made before a package gained its
# __init__.py maps it as an empty namespace; this imports the real files either way).
PRELUDE = f"import sys; sys.path.insert(0, {str(REPO_DIR)!r}); "
HEAVY = ("tyro", "wandb", "torch", "pytorch_lightning", "lightning", "gradio", "gin", "yaml",
         "rich", "hydra", "omegaconf", "jsonargparse", "docstring_parser", "typeguard")


def stmt(code: str) -> list[str]:
    return [sys.executable, "-c", PRELUDE + code]


def contenders(prefigure: bool) -> list[Contender]:
    cs = [
        Contender("python -c pass", stmt("pass"), note="interpreter start"),
        Contender("import tyro", stmt("import tyro")),
        Contender("import jsonargparse", stmt("import jsonargparse")),
        Contender("hydra compose API", stmt("from hydra import compose, initialize_config_dir"),
                  note="from hydra import compose, initialize_config_dir"),
        Contender("import config_utils", stmt("import config_utils")),
    ]
    if python_has("from prefigure_compat import get_all_args"):
        cs.append(Contender("prefigure_compat", stmt("from prefigure_compat import get_all_args"),
                            note="from prefigure_compat import get_all_args"))
    if python_has("from config_utils import cli"):
        cs.append(Contender("config_utils.cli", stmt("from config_utils import cli"),
                            note="from config_utils import cli (loads tyro)"))
    if prefigure:
        cs.append(Contender("import prefigure", stmt("import prefigure"),
                            note="imports gradio and wandb"))
    return cs


def heavy_modules(statement: str) -> list[str]:
    """Which of the known heavy top-level packages ``statement`` leaves in ``sys.modules``."""
    code = (PRELUDE + statement + "; import sys; print(' '.join(sorted({m.split('.')[0] for m in"
            f" sys.modules}} & set({HEAVY!r}))))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=bench_env(), check=False)
    if proc.returncode:
        return ["<failed: " + proc.stderr.strip().splitlines()[-1] + ">"]
    return proc.stdout.split()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=7, help="timed runs per contender (median)")
    ap.add_argument("--prefigure", action="store_true",
                    help="also time `import prefigure` (~7 s: gradio and wandb)")
    ap.add_argument("--importtime", action="store_true",
                    help="list the slowest imports of `import config_utils` (-X importtime)")
    ap.add_argument("--json", metavar="PATH", help="write the results as JSON")
    ns = ap.parse_args(argv)

    print(f"import round: median of {ns.repeat}, alternating", flush=True)
    res = run_alternating(contenders(ns.prefigure), ns.repeat,
                          log=lambda m: print(m, flush=True))
    print()
    print(format_table(res, {"tyro": "import tyro", "pass": "python -c pass"},
                       "== import (whole process) =="))
    print()
    heavy = {name: heavy_modules(code) for name, code in (
        ("import config_utils", "import config_utils"),
        ("from prefigure_compat import get_all_args", "from prefigure_compat import get_all_args"),
    )}
    for name, mods in heavy.items():
        print(f"heavy modules after `{name}`: {', '.join(mods) if mods else 'none'}")
    if ns.importtime:
        print("\nslowest imports of `import config_utils` (cumulative us):")
        for us, name in importtime_top(PRELUDE + "import config_utils"):
            print(f"  {us:>8}  {name}")
    print()
    cu, ty = res.get("import config_utils"), res.get("import tyro")
    ok = None
    detail = "n/a"
    if cu and ty and cu.ok and ty.ok:
        diff_ms = (cu.median - ty.median) * 1000
        ok = diff_ms <= 30
        detail = f"{cu.median * 1000:.0f} ms vs {ty.median * 1000:.0f} ms ({diff_ms:+.0f} ms)"
    print(verdict("import config_utils <= import tyro + 30 ms", ok, detail))
    pc = res.get("prefigure_compat")
    tyro_free = "tyro" not in heavy["from prefigure_compat import get_all_args"]
    print(verdict("from prefigure_compat import get_all_args loads no tyro/wandb/gradio",
                  None if pc is None else tyro_free and not (
                      {"wandb", "gradio"} & set(heavy["from prefigure_compat import get_all_args"])),
                  ", ".join(heavy["from prefigure_compat import get_all_args"]) or "none"))
    if ns.json:
        write_json(ns.json, {"benchmark": "import", "repeat": ns.repeat,
                             "import": results_json(res), "heavy_modules": heavy,
                             "targets": [{"target": "import config_utils <= import tyro + 30 ms",
                                          "pass": ok, "detail": detail}]})
        print(f"\nwrote {ns.json}")
    return 1 if any(r.error for r in res.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
