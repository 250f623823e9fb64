"""Running other programs (curl, java) so that Cancel still takes effect at once: the wait is cut in short slices
and the program is ended when the run is cancelled or its time is up."""

from __future__ import annotations

import subprocess
import threading
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

from app.core.errors import Cancelled

if TYPE_CHECKING:  # not loaded: the JVM's early start (java_start) imports this module before the engine
    from app.core.net import CancelFlag

SLICE = 0.05
# On Windows, a console program (curl.exe, java.exe) started by the window would open a console window of its own
# for as long as it runs: started without one. (0 elsewhere.)
WINDOWLESS: int = getattr(subprocess, "CREATE_NO_WINDOW", 0)


def run_program(
    command: Sequence[str],
    timeout: float,
    cancel: threading.Event | CancelFlag | None = None,
    input_text: str = "",
) -> subprocess.CompletedProcess[str]:
    """Run ``command`` to its end and return its output. Raises ``Cancelled`` (the program is ended at once),
    ``subprocess.TimeoutExpired`` after ``timeout`` seconds, or ``OSError`` when it cannot start."""
    if cancel is not None and cancel.is_set():
        raise Cancelled
    process = subprocess.Popen(
        list(command),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
        errors="replace",  # a program's message in another code page must not become our fault
        creationflags=WINDOWLESS,
    )
    deadline = time.monotonic() + timeout
    pending: str | None = input_text
    with process:  # its pipes are closed whatever happens (a program ended early leaves none open)
        while True:
            try:
                out, err = process.communicate(pending, timeout=SLICE)
                break
            except subprocess.TimeoutExpired:
                pending = None  # the input went with the first call
                if (cancel is not None and cancel.is_set()) or time.monotonic() > deadline:
                    process.kill()
                    process.communicate()
                    if cancel is not None and cancel.is_set():
                        raise Cancelled from None
                    raise
    return subprocess.CompletedProcess(list(command), process.returncode, out, err)
