"""The local engine's trial wrapper: run one trial's command, record how it ended, end alike.

Run as ``python -I -S local_wrapper.py COMMAND...`` (:func:`config_utils.sweep.state.trial_command`).
Why a wrapper: a local trial outlives a controller that is SIGKILLed, so how it ended must be
written where the next controller looks, ``$FLOWS_RUN_DIR/exit.json``.

Why Python and not ``/bin/sh``: a shell's ``$?`` is ``128 + N`` both for a program killed by
signal N and for one that calls ``sys.exit(128 + N)``, so a trial that exits 130 on purpose
was reported as killed by SIGINT. ``waitpid`` tells the two apart; the record says
``{"exit": 130, "signal": null}`` or ``{"exit": null, "signal": 9}``. The wrapper then ends the
same way (that exit status, or death by that signal), so the engine's ``Popen.returncode`` is
the program's own: negative for a signal, as ``subprocess`` says it.

Standard library only, no ``site`` (``-S``): it starts with every trial, in about 15 ms.
"""

from __future__ import annotations

import os
import signal
import sys

EXIT_FILE = "exit.json"
"""The record's name in the trial's run directory (``$FLOWS_RUN_DIR``)."""
WRAPPER_FILE = os.path.abspath(__file__)
"""This file, as the controller runs it (and finds a wrapper it started by it)."""


def _write_record(code: int) -> None:
    """Record an end as ``subprocess`` reports it (``code`` >= 0: an exit status; -N: signal N).
    Never follows a link or blocks on a FIFO the trial left there; when the record cannot be
    written, the next controller finds none and runs the trial again."""
    run_dir = os.environ.get("FLOWS_RUN_DIR")
    if not run_dir:
        return
    text = f'{{"exit": {code}, "signal": null}}\n' if code >= 0 else f'{{"exit": null, "signal": {-code}}}\n'
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
    try:
        fd = os.open(os.path.join(run_dir, EXIT_FILE), flags, 0o644)
    except OSError:
        return
    try:
        os.write(fd, text.encode())
    except OSError:
        pass
    finally:
        os.close(fd)


def main(command: list[str]) -> None:
    """Run ``command`` (looked up on ``PATH``, as a shell would), record its end, end alike."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)  # as a shell: SIGINT ends it, no traceback
    try:
        # the program gets the signal dispositions a shell would give it (Python ignores these)
        pid = os.posix_spawnp(command[0], command, os.environ,
                              setsigdef=(signal.SIGPIPE, signal.SIGXFSZ))
    except OSError as exc:
        sys.stderr.write(f"flows-trial: {command[0]}: {exc.strerror or exc}\n")
        code = 127 if isinstance(exc, FileNotFoundError) else 126  # a shell's statuses for these
    else:
        code = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
    _write_record(code)
    if code < 0:
        try:
            signal.signal(-code, signal.SIG_DFL)
        except (OSError, ValueError):  # SIGKILL and SIGSTOP have no handler to reset
            pass
        os.kill(os.getpid(), -code)
        code = 128 - code  # only reached for a signal whose default is not to end a process
    os._exit(code)


if __name__ == "__main__":
    main(sys.argv[1:])
