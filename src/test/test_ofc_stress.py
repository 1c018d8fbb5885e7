"""Stress: another process rewrites the OFC file hundreds of times while the loop steps.

Every version the writer produces is self-consistent (``b == 2 * a``, ``tag == f"v{a}-end"``),
so a partially written file that got applied would break the invariant. The writer mixes
atomic replaces with slow in-place rewrites (truncate, half the text, a pause, the rest), the
way a careless tool would, and pauses now and then so intermediate versions settle.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

from config_utils.ofc import OFC, OFCWarning

VERSIONS = 300


@dataclass
class Cfg:
    a: int = 0
    b: int = 0
    tag: str = "v0-end"
    lr: float = 0.1


WRITER = textwrap.dedent(
    """
    import os, random, sys, time
    path, n = sys.argv[1], int(sys.argv[2])
    base = open(path).read()
    rnd = random.Random(1)
    def render(i):
        return (base.replace("a = 0\\n", f"a = {i}\\n")
                    .replace("b = 0\\n", f"b = {2 * i}\\n")
                    .replace("tag = v0-end\\n", f"tag = v{i}-end\\n"))
    for i in range(1, n + 1):
        text = render(i)
        assert text != base
        if i % 2 == 0 or i == n:
            tmp = path + ".tmp"
            with open(tmp, "w") as fh:
                fh.write(text)
            os.replace(tmp, path)
        else:  # in place, in two parts: readers can see a truncated file
            cut = text.index("tag = ") + 7
            with open(path, "w") as fh:
                fh.write(text[:cut]); fh.flush()
                time.sleep(rnd.uniform(0, 0.004))
                fh.write(text[cut:])
        time.sleep(0.35 if i % 60 == 0 else rnd.uniform(0, 0.004))
    print("done", flush=True)
    """
)


def test_rewrites_while_stepping(tmp_path: Path) -> None:
    cfg = Cfg()
    ofc = OFC(cfg, ["lr", "a", "b", "tag"], tmp_path / "ofc.ini")
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(ofc.ofc_file), str(VERSIONS)],
        stdout=subprocess.PIPE,
        text=True,
    )
    applied_versions: set[int] = set()
    calls = 0
    caught: list[warnings.WarningMessage] = []
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                changes = ofc.update()
                calls += 1
                assert cfg.b == 2 * cfg.a and cfg.tag == f"v{cfg.a}-end", (cfg, changes)
                if changes:
                    applied_versions.add(cfg.a)
                if writer.poll() is not None and cfg.a == VERSIONS and calls >= 3000:
                    break
                time.sleep(0.0003)
    finally:
        writer.wait(timeout=60)
        ofc.close()
    assert writer.returncode == 0
    assert cfg.a == VERSIONS and cfg.b == 2 * VERSIONS and cfg.tag == f"v{VERSIONS}-end"
    assert calls >= 3000
    assert len(applied_versions) >= 2  # intermediate versions applied too, not only the last
    # a truncated file may settle only if the writer stalls for a second (a loaded machine
    # deschedules it mid-write): then it is reported as incomplete or unterminated, never applied
    cut_short = ("incomplete OFC file", "does not end with a line break")
    others = [
        str(w.message)
        for w in caught
        if not (issubclass(w.category, OFCWarning) and any(c in str(w.message) for c in cut_short))
    ]
    assert others == []
    for rec in ofc.history:  # every record comes from a whole version
        if rec.key == "a":
            assert any(r.key == "b" and r.new == 2 * rec.new for r in ofc.history)
