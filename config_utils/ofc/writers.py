"""Notice two programs rewriting the OFC file in place at the same time (Linux inotify).

Why: two writers that rewrite one file in place, overlapping, leave a mix of their texts —
writer A's first lines, then B's, then A's again — which can end with a line break and hold
every key, so it passes every check of the file itself while holding a value neither wrote
(``optim.lr = 0.523456789`` from ``0.5`` and ``0.123456789``). Only the order of the writes
shows it: after one writer closed the file, another, which had opened it earlier, still writes.

The kernel reports, for the file's inode, each open (``IN_OPEN``), each write or truncation
(``IN_MODIFY``) and each close of a handle that wrote (``IN_CLOSE_WRITE``). A write or a
write-close that follows a write-close with no open in between comes from a handle opened
before that close: two writers overlapped, and the version they leave is refused (the person
saves again). One exception: opening with ``O_TRUNC`` reports its truncation just *before* its
open, so a modification directly followed by an open is that open's truncation, not a late
writer. Renames (an editor's atomic save, OFC's own writes) give the path a new inode, which
is watched from then on; a mix can only come from writers sharing one inode.

Limits, said plainly: the kernel merges identical events that follow each other unread, so two
writers that each write their whole text in one call and close back to back may look like one
(their texts then differ only in a tail after the shorter one, which the line checks report);
where inotify is missing (not Linux), nothing is noticed.
"""

from __future__ import annotations

import os
import struct
import sys
import threading
from pathlib import Path
from typing import Any

__all__ = ["WriteWatch"]

IN_MODIFY = 0x00000002
IN_CLOSE_WRITE = 0x00000008
IN_OPEN = 0x00000020
IN_Q_OVERFLOW = 0x00004000
_MASK = IN_MODIFY | IN_CLOSE_WRITE | IN_OPEN
_EVENT = struct.Struct("iIII")
_libc: Any = None


def _inotify() -> Any:
    """libc with inotify, or False where there is none."""
    global _libc
    if _libc is None:
        _libc = False
        if sys.platform.startswith("linux"):
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            if hasattr(libc, "inotify_init1") and hasattr(libc, "inotify_add_watch"):
                libc.inotify_add_watch.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_uint32]
                _libc = libc
    return _libc


class WriteWatch:
    """Watches the inode currently at ``path``; :meth:`overlapped` says whether two writers
    overlapped on it since the last call."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._fd = -1
        self._wd = -1
        self._ino: int | None = None
        self._after_close = False  # a handle that wrote was closed, and nothing opened since
        self._late_write = False  # ...and then something wrote (an open may still explain it)
        self._overlap = False
        libc = _inotify()
        if libc:
            fd = libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
            self._fd = fd if fd >= 0 else -1

    @property
    def available(self) -> bool:
        return self._fd >= 0

    def follow(self, path: Path) -> None:
        """Watch the inode now at ``path`` (after a rename put a new one there)."""
        if self._fd < 0:
            return
        with self._lock:
            try:
                ino = os.stat(path).st_ino
            except OSError:
                return
            if ino == self._ino:
                return
            self._drain()  # events of the old inode belong to it
            wd = _inotify().inotify_add_watch(self._fd, os.fsencode(path), _MASK)
            self._wd, self._ino = wd, ino
            self._after_close = self._late_write = self._overlap = False

    def overlapped(self) -> bool:
        """True when two writers overlapped on the watched inode since the last call."""
        if self._fd < 0:
            return False
        with self._lock:
            self._drain()
            found, self._overlap = self._overlap, False
            return found

    def _drain(self) -> None:
        while True:
            try:
                data = os.read(self._fd, 64 * 1024)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                return
            if not data:
                return
            offset = 0
            while offset + _EVENT.size <= len(data):
                wd, mask, _cookie, size = _EVENT.unpack_from(data, offset)
                offset += _EVENT.size + size
                if wd == self._wd or mask & IN_Q_OVERFLOW:
                    self._event(mask)

    def _event(self, mask: int) -> None:
        if mask & IN_Q_OVERFLOW:
            return  # events were lost: nothing can be concluded from their order
        if mask & IN_OPEN:
            self._after_close = self._late_write = False  # explains a truncation just before
        if mask & IN_MODIFY:
            if self._late_write:
                self._overlap = True  # two writes after a close, no open between
            elif self._after_close:
                self._late_write = True  # a truncating open's, unless no open follows
        if mask & IN_CLOSE_WRITE:
            if self._after_close or self._late_write:
                self._overlap = True  # a handle opened before the last write-close wrote too
            self._after_close, self._late_write = True, False

    def close(self) -> None:
        with self._lock:
            if self._fd >= 0:
                os.close(self._fd)
                self._fd = -1
