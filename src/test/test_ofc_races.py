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
import os
import random
import threading
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import ofc_config
import pytest
from ofc_editing import edit_text, settle

from config_utils.atomic import write_atomic
from config_utils.ofc import OFC, OFCWarning

ROUNDS = 40
SEED = 20261207


@dataclasses.dataclass
class Cfg(ofc_config.Cfg):
    steps: int = 100


def _in_place(path: Path, text: str) -> None:
    with open(path, "r+", encoding="utf-8") as fh:
        fh.write(text)
        fh.truncate()


def _line_by_line(path: Path, text: str) -> None:
    """Rewrite in place one line per write (a script flushing as it goes; some editors)."""
    fd = os.open(path, os.O_WRONLY | os.O_TRUNC)
    try:
        for line in text.splitlines(keepends=True):
            os.write(fd, line.encode("utf-8"))
    finally:
        os.close(fd)


def _by_rename(path: Path, text: str) -> None:
    write_atomic(path, text)


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

            def submit(lr: str = lr) -> None:
                assert ofc.submit({"optim.lr": lr}) == {}

            def editor(lam: str = lam) -> None:
                _editor(ofc.ofc_file, "lam", lam, save)

            first, second = (editor, submit) if editor_first else (submit, editor)
            _race(first, second, delay_s=rng.uniform(0.0, 0.003))
            settle(ofc)
            ofc.update(step=n)
            got = (ofc.cfg.optim.lr, ofc.cfg.lam)
            if got != (float(lr), float(lam)):
                lost.append(f"round {n}: applied lr={got[0]} lam={got[1]}, wrote lr={lr} lam={lam}")
            text = ofc.ofc_file.read_text()
            if f"optim.lr = {lr}\n" not in text or f"lam = {lam}\n" not in text:
                lost.append(f"round {n}: the file lost a value:\n{text}")
    assert lost == [], f"seed {SEED}: " + "\n".join(lost)


@pytest.mark.parametrize("save", [_in_place, _line_by_line], ids=["one-write", "line-by-line"])
def test_two_in_place_editors_overlapping_never_apply_a_value_neither_wrote(
    tmp_path: Path, save: Callable[[Path, str], None]
) -> None:
    rng = random.Random(SEED)
    invented: list[str] = []
    written = {Cfg().optim.lr}
    overlaps = 0
    with OFC(Cfg(), ofc_file=tmp_path / "ofc.ini", use_wandb=False, poll_interval=3600,
             announce=False, plot_png=False) as ofc:
        for n in range(ROUNDS):
            short, long = f"0.{n % 9 + 1}", f"0.{n % 9 + 1}23456789"
            base = ofc.render()  # each round starts from a whole file, both editors hold it
            write_atomic(ofc.ofc_file, base)
            settle(ofc)
            _race(
                lambda: save(ofc.ofc_file, edit_text(base, {"optim.lr": short})),  # noqa: B023
                lambda: save(ofc.ofc_file, edit_text(base, {"optim.lr": long})),  # noqa: B023
                delay_s=rng.uniform(0.0, 0.003),
            )
            settle(ofc)
            with warnings.catch_warnings(record=True) as refused:  # an overlap is refused aloud
                warnings.simplefilter("always")
                ofc.update(step=n)
            overlaps += any("at the same time" in str(w.message) for w in refused)
            written |= {float(short), float(long)}
            lr = ofc.cfg.optim.lr
            if lr not in written:
                invented.append(f"round {n}: applied optim.lr = {lr!r}; the editors wrote {short} and {long}")
    assert invented == [], f"seed {SEED}, {overlaps} overlaps refused: " + "\n".join(invented)


def test_a_mix_of_two_in_place_writers_is_refused_not_applied(tmp_path: Path) -> None:
    """The reported case, made exactly: writer A opened the file, writer B opened it too and
    wrote ``0.123456789`` and closed, then A wrote its text up to ``0.5`` and closed. The file
    now reads ``optim.lr = 0.523456789``, ends with a line break and holds every key."""
    with OFC(Cfg(), ofc_file=tmp_path / "ofc.ini", use_wandb=False, poll_interval=3600,
             announce=False, plot_png=False) as ofc:
        base = ofc.ofc_file.read_text()
        a_text = edit_text(base, {"optim.lr": "0.5"})
        b_text = edit_text(base, {"optim.lr": "0.123456789"})
        a_part = a_text[: a_text.index("optim.lr = 0.5") + len("optim.lr = 0.5")]
        fd_a = os.open(ofc.ofc_file, os.O_WRONLY)
        fd_b = os.open(ofc.ofc_file, os.O_WRONLY)
        os.write(fd_b, b_text.encode())
        os.close(fd_b)
        os.write(fd_a, a_part.encode())
        os.close(fd_a)
        mixed = ofc.ofc_file.read_text()
        assert "optim.lr = 0.523456789\n" in mixed and mixed.endswith("\n")
        settle(ofc)
        with pytest.warns(OFCWarning) as refused:
            assert ofc.update() == {}
        assert [str(w.message) for w in refused] == [
            f"{ofc.ofc_file}: two programs rewrote the file in place at the same time, so it "
            "may mix their texts; nothing applied from this version (save it again)"
        ]
        assert ofc.cfg.optim.lr == 0.001
        # saving again (one writer) applies
        _in_place(ofc.ofc_file, a_text)
        settle(ofc)
        assert ofc.update() == {"optim.lr": 0.5}


def test_one_writer_after_another_is_no_overlap(tmp_path: Path) -> None:
    """Sequential in-place saves (truncating or not), with the OFC reading in between, apply."""
    with OFC(Cfg(), ofc_file=tmp_path / "ofc.ini", use_wandb=False, poll_interval=3600,
             announce=False, plot_png=False) as ofc:
        base = ofc.ofc_file.read_text()
        for n, save in enumerate([_in_place, _line_by_line, _in_place, _line_by_line] * 3):
            save(ofc.ofc_file, edit_text(base, {"lam": f"{n}.5"}))
            if n % 2:
                ofc.poll()  # a read between two saves
            save(ofc.ofc_file, edit_text(base, {"lam": f"{n}.25"}))
            settle(ofc)
            with warnings.catch_warnings():
                warnings.simplefilter("error")
                assert ofc.update() == {"lam": n + 0.25}
