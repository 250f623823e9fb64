"""Measure the window: the longest stall of the GUI thread during full practice runs, and how long Cancel takes.

    .venv/bin/python bench/window.py [--runs 10] [--lab-process] [--tree CHECKOUT]

``--tree`` measures the program of another checkout (an older commit, for a comparison in the same run).

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
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))


def _stamp(into: list[float], *_signal_arguments: object) -> None:
    into.append(time.perf_counter())


@contextmanager
def lab_in_its_own_process(folder: Path) -> Iterator[Path]:
    """The practice lab's servers in another process, as real servers are: a catalog naming them (one
    environment, ``bench-remote``) and the lab's CA are written into ``folder``; yields the catalog's path."""
    from environment import AUTHORITY, practice_lab

    with practice_lab(folder) as ports:
        lines = [
            "[environments.bench-remote]",
            'name = "The practice servers, in another process"',
            "[applications.lab-remote]",
            'name = "Practice servers"',
        ]
        for name, port in ports.items():
            if name == AUTHORITY:  # the lab authority's web server (revocation answers), not an address to check
                continue
            lines += [
                "[[endpoints]]",
                f'id = "remote-{name}"',
                'environment = "bench-remote"',
                'application = "lab-remote"',
                f'name = "{name}"',
                f'url = "https://localhost:{port}/"',
                'client_certificate = "none"',
                'source = "bench"',
                "timeout = 2",
            ]
        catalog = folder / "catalog.toml"
        catalog.write_text("\n".join(lines) + "\n", encoding="utf-8")
        yield catalog


def measure(runs: int, lab_process: bool = False) -> dict[str, object]:
    """GUI stalls and cancel latency over ``runs`` full practice runs and ``runs`` cancels, in milliseconds.
    ``lab_process``: the servers run in another process (as real ones do) instead of inside the program."""
    if lab_process:
        folder = Path(tempfile.mkdtemp(prefix="tlsrc-bench-lab-"))
        with lab_in_its_own_process(folder) as catalog:
            return _measure(runs, ["--env", "bench-remote", "--catalog", str(catalog)], folder / "practice-ca.pem")
    return _measure(runs, ["--env", "practice"], None)


def _measure(runs: int, argv: list[str], ca: Path | None) -> dict[str, object]:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QEventLoop, QSettings, QTimer
    from PySide6.QtWidgets import QApplication

    qt_app = QApplication.instance() or QApplication(["bench"])  # noqa: F841 - kept alive for the whole run
    from app.gui import create_window
    from app.gui.heartbeat import Heartbeat
    from app.gui.preferences import Preferences
    from app.lab import shared_lab, stop_shared_lab

    if ca is None:
        shared_lab()
    settings = Path(tempfile.mkdtemp(prefix="tlsrc-bench-")) / "settings.ini"
    prefs = Preferences(QSettings(str(settings), QSettings.Format.IniFormat))
    if ca is not None:
        prefs.ca_files = [str(ca)]
    window = create_window(argv, prefs)
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
        done = _worker_done_signal(window)
        done.connect(record)
        window.cancel_check()
        wait_done()
        done.disconnect(record)
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


def _worker_done_signal(window: object) -> Any:
    """The signal of the check's worker returning, as the measured tree names it (older trees: otherwise)."""
    session = getattr(window, "session", None)
    if session is None:
        return window.signals.done  # type: ignore[attr-defined]  # before the check session
    return getattr(session, "worker_finished", None) or session.finished


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--lab-process", action="store_true", help="the servers in another process, as real ones")
    parser.add_argument("--tree", type=Path, help="measure the program of this checkout instead")
    args = parser.parse_args()
    if args.tree:
        import environment  # noqa: F401 - first: it puts this checkout on the path, which --tree must come before

        tree = args.tree.resolve()
        sys.path.insert(0, str(tree))
        import app

        if not Path(app.__file__).resolve().is_relative_to(tree):
            raise SystemExit(f"bench/window.py: --tree {tree}: the program imported is {app.__file__}")
    print(json.dumps(measure(args.runs, args.lab_process), indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
