"""The one object that runs checks for the whole program: the main window and guided troubleshooting both go
through it.

It owns the worker thread pool, the running check (at most one at a time, whoever asked: every Check button
follows ``busy_changed``), the last report, and writing diagnostic bundles. Its signals name the *owner* that
started a run (the window or the guide), so each shows only its own; nothing here waits on the GUI thread.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, QThreadPool, Signal, Slot

from app.core.bundle import BundleContext
from app.core.catalog import Catalog
from app.core.model import RunReport
from app.core.runner import RunFinished
from app.gui.worker import BundleSignals, BundleTask, CheckRequest, CheckTask, TaskSignals


class CheckSession(QObject):
    """Checks and bundles for every window of the program, one check at a time."""

    busy_changed = Signal(bool)  # a check started (True) or ended (False)
    progress = Signal(object, object)  # owner, a RunEvent (not "event": that is QObject.event)
    failed = Signal(object, str)  # owner, a plain sentence: the check could not start
    finished = Signal(object)  # owner: the check's worker is done (every event was sent before)
    bundle_written = Signal(object, str, str)  # owner, the bundle's path, the reference it carries
    bundle_failed = Signal(object, str)  # owner, a plain sentence

    def __init__(self, catalog: Catalog, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.catalog = catalog
        self.pool = QThreadPool(self)
        self.task: CheckTask | None = None
        self.owner: object | None = None
        self.last_report: RunReport | None = None
        self._finished_task: CheckTask | None = None  # kept until its pool thread has surely let go
        self._signals = TaskSignals(self)
        self._signals.progress.connect(self._on_event)
        self._signals.failed.connect(self._on_failed)
        self._signals.done.connect(self._on_done)
        self._bundles: list[tuple[object, str, BundleSignals]] = []

    @property
    def busy(self) -> bool:
        """True while a check runs (for anyone)."""
        return self.task is not None

    def start(self, request: CheckRequest, owner: object) -> bool:
        """Start a check for ``owner``; False (and nothing started) while another check runs."""
        if self.task is not None:
            return False
        self._finished_task = None
        self.owner = owner
        self.task = CheckTask(request, self.catalog, self._signals)
        self.pool.start(self.task)
        self.busy_changed.emit(True)
        return True

    def cancel(self) -> None:
        """Stop the running check (within about 50 ms)."""
        if self.task is not None:
            self.task.cancel()

    def shut_down(self, timeout_ms: int = 5000) -> None:
        """Cancel and wait for the workers (closing the program)."""
        self.cancel()
        self.pool.waitForDone(timeout_ms)

    @Slot(object)
    def _on_event(self, event: object) -> None:
        if isinstance(event, RunFinished):
            self.last_report = event.report
        self.progress.emit(self.owner, event)

    @Slot(str)
    def _on_failed(self, sentence: str) -> None:
        self.failed.emit(self.owner, sentence)

    @Slot()
    def _on_done(self) -> None:
        owner = self.owner
        self._finished_task, self.task, self.owner = self.task, None, None
        self.finished.emit(owner)
        self.busy_changed.emit(False)

    # ---------------------------------------------------------------- bundles

    def export_bundle(self, target: Path, report: RunReport, context: BundleContext, owner: object) -> None:
        """Write ``report``'s bundle to ``target`` in a worker; ``bundle_written`` (with the reference the
        bundle carries) or ``bundle_failed`` follows, for ``owner``."""
        signals = BundleSignals(self)
        entry = (owner, report.reference, signals)
        self._bundles.append(entry)
        signals.written.connect(lambda path: self._bundle_done(entry, path, ""))
        signals.failed.connect(lambda sentence: self._bundle_done(entry, "", sentence))
        self.pool.start(BundleTask(target, report, context, signals))

    def _bundle_done(self, entry: tuple[object, str, BundleSignals], path: str, sentence: str) -> None:
        owner, reference, signals = entry
        if entry in self._bundles:
            self._bundles.remove(entry)
            signals.deleteLater()  # on the GUI thread, where it was made
        if sentence:
            self.bundle_failed.emit(owner, sentence)
        else:
            self.bundle_written.emit(owner, path, reference)
