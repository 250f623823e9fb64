"""Start-up time: from launching the program to its window's first paint, from source and frozen.

    .venv/bin/python bench/startup.py [--runs 7]

The program writes the wall-clock time of its first paint into the file named by TLS_READINESS_STARTUP_MARK
(app/gui/heartbeat.py) and quits; the time from just before launching it to that mark is what a user waits
through. A real window on Xvfb (Qt's xcb platform) when Xvfb is installed, else the offscreen platform. Settings
and logs go to a temporary folder. The first run is reported apart (cold file cache); the median is of the rest.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FROZEN = ROOT / "dist" / "tls-readiness" / "tls-readiness-gui"
SOURCE = (sys.executable, "-m", "app.gui")
TIMEOUT = 30


@contextmanager
def display() -> Iterator[dict[str, str]]:
    """Environment variables for a real X display (Xvfb) when there is one to start, else offscreen."""
    xvfb = shutil.which("Xvfb")
    if not xvfb:
        yield {"QT_QPA_PLATFORM": "offscreen"}
        return
    number = 90 + os.getpid() % 9
    server = subprocess.Popen(
        [xvfb, f":{number}", "-screen", "0", "1280x1024x24", "-nolisten", "tcp"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        socket_path = Path(f"/tmp/.X11-unix/X{number}")  # noqa: S108 - where X servers put their socket
        deadline = time.monotonic() + 10
        while not socket_path.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        yield {"QT_QPA_PLATFORM": "xcb", "DISPLAY": f":{number}"}
    finally:
        server.terminate()
        server.wait(5)


def time_to_window(command: Sequence[str], env: dict[str, str]) -> float:
    """Seconds from launch to the first paint of the window."""
    with tempfile.TemporaryDirectory(prefix="tlsrc-startup-") as work:
        mark = Path(work) / "mark"
        run_env = {
            **os.environ,
            **env,
            "TLS_READINESS_STARTUP_MARK": str(mark),
            "XDG_CONFIG_HOME": work,
            "TLS_READINESS_LOG_DIR": work,
        }
        started = time.time()
        subprocess.run(
            [*command, "--env", "practice"],
            env=run_env,
            cwd=ROOT,
            timeout=TIMEOUT,
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        return float(mark.read_text()) - started


def measure(runs: int) -> dict[str, object]:
    """Start-up figures for source and (when built) frozen."""
    results: dict[str, object] = {}
    with display() as env:
        results["platform"] = env["QT_QPA_PLATFORM"]
        for name, command in (("source", SOURCE), ("frozen", (str(FROZEN),))):
            if name == "frozen" and not FROZEN.exists():
                results[name] = None
                continue
            times = [time_to_window(command, env) for _ in range(runs)]
            results[name] = {
                "first_s": round(times[0], 3),
                "median_s": round(statistics.median(times[1:] or times), 3),
                "worst_s": round(max(times[1:] or times), 3),
                "runs": runs,
            }
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    result = measure(args.runs)
    print(result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
