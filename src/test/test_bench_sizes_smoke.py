"""Smoke test of bench/bench_sizes.py: its generated contenders parse the same thing.

The size series is only worth its figures if every contender parses the 10 overrides to the
same config (the checksum computed from the generator's table) and config_utils.cli really
takes the path it is timed for. No timings here: one untimed run per contender at 20 leaves.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench"
CONTENDERS = ("argparse-flat", "tyro", "config_utils.cli", "config_utils.cli/tyro")


def _run(args: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, cwd=BENCH,
                          timeout=60, check=False)


def test_every_contender_prints_the_expected_checksum(tmp_path: Path) -> None:
    proc = _run(["bench_sizes.py", "--verify", "--sizes", "20", "--keep", str(tmp_path)])
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.splitlines() == [f"20 leaves: {name}: checksum ok" for name in CONTENDERS]
    # Generated as real source with field docstrings (tyro reads them from the file).
    source = (tmp_path / "n20" / "size_config.py").read_text()
    assert source.count("@dataclass") == 2 + 2 + 1  # 2 sections x 10 fields, 2 head variants, top
    assert '    """Integer knob #0 of the data loading section;' in source


def test_a_contender_that_parses_another_value_fails_its_check(tmp_path: Path) -> None:
    code = textwrap.dedent(f"""
        from pathlib import Path
        import bench_sizes as b
        from common import run_once
        lay = b.layout(20)
        for c in b.contenders(Path({str(tmp_path)!r}), lay):
            argv = list(c.argv)
            argv[argv.index("1000") if "1000" in argv else -1] = "999"
            _, proc = run_once(argv)
            print(c.name, "->", c.check(proc))
    """)
    proc = _run(["-c", code])
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert len(lines) == len(CONTENDERS)
    for name, line in zip(CONTENDERS, lines, strict=True):
        assert line.startswith(f"{name} -> checksum "), line
        assert line.endswith("(parsed something else)"), line
