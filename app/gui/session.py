"""The one object that runs checks for the whole program: the main window and guided troubleshooting both go
through it.

It owns the worker thread pool, the running check (at most one at a time, whoever asked: every Check button
follows ``busy_changed``), the delivery of its events a frame at a time, its progress count, the last report,
and writing diagnostic bundles. Its signals name the *owner* that started a run (the window or the guide), so
each shows only its own; nothing here waits on the GUI thread.

Events arrive from the worker in bursts (many checks ending together). They are queued and handed out for at
most :data:`FRAME_BUDGET` of each :data:`FRAME_MS` frame, so the window keeps painting; a check's per-step
events are dropped once its address's final report is queued (that report shows every step). ``finished``
follows the last event handed out.

A second after the window opens, and after each check, the next check's trust stores start loading in the
background (:func:`app.core.trust_stores.preload`), so that a check does not begin by loading them.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, QThreadPool, QTimer, Signal, Slot

from app.core.bundle import BundleContext
from app.core.catalog import Catalog
from app.core.endpoint import CheckFinished, CheckStarted, TargetFinished
from app.core.findings import ENDPOINT_CHECKS, Check
from app.core.model import RunReport
from app.core.runner import RunFinished, RunStarted
from app.core.trust_stores import preload
from app.gui.worker import BundleSignals, BundleTask, CheckRequest, CheckTask, TaskSignals

FRAME_MS = 16  # events are handed out a frame at a time...
FRAME_BUDGET = 0.008  # ...spending at most 8 ms of each frame on them (the receivers' work included)
PRELOAD_AFTER_MS = 1000  # the trust stores of the next check load this long after the window or a check is done


@dataclass(frozen=True)
class _Failure:
    """The check could not start, or stopped on a fault: handed out in order with the events."""

    sentence: str


class CheckSession(QObject):
    """Checks and bundles for every window of the program, one check at a time."""

    busy_changed = Signal(bool)  # a check started (True) or ended (False)
    started = Signal(object)  # owner: its check has started
    progress = Signal(object, object)  # owner, a RunEvent (not "event": that is QObject.event)
    counted = Signal(object, int, int)  # owner, steps done, steps in all (once a frame while events come)
    failed = Signal(object, str)  # owner, a plain sentence: the check could not start
    finished = Signal(object)  # owner: the check is over and every one of its events was handed out
    worker_finished = Signal(object)  # owner: the check's worker has returned (its events may still be queued)
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
        self._pending: deque[object] = deque()  # events received, not yet handed out
        self._targets_done: set[str] = set()  # addresses whose final report is queued or handed out
        self._steps: dict[str, set[Check]] = {}  # the steps done of each address (of ENDPOINT_CHECKS)
        self._worker_done = False
        self._frame = QTimer(self)
        self._frame.setInterval(FRAME_MS)
        self._frame.timeout.connect(self._hand_out)
        QTimer.singleShot(PRELOAD_AFTER_MS, preload)  # the first check's trust stores, once the window is up

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
        self._pending.clear()
        self._targets_done.clear()
        self._steps = {}
        self._worker_done = False
        self.task = CheckTask(request, self.catalog, self._signals)
        self.pool.start(self.task)
        self.started.emit(owner)
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
        # Only queue it: a burst of events is handed out a frame at a time.
        if isinstance(event, RunFinished):
            self.last_report = event.report
        if isinstance(event, TargetFinished):
            self._targets_done.add(event.report.target.id)
        self._pending.append(event)
        if not self._frame.isActive():
            self._frame.start()

    def _hand_out(self) -> None:
        """Hand out queued events for at most one frame's budget; end the check once all are handed out."""
        begun = time.perf_counter()
        owner = self.owner
        counted = False
        while self._pending and time.perf_counter() - begun < FRAME_BUDGET:
            event = self._pending.popleft()
            if isinstance(event, _Failure):
                self.failed.emit(owner, event.sentence)
                continue
            if isinstance(event, CheckStarted | CheckFinished) and event.target_id in self._targets_done:
                continue  # the address's final report is queued already and shows every step
            if isinstance(event, RunFinished) and counted:
                self._emit_count(owner)  # before the report, which shows the check complete
                counted = False
            counted = self._count(event) or counted
            self.progress.emit(owner, event)
        if counted:
            self._emit_count(owner)
        if self._pending:
            return
        self._frame.stop()
        if self._worker_done:
            self._end()

    def _count(self, event: object) -> bool:
        """Keep the steps done of each address; True when the count may have changed. Only the steps every
        address has count (Java's, curl's and a second answer do not), so the count never passes its total."""
        if isinstance(event, RunStarted):
            self._steps = {t.id: set() for t in event.targets}
        elif isinstance(event, CheckFinished) and event.target_id in self._steps and event.check in ENDPOINT_CHECKS:
            self._steps[event.target_id].add(event.check)
        elif isinstance(event, TargetFinished):
            self._steps[event.report.target.id] = set(ENDPOINT_CHECKS)
        else:
            return False
        return True

    def _emit_count(self, owner: object) -> None:
        done = sum(len(steps) for steps in self._steps.values())
        self.counted.emit(owner, done, max(1, len(self._steps) * len(ENDPOINT_CHECKS)))

    @Slot(str)
    def _on_failed(self, sentence: str) -> None:
        self._on_event(_Failure(sentence))  # in its place among the events

    @Slot()
    def _on_done(self) -> None:
        self._worker_done = True
        self.worker_finished.emit(self.owner)
        if not self._pending:
            self._frame.stop()
            self._end()

    def _end(self) -> None:
        owner = self.owner
        self._worker_done = False
        self._finished_task, self.task, self.owner = self.task, None, None
        self.busy_changed.emit(False)  # first: a receiver of finished may start the next check
        self.finished.emit(owner)
        QTimer.singleShot(PRELOAD_AFTER_MS, preload)  # the next check's, once this one is shown

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
