"""The one way OFC tests edit an OFC file the way a person does, and wait for it with ``poll()``.

An edit replaces the whole file (as most editors save: temp file + rename), or rewrites it in
place (``in_place=True``, as some editors and ``sed -i``-style scripts do). ``settle`` then
drives the OFC's own ``poll()`` until the version on disk is processed (a version applies
once it read the same at two consecutive polls): no sleeping, no timing. Build the OFC with
:data:`MANUAL` so the watcher thread stays out of the way and the test's polls are the only
ones. prefigure_compat's OFC wraps the framework's; every helper takes either.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from config_utils.atomic import write_atomic


def edit_text(text: str, values: Mapping[str, str]) -> str:
    """``text`` with the line of each key in ``values`` set to ``key = value``."""
    for key, raw in values.items():
        line = f"{key} = {raw}".replace("\\", "\\\\")  # re.subn reads the line as a template
        text, n = re.subn(rf"(?m)^{re.escape(key)} = .*$", line, text)
        assert n == 1, f"{key} is not on exactly one line of the OFC file"
    return text


MANUAL = {"poll_interval": 3600.0}
"""OFC keyword arguments for a test that polls by itself."""


def core_of(ofc: Any) -> Any:
    """The framework OFC (prefigure_compat's OFC wraps one)."""
    return getattr(ofc, "_ofc", ofc)


def edit_file(path: str | Path, **values: Any) -> None:
    """Set ``key = value`` lines, adding a key that is not there at the end; saved as an
    editor saves (a new file renamed over the old one). Does not wait: see :func:`settle`."""
    path = Path(path)
    lines = path.read_text().splitlines()
    for i, line in enumerate(lines):
        key = line.split("=", 1)[0].strip()
        if "=" in line and key in values:
            lines[i] = f"{key} = {values.pop(key)}"
    write_atomic(path, "\n".join([*lines, *(f"{k} = {v}" for k, v in values.items())]) + "\n")


def edit(ofc: Any, values: Mapping[str, str], *, in_place: bool = False, settle_it: bool = True) -> str:
    """Set ``key = value`` lines of ``ofc``'s file; then let the OFC see it (``settle``)."""
    path = Path(ofc.ofc_file)
    new = edit_text(path.read_text(encoding="utf-8"), values)
    if in_place:
        with open(path, "r+", encoding="utf-8") as fh:
            fh.write(new)
            fh.truncate()
    else:
        write_atomic(path, new)
    if settle_it:
        settle(ofc)
    return new


def settle(ofc: Any, polls: int = 4) -> bool:
    """Poll until the file's current version is processed (staged for ``update()``); True
    when a new version was, False when the text on disk had been processed already (an
    identical rewrite). Two polls do it; more only show that nothing else comes."""
    core = core_of(ofc)
    return any(core.poll() for _ in range(polls))


def applied(ofc: Any) -> dict[str, Any]:
    """What ``update()`` applies once the file on disk has been processed."""
    settle(ofc)
    return dict(ofc.update())
