"""A heartbeat on the GUI thread: a 5 ms timer whose gaps show how long the thread was too busy to answer.
Used by the tests and by ``bench/window.py`` to measure responsiveness while checks run. Also the first-paint
mark that ``bench/startup.py`` reads to time start-up."""

from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QElapsedTimer, QEvent, QObject, QTimer


class Heartbeat(QObject):
    """Records the gap between ticks while started; ``longest`` and ``percentile`` read them."""

    INTERVAL_MS = 5

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.gaps: list[int] = []
        self._clock = QElapsedTimer()
        self._last = 0
        self._timer = QTimer(self)
        self._timer.setInterval(self.INTERVAL_MS)
        self._timer.timeout.connect(self._tick)

    def start(self) -> None:
        """Forget earlier gaps and start ticking."""
        self.gaps = []
        self._last = 0
        self._clock.start()
        self._timer.start()

    def stop(self) -> None:
        """Stop ticking."""
        self._timer.stop()

    def _tick(self) -> None:
        now = self._clock.elapsed()
        self.gaps.append(now - self._last)
        self._last = now

    @property
    def longest(self) -> int:
        """The longest gap in milliseconds (0 before any tick)."""
        return max(self.gaps, default=0)

    def percentile(self, fraction: float) -> int:
        """The gap that ``fraction`` of all gaps stay within (0.99 for the 99th percentile)."""
        if not self.gaps:
            return 0
        ordered = sorted(self.gaps)
        return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


STARTUP_MARK_ENV = "TLS_READINESS_STARTUP_MARK"


class FirstPaint(QObject):
    """Writes the wall-clock time of the window's first paint into a file, then quits (``bench/startup.py``).

    Installed only when the environment names a file in ``TLS_READINESS_STARTUP_MARK``: the benchmark starts the
    program, and the time from its own start to this mark is the start-up time a user waits through.
    """

    def __init__(self, path: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.path = path

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint:
            watched.removeEventFilter(self)
            Path(self.path).write_text(repr(time.time()), encoding="ascii")
            QTimer.singleShot(0, QCoreApplication.quit)
        return False
