"""The ``tls-readiness`` command's first steps: for a check with Java on, the Java probe's JVM is started before
the engine is loaded, so that its start-up (about 0.3 s) and Python's happen at the same time."""

from __future__ import annotations

import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    """Start the JVM early when a check will want it, then run the command line."""
    from app.core.computer.java_start import start_early

    start_early(sys.argv[1:] if argv is None else list(argv))
    from app.cli.main import main as command_line

    return command_line(argv)
