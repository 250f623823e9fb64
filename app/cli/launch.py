"""The ``tls-readiness`` command's first and last steps: for a check with Java on, the Java probe's JVM is started
before the engine is loaded, so that its start-up (about 0.3 s) and Python's happen at the same time, and so do
the loading of the check's trust stores (tens of milliseconds each); and the process ends at once when the
command is done, without the interpreter's teardown."""

from __future__ import annotations

import atexit
import contextlib
import os
import sys
from collections.abc import Sequence
from typing import NoReturn


def main(argv: Sequence[str] | None = None) -> int:
    """Start the JVM early when a check will want it, then run the command line. As the program itself (no
    ``argv``: the console command, ``python -m app``, the frozen program), the process ends there."""
    from app.core.computer.java_start import start_early

    args = sys.argv[1:] if argv is None else list(argv)
    start_early(args)
    if args and args[0] == "check" and not {"-h", "--help"} & set(args):
        from app.core.trust_stores import preload

        preload()  # the check's trust stores load while the engine does
    from app.cli.main import main as command_line

    status = command_line(argv)
    if argv is None:
        leave(status)
    return status


def leave(status: int) -> NoReturn:
    """End the process now, after what a normal exit does that has an effect outside it: the exit handlers (the
    early JVM ended, the log files flushed and closed, the native crash trace file closed) and the output
    flushed. What is skipped is the interpreter freeing every module and object one by one, and the TLS and
    certificate libraries theirs: after a check that took 0.07 to 0.12 s, for nothing anyone sees (the
    benchmark's environment section). Threads still alive end with the process: the engine's idle workers, or
    after Ctrl+C a check still waiting for its answer, which a normal exit would wait for."""
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):  # a closed pipe (| head) has nothing left to flush into
            stream.flush()
    os._exit(status)
