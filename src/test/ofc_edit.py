"""One way for tests to edit an OFC file and wait for it: no sleeps.

``edit`` rewrites ``key = value`` lines the way an editor saves (a new file renamed over the
old one). ``settle`` drives the OFC's own ``poll()`` until the version on disk has been
processed (a version applies once it read the same at two polls), so a test knows the OFC has
seen the file, whatever the machine's load. Build the OFC with a long ``poll_interval``
(:data:`MANUAL`) so the watcher thread stays out of the way and the test's polls are the
only ones: each check is then exact, not "nothing happened within 0.3 s".
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

MANUAL = {"poll_interval": 3600.0}
"""OFC keyword arguments for a test that polls by itself."""


def core_of(ofc: Any) -> Any:
    """The framework OFC (prefigure_compat's OFC wraps one)."""
    return getattr(ofc, "_ofc", ofc)


def edit(path: str | Path, **values: Any) -> None:
    """Set ``key = value`` lines (added at the end when absent), saved as an editor saves."""
    path = Path(path)
    lines = path.read_text().splitlines()
    for i, line in enumerate(lines):
        key = line.split("=", 1)[0].strip()
        if "=" in line and key in values:
            lines[i] = f"{key} = {values.pop(key)}"
    lines += [f"{k} = {v}" for k, v in values.items()]
    tmp = path.with_name(path.name + ".edit")
    tmp.write_text("\n".join(lines) + "\n")
    tmp.replace(path)


def settle(ofc: Any, polls: int = 4) -> bool:
    """Poll until the file's current version is processed; True when a new version was
    (False: the text on disk had been processed already, e.g. an identical rewrite)."""
    core = core_of(ofc)
    return any(core.poll() for _ in range(polls))


def applied(ofc: Any) -> dict[str, Any]:
    """What ``update()`` applies once the file on disk has been processed."""
    settle(ofc)
    return dict(ofc.update())
