"""Crash safety: an exception nothing caught becomes a crash report in the log folder and a dialog (the window
stays), or one sentence on the command line; a password typed in the session never appears in the report."""

from __future__ import annotations

import io
import threading

import pytest
from PySide6.QtCore import QSettings, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from app.cli import main as cli
from app.core import crash
from app.gui import create_window
from app.gui.crash_dialog import CrashHandler
from app.gui.preferences import Preferences

SECRET = "Tr0ub4dor&3-typed"


@pytest.fixture
def log_dir(tmp_path, monkeypatch):
    folder = tmp_path / "logs"
    monkeypatch.setenv("TLS_READINESS_LOG_DIR", str(folder))
    return folder


@pytest.fixture
def window(qtbot, lab, tmp_path):
    prefs = Preferences(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
    w = create_window(["--env", "practice"], prefs)
    qtbot.addWidget(w)
    return w


@pytest.fixture
def handler(window):
    crashes = CrashHandler(window)
    crashes.install()
    yield crashes
    crashes.uninstall()
    if crashes.dialog is not None:
        crashes.dialog.close()


def _crash_dialog() -> QMessageBox | None:
    for widget in QApplication.topLevelWidgets():
        if isinstance(widget, QMessageBox) and widget.objectName() == "CrashDialog" and widget.isVisible():
            return widget
    return None


def _explode_in_a_slot() -> None:
    raise RuntimeError(f"a bug in a slot, near the password {SECRET}")


@pytest.mark.qt_no_exception_capture
def test_an_exception_in_the_window_gives_a_report_and_a_dialog(qtbot, window, handler, log_dir):
    window.show()
    crash.register_secret(SECRET)
    try:
        QTimer.singleShot(0, _explode_in_a_slot)
        qtbot.waitUntil(lambda: _crash_dialog() is not None, timeout=5000)
    finally:
        crash.forget_secret(SECRET)
    reports = list(log_dir.glob("crash-*.txt"))
    assert len(reports) == 1
    text = reports[0].read_text()
    assert "RuntimeError: a bug in a slot" in text
    assert "_explode_in_a_slot" in text  # the traceback, for support
    assert SECRET not in text and "***" in text
    dialog = _crash_dialog()
    assert dialog is not None
    assert str(reports[0]) in dialog.text()
    assert "not in anything you did" in dialog.text()
    assert SECRET not in dialog.detailedText()
    assert window.isVisible()  # the window did not vanish
    dialog.close()


@pytest.mark.qt_no_exception_capture
def test_an_exception_in_a_thread_reaches_the_dialog(qtbot, window, handler, log_dir):
    window.show()

    def worker() -> None:
        raise ValueError("a bug in a worker thread")

    thread = threading.Thread(target=worker, name="bench-worker")
    thread.start()
    thread.join()
    qtbot.waitUntil(lambda: _crash_dialog() is not None, timeout=5000)
    (report,) = log_dir.glob("crash-*.txt")
    text = report.read_text()
    assert "Where: thread bench-worker" in text
    assert "ValueError: a bug in a worker thread" in text


@pytest.mark.qt_no_exception_capture
def test_a_repeating_fault_opens_one_dialog_and_stops_writing(qtbot, window, handler, log_dir):
    window.show()
    for _ in range(30):
        QTimer.singleShot(0, _explode_in_a_slot)
    qtbot.waitUntil(lambda: handler.reports >= 30, timeout=5000)
    qtbot.wait(50)
    dialogs = [w for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox) and w.isVisible()]
    assert len(dialogs) == 1
    assert len(list(log_dir.glob("crash-*.txt"))) == 20


def test_the_command_line_says_one_sentence_and_writes_a_report(monkeypatch, log_dir):
    def broken(*_args: object) -> int:
        raise KeyError("a bug in the catalog command")

    monkeypatch.setattr(cli, "_catalog", broken)
    out, err = io.StringIO(), io.StringIO()
    assert cli.main(["catalog"], out, err) == cli.EXIT_CRASH
    message = err.getvalue()
    assert message.count("\n") == 1 and "Traceback" not in message
    (report,) = log_dir.glob("crash-*.txt")
    assert str(report) in message
    assert "KeyError: 'a bug in the catalog command'" in report.read_text()


def test_a_report_is_written_elsewhere_when_the_log_folder_cannot_be(tmp_path, monkeypatch):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the log folder should be")
    monkeypatch.setenv("TLS_READINESS_LOG_DIR", str(blocker / "logs"))
    monkeypatch.setenv("TMPDIR", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)
    try:
        raise OSError("disk trouble")
    except OSError as exc:
        path = crash.write_crash_report(type(exc), exc, exc.__traceback__)
    assert path is not None and path.parent == tmp_path / "tmp"
    assert not list((tmp_path / "tmp").glob("*.partial"))
