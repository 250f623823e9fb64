"""The desktop window (PySide6). ``create_window(argv)`` builds it; ``main()`` also runs the event loop.

``tls-readiness-gui [--env ID] [--app ID] [--catalog PATH] [--run]`` or ``tls-readiness-gui --self-test``
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import NoReturn

from PySide6.QtCore import QTimer
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication, QMessageBox

from app import __version__
from app.core.catalog import load_catalog
from app.core.crash import crash_sentence, enable_native_crash_traces, native_crash_sentence, write_crash_report
from app.core.errors import InputError, InstallationDamaged, SelectionError
from app.core.resources import required_resource
from app.gui.crash_dialog import CrashHandler
from app.gui.heartbeat import STARTUP_MARK_ENV, FirstPaint
from app.gui.main_window import MainWindow, run_after_start
from app.gui.preferences import APPLICATION, ORGANIZATION, Preferences

EXIT_INPUT = 2
EXIT_CRASH = 70  # EX_SOFTWARE: a fault inside the program
GIL_SWITCH_INTERVAL = 0.001


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise InputError(message[0].upper() + message[1:].rstrip(".") + ".")


def _options(argv: Sequence[str]) -> argparse.Namespace:
    parser = _Parser(prog="tls-readiness-gui", description="The TLS Readiness Checker window.")
    parser.add_argument("--env", metavar="ID", help="environment to choose: production, map-stage or practice")
    parser.add_argument("--app", metavar="ID", help="application to choose (default: all)")
    parser.add_argument("--catalog", metavar="PATH", help="a catalog file from your IT department")
    parser.add_argument("--run", action="store_true", help="start checking at once")
    parser.add_argument("--self-test", action="store_true", help="prove that this installation works, then exit")
    parser.add_argument("--version", action="version", version=f"TLS Readiness Checker {__version__}")
    return parser.parse_args(list(argv))


def create_window(argv: Sequence[str] = (), preferences: Preferences | None = None) -> MainWindow:
    """Build the main window from command-line arguments, without entering the event loop.

    Raises :class:`~app.core.errors.InputError` (one plain sentence) for arguments that cannot be used.
    """
    options = _options(argv)
    # The checks run in many I/O-bound threads; handing the GIL back every 1 ms instead of 5 keeps the GUI thread
    # within one frame of responding while they work (measured by bench/window.py).
    sys.setswitchinterval(GIL_SWITCH_INTERVAL)
    app = QApplication.instance()
    if app is None:
        app = QApplication([sys.argv[0] if sys.argv else "tls-readiness-gui"])
    QApplication.setOrganizationName(ORGANIZATION)
    QApplication.setApplicationName(APPLICATION)
    QApplication.setApplicationVersion(__version__)
    QApplication.setWindowIcon(QIcon(str(required_resource("icons/tls-readiness.png"))))
    catalog = load_catalog(options.catalog)
    if options.env:
        catalog.environment(options.env)  # raises a plain sentence for an unknown one
    if options.app:
        env_id = options.env or (preferences.environment if preferences else "") or "production"
        if options.app not in {a.id for a in catalog.applications_in(env_id)}:
            raise SelectionError(f"There is no application '{options.app}' in the {env_id} environment.")
    window = MainWindow(catalog, preferences or Preferences())
    if options.env:
        window.select(options.env, options.app or "")
    if options.run:
        run_after_start(window)
    return window


def _say(line: str) -> None:
    """A line on stderr, when there is one (a windowed program on Windows has none)."""
    if sys.stderr is not None:
        sys.stderr.write(line + "\n")


NO_DISPLAY = (
    "No display was found, so the window cannot open here. To check as text instead, run: "
    "tls-readiness check --env practice (or --env production)."
)


def no_display() -> bool:
    """On Linux and other X11/Wayland systems: is there no display to open a window on? (Windows and macOS
    always have one; QT_QPA_PLATFORM, such as offscreen, chooses its own.)"""
    if sys.platform in ("win32", "darwin") or os.environ.get("QT_QPA_PLATFORM"):
        return False
    return not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def main(argv: Sequence[str] | None = None) -> int:
    """Start the window and run until it is closed."""
    args = sys.argv[1:] if argv is None else list(argv)
    try:
        options = _options(args)  # --help and --version answer here, before Qt needs a display
    except InputError as exc:
        if no_display():
            _say(f"tls-readiness-gui: {exc}")
            return EXIT_INPUT
        options = None  # said in a message box below, once Qt is up
    if options is not None and options.self_test:
        from app.selftest import run_self_test

        return run_self_test(sys.stdout)  # None in a windowed program on Windows: the lines go to the log folder
    if no_display():  # Qt would abort the whole process with a message about missing libraries
        _say(f"tls-readiness-gui: {NO_DISPLAY}")
        return EXIT_INPUT
    app = QApplication.instance() or QApplication([sys.argv[0] if sys.argv else "tls-readiness-gui"])
    crashes = CrashHandler()
    crashes.install()
    try:
        window = create_window(args)
    except InputError as exc:
        _say(f"tls-readiness-gui: {exc}")
        QMessageBox.critical(None, "TLS Readiness Checker", str(exc))
        return EXIT_INPUT
    except InstallationDamaged as exc:
        _say(f"tls-readiness-gui: {exc}")
        QMessageBox.critical(None, "TLS Readiness Checker", str(exc))
        return EXIT_CRASH
    except Exception as exc:  # a fault of ours before the window exists: a report and a message, not a vanishing
        sentence = crash_sentence(write_crash_report(type(exc), exc, exc.__traceback__, "start-up"))
        _say(f"tls-readiness-gui: {sentence}")
        QMessageBox.critical(None, "TLS Readiness Checker", sentence)
        return EXIT_CRASH
    crashes.setParent(window)
    from app.core.log import setup_logging

    setup_logging()
    earlier = enable_native_crash_traces()
    if earlier is not None:
        _say(f"tls-readiness-gui: {native_crash_sentence(earlier)}")
        QTimer.singleShot(
            0, lambda: QMessageBox.information(window, "TLS Readiness Checker", native_crash_sentence(earlier))
        )
    mark = os.environ.get(STARTUP_MARK_ENV)
    if mark:
        window.installEventFilter(FirstPaint(mark, window))
    window.show()
    code = app.exec()
    from app.lab import stop_shared_lab

    stop_shared_lab()
    return code
