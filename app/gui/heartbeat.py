"""A heartbeat on the GUI thread: a 5 ms timer whose gaps show how long the thread was too busy to answer.
Used by the tests and by ``bench/window.py`` to measure responsiveness while checks run."""

from __future__ import annotations

from PySide6.QtCore import QElapsedTimer, QObject, QTimer


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
