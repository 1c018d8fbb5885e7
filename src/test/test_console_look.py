"""The four console scripts look like one tool (docs/cli.md, docs/sweeps.md, docs/live-control.md).

``flow_init``, ``flow_create``, ``flow_sweep`` and ``flow_plot`` all read their command line with
tyro from an options dataclass, so a user meets one help layout (tyro's boxes on a UTF-8 stream, plain
rules otherwise, ``(default: ...)``, named metavars), one refusal form for what tyro parses
(tyro's box with the did-you-mean and the help pointer, exit 2) and one line
``PROG: error: ...`` (exit 2) for the mistakes the script names itself.

``flow_sweep --help`` at 100 columns on a UTF-8 stream is pinned in
``src/test/data/flow_sweep_help.txt``; after an intended change, regenerate and review::

    .venv/bin/python src/test/test_console_look.py
    git diff src/test/data/flow_sweep_help.txt
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SWEEP_HELP = Path(__file__).resolve().parent / "data" / "flow_sweep_help.txt"
_COLOUR_VARS = ("FORCE_COLOR", "PY_COLORS", "CLICOLOR_FORCE", "TTY_COMPATIBLE", "TTY_INTERACTIVE")


def _scripts() -> dict[str, str]:
    """``[project.scripts]`` of pyproject.toml: the console scripts exactly as installed."""
    with open(ROOT / "pyproject.toml", "rb") as fh:
        return dict(tomllib.load(fh)["project"]["scripts"])


SCRIPTS = _scripts()


def run_script(name: str, *args: str, columns: int = 80, encoding: str = "utf-8",
               cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    """Run console script ``name`` as its entry point does, on a stream of ``encoding``."""
    module, func = SCRIPTS[name].split(":")
    env = {k: v for k, v in os.environ.items() if k not in _COLOUR_VARS and k != "PYTHONPATH"}
    env.update(COLUMNS=str(columns), LINES="50", NO_COLOR="1", TERM="dumb", PYTHONPATH=str(ROOT),
               PYTHONIOENCODING=encoding if encoding == "utf-8" else f"{encoding}:replace")
    code = f"import sys; from {module} import {func}; sys.exit({func}())"
    done = subprocess.run([sys.executable, "-c", code, *args], cwd=cwd, env=env, capture_output=True,
                          timeout=120, stdin=subprocess.DEVNULL)
    return subprocess.CompletedProcess(done.args, done.returncode, done.stdout.decode(encoding),
                                       done.stderr.decode(encoding))


def test_the_four_console_scripts_are_the_ones_looked_at() -> None:
    assert set(SCRIPTS) == {"flow_init", "flow_create", "flow_sweep", "flow_plot"}


@pytest.mark.parametrize("encoding", ["utf-8", "ascii"])
@pytest.mark.parametrize("name", sorted(SCRIPTS))
def test_help_has_the_one_look(name: str, encoding: str) -> None:
    done = run_script(name, "--help", encoding=encoding)
    assert done.returncode == 0, done.stderr
    text = done.stdout
    assert text.startswith(f"usage: {name} [-h] ")
    boxed = encoding == "utf-8"
    assert ("╭─ options ─" in text) == boxed, text
    assert all(ord(ch) < 128 for ch in text) != boxed
    if boxed:  # tyro's boxes follow COLUMNS
        box = [line for line in text.splitlines() if line[:1] in ("╭", "│", "╰")]
        assert box and max(len(line) for line in box) <= 80, text
    # tyro's "(default: ...)", never argparse's "(default 1)" or its bare "options:" header
    assert "(default: " in text
    assert not re.search(r"\(default [^:]", text), text
    assert "\noptions:\n" not in text and "positional arguments:\n" not in text
    # metavars name what is expected (N, DIR, ...), not argparse's option name in capitals
    for option, metavar in re.findall(r"(--[a-z]+-[a-z-]+)[ =]([A-Z][A-Z_]+)\b", text):
        assert metavar != option[2:].upper().replace("-", "_"), (option, metavar)


#: What each script requires, so that the refusal is about the unknown option alone.
REQUIRED = {"flow_init": [], "flow_create": ["--name", "exp"], "flow_sweep": ["s.yaml"], "flow_plot": ["run"]}


@pytest.mark.parametrize("name", sorted(SCRIPTS))
def test_an_unknown_option_is_refused_in_tyros_form(name: str, tmp_path: Path) -> None:
    done = run_script(name, *REQUIRED[name], "--hlep", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.startswith("╭─ Unrecognized options ─"), done.stderr
    assert "--hlep" in done.stderr and "--help" in done.stderr  # the typo and what was meant
    assert f"For full helptext, run {name} --help" in done.stderr
    assert "Traceback" not in done.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("name", "args", "message"),
    [
        ("flow_init", ["--flow-dir", "1bad"], "--flow-dir '1bad': '1bad' is not a Python identifier"),
        ("flow_create", ["--name", "exp"], "no workspace found: "),
        ("flow_sweep", ["absent.yaml"], "absent.yaml: no such sweep spec file"),
        ("flow_sweep", ["absent.yaml", "--count", "0"], "--count: expected a whole number from 1 to "),
        ("flow_sweep", ["absent.yaml", "--retries", "-1"],
         "--retries: expected a whole number from 0 to 100, got '-1'"),
        ("flow_plot", ["absent"], "absent: not a directory (give the run directory)"),
        ("flow_plot", ["."], ".: holds no metrics.jsonl file (nothing was reported in this run)"),
    ],
)
def test_the_scripts_own_refusals_are_one_line(name: str, args: list[str], message: str, tmp_path: Path) -> None:
    done = run_script(name, *args, cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1, done.stderr
    assert done.stderr.startswith(f"{name}: error: "), done.stderr
    assert message in done.stderr
    assert list(tmp_path.iterdir()) == []  # refused before anything was written


# ---------------------------------------------------------------------------- flow_sweep


def sweep_help() -> str:
    """``flow_sweep --help`` at 100 columns, UTF-8, no colour; trailing blanks dropped."""
    done = run_script("flow_sweep", "--help", columns=100)
    assert done.returncode == 0, done.stderr
    return "\n".join(line.rstrip() for line in done.stdout.splitlines()).strip("\n") + "\n"


def test_flow_sweep_help_matches_the_snapshot() -> None:
    assert sweep_help() == SWEEP_HELP.read_text(encoding="utf-8"), (
        "flow_sweep --help changed; if intended, regenerate with "
        "`.venv/bin/python src/test/test_console_look.py` and review the diff"
    )


def test_flow_sweep_keeps_every_option() -> None:
    """Every option flow_sweep had before it was built with tyro, under the same name."""
    text = SWEEP_HELP.read_text(encoding="utf-8")
    for option in ("SPEC", "--engine {local,ray,slurm}", "--sweep-dir DIR", "--storage URL", "--parallel N",
                   "--cpus-per-trial N", "--gpus-per-trial N", "--timeout SECONDS", "--count N", "--seed N",
                   "--retries N", "--dry-run", "--ray-address ADDRESS", "--ship-program", "--no-ship-program",
                   "--detach", "--slurm-partition NAME", "--slurm-time TIME", "--slurm-mem SIZE",
                   "--slurm-option KEY=VALUE"):
        assert re.search(rf"│ {re.escape(option)}(\s|$)", text, re.M), option


def test_flow_sweep_options_parse_to_what_the_sweep_needs() -> None:
    from config_utils.sweep import cli

    args = cli.parse(["s.yaml", "--engine", "slurm", "--slurm-option", "qos=high", "--slurm-option",
                      "constraint=a100", "--detach", "--sweep-dir", "out", "--dry-run"])
    assert (args.spec, args.engine, args.dry_run, args.sweep_dir) == ("s.yaml", "slurm", True, Path("out"))
    assert args.slurm.slurm_option == ["qos=high", "constraint=a100"]  # repeatable, in order
    assert args.slurm.detach is True
    assert args.cpus_per_trial == "1" and args.retries == "0"  # numbers go to knobs.py as given
    assert (args.ray.ship_program, args.ray.no_ship_program) == (False, False)


def test_flow_sweep_ship_program_and_its_negation_exclude_each_other() -> None:
    done = run_script("flow_sweep", "s.yaml", "--engine", "ray", "--ship-program", "--no-ship-program")
    assert done.returncode == 2
    assert done.stderr.startswith("╭─ Mutually exclusive arguments ─"), done.stderr
    assert "--ship-program and --no-ship-program are not allowed together" in done.stderr


# ---------------------------------------------------------------------------- flow_plot


def test_flow_plot_keeps_its_options_and_draws_the_png(tmp_path: Path) -> None:
    """The options flow_plot had as an argparse script, under the same names, doing the same."""
    text = run_script("flow_plot", "--help").stdout
    for option in ("RUN_DIR", "--out PNG", "--history FILE"):
        assert re.search(rf"│ {re.escape(option)}(\s|$)", text, re.M), option
    (tmp_path / "metrics.jsonl").write_text('{"step": 1, "loss": 1.0}\n{"step": 2, "loss": 0.5}\n')
    (tmp_path / "h.jsonl").write_text('{"step": 2, "key": "lr", "old": 0.1, "new": 0.05, "source": "file"}\n')
    done = run_script("flow_plot", str(tmp_path), "--out", str(tmp_path / "p.png"), "--history",
                      str(tmp_path / "h.jsonl"))
    assert (done.returncode, done.stdout, done.stderr) == (0, f"{tmp_path / 'p.png'}\n", "")
    assert (tmp_path / "p.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    done = run_script("flow_plot", str(tmp_path))  # the default place, beside the run's files
    assert (done.returncode, done.stdout) == (0, f"{tmp_path / 'ofc-plot.png'}\n"), done.stderr


if __name__ == "__main__":
    SWEEP_HELP.write_text(sweep_help(), encoding="utf-8")
    print(f"wrote {SWEEP_HELP.relative_to(ROOT)}")
