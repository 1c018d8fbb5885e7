"""Bounds every fuzzed input must meet: 2 s of CPU, 200 MB of Python memory, no hang.

Why CPU time and not wall time: the fuzz suite runs on a shared 2-core machine, where wall
time measures the neighbours as much as the reader. Memory is Python's own allocations
(``tracemalloc``), which is where a runaway reader (``/dev/zero``, YAML aliases, nested
literals) would go. A hard wall-clock alarm (20 s) turns a hang into a failure instead of a
stuck CI job.
"""

from __future__ import annotations

import resource
import signal
import time
import tracemalloc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

T = TypeVar("T")

CPU_LIMIT_S = 2.0
MEMORY_LIMIT_B = 200 * 1024 * 1024
HANG_LIMIT_S = 20.0

# Every character Python's str.splitlines breaks at, plus the ini dialect's own marks.
LINE_BREAKS = "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"
INI_MARKS = " \t=:#;[]{}()'\",.-_\\"

#: Any Unicode text except lone surrogates and NUL (which no text file can hold).
any_char = st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00")
#: Characters that matter to the readers, often; anything else, sometimes.
hostile_char = st.one_of(st.sampled_from(LINE_BREAKS + INI_MARKS + "0123456789eE+"), any_char)
hostile_text = st.text(hostile_char, max_size=80)

FUZZ = settings(
    max_examples=100,
    deadline=None,  # bounded by CPU time below, not by hypothesis' wall clock
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


#: For examples that run the whole command line in-process (tens of ms each).
FUZZ_CLI = settings(FUZZ, max_examples=40)


class Hang(Exception):
    """The reader did not return within HANG_LIMIT_S of wall time."""


def _alarm(signum: int, frame: Any) -> None:
    raise Hang(f"no answer within {HANG_LIMIT_S:g} s")


def _max_rss() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux


@contextmanager
def bounded(what: str, *, trace: bool = True) -> Iterator[None]:
    """Run the block under the bounds; fail the example when it exceeds one.

    ``trace=True`` measures Python allocations exactly (``tracemalloc``, which slows
    allocation-heavy code such as tyro several times); ``trace=False`` checks that the
    process's peak resident size grew by less than the limit (cheap; the peak never goes down,
    so a block that needed more than the limit always shows).
    """
    old = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, HANG_LIMIT_S)
    rss = _max_rss()
    if trace:
        tracemalloc.start()
    cpu = time.process_time()
    try:
        yield
    finally:
        used = time.process_time() - cpu
        peak = tracemalloc.get_traced_memory()[1] if trace else _max_rss() - rss
        if trace:
            tracemalloc.stop()
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
    assert used < CPU_LIMIT_S, f"{what}: {used:.2f} s of CPU (limit {CPU_LIMIT_S:g} s)"
    assert peak < MEMORY_LIMIT_B, f"{what}: {peak / 2**20:.0f} MB (limit 200 MB)"


def run_bounded(what: str, fn: Callable[[], T]) -> T:
    with bounded(what):
        return fn()


def one_line(message: str) -> bool:
    """A message fit for one line of a terminal: no line break of any kind, not empty."""
    return bool(message.strip()) and not any(c in message for c in LINE_BREAKS)
