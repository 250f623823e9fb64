"""Silencing one kind of warning around a few lines, safely from any thread.

``warnings.catch_warnings`` swaps the whole process's list of warning filters in and out, so two threads using
it at once can put back each other's list: a warning one of them silenced then escapes (in the tests, where
warnings are errors, as a fault; elsewhere as a line on the console). Every use in this program goes through
:func:`silenced`, one at a time.
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.RLock()  # re-entrant: a silenced block may call another


@contextmanager
def silenced(category: type[Warning]) -> Iterator[None]:
    """Within the block, warnings of ``category`` are not shown (nor raised)."""
    with _lock, warnings.catch_warnings():
        warnings.simplefilter("ignore", category)
        yield
