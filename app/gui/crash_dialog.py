"""The window's crash safety: an exception nothing caught becomes a crash report and a dialog, not a vanished
window. Installed by ``app.gui.main``; exceptions in worker threads reach the dialog through a queued signal."""

from __future__ import annotations

import sys
import threading
from types import TracebackType

from PySide6.QtCore import QObject, Qt, QUrl, Signal, Slot
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QMessageBox, QWidget

from app.core.crash import crash_sentence, crash_text, save_crash_text
from app.core.log import log_folder

MAX_REPORTS = 20  # a fault that repeats (in a paint event, say) writes this many reports per session, no more


class CrashHandler(QObject):
    """``sys.excepthook`` and ``threading.excepthook`` for the window."""

    crashed = Signal(str, str)  # the sentence for the user, the report's text

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.dialog: QMessageBox | None = None
        self.reports = 0
        self._lock = threading.Lock()
        self._previous = (sys.excepthook, threading.excepthook)
        self.crashed.connect(self._show, Qt.ConnectionType.QueuedConnection)

    def install(self) -> None:
        """Take over uncaught exceptions (in the GUI thread and in any other thread)."""
        sys.excepthook = self._hook
        threading.excepthook = self._thread_hook

    def uninstall(self) -> None:
        """Give them back to whatever handled them before."""
        sys.excepthook, threading.excepthook = self._previous

    def _hook(self, kind: type[BaseException], error: BaseException, tb: TracebackType | None, where: str = "") -> None:
        if issubclass(kind, KeyboardInterrupt | SystemExit):
            self._previous[0](kind, error, tb)
            return
        with self._lock:
            self.reports += 1
            if self.reports > MAX_REPORTS:
                return
        text = crash_text(kind, error, tb, where)
        path = save_crash_text(text, f"{kind.__name__}: {error}")
        self.crashed.emit(crash_sentence(path), text)

    def _thread_hook(self, args: threading.ExceptHookArgs) -> None:
        if args.exc_value is None:
            return
        where = f"thread {args.thread.name}" if args.thread else "a thread"
        self._hook(args.exc_type, args.exc_value, args.exc_traceback, where)

    @Slot(str, str)
    def _show(self, sentence: str, details: str) -> None:
        if self.dialog is not None:
            if self.dialog.isVisible():
                return  # one dialog at a time; every report is still written
            self.dialog.deleteLater()
        parent = self.parent()
        box = QMessageBox(
            QMessageBox.Icon.Critical,
            "TLS Readiness Checker: something went wrong",
            sentence,
            QMessageBox.StandardButton.Close,
            parent if isinstance(parent, QWidget) else None,
        )
        box.setObjectName("CrashDialog")
        box.setInformativeText(
            "The window stays open, but what it was doing may not have finished: check again to be sure."
        )
        box.setDetailedText(details)
        folder = box.addButton("Open log folder", QMessageBox.ButtonRole.ActionRole)
        folder.clicked.connect(lambda: QDesktopServices.openUrl(QUrl.fromLocalFile(str(log_folder()))))
        box.setWindowModality(Qt.WindowModality.WindowModal)
        self.dialog = box
        box.show()
