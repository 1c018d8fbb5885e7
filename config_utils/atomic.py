"""The one way the library replaces a file it owns: write a temporary file beside it, then
rename it over the old one.

Why one: readers of these files run at the same time as the writer (the OFC watcher, a
resumed sweep, a person's editor, a browser polling a plot), and a reader must see the old
file or the new one, never a part. A rename within one directory is atomic on POSIX; a write
in place is not. Each module used to do this itself, with and without ``fsync``, with and
without cleaning up the temporary file when the write failed.

Files that belong to a user are never replaced through here without the caller having
checked that they are its own (``save_run`` refuses a foreign ``run_record.json``;
``flow_init --force`` rewrites only files it generated).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

__all__ = ["discard", "stage", "write_atomic"]


def stage(path: str | Path, data: str | bytes, *, durable: bool = True) -> str:
    """A temporary file beside ``path`` holding ``data`` (UTF-8 for text), on disk when
    ``durable`` (fsync). The slow part of a replace, separate so that a caller can take a last
    look at ``path`` right before the rename (the OFC page does). Raises ``OSError``; nothing is
    left behind then."""
    p = Path(path)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=p.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(payload)
            if durable:
                fh.flush()
                os.fsync(fh.fileno())
    except BaseException:
        discard(tmp)
        raise
    return tmp


def discard(tmp: str | Path) -> None:
    """Remove a staged file that will not be renamed (it may already be gone)."""
    try:
        os.unlink(tmp)
    except OSError:
        pass


def write_atomic(path: str | Path, data: str | bytes, *, durable: bool = True) -> None:
    """Replace ``path`` with ``data`` so that readers see the old or the new file, never a part.

    Raises ``OSError`` (a full disk, a read-only directory); the temporary file is removed."""
    tmp = stage(path, data, durable=durable)
    try:
        os.replace(tmp, path)
    except BaseException:
        discard(tmp)
        raise
