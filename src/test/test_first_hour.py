"""What a newcomer meets in the first hour, each stumble of issue #27 pinned.

* A mistyped local run directory (``--wandb-config logs/train/fro-python``) has the shape of a
  W&B run path ``entity/project/run_id``; it used to be sent to W&B and come back as "no W&B
  API key", which sends the user to the wrong place. When its parent directory exists here it
  is a run directory with a typo, and the message says so with the closest name.
* A script that reads the config file beside it (``config_file=Path(__file__).parent /
  "defaults.ini"``, as ``examples/train.py`` does) names that file as the user would type it
  from where they are: ``examples/defaults.ini:12`` in provenance and messages, and as the
  default of ``--config-file`` in ``--help``, not a bare ``defaults.ini`` that could be any of
  several.
* The sweep plots read a log-spaced parameter on a log axis and give each union variant its
  own colour.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from config_utils.sources.wandb import parse_run_path

SCRIPT = textwrap.dedent(
    '''
    from dataclasses import dataclass, field
    from pathlib import Path
    from typing import Optional

    import config_utils


    @dataclass
    class OptimConfig:
        lr: float = 0.001


    @dataclass
    class Config:
        optim: OptimConfig = field(default_factory=OptimConfig)
        steps: int = 10
        run_name: Optional[str] = None


    if __name__ == "__main__":
        cfg = config_utils.cli(Config, config_file=Path(__file__).parent / "defaults.ini")
        config_utils.save_run(cfg, config_utils.run_dir_for(__file__, name=cfg.run_name))
    '''
)


def run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args], cwd=cwd, capture_output=True, text=True, timeout=120,
        stdin=subprocess.DEVNULL,
    )


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """``tmp/exp/train.py`` reading ``tmp/exp/defaults.ini``, and one run ``from-python``
    (in ``exp/logs/train/``: runs log beside their script)."""
    exp = tmp_path / "exp"
    exp.mkdir()
    (exp / "train.py").write_text(SCRIPT)
    (exp / "defaults.ini").write_text("[DEFAULTS]\nsteps = 20\n\n[optim]\nlr = 0.01\n")
    done = run(["exp/train.py", "--run-name", "from-python"], tmp_path)
    assert done.returncode == 0, done.stderr
    assert (exp / "logs" / "train" / "from-python" / "run_record.json").is_file()
    return tmp_path


@pytest.mark.parametrize("flag", ["--wandb-config", "--from-run"])
def test_a_mistyped_run_directory_is_named_not_sent_to_wandb(project: Path, flag: str) -> None:
    done = run(["train.py", flag, "logs/train/fro-python"], project / "exp")
    assert done.returncode == 2, done.stderr
    assert done.stderr.splitlines() == [
        "train.py: error: wandb run 'logs/train/fro-python': not a W&B run URL, "
        "entity/project/run_id, or existing run directory: logs/train/ has no 'fro-python' "
        "(did you mean 'from-python'?)"
    ]


def test_the_run_directory_spelled_right_is_re_created(project: Path) -> None:
    done = run(["train.py", "--from-run", "logs/train/from-python", "--print-config"], project / "exp")
    assert done.returncode == 0, done.stderr
    assert "# run:logs/train/from-python" in done.stdout


def test_a_wandb_run_path_without_such_a_local_directory_is_still_a_wandb_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert parse_run_path("me/proj/abc123") == ("me", "proj", "abc123")
    (tmp_path / "me").mkdir()  # a directory named like the entity is not the run's parent
    assert parse_run_path("me/proj/abc123") == ("me", "proj", "abc123")


def test_provenance_names_the_config_file_as_typed_from_the_working_directory(project: Path) -> None:
    done = run(["exp/train.py", "--print-config"], project)
    assert done.returncode == 0, done.stderr
    assert "# exp/defaults.ini:2" in done.stdout and "# exp/defaults.ini:5" in done.stdout
    # from inside the script's directory, the file is the one in the working directory
    inside = run(["train.py", "--print-config"], project / "exp")
    assert "# defaults.ini:2" in inside.stdout and "exp/defaults.ini" not in inside.stdout


def test_a_mistake_in_the_config_file_names_it_as_typed(project: Path) -> None:
    (project / "exp" / "defaults.ini").write_text("[optim]\nlrr = 0.01\n")
    done = run(["exp/train.py"], project)
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        "train.py: error: exp/defaults.ini:2: unknown key 'optim.lrr' (did you mean 'optim.lr'?)"
    ]


def test_help_shows_the_file_the_script_reads(project: Path) -> None:
    done = run(["exp/train.py", "--help"], project)
    assert done.returncode == 0, done.stderr
    text = " ".join(done.stdout.replace("│", " ").split())  # tyro's box, wrapped lines joined
    assert "(default: exp/defaults.ini)" in text
    assert "defaults.ini when present" not in text


# ------------------------------------------------------------------------------------------
# sweep plots: a log-spaced parameter on a log axis, one colour per union variant
# ------------------------------------------------------------------------------------------
PALETTE = ("#3a6ea5", "#e07a1f")  # the first two variant colours of config_utils.sweep.results


def _blobs(png: Path, colour: str) -> list[tuple[float, float]]:
    """``(x, y)`` centres of the marks drawn in ``colour`` (alpha 0.8 over white)."""
    import matplotlib.image
    import numpy as np
    import scipy.ndimage as nd

    img = matplotlib.image.imread(str(png))[..., :3]
    rgb = np.array([int(colour[i:i + 2], 16) for i in (1, 3, 5)]) / 255
    mask = (np.abs(img - (0.8 * rgb + 0.2)) < 0.08).all(axis=-1)
    labels, n = nd.label(nd.binary_dilation(mask, iterations=3))
    return [(float(c[1]), float(c[0])) for c in nd.center_of_mass(mask, labels, range(1, n + 1))]


def _equally_spaced(xs: list[float]) -> bool:
    """Three marks at distinct x with equal gaps (a log axis of 0.001, 0.01, 0.1)."""
    xs = sorted(xs)
    for i, a in enumerate(xs):
        for j, b in enumerate(xs[i + 1:], i + 1):
            for c in xs[j + 1:]:
                if b - a > 20 and c - b > 20 and abs((b - a) - (c - b)) < 0.05 * (c - a):
                    return True
    return False


@pytest.mark.slow
def test_sweep_plots_log_axis_and_a_colour_per_variant(tmp_path: Path) -> None:
    program = Path(__file__).parent / "sweep_program.py"
    spec = tmp_path / "s.yaml"
    spec.write_text(
        f"program: {program}\nmethod: grid\nmetric: {{name: loss, goal: minimize}}\nparameters:\n"
        "  optim._type: {values: [AdamConfig, SGDConfig]}\n  optim.lr: {values: [0.001, 0.01, 0.1]}\n"
    )
    done = subprocess.run(
        [str(Path(sys.executable).parent / "flow_sweep"), str(spec), "--sweep-dir", str(tmp_path / "sw"),
         "--parallel", "2"],
        capture_output=True, text=True, timeout=600, stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    png = tmp_path / "sw" / "plot-optim.lr.png"
    adam, sgd = (_blobs(png, colour) for colour in PALETTE)
    # every variant's trials in its own colour: 3 marks each (Adam's best is under the star),
    # plus each variant's legend entry
    assert len(adam) >= 2 and len(sgd) >= 4, (adam, sgd)
    # SGD's three learning rates a decade apart sit at equal distances: a log axis
    assert _equally_spaced([x for x, _ in sgd]), sgd
