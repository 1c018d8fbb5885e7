"""The one way OFC tests edit an OFC file the way a person does, and wait for it with ``poll()``.

An edit replaces the whole file (as most editors save: temp file + rename), or rewrites it in
place (``in_place=True``, as some editors and ``sed -i``-style scripts do). ``settle`` then
calls ``poll()`` twice, which is exactly when the protocol lets a version apply (identical at
two consecutive polls): no sleeping, no timing.
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


def settle(ofc: Any) -> None:
    """Two polls: a version that was the same at both is processed (staged for update())."""
    ofc.poll()
    ofc.poll()
