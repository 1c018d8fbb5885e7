"""Each job done by one piece of code: where a second copy had drifted, the user saw it.

- prefigure_compat's ``--flag WORD`` takes config_utils' boolean words, no others, and its
  ``.json`` config files go through the house's JSON reader (a key given twice or absurd
  nesting is one line naming the file, exit 2) (docs/prefigure-differences.md);
- the OFC Lightning callback asks ``tracker_of`` which tracker a logger belongs to, as
  ``push_config`` does (docs/live-control.md);
- a local sweep trial's end is reported as it was: ``sys.exit(130)`` is exit status 130, a
  SIGKILL is signal 9, while the controller watches and when a later controller reads the
  trial's ``exit.json`` (docs/sweeps.md).

(``flow_plot``'s command line, read by tyro like the other console scripts, is tested with
them in ``test_console_look.py``.)
"""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

import pytest

import prefigure_compat
from config_utils.convert import _FALSE, _TRUE


def _args(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, files: dict[str, str], argv: list[str]) -> Any:
    """``prefigure_compat.get_all_args()`` of a script ``train.py`` run in ``tmp_path``."""
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", ["train.py", *argv])
    return prefigure_compat.get_all_args()


def _refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
             files: dict[str, str], argv: list[str]) -> str:
    """The one line a refused command line printed (exit status 2, no traceback)."""
    with pytest.raises(SystemExit) as info:
        _args(tmp_path, monkeypatch, files, argv)
    err = capsys.readouterr().err
    assert info.value.code == 2 and "Traceback" not in err, err
    return err.splitlines()[-1]


