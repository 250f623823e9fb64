"""Measure the window: the longest stall of the GUI thread during full practice runs, and how long Cancel takes.

    .venv/bin/python bench/window.py [--runs 10]

Targets (issue 3): no stall over 50 ms; Cancel within 200 ms. The heartbeat is a 5 ms QTimer on the GUI
thread; a stall is the longest gap between two ticks. Runs use the practice lab in this process, so the lab's
own server work competes for the same CPU (2 cores here): a harder case than real servers.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def _stamp(into: list[float]) -> None:
    into.append(time.perf_counter())


def measure(runs: int) -> dict[str, object]:
    """GUI stalls and cancel latency over ``runs`` full practice runs and ``runs`` cancels, in milliseconds."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QEventLoop, QSettings, QTimer
    from PySide6.QtWidgets import QApplication

    qt_app = QApplication.instance() or QApplication(["bench"])  # noqa: F841 - kept alive for the whole run
    from app.gui import create_window
    from app.gui.heartbeat import Heartbeat
    from app.gui.preferences import Preferences
    from app.lab import shared_lab, stop_shared_lab

    shared_lab()
    settings = Path(tempfile.mkdtemp(prefix="tlsrc-bench-")) / "settings.ini"
    prefs = Preferences(QSettings(str(settings), QSettings.Format.IniFormat))
    window = create_window(["--env", "practice"], prefs)
    window.show()

    def wait_done() -> None:
        loop = QEventLoop()
        window.check_finished.connect(loop.quit)
        loop.exec()
        window.check_finished.disconnect(loop.quit)

    heartbeat = Heartbeat()
    stalls, p99s, durations = [], [], []
    for _ in range(runs):
        heartbeat.start()
        started = time.perf_counter()
        window.start_check()
        wait_done()
        durations.append(time.perf_counter() - started)
        heartbeat.stop()
        stalls.append(heartbeat.longest)
        p99s.append(heartbeat.percentile(0.99))

    prefs.timeout = 30
    cancels, stopped = [], []
    for i in range(runs):
        window.start_check()
        loop = QEventLoop()
        QTimer.singleShot(300 + 37 * i, loop.quit)
        loop.exec()
        started = time.perf_counter()
        worker_done: list[float] = []
        record = functools.partial(_stamp, worker_done)
        window.signals.done.connect(record)
        window.cancel_check()
        wait_done()
        window.signals.done.disconnect(record)
        cancels.append((time.perf_counter() - started) * 1000)
        stopped.append((worker_done[0] - started) * 1000)
    window.close()
    stop_shared_lab()
    return {
        "runs": runs,
        "run_s_median": round(statistics.median(durations), 3),
        "stall_ms": stalls,
        "stall_ms_worst": max(stalls),
        "stall_ms_median": statistics.median(stalls),
        "gap_ms_p99": max(p99s),
        "cancel_stopped_ms": [round(x, 1) for x in stopped],
        "cancel_shown_ms": [round(x, 1) for x in cancels],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    print(json.dumps(measure(args.runs), indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
