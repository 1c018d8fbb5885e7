"""Run ``pip install ARGS`` and say what it is doing, a line at least every 10 seconds.

Why: `make` installs about 150 packages (torch and gradio are most of the 2.5 GB). pip prints
one ``Collecting`` line per package while it resolves, then a single ``Installing collected
packages: ...`` line and nothing for a minute or more while it unpacks them; without
``--progress-bar`` a large download is silent too. A newcomer watching a silent terminal
thinks it hung. This wrapper prints each package as pip collects it, then each package as it
lands in site-packages (pip installs them in the order it listed, and a package's
``.dist-info`` directory is written when it is done), and, when nothing was printed for
10 seconds, what it is still waiting for.

Filtered out, because they look like failures and are not: setuptools' boxed
``BuildBackendWarning: Editable installation ... Please be careful`` (it warns that a folder
named like the package in the working directory would shadow it; replaced by one line saying
so) and pip's ``WARNING: Location '...' is ignored`` for a configured index directory that
does not exist. Everything else pip writes to stderr (errors) is shown; if pip fails, its last
40 lines are shown as they were.

Usage: ``python tools/pip_progress.py install --progress-bar off ...`` (arguments of
``pip``); it runs the pip of the interpreter it runs in. Standard library only: it runs before
anything is installed.
"""

from __future__ import annotations

import collections
import os
import re
import subprocess
import sys
import sysconfig
import threading
import time
from pathlib import Path

QUIET_LIMIT = 10.0  # seconds without a line before saying what is still going on
INDENT = "     "

_COLLECTING = re.compile(r"^Collecting ([A-Za-z0-9_.\-]+)")
_INSTALLING = re.compile(r"^Installing collected packages: (.*)$")
_HARMLESS = (
    re.compile(r"BuildBackendWarning"),
    re.compile(r"^\s*!!\s*$"),
    re.compile(r"^\s*\*{20,}\s*$"),
    re.compile(r"Please be careful with folders in your working directory"),
    re.compile(r"name as your package as they may take precedence"),
    re.compile(r"with strategy, WheelFile\("),
    re.compile(r"^WARNING: Location '.*' is ignored: it is neither a file nor a directory\.$"),
)


def normalize(name: str) -> str:
    """A distribution name as its ``.dist-info`` directory spells it, compared loosely."""
    return re.sub(r"[-_.]+", "_", name).lower()


def installed(site: Path) -> set[str]:
    """``name-version`` of every ``.dist-info`` directory in ``site``."""
    try:
        return {p.name[: -len(".dist-info")] for p in site.iterdir() if p.name.endswith(".dist-info")}
    except OSError:
        return set()


class Progress:
    """What is printed, and the watcher that prints between pip's own lines."""

    def __init__(self, site: Path) -> None:
        self.site = site
        self.lock = threading.Lock()
        self.last_print = time.monotonic()
        self.activity = "preparing (pip reads the project's metadata)"
        self.since = time.monotonic()
        self.queue: list[str] = []  # packages pip will install, in its order; not yet seen
        self.total = 0
        self.before: set[str] = set()
        self.done = threading.Event()
        self.told_editable = False

    def say(self, text: str) -> None:
        with self.lock:
            print(text, flush=True)
            self.last_print = time.monotonic()

    def doing(self, activity: str) -> None:
        with self.lock:
            self.activity = activity
            self.since = time.monotonic()

    def start_installing(self, names: list[str]) -> None:
        with self.lock:
            self.queue = list(names)
            self.total = len(names)
            self.before = installed(self.site)
        plural = "" if len(names) == 1 else "s"
        self.say(f"   installing {len(names)} package{plural} into {self.site.parent.parent.parent.name}/:")
        self._next()

    def _next(self) -> None:
        if self.queue:
            k = self.total - len(self.queue) + 1
            self.doing(f"installing {self.queue[0]} ({k}/{self.total})")

    def check_installed(self) -> None:
        """Print the packages whose ``.dist-info`` appeared since the last look, in pip's order."""
        if not self.queue:
            return
        now = installed(self.site)
        self.before &= now  # an upgrade removes the old version first; its return counts
        new = {normalize(d.split("-", 1)[0]) for d in now - self.before}
        seen = [i for i, name in enumerate(self.queue) if normalize(name) in new]
        if not seen:
            return
        # pip installs in the order it listed: a later package done means the earlier ones are
        for _ in range(seen[-1] + 1):
            name = self.queue.pop(0)
            self.say(f"{INDENT}installed {name} ({self.total - len(self.queue)}/{self.total})")
        self._next()

    def watch(self) -> None:
        while not self.done.wait(1.0):
            self.check_installed()
            now = time.monotonic()
            if now - self.last_print >= QUIET_LIMIT:
                self.say(f"{INDENT}... still {self.activity} ({now - self.since:.0f} s)")

    def pip_line(self, line: str) -> None:
        """One line of pip's output: shown, summarised or dropped."""
        if any(p.search(line) for p in _HARMLESS):
            if "BuildBackendWarning" in line and not self.told_editable:
                self.told_editable = True
                self.say(f"{INDENT}(setuptools' 'Editable installation' warning: harmless)")
            return
        m = _COLLECTING.match(line)
        if m:
            self.doing(f"collecting {m[1]}")
            self.say(f"{INDENT}{m[1]}")
            return
        m = _INSTALLING.match(line)
        if m:
            self.start_installing([n.strip() for n in m[1].split(",") if n.strip()])
            return
        if line.startswith(("ERROR", "error:")):
            self.say(line)
        elif line.startswith("Building editable") or line.startswith("Building wheel"):
            self.doing(line.split(" (")[0].lower())
        elif line.startswith("Successfully installed"):
            self.check_installed()


def main(argv: list[str]) -> int:
    site = Path(sysconfig.get_paths()["purelib"])
    progress = Progress(site)
    recent: collections.deque[str] = collections.deque(maxlen=40)
    proc = subprocess.Popen(
        [sys.executable, "-m", "pip", *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},  # pip's lines as they come, not in blocks
        text=True,
        errors="replace",
        bufsize=1,
    )
    watcher = threading.Thread(target=progress.watch, daemon=True)
    watcher.start()
    assert proc.stdout is not None
    try:
        for raw in proc.stdout:
            line = raw.rstrip("\n")
            recent.append(line)
            progress.pip_line(line)
        status = proc.wait()
    except KeyboardInterrupt:
        proc.terminate()
        status = proc.wait()
    progress.done.set()
    watcher.join()
    if status != 0:
        print(f"pip exited with status {status}; its last lines:", file=sys.stderr)
        for line in recent:
            print(f"  {line}", file=sys.stderr)
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
