"""Writers racing on one OFC file: nothing lost, nothing applied that nobody wrote.

Each round starts a page submit and a file edit (or two file edits) a random 0–3 ms apart, in
two threads, the way a person at the page and a script (or an editor) collide. Afterwards the
OFC processes whatever is on disk (two ``poll()`` calls, exactly as the watcher does) and one
``update()`` applies it; both writers' values must be in the config and in the file, and no
value may be one that neither writer wrote. The round count is fixed and the seed printed, so
a failure can be replayed.
"""

from __future__ import annotations

import dataclasses
import random
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from ofc_editing import edit_text, settle

from config_utils.ofc import OFC
from config_utils.ofc.core import atomic_write

ROUNDS = 40
SEED = 20261207


@dataclasses.dataclass
class Optim:
    lr: float = 0.001


@dataclasses.dataclass
class Cfg:
    optim: Optim = dataclasses.field(default_factory=Optim)
    lam: float = 1.0
    steps: int = 100


def _in_place(path: Path, text: str) -> None:
    with open(path, "r+", encoding="utf-8") as fh:
        fh.write(text)
        fh.truncate()


def _by_rename(path: Path, text: str) -> None:
    atomic_write(path, text)


def _editor(path: Path, key: str, raw: str, save: Callable[[Path, str], None]) -> None:
    """Read the file, change one line, save: what a script or an editor does."""
    save(path, edit_text(path.read_text(encoding="utf-8"), {key: raw}))


def _race(first: Callable[[], object], second: Callable[[], object], delay_s: float) -> None:
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def run(fn: Callable[[], object], wait: float) -> None:
        try:
            start.wait()
            if wait:
                time.sleep(wait)  # the offset between the two writers is the test's input
            fn()
        except BaseException as exc:  # noqa: BLE001 - re-raised in the test's thread
            errors.append(exc)

    threads = [
        threading.Thread(target=run, args=(first, 0.0)),
        threading.Thread(target=run, args=(second, delay_s)),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]


@pytest.mark.parametrize("save", [_by_rename, _in_place], ids=["rename", "in-place"])
@pytest.mark.parametrize("editor_first", [False, True], ids=["submit-first", "edit-first"])
def test_page_submit_and_file_edit_ms_apart_keep_both(
    tmp_path: Path, save: Callable[[Path, str], None], editor_first: bool
) -> None:
    rng = random.Random(SEED)
    lost: list[str] = []
    with OFC(Cfg(), ofc_file=tmp_path / "ofc.ini", use_wandb=False, poll_interval=3600,
             announce=False, plot_png=False) as ofc:
        for n in range(ROUNDS):
            lr, lam = f"0.{n + 1:03d}7", f"{n + 2}.5"  # as the file writes them back

            def submit() -> None:
                assert ofc.submit({"optim.lr": lr}) == {}

            def editor() -> None:
                _editor(ofc.ofc_file, "lam", lam, save)

            pair = (editor, submit) if editor_first else (submit, editor)
            _race(*pair, delay_s=rng.uniform(0.0, 0.003))
            settle(ofc)
            ofc.update(step=n)
            got = (ofc.cfg.optim.lr, ofc.cfg.lam)
            if got != (float(lr), float(lam)):
                lost.append(f"round {n}: applied lr={got[0]} lam={got[1]}, wrote lr={lr} lam={lam}")
            text = ofc.ofc_file.read_text()
            if f"optim.lr = {lr}\n" not in text or f"lam = {lam}\n" not in text:
                lost.append(f"round {n}: the file lost a value:\n{text}")
    assert lost == [], f"seed {SEED}: " + "\n".join(lost)


def test_two_in_place_editors_overlapping_never_apply_a_value_neither_wrote(tmp_path: Path) -> None:
    rng = random.Random(SEED)
    invented: list[str] = []
    with OFC(Cfg(), ofc_file=tmp_path / "ofc.ini", use_wandb=False, poll_interval=3600,
             announce=False, plot_png=False) as ofc:
        for n in range(ROUNDS):
            short, long = f"0.{n % 9 + 1}", f"0.{n % 9 + 1}23456789"
            _race(
                lambda: _editor(ofc.ofc_file, "optim.lr", short, _in_place),  # noqa: B023
                lambda: _editor(ofc.ofc_file, "optim.lr", long, _in_place),  # noqa: B023
                delay_s=rng.uniform(0.0, 0.003),
            )
            settle(ofc)
            ofc.update(step=n)
            lr = ofc.cfg.optim.lr
            if lr not in (float(short), float(long)) and lr != ofc.history[0].old:
                invented.append(f"round {n}: applied optim.lr = {lr!r}; the editors wrote {short} and {long}")
    assert invented == [], f"seed {SEED}: " + "\n".join(invented)