# ------------------------------------------------------------------ prefigure_compat: booleans
@pytest.mark.parametrize("word", sorted(_TRUE | _FALSE))
def test_prefigure_flag_takes_each_of_config_utils_boolean_words(
    word: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for spelled in (word, word.upper()):
        ns = _args(tmp_path, monkeypatch, {"defaults.ini": "[DEFAULTS]\nflag = True\n"}, ["--flag", spelled])
        assert ns.flag is (word in _TRUE)


@pytest.mark.parametrize("word", ["y", "t", "n", "f", "Y"])
def test_prefigure_flag_refuses_what_config_utils_refuses(
    word: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The single letters were prefigure_compat's own: ``--flag f`` on a script moved to
    config_utils.cli would have stopped working. One vocabulary, so it is refused here too."""
    line = _refused(tmp_path, monkeypatch, capsys, {"defaults.ini": "[DEFAULTS]\nflag = True\n"},
                    ["--flag", word])
    assert line == f"train.py: error: argument --flag: expected True or False, got {word!r}"


# ------------------------------------------------------------------ prefigure_compat: JSON files
@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"lr": 0.1,\n "lr": 0.2}', "c.json: key 'lr' is given twice in one object"),
        ('{"a": ' + "[" * 150 + "]" * 150 + "}", "c.json: nested deeper than 100 levels"),
        ('{"a": ' + "[" * 5000 + "]" * 5000 + "}", "c.json: nested deeper than 100 levels"),
        ('{"a": 1,\n "b": }', "c.json:2: not valid JSON: Expecting value"),
    ],
    ids=["duplicate-key", "deep", "deeper-than-the-recursion-limit", "syntax"],
)
def test_prefigure_json_config_is_read_by_the_house_reader(
    text: str, message: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """prefigure's bare ``json.loads`` let the second ``lr`` win without a word."""
    line = _refused(tmp_path, monkeypatch, capsys, {"c.json": text}, ["--config-file", "c.json"])
    assert line.startswith(f"train.py: error: {message}"), line


def test_prefigure_imported_json_file_names_the_import_and_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    files = {"defaults.ini": "[DEFAULTS]\nmodel = 'model.json'\nimports = 'model'\n",
             "model.json": '{"width": 8, "width": 16}'}
    line = _refused(tmp_path, monkeypatch, capsys, files, [])
    assert line == ("train.py: error: imports: model = 'model.json': model.json: key 'width' is given "
                    "twice in one object")


def test_prefigure_json_config_still_reads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ns = _args(tmp_path, monkeypatch, {"c.json": '{"lr": 0.1, "layers": [1, 2], "name": "r"}'},
               ["--config-file", "c.json", "--lr", "0.5"])
    assert (ns.lr, ns.layers, ns.name) == (0.5, [1, 2], "r")


# ------------------------------------------------------------------ OFC Lightning callback
@pytest.mark.slow
def test_ofc_callback_tells_trackers_apart_as_push_config_does(tmp_path: Path) -> None:
    """The OFC switches its own W&B logging off while a W&B logger logs its changes. Which
    logger is W&B's is ``tracker_of``'s answer, as for ``push_config``: by the class's name and
    module, so a project's own ``WandbLogger`` counts (the callback's own ``isinstance`` test
    missed it, and each change was logged to W&B twice)."""
    from dataclasses import dataclass

    import pytorch_lightning as pl
    from pytorch_lightning.loggers import CSVLogger, Logger, MLFlowLogger
    from pytorch_lightning.loggers import WandbLogger as LightningWandbLogger

    from config_utils.ofc import OFC, OFCCallback
    from config_utils.sources.trackers import tracker_of

    class WandbLogger(Logger):
        """A project's own W&B logger for Lightning (forwards to ``wandb.log``)."""

        @property
        def name(self) -> str:
            return "wandb"

        @property
        def version(self) -> str:
            return "0"

        def log_hyperparams(self, params: Any, *args: Any, **kwargs: Any) -> None:
            pass

        def log_metrics(self, metrics: dict[str, float], step: int | None = None) -> None:
            import wandb

            if wandb.run is not None:
                wandb.log(metrics, step=step)

    @dataclass
    class Cfg:
        lr: float = 0.1

    loggers = {
        "lightning's WandbLogger": LightningWandbLogger(offline=True, save_dir=str(tmp_path)),
        "a project's WandbLogger": WandbLogger(),
        "MLFlowLogger": MLFlowLogger(tracking_uri=f"sqlite:///{tmp_path / 'mlflow.db'}"),
        "CSVLogger": CSVLogger(str(tmp_path / "csv")),
    }
    seen = {}
    for label, logger in loggers.items():
        trainer = pl.Trainer(logger=[logger], accelerator="cpu", devices=1, enable_progress_bar=False,
                             enable_checkpointing=False, enable_model_summary=False)
        with OFC(Cfg(), ["lr"], tmp_path / f"{len(seen)}.ini", use_wandb=True) as ofc:
            callback = OFCCallback(ofc)
            callback.setup(trainer, pl.LightningModule(), "fit")
            during = ofc.use_wandb
            callback.teardown(trainer, pl.LightningModule(), "fit")
            assert ofc.use_wandb is True  # given back after the fit
        seen[label] = (tracker_of(logger), during)
    assert seen == {
        "lightning's WandbLogger": ("wandb", False),
        "a project's WandbLogger": ("wandb", False),
        "MLFlowLogger": ("mlflow", True),
        "CSVLogger": (None, True),
    }


# ------------------------------------------------------------------ local sweep trials
def _local_trial(tmp_path: Path, code: str) -> tuple[Any, Path]:
    """Run ``python -c code`` as local sweep trial 0 to its end: ``(its Outcome, run dir)``."""
    from config_utils.sweep.engines import TrialJob
    from config_utils.sweep.engines.local import LocalEngine

    run_dir = tmp_path / "trials" / "0000"
    engine = LocalEngine(1)
    job = TrialJob(0, [sys.executable, "-c", code], {"FLOWS_RUN_DIR": str(run_dir)}, tmp_path, run_dir)
    engine.start(job)
    try:
        deadline = time.monotonic() + 60
        outcomes: list[Any] = []
        while not outcomes:
            assert time.monotonic() < deadline, "the trial did not end"
            outcomes = engine.poll(1.0)
    finally:
        engine.close()
    return outcomes[0], run_dir


@pytest.mark.parametrize(
    ("code", "status"),
    [
        ("import sys; print('interrupted: saved a checkpoint'); sys.exit(130)", 130),
        ("import sys; sys.exit(137)", 137),
        ("import os, signal; os.kill(os.getpid(), signal.SIGKILL)", -signal.SIGKILL),
        ("import os, signal; os.kill(os.getpid(), signal.SIGINT)", -signal.SIGINT),
        ("import sys; sys.exit(3)", 3),
        ("pass", 0),
    ],
    ids=["exit-130", "exit-137", "sigkill", "sigint", "exit-3", "exit-0"],
)
def test_a_local_trial_is_reported_as_it_ended(tmp_path: Path, code: str, status: int) -> None:
    """A program that calls ``sys.exit(130)`` exited with status 130; it was not killed by
    SIGINT (the shell wrapper's ``$?`` could not tell the two apart). The same answer whether
    the controller saw the end (``Popen.returncode``) or a later one reads ``exit.json``."""
    from config_utils.sweep.state import read_exit_record

    outcome, run_dir = _local_trial(tmp_path, code)
    assert (outcome.exit_code, outcome.timed_out, outcome.stopped) == (status, False, False)
    assert read_exit_record(run_dir) == (status, "")


def test_results_say_killed_by_a_signal_or_the_exit_status(tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    """The results table and CSV say how a failed trial ended in words: a program's own
    ``sys.exit(130)`` is "exit status 130", a SIGKILL is "killed by SIGKILL (signal 9)"
    (``subprocess``'s -9 read as a status misled), the same words a retry's line uses."""
    from sweep_harness import read_csv, sweep_main, write_spec

    program = tmp_path / "ends.py"
    program.write_text(
        "import os, signal, sys\nfrom dataclasses import dataclass\nimport config_utils\n\n"
        "@dataclass\nclass C:\n    how: str = 'exit'\n\n"
        "c = config_utils.cli(C, config_file=None)\nprint('last words', flush=True)\n"
        "os.kill(os.getpid(), signal.SIGKILL) if c.how == 'kill' else sys.exit(130)\n")
    spec = write_spec(tmp_path, "method: grid\nmetric: {name: loss}\nparameters:\n"
                      "  how: {values: [exit, kill]}\n", program=program)
    code, out, err = sweep_main([spec, "--sweep-dir", tmp_path / "sw", "--retries", "1"], capsys)
    assert code == 1, out + err
    rows = {r["how"]: r for r in read_csv(tmp_path / "sw" / "results.csv")}
    assert rows["exit"]["error"] == "exit status 130: last words"
    assert rows["kill"]["error"] == "killed by SIGKILL (signal 9): last words"
    assert rows["kill"]["reruns"].startswith("retry 1 of 1: attempt 1 failed: killed by SIGKILL (signal 9)")


def test_exit_records_say_exit_status_or_signal(tmp_path: Path) -> None:
    from config_utils.sweep.state import read_exit_record

    cases = {
        '{"exit": 130, "signal": null}\n': (130, ""),
        '{"exit": null, "signal": 9}\n': (-9, ""),
        '{"exit": 137}\n': (-9, ""),  # the earlier /bin/sh wrapper's record: 128 + N meant signal N
        '{"exit": 130, "signal": 2}': (None, "not an exit record"),
        '{"exit": null, "signal": null}': (None, "not an exit record"),
        '{"exit": null, "signal": 0}': (None, "not an exit record"),
        '{"exit": null, "signal": true}': (None, "not an exit record"),
    }
    for text, expected in cases.items():
        (tmp_path / "exit.json").write_text(text)
        code, problem = read_exit_record(tmp_path)
        assert (code, problem.rpartition(": ")[2]) == expected, text


def test_the_wrapper_never_writes_through_a_link_or_blocks_on_a_fifo(tmp_path: Path) -> None:
    """The trial owns its run directory: an ``exit.json`` it left as a link to another file or
    as a FIFO is not written through (the record is then missing: the trial runs again)."""
    from config_utils.sweep.state import read_exit_record

    target = tmp_path / "elsewhere.txt"
    target.write_text("mine\n")
    code = (f"import os; os.symlink({str(target)!r}, os.path.join(os.environ['FLOWS_RUN_DIR'], 'exit.json'))")
    outcome, run_dir = _local_trial(tmp_path / "link", code)
    assert outcome.exit_code == 0 and target.read_text() == "mine\n"
    code = "import os; os.mkfifo(os.path.join(os.environ['FLOWS_RUN_DIR'], 'exit.json'))"
    started = time.monotonic()
    outcome, run_dir = _local_trial(tmp_path / "fifo", code)
    assert outcome.exit_code == 0 and time.monotonic() - started < 30
    assert read_exit_record(run_dir)[0] is None
    assert os.path.exists(run_dir / "exit.json")
